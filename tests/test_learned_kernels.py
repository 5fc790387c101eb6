"""learned_kernels: one real smoke run (verdicts, trials, exact parameter counts, frozen kernels that do not
move), the designed bank and the model builder on real Keras objects, and the E5b rule on hand-made evidence."""

import numpy as np
import pandas as pd
import pytest

from claimlab import config, registry, train
from claimlab.errors import UsageError
from claimlab.verdict import Evidence

NAME = "learned_kernels"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
ARMS = ["learned", "fixed_designed", "fixed_random"]

# The default net on 8x8 digits, counted by hand:
#   first conv 5x5x1x8 + 8 = 208, second conv 3x3x8x16 + 16 = 1168, after two 2x pools 2x2x16 = 64 features,
#   Dense(32) 64x32 + 32 = 2080, Dense(10) 32x10 + 10 = 330: 3786 in all; a frozen kernel removes 5x5x8 = 200.
TOTAL_PARAMS = 208 + 1168 + 2080 + 330
FROZEN_KERNEL = 5 * 5 * 8


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict_and_every_trial_ran(smoke):
    summary = smoke["summary"]
    assert summary.status == "complete" and (summary.trials.finished, summary.trials.planned) == (6, 6)
    assert [c.id for c in summary.claims] == ["E5a", "E5b"]
    for claim in summary.claims:
        assert claim.verdict in ("supported", "refuted", "inconclusive"), claim
        assert any(line.startswith(claim.id) for line in smoke["output"].splitlines())
    # two seeds are below the evidence floor: E5b must say so rather than decide
    e5b = smoke["verdicts"]["E5b"]
    assert e5b.verdict == "inconclusive" and "too few seeds: 2 < 3" in e5b.qualifier
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, seed) for arm in ARMS for seed in (0, 1))
    for metric in ("test/accuracy", "test/loss", "kernel/relative_change", "kernel/max_abs_change",
                   "params/trainable", "params/total", "diverged"):
        assert metric in trials, metric
    assert (smoke["folder"] / "designed_kernels.png").stat().st_size > 1000


def test_exact_check_e5a_measures_200_kernel_numbers_each_moved_by_its_own_gradient(smoke):
    measured = smoke["checks"]["kernel_is_a_trained_parameter"]
    assert measured["kernel_shape"] == [5, 5, 1, 8]
    assert measured["trainable_kernel_numbers"] == 5 * 5 * 1 * 8 == 200
    assert measured["kernel_entries_with_nonzero_gradient"] == measured["kernel_entries_changed_by_one_step"] == 200
    assert measured["max_abs_update_error"] <= 1e-6 and measured["max_abs_step"] > 0
    # the control: a frozen kernel is not a trainable weight and does not move, while its bias still trains
    assert measured["frozen_control_kernel_in_trainable_weights"] is False
    assert measured["frozen_control_kernel_max_abs_change"] == 0.0 and measured["frozen_control_bias_changed"]
    assert smoke["verdicts"]["E5a"].verdict == "supported"


def test_frozen_kernels_are_bit_identical_after_training_and_learned_ones_move(smoke):
    """Through the runner's own path (two seeds trained side by side as one fused Keras model)."""
    trials = smoke["trials"].set_index("arm")
    for arm in ("fixed_designed", "fixed_random"):
        assert (trials.loc[arm, "kernel/max_abs_change"] == 0.0).all()
        assert (trials.loc[arm, "kernel/relative_change"] == 0.0).all()
        assert (trials.loc[arm, "params/trainable"] == TOTAL_PARAMS - FROZEN_KERNEL).all()
    assert (trials.loc["learned", "kernel/max_abs_change"] > 0).all()
    assert (trials.loc["learned", "kernel/relative_change"] > 0).all()
    assert (trials.loc["learned", "params/trainable"] == TOTAL_PARAMS).all()
    assert (smoke["trials"]["params/total"] == TOTAL_PARAMS).all()
    # common random numbers: fixed_random's kernel is the learned arm's starting kernel, seed by seed
    start = smoke["trials"].pivot(index="seed", columns="arm", values="kernel/norm_start")
    np.testing.assert_array_equal(start["fixed_random"], start["learned"])
    # every designed kernel is rescaled to the Glorot norm sqrt(2/9) per filter: 8 filters -> sqrt(8 * 2/9)
    np.testing.assert_allclose(start["fixed_designed"], np.sqrt(8 * 2 / 9), rtol=1e-6)


def test_verdict_numbers_agree_with_trials_csv(smoke):
    accuracy = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy")
    comparisons = {c.name: c for c in smoke["verdicts"]["E5b"].measured.comparisons}
    for other in ("fixed_designed", "fixed_random"):
        c = comparisons[f"learned - {other}"]
        assert c.judged and c.margin == EXPERIMENT.thresholds["smallest_effect"]
        assert c.mean == pytest.approx((accuracy["learned"] - accuracy[other]).mean(), rel=1e-12, abs=1e-15)
    assert not comparisons["fixed_designed - fixed_random"].judged
    moved = {(a.metric, a.arm): a for a in smoke["verdicts"]["E5b"].measured.arms}
    assert moved[("kernel/relative_change", "fixed_random")].mean == 0.0


# ---- real Keras objects ----------------------------------------------------------------------------
CFG = config.resolve(EXPERIMENT, "smoke")


def test_the_designed_bank_starts_with_the_askers_kernel_and_has_glorot_norms():
    kernel = MODULE.designed_kernel((5, 5, 1, 8))
    asker = np.array(MODULE.ASKER_KERNEL, dtype=float)
    assert asker.shape == (5, 5) and asker[3, 3] == -3 and np.linalg.norm(asker) == pytest.approx(np.sqrt(45))
    np.testing.assert_allclose(kernel[:, :, 0, 0], asker * np.sqrt(2 / 9) / np.sqrt(45), rtol=1e-6)
    # Glorot uniform for 5x5x1x8: variance 2 / (25 + 200), 25 entries per filter: norm sqrt(2/9)
    assert MODULE.glorot_kernel_norm((5, 5, 1, 8)) == pytest.approx(np.sqrt(2 / 9))
    np.testing.assert_allclose(np.linalg.norm(kernel[:, :, 0, :], axis=(0, 1)), np.sqrt(2 / 9), rtol=1e-6)
    # Sobel x is the outer product of [1,4,6,4,1] and [-1,-2,0,2,1]: it rises left to right
    np.testing.assert_allclose(MODULE.DESIGNED_2D["sobel_x"][2], [-6, -12, 0, 12, 6])
    with pytest.raises(ValueError, match="16 kernels"):
        MODULE.designed_kernel((5, 5, 1, 17))
    for bank in (MODULE.DESIGNED_2D, MODULE.DESIGNED_1D):  # 16 distinct directions, none a copy of another
        units = np.array([k.ravel() / np.linalg.norm(k) for k in bank.values()])
        assert len(units) == MODULE.DESIGNED_BANK_SIZE
        cosines = units @ units.T - np.eye(len(units))
        assert cosines.max() < 0.999
    line = MODULE.line_detector(90)
    assert line.sum() == pytest.approx(0) and (line[:, 2] > 0).all() and (np.delete(line, 2, axis=1) < 0).all()


def test_each_arm_builds_the_same_net_with_its_first_kernel_frozen_or_not(keras):
    built = {}
    for arm in ARMS:
        train.seed_everything(0)
        built[arm] = MODULE.build_model(arm, (8, 8, 1), 10, CFG)
    for arm, (model, start) in built.items():
        first = model.get_layer("first_conv")
        assert tuple(first.kernel.shape) == (5, 5, 1, 8) and model.count_params() == TOTAL_PARAMS
        in_trainable = any(w is first.kernel for w in model.trainable_weights)
        assert in_trainable == (arm == "learned")
        assert any(w is first.bias for w in model.trainable_weights)  # the bias trains in every arm
        assert train.count_params(model) == TOTAL_PARAMS - (0 if arm == "learned" else FROZEN_KERNEL)
        np.testing.assert_array_equal(start, np.array(first.kernel))
    np.testing.assert_array_equal(built["fixed_random"][1], built["learned"][1])
    np.testing.assert_array_equal(built["fixed_designed"][1], MODULE.designed_kernel((5, 5, 1, 8)))
    # the rest of the net starts from the same weights in every arm
    rest = [np.array(w) for w in built["learned"][0].weights[1:]]
    for arm in ("fixed_designed", "fixed_random"):
        for a, b in zip(rest, [np.array(w) for w in built[arm][0].weights[1:]]):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="unknown kernels"):
        MODULE.build_model("predefined", (8, 8, 1), 10, CFG)


def test_model_fit_leaves_a_frozen_kernel_bit_identical_and_moves_a_learned_one(keras):
    from claimlab import data

    digits = data.load("digits", 0)
    x, y = digits.x_train[:256], digits.y_train[:256]
    for arm in ARMS:
        train.seed_everything(1)
        model, start = MODULE.build_model(arm, (8, 8, 1), 10, CFG)
        first = model.get_layer("first_conv")
        bias_start = np.array(first.bias)
        model.fit(x, y, epochs=1, batch_size=32, verbose=0)
        moved = not np.array_equal(np.array(first.kernel), start)
        assert moved == (arm == "learned"), arm
        assert not np.array_equal(np.array(first.bias), bias_start), arm


def test_the_1d_net_takes_mnist1d_shaped_input_with_1d_designed_kernels(keras):
    train.seed_everything(0)
    model, start = MODULE.build_model("fixed_designed", (40, 1), 10, CFG)
    first = model.get_layer("first_conv")
    assert type(first).__name__ == "Conv1D" and tuple(first.kernel.shape) == (5, 1, 8)
    norm = MODULE.glorot_kernel_norm((5, 1, 8))
    assert norm == pytest.approx(np.sqrt(5 * 2 / (5 + 40)))
    expected = MODULE.DESIGNED_1D["sobel"] / np.linalg.norm(MODULE.DESIGNED_1D["sobel"]) * norm
    np.testing.assert_allclose(start[:, 0, 1], expected, rtol=1e-6)
    # 40 -> 20 -> 10 positions of 16 channels: Dense(32) has 160 x 32 + 32 weights
    assert model.count_params() == (5 * 8 + 8) + (3 * 8 * 16 + 16) + (160 * 32 + 32) + (32 * 10 + 10)
    assert model.predict(np.zeros((2, 40, 1), "float32"), verbose=0).shape == (2, 10)


def test_kernel_movement_on_hand_values():
    moved = MODULE.kernel_movement(np.array([3.0, 4.0]), np.array([3.0, 4.5]))
    assert moved["kernel/relative_change"] == pytest.approx(0.5 / 5)
    assert moved["kernel/max_abs_change"] == pytest.approx(0.5)
    assert moved["kernel/norm_start"] == pytest.approx(5.0)


def test_first_filters_beyond_the_designed_bank_is_refused():
    with pytest.raises(UsageError, match="first_filters"):
        config.resolve(EXPERIMENT, "smoke", {"first_filters": "17"})


# ---- the E5b rule on hand-made evidence --------------------------------------------------------------
def _evidence(accuracy):
    rows = [{"arm": arm, "seed": seed, "test/accuracy": accuracy[arm] + 0.003 * ((seed * (k + 2)) % 5),
             "kernel/relative_change": float(arm == "learned"), "diverged": 0.0}
            for k, arm in enumerate(ARMS) for seed in range(6)]
    return Evidence(pd.DataFrame(rows), {}, CFG, EXPERIMENT.if_diverged(CFG))


def test_e5b_supported_when_learned_wins_refuted_when_fixed_kernels_do_as_well():
    rule = MODULE.e5b_rule(CFG)
    wins = rule.evaluate(_evidence({"learned": 0.95, "fixed_designed": 0.90, "fixed_random": 0.88}))
    assert wins.verdict == "supported", wins.reason
    same = rule.evaluate(_evidence({"learned": 0.95, "fixed_designed": 0.95, "fixed_random": 0.95}))
    assert same.verdict == "refuted", same.reason
    assert [c.state for c in same.comparisons if c.judged] == ["negligible", "negligible"]
    override = config.resolve(EXPERIMENT, "smoke", {"smallest_effect": "0.05"})
    assert "+-0.05" in MODULE.e5b_rule(override).describe() and "+-0.05" not in rule.describe()
