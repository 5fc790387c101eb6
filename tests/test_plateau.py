"""Training to a plateau (issue 26, item 1): an arm still improving when its budget ran out is under-trained,
and a comparison with an under-trained arm is inconclusive, unless the claim is about the budget."""

import math
import types

import pandas as pd
import pytest

from claimlab import registry
from claimlab.domains import Integer
from claimlab.report import _measured_table
from claimlab.schema import Measured
from claimlab.verdict import (FIT_EPOCHS, FIT_FINAL, FIT_GAIN, FIT_STOPPED, INCONCLUSIVE, SUPPORTED, Better, EarlyStop,
                              Evidence, Plateau, fit_metrics)

PLATEAU = Plateau()  # the lab's default: train/accuracy, half a point over the last fifth


def test_the_gain_is_the_last_fifth_of_the_epochs_against_the_fifth_before():
    curve = [0.1, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94]  # 10 epochs: fifths of 2
    final, gain = PLATEAU.gain(curve)
    assert final == pytest.approx(0.93) and gain == pytest.approx(0.93 - 0.875)
    assert PLATEAU.gain([0.5, 0.7])[1] == pytest.approx(0.2)  # a fifth of 2 epochs is 1 epoch
    assert all(math.isnan(v) for v in PLATEAU.gain([0.5]))  # one epoch has nothing before its last fifth
    assert fit_metrics({"train/accuracy": curve}, PLATEAU, {}) == {FIT_FINAL: pytest.approx(0.93),
                                                                   FIT_GAIN: pytest.approx(0.055)}
    assert fit_metrics({"train/loss": [1.0, 0.5]}, PLATEAU, {}) == {}
    assert fit_metrics({"train/accuracy": curve}, None, {}) == {}


UNTIL = Plateau(until="val/loss")  # each arm trains until its validation loss stops improving


def test_early_stopping_keeps_the_best_epoch_and_stops_after_patience_epochs_without_improvement():
    stop = EarlyStop("val/loss", patience=2)
    assert stop.replay([1.0, 0.8, 0.9, 0.85, 0.7]) == (1, 3)  # best at epoch 1, two epochs without: stop at 3
    assert stop.replay([1.0, 0.8, 0.7]) == (2, None)  # still improving at the cap
    assert stop.replay([1.0, float("nan"), float("nan")]) == (0, 2)  # a non-finite value never improves
    assert EarlyStop("val/accuracy", 1).replay([0.5, 0.6, 0.55]) == (1, 2)  # accuracy improves upward
    assert EarlyStop("val/loss", 1, min_delta=0.1).replay([1.0, 0.95, 0.7]) == (0, 1)  # 0.05 is no improvement
    assert EarlyStop("val/loss", 1, min_epochs=4).replay([1.0, 1.1, 1.2, 1.3, 1.4]) == (0, 3)  # not before 4 epochs


def test_an_arm_trained_until_a_plateau_is_under_trained_when_a_seed_reached_the_cap_still_improving():
    cfg = {"epochs": 5, "patience": 2}
    stopped = {"train/accuracy": [0.5, 0.7, 0.8, 0.79, 0.81], "val/loss": [1.0, 0.8, 0.7, 0.75, 0.72]}
    assert fit_metrics({key: values[:4] for key, values in stopped.items()}, UNTIL, cfg) == {
        FIT_EPOCHS: 4.0, FIT_STOPPED: 1.0, FIT_FINAL: 0.8}  # stopped after epoch 3; the best epoch's accuracy
    assert fit_metrics(stopped, UNTIL, cfg)[FIT_STOPPED] == 0.0  # ran all 5 epochs: the cap, not a plateau
    rows = [{"arm": arm, "seed": seed, "acc": acc, FIT_STOPPED: float(arm == "a" or seed)}
            for arm, acc in (("a", 0.9), ("b", 0.8)) for seed in range(5)]
    trials = pd.DataFrame(rows)
    trials["acc"] += trials["seed"] * 0.001 * (trials["arm"] == "a")
    evidence_until = Evidence(trials=trials, plateau=UNTIL, cfg=cfg)
    assert not evidence_until.under_trained("a") and evidence_until.under_trained("b")  # b's seed 0 hit the cap
    outcome = Better("acc", "a", than="b", smallest_effect=0.01).evaluate(evidence_until)
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier == "under-trained: b"
    # a trial that trains several models (prefixed curves) counts as its least trained one
    both = {**{f"n400/{key}": values[:4] for key, values in stopped.items()},
            **{f"position/{key}": values for key, values in stopped.items()}}
    assert fit_metrics(both, UNTIL, cfg) == {FIT_EPOCHS: 5.0, FIT_STOPPED: 0.0, FIT_FINAL: 0.8}
    assert fit_metrics({"n400/train/accuracy": [0.5, 0.9], "position/train/accuracy": [0.5, 0.6]}, PLATEAU,
                       {}) == {FIT_FINAL: pytest.approx(0.6), FIT_GAIN: pytest.approx(0.4)}
    text = UNTIL.describe(cfg)
    assert "until its val/loss has not improved for 2 epochs (at most 5 epochs)" in text


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
            assert "under-trained" in experiment.plateau.describe(experiment.config)


def test_an_experiment_that_trains_until_a_plateau_must_declare_its_patience_and_cap():
    from claimlab.registry import Experiment, _check_rules

    module = types.SimpleNamespace(TITLE="t", CLAIMS=[], CONFIG={"epochs": Integer(1, min=1)}, ARMS={"a": {}},
                                   run_trial=lambda arm, seed, cfg: None, PLATEAU=Plateau(until="val/loss"))
    with pytest.raises(TypeError, match="CONFIG must declare 'patience'"):
        _check_rules(Experiment("probe", module))


def test_both_training_loops_stop_at_the_plateau_and_keep_the_best_epoch(keras):
    """On TensorFlow (model.fit with claimlab.train's callback): training stops `patience` epochs after the
    best validation loss, and the model keeps that epoch's weights (it scores the best loss again). The same
    on JAX, side by side, is tests/test_backends.py's."""
    from claimlab import data, train

    def build(seed):
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
        return model

    digits = data.digits()
    models = train.build_per_seed([0, 1], build)
    histories = train.fit_per_seed(models, [0, 1], digits, 200, 32, stop=EarlyStop("val/loss", 3))
    for model, history in zip(models, histories):
        curve = history["val/loss"]
        assert len(curve) < 200 and len(curve) == curve.index(min(curve)) + 3 + 1
        assert train.evaluate(model, digits.x_val, digits.y_val, "val")["val/loss"] == pytest.approx(min(curve), rel=1e-5)


@pytest.mark.parametrize("name, claim_id", [("bias_init", "B1"), ("bias_init", "B2"), ("batch_size", "E4b")])
def test_the_claims_about_speed_or_a_fixed_budget_say_so_in_their_rule(name, claim_id):
    experiment = registry.load(name)
    claim = next(c for c in experiment.claims if c.id == claim_id)
    assert "The claim is about what a fixed budget gives" in claim.rule_for(experiment.config).describe()


def test_every_experiment_that_trains_to_a_validation_plateau_uses_the_labs_one_min_delta():
    """Four modules once declared Plateau(until="val/loss") without the min_delta, so their arms counted any
    decrease as progress and ran on to the cap (a quick bias_init seed: 400 epochs, its val/loss falling by
    1e-4 per 10 epochs). Every validation plateau is the lab's one rule, Plateau.validation_loss()."""
    from claimlab.verdict import VALIDATION_LOSS_MIN_DELTA

    until_val_loss = {e.name: e.plateau for e in registry.load_all() if e.plateau and e.plateau.until == "val/loss"}
    assert len(until_val_loss) >= 12
    assert {name: p.min_delta for name, p in until_val_loss.items() if p.min_delta != VALIDATION_LOSS_MIN_DELTA} == {}
