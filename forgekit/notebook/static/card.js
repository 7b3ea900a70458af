// forgekit card front end (anywidget ES module): an object's title, its sections (text,
// key-value rows, tables, raw HTML made by forgekit) and, when it has one, its last run.
function section(s) {
  const box = h("div", { class: "fk-card-sec" }, h("div", { class: "fk-label" }, s.label));
  if (s.text !== undefined) box.append(h("pre", {}, s.text));
  if (s.pairs) box.append(h("table", { class: "fk-table" },
    s.pairs.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", { class: "fk-text" }, v)))));
  if (s.rows) {
    const cols = s.columns || Object.keys(s.rows[0] || {});
    box.append(h("table", { class: "fk-table" }, h("tr", {}, cols.map((c) => h("th", {}, c))),
      s.rows.map((r) => h("tr", {}, cols.map((c) => h("td", { class: "fk-text" }, r[c] ?? ""))))));
  }
  if (s.html !== undefined) { const d = h("div", {}); d.innerHTML = s.html; box.append(d); }  // made by forgekit, escaped there
  return box;
}

function render({ model, el }) {
  function draw() {
    const d = model.get("data") || {};
    const root = h("div", { class: "fk-widget fk-card fk-card-" + (d.kind || "object") },
      h("div", { class: "fk-head" }, h("b", {}, d.title || ""), d.subtitle ? h("span", { class: "fk-muted" }, " " + d.subtitle) : null));
    for (const s of d.sections || []) root.append(section(s));
    if (d.run) {
      const det = h("details", { class: "fk-card-run", open: "" }, h("summary", {}, d.run_label || "last run"));
      det.append(nestedRunView(d.run, undefined, nav, draw));
      root.append(det);
    }
    el.replaceChildren(root);
  }
  const nav = { stack: [], uis: new Map() };  // the run shown (a child run opens in place)
  model.on("change:data", () => { nav.stack = []; });
  model.on("change:data", draw);
  draw();
  return () => model.off("change:data", draw);
}
export default { render };
