"""batch_size: one real smoke run (verdicts, trials, E4a's exact values and shapes), the Dense batch-vs-rows
helper on real keras layers, the batch sizes per arm, and the in-trial throughput probe."""

import numpy as np
import pandas as pd
import pytest

from conftest import assert_every_claim_judged

from claimlab import registry

NAME = "batch_size"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["E4a", "E4b"]
ARMS = ["full_batch", "per_sample", "minibatch"]
# By hand: digits' 64 pixels -> Dense(64) -> Dense(10): (64*64 + 64) + (64*10 + 10) = 4,810 parameters.
MLP_PARAMS = 64 * 64 + 64 + 64 * 10 + 10
DIGITS_TRAIN, DIGITS_TEST = 1068, 540


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


def test_every_claim_gets_a_verdict(smoke):
    assert_every_claim_judged(smoke, CLAIM_IDS, trials=6, source_file="001_448bd649d2fb709b.txt")


def test_trials_hold_every_arm_with_hand_counted_batches_and_updates(smoke):
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, seed) for arm in ARMS for seed in (0, 1))
    by_arm = trials.groupby("arm")
    assert {arm: list(v) for arm, v in by_arm["batch_size"].unique().items()} == {
        "full_batch": [DIGITS_TRAIN], "per_sample": [1], "minibatch": [32]}
    # smoke: 1 epoch -> 1 update, 1,068 updates, ceil(1068 / 32) = 34 updates
    assert {arm: list(v) for arm, v in by_arm["updates"].unique().items()} == {
        "full_batch": [1], "per_sample": [DIGITS_TRAIN], "minibatch": [34]}
    assert (trials["params/total"] == MLP_PARAMS).all()
    for key in ("test/accuracy", "train/seconds", "train/examples_per_second", "speed/throughput_ratio",
                "test/accuracy_per_train_second"):
        assert np.isfinite(trials[key]).all() and (trials[key] > 0).all(), key
    assert (trials.loc[trials["arm"] == "per_sample", "speed/throughput_ratio"] == 1.0).all()
    assert (trials["diverged"] == 0).all()


def test_e4a_measures_the_question_sizes_exactly(smoke):
    measured = smoke["checks"]["batch_matmul_matches_rows"]
    assert measured["question/output_shape"] == [100, 2] and measured["question/kernel_shape"] == [10, 2]
    assert measured["test_split/output_shape"] == [DIGITS_TEST, 64]
    assert measured["test_split/kernel_shape"] == [64, 64]
    for key in ("batch_vs_rows_max_abs_diff", "batch_vs_numpy_max_abs_diff", "gradient_vs_formula_max_rel_diff"):
        assert measured[key] <= EXPERIMENT.thresholds["batch_tolerance"], key
    assert measured["test_split/output_max_abs"] > 0.1  # outputs of order 1, not all zero
    assert smoke["verdicts"]["E4a"].verdict == "supported"


def test_dense_helper_on_real_layer_and_its_control(keras):
    cfg = {"check_bias_stddev": 0.5}
    from claimlab.checks import fresh_keras

    fresh_keras()
    x = np.random.default_rng(1).normal(size=(7, 3))
    measured = MODULE.dense_batch_against_rows(x, 4, cfg)
    assert measured["output_shape"] == [7, 4] and measured["kernel_shape"] == [3, 4]
    assert measured["batch_vs_rows_max_abs_diff"] < 1e-5
    assert measured["batch_vs_numpy_max_abs_diff"] < 1e-5
    assert measured["gradient_vs_formula_max_rel_diff"] < 1e-5


def test_batch_sizes_per_arm():
    cfg = {"minibatch_size": 32}
    assert MODULE.batch_size_for("full_batch", 1068, cfg) == 1068
    assert MODULE.batch_size_for("per_sample", 1068, cfg) == 1
    assert MODULE.batch_size_for("minibatch", 1068, cfg) == 32
    with pytest.raises(ValueError):
        MODULE.batch_size_for("huge", 1068, cfg)


def test_probe_measures_a_positive_rate_without_touching_the_model(keras):
    from claimlab.checks import fresh_keras

    fresh_keras()
    model = MODULE.build_model((4,), 3, (8,), 1e-3)
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, size=64)
    rate = MODULE.examples_per_second(model, x, y, 16, 1e-3)
    assert rate > 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_settings_and_thresholds_are_declared():
    assert list(MODULE.SETTINGS)[0] == "default" and len(MODULE.SETTINGS) >= 3
    assert set(EXPERIMENT.thresholds) <= set(EXPERIMENT.domains)
