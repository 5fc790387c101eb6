"""Exact claims on Keras 2 beside Keras 3: `python runner.py NAME --keras 2`.

Most of the sources were written against Keras 2 or TensorFlow 1, so a claim "refuted on Keras 3" leaves a
writer asking whether the answer was wrong when it was written or whether the library changed. This module
runs an experiment's exact checks again on Keras 2 and judges them with the same rules.

How: Keras 2 lives on as tf-keras (`pip install -e ".[keras2]"`), on the same TensorFlow. Which Keras a
process uses is fixed when it is first imported, so the checks run in a subprocess (`python -m
claimlab.keras2`) that sets TF_USE_LEGACY_KERAS=1 (so `tf.keras` is tf-keras) and makes `import keras`
resolve to tf-keras before anything imports it. The check functions are the same ones the Keras 3 run
calls; where the two APIs differ they branch on `claimlab.checks.keras_major()`, each branch marked.

The parent process judges the returned values with the claims' own rules, writes results/NAME/keras2.json,
logs one MLflow run tagged `claimlab.keras=2` (the Keras 3 run's `exact-checks` child is tagged
`claimlab.keras=3`), and rewrites summary.md and the ledgers, which show both verdicts side by side.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from claimlab import config, files, registry, report, scope, tracking
from claimlab.errors import RunFailure, UsageError
from claimlab.paths import PROJECT_ROOT
from claimlab.provenance import git_commit, package_versions
from claimlab.report import keras2_changes
from claimlab.run import judge as judge_claims, run_checks
from claimlab.schema import Keras2Claim, Keras2Record, Measured, Summary, read_summary
from claimlab.verdict import Evidence

INSTALL = 'pip install -e ".[keras2]"'
CHECK_TIMEOUT_SECONDS = 600


def require_tf_keras() -> None:
    """Exit 2 with the install line when tf-keras is missing (it is an optional extra)."""
    if importlib.util.find_spec("tf_keras") is None:
        raise UsageError(f"--keras 2 needs tf-keras (Keras 2 on this TensorFlow): {INSTALL}")


def has_exact_claims(experiment) -> bool:
    return any(claim.kind == "exact" for claim in experiment.claims)


# ---- the subprocess: the checks on Keras 2 ---------------------------------------------------------
def _use_keras2() -> None:
    """Make this process's Keras tf-keras. Must run before anything imports keras or tensorflow.keras."""
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tf_keras

    sys.modules["keras"] = tf_keras  # `import keras` / `from keras import layers` in the checks get Keras 2


def _measure_here(name: str, profile: str) -> dict:
    """In the Keras 2 subprocess: every exact check of `name`, with the versions they ran on."""
    _use_keras2()
    import keras
    import tensorflow as tf

    experiment = registry.load(name)
    cfg = config.resolve(experiment, profile)
    checks = run_checks(experiment, cfg)
    versions = {**package_versions(), "tensorflow": tf.__version__, "keras": f"{keras.__version__} (tf-keras)"}
    if not keras.__version__.startswith("2."):
        raise RuntimeError(f"expected Keras 2 in the subprocess, got keras {keras.__version__}")
    return {"checks": checks, "versions": versions, "config": cfg}


def main(argv: list[str]) -> int:
    """`python -m claimlab.keras2 NAME PROFILE OUT.json` (the runner calls it; not a user command)."""

    name, profile, out = argv
    measured = _measure_here(name, profile)
    Path(out).write_text(json.dumps(files.json_safe(measured), default=repr))
    return 0


# ---- the parent: run, judge, record ------------------------------------------------------------------
def measure(name: str, profile: str) -> dict:
    """The exact checks of `name` on Keras 2, in a subprocess: {"checks", "versions", "config"}.

    A subprocess that TensorFlow crashes (a signal, not a Python error) runs once more with TensorFlow's
    oneDNN kernels off, and the versions say so: tf-keras 2.21's Conv2D gradient at stride 2 crashes in
    oneDNN's conv2d_backprop_filter on this machine's CPU (E8a's check), the same gradient without oneDNN
    does not."""
    done = _run_subprocess(name, profile, {})
    if done["crashed"]:
        first = done["why"]
        done = _run_subprocess(name, profile, {"TF_ENABLE_ONEDNN_OPTS": "0"})
        if "measured" in done:
            done["measured"]["versions"]["tensorflow_onednn"] = f"off (with oneDNN on, the process {first})"
    if "measured" not in done:
        raise RunFailure(f"{name}: the Keras 2 checks {done['why']}")
    return done["measured"]


_TF_LOG_LINE = re.compile(r"^(WARNING|[IWEF]\d{4} |To enable the following)")


def _run_subprocess(name: str, profile: str, extra_env: dict) -> dict:
    with tempfile.TemporaryDirectory(prefix="claimlab-keras2-") as scratch:
        out = Path(scratch) / "checks.json"
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3", **extra_env,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        try:
            done = subprocess.run([sys.executable, "-m", "claimlab.keras2", name, profile, str(out)], env=env,
                                  capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return {"crashed": False, "why": f"took over {CHECK_TIMEOUT_SECONDS} s"}
        if done.returncode == 0 and out.exists():
            return {"crashed": False, "measured": json.loads(out.read_text())}
        lines = [line for line in done.stderr.strip().splitlines() if line.strip() and not _TF_LOG_LINE.match(line)]
        last = (lines or ["no message"])[-1][:300]
        signal_number = -done.returncode if done.returncode < 0 else done.returncode - 128
        if done.returncode < 0 or done.returncode in (134, 139):  # killed by a signal (directly, or via a shell)
            return {"crashed": True, "why": f"crashed ({signal.Signals(signal_number).name}: {last})"}
        return {"crashed": False, "why": f"failed: {last}"}


def judge(experiment, measured: dict) -> dict:
    """Each exact claim's own rule on the Keras 2 values: {claim id: Outcome}."""
    import pandas as pd

    evidence = Evidence(trials=pd.DataFrame(), checks=measured["checks"], cfg=measured["config"])
    # Not complete: the empirical claims are not judged here (their trials ran on Keras 3), only marked
    verdicts = judge_claims(experiment, evidence, False, 0, 0, measured["versions"])
    return {claim.id: verdicts[claim.id] for claim in experiment.claims if claim.kind == "exact"}


def record(experiment, measured: dict, verdicts: dict, keras3_summary: Summary | None, command: str,
           run_id: str, seconds: float) -> Keras2Record:
    """keras2.json's content: each exact claim's Keras 2 verdict beside its Keras 3 one, and what changed."""

    commit, dirty = git_commit()
    claims = []
    for claim_id, outcome in verdicts.items():
        before = keras3_summary.claim(claim_id) if keras3_summary else None
        claims.append(Keras2Claim(
            id=claim_id, verdict=outcome.verdict, qualifier=outcome.qualifier, reason=outcome.reason,
            measured=Measured.of(outcome), keras3_verdict=before.verdict if before else None,
            same_verdict=bool(before) and before.verdict == outcome.verdict,
            changed=keras2_changes(before, outcome.checked)))
    return Keras2Record(
        experiment=experiment.name, keras=2, versions=measured["versions"],
        keras3_versions=keras3_summary.versions if keras3_summary else None, command=command, commit=commit,
        dirty=dirty, wall_seconds=seconds, mlflow_run_id=run_id,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        claims=tuple(claims), checks=measured["checks"])


def log_run(tracker, measured: dict, verdicts: dict) -> str:
    """One MLflow run of the Keras 2 checks, tagged with the versions, beside the Keras 3 `exact-checks`."""

    versions = measured["versions"]
    return tracker.log_checks("exact-checks-keras2", {
        "claimlab.keras": "2", "claimlab.keras_version": versions["keras"],
        **{f"version.{name}": version for name, version in versions.items()},
        **{f"verdict.{claim_id}": outcome.verdict for claim_id, outcome in verdicts.items()},
    }, measured["checks"], measured["config"])


def profile_of(results_dir: Path, fallback: str) -> str:
    """The profile of the Keras 3 results in `results_dir`, so both versions check the same config."""
    summary = read_summary(results_dir)
    return summary.profile if summary else fallback


def run_keras2(experiment, profile: str, tracking_uri: str, results_root: Path, command: str, out) -> Keras2Record:
    """The whole `--keras 2` run of one experiment; returns keras2.json's content."""

    started = time.perf_counter()
    out(f"{experiment.name}: exact checks on Keras 2 (profile {profile}, the Keras 3 results' own)", flush=True)
    measured = measure(experiment.name, profile)
    verdicts = judge(experiment, measured)
    run_id = log_run(tracking.Tracker(tracking_uri, experiment.name), measured, verdicts)
    results_dir = results_root / experiment.name
    keras3_summary = read_summary(results_dir)
    content = record(experiment, measured, verdicts, keras3_summary, command, run_id, time.perf_counter() - started)
    with files.results_lock(results_root):
        results_dir.mkdir(parents=True, exist_ok=True)
        files.atomic_write_text(results_dir / files.KERAS2_FILE, json.dumps(content.to_json(), indent=2, default=repr) + "\n")
        if keras3_summary:
            scope_report = scope.read(results_root, experiment.name) if experiment.settings else None
            report.rewrite_summary_markdown(results_dir, (scope_report or {}).get("claims"))
        report.write_ledger(results_root)
    print_table(content, out)
    out(f"\nresults: {results_dir / files.KERAS2_FILE}   MLflow: run {run_id} (tag claimlab.keras=2)", flush=True)
    return content


def print_table(content: Keras2Record, out) -> None:
    out(f"{content.experiment}: exact claims on Keras {content.versions['keras']} "
        f"(TensorFlow {content.versions['tensorflow']}) beside Keras 3")
    out(f"  {'claim':<6} {'Keras 3':<13} {'Keras 2':<13} what changed")
    for c in content.claims:
        changed = "; ".join(f"{d.quantity}: {d.keras3!r} -> {d.keras2!r}" for d in c.changed)
        out(f"  {c.id:<6} {c.keras3_verdict or 'not run':<13} {c.verdict:<13} {changed[:160] or '-'}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
