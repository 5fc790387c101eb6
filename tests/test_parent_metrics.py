"""Parent runs carry the verdicts' numbers as metrics (so runs of one experiment compare in MLflow), and
the runner's last line links to the parent run in the UI's Model-training view."""

import math

import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab.tracking import metric_key, parent_metrics
from claimlab.verdict import REFUTED, SUPPORTED, VERDICT_CODE, ArmSummary, Comparison, Outcome

from conftest import mlflow_runs


@pytest.fixture(scope="module")
def parent(smoke_run):
    (run,) = mlflow_runs(smoke_run["uri"], "gap_vs_flatten")["parent"]
    return run


def test_a_claim_decided_by_one_comparison_logs_its_code_difference_and_interval(smoke_run, parent):
    metrics, g4 = parent.data.metrics, smoke_run["verdicts"]["G4"]
    assert metrics["G4/verdict_code"] == VERDICT_CODE[g4.verdict]
    (headline,) = g4.measured.comparisons
    for key, field in (("difference", "mean"), ("ci_low", "ci_low"), ("ci_high", "ci_high")):
        assert metrics[f"G4/{key}"] == pytest.approx(getattr(headline, field), rel=1e-9)
        assert metrics[f"G4/gap - flatten/{key}"] == pytest.approx(getattr(headline, field), rel=1e-9)


def test_a_ranking_logs_every_pair_but_no_single_difference(smoke_run, parent):
    metrics, g1 = parent.data.metrics, smoke_run["verdicts"]["G1"]
    comparisons = g1.measured.comparisons
    assert len(comparisons) == 4 and comparisons[0].name == "gap - gmp"
    assert "G1/difference" not in metrics
    for comparison in comparisons:
        assert metrics[f"G1/{comparison.name}/difference"] == pytest.approx(comparison.mean, rel=1e-9)
    assert metrics["G1/verdict_code"] == VERDICT_CODE[g1.verdict]


def test_arm_means_agree_with_trials_csv(smoke_run, parent):
    trials = pd.read_csv(smoke_run["folder"] / "trials.csv")
    expected = trials.loc[trials["arm"] == "gap", "test/accuracy"].mean()
    assert parent.data.metrics["arm/gap/test/accuracy/mean"] == pytest.approx(expected, rel=1e-9)
    low, high = (parent.data.metrics[f"arm/gap/test/accuracy/{end}"] for end in ("ci_low", "ci_high"))
    assert low <= expected <= high


def test_the_last_line_links_to_the_parent_run_in_the_model_training_view(smoke_run, parent):
    last = smoke_run["output"].splitlines()[-1]
    assert last.startswith("results: ")
    assert f"#/experiments/{parent.info.experiment_id}/runs/{parent.info.run_id}?" in last
    assert "http://127.0.0.1:5000/" in last and "workflowType=machine_learning" in last
    experiment = MlflowClient(tracking_uri=smoke_run["uri"]).get_experiment(parent.info.experiment_id)
    assert experiment.name == "gap_vs_flatten"


def comparison(name, mean, low, high, metric="test/accuracy", judged=True):
    return Comparison(name, metric, mean, low, high, 5, SUPPORTED, "above 0", judged=judged)


def test_outcomes_become_metric_keys_mlflow_accepts_without_non_finite_values():
    verdicts = {
        "A": Outcome(SUPPORTED, "one comparison decided",
                     arms=[ArmSummary("test/accuracy", "gap", 5, 0.9, 0.01, 0.88, 0.92),
                           ArmSummary("test/accuracy", "flat", 5, math.nan, math.nan, math.nan, math.nan)],
                     comparisons=[comparison("gap - flat", 0.1, 0.05, math.nan),
                                  comparison("x [reported]", 0.2, 0.1, 0.3, judged=False)]),
        "B": Outcome(REFUTED, "the same pair on two metrics",
                     comparisons=[comparison("a - b", -0.1, -0.2, -0.05, metric="loss"),
                                  comparison("a - b", -0.3, -0.4, -0.2, metric="val/loss")]),
    }
    assert parent_metrics(verdicts) == {
        "A/verdict_code": 1.0,
        "A/difference": 0.1, "A/ci_low": 0.05,  # the headline's ci_high is NaN: left out
        "A/gap - flat/difference": 0.1, "A/gap - flat/ci_low": 0.05,
        "A/x _reported_/difference": 0.2, "A/x _reported_/ci_low": 0.1, "A/x _reported_/ci_high": 0.3,
        "arm/gap/test/accuracy/mean": 0.9, "arm/gap/test/accuracy/ci_low": 0.88,
        "arm/gap/test/accuracy/ci_high": 0.92,
        "B/verdict_code": -1.0,  # two judged comparisons: no headline
        "B/a - b on loss/difference": -0.1, "B/a - b on loss/ci_low": -0.2, "B/a - b on loss/ci_high": -0.05,
        "B/a - b on val/loss/difference": -0.3, "B/a - b on val/loss/ci_low": -0.4,
        "B/a - b on val/loss/ci_high": -0.2,
    }


def test_metric_keys_never_normalise_to_another_path():
    # MLflow rejects a key that a path normalisation would change (//, ./, ../, a trailing /).
    assert metric_key("C", "x//y/./z", "..", "w/") == "C/x/y/z/w"
    assert metric_key("C", "a - b (n=400)") == "C/a - b _n_400_"
