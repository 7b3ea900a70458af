// Shared by the widgets that show a run (the inspector, the eval viewer's transcripts, the
// cards): runView(run, opts) draws the whole run, step by step, every event in full.
// `run` is forgekit/notebook/transcript.py's trajectory_state() (plus `cell`), or
// {cell, error} when there is no readable trajectory. opts (all optional):
//   title     a label above the run (the eval viewer's model/solver)
//   ui        {hidden: Set of event types, open: Set of step indexes, all: bool} kept
//             by the caller so a redraw keeps what the user opened and filtered
//   redraw()  called after a filter or expand click (default: redraw this view in place)
//   onChild(run_id), crumbs [{label, go()}], onReload()   navigation hooks
const usd = (v) => "$" + (v || 0).toFixed(4);
const money = (x) => "$" + (x || 0).toFixed(6);
const secs = (x) => (x || 0).toFixed(2) + "s";

function newRunUi(run, expand) {
  // with `expand`, a short run opens every step (a long one on demand: "expand all")
  const steps = (run && run.steps) || [];
  return { hidden: new Set(), open: new Set(expand && steps.length <= 12 ? steps.map((s) => s.index) : []) };
}

function eventView(it) {
  const ev = h("div", { class: "fk-event fk-type-" + it.type, "data-seq": it.seq },
    h("div", { class: "fk-etitle" }, h("span", { class: "fk-tag" }, it.type), " ", it.title));
  if ((it.meta || []).length) ev.append(h("div", { class: "fk-meta" },
    it.meta.map(([k, v]) => h("span", { class: "fk-chip" }, h("span", { class: "fk-muted" }, k + " "), v))));
  for (const sec of it.sections || []) {
    ev.append(h("div", { class: "fk-sec fk-sec-" + (sec.kind || "text") },
      h("span", { class: "fk-label" }, sec.label), h("pre", {}, sec.text)));
  }
  return ev;
}

function runView(run, opts) {
  opts = opts || {};
  const ui = opts.ui || newRunUi(run, false);
  const box = h("div", { class: "fk-run fk-transcript" });
  const redraw = opts.redraw || (() => box.replaceWith(runView(run, Object.assign({}, opts, { ui }))));
  if (opts.title !== undefined) box.append(h("div", { class: "fk-thead" }, h("b", {}, opts.title)));
  const crumbs = opts.crumbs || [];
  if (crumbs.length > 1) {
    box.append(h("div", { class: "fk-crumbs" }, crumbs.map((c, i) =>
      i < crumbs.length - 1
        ? [h("a", { class: "fk-link", href: "#", onclick: (ev) => { ev.preventDefault(); c.go(); } }, c.label), " › "]
        : h("b", {}, c.label))));
  }
  if (run.error && !run.run) { box.append(h("div", { class: "fk-error" }, run.error)); return box; }
  const r = run.run || {};
  const steps = run.steps || [];
  box.append(h("div", { class: "fk-head" },
    h("span", { class: "fk-status fk-" + r.status }, r.status || ""), " ",
    h("b", {}, r.solver || "run"), " ", h("code", {}, r.run_id || ""), " ",
    opts.onReload ? h("a", { class: "fk-link fk-reload", href: "#", title: "re-read the run file",
      onclick: (ev) => { ev.preventDefault(); opts.onReload(); } }, "↻") : null,
    h("span", { class: "fk-muted" },
      ` · ${steps.length} steps · ${r.model_calls || 0} model calls · ${r.tool_calls || 0} tool calls · ` +
      `${r.tokens || 0} tokens · ${money(r.cost)} · ${secs(r.duration)}`)));
  if ((r.scores || []).length) box.append(h("div", { class: "fk-scores" }, "score: ",
    r.scores.map((s) => h("span", { class: "fk-kv" }, `${s.scorer} = ${s.value}`,
      s.explanation ? h("span", { class: "fk-muted" }, ` (${s.explanation})`) : null))));
  if (r.target !== null && r.target !== undefined) box.append(h("div", { class: "fk-target" },
    h("span", { class: "fk-label" }, "target"), r.target));
  if (r.answer) box.append(h("div", { class: "fk-answer" }, h("span", { class: "fk-label" }, "answer"), r.answer));
  if (r.error) box.append(h("div", { class: "fk-error" }, "error: ", r.error));

  // event-type filters, expand / collapse every step
  const types = run.types || [];
  const bar = h("div", { class: "fk-filters" });
  if (types.length) bar.append("show: ", ...types.map((t) => {
    const cb = h("input", { type: "checkbox", "data-type": t });
    cb.checked = !ui.hidden.has(t);
    cb.addEventListener("change", () => { cb.checked ? ui.hidden.delete(t) : ui.hidden.add(t); redraw(); });
    return h("label", { class: "fk-filter" }, cb, t);
  }));
  if (steps.length) bar.append(
    h("a", { class: "fk-link fk-expand", href: "#", onclick: (ev) => { ev.preventDefault();
      for (const s of steps) ui.open.add(s.index); redraw(); } }, "expand all"),
    h("a", { class: "fk-link fk-collapse", href: "#", onclick: (ev) => { ev.preventDefault();
      ui.open.clear(); redraw(); } }, "collapse all"));
  box.append(bar);

  // timeline: one column per step, cost above (orange), latency below (blue)
  if (steps.length > 1) {
    const maxCost = Math.max(1e-12, ...steps.map((s) => s.cost || 0));
    const maxLat = Math.max(1e-9, ...steps.map((s) => s.latency || 0));
    box.append(h("div", { class: "fk-timeline", title: "cost (top) and latency (bottom) per step" },
      steps.map((s) => h("div", { class: "fk-tcol",
        title: `step ${s.index}: ${money(s.cost)}, ${secs(s.latency)}, ${s.tokens} tokens`,
        onclick: () => { ui.open.add(s.index); redraw();
          const row = document.querySelector(`.fk-step[data-step="${s.index}"]`);
          if (row && row.scrollIntoView) row.scrollIntoView({ block: "nearest" }); } },
        h("div", { class: "fk-bar fk-cost", style: `height:${Math.round(30 * (s.cost || 0) / maxCost)}px` }),
        h("div", { class: "fk-bar fk-lat", style: `height:${Math.round(30 * (s.latency || 0) / maxLat)}px` })))));
  }

  // every step, every event
  const list = h("div", { class: "fk-steps" });
  for (const s of steps) {
    const items = s.items.filter((it) => !ui.hidden.has(it.type));
    if (!items.length) continue;
    const det = h("details", { class: "fk-step", "data-step": s.index });
    det.open = ui.open.has(s.index);
    det.addEventListener("toggle", () => { det.open ? ui.open.add(s.index) : ui.open.delete(s.index); });
    det.append(h("summary", {}, h("span", { class: "fk-idx" }, "#" + s.index), " ", s.label || "",
      h("span", { class: "fk-muted" }, `  ${money(s.cost)} · ${secs(s.latency)} · ${s.tokens} tok`)));
    for (const it of items) det.append(eventView(it));
    list.append(det);
  }
  box.append(list);

  // child runs: a strategy's sub-runs, a reviewer, debate turns
  const kids = run.children || [];
  if (kids.length) box.append(h("div", { class: "fk-children" }, "child runs: ", kids.map((c) =>
    opts.onChild
      ? h("a", { class: "fk-link fk-child", href: "#", "data-run": c.run_id,
          onclick: (ev) => { ev.preventDefault(); opts.onChild(c.run_id); } },
          `${c.solver || c.run_id} [${c.status}] ${money(c.cost)}`)
      : h("span", { class: "fk-kv fk-muted" }, `${c.solver || c.run_id} [${c.status}] ${money(c.cost)}`))));
  return box;
}

// a run whose embedded child runs (run.child_runs) open in place, with a breadcrumb back
function nestedRunView(root, title, nav, redraw) {
  // nav: {stack: [run, ...], uis: Map run_id -> ui}; kept by the caller across redraws
  if (!nav.stack.length) nav.stack.push(root);
  const cur = nav.stack[nav.stack.length - 1];
  const id = (cur.run && cur.run.run_id) || "";
  if (!nav.uis.has(id)) nav.uis.set(id, newRunUi(cur, true));
  const crumbs = nav.stack.map((r, i) => ({
    label: (r.run && (r.run.solver || r.run.run_id)) || "run",
    go: () => { nav.stack.length = i + 1; redraw(); } }));
  const kids = cur.child_runs || [];
  return runView(cur, { title, ui: nav.uis.get(id), redraw, crumbs,
    onChild: kids.length ? (runId) => {
      const child = kids.find((k) => k.run && k.run.run_id === runId);
      if (child) { nav.stack.push(child); redraw(); }
    } : null });
}
