// forgekit EvalViewer front end (anywidget ES module; also run on embedded data by the
// static export through staticModel()). State arrives as `data` (the header, the query,
// the counts, the first window of rows), the open sample's transcripts as `transcripts`;
// the sample table is
// scroll-virtualised: only the rows in view (plus a margin) are in the DOM, and the rows
// it scrolls to are asked for with {action: "rows", offset, limit, version} and arrive in
// the `rows` trait. Other actions: query (filter/sort), open (a sample's transcripts), close.

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

// a model-like object over embedded data, for the static export (no kernel): the same
// messages as the kernel answers, the windows of rows answered asynchronously like a kernel
function staticModel(full) {
  const listeners = {};
  const chunk = full.chunk || 100;
  let query = Object.assign({}, full.query);
  let transcripts = null;
  let version = 0;
  let sel = [];
  let counts = {};
  let rows = {};
  const select = () => { [sel, counts] = runQuery(full.rows, query); };
  const compute = () => Object.assign({}, full, { query: Object.assign({}, query), version, chunk,
    counts, matched: sel.length, rows: sel.slice(0, chunk), static: true });
  select();
  let data = compute();
  const fire = (ev) => { for (const f of listeners[ev] || []) f(); };
  return {
    get: (name) => ({ data, rows, transcripts: transcripts || {} })[name],
    on: (ev, f) => { (listeners[ev] = listeners[ev] || []).push(f); },
    off: (ev, f) => { if (listeners[ev]) listeners[ev] = listeners[ev].filter((g) => g !== f); },
    send: (msg) => {
      if (msg.action === "rows") {
        if (msg.version !== version) return;
        // each window its own change, as from a kernel (two asked at once both arrive)
        const w = { version, offset: msg.offset, rows: sel.slice(msg.offset, msg.offset + msg.limit) };
        Promise.resolve().then(() => { rows = w; fire("change:rows"); });
        return;
      }
      if (msg.action === "query") {
        const changes = Object.assign({}, msg); delete changes.action;
        query = Object.assign({}, query, changes);
        select();
        version++;
      } else if (msg.action === "open" || msg.action === "close") {
        const runs = (full.transcripts || {})[msg.key];
        transcripts = msg.action === "close" ? null
          : { key: msg.key, runs: runs || null, links: (full.links || {})[msg.key] || [] };
        fire("change:transcripts");
        return;
      }
      data = compute();
      fire("change:data");
    },
  };
}

const OVERSCAN_PX = 600;   // rows drawn above and below the visible part
const MAX_DRAWN = 300;     // rows in the DOM at most, whatever the heights
const FIRST_ESTIMATE = 44; // px per row until rows have been measured

function render({ model, el }) {
  let timer = null;
  const send = (msg) => model.send(msg);
  const root = h("div", { class: "fk-widget fk-viewer" });
  const head = h("div", { class: "fk-viewer-head" });
  const controls = h("div", { class: "fk-controls" });
  const info = h("div", { class: "fk-matched fk-muted" });
  const thead = h("thead", {});
  const tbody = h("tbody", {});
  const table = h("table", { class: "fk-table fk-sample-table" }, thead, tbody);
  const scroller = h("div", { class: "fk-scroll" }, table);
  const empty = h("div", { class: "fk-muted fk-empty" }, "no sample matches");
  const panel = h("div", { class: "fk-transcripts" });
  root.append(head, controls, info, scroller, empty, panel);
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

  // ---- the virtual table: rows by position in the selection, heights measured as drawn
  let version = null;
  let n = 0;
  let heights = new Float64Array(0);  // 0 = not measured yet
  let measuredSum = 0;
  let measuredN = 0;
  const cache = new Map();    // position -> row, for the current selection
  const pending = new Set();  // window offsets asked for
  let drawn = "";
  const est = () => (measuredN ? measuredSum / measuredN : FIRST_ESTIMATE);
  const rowHeight = (i) => heights[i] || est();

  function reset(d) {
    version = d.version; n = d.matched || 0;
    heights = new Float64Array(n); measuredSum = 0; measuredN = 0;
    cache.clear(); pending.clear(); drawn = "";
    (d.rows || []).forEach((r, i) => cache.set(i, r));
    scroller.scrollTop = 0;
  }

  function ask(s, e, chunk) {  // the windows covering positions s..e-1 that are missing
    for (let c = Math.floor(s / chunk) * chunk; c < e; c += chunk) {
      const last = Math.min(c + chunk, n) - 1;
      if ((!cache.has(c) || !cache.has(last)) && !pending.has(c)) {
        pending.add(c);
        send({ action: "rows", offset: c, limit: chunk, version });
      }
    }
  }

  function rowView(r, i, d) {
    const q = d.query || {};
    const [dis] = rowFlags(r, q.scorer);
    const t = model.get("transcripts") || {};
    const open = t.key === r.key;
    return h("tr", { class: "fk-row" + (dis ? " fk-disagree" : "") + (open ? " fk-open" : ""),
      "data-key": r.key, "data-i": i, title: "open the transcripts",
      onclick: () => send({ action: "open", key: r.key }) },
      h("td", {}, String(r.id) + (r.epoch ? ` (epoch ${r.epoch})` : "")),
      h("td", { class: "fk-text" }, r.input), h("td", { class: "fk-text" }, r.target),
      r.cells.map((c) => h("td", { class: "fk-text" }, scoreBadge(c, r.threshold), " ",
        c.answer ?? "", c.error ? h("div", { class: "fk-error" }, c.error) : null,
        c.note ? h("div", { class: "fk-muted" }, c.note) : null)));
  }
  const spacer = (px, cols) => h("tr", { class: "fk-spacer", "aria-hidden": "true" },
    h("td", { colspan: cols, style: `height:${px}px;padding:0;border:0` }));

  function paint(force) {
    const d = model.get("data") || {};
    const cols = 3 + (d.cells || []).length;
    const virtual = d.virtual !== false;
    let s = 0, e = n, top = 0;
    if (virtual) {
      const y = scroller.scrollTop;
      const y0 = y - OVERSCAN_PX, y1 = y + (scroller.clientHeight || 600) + OVERSCAN_PX;
      let acc = 0, i = 0;
      while (i < n && acc + rowHeight(i) < y0) { acc += rowHeight(i); i++; }
      s = i; top = acc;
      while (i < n && acc < y1 && i - s < MAX_DRAWN) { acc += rowHeight(i); i++; }
      e = i;
    }
    const key = `${version}:${s}:${e}`;
    if (!force && key === drawn) return;
    drawn = key;
    ask(s, e, virtual ? (d.chunk || 100) : Math.max(n, 1));
    const trs = [spacer(top, cols)];
    for (let j = s; j < e; j++) {
      const r = cache.get(j);
      trs.push(r ? rowView(r, j, d) : h("tr", { class: "fk-pending", "data-i": j },
        h("td", { colspan: cols, style: `height:${Math.round(est())}px` }, "…")));
    }
    const bottomSpacer = spacer(0, cols);
    trs.push(bottomSpacer);
    tbody.replaceChildren(...trs);
    // measure what was drawn; later estimates use the mean height
    for (const tr of tbody.querySelectorAll("tr.fk-row")) {
      const j = Number(tr.dataset.i);
      const hh = tr.getBoundingClientRect().height;
      if (hh > 0 && heights[j] !== hh) {
        if (heights[j]) measuredSum -= heights[j]; else measuredN++;
        measuredSum += hh; heights[j] = hh;
      }
    }
    if (virtual) {
      let bottom = 0;
      for (let j = e; j < n; j++) bottom += rowHeight(j);
      bottomSpacer.firstChild.style.height = bottom + "px";
    }
  }
  let frame = 0;
  scroller.addEventListener("scroll", () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; paint(false); });
  });
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => paint(false)).observe(scroller);

  function onRows() {
    const w = model.get("rows") || {};
    if (w.version !== version || !w.rows) return;
    w.rows.forEach((r, k) => cache.set(w.offset + k, r));
    pending.delete(w.offset);
    paint(true);
  }

  const navs = new Map();  // per transcript column: the child run opened, filters
  let navKey = null;
  function drawPanel() {
    const d = model.get("data") || {};
    const cells = d.cells || [];
    const t = model.get("transcripts") || {};
    panel.replaceChildren();
    if (!t.key) return;
    if (t.key !== navKey) { navs.clear(); navKey = t.key; }
    panel.append(h("div", { class: "fk-thead" }, h("b", {}, "transcripts of " + t.key), " ",
      h("a", { class: "fk-link fk-close", href: "#", onclick: (ev) => { ev.preventDefault(); send({ action: "close" }); } }, "close")));
    if (t.runs) {
      const grid = h("div", { class: "fk-side", style: `grid-template-columns: repeat(${Math.max(1, t.runs.length)}, minmax(0, 1fr))` });
      t.runs.forEach((run, i) => {
        if (!navs.has(i)) navs.set(i, { stack: [], uis: new Map() });
        grid.append(nestedRunView(run, run.cell, navs.get(i), drawPanel));
      });
      panel.append(grid);
    } else {
      panel.append(h("div", { class: "fk-muted" }, "transcripts are not embedded for this sample; open the files: ",
        (t.links || []).map((p, i) => p ? h("a", { class: "fk-link", href: p }, cells[i] ? cells[i].label : p) : null)));
    }
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

    thead.replaceChildren(h("tr", {}, h("th", {}, "sample"), h("th", {}, "input"), h("th", {}, "target"),
      cells.map((c) => h("th", {}, c.label))));
    if (d.version !== version) reset(d);
    scroller.style.display = n ? "" : "none";
    empty.style.display = n ? "none" : "";
    paint(true);
    drawPanel();
  }
  const onTranscripts = () => { paint(true); drawPanel(); };
  model.on("change:data", draw);
  model.on("change:rows", onRows);
  model.on("change:transcripts", onTranscripts);
  draw();
  return () => { model.off("change:data", draw); model.off("change:rows", onRows);
    model.off("change:transcripts", onTranscripts); };
}

export default { render };
