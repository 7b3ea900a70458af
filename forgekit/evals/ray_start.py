"""How forgekit starts a local Ray (`--executor ray` without an address; the tests and
the benchmark use it too).

Every Ray process — the raylet's dashboard and runtime-env agents, each worker and
actor — imports `ray`, which imports `jsonschema`; where `rfc3987-syntax` is installed
(the `format-nongpl` extra that Jupyter pulls in), jsonschema imports it, and it builds
an Earley parser for the RFC 3987 grammar at import: measured on a 2-core machine,
`import ray` costs 4.2 s of CPU with it and 0.9 s without. On a busy machine that is
what makes a local Ray fail to start at all: the raylet gives the dashboard agent a
fixed 15 s to write its port file (ray-project/ray#65983), and the agent is still
importing. So a local Ray is started with a directory at the head of the processes'
`PYTHONPATH` in which `rfc3987_syntax` fails to import: jsonschema then simply lacks
its optional `iri` format checks, which neither Ray nor forgekit use. This process's
own imports are unchanged. Set ``FORGEKIT_RAY_SHIM=0`` to start Ray untouched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SKIPPED = ("rfc3987_syntax",)  # imported by jsonschema when present, never used by Ray
_env_lock = threading.Lock()


def _shim_dir() -> Path:
    """A directory whose packages fail to import (made once per process)."""
    root = Path(tempfile.gettempdir()) / f"forgekit-ray-shim-{os.getuid()}"
    for name in _SKIPPED:
        pkg = root / name
        init = pkg / "__init__.py"
        if not init.exists():
            pkg.mkdir(parents=True, exist_ok=True)
            tmp = init.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(
                f'raise ImportError("{name} is left out of Ray\'s processes by forgekit '
                '(its import costs seconds of CPU; FORGEKIT_RAY_SHIM=0 keeps it)")\n'
            )
            tmp.replace(init)
    return root


@contextlib.contextmanager
def _pythonpath_for_children() -> Iterator[None]:
    """`PYTHONPATH` with the shim first, for the processes started inside the block."""
    if os.environ.get("FORGEKIT_RAY_SHIM", "1") == "0":
        yield
        return
    try:
        shim = str(_shim_dir())
    except OSError as e:  # only a speed-up: start Ray untouched
        log.debug("no shim directory for Ray's processes: %s", e)
        yield
        return
    with _env_lock:
        old = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = shim if not old else f"{shim}{os.pathsep}{old}"
        try:
            yield
        finally:
            if old is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = old


def start_local_ray(num_cpus: int, **kwargs: Any) -> None:
    """`ray.init` for a local Ray of `num_cpus` CPUs, without the dashboard, the
    driver's copy of the workers' logs, or the import above; `kwargs` go to `ray.init`."""
    import ray

    kwargs = {"include_dashboard": False, "log_to_driver": False, **kwargs}
    with _pythonpath_for_children():
        ray.init(num_cpus=num_cpus, **kwargs)
