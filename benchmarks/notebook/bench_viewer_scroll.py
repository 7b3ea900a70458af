"""Eval viewer benchmark: a 10,000-sample, two-solver evaluation in the viewer's offline
export, opened in headless Chromium; the scroll-virtualised sample table (what ships)
against the same front end drawing every row (`export_html(virtual=False)`, the baseline),
in the same browser, one after the other.

    .venv/bin/python benchmarks/notebook/bench_viewer_scroll.py              # 10,000 samples
    .venv/bin/python benchmarks/notebook/bench_viewer_scroll.py --rows 2000

Measured per mode: time from navigation to the first row drawn; rows and DOM elements in
the page; the time of each of 40 scroll jumps spread over the table (from setting
scrollTop to the second animation frame after it: the repaint included); a text filter
(from the input event to the table redrawn, minus the 250 ms typing debounce). Needs
Debian's chromium (/usr/bin/chromium or FORGEKIT_CHROMIUM) and the playwright package.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = os.environ.get("FORGEKIT_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update"]
STEPS = 40

SCROLL_JS = """async (steps) => {
  const sc = document.querySelector('.fk-scroll');
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const times = [];
  const max = sc.scrollHeight - sc.clientHeight;
  for (let k = 1; k <= steps; k++) {
    const t0 = performance.now();
    sc.scrollTop = Math.round(max * (k % 2 ? k : steps - k) / steps);  // back and forth
    await frame();
    times.push(performance.now() - t0);
  }
  sc.scrollTop = sc.scrollHeight;  // the end: the last samples must be drawn
  for (let i = 0; i < 50; i++) {
    await frame();
    const rows = sc.querySelectorAll('.fk-row');
    const last = rows[rows.length - 1];
    if (last && !sc.querySelector('.fk-pending') && last.getBoundingClientRect().bottom > 0) break;
  }
  const rows = [...sc.querySelectorAll('.fk-row')].map((r) => r.dataset.key);
  return { times, last: rows[rows.length - 1] };
}"""

FILTER_JS = """async (text) => {
  const info = document.querySelector('.fk-matched');
  const before = info.textContent;
  const box = document.querySelector('.fk-search');
  const t0 = performance.now();
  box.value = text;
  box.dispatchEvent(new Event('input'));
  while (info.textContent === before) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return { ms: performance.now() - t0 - 250, matched: info.textContent };
}"""


def synthetic(n: int):
    """Two solvers on n samples, answers of a few lines each (rows of varying height)."""
    import polars as pl

    from forgekit.evals.results import EvalResults, result_schema

    rows = []
    for solver in ("plain", "best_of_3"):
        for i in range(n):
            ok = (i % 3 == 0) if solver == "plain" else (i % 2 == 0)
            rows.append({
                "eval_id": "bench", "model": "m", "solver": solver, "sample_id": f"q{i}",
                "sample_index": i, "epoch": 0, "status": "completed",
                "input": f"question {i}: " + "how many apples are left? " * (1 + i % 4),
                "answer": f"answer {i} " * (3 + 7 * (i % 5)), "target": json.dumps(str(i)),
                "score": 1.0 if ok else 0.0, "passed": ok,
                "scores": json.dumps([{"scorer": "exact", "value": 1.0 if ok else 0.0}]),
                "score_errors": 0, "input_tokens": 5, "output_tokens": 5, "cost_usd": 0.0,
                "latency_s": 0.1, "trajectory": None,
            })
    return EvalResults(pl.DataFrame(rows, schema=result_schema(), strict=False),
                       meta={"eval_id": "bench"})


def measure(browser, path: Path, n: int) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.route("http*://**", lambda route: route.abort())  # offline
    t0 = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_selector(".fk-viewer .fk-row", timeout=600_000)
    first = time.perf_counter() - t0
    rows = page.locator(".fk-row").count()
    elements = page.evaluate("document.getElementsByTagName('*').length")
    scroll = page.evaluate(SCROLL_JS, STEPS)
    filt = page.evaluate(FILTER_JS, "question 99")
    page.close()
    times = sorted(scroll["times"])
    return {
        "first_row_s": round(first, 3),
        "rows_in_dom": rows,
        "dom_elements": elements,
        "scroll_ms_median": round(statistics.median(times), 1),
        "scroll_ms_p90": round(times[int(0.9 * (len(times) - 1))], 1),
        "scroll_ms_max": round(times[-1], 1),
        "last_row_drawn": scroll["last"],
        "filter_ms": round(filt["ms"], 1),
        "filter_result": filt["matched"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000, help="samples (two solvers each)")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} not found: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    from forgekit.notebook import EvalViewer

    t0 = time.perf_counter()
    viewer = EvalViewer(synthetic(args.rows))
    print(f"viewer over {args.rows} samples built in {time.perf_counter() - t0:.1f}s", flush=True)
    with tempfile.TemporaryDirectory(prefix="fk-bench-viewer-") as tmp:
        virtual = viewer.export_html(Path(tmp) / "virtual.html", max_transcripts=0)
        every = viewer.export_html(Path(tmp) / "all.html", max_transcripts=0, virtual=False)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            try:
                results = {"virtualised": measure(browser, virtual, args.rows)}
                print("virtualised:", results["virtualised"], flush=True)
                results["all rows (baseline)"] = measure(browser, every, args.rows)
                print("all rows:", results["all rows (baseline)"], flush=True)
            finally:
                browser.close()
    v, b = results["virtualised"], results["all rows (baseline)"]
    ratios = {
        "first row: baseline / virtualised": round(b["first_row_s"] / v["first_row_s"], 1),
        "rows in the DOM: baseline / virtualised": round(b["rows_in_dom"] / v["rows_in_dom"], 1),
        "scroll median: baseline / virtualised": round(
            b["scroll_ms_median"] / max(v["scroll_ms_median"], 0.1), 1),
        "scroll p90: baseline / virtualised": round(
            b["scroll_ms_p90"] / max(v["scroll_ms_p90"], 0.1), 1),
        "filter: baseline / virtualised": round(b["filter_ms"] / max(v["filter_ms"], 0.1), 1),
    }
    results["ratios"] = ratios
    results["samples"] = args.rows
    for k, r in ratios.items():
        print(f"{k}: {r}x")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
