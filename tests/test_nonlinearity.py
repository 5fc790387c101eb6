"""nonlinearity: one real smoke run (verdicts, trials, the exact values of E1a), the answer's collapse
formula on hand-made matrices and on real Keras stacks, and the E1b rule on hand-made evidence."""

import numpy as np
import pandas as pd
import pytest

from conftest import assert_every_claim_judged

from claimlab import config, registry
from claimlab.verdict import Evidence

NAME = "nonlinearity"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["E1a", "E1b"]
ARMS = ["linear", "deep_linear", "deep_relu"]

# Parameter counts by hand, on MNIST-1D's 40 inputs and 10 classes.
LINEAR_PARAMS = 40 * 10 + 10  # 410
DEEP_PARAMS = (40 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10)  # 15,210
CHECK_DEEP_PARAMS = (40 * 64 + 64) + 4 * (64 * 64 + 64) + (64 * 10 + 10)  # 19,914


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict(smoke):
    assert_every_claim_judged(smoke, CLAIM_IDS, trials=6, source_file="001_448bd649d2fb709b.txt")


def test_trials_hold_every_arm_and_seed_with_the_hand_counted_parameters(smoke):
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, seed) for arm in ARMS for seed in (0, 1))
    params = trials.groupby("arm")["params/total"].unique().to_dict()
    assert {arm: list(values) for arm, values in params.items()} == {
        "linear": [LINEAR_PARAMS], "deep_linear": [DEEP_PARAMS], "deep_relu": [DEEP_PARAMS]}
    layers = trials.groupby("arm")["dense_layers"].unique().to_dict()
    assert {arm: list(values) for arm, values in layers.items()} == {"linear": [1], "deep_linear": [3], "deep_relu": [3]}
    for key in ("test/accuracy", "train_eval/accuracy", "collapse/test_accuracy", "collapse/prediction_agreement"):
        assert trials[key].between(0, 1).all(), key
    assert (trials["diverged"] == 0).all()
    by_arm = trials.set_index("arm")
    # After training, the answer's W, b still give the deep linear stack's logits (float32 round-off) and
    # its predictions; for the ReLU stack they do not.
    assert (by_arm.loc["deep_linear", "collapse/logits_max_abs_diff"] < 1e-4).all()
    assert (by_arm.loc["deep_linear", "collapse/prediction_agreement"] >= 0.999).all()
    np.testing.assert_allclose(by_arm.loc["deep_linear", "collapse/test_accuracy"],
                               by_arm.loc["deep_linear", "test/accuracy"], atol=0.0011)
    assert (by_arm.loc["linear", "collapse/logits_max_abs_diff"] < 1e-5).all()
    assert (by_arm.loc["deep_relu", "collapse/logits_max_abs_diff"] > 1e-2).all()


def test_e1a_measures_the_collapse_on_both_stacks(smoke):
    measured = smoke["checks"]["collapsed_layer_matches_keras_stack"]
    tolerance = EXPERIMENT.thresholds["collapse_tolerance"]
    assert measured["inputs"] == [1000, 40]  # MNIST-1D's test split, 40 steps flattened
    assert measured["trial_stack/dense_layers"] == 3 and measured["deep_stack/dense_layers"] == 6
    assert measured["trial_stack/collapsed_W_shape"] == measured["deep_stack/collapsed_W_shape"] == [10, 40]
    assert measured["trial_stack/stack_parameters"] == DEEP_PARAMS
    assert measured["deep_stack/stack_parameters"] == CHECK_DEEP_PARAMS
    assert measured["trial_stack/single_layer_parameters"] == LINEAR_PARAMS
    for stack in ("trial_stack", "deep_stack"):
        assert measured[f"{stack}/bias_part_max_abs"] > 0.1  # the biases really enter the formula
        assert measured[f"{stack}/same_predictions"] is True
        for key in ("logits_max_abs_diff", "probabilities_max_abs_diff", "single_dense_logits_max_abs_diff",
                    "single_dense_probabilities_max_abs_diff"):
            assert measured[f"{stack}/{key}"] <= tolerance, (stack, key, measured[f"{stack}/{key}"])
        assert measured[f"{stack}/relu_logits_max_abs_diff"] > 0.1  # the control: ReLU breaks the collapse
    # the judged value is the worst of the 5 draws of the weights; each draw's is the larger over the two stacks
    draws = measured["by_draw"]
    assert draws["seeds"] == [0, 1, 2, 3, 4] and len(set(draws["logits_max_abs_diff"])) > 1  # different weights
    assert measured["logits_max_abs_diff"] == max(draws["logits_max_abs_diff"])
    assert draws["logits_max_abs_diff"][0] == max(measured["trial_stack/logits_max_abs_diff"],
                                                  measured["deep_stack/logits_max_abs_diff"])  # draw 0's parts
    e1a = smoke["verdicts"]["E1a"]
    assert e1a.verdict == "supported"
    assert [c.match for c in e1a.measured.checked] == [True] * 5


def test_e1b_comparisons_agree_with_trials_csv(smoke):
    e1b = smoke["verdicts"]["E1b"]
    assert e1b.verdict == "inconclusive"  # two seeds are below the evidence floor
    comparisons = e1b.measured.comparisons
    assert [(c.name, c.judged) for c in comparisons] == [
        ("deep_linear - linear", True), ("deep_relu - deep_linear", True), ("deep_relu - linear", False)]
    assert [c.margin for c in comparisons[:2]] == [0.02, 0.02]
    accuracy = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy")
    for comparison in comparisons:
        arm, other = comparison.name.split(" - ")
        assert comparison.n == 2
        assert comparison.mean == pytest.approx((accuracy[arm] - accuracy[other]).mean(), rel=1e-12, abs=1e-15)
    summarised = {(a.metric, a.arm) for a in e1b.measured.arms}
    assert {("train_eval/accuracy", arm) for arm in ARMS} <= summarised
    assert {("collapse/prediction_agreement", "deep_linear"), ("collapse/prediction_agreement", "deep_relu")} <= summarised


# ---- the answer's formula --------------------------------------------------------------------------
def test_collapse_is_the_answers_three_layer_formula():
    rng = np.random.default_rng(0)
    sizes = (7, 5, 4, 3)  # x in R^7, then 5, 4 and 3 units
    W = [rng.normal(size=(out, inp)) for inp, out in zip(sizes, sizes[1:])]
    b = [rng.normal(size=out) for out in sizes[1:]]
    expected_W, expected_b = MODULE.answer_formula_3_layers(W[0], b[0], W[1], b[1], W[2], b[2])
    collapsed_W, collapsed_b = MODULE.collapse([w.T for w in W], b)  # Keras kernels are in x out
    np.testing.assert_allclose(collapsed_W, expected_W, rtol=1e-12)
    np.testing.assert_allclose(collapsed_b, expected_b, rtol=1e-12)
    x = rng.normal(size=7)
    h3 = W[2] @ (W[1] @ (W[0] @ x + b[0]) + b[1]) + b[2]  # h1, h2, h3 of the answer, before the softmax
    np.testing.assert_allclose(collapsed_W @ x + collapsed_b, h3, rtol=1e-12)


def test_collapse_by_hand_on_small_integers():
    # h1 = [[1, 2]] x + [1];  h2 = [[3], [-1]] h1 + [0, 2]  ->  W = [[3, 6], [-1, -2]], b = [3, 1]
    W, b = MODULE.collapse([np.array([[1.0], [2.0]]), np.array([[3.0, -1.0]])], [np.array([1.0]), np.array([0.0, 2.0])])
    np.testing.assert_array_equal(W, [[3.0, 6.0], [-1.0, -2.0]])
    np.testing.assert_array_equal(b, [3.0, 1.0])
    single_W, single_b = MODULE.collapse([np.array([[1.0, 2.0]])], [np.array([5.0, 6.0])])  # one layer: itself
    np.testing.assert_array_equal(single_W, [[1.0], [2.0]])
    np.testing.assert_array_equal(single_b, [5.0, 6.0])


def test_arms_build_the_declared_stacks(keras):
    import keras

    activations = {}
    for stack in ARMS:
        model = MODULE.build_model(stack, (40, 1), 10, (100, 100))
        dense = MODULE.dense_layers(model)
        activations[stack] = [layer.activation.__name__ for layer in dense]
        assert dense[-1].name == "logits" and isinstance(model.layers[-1], keras.layers.Softmax)
        probabilities = np.asarray(model(np.ones((2, 40, 1), dtype="float32")))
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert activations == {"linear": ["linear"], "deep_linear": ["linear"] * 3, "deep_relu": ["relu", "relu", "linear"]}
    with pytest.raises(ValueError, match="unknown stack"):
        MODULE.build_model("deep_tanh", (40, 1), 10, (100,))


def test_e1a_check_on_digits_images(keras):
    """The same check on the second dataset: 8x8x1 images flatten to the formula's 64-vector x."""
    cfg = config.resolve(EXPERIMENT, "smoke", {"dataset": "digits", "check_deep_units": "(16, 16)"})
    measured = MODULE.collapsed_layer_matches_keras_stack(cfg)
    assert measured["inputs"][1] == 64 and measured["trial_stack/collapsed_W_shape"] == [10, 64]
    assert measured["deep_stack/dense_layers"] == 3
    assert measured["logits_max_abs_diff"] <= cfg["collapse_tolerance"]
    assert measured["single_dense_probabilities_max_abs_diff"] <= cfg["collapse_tolerance"]
    assert measured["relu_stack_differs_from_its_collapse"] is True


# ---- the E1b rule on hand-made evidence --------------------------------------------------------------
def _evidence(accuracy, seeds=6):
    """accuracy(arm, seed) -> test accuracy; every other metric a rule reads is filled in."""
    rows = [{"arm": arm, "seed": seed, "test/accuracy": accuracy(arm, seed), "train_eval/accuracy": 0.5,
             "collapse/prediction_agreement": 1.0, "diverged": 0.0} for arm in ARMS for seed in range(seeds)]
    cfg = config.resolve(EXPERIMENT, "quick")
    return Evidence(pd.DataFrame(rows), {}, cfg, EXPERIMENT.if_diverged(cfg)), cfg


def noise(arm, seed):
    """Seed noise shared by the arms, plus a little of each arm's own, so every paired difference varies."""
    own = {"linear": 0.0, "deep_linear": 0.001 * (seed % 2), "deep_relu": 0.002 * (seed % 3 - 1)}[arm]
    return 0.003 * ((seed * 7) % 5 - 2) + own


def test_e1b_supported_when_depth_alone_adds_nothing_and_relu_adds_a_lot():
    means = {"linear": 0.32, "deep_linear": 0.322, "deep_relu": 0.66}
    evidence, cfg = _evidence(lambda arm, seed: means[arm] + noise(arm, seed))
    outcome = MODULE.e1b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "supported", outcome.reason
    assert outcome.details["parts"] == ["supported", "supported"]


def test_e1b_refuted_when_the_deep_linear_stack_beats_the_linear_model():
    means = {"linear": 0.32, "deep_linear": 0.40, "deep_relu": 0.66}
    evidence, cfg = _evidence(lambda arm, seed: means[arm] + noise(arm, seed))
    outcome = MODULE.e1b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "refuted", outcome.reason
    assert outcome.details["parts"] == ["refuted", "supported"]


def test_e1b_refuted_when_relu_adds_nothing_or_only_a_negligible_gain():
    means = {"linear": 0.32, "deep_linear": 0.32, "deep_relu": 0.32}
    evidence, cfg = _evidence(lambda arm, seed: means[arm] + noise(arm, seed))
    outcome = MODULE.e1b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "refuted", outcome.reason
    assert outcome.details["parts"] == ["supported", "refuted"]
    relu = next(c for c in outcome.comparisons if c.name == "deep_relu - deep_linear")
    assert relu.state == "negligible" and relu.judged
    # The lab's one decision tests equivalence first: a significant gain whose 90% CI lies inside
    # +-smallest_effect is negligible, and a negligible gain refutes "ReLU adds something".
    means["deep_relu"] = 0.326
    outcome = MODULE.e1b_rule(cfg).evaluate(_evidence(lambda arm, seed: means[arm] + noise(arm, seed))[0])
    relu = next(c for c in outcome.comparisons if c.name == "deep_relu - deep_linear")
    assert relu.ci_low > 0 and outcome.label() == "refuted (negligible: within +-0.02)", outcome.reason
    means["deep_relu"] = 0.40  # a gain well beyond the smallest effect supports
    assert MODULE.e1b_rule(cfg).evaluate(_evidence(lambda arm, seed: means[arm] + noise(arm, seed))[0]).verdict == (
        "supported")


@pytest.mark.parametrize("key,value,claim_id,printed", [
    ("equivalence_margin", "0.03", "E1b", "inside +-0.03"),
    ("smallest_effect", "0.05", "E1b", "inside +-0.05"),
    ("collapse_tolerance", "1e-06", "E1a", "<= 1e-06"),
])
def test_each_threshold_override_is_the_one_the_rule_text_names(key, value, claim_id, printed):
    cfg = config.resolve(EXPERIMENT, "smoke", overrides={key: value})
    claim = next(c for c in EXPERIMENT.claims if c.id == claim_id)
    assert printed in claim.rule_for(cfg).describe()
    assert printed not in claim.rule_for(config.resolve(EXPERIMENT, "smoke")).describe()
