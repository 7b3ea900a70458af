// forgekit TrajectoryInspector front end (anywidget ES module): the run drawn by
// runView() (transcript.js); child runs and the breadcrumb go through the kernel.
// State comes from Python as `data`; actions go back with model.send({action, ...}).

function render({ model, el }) {
  const uis = new Map();  // per run id: filters and opened steps survive redraws

  function draw() {
    const data = model.get("data") || {};
    const id = (data.run && data.run.run_id) || "";
    if (!uis.has(id)) uis.set(id, newRunUi(data, false));
    const crumbs = (data.breadcrumb || []).map((c, i) => ({
      label: c.solver || c.run_id, go: () => model.send({ action: "back", depth: i }) }));
    const root = h("div", { class: "fk-widget fk-inspector" },
      runView(data, { ui: uis.get(id), redraw: draw, crumbs,
        onChild: (runId) => model.send({ action: "open", run_id: runId }),
        onReload: () => model.send({ action: "reload" }) }));
    el.replaceChildren(root);
  }

  model.on("change:data", draw);
  draw();
  return () => model.off("change:data", draw);
}

export default { render };
