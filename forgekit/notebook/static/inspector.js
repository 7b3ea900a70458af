// forgekit TrajectoryInspector front end (anywidget ES module).
// State comes from Python as `data`; actions go back with model.send({action, ...}).

const money = (x) => "$" + (x || 0).toFixed(6);
const secs = (x) => (x || 0).toFixed(2) + "s";

function render({ model, el }) {
  const hidden = new Set();
  const open = new Set();

  function draw() {
    const data = model.get("data") || {};
    const run = data.run || {};
    const steps = data.steps || [];
    el.replaceChildren();
    const root = h("div", { class: "fk-widget fk-inspector" });

    // breadcrumb: root > child > grandchild
    const crumbs = data.breadcrumb || [];
    if (crumbs.length > 1) {
      root.append(h("div", { class: "fk-crumbs" }, crumbs.map((c, i) =>
        i < crumbs.length - 1
          ? [h("a", { class: "fk-link", href: "#", onclick: (ev) => {
              ev.preventDefault(); model.send({ action: "back", depth: i }); } },
              c.solver || c.run_id), " › "]
          : h("b", {}, c.solver || c.run_id))));
    }

    root.append(h("div", { class: "fk-head" },
      h("span", { class: "fk-status fk-" + run.status }, run.status || ""),
      " ", h("b", {}, run.solver || "run"), " ",
      h("code", {}, run.run_id || ""), " ",
      h("a", { class: "fk-link fk-reload", href: "#", title: "re-read the run file", onclick: (ev) => {
        ev.preventDefault(); model.send({ action: "reload" }); } }, "↻"),
      h("span", { class: "fk-muted" },
        ` · ${steps.length} steps · ${run.model_calls || 0} model calls · ` +
        `${run.tool_calls || 0} tool calls · ${run.tokens || 0} tokens · ` +
        `${money(run.cost)} · ${secs(run.duration)}`)));
    if ((run.scores || []).length) root.append(h("div", { class: "fk-scores" }, "score: ",
      run.scores.map((s) => h("span", { class: "fk-kv" }, `${s.scorer} = ${s.value}`))));
    if (run.target) root.append(h("div", { class: "fk-target" }, "target: ", run.target));
    if (run.answer) root.append(h("div", { class: "fk-answer" }, "answer: ", run.answer));
    if (run.error) root.append(h("div", { class: "fk-error" }, "error: ", run.error));

    // filters by event type
    const types = data.types || [];
    if (types.length) {
      root.append(h("div", { class: "fk-filters" }, "show: ", types.map((t) => {
        const box = h("input", { type: "checkbox", "data-type": t });
        box.checked = !hidden.has(t);
        box.addEventListener("change", () => {
          box.checked ? hidden.delete(t) : hidden.add(t); draw();
        });
        return h("label", { class: "fk-filter" }, box, t);
      })));
    }

    // timeline: one column per step, cost bar above, latency bar below
    const maxCost = Math.max(1e-12, ...steps.map((s) => s.cost || 0));
    const maxLat = Math.max(1e-9, ...steps.map((s) => s.latency || 0));
    const timeline = h("div", { class: "fk-timeline", title: "cost (top) and latency (bottom) per step" });
    for (const s of steps) {
      const col = h("div", { class: "fk-tcol", title:
        `step ${s.index}: ${money(s.cost)}, ${secs(s.latency)}, ${s.tokens} tokens`,
        onclick: () => { open.add(s.index); draw();
          const row = el.querySelector(`[data-step="${s.index}"]`);
          if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" }); } },
        h("div", { class: "fk-bar fk-cost", style: `height:${Math.round(30 * (s.cost || 0) / maxCost)}px` }),
        h("div", { class: "fk-bar fk-lat", style: `height:${Math.round(30 * (s.latency || 0) / maxLat)}px` }));
      timeline.append(col);
    }
    if (steps.length) root.append(timeline);

    // the step list
    const list = h("div", { class: "fk-steps" });
    for (const s of steps) {
      const items = s.items.filter((it) => !hidden.has(it.type));
      if (!items.length) continue;
      const det = h("details", { class: "fk-step", "data-step": s.index });
      det.open = open.has(s.index);
      det.addEventListener("toggle", () => { det.open ? open.add(s.index) : open.delete(s.index); });
      det.append(h("summary", {},
        h("span", { class: "fk-idx" }, "#" + s.index), " ", s.label || "",
        h("span", { class: "fk-muted" }, `  ${money(s.cost)} · ${secs(s.latency)} · ${s.tokens} tok`)));
      for (const it of items) {
        const ev = h("div", { class: "fk-event fk-type-" + it.type },
          h("div", { class: "fk-etitle" }, h("span", { class: "fk-tag" }, it.type), " ", it.title));
        for (const sec of it.sections) {
          ev.append(h("div", { class: "fk-sec" }, h("span", { class: "fk-label" }, sec.label),
            h("pre", {}, sec.text)));
        }
        det.append(ev);
      }
      list.append(det);
    }
    root.append(list);

    // child runs
    const children = data.children || [];
    if (children.length) {
      root.append(h("div", { class: "fk-children" }, "child runs: ", children.map((c) =>
        h("a", { class: "fk-link fk-child", href: "#", "data-run": c.run_id, onclick: (ev) => {
          ev.preventDefault(); model.send({ action: "open", run_id: c.run_id }); } },
          `${c.solver || c.run_id} [${c.status}] ${money(c.cost)}`))));
    }
    el.append(root);
  }

  model.on("change:data", draw);
  draw();
  return () => model.off("change:data", draw);
}

export default { render };
