"""A local Ray's processes start without `rfc3987_syntax` (its import builds a parser
for seconds of CPU): a real child process started inside the block cannot import it,
jsonschema still imports, and this process's environment is restored after."""

from __future__ import annotations

import os
import subprocess
import sys

from forgekit.evals.ray_start import _pythonpath_for_children

PROBE = ("import sys, jsonschema; import importlib.util as u; "
         "print('rfc3987_syntax' in sys.modules, u.find_spec('jsonschema') is not None)")


def _child() -> str:
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True, timeout=120).stdout.strip()


def test_rays_processes_skip_the_costly_import(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere")
    with _pythonpath_for_children():
        assert os.environ["PYTHONPATH"].endswith(os.pathsep + "/somewhere")
        assert _child() == "False True"  # jsonschema imported, without it
    assert os.environ["PYTHONPATH"] == "/somewhere"
    monkeypatch.setenv("FORGEKIT_RAY_SHIM", "0")
    with _pythonpath_for_children():
        assert os.environ["PYTHONPATH"] == "/somewhere"
