// forgekit IndexExplorer front end (anywidget ES module).
const sc = (v) => (v === null || v === undefined) ? "-" : v.toFixed(3);

function render({ model, el }) {
  const root = h("div", { class: "fk-widget fk-explorer" });
  const input = h("input", { type: "text", class: "fk-query", placeholder: "query", size: "50" });
  const k = h("input", { type: "number", class: "fk-k", min: "1", max: "100", style: "width:4em" });
  const mode = h("select", { class: "fk-mode" });
  const button = h("button", { class: "fk-search" }, "Search");
  const status = h("span", { class: "fk-muted" });
  const results = h("div", { class: "fk-hits" });
  root.append(h("div", {}, input, " k ", k, " ", mode, " ", button, " ", status), results);
  el.append(root);

  const go = () => model.send({ action: "search", query: input.value, k: Number(k.value) || null, mode: mode.value });
  button.addEventListener("click", go);
  input.addEventListener("keydown", (ev) => { if (ev.key === "Enter") go(); });

  function draw() {
    const d = model.get("data") || {};
    if (document.activeElement !== input) input.value = d.query || "";
    k.value = d.k || 5;
    if (!mode.options.length) for (const m of d.modes || []) mode.append(h("option", { value: m }, m));
    mode.value = d.mode;
    button.disabled = !!d.busy;
    status.textContent = d.busy ? "searching…" : (d.took_ms != null ? `${(d.hits || []).length} hits in ${d.took_ms.toFixed(0)} ms` : "");
    results.replaceChildren();
    if (d.error) results.append(h("div", { class: "fk-error" }, d.error));
    (d.hits || []).forEach((hit, i) => {
      results.append(h("div", { class: "fk-hit" },
        h("div", {}, h("b", {}, `#${i + 1} `), h("code", {}, hit.source),
          hit.section ? h("span", { class: "fk-muted" }, " " + hit.section) : null,
          h("span", { class: "fk-muted" }, `  score ${hit.score.toFixed(4)} · vector ${sc(hit.vector)} · keyword ${sc(hit.keyword)} · fused ${sc(hit.fused)}`)),
        h("div", {}, (hit.keywords || []).map((kw) => h("span", { class: "fk-kw" }, kw))),
        h("pre", {}, hit.text)));
    });
  }
  model.on("change:data", draw);
  draw();
  return () => model.off("change:data", draw);
}
export default { render };
