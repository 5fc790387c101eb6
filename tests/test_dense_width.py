"""dense_width: one real smoke run (verdicts, trials, metrics, E6a's measured values), the module's helpers
on real Keras objects, and E6b's contrast-with-equivalence rule on hand-made evidence."""

import numpy as np
import pandas as pd
import pytest

from claimlab import config, registry
from claimlab.verdict import INCONCLUSIVE, REFUTED, SUPPORTED, Evidence

NAME = "dense_width"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["E6a", "E6b", "E6c"]
DIGITS_WIDTHS = [8, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208]  # ratio x 64, by hand
MNIST1D_WIDTHS = [5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130]  # ratio x 40, by hand


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict_and_every_trial_runs(smoke):
    summary = smoke["summary"]
    assert summary.status == "complete" and (summary.trials.finished, summary.trials.planned) == (28, 28)
    assert [c.id for c in summary.claims] == CLAIM_IDS
    for claim in summary.claims:
        assert claim.verdict in ("supported", "refuted", "inconclusive"), claim
        assert any(line.startswith(claim.id) for line in smoke["output"].splitlines())
    # Two seeds are below the evidence floor: E6b must say so, not decide.
    e6b = smoke["verdicts"]["E6b"]
    assert e6b.verdict == "inconclusive" and e6b.qualifier == "too few seeds: 2 < 3"
    judged = [c for c in e6b.measured.comparisons if c.judged]
    assert [c.name for c in judged] == ["multiples - neighbours"] and judged[0].margin == 0.01
    reported = [c.name for c in e6b.measured.comparisons if not c.judged]
    assert reported == ["w0.125F - chance", "w0.25F - chance", "w0.5F - chance", "w0.75F - chance",
                        "bump at 1F (multiple)", "bump at 2F (multiple)", "bump at 3F (multiple)",
                        "bump at 1.5F (placebo, no multiple)", "bump at 2.5F (placebo, no multiple)"]
    assert (smoke["folder"] / "accuracy_vs_width.png").stat().st_size > 1000


def test_trials_have_the_planned_arms_widths_and_parameter_counts(smoke):
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, s) for arm in MODULE.ARMS for s in (0, 1))
    for column in ("test/accuracy", "test/loss", "train_eval/accuracy", "units", "features", "params/total", "diverged"):
        assert column in trials, column
    units = trials.groupby("arm")["units"].first()
    assert [int(units[MODULE.arm_name(r)]) for r in MODULE.RATIOS] == DIGITS_WIDTHS
    assert (trials["features"] == 64).all() and (trials["diverged"] == 0).all()
    # Flatten(8x8) -> Dense(u) -> Dense(10): (64 u + u) + (10 u + 10); w1F (u = 64): 4,160 + 650 = 4,810.
    params = trials.groupby("arm")["params/total"].first()
    assert params["w1F"] == 4810
    assert all(params[MODULE.arm_name(r)] == 75 * u + 10 for r, u in zip(MODULE.RATIOS, DIGITS_WIDTHS))
    assert trials["test/accuracy"].between(0, 1).all()


def test_e6a_measures_full_connectivity_on_real_dense_layers(smoke):
    measured = smoke["checks"]["dense_unit_connectivity"]
    assert smoke["verdicts"]["E6a"].verdict == "supported", smoke["verdicts"]["E6a"].reason
    assert measured["kernel_shape_784_to_32"] == [784, 32] and measured["parameters_784_to_32"] == 785 * 32 == 25_120
    assert measured["kernel_shape_10_to_5"] == [10, 5] and measured["parameters_10_to_5"] == 55
    assert measured["features_reaching_every_unit_64_to_16"] == 64
    assert measured["kernel_zero_entries_20_to_64"] == 0 and measured["parameters_20_to_64"] == 20 * 64 + 64
    assert measured["jacobian_minus_kernel_max_abs"] == 0.0  # the gradient of x @ K + b is K, copied
    assert measured["relu_units_seeing_some_but_not_all_features"] == 0
    assert 0.0 < measured["relu_active_share_784_to_32"] < 1.0  # the ReLU did switch units off: the count means something


def test_e6b_numbers_agree_with_trials_csv(smoke):
    accuracy = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy")
    multiples = accuracy[["w1F", "w2F", "w3F"]].mean(axis=1)
    neighbours = accuracy[["w0.75F", "w1.25F", "w1.75F", "w2.25F", "w2.75F", "w3.25F"]].mean(axis=1)
    comparisons = {c.name: c for c in smoke["verdicts"]["E6b"].measured.comparisons}
    assert comparisons["multiples - neighbours"].mean == pytest.approx((multiples - neighbours).mean(), abs=1e-12)
    placebo = accuracy["w1.5F"] - (accuracy["w1.25F"] + accuracy["w1.75F"]) / 2
    assert comparisons["bump at 1.5F (placebo, no multiple)"].mean == pytest.approx(placebo.mean(), abs=1e-12)
    assert comparisons["w0.125F - chance"].mean == pytest.approx(accuracy["w0.125F"].mean() - 0.1, abs=1e-12)


def test_e6c_numbers_agree_with_trials_csv(smoke):
    accuracy = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy")
    (judged,) = [c for c in smoke["verdicts"]["E6c"].measured.comparisons if c.judged]
    assert judged.name == "w0.5F - w3.25F + 0.01"
    assert judged.mean == pytest.approx((accuracy["w0.5F"] - accuracy["w3.25F"]).mean() + 0.01, abs=1e-12)


# ---- the arms and helpers ------------------------------------------------------------------------------
def test_widths_are_whole_on_both_datasets_and_neighbours_are_symmetric():
    assert len(MODULE.ARMS) == 14
    assert [MODULE.width(r, 64) for r in MODULE.RATIOS] == DIGITS_WIDTHS
    assert [MODULE.width(r, 40) for r in MODULE.RATIOS] == MNIST1D_WIDTHS
    assert MODULE.NEIGHBOURS[2] == (1.75, 2.25) and MODULE.NEIGHBOURS[1.5] == (1.25, 1.75)
    with pytest.raises(ValueError, match="not a positive whole number"):
        MODULE.width(0.125, 12)  # 1.5 units
    terms = MODULE.multiples_terms()
    assert sum(c for c, _, _ in terms) == pytest.approx(0.0)  # a contrast: equal accuracies give d = 0
    assert sorted(arm for _, _, arm in terms) == sorted(
        ["w1F", "w2F", "w3F", "w0.75F", "w1.25F", "w1.75F", "w2.25F", "w2.75F", "w3.25F"])


def test_connectivity_of_a_real_dense_layer_with_fewer_units_than_features(keras):
    case = MODULE.connectivity(10, 5, probe_examples=3, seed=0)
    assert case["kernel_shape"] == [10, 5] and case["parameters"] == 10 * 5 + 5
    assert case["kernel_zero_entries"] == 0 and case["min_features_reaching_a_unit"] == 10
    assert case["jacobian_minus_kernel"] == 0.0 and case["relu_partial"] == 0


def test_model_counts_two_hidden_layers_of_the_swept_width_on_mnist1d_shapes(keras):
    cfg = {**config.resolve(EXPERIMENT, "smoke"), "hidden_layers": 2}
    model = MODULE.build_model(5, (40, 1), 10, cfg)
    # (40 * 5 + 5) + (5 * 5 + 5) + (5 * 10 + 10) = 205 + 30 + 60
    assert model.count_params() == 295
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == [5, 5, 10]


# ---- E6b's rule on hand-made evidence ------------------------------------------------------------------
def evidence_with(offset_of_multiples, noise=0.004, seeds=6):
    """Every arm at 0.95 + seed noise; the multiples of F `offset_of_multiples` higher."""
    rng = np.random.default_rng(1)
    rows = []
    for arm, spec in MODULE.ARMS.items():
        bonus = offset_of_multiples if spec["width_ratio"] in MODULE.MULTIPLES else 0.0
        for seed in range(seeds):
            rows.append({"arm": arm, "seed": seed, "test/accuracy": 0.95 + bonus + rng.normal(0, noise),
                         "diverged": 0.0})
    cfg = config.resolve(EXPERIMENT, "quick")
    return Evidence(pd.DataFrame(rows), cfg=cfg, if_diverged=EXPERIMENT.if_diverged(cfg)), cfg


@pytest.mark.parametrize("offset,verdict,state", [(0.0, REFUTED, "negligible"), (0.03, SUPPORTED, "above 0"),
                                                  (-0.03, REFUTED, "below 0")])
def test_e6b_rule_refutes_a_negligible_contrast_first_then_decides_by_sign(offset, verdict, state):
    evidence, cfg = evidence_with(offset)
    outcome = MODULE.e6b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == verdict, outcome.reason
    judged = [c for c in outcome.comparisons if c.judged]
    assert len(judged) == 1 and judged[0].state == state and judged[0].margin == 0.01
    assert judged[0].mean == pytest.approx(offset, abs=0.005)


def test_e6b_rule_is_inconclusive_when_noise_hides_a_small_difference():
    evidence, cfg = evidence_with(0.0, noise=0.05, seeds=4)
    outcome = MODULE.e6b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == INCONCLUSIVE, outcome.reason


# ---- E6c's rule on hand-made evidence: one-sided, a narrower layer that is better does not count against it
def evidence_narrow(narrow_minus_widest, noise=0.004, seeds=6):
    """Every arm at 0.95 + seed noise; the 0.5F arm `narrow_minus_widest` above the widest."""
    rng = np.random.default_rng(2)
    rows = [{"arm": arm, "seed": seed, "diverged": 0.0,
             "test/accuracy": 0.95 + (narrow_minus_widest if spec["width_ratio"] == 0.5 else 0.0) + rng.normal(0, noise)}
            for arm, spec in MODULE.ARMS.items() for seed in range(seeds)]
    cfg = config.resolve(EXPERIMENT, "quick")
    return Evidence(pd.DataFrame(rows), cfg=cfg, if_diverged=EXPERIMENT.if_diverged(cfg)), cfg


@pytest.mark.parametrize("difference,verdict", [(0.0, SUPPORTED), (0.03, SUPPORTED), (-0.03, REFUTED)])
def test_e6c_is_non_inferiority_of_half_the_features_against_the_widest(difference, verdict):
    evidence, cfg = evidence_narrow(difference)
    outcome = MODULE.e6c_rule(cfg).evaluate(evidence)
    assert outcome.verdict == verdict, outcome.reason
    (judged,) = [c for c in outcome.comparisons if c.judged]
    assert judged.mean == pytest.approx(difference + cfg["no_loss_margin"], abs=0.005)
    assert {c.name for c in outcome.comparisons if not c.judged} == {
        "w0.125F - w3.25F + 0.01", "w0.25F - w3.25F + 0.01", "w0.75F - w3.25F + 0.01"}

