// Shared by the widgets that show a run (the eval viewer, the cards): a run's header
// (status, score, target, answer) and its steps, compact. `run` is trajectory_state()
// plus `cell`, or {cell, error} when there is no readable trajectory.
const usd = (v) => "$" + (v || 0).toFixed(4);

function transcriptView(run) {
  const box = h("div", { class: "fk-transcript" });
  box.append(h("div", { class: "fk-thead" }, h("b", {}, run.cell || "")));
  if (run.error && !run.run) { box.append(h("div", { class: "fk-error" }, run.error)); return box; }
  const r = run.run || {};
  box.append(h("div", { class: "fk-head" },
    h("span", { class: "fk-status fk-" + r.status }, r.status || ""), " ",
    h("code", {}, r.run_id || ""),
    h("span", { class: "fk-muted" }, ` · ${(run.steps || []).length} steps · ${r.model_calls || 0} model calls · ${usd(r.cost)}`)));
  if ((r.scores || []).length) box.append(h("div", {}, "score: ",
    r.scores.map((s) => h("span", { class: "fk-kv" }, `${s.scorer} = ${s.value}`))));
  if (r.target) box.append(h("div", {}, h("span", { class: "fk-label" }, "target"), r.target));
  if (r.answer) box.append(h("div", { class: "fk-answer" }, h("span", { class: "fk-label" }, "answer"), r.answer));
  if (r.error) box.append(h("div", { class: "fk-error" }, "error: ", r.error));
  for (const s of run.steps || []) {
    const det = h("details", { class: "fk-step" }, h("summary", {},
      h("span", { class: "fk-idx" }, "#" + s.index), " ", s.label || ""));
    for (const it of s.items) {
      const ev = h("div", { class: "fk-event fk-type-" + it.type },
        h("div", { class: "fk-etitle" }, h("span", { class: "fk-tag" }, it.type), " ", it.title));
      for (const sec of it.sections) ev.append(h("div", { class: "fk-sec" },
        h("span", { class: "fk-label" }, sec.label), h("pre", {}, sec.text)));
      det.append(ev);
    }
    box.append(det);
  }
  const kids = run.children || [];  // a strategy's sub-runs, a reviewer, debate turns
  if (kids.length) box.append(h("div", { class: "fk-children fk-muted" }, "child runs: ",
    kids.map((c) => `${c.solver || c.run_id} [${c.status}] ${usd(c.cost)}`).join(" · "),
    " (open the run in TrajectoryInspector to step into them)"));
  return box;
}

