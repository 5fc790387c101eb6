"""Ctrl-C / SIGTERM end the open runs KILLED, keep every finished trial, and --resume finishes the rest."""

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab import registry
from conftest import ROOT

TRIALS = 2 * len(registry.load("gap_vs_flatten").arms)  # every head, 2 smoke seeds


def trial_runs(uri):
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("gap_vs_flatten")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    return ([r for r in runs if r.data.tags.get("claimlab.role") == "parent"],
            [r for r in runs if r.data.tags.get("claimlab.role") == "trial"])


# In the runner's own process only TensorFlow trials run (claimlab.backend): the in-process case asks for it.
@pytest.mark.parametrize("signum,jobs,backend", [(signal.SIGINT, 1, "tensorflow"), (signal.SIGTERM, 2, "jax")],
                         ids=["ctrl-c-in-process", "sigterm-pool"])
def test_interrupted_run_is_killed_and_resume_runs_only_what_is_missing(runner, tmp_path, signum, jobs, backend):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["gap_vs_flatten", "--profile", "smoke", "--epochs", "1", "--jobs", jobs, "--backend", backend,
            "--tracking-uri", uri, "--results-dir", tmp_path / "results"]
    process = subprocess.Popen([sys.executable, str(ROOT / "runner.py"), *map(str, args)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    for line in process.stdout:  # wait until two trials have finished, then interrupt the third
        if line.startswith(f"[  2/{TRIALS}]") or time.time() > deadline:
            break
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr

    parents, trials = trial_runs(uri)
    assert [p.info.status for p in parents] == ["KILLED"]
    finished = [t for t in trials if t.info.status == "FINISHED"]
    assert len(finished) >= 2
    assert all(t.info.status in ("FINISHED", "KILLED") for t in trials)  # never left RUNNING
    (folder,) = (tmp_path / "results").glob("gap_vs_flatten@*")  # a variant: --epochs, and --backend
    kept = pd.read_csv(folder / "trials.csv")
    assert len(kept) == len(finished)

    resumed = runner(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(finished)} already finished in MLflow" in resumed.stdout
    parents, trials = trial_runs(uri)
    assert [p.info.status for p in parents] == ["FINISHED"]  # the interrupted parent, reopened and finished
    finished_after = [t for t in trials if t.info.status == "FINISHED"]
    assert len(finished_after) == TRIALS
    assert len({(t.data.params["arm"], t.data.params["seed"]) for t in finished_after}) == TRIALS
    # The trials that had finished were not run again: their runs are the very same.
    assert {t.info.run_id for t in finished} <= {t.info.run_id for t in finished_after}
    assert len(pd.read_csv(folder / "trials.csv")) == TRIALS


def test_a_signal_during_bookkeeping_waits_for_the_block_to_end():
    from claimlab.run import InterruptGuard

    steps = []
    with InterruptGuard() as guard:
        with pytest.raises(KeyboardInterrupt):
            with guard.bookkeeping():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)  # the handler has run by now; it must not have raised
                steps.append("created the run")
                with guard.bookkeeping():  # nested blocks deliver only when the outermost ends
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.05)
                steps.append("noted it as open")
        assert steps == ["created the run", "noted it as open"]
        with pytest.raises(KeyboardInterrupt):  # outside bookkeeping a signal interrupts at once
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
            steps.append("never")
    assert steps == ["created the run", "noted it as open"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the previous handlers are back
