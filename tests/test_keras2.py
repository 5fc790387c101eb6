"""`--keras 2`: exact checks on Keras 2 (tf-keras) beside Keras 3, for real.

tf-keras is in the test extra, so these run everywhere the README's test command runs: a real Keras 2 in
a subprocess, a real MLflow store, the real rules.
"""

import sys
from pathlib import Path

import pytest

from claimlab.files import read_keras2
from claimlab.schema import Change, read_summary
from conftest import mlflow_runs

PROBE_FOLDER = Path(__file__).resolve().parent / "keras2_experiments"
TF_OPS_IDS = {"X3", "X12", "X14", "X25", "X26", "X31", "X34"}  # tf_ops: all exact, so all rerun on Keras 2


@pytest.fixture(scope="module")
def tf_ops_on_both(runner, tmp_path_factory):
    """tf_ops on Keras 3 (smoke), then `--keras 2` into the same store and results folder."""
    base = tmp_path_factory.mktemp("keras2_tf_ops")
    common = ["--tracking-uri", f"sqlite:///{base / 'mlflow.db'}", "--results-dir", base / "results"]
    keras3 = runner("tf_ops", "--profile", "smoke", *common)
    assert keras3.returncode == 0, keras3.stderr[-2000:]
    keras2 = runner("tf_ops", "--keras", "2", *common)
    assert keras2.returncode == 0, keras2.stderr[-2000:]
    return {"base": base, "results": base / "results", "uri": f"sqlite:///{base / 'mlflow.db'}",
            "output": keras2.stdout}


def test_keras2_checks_run_on_keras2_and_are_judged_by_the_same_rules(tf_ops_on_both):
    recorded = read_keras2(tf_ops_on_both["results"] / "tf_ops")
    assert recorded.versions["keras"].startswith("2.") and "tf-keras" in recorded.versions["keras"]
    assert read_summary(tf_ops_on_both["results"] / "tf_ops").versions["keras"].startswith("3.")
    assert {c.id for c in recorded.claims} == TF_OPS_IDS
    # X12 is TensorFlow's tf.add, whichever Keras is loaded: it broadcasts a (32,) bias on both versions
    assert recorded.checks["add_vs_bias_add"]["tf_add_raises_when_shapes_differ"] is False
    x12, x3 = recorded.claim("X12"), recorded.claim("X3")
    assert x12.verdict == "refuted" and x12.keras3_verdict == "refuted"
    assert "Keras 2." in x3.reason and "(tf-keras)" in x3.reason
    # X3's TF 1 op keeps its label: what TF 1 did is recorded, not judged
    assert "TF 1 behaviour" in x3.reason


def test_summary_ledger_and_mlflow_show_both_versions(tf_ops_on_both):
    summary_md = (tf_ops_on_both["results"] / "tf_ops" / "summary.md").read_text()
    assert "| claim | kind | verdict | Keras 2 | evidence |" in summary_md
    assert summary_md.count("**On Keras 2 (2.") == len(TF_OPS_IDS)
    ledger = (tf_ops_on_both["results"] / "README.md").read_text()
    row = next(line for line in ledger.splitlines() if line.startswith("| X12 |"))
    assert "Keras 2 (exact claims)" in ledger and "[❌ refuted](tf_ops/summary.md#x12) · Keras 3." in row
    assert row.split(" · ")[1].startswith("Keras 3.") and ": same |" in row
    runs = mlflow_runs(tf_ops_on_both["uri"], "tf_ops")["checks"]
    by_version = {run.data.tags["claimlab.keras"]: run for run in runs}
    assert set(by_version) == {"2", "3"}
    assert by_version["2"].data.tags["claimlab.keras_version"].startswith("2.")
    assert by_version["3"].data.tags["claimlab.keras_version"].startswith("3.")
    assert by_version["2"].data.tags["verdict.X12"] == "refuted"


def test_a_claim_that_differs_between_the_versions_is_reported_with_both_verdicts(runner, tmp_path):
    env = {"CLAIMLAB_EXPERIMENTS_PATH": str(PROBE_FOLDER)}
    common = ["--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--results-dir", tmp_path / "results"]
    keras3 = runner("keras2_probe", "--profile", "smoke", *common, env=env)
    assert keras3.returncode == 0, keras3.stderr[-2000:]
    keras2 = runner("keras2_probe", "--keras", "2", *common, env=env)
    assert keras2.returncode == 0, keras2.stderr[-2000:]
    (probe,) = read_keras2(tmp_path / "results" / "keras2_probe").claims
    assert (probe.keras3_verdict, probe.verdict) == ("refuted", "supported")
    assert probe.changed == (Change("ships_locally_connected_2d", keras3=False, keras2=True),)
    summary_md = (tmp_path / "results" / "keras2_probe" / "summary.md").read_text()
    assert "| [K1](#k1) | exact | ❌ refuted | ✅ supported |" in summary_md
    assert "**The library changed:** refuted on Keras 3." in summary_md
    assert "| ships_locally_connected_2d | False | True |" in summary_md
    row = next(line for line in (tmp_path / "results" / "README.md").read_text().splitlines() if "| K1 |" in line)
    assert "Keras 2.21" in row and "[✅ supported](keras2_probe/summary.md#k1) · Keras 3." in row and "differs" in row
    assert "K1" in keras2.stdout and "ships_locally_connected_2d: False -> True" in keras2.stdout


def test_without_tf_keras_the_option_exits_2_with_the_install_line(monkeypatch, tmp_path, capsys):
    from claimlab import cli

    monkeypatch.setitem(sys.modules, "tf_keras", None)  # what importlib sees when the package is absent
    code = cli.main(["tf_ops", "--keras", "2", "--results-dir", str(tmp_path)])
    assert code == 2
    assert 'pip install -e ".[keras2]"' in capsys.readouterr().err
    assert not (tmp_path / "tf_ops").exists()


@pytest.mark.parametrize("args, message", [
    (["bias_init", "--keras", "2"], "has no exact claims"),
    (["tf_ops", "--keras", "2", "--set", "dropout_calls=5"], "drop --set"),
    (["tf_ops", "--keras", "1"], "invalid choice"),
])
def test_usage_errors_of_the_option_exit_2_before_anything_runs(args, message, tmp_path, capsys):
    from claimlab import cli

    assert cli.main([*args, "--results-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_check_that_crashes_tensorflow_is_rerun_without_onednn_and_says_so(runner, tmp_path):
    env = {"CLAIMLAB_EXPERIMENTS_PATH": str(PROBE_FOLDER)}
    done = runner("keras2_crash_probe", "--keras", "2", "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}",
                  "--results-dir", tmp_path / "results", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    recorded = read_keras2(tmp_path / "results" / "keras2_crash_probe")
    assert recorded.versions["tensorflow_onednn"].startswith("off (with oneDNN on, the process crashed (SIGSEGV")
    assert recorded.claims[0].verdict == "supported"


def test_an_experiment_with_empirical_claims_has_only_its_exact_claims_judged_on_keras2():
    """`--keras 2` on an experiment that also trains (nonlinearity: E1a exact, E1b empirical) judges E1a on the
    Keras 2 values and leaves E1b alone: its trials ran on Keras 3, and an empty trials table is no evidence.
    (Judging every claim, as before, failed the run with a KeyError on E1b.) Judged here on the exact values
    the committed run recorded, so nothing is built."""
    from claimlab import keras2, registry

    experiment = registry.load("nonlinearity")
    summary = read_summary(Path(__file__).resolve().parent.parent / "results" / "nonlinearity")
    measured = {"checks": summary.checks, "config": {**experiment.config, **summary.config},
                "versions": {"tensorflow": "2.x", "keras": "2.x (tf-keras)"}}
    verdicts = keras2.judge(experiment, measured)
    assert list(verdicts) == ["E1a"]
    assert verdicts["E1a"].verdict == summary.claim("E1a").verdict
    assert verdicts["E1a"].reason.endswith("(measured on TensorFlow 2.x, Keras 2.x (tf-keras))")
