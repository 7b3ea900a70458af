"""Browser check: JupyterLab on loopback in headless Chromium renders the inspector widget.

Screenshots go to $FORGEKIT_TEST_ARTIFACTS (.ci/run: test-artifacts/) or the test's tmp dir.
Needs Debian's `chromium` (`apt-get install -y chromium`) and the `playwright` Python
package (dev extra; its own browsers are never downloaded: we point it at
/usr/bin/chromium). Skips with the reason when either is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from forgekit.core.processes import free_port

CHROMIUM = os.environ.get("FORGEKIT_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "forgekit-test-token"

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _notebook(path: Path, run_file: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "from forgekit.notebook import TrajectoryInspector\n"
            f"insp = TrajectoryInspector({str(run_file)!r})\ninsp"
        )
    )
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory):
    """A JupyterLab server on loopback with HOME and Jupyter dirs in a temp folder."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    jupyter = Path(sys.executable).parent / "jupyter"
    if not jupyter.exists():
        pytest.skip("jupyter (jupyterlab) is not installed in this environment")
    tmp_path = tmp_path_factory.mktemp("jupyterlab")
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
        "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"),
        "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    for ext, name, value in [
        ("notebook-extension", "tracker", {"windowingMode": "none"}),
        ("apputils-extension", "notification", {"fetchNews": "false"}),
    ]:
        (settings / ext).mkdir(parents=True, exist_ok=True)
        (settings / ext / f"{name}.jupyterlab-settings").write_text(json.dumps(value))
    root = tmp_path / "work"
    root.mkdir()
    port = free_port()
    log = open(tmp_path / "jupyter.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--allow-root",
            "--no-browser",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            f"--IdentityProvider.token={TOKEN}",
            "--ServerApp.root_dir",
            str(root),
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "jupyter lab did not start:\n"
                        + (tmp_path / "jupyter.log").read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(0.2)
        yield base, root
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_anywidget_labextension_is_served_offline(jupyterlab) -> None:
    base, _ = jupyterlab
    with urllib.request.urlopen(f"{base}/lab/api/extensions?token={TOKEN}", timeout=10) as r:
        exts = {e["name"]: e for e in json.load(r)}
    assert "anywidget" in exts and "jupyter-widgets-jupyterlab-manager" in exts
    # the front-end code comes from the installed wheel, from this server, not a CDN
    with urllib.request.urlopen(f"{base}/lab?token={TOKEN}", timeout=10) as r:
        page = r.read().decode()
    assert "anywidget" in page  # listed in the page config as a federated extension
    load = json.loads(
        page.split('id="jupyter-config-data"')[1].split(">", 1)[1].split("</script>", 1)[0]
    )["federated_extensions"]
    (anyw,) = [e for e in load if e["name"] == "anywidget"]
    url = f"{base}/lab/extensions/anywidget/{anyw['load']}?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200 and len(r.read()) > 1000


def _open_and_run(page, base: str, name: str) -> None:
    """Open `name` in its own workspace, wait for its kernel, run all its cells."""
    ws = Path(name).stem
    page.goto(f"{base}/lab/workspaces/{ws}/tree/{name}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(
        "(name) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " const k = w && w.context && w.context.path === name && w.sessionContext"
        " && w.sessionContext.session && w.sessionContext.session.kernel;"
        " return k && k.status === 'idle'; }",
        arg=name,
        timeout=90_000,
    )
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")


def test_inspector_renders_its_steps_in_jupyterlab(
    jupyterlab, recorded_run: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    base, root = jupyterlab
    _notebook(root / "inspect.ipynb", recorded_run)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            _open_and_run(page, base, "inspect.ipynb")
            page.wait_for_selector(".fk-inspector .fk-step", timeout=90_000)
            steps = page.locator(".fk-inspector .fk-step")
            assert steps.count() >= 2
            text = page.locator(".fk-inspector").inner_text()
            assert "agent" in text and "completed" in text
            # expand the first step: the model request and the tool call are there
            steps.first.locator("summary").click()
            body = steps.first.inner_text()
            assert "What is 6*7?" in body and "calculator" in body
            assert "12 in / 6 out" in body  # each model call's tokens, cost, latency
            # navigate into the child run through the kernel and back
            page.locator(".fk-inspector .fk-child").first.click()
            page.wait_for_selector(".fk-inspector .fk-crumbs", timeout=30_000)
            assert "reviewer" in page.locator(".fk-inspector .fk-head").inner_text()
            page.screenshot(path=str(tmp_path / "inspector-child.png"))
            page.locator(".fk-inspector .fk-crumbs a").first.click()  # back to the root
            page.wait_for_selector(".fk-inspector .fk-child", timeout=30_000)
            assert "agent" in page.locator(".fk-inspector .fk-head").inner_text()
            # filtering by event type hides steps that only hold that type
            page.locator(".fk-inspector .fk-step").first.locator("summary").click()
            page.screenshot(path=str(tmp_path / "inspector.png"), full_page=True)
            before = page.locator(".fk-inspector .fk-event").count()
            page.locator(".fk-inspector input[data-type='model_call']").uncheck()
            assert page.locator(".fk-inspector .fk-type-model_call").count() == 0
            assert page.locator(".fk-inspector .fk-event").count() < before
        finally:
            browser.close()


AGENT_CELL = """
import tempfile
from forgekit.agents import Agent, FinalAnswer, MaxSteps, load_bundle
from forgekit.core.config import AliasConfig, Price, load_config
from forgekit.models import Gateway, ScriptedSource
cfg = load_config(env={"FORGEKIT_HOME": tempfile.mkdtemp()})
cfg.cache.enabled = False
cfg.models.aliases["m"] = AliasConfig(model="openai/m", api_base="http://x", max_retries=0,
                                      price=Price(input_per_1k=0.0, output_per_1k=0.0))
agent = Agent("m", bundles=[load_bundle("files")], name="helper",
              termination=FinalAnswer() | MaxSteps(3))
agent.run("say hi", Gateway(cfg, source=ScriptedSource(["hello there"])))
agent
"""

STRATEGY_CELL = """
from forgekit.core.samples import Answer
from forgekit.quality.result import StrategyResult
StrategyResult(Answer(text="42", metadata={
    "strategy": "best_of_n", "strategy_name": "best-of-3", "chosen": 1, "calls": 3,
    "cost_usd": 0.0, "votes": {"42": 2, "41": 1},
    "candidates": [{"index": 0, "text": "41"}, {"index": 1, "text": "42"},
                   {"index": 2, "text": "42"}]}))
"""


def test_dashboard_and_approval_round_trip_in_jupyterlab(jupyterlab, tmp_path: Path) -> None:
    import nbformat
    from playwright.sync_api import sync_playwright

    base, root = jupyterlab
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells += [
        nbformat.v4.new_code_cell(
            "from forgekit.notebook import RunDashboard, ApprovalPrompt, run_in_background\n"
            "from forgekit.agents.feedback import ApprovalRequest\n"
            "d = RunDashboard('demo', total=2)\n"
            "d.record({'model': 'm', 'solver': 's', 'score': 1.0, 'cost_usd': 0.01})\n"
            "d.show_results([{'model': 'm', 'solver': 's', 'accuracy': 1.0, 'cost_usd': 0.01}])\n"
            "d"
        ),
        nbformat.v4.new_code_cell(
            "prompt = ApprovalPrompt(timeout_s=300)\n"
            "job = run_in_background(prompt.approve(ApprovalRequest(tool='shell',"
            " arguments={'command': 'ls'}, reason='shell is ask')))\n"
            "prompt"
        ),
        # an Agent and a StrategyResult render live too (cards), through the same mechanism
        nbformat.v4.new_code_cell(AGENT_CELL.strip()),
        nbformat.v4.new_code_cell(STRATEGY_CELL.strip()),
    ]
    nbformat.write(nb, root / "live.ipynb")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            _open_and_run(page, base, "live.ipynb")
            try:
                page.wait_for_selector(".fk-dashboard .fk-compare", timeout=90_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
                raise AssertionError(
                    f"dashboard did not render; console errors: {errors}"
                ) from None
            dash = page.locator(".fk-dashboard").inner_text()
            assert "samples 1/2" in dash and "m/s" in dash
            # the evals layer's accuracy-vs-cost plot, the cell's label on it
            plot = page.locator(".fk-dashboard svg.fk-plot text")
            assert plot.filter(has_text="m/s").count() == 1
            assert plot.filter(has_text="Pareto front").count() == 1
            # the request arrives from the background thread; the kernel is free to answer
            try:
                page.wait_for_selector(".fk-approvals .fk-approve", timeout=60_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
                raise AssertionError(
                    f"no approval request shown; console errors: {errors}"
                ) from None
            assert "shell" in page.locator(".fk-approvals").inner_text()
            page.locator(".fk-approvals .fk-approve").click()
            page.wait_for_function(
                "() => document.querySelector('.fk-approvals')"
                ".innerText.includes('shell: approve')",
                timeout=30_000,
            )
            page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
            # the cards: the agent's config, tools and last run; the strategy's votes
            page.wait_for_selector(".fk-card-agent .fk-card-run .fk-step", timeout=60_000)
            agent = page.locator(".fk-card-agent").inner_text()
            assert "agent helper" in agent and "read_file" in agent
            assert "final_answer() | max_steps(n=3)" in agent and "hello there" in agent
            page.wait_for_selector(".fk-card-strategy", timeout=30_000)
            assert "votes" in page.locator(".fk-card-strategy").inner_text()
            page.screenshot(path=str(_artifacts(tmp_path) / "jupyterlab-cards.png"),
                            full_page=True)
        finally:
            browser.close()


# -- the eval viewer: live in JupyterLab and marimo, and its static export ----------------


def _artifacts(tmp_path: Path) -> Path:
    """Where screenshots go: $FORGEKIT_TEST_ARTIFACTS (kept by CI) or the test's tmp dir."""
    out = Path(os.environ.get("FORGEKIT_TEST_ARTIFACTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _eval_source(work: Path) -> str:
    """Python that runs the two-solver evaluation (a scripted model, so every answer is
    known) and leaves `results`."""
    import inspect

    from tests.notebook.conftest import two_solver_eval

    return (
        "from pathlib import Path\n"
        + inspect.getsource(two_solver_eval)
        + f"\nresults = two_solver_eval(Path({str(work)!r}))\n"
    )


def _check_viewer(page, shots: Path, name: str) -> None:
    """The viewer shows both cells, filters to the 4 disagreements, opens a transcript."""
    from playwright.sync_api import expect

    viewer = page.locator(".fk-viewer").first
    viewer.locator(".fk-row").first.wait_for(timeout=90_000)
    head = viewer.locator(".fk-viewer-head").inner_text()
    assert "m1/plain" in head and "m1/exact" in head and "m1/exact vs m1/plain" in head
    assert "distinguishable from chance" in head
    assert viewer.locator(".fk-row").count() == 8
    page.screenshot(path=str(shots / f"{name}-viewer.png"), full_page=True)
    viewer.locator("select.fk-show").select_option("disagree")
    expect(viewer.locator(".fk-row")).to_have_count(4, timeout=30_000)
    rows = viewer.locator(".fk-row")
    assert "no idea, sorry" in rows.first.inner_text()
    rows.first.click()
    viewer.locator(".fk-transcripts .fk-transcript").nth(1).wait_for(timeout=30_000)
    panel = viewer.locator(".fk-transcripts").inner_text()
    assert "m1/plain" in panel and "m1/exact" in panel and "numeric" in panel
    # each transcript is the whole run: messages by role, tokens and cost, the score's why
    assert "Be exact." in panel and " in / " in panel and "no number in the answer" in panel
    page.screenshot(path=str(shots / f"{name}-transcripts.png"), full_page=True)


def test_eval_viewer_live_in_jupyterlab(jupyterlab, tmp_path: Path) -> None:
    import nbformat
    from playwright.sync_api import sync_playwright

    base, root = jupyterlab
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    # windows of 3 rows: the 8 samples arrive as the table asks for them (the rows trait)
    nb.cells.append(nbformat.v4.new_code_cell(
        _eval_source(root / "eval-demo")
        + "from forgekit.notebook import EvalViewer\nEvalViewer(results, chunk=3)"))
    nbformat.write(nb, root / "viewer.ipynb")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            _open_and_run(page, base, "viewer.ipynb")
            try:
                _check_viewer(page, _artifacts(tmp_path), "jupyterlab")
            except Exception:
                page.screenshot(path=str(_artifacts(tmp_path) / "jupyterlab-failed.png"))
                raise AssertionError(f"viewer check failed; console errors: {errors}") from None
        finally:
            browser.close()


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory: pytest.TempPathFactory):
    """`marimo run` on loopback serving an app that evaluates two solvers."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    pytest.importorskip("marimo")
    tmp_path = tmp_path_factory.mktemp("marimo")
    body = "\n".join("    " + line for line in _eval_source(tmp_path / "eval-demo").splitlines())
    app = tmp_path / "viewer_app.py"
    app.write_text(
        "import marimo\n\napp = marimo.App(width='full')\n\n\n@app.cell\ndef _():\n"
        f"{body}\n    results\n    return\n\n\nif __name__ == '__main__':\n    app.run()\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_CACHE_HOME": str(home / ".cache"), "XDG_STATE_HOME": str(home / ".state")}
    port = free_port()
    log = open(tmp_path / "marimo.log", "wb")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "marimo", "run", str(app), "--headless", "--host", "127.0.0.1",
         "--port", str(port), "--no-token"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        "marimo did not start:\n"
                        + (tmp_path / "marimo.log").read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_eval_viewer_live_in_marimo(marimo_app: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(marimo_app)
            try:
                _check_viewer(page, _artifacts(tmp_path), "marimo")
            except Exception:
                page.screenshot(path=str(_artifacts(tmp_path) / "marimo-failed.png"))
                raise AssertionError(f"viewer check failed; console errors: {errors}") from None
        finally:
            browser.close()


def test_eval_viewer_static_export_in_chromium(tmp_path: Path) -> None:
    """The exported file filters and opens transcripts with no kernel and no network."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    from playwright.sync_api import expect, sync_playwright

    from forgekit.notebook import EvalViewer
    from tests.notebook.conftest import two_solver_eval

    out = EvalViewer(two_solver_eval(tmp_path / "eval")).export_html(tmp_path / "viewer.html")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("http*://**", lambda route: route.abort())  # offline
            page.goto(out.as_uri())
            _check_viewer(page, _artifacts(tmp_path), "static")
            rows = page.locator(".fk-viewer .fk-row")
            page.locator(".fk-viewer .fk-search").fill("99")
            expect(rows).to_have_count(0)  # s5 (the "99") is no disagreement: both wrong
            page.locator(".fk-viewer select.fk-show").select_option("all")
            expect(rows).to_have_count(1)
        finally:
            browser.close()


def test_static_export_of_many_samples_keeps_the_dom_small(tmp_path: Path) -> None:
    """The sample table is scroll-virtualised: 3,000 samples, yet only the rows in view
    are in the page; scrolling to the end draws the last samples, and a filter redraws."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extra)")
    from playwright.sync_api import expect, sync_playwright

    from forgekit.notebook import EvalViewer
    from tests.notebook.test_viewer import _synthetic

    viewer = EvalViewer(_synthetic(3_000), query={"sort": "index"})
    out = viewer.export_html(tmp_path / "big.html", max_transcripts=0)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.route("http*://**", lambda route: route.abort())  # offline
            page.goto(out.as_uri())
            rows = page.locator(".fk-viewer .fk-row")
            rows.first.wait_for(timeout=60_000)
            assert 5 <= rows.count() <= 100  # the rows in view and a margin, not 3,000
            assert rows.first.get_attribute("data-key") == "q0#0"
            page.evaluate("(() => { const s = document.querySelector('.fk-scroll');"
                          " s.scrollTop = s.scrollHeight; })()")
            page.wait_for_selector(".fk-row[data-key='q2999#0']", timeout=30_000)
            assert rows.count() <= 400
            page.screenshot(path=str(_artifacts(tmp_path) / "static-3000-end.png"))
            page.locator(".fk-viewer .fk-search").fill("question 2999")
            expect(rows).to_have_count(1, timeout=30_000)
        finally:
            browser.close()
