// forgekit EvalViewer front end (anywidget ES module; also run on embedded data by the
// static export through staticModel()). State arrives as `data`; actions go back with
// model.send({action, ...}): query (filter/sort/page), open (a sample's transcripts), close.

const f3 = (v, sign) => v === null || v === undefined ? "–" : (sign && v > 0 ? "+" : "") + v.toFixed(3);

function scoreBadge(cell, threshold) {
  if (cell.status !== "completed") return h("span", { class: "fk-score fk-bad" }, cell.status || "?");
  const v = cell.score;
  const ok = v !== null && v !== undefined && v >= threshold;
  return h("span", { class: "fk-score " + (ok ? "fk-good" : "fk-bad") },
    v === null || v === undefined ? "–" : v.toFixed(2));
}

// ---- the query over all rows (static mode); mirrors forgekit/notebook/sample_rows.py ----
function cellScore(c, scorer) {
  if (scorer) { const v = (c.scores || {})[scorer]; return v === undefined ? null : v; }
  return c.score === undefined ? null : c.score;
}
function rowFlags(row, scorer) {
  const seen = new Set();
  let failing = 0;
  for (const c of row.cells) {
    const v = cellScore(c, scorer);
    seen.add(c.status + "|" + (v === null ? "null" : Math.round(v * 1e6) / 1e6));
    if (c.status !== "completed" || v === null || v < row.threshold) failing++;
  }
  return [row.cells.length > 1 && seen.size > 1, failing];
}
function cmpTuple(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}
function runQuery(rows, q) {
  const counts = { all: rows.length, disagree: 0, failed: 0, passed: 0 };
  const keep = [];
  const needle = (q.text || "").trim().toLowerCase();
  for (const row of rows) {
    const [dis, failing] = rowFlags(row, q.scorer);
    counts.disagree += dis ? 1 : 0; counts.failed += failing > 0 ? 1 : 0; counts.passed += failing === 0 ? 1 : 0;
    if (q.show === "disagree" && !dis) continue;
    if (q.show === "failed" && !failing) continue;
    if (q.show === "passed" && failing) continue;
    if (q.cell !== null && q.cell !== undefined && q.cell >= 0 && q.cell < row.cells.length) {
      const v = cellScore(row.cells[q.cell], q.scorer);
      if (v === null || (q.lo !== null && q.lo !== undefined && v < q.lo)
          || (q.hi !== null && q.hi !== undefined && v > q.hi)) continue;
    }
    if (needle) {
      const hay = [row.id, row.input, row.target];
      for (const c of row.cells) hay.push(c.answer || "", c.error || "", c.note || "");
      if (!hay.some((x) => String(x).toLowerCase().includes(needle))) continue;
    }
    const order = [row.i, row.epoch];
    let key;
    if (q.sort === "disagree") key = [dis ? 0 : 1, -failing, ...order];
    else if (q.sort === "failed") key = [-failing, dis ? 0 : 1, ...order];
    else if (q.sort === "score") {
      const v = q.sort_cell < row.cells.length ? cellScore(row.cells[q.sort_cell], q.scorer) : null;
      key = [v === null ? 1 : 0, v === null ? 0 : v, ...order];
    } else if (q.sort === "id") key = [String(row.id), row.epoch];
    else key = order;
    keep.push([key, row]);
  }
  keep.sort((a, b) => cmpTuple(a[0], b[0]));
  if (q.desc) keep.reverse();
  return [keep.map((k) => k[1]), counts];
}

// a model-like object over embedded data, for the static export (no kernel)
function staticModel(full) {
  const listeners = [];
  let query = Object.assign({}, full.query);
  let transcripts = null;
  function compute() {
    const [sel, counts] = runQuery(full.rows, query);
    const size = Math.max(1, query.page_size || 50);
    const last = Math.max(0, Math.floor((sel.length - 1) / size));
    const n = Math.min(Math.max(query.page || 0, 0), last);
    return Object.assign({}, full, { query: Object.assign({}, query, { page: n }), counts,
      matched: sel.length, rows: sel.slice(n * size, (n + 1) * size), transcripts, static: true });
  }
  let data = compute();
  const fire = () => { data = compute(); for (const f of listeners) f(); };
  return {
    get: (name) => (name === "data" ? data : undefined),
    on: (_ev, f) => listeners.push(f),
    off: () => {},
    send: (msg) => {
      if (msg.action === "query") {
        const changes = Object.assign({}, msg); delete changes.action;
        query = Object.assign({}, query, changes, "page" in changes ? {} : { page: 0 });
      } else if (msg.action === "open") {
        const runs = (full.transcripts || {})[msg.key];
        transcripts = { key: msg.key, runs: runs || null, links: (full.links || {})[msg.key] || [] };
      } else if (msg.action === "close") transcripts = null;
      fire();
    },
  };
}

function render({ model, el }) {
  let timer = null;
  const send = (msg) => model.send(msg);
  const root = h("div", { class: "fk-widget fk-viewer" });
  const head = h("div", { class: "fk-viewer-head" });
  const controls = h("div", { class: "fk-controls" });
  const info = h("div", { class: "fk-matched fk-muted" });
  const table = h("div", { class: "fk-samples" });
  const pager = h("div", { class: "fk-pager" });
  const panel = h("div", { class: "fk-transcripts" });
  root.append(head, controls, info, table, pager, panel);
  el.replaceChildren(root);

  // controls are built once (the search box keeps its focus while results arrive)
  const show = h("select", { class: "fk-show", title: "which samples",
    onchange: () => send({ action: "query", show: show.value }) });
  const scorer = h("select", { class: "fk-scorer", title: "score by",
    onchange: () => send({ action: "query", scorer: scorer.value }) });
  const search = h("input", { class: "fk-search", type: "search", placeholder: "search input, target, answers…",
    oninput: () => { clearTimeout(timer); timer = setTimeout(() => send({ action: "query", text: search.value }), 250); } });
  const sort = h("select", { class: "fk-sort", title: "sort",
    onchange: () => { const [k, c] = sort.value.split(":"); send({ action: "query", sort: k, sort_cell: Number(c || 0) }); } });
  const desc = h("input", { type: "checkbox", class: "fk-desc",
    onchange: () => send({ action: "query", desc: desc.checked }) });
  const rangeCell = h("select", { class: "fk-range-cell", title: "score range on",
    onchange: () => sendRange() });
  const lo = h("input", { class: "fk-lo", type: "number", step: "0.1", placeholder: "min", style: "width:4em",
    onchange: () => sendRange() });
  const hi = h("input", { class: "fk-hi", type: "number", step: "0.1", placeholder: "max", style: "width:4em",
    onchange: () => sendRange() });
  function sendRange() {
    const num = (x) => (x.value === "" ? null : Number(x.value));
    send({ action: "query", cell: rangeCell.value === "" ? null : Number(rangeCell.value), lo: num(lo), hi: num(hi) });
  }
  controls.append(show, " ", search, " ", h("label", {}, "score by ", scorer), " ",
    h("label", {}, "sort ", sort), h("label", { title: "descending" }, desc, "desc"), " ",
    h("label", {}, "score of ", rangeCell, " in ", lo, "–", hi));

  function options(select, items, value) {
    select.replaceChildren(...items.map(([v, label]) => {
      const o = h("option", { value: v }, label);
      if (String(v) === String(value)) o.selected = true;
      return o;
    }));
  }

  function draw() {
    const d = model.get("data") || {};
    const q = d.query || {};
    const cells = d.cells || [];
    const counts = d.counts || {};

    // header: accuracy with CI per cell, the paired comparisons with their reading
    head.replaceChildren(h("b", {}, "evaluation " + (d.title || "")),
      h("table", { class: "fk-table fk-cellsum" },
        h("tr", {}, ["model/solver", "samples", "errors", "accuracy", "95% CI (bootstrap)", "cost"].map((c) => h("th", {}, c))),
        cells.map((c) => h("tr", {}, h("td", {}, c.label), h("td", { class: "fk-n" }, c.samples),
          h("td", { class: "fk-n" }, c.errors), h("td", { class: "fk-n" }, f3(c.accuracy)),
          h("td", { class: "fk-n" }, `[${f3(c.ci_low)}, ${f3(c.ci_high)}]`), h("td", { class: "fk-n" }, usd(c.cost_usd))))),
      ...(d.comparisons || []).map((c) => h("div", { class: "fk-reading" },
        h("b", {}, `${c.name} vs ${c.baseline}`),
        `: difference ${f3(c.diff, true)}, 95% CI [${f3(c.ci_low, true)}, ${f3(c.ci_high, true)}], ` +
        `p = ${f3(c.p_value)} (won ${c.won}, lost ${c.lost}, n = ${c.n})`,
        h("div", { class: "fk-plain" }, c.reading))));

    options(show, [["all", `all samples (${counts.all ?? 0})`], ["disagree", `disagreements (${counts.disagree ?? 0})`],
      ["failed", `with a failure (${counts.failed ?? 0})`], ["passed", `all passed (${counts.passed ?? 0})`]], q.show);
    options(scorer, [["", "primary score"], ...(d.scorers || []).map((s) => [s, s])], q.scorer || "");
    options(sort, [["disagree:0", "disagreements first"], ["failed:0", "failures first"], ["index:0", "task order"],
      ["id:0", "sample id"], ...cells.map((c, i) => [`score:${i}`, `score of ${c.label}`])],
      q.sort === "score" ? `score:${q.sort_cell}` : `${q.sort}:0`);
    options(rangeCell, [["", "(any)"], ...cells.map((c, i) => [String(i), c.label])], q.cell ?? "");
    desc.checked = !!q.desc;
    if (document.activeElement !== search) search.value = q.text || "";

    info.textContent = `${d.matched ?? 0} of ${counts.all ?? 0} samples` + (d.static ? " · static export" : "");

    // the page of rows: input, target, then each cell's score and answer side by side
    const rows = d.rows || [];
    const tbl = h("table", { class: "fk-table fk-sample-table" },
      h("tr", {}, h("th", {}, "sample"), h("th", {}, "input"), h("th", {}, "target"),
        cells.map((c) => h("th", {}, c.label))));
    for (const r of rows) {
      const [dis] = rowFlags(r, q.scorer);
      const tr = h("tr", { class: "fk-row" + (dis ? " fk-disagree" : "") + (d.transcripts && d.transcripts.key === r.key ? " fk-open" : ""),
        "data-key": r.key, title: "open the transcripts",
        onclick: () => send({ action: "open", key: r.key }) },
        h("td", {}, String(r.id) + (r.epoch ? ` (epoch ${r.epoch})` : "")),
        h("td", { class: "fk-text" }, r.input), h("td", { class: "fk-text" }, r.target),
        r.cells.map((c) => h("td", { class: "fk-text" }, scoreBadge(c, r.threshold), " ",
          c.answer ?? "", c.error ? h("div", { class: "fk-error" }, c.error) : null,
          c.note ? h("div", { class: "fk-muted" }, c.note) : null)));
      tbl.append(tr);
    }
    table.replaceChildren(rows.length ? tbl : h("div", { class: "fk-muted" }, "no sample matches"));

    const size = Math.max(1, q.page_size || 50);
    const pages = Math.max(1, Math.ceil((d.matched || 0) / size));
    const go = (p) => send({ action: "query", page: p });
    pager.replaceChildren(
      h("button", { class: "fk-prev", onclick: () => go(q.page - 1) }, "‹ prev"),
      ` page ${(q.page || 0) + 1} of ${pages} `,
      h("button", { class: "fk-next", onclick: () => go(q.page + 1) }, "next ›"));
    pager.querySelector(".fk-prev").disabled = (q.page || 0) <= 0;
    pager.querySelector(".fk-next").disabled = (q.page || 0) >= pages - 1;

    // the transcripts of the opened sample, side by side
    const t = d.transcripts;
    panel.replaceChildren();
    if (t) {
      const runs = t.runs;
      const bar = h("div", { class: "fk-thead" }, h("b", {}, "transcripts of " + t.key), " ",
        h("a", { class: "fk-link fk-close", href: "#", onclick: (ev) => { ev.preventDefault(); send({ action: "close" }); } }, "close"));
      panel.append(bar);
      if (runs) {
        const grid = h("div", { class: "fk-side", style: `grid-template-columns: repeat(${Math.max(1, runs.length)}, minmax(0, 1fr))` });
        for (const run of runs) grid.append(transcriptView(run));
        panel.append(grid);
      } else {
        panel.append(h("div", { class: "fk-muted" }, "transcripts are not embedded for this sample; open the files: ",
          (t.links || []).map((p, i) => p ? h("a", { class: "fk-link", href: p }, cells[i] ? cells[i].label : p) : null)));
      }
    }
  }
  model.on("change:data", draw);
  draw();
  return () => model.off("change:data", draw);
}

export default { render };
