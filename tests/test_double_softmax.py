"""double_softmax: one real smoke run (verdicts, trials, the exact values of E2a and E2c), the closed forms
of the double softmax on hand-made logits, the corpus and its splits, and the E2b rule on hand-made
evidence."""

import math

import numpy as np
import pandas as pd
import pytest

from conftest import assert_every_claim_judged

from claimlab import config, registry
from claimlab.verdict import Evidence

NAME = "double_softmax"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["E2a", "E2b", "E2c"]
ARMS = ["logits", "double_softmax"]

V = 97  # distinct characters in sources/*.txt
# Parameter count by hand: Embedding(97, 16), Dense(16 * 16 -> 256), Dense(256 -> 97); the softmax has none.
PARAMS = 97 * 16 + (16 * 16 * 256 + 256) + (256 * 97 + 97)  # 92,273


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict(smoke):
    assert_every_claim_judged(smoke, CLAIM_IDS, trials=4, source_file="004_6e8709b0f2e54d47.txt")


def test_trials_hold_both_arms_with_the_same_initial_weights(smoke):
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, seed) for arm in ARMS for seed in (0, 1))
    assert (trials["params/total"] == PARAMS).all()
    assert (trials["diverged"] == 0).all()
    by_seed = trials.pivot(index="seed", columns="arm", values="grad/logits_norm_init")
    # The same weights at initialisation, so the ratio of the two gradients is the loss's doing: below
    # the zero-logits factor 1/V (the logits are small, not zero, at initialisation) and far below 1.
    ratio = by_seed["double_softmax"] / by_seed["logits"]
    assert ((ratio > 0.2 / V) & (ratio < 2.0 / V)).all(), ratio.to_dict()
    loss_init = trials.pivot(index="seed", columns="arm", values="grad/loss_init")
    # Near-uniform outputs at initialisation: both losses are close to log V, the double one within its band.
    np.testing.assert_allclose(loss_init.to_numpy(), math.log(V), atol=0.05)
    floor, ceiling = MODULE.double_loss_band(V)
    double = trials[trials["arm"] == "double_softmax"]
    assert ((double["train/final_loss"] > floor) & (double["train/final_loss"] < ceiling)).all()
    assert (double["test/loss"] > floor).all()


def test_trial_metrics_agree_with_each_other(smoke):
    trials = smoke["trials"]
    np.testing.assert_allclose(trials["test/accuracy_gain"],
                               trials["test/accuracy"] - trials["baseline/majority_accuracy"], atol=1e-6)
    assert trials["baseline/majority_accuracy"].nunique() == 1 and trials["baseline/unigram_nats"].nunique() == 1
    # The space is the most frequent character: about 16.6% of the test characters.
    assert 0.15 < trials["baseline/majority_accuracy"].iloc[0] < 0.18
    assert trials["test/distinct_predictions"].between(1, V).all()
    # the logits arm's Keras loss is its cross-entropy in nats per character
    logits = trials[trials["arm"] == "logits"]
    np.testing.assert_allclose(logits["test/loss"], logits["test/nats_per_char"], rtol=1e-4)


def test_e2a_closed_forms_hold_at_both_class_counts(smoke):
    measured = smoke["checks"]["double_softmax_closed_forms"]
    for vocab in (V, 200):
        assert measured[f"V{vocab}/zero_logits_gradient_ratio"] == pytest.approx(1 / vocab, rel=1e-5)
        assert measured[f"V{vocab}/zero_logits_correct_gradient_norm"] == pytest.approx(math.sqrt((vocab - 1) / vocab),
                                                                                      rel=1e-5)
        assert measured[f"V{vocab}/loss_floor"] == pytest.approx(math.log(vocab - 1 + math.e) - 1, rel=1e-5)
        assert measured[f"V{vocab}/loss_ceiling"] - measured[f"V{vocab}/loss_floor"] == pytest.approx(1.0, rel=1e-5)
        assert measured[f"V{vocab}/loss_rel_diff"] < 1e-5 and measured[f"V{vocab}/gradient_rel_diff"] < 1e-5
        assert measured[f"V{vocab}/random_logits_gradient_norm_ratio"] < 2.0 / vocab  # ~1/V, not ~1
    assert smoke["verdicts"]["E2a"].verdict == "supported"


def test_e2c_keras_unwraps_its_own_softmax_but_not_a_hand_written_one(smoke):
    measured = smoke["checks"]["keras_softmax_with_from_logits"]
    assert measured["correct_loss"] - measured["double_loss"] > 100 * EXPERIMENT.thresholds["float_tolerance"]
    for form in ("softmax_activation", "softmax_layer"):
        assert measured[f"{form}/loss_is_correct"] is True and measured[f"{form}/applies_softmax_twice"] is False
        assert measured[f"{form}/warns"] is True
        assert measured[f"{form}/weights_max_abs_diff_after_fit"] == 0.0  # trains exactly as the logits model
    assert measured["hand_written_softmax/applies_softmax_twice"] is True
    assert measured["hand_written_softmax/warns"] is False
    assert measured["hand_written_softmax/weights_max_abs_diff_after_fit"] > 1e-4
    assert measured["softmax_layer_from_logits_false/loss_is_correct"] is True
    assert "from_logits=True" in measured["warning"]
    e2c = smoke["verdicts"]["E2c"]
    assert e2c.verdict == "refuted"
    assert [c.match for c in e2c.measured.checked] == [False, False, True]


def test_e2b_is_inconclusive_at_two_seeds_and_its_numbers_come_from_trials_csv(smoke):
    e2b = smoke["verdicts"]["E2b"]
    assert e2b.verdict == "inconclusive"
    comparisons = e2b.measured.comparisons
    assert [c.judged for c in comparisons[:2]] == [True, True]
    gains = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy_gain")
    assert comparisons[0].mean == pytest.approx(0.02 - gains["double_softmax"].mean(), abs=1e-12)
    assert comparisons[1].mean == pytest.approx(gains["logits"].mean() - 0.02, abs=1e-12)


# ---- the closed forms on hand-made logits ----------------------------------------------------------
def test_closed_forms_by_hand_on_two_classes():
    # z = (0, 0), y = 0: p = (1/2, 1/2) = q; loss = log 2; gradient = p * (g - <p, g>) with g = (-1/2, 1/2)
    # and <p, g> = 0: (-1/4, 1/4), half (1/V) of the correct gradient (-1/2, 1/2)
    z, y = np.zeros((1, 2)), np.array([0])
    assert MODULE.double_loss(z, y)[0] == pytest.approx(math.log(2), rel=1e-15)
    np.testing.assert_allclose(MODULE.double_gradient(z, y), [[-0.25, 0.25]], rtol=1e-15)
    np.testing.assert_allclose(MODULE.correct_gradient(z, y), [[-0.5, 0.5]], rtol=1e-15)
    # z = (big, 0): p = (1, 0), q = (e, 1) / (e + 1): loss = log(1 + e) - 1, the band's floor at V = 2
    assert MODULE.double_loss(np.array([[40.0, 0.0]]), y)[0] == pytest.approx(math.log(1 + math.e) - 1, rel=1e-12)
    assert MODULE.double_loss_band(2) == pytest.approx((math.log(1 + math.e) - 1, math.log(1 + math.e)))


def test_double_gradient_is_the_finite_difference_of_double_loss():
    rng = np.random.default_rng(0)
    z, y = rng.normal(scale=2.0, size=(3, 7)), np.array([0, 3, 6])
    h = 1e-6
    numeric = np.zeros_like(z)
    for j in range(7):
        step = np.zeros_like(z)
        step[:, j] = h
        numeric[:, j] = (MODULE.double_loss(z + step, y) - MODULE.double_loss(z - step, y)) / (2 * h)
    np.testing.assert_allclose(MODULE.double_gradient(z, y), numeric, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(MODULE.double_gradient(z, y).sum(axis=1), 0.0, atol=1e-15)  # softmax: shift-free


def test_hand_written_softmax_is_a_softmax_keras_does_not_recognise(keras):
    import keras

    z = np.random.default_rng(1).normal(size=(4, 5)).astype("float32")
    out = MODULE.hand_written_softmax(keras.ops.convert_to_tensor(z))
    np.testing.assert_allclose(np.asarray(out), MODULE.softmax(z), rtol=1e-6)
    assert not hasattr(out, "_keras_logits")
    assert hasattr(keras.activations.softmax(keras.ops.convert_to_tensor(z)), "_keras_logits")


# ---- the corpus ------------------------------------------------------------------------------------
def test_windows_are_the_characters_before_each_target():
    ids = np.arange(10)
    x, y = MODULE.windows(ids, 3)
    np.testing.assert_array_equal(x[0], [0, 1, 2])
    np.testing.assert_array_equal(y, np.arange(3, 10))
    np.testing.assert_array_equal(x[:, -1] + 1, y)
    x, y = MODULE.windows(ids, 3, stride=4)
    np.testing.assert_array_equal(y, [3, 7])


def test_text_splits_are_disjoint_blocks_of_the_sources():
    cfg = config.resolve(EXPERIMENT, "quick")
    data = MODULE.load_data(cfg)
    text, vocabulary = MODULE.corpus()
    assert data.num_classes == len(vocabulary) == V
    blocks = -(-len(text) // cfg["block_chars"])
    examples = len(data.y_train) + len(data.y_val) + len(data.y_test)
    # every position of every block but its first `context` characters is the target of one example
    assert examples == len(text) - blocks * cfg["context"]
    assert vocabulary[data.majority_class] == " "
    decoded = "".join(vocabulary[i] for i in data.x_test[0]) + vocabulary[data.y_test[0]]
    assert decoded in text
    assert MODULE.load_data(cfg).x_test.tobytes() == data.x_test.tobytes()  # fixed by data_seed


def test_the_digits_setting_builds_the_same_heads_on_images(keras):
    cfg = config.resolve(EXPERIMENT, "smoke", {"dataset": "digits"})
    data = MODULE.load_data(cfg)
    assert data.num_classes == 10 and 0.09 < data.majority_accuracy < 0.12
    model = MODULE.build_model("double_softmax", cfg, data)
    assert model.count_params() == (64 * 256 + 256) + (256 * 10 + 10)
    probabilities = np.asarray(model(data.x_test[:3]))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="unknown head"):
        MODULE.build_model("softmax_twice", cfg, data)


# ---- the E2b rule on hand-made evidence --------------------------------------------------------------
def _evidence(gain, seeds=6):
    """gain(arm, seed) -> test/accuracy_gain; every other metric the rule reads is filled in."""
    cfg = config.resolve(EXPERIMENT, "quick")
    rule = MODULE.e2b_rule(cfg)
    rows = []
    for arm in ARMS:
        for seed in range(seeds):
            row = {"arm": arm, "seed": seed, "diverged": 0.0, **{metric: 1.0 + seed for metric in rule.metrics}}
            row["test/accuracy_gain"] = gain(arm, seed)
            row["grad/logits_norm_init"] = (1.0 if arm == "logits" else 0.01) * (1 + 0.01 * seed)
            rows.append(row)
    return Evidence(pd.DataFrame(rows), {}, cfg, EXPERIMENT.if_diverged(cfg)), rule


def noise(arm, seed):
    """Seed noise shared by the arms, plus a little of the logits arm's own."""
    return 0.002 * ((seed * 7) % 5 - 2) + (0.001 * (seed % 2) if arm == "logits" else 0.0)


def _outcome(means):
    evidence, rule = _evidence(lambda arm, seed: means[arm] + noise(arm, seed))
    return rule.evaluate(evidence)


def test_e2b_supported_when_the_double_softmax_stays_at_the_baseline():
    outcome = _outcome({"logits": 0.30, "double_softmax": 0.001})
    assert outcome.verdict == "supported", outcome.reason
    assert outcome.details["parts"] == ["supported", "supported"]


def test_e2b_refuted_when_the_double_softmax_learns():
    outcome = _outcome({"logits": 0.30, "double_softmax": 0.20})
    assert outcome.verdict == "refuted", outcome.reason
    assert outcome.details["parts"] == ["refuted", "supported"]
    unreached = next(c for c in outcome.comparisons if c.name.startswith("1 - gain"))
    assert unreached.mean == pytest.approx(1 - 0.20 / (0.30 + 0.0005), abs=1e-3) and not unreached.judged
    taken = next(c for c in outcome.comparisons if c.name.startswith("1 - grad_z"))
    assert taken.mean == pytest.approx(0.99, rel=1e-9) and not taken.judged  # gradients 0.01 vs 1.0 per seed


def test_e2b_not_supported_when_neither_network_learns():
    outcome = _outcome({"logits": 0.001, "double_softmax": 0.001})
    assert outcome.verdict == "refuted", outcome.reason
    assert outcome.details["parts"] == ["supported", "refuted"]


@pytest.mark.parametrize("key,value,claim_id,printed", [
    ("learning_margin", "0.05", "E2b", "0.05 minus the mean gain"),
    ("float_tolerance", "1e-06", "E2a", "<= 1e-06"),
])
def test_each_threshold_override_is_the_one_the_rule_text_names(key, value, claim_id, printed):
    cfg = config.resolve(EXPERIMENT, "smoke", overrides={key: value})
    claim = next(c for c in EXPERIMENT.claims if c.id == claim_id)
    assert printed in claim.rule_for(cfg).describe()
    assert printed not in claim.rule_for(config.resolve(EXPERIMENT, "smoke")).describe()


def test_the_gradient_probe_gives_dense_finite_norms_on_tensorflow_too(keras):
    """The trials run on JAX; the `tensorflow` setting runs them on TensorFlow, whose gradient with respect to
    an Embedding is sparse (IndexedSlices): train.chain_gradients makes it dense, as JAX's is."""
    cfg = config.resolve(EXPERIMENT, "smoke", {"backend": "tensorflow"})
    data = MODULE.load_data(cfg)
    model = MODULE.build_model("logits", cfg, data)
    scale = MODULE.gradient_scale(model, data, cfg)
    assert all(math.isfinite(value) and value > 0 for value in scale.values()), scale
