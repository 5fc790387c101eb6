"""weight_init_depth: one real smoke run (verdicts, trials, E3a's measured values and its closed-form
theory gains), the scale measurement on a hand-made net whose answer is known exactly, the helpers on
hand-made numbers, and the E3b rule on hand-made evidence."""

import math

import numpy as np
import pandas as pd
import pytest

from conftest import assert_every_claim_judged

from claimlab import config, registry
from claimlab.verdict import Evidence

NAME = "weight_init_depth"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["E3a", "E3b"]
ARMS = ["he", "glorot", "normal_001", "normal_1"]

# Parameter counts by hand. Digits: 64 pixels; Dense(64) = 64*64 + 64 = 4,160 per hidden layer.
MLP5_DIGITS = 5 * (64 * 64 + 64) + (64 * 10 + 10)  # 21,450: E3b's net under the smoke profile (5 hidden layers)
MLP20_DIGITS = 20 * (64 * 64 + 64) + (64 * 10 + 10)  # 83,850: E3b's net in the other profiles
MLP30_DIGITS = 30 * (64 * 64 + 64) + (64 * 10 + 10)  # 125,450: E3a's deepest MLP
# E3a's deepest CNN on the 12x12 canvas: Conv(1 -> 16), 29 x Conv(16 -> 16), Flatten(12*12*16) -> Dense(10).
CNN30_CANVAS12 = (3 * 3 * 1 * 16 + 16) + 29 * (3 * 3 * 16 * 16 + 16) + (12 * 12 * 16 * 10 + 10)  # 90,490


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict(smoke):
    assert_every_claim_judged(smoke, CLAIM_IDS, trials=8, source_file="002_6725717de9344925.txt")
    assert (smoke["folder"] / "scale_per_layer.png").exists()


def test_trials_hold_every_arm_and_seed_with_the_hand_counted_parameters(smoke):
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, seed) for arm in ARMS for seed in (0, 1))
    assert (trials["params/total"] == MLP5_DIGITS).all() and (trials["hidden_layers"] == 5).all()
    by_arm = trials.set_index("arm")
    # Each trained net's own scales before training, as the theory orders them: g^4 = 1, 0.25, 1e-5, 1e3.
    assert by_arm.loc["he", "init/forward_ratio"].between(0.3, 3).all()
    assert by_arm.loc["glorot", "init/forward_ratio"].between(0.05, 0.8).all()
    assert (by_arm.loc["normal_001", "init/forward_ratio"] < 1e-3).all()
    assert (by_arm.loc["normal_1", "init/forward_ratio"] > 1e2).all()
    assert (by_arm.loc["normal_1", "init/sigmoid_saturated_share"] == 1.0).all()
    assert (by_arm.loc["he", "init/sigmoid_saturated_share"] == 0.0).all()
    # Cross-entropy at init: uniform predictions (log 10) when the logits vanish.
    np.testing.assert_allclose(by_arm.loc["normal_001", "init/loss"], math.log(10), rtol=1e-5)
    for arm in ("he", "glorot", "normal_001"):
        assert (by_arm.loc[arm, "diverged"] == 0).all() and by_arm.loc[arm, "test/accuracy"].between(0, 1).all()


def test_e3a_theory_gains_and_shapes_are_the_closed_form_ones(smoke):
    measured = smoke["checks"]["scales_across_depths_and_inits"]
    assert measured["depths"] == [5, 10, 20, 30] and measured["probe_examples"] == 64
    assert measured["mlp/input_shape"] == [8, 8, 1] and measured["cnn/input_shape"] == [12, 12, 1]
    assert measured["mlp/he/fan_in"] == 64 and measured["cnn/he/fan_in"] == 3 * 3 * 16
    expected = {"mlp": {"he": 1.0, "glorot": 1 / math.sqrt(2), "normal_001": 0.01 * math.sqrt(32),
                        "normal_1": math.sqrt(32)},
                "cnn": {"he": 1.0, "glorot": 1 / math.sqrt(2), "normal_001": 0.01 * math.sqrt(72),
                        "normal_1": math.sqrt(72)}}
    for family, gains in expected.items():
        for init, gain in gains.items():
            assert measured[f"{family}/{init}/theory_gain"] == pytest.approx(gain, rel=1e-12), (family, init)
    assert measured["mlp/he/depth30/parameters"] == MLP30_DIGITS
    assert measured["cnn/he/depth30/parameters"] == CNN30_CANVAS12
    for family in MODULE.FAMILIES:
        for init in ARMS:
            for depth in (5, 10, 20, 30):
                act = measured[f"{family}/{init}/depth{depth}/act_rms"]
                grad = measured[f"{family}/{init}/depth{depth}/grad_rms"]
                assert len(act) == len(grad) == depth
                assert measured[f"{family}/{init}/depth{depth}/forward_ratio"] == act[-1] / act[0]


def test_e3a_verdict_follows_its_measured_values(smoke):
    measured = smoke["checks"]["scales_across_depths_and_inits"]
    e3a = smoke["verdicts"]["E3a"]
    checked = {c.quantity: c for c in e3a.measured.checked}
    assert len(checked) == 14
    for key, row in checked.items():
        assert row.measured == measured[key], key
    # five draws of the weights; He judged on the median of each draw's worst factor, against the bound the
    # finite-width theory gives for the deepest net: every draw inside it, the wrong inits 20+ orders beyond
    assert measured["seeds"] == [0, 1, 2, 3, 4] and e3a.verdict == "supported", e3a.reason
    cfg = config.resolve(EXPERIMENT, "smoke")
    for family, width in (("mlp", cfg["width"]), ("cnn", cfg["check_channels"])):
        v = 1.25 * (max(cfg["check_depths"]) - 1) / width
        assert measured[f"{family}/he/factor_bound"] == pytest.approx(math.exp(v + 2 * math.sqrt(v)))
        by_seed = measured[f"{family}/he/max_forward_factor_by_seed"]
        assert measured[f"{family}/he/median_max_forward_factor"] == sorted(by_seed)[2]
        assert max(by_seed) < measured[f"{family}/he/factor_bound"]
        assert min(measured[f"{family}/normal_1/max_forward_factor_by_seed"]) > 1e20
    # seed 0's depth-30 He CNN, the draw the committed refutation rested on, is one of the five
    assert measured["cnn/he/max_forward_factor_by_seed"][0] > 10
    # The vanishing and exploding ratios are orders of magnitude beyond the blow-up factor at depth 5 already.
    for family in MODULE.FAMILIES:
        assert measured[f"{family}/normal_001/depth5/forward_ratio"] < 1e-3
        assert measured[f"{family}/normal_1/depth5/forward_ratio"] > 1e2
        assert measured[f"{family}/glorot/forward_gain_relative_error"] < 0.15


def test_e3b_comparisons_agree_with_trials_csv(smoke):
    e3b = smoke["verdicts"]["E3b"]
    assert e3b.verdict == "inconclusive"  # two seeds are below the evidence floor
    comparisons = e3b.measured.comparisons
    assert [(c.name, c.judged) for c in comparisons] == [
        ("he - normal_001", True), ("he - normal_1", True), ("he - glorot", False)]
    accuracy = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy")
    diverged = smoke["trials"].pivot(index="seed", columns="arm", values="diverged") > 0
    accuracy[diverged] = 0.1  # IF_DIVERGED: chance
    for comparison in comparisons:
        arm, other = comparison.name.split(" - ")
        assert comparison.n == 2
        assert comparison.mean == pytest.approx((accuracy[arm] - accuracy[other]).mean(), rel=1e-12, abs=1e-15)


# ---- the measurement on a net whose answer is known --------------------------------------------------
def test_layer_scales_on_a_doubling_net_are_exact_powers_of_two(keras):
    """Three Dense layers with kernel 2I, zero biases, on positive inputs: ReLU passes everything, so each
    layer doubles the activations (forward) and W^T doubles the gradient (backward), exactly in float32."""
    from claimlab.checks import fresh_keras

    fresh_keras()
    model = MODULE.build_net("mlp", 3, "he", (4,), 4, width=4)
    for i in (1, 2, 3):
        model.get_layer(f"hidden{i}").set_weights([2 * np.eye(4, dtype="float32"), np.zeros(4, "float32")])
    model.get_layer("logits").set_weights([np.eye(4, dtype="float32") / 8, np.zeros(4, "float32")])
    x = np.array([[1, 2, 3, 4], [4, 3, 2, 1]], dtype="float32")
    scales = MODULE.layer_scales(model, x, np.array([0, 3]))
    h1 = 2 * x
    assert scales["act_rms"][0] == pytest.approx(math.sqrt(np.mean(h1 ** 2)), rel=1e-7)
    assert scales["act_rms"] == pytest.approx([scales["act_rms"][0] * 2 ** k for k in range(3)], rel=1e-7)
    assert scales["forward_ratio"] == pytest.approx(4.0, rel=1e-7)
    assert scales["backward_ratio"] == pytest.approx(4.0, rel=1e-7)
    assert scales["logits_rms"] == pytest.approx(math.sqrt(np.mean((8 * x / 8) ** 2)), rel=1e-7)
    assert scales["sigmoid_saturated_share"] == 0.0  # logits 1..4: sigmoid'(4) = 0.0177 > 0.01


def test_nets_are_built_as_declared(keras):
    from claimlab.checks import fresh_keras

    fresh_keras()
    mlp = MODULE.build_net("mlp", 5, "normal_1", (8, 8, 1), 10)
    hidden = [layer for layer in mlp.layers if layer.name.startswith("hidden")]
    assert len(hidden) == 5 and all(layer.activation.__name__ == "relu" for layer in hidden)
    assert mlp.get_layer("logits").activation.__name__ == "linear"
    assert MODULE.hidden_fan_in(mlp) == 64
    conv1d = MODULE.build_net("cnn", 3, "he", (40, 1), 10, channels=16)
    assert type(conv1d.get_layer("hidden1")).__name__ == "Conv1D" and MODULE.hidden_fan_in(conv1d) == 48
    conv2d = MODULE.build_net("cnn", 3, "he", (12, 12, 1), 10, channels=16)
    assert type(conv2d.get_layer("hidden1")).__name__ == "Conv2D" and MODULE.hidden_fan_in(conv2d) == 144
    # N(0, 0.01) and N(0, 1) kernels have the declared spread (64 x 64 = 4,096 draws each).
    small = MODULE.build_net("mlp", 2, "normal_001", (64,), 10)
    assert np.std(small.get_layer("hidden2").kernel.numpy()) == pytest.approx(0.01, rel=0.05)
    assert np.std(mlp.get_layer("hidden2").kernel.numpy()) == pytest.approx(1.0, rel=0.05)
    he = MODULE.build_net("mlp", 2, "he", (64,), 10)
    assert np.std(he.get_layer("hidden2").kernel.numpy()) == pytest.approx(math.sqrt(2 / 64), rel=0.05)
    with pytest.raises(ValueError, match="unknown family"):
        MODULE.build_net("rnn", 2, "he", (4,), 2)
    with pytest.raises(ValueError, match="unknown init"):
        MODULE.build_net("mlp", 2, "lecun", (4,), 2)


# ---- the helpers on hand-made numbers ----------------------------------------------------------------
def test_pooled_gain_max_factor_and_monotone_by_hand():
    gain, steps = MODULE.pooled_gain([[1.0, 2.0, 4.0, 8.0], [3.0, 6.0]])
    assert gain == pytest.approx(2.0) and steps == 4
    gain, steps = MODULE.pooled_gain([[8.0, 4.0, 2.0, 1.0]], backward=True)  # grad_l / grad_(l+1)
    assert gain == pytest.approx(2.0) and steps == 3
    gain, steps = MODULE.pooled_gain([[1.0, 0.1, 1e-31, 0.0]])  # steps outside 1e-30..1e30 are left out
    assert gain == pytest.approx(0.1) and steps == 1
    assert math.isnan(MODULE.pooled_gain([[0.0, 0.0]])[0])
    assert MODULE.max_factor([1.0, 3.0, 0.5], 1.0) == 3.0
    assert MODULE.max_factor([1.0, 0.05], 1.0) == pytest.approx(20.0)
    assert MODULE.max_factor([1.0, 0.0], 1.0) == math.inf
    assert MODULE.monotone_away([1e-3, 1e-6, 0.0, 0.0], "down")
    assert not MODULE.monotone_away([1e-3, 1e-2], "down") and not MODULE.monotone_away([1e-3, 1e-3], "down")
    assert MODULE.monotone_away([1e2, 1e5], "up") and not MODULE.monotone_away([1e5, 1e5], "up")


def test_sigmoid_derivative_and_theory_by_hand():
    d = MODULE.sigmoid_derivative(np.array([0.0, 1e30, -1e30, math.log(99)]))
    np.testing.assert_allclose(d, [0.25, 0.0, 0.0, 0.99 * 0.01], rtol=1e-12)
    assert MODULE.weight_std("he", 50, 200) == pytest.approx(0.2)
    assert MODULE.weight_std("glorot", 50, 150) == pytest.approx(0.1)
    assert MODULE.theory_gain("he", 123, 123) == pytest.approx(1.0)
    assert MODULE.theory_gain("normal_1", 8, 8) == pytest.approx(2.0)


# ---- the E3b rule on hand-made evidence --------------------------------------------------------------
def _evidence(accuracy, diverged=(), seeds=6):
    rows = [{"arm": arm, "seed": seed, "test/accuracy": accuracy(arm, seed), "train_eval/accuracy": 0.5,
             "init/forward_ratio": 1.0, "init/backward_ratio": 1.0, "init/sigmoid_saturated_share": 0.0,
             "diverged": float(arm in diverged)} for arm in ARMS for seed in range(seeds)]
    cfg = config.resolve(EXPERIMENT, "quick")
    return Evidence(pd.DataFrame(rows), {}, cfg, EXPERIMENT.if_diverged(cfg)), cfg


def noise(arm, seed):
    return 0.01 * ((seed * 7 + len(arm)) % 5 - 2)


def test_e3b_supported_when_he_trains_and_the_others_do_not():
    means = {"he": 0.65, "glorot": 0.16, "normal_001": 0.10, "normal_1": float("nan")}  # normal_1 diverged
    evidence, cfg = _evidence(lambda arm, seed: means[arm] + noise(arm, seed), diverged=("normal_1",))
    outcome = MODULE.e3b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "supported", outcome.reason
    assert outcome.details["parts"] == ["supported", "supported"]


def test_e3b_refuted_when_a_bad_init_trains_as_well_as_he():
    means = {"he": 0.65, "glorot": 0.60, "normal_001": 0.65, "normal_1": 0.10}
    evidence, cfg = _evidence(lambda arm, seed: means[arm] + (noise(arm, seed) if arm != "normal_001"
                                                                else noise("he", seed) + 0.001 * (seed % 2)))
    outcome = MODULE.e3b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "refuted", outcome.reason
    assert outcome.details["parts"] == ["refuted", "supported"]


@pytest.mark.parametrize("key,value,printed", [
    ("smallest_effect", "0.05", "inside +-0.05"),
    ("he_spread_sds", "1.0", "exp(v + 1 sqrt(v))"),
    ("blowup_factor", "1000.0", ">= 1000"),
    ("gain_tolerance", "0.05", "<= 0.05"),
    ("sigmoid_share_tolerance", "0.2", "all but at most 0.2"),
    ("saturation_derivative", "0.02", "sigmoid' < 0.02"),
])
def test_each_threshold_override_is_the_one_the_rule_text_names(key, value, printed):
    cfg = config.resolve(EXPERIMENT, "smoke", overrides={key: value})
    texts = " ".join(claim.rule_for(cfg).describe() for claim in EXPERIMENT.claims)
    assert printed in texts
    assert printed not in " ".join(claim.rule_for(config.resolve(EXPERIMENT, "smoke")).describe()
                                   for claim in EXPERIMENT.claims)


def test_settings_and_thresholds_are_declared():
    assert list(MODULE.SETTINGS)[0] == "default" and len(MODULE.SETTINGS) >= 3
    assert config.resolve(EXPERIMENT, "quick")["hidden_layers"] == 20
    e3b = " ".join(MODULE.CLAIMS[1].hypothesis.split())
    assert "20-layer" in e3b
    assert set(EXPERIMENT.thresholds) <= set(EXPERIMENT.domains)
    assert MODULE.SETTINGS["long_budget"].overrides["epochs"].factor == 5
    assert MODULE.SETTINGS["long_budget"].overrides["patience"].factor == 5


def test_the_trained_net_is_the_20_layer_mlp_the_hypothesis_names(keras):
    assert MODULE.build_net("mlp", 20, "he", (8, 8, 1), 10).count_params() == MLP20_DIGITS
