"""Shared fixtures: one real smoke run of gap_vs_flatten against a temporary SQLite MLflow store.

The smoke run is real (real Keras training, a real MLflow store); it is shared by the tests that only
read what it produced, so the suite stays within a few minutes on two cores.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def runner(*args, cwd=ROOT, timeout=600, env=None):
    """Run `python runner.py ARGS` in a fresh process; returns the CompletedProcess."""
    return subprocess.run([sys.executable, str(ROOT / "runner.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """python runner.py gap_vs_flatten --profile smoke, in this process, into a fresh store and folder."""
    from claimlab import cli

    base = tmp_path_factory.mktemp("smoke")
    uri = f"sqlite:///{base / 'mlflow.db'}"
    lines = []
    code = cli.main(["gap_vs_flatten", "--profile", "smoke", "--jobs", "1", "--tracking-uri", uri,
                     "--results-dir", str(base / "results")], out=lambda *a, **k: lines.append(" ".join(map(str, a))))
    return {"code": code, "uri": uri, "results": base / "results", "output": "\n".join(lines)}
