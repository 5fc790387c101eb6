"""Training to a plateau (issue 26, item 1): an arm still improving when its budget ran out is under-trained,
and a comparison with an under-trained arm is inconclusive, unless the claim is about the budget."""

import math

import pandas as pd
import pytest

from claimlab import registry
from claimlab.report import _measured_table
from claimlab.schema import Measured
from claimlab.verdict import (FIT_FINAL, FIT_GAIN, INCONCLUSIVE, SUPPORTED, Better, Evidence, Plateau, fit_metrics)

PLATEAU = Plateau()  # the lab's default: train/accuracy, half a point over the last fifth


def test_the_gain_is_the_last_fifth_of_the_epochs_against_the_fifth_before():
    curve = [0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94]  # 10 epochs: fifths of 2
    final, gain = PLATEAU.gain(curve)
    assert final == pytest.approx(0.93) and gain == pytest.approx(0.93 - 0.875)
    assert PLATEAU.gain([0.5, 0.7])[1] == pytest.approx(0.2)  # a fifth of 2 epochs is 1 epoch
    assert all(math.isnan(v) for v in PLATEAU.gain([0.5]))  # one epoch has nothing before its last fifth
    assert fit_metrics({"train/accuracy": curve}, PLATEAU) == {FIT_FINAL: pytest.approx(0.93),
                                                               FIT_GAIN: pytest.approx(0.055)}
    assert fit_metrics({"train/loss": [1.0, 0.5]}, PLATEAU) == {} and fit_metrics({"train/accuracy": curve}, None) == {}


def evidence(gains: dict[str, float] | None) -> Evidence:
    accuracy = {"a": [0.90, 0.92, 0.91, 0.93, 0.90], "b": [0.80, 0.81, 0.80, 0.82, 0.79]}
    rows = [{"arm": arm, "seed": seed, "acc": value, **({FIT_GAIN: gains[arm]} if gains else {})}
            for arm, values in accuracy.items() for seed, value in enumerate(values)]
    return Evidence(trials=pd.DataFrame(rows), plateau=PLATEAU)


def test_a_comparison_with_an_arm_still_improving_is_inconclusive_unless_the_claim_is_about_the_budget():
    rule = Better("acc", "a", than="b", smallest_effect=0.01)
    assert rule.evaluate(evidence({"a": 0.001, "b": 0.004})).verdict == SUPPORTED  # both at their plateau
    outcome = rule.evaluate(evidence({"a": 0.001, "b": 0.03}))
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier == "under-trained: b"
    assert [(a.arm, a.under_trained) for a in outcome.arms] == [("a", None), ("b", True)]
    assert any(row.startswith("| acc | b (under-trained) |") for row in _measured_table(Measured.of(outcome)))
    budget = Better("acc", "a", than="b", smallest_effect=0.01, about=["budget"])
    assert budget.evaluate(evidence({"a": 0.001, "b": 0.03})).verdict == SUPPORTED
    assert "The claim is about what a fixed budget gives" in budget.describe()
    # trials that recorded no curve (results written before the plateau test) are not judged under-trained
    assert rule.evaluate(evidence(None)).verdict == SUPPORTED


def test_every_training_experiment_has_a_plateau_test_and_the_exact_ones_none():
    for experiment in registry.load_all():
        assert (experiment.plateau is not None) == experiment.trains, experiment.name
        if experiment.trains:
            assert "under-trained when its train/accuracy" in experiment.plateau.describe()


@pytest.mark.parametrize("name, claim_id", [("bias_init", "B1"), ("bias_init", "B2"), ("batch_size", "E4b")])
def test_the_claims_about_speed_or_a_fixed_budget_say_so_in_their_rule(name, claim_id):
    experiment = registry.load(name)
    claim = next(c for c in experiment.claims if c.id == claim_id)
    assert "The claim is about what a fixed budget gives" in claim.rule_for(experiment.config).describe()
