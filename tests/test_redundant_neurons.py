"""redundant_neurons: one real smoke run (verdicts, trials, the exact TFLite check) and the module's tools
on hand-computed inputs: the redundancy measure, the decorrelating regulariser, the TFLite path."""

import numpy as np
import pandas as pd
import pytest
from conftest import assert_every_claim_judged

from claimlab import config, registry

ARMS = ["baseline", "decorrelated", "narrow", "baseline_int8"]
CLAIM_IDS = ["E7a", "E7b", "E7c", "E7d", "E7e", "E7f"]

# A hand kernel (4 inputs, 3 neurons): b = 2a, so r(a, b) = 1; c centred is orthogonal to a centred
# ([-1.5, -0.5, 0.5, 1.5] . [1, -1, -1, 1] = 0), so r(a, c) = r(b, c) = 0.
HAND_KERNEL = np.array([[1.0, 2.0, 1.0],
                        [2.0, 4.0, -1.0],
                        [3.0, 6.0, -1.0],
                        [4.0, 8.0, 1.0]])


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("redundant_neurons", "--jobs", "1")


@pytest.fixture(scope="module")
def experiment():
    return registry.load("redundant_neurons")


@pytest.fixture(scope="module")
def trials(run):
    return pd.read_csv(run["folder"] / "trials.csv").set_index(["arm", "seed"]).sort_index()


def test_every_claim_gets_a_verdict(run):
    assert_every_claim_judged(run, CLAIM_IDS, trials=len(ARMS) * 2, source_file="001_448bd649d2fb709b.txt")
    assert run["verdicts"]["E7a"].verdict == "supported"
    for claim in CLAIM_IDS[1:]:  # two seeds are below the evidence floor: nothing empirical is decided
        assert run["verdicts"][claim].verdict == "inconclusive"


def test_parameter_counts_by_hand(trials):
    # digits: 64 inputs. Dense 64: 64*64 + 64 = 4,160; Dense 16: 64*16 + 16 = 1,040; softmax: 16*10 + 10 = 170.
    for arm in ("baseline", "decorrelated", "baseline_int8"):
        assert trials.loc[(arm, 0), "params/total"] == 4160 + 1040 + 170 == 5370
    # narrow: Dense 8: 64*8 + 8 = 520; softmax 8*10 + 10 = 90.
    assert trials.loc[("narrow", 1), "params/total"] == 4160 + 520 + 90 == 4770


def test_int8_arm_quantizes_the_very_baseline_model(trials):
    """Same seed, same training (op determinism): the int8 arm's float model is the baseline, bit for bit;
    and the same seed starts baseline, decorrelated and int8 from the same kernel."""
    for seed in (0, 1):
        base, int8 = trials.loc[("baseline", seed)], trials.loc[("baseline_int8", seed)]
        assert int8["float/test/accuracy"] == base["test/accuracy"]
        assert int8["float/test/loss"] == base["test/loss"]
        assert int8["float/redundancy/mean_abs_r"] == base["redundancy/mean_abs_r"]
        assert int8["quantization/studied_kernel_is_int8"] == 1
        assert 0.9 <= int8["quantization/agreement"] <= 1
        # rounding each weight to 8 bits moves the correlations, but only a little
        assert int8["redundancy/mean_abs_r"] == pytest.approx(base["redundancy/mean_abs_r"], abs=0.01)
        assert int8["model/tflite_bytes"] < base["model/tflite_bytes"]
        for arm in ("decorrelated", "baseline_int8"):
            assert trials.loc[(arm, seed), "redundancy/mean_abs_r_init"] == base["redundancy/mean_abs_r_init"]
    assert trials.loc[("baseline", 0), "redundancy/mean_abs_r_init"] != trials.loc[("baseline", 1),
                                                                                   "redundancy/mean_abs_r_init"]
    # 120 pairs of 16 neurons, 28 of 8: the counts are within them
    assert trials.loc[("narrow", 0), "redundancy/pairs_above"] <= 28
    assert (trials["test/accuracy"].between(0, 1)).all()


def test_exact_check_reads_the_quantized_file(run):
    checks = run["checks"]["quantized_head_storage"]
    assert checks["hidden_kernel_dtypes"] == ["int8", "int8"]
    assert checks["hidden_kernel_bytes"] == 64 * 64 + 64 * 16 == 5120
    assert checks["hidden_kernel_float32_bytes"] == 4 * 5120 == 20480
    assert checks["scales_per_hidden_kernel"] == [64, 16]  # one scale per neuron
    assert checks["output_kernel_dtype"] == "float32"  # 16 weights: left in float by the converter
    assert 0.4 < checks["max_rounding_error_in_steps"] <= 0.5 + 1e-6
    # the file saves at most 3 bytes on each of the 5,120 int8 weights (15,360), less what the quantization
    # parameters (a float scale per neuron, an int zero point) and their bookkeeping cost
    saving = checks["float_file_bytes"] - checks["int8_file_bytes"]
    assert 0.85 * 3 * 5120 < saving <= 3 * 5120


def test_rules_compare_the_declared_arms(run):
    def names(claim):
        return [c.name for c in run["verdicts"][claim].measured.comparisons]

    assert names("E7b")[0] == "trained - init"
    assert names("E7c")[0] == "decorrelated - baseline"
    assert names("E7d")[:2] == ["decorrelated - baseline", "baseline - narrow"]
    assert names("E7e")[0] == "baseline_int8 - baseline"
    assert names("E7f")[0] == "baseline_int8 - baseline"


def test_e7b_contrast_is_trained_minus_initial(run, trials):
    comparison = run["verdicts"]["E7b"].measured.comparisons[0]
    base = trials.loc["baseline"]
    expected = (base["redundancy/mean_abs_r"] - base["redundancy/mean_abs_r_init"]).mean()
    assert comparison.mean == pytest.approx(expected, rel=1e-12)


def test_redundancy_measure_by_hand(experiment):
    measured = experiment.module.redundancy(HAND_KERNEL, threshold=0.5)
    assert measured["mean_abs_r"] == pytest.approx(1 / 3)  # |r| = 1, 0, 0 over the 3 pairs
    assert measured["max_abs_r"] == pytest.approx(1.0)
    assert measured["pairs_above"] == 1
    # MAD: |a - b| = [1, 2, 3, 4] -> 2.5; |a - c| = [0, 3, 4, 3] -> 2.5; |b - c| = [1, 5, 7, 7] -> 5
    assert measured["mean_mad"] == pytest.approx(10 / 3)
    assert measured["min_mad"] == pytest.approx(2.5)
    # a sign flip keeps |r|: -b is as redundant with a as b is
    flipped = HAND_KERNEL * np.array([1.0, -1.0, 1.0])
    assert experiment.module.redundancy(flipped, 0.5)["mean_abs_r"] == pytest.approx(1 / 3)


def test_decorrelating_regulariser_by_hand(keras, experiment):
    import keras

    regulariser = experiment.module.decorrelate_columns_class()(strength=2.0, l2=0.1)
    # mean r^2 over the 3 pairs = (1 + 0 + 0) / 3; sum of squares = 30 + 120 + 4 = 154
    value = float(regulariser(keras.ops.convert_to_tensor(HAND_KERNEL.astype("float32"))))
    assert value == pytest.approx(2.0 * (1 / 3) + 0.1 * 154, rel=1e-5)
    orthogonal = np.array([[1.0, 1.0], [0.0, -2.0], [-1.0, 1.0]])  # centred columns, a . b = 0: r = 0
    alone = experiment.module.decorrelate_columns_class()(strength=5.0)
    assert float(alone(keras.ops.convert_to_tensor(orthogonal.astype("float32")))) == pytest.approx(0.0, abs=1e-6)
    assert regulariser.get_config() == {"strength": 2.0, "l2": 0.1, "epsilon": 1e-12}


def test_tflite_float_model_matches_keras(keras, experiment):
    """The conversion path on a real model: the float .tflite predicts what Keras predicts, and the
    cross-entropy helper is Keras' loss."""
    module = experiment.module
    cfg = config.resolve(experiment, "smoke")
    keras = __import__("keras")
    keras.utils.set_random_seed(3)
    model = module.build_model(16, True, (8, 8, 1), 10, cfg)
    x = np.random.default_rng(0).random((37, 8, 8, 1)).astype("float32")
    y = np.arange(37) % 10
    expected = model.predict(x, verbose=0)
    assert np.abs(module.tflite_predict(module.to_tflite(model, quantize=False), x) - expected).max() < 1e-5
    quantized = module.tflite_predict(module.to_tflite(model, quantize=True), x)
    assert quantized.shape == (37, 10) and np.abs(quantized - expected).max() < 0.05
    keras_loss = float(keras.losses.sparse_categorical_crossentropy(y, expected).numpy().mean())
    assert module.sparse_cross_entropy(expected, y) == pytest.approx(keras_loss, rel=1e-5)


def test_settings_and_divergence_declarations(experiment):
    module = experiment.module
    assert list(module.SETTINGS) == ["default", "long_budget", "mnist1d"]
    assert module.SETTINGS["long_budget"].overrides["epochs"].factor == 5
    assert module.SETTINGS["long_budget"].overrides["patience"].factor == 5
    assert module.SETTINGS["mnist1d"].overrides == {"dataset": "mnist1d"}
    cfg = config.resolve(experiment, "quick")
    assert experiment.undeclared_divergence(cfg) == []
    declared = experiment.if_diverged(cfg)
    from claimlab.verdict import declared_for

    assert declared_for(declared, "redundancy/mean_abs_r_init").mode == "keep"
    assert declared_for(declared, "redundancy/mean_abs_r").mode == "exclude"
    assert declared_for(declared, "test/accuracy").value == pytest.approx(0.1)
