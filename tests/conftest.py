"""Shared fixtures: real smoke runs of the experiments against temporary SQLite MLflow stores.

The runs are real (real Keras training, a real MLflow store). Each experiment's smoke run happens once
per test session and is shared by the tests that read what it produced, so the suite stays within a
few minutes on two cores.
"""

import json
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


def smoke_run_of(name: str, base: Path, *extra: str) -> dict:
    """`python runner.py NAME --profile smoke EXTRA...` in this process, into a fresh store under `base`.

    Returns the tracking uri, the results root and the experiment's folder, summary.json, its checks and
    claims by id, and what the runner printed.
    """
    from claimlab import cli

    uri = f"sqlite:///{base / 'mlflow.db'}"
    lines = []
    code = cli.main([name, "--profile", "smoke", *extra, "--tracking-uri", uri, "--results-dir", str(base / "results")],
                    out=lambda *a, **k: lines.append(" ".join(map(str, a))))
    output = "\n".join(lines)
    assert code == 0, output
    folder = base / "results" / name
    summary = json.loads((folder / "summary.json").read_text())
    return {"code": code, "uri": uri, "results": base / "results", "folder": folder, "summary": summary,
            "checks": summary["checks"], "verdicts": {c["id"]: c for c in summary["claims"]}, "output": output}


def assert_every_claim_judged(run: dict, claim_ids: list[str], trials: int | None = None,
                              source_file: str | None = None) -> None:
    """A smoke run's summary judged each claim, in order, with one of the three verdicts, printed a terminal
    line for each, and (when given) finished all `trials` trials and quoted `source_file`."""
    summary = run["summary"]
    assert summary["status"] == "complete"
    if trials is not None:
        assert summary["trials"] == {"finished": trials, "planned": trials}
    assert [c["id"] for c in summary["claims"]] == claim_ids
    for claim in summary["claims"]:
        assert claim["verdict"] in ("supported", "refuted", "inconclusive"), claim
        assert source_file is None or claim["source"]["file"] == source_file, claim["source"]
        assert any(line.startswith(claim["id"] + " ") for line in run["output"].splitlines()), claim["id"]


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """smoke_runs(NAME, *extra): the smoke run of an experiment, made once per session."""
    made = {}

    def get(name: str, *extra: str) -> dict:
        if (name, *extra) not in made:
            made[(name, *extra)] = smoke_run_of(name, tmp_path_factory.mktemp(name), *extra)
        return made[(name, *extra)]

    return get


@pytest.fixture(scope="session")
def smoke_run(smoke_runs):
    """gap_vs_flatten's smoke run, trials in this process (--jobs 1) so the in-process path is covered."""
    return smoke_runs("gap_vs_flatten", "--jobs", "1")


def mlflow_runs(uri: str, experiment_name: str) -> dict:
    """The runs of one MLflow experiment by role: parent, checks, trial (lists)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    by_role = {"parent": [], "checks": [], "trial": []}
    for run in runs:
        by_role.setdefault(run.data.tags.get("claimlab.role"), []).append(run)
    return by_role
