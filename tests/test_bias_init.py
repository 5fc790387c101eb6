"""bias_init: one real smoke run (MLflow store, results files, verdicts), the initialisers and dead-ReLU
counting on real Keras objects, and the B2 / B3 rules on hand-made evidence."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab import config, registry, train
from claimlab.verdict import FIT_STOPPED, Evidence

NAME = "bias_init"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["B1", "B2", "B3"]


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "2")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict(smoke):
    summary = smoke["summary"]
    assert summary.status == "complete" and (summary.trials.finished, summary.trials.planned) == (54, 54)
    assert [c.id for c in summary.claims] == CLAIM_IDS
    for claim in summary.claims:
        assert claim.verdict in ("supported", "refuted", "inconclusive", "measured"), claim
        assert any(line.startswith(claim.id) for line in smoke["output"].splitlines())
    assert summary.claim("B1").verdict == "measured"  # the quote asks why: measured, not judged
    # Two seeds are below the evidence floor: B2's part (a) must say so, not decide.
    b2 = next(c for c in summary.claims if c.id == "B2")
    assert b2.verdict == "inconclusive"
    spreads = [c for c in b2.measured.comparisons if c.name.endswith("weight spread - bias spread")]
    assert [(c.metric, c.judged) for c in spreads] == [
        ("train/auc", True), ("train/auc", True), ("train/epochs_to_threshold", False), ("test/accuracy", False),
        ("train/epochs_to_threshold", False), ("test/accuracy", False)]
    assert all(c.verdict == "inconclusive" and c.n == 2 and c.qualifier == "too few seeds: 2 < 3"
               for c in spreads)


def test_child_runs_log_the_arm_the_speed_and_dead_relu_metrics(smoke):
    client = MlflowClient(tracking_uri=smoke["uri"])
    experiment = client.get_experiment_by_name(NAME)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    children = [r for r in runs if r.data.tags.get("claimlab.role") == "trial"]
    assert sorted((r.data.params["arm"], r.data.params["seed"]) for r in children) == sorted(
        (arm, str(seed)) for arm in MODULE.ARMS for seed in (0, 1))
    for run in children:
        params, metrics = run.data.params, run.data.metrics
        assert params["arm"] == MODULE.arm_name(params["model"], params["weight_init"], params["bias_init"])
        for key in ("train/auc", "train/epochs_to_threshold", "train/reached_threshold", "test/accuracy",
                    "dead/share_init", "dead/share_trained", "dead/count_init", "zero_activation/share_init"):
            assert key in metrics, (params["arm"], key)
        assert 0.0 <= metrics["dead/share_init"] <= 1.0 and 0.0 <= metrics["train/auc"] <= 1.0
        assert metrics["relu/units"] == {"cnn": 112, "mlp": 192}[params["model"]]
        curve = sorted(client.get_metric_history(run.info.run_id, "train/accuracy"), key=lambda m: m.step)
        assert [m.step for m in curve] == [1, 2]
        assert metrics["train/auc"] == pytest.approx(np.mean([m.value for m in curve]), abs=1e-6)
    parent = next(r for r in runs if r.data.tags.get("claimlab.role") == "parent")
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert {"figures/auc_by_weight_and_bias_init.png", "figures/dead_relu_share.png"} <= figures


def cross_seed_squares(values, axis):
    """B2's squared spread, computed another way: for two levels' per-seed differences d, the mean of
    d_s * d_t over pairs of different seeds s != t (unbiased for the squared true difference, since the
    seeds are independent), averaged over the pairs of levels along `axis` and the other factor's levels."""
    products = []
    for first, second in itertools.combinations(range(values.shape[axis]), 2):
        for d in np.take(values, first, axis) - np.take(values, second, axis):
            products += [d[s] * d[t] for s, t in itertools.permutations(range(len(d)), 2)]
    return np.mean(products)


def test_verdict_numbers_agree_with_trials_csv(smoke):
    trials, claims = smoke["trials"], {c.id: c for c in smoke["summary"].claims}
    auc = trials.pivot(index="seed", columns="arm", values="train/auc")
    (b1,) = claims["B1"].measured.comparisons
    assert b1.mean == pytest.approx((auc["cnn_tn01_vgg"] - auc["cnn_tn01_zero"]).mean(), rel=1e-12)
    b2 = {(c.name, c.metric): c for c in claims["B2"].measured.comparisons}
    b2_arms = {(a.metric, a.arm): a for a in claims["B2"].measured.arms}
    for model in MODULE.MODELS:
        # judged over the bias inits the thread names; with the lab's all-ones arms too, reported only
        for bias_inits, name in ((MODULE.SOURCE_BIAS_INITS[model], "weight spread - bias spread"),
                                 (MODULE.BIAS_INITS[model], "weight spread - bias spread (with the lab's all-ones biases)")):
            values = np.array([[auc[MODULE.arm_name(model, w, b)].to_numpy() for b in bias_inits]
                               for w in MODULE.WEIGHT_INITS])  # weight inits x bias inits x seeds
            weight_minus_bias = cross_seed_squares(values, 0) - cross_seed_squares(values, 1)
            spread = b2[(f"{model}: {name}", "train/auc")]
            assert spread.mean == pytest.approx(weight_minus_bias, rel=1e-12)
            assert spread.judged == ("all-ones" not in name) and "one" not in MODULE.SOURCE_BIAS_INITS[model]
        for arm in MODULE.grid_arms(model, MODULE.BIAS_INITS[model]):  # every arm mean the spreads come from is in the table
            assert b2_arms[("train/auc", arm)].mean == pytest.approx(auc[arm].mean(), rel=1e-12)
    zero_vs_vgg = b2[("cnn_tn01_zero - cnn_tn01_vgg", "train/auc")]
    assert zero_vs_vgg.mean == pytest.approx((auc["cnn_tn01_zero"] - auc["cnn_tn01_vgg"]).mean(), rel=1e-12)
    assert zero_vs_vgg.margin == EXPERIMENT.thresholds["auc_margin"] and zero_vs_vgg.judged
    dead = trials.pivot(index="seed", columns="arm", values="dead/count_init")
    b3 = claims["B3"].measured
    for arm, values in b3.details["dead_units_at_init_in_0.01_arms"].items():
        assert values == list(dead[arm].astype(float))
    accuracy = trials.pivot(index="seed", columns="arm", values="test/accuracy")
    assert len(b3.comparisons) == 12  # per (model, weight init): c001 better than zero?, and equivalent?
    for comparison in b3.comparisons:
        small, zero = comparison.name.split(" - ")
        assert zero == small.replace("_c001", "_zero") and comparison.metric == "test/accuracy"
        assert comparison.mean == pytest.approx((accuracy[small] - accuracy[zero]).mean(), rel=1e-12, abs=1e-15)


def test_zero_bias_he_and_tn01_nets_have_the_same_dead_units(smoke):
    """HeNormal and TruncatedNormal(0.1) draw the same standardised samples from one seed, so with zero
    biases the two nets differ by a positive scale per layer; ReLU keeps the zero pattern, hence the same
    dead units at init. A Keras release that changes how initialisers sample breaks this."""
    dead = smoke["trials"].pivot(index="seed", columns="arm", values="dead/count_init")
    zeros = smoke["trials"].pivot(index="seed", columns="arm", values="zero_activation/share_init")
    for model in MODULE.MODELS:
        he, tn = MODULE.arm_name(model, "he", "zero"), MODULE.arm_name(model, "tn01", "zero")
        assert list(dead[he]) == list(dead[tn])
        np.testing.assert_allclose(zeros[he], zeros[tn], atol=1e-9)


# ---- real Keras objects ----------------------------------------------------------------------------
def _cfg(**overrides):
    return {**config.resolve(EXPERIMENT, "smoke"), **overrides}


def _biases_and_kernels(model):
    layers = [layer for layer in model.layers if hasattr(layer, "kernel")]
    return ([type(layer).__name__ for layer in layers], [np.asarray(layer.bias) for layer in layers],
            [np.asarray(layer.kernel) for layer in layers])


def test_bias_initialisers_put_the_arms_values_in_the_right_layers(keras):
    cfg = _cfg()
    kinds, vgg, _ = _biases_and_kernels(MODULE.build_model("cnn", "tn01", "vgg", (8, 8, 1), 10, 0, cfg))
    assert kinds == ["Conv2D"] * 4 + ["Dense"] * 3
    for kind, bias in zip(kinds, vgg):
        np.testing.assert_array_equal(bias, 0.0 if kind == "Conv2D" else 1.0)
    for bias_init, value in (("zero", 0.0), ("one", 1.0), ("c001", 0.01)):
        _, biases, _ = _biases_and_kernels(MODULE.build_model("mlp", "he", bias_init, (8, 8, 1), 10, 0, cfg))
        for bias in biases:
            np.testing.assert_allclose(bias, value)
    _, biases, _ = _biases_and_kernels(MODULE.build_model("cnn", "he", "rand", (8, 8, 1), 10, 0, cfg))
    drawn = np.concatenate(biases)
    assert drawn.std() == pytest.approx(0.088, abs=0.02)  # truncated at 2 stddev: 0.1 * 0.88
    assert np.abs(drawn).max() <= 2 * cfg["random_bias_stddev"] + 1e-6


def test_parameter_counts_and_shared_kernels_across_bias_arms(keras):
    cfg = _cfg()
    cnn = MODULE.build_model("cnn", "glorot", "zero", (8, 8, 1), 10, 3, cfg)
    assert cnn.count_params() == 80 + 584 + 1168 + 2320 + 2080 + 1056 + 330 == 7618
    assert MODULE.build_model("mlp", "glorot", "zero", (8, 8, 1), 10, 3, cfg).count_params() == 4160 * 3 + 650
    _, _, kernels = _biases_and_kernels(cnn)
    for bias_init in ("vgg", "one", "c001", "rand"):  # common random numbers: same kernels, same seed
        _, _, other = _biases_and_kernels(MODULE.build_model("cnn", "glorot", bias_init, (8, 8, 1), 10, 3, cfg))
        for a, b in zip(kernels, other):
            np.testing.assert_array_equal(a, b)
    _, _, next_seed = _biases_and_kernels(MODULE.build_model("cnn", "glorot", "zero", (8, 8, 1), 10, 4, cfg))
    assert not np.array_equal(kernels[0], next_seed[0])
    # He and the snippet's truncated normal: the same draws, rescaled (sqrt(2/fan_in)/0.8796 vs 0.1).
    _, _, he = _biases_and_kernels(MODULE.build_model("mlp", "he", "zero", (8, 8, 1), 10, 3, cfg))
    _, _, tn = _biases_and_kernels(MODULE.build_model("mlp", "tn01", "zero", (8, 8, 1), 10, 3, cfg))
    np.testing.assert_allclose(he[0] / tn[0], math.sqrt(2 / 64) / 0.87962566103423978 / 0.1, rtol=1e-4)


def test_dead_units_are_counted_per_neuron_and_per_channel(keras):
    import keras
    from keras import layers

    inputs = keras.Input((4, 4, 1))
    conv = layers.Conv2D(3, 1, activation="relu", name="probe_conv")
    x = conv(inputs)
    dense = layers.Dense(2, activation="relu", name="probe_dense")
    model = keras.Model(inputs, layers.Dense(2, activation="softmax")(dense(layers.Flatten()(x))))
    conv.set_weights([np.array([1.0, -1.0, 0.0]).reshape(1, 1, 1, 3), np.zeros(3)])  # channels 1, 2 dead
    dense.set_weights([np.concatenate([np.ones((48, 1)), -np.ones((48, 1))], axis=1), np.zeros(2)])  # unit 1 dead
    x_batch = np.zeros((2, 4, 4, 1), "float32")
    x_batch[0, 0, 0, 0] = 1.0  # a single positive pixel in one example
    activity = MODULE.relu_activity(MODULE.relu_probe(model), x_batch)
    assert (activity["dead"], activity["units"]) == (3, 5)
    assert activity["dead_share"] == pytest.approx(3 / 5)
    # zeros: conv 2*16*3 = 96 values, 1 nonzero; dense 2*2 = 4 values, 1 nonzero (example 0, unit 0)
    assert activity["zero_share"] == pytest.approx((95 + 3) / 100)


def test_epochs_to_threshold_interpolates_and_censors():
    assert MODULE.epochs_to_threshold([0.5, 0.9], 0.8, start=0.1) == (pytest.approx(1.75), True)
    assert MODULE.epochs_to_threshold([0.85, 0.95], 0.8, start=0.1) == (pytest.approx(0.7 / 0.75), True)
    assert MODULE.epochs_to_threshold([0.5, 0.6, 0.7], 0.8, start=0.1) == (4.0, False)
    assert MODULE.epochs_to_threshold([0.1], 0.8, start=0.9) == (0.0, True)


def test_a_trial_is_deterministic_for_a_seed(keras):
    cfg = _cfg(epochs=1, **MODULE.ARMS["mlp_he_c001"])
    results = []
    for seed in (5, 5, 6):
        train.seed_everything(seed)
        results.append(EXPERIMENT.run_trial("mlp_he_c001", seed, dict(cfg)))
    assert results[0].metrics == results[1].metrics and results[0].history == results[1].history
    assert results[0].metrics["test/loss"] != results[2].metrics["test/loss"]


# ---- the rules on hand-made evidence ----------------------------------------------------------------
CFG = config.resolve(EXPERIMENT, "smoke")


def _evidence(auc, epochs=2.0, reached=1.0, dead_c001=0.0, test_accuracy=lambda model, weight, bias, seed: 0.9,
              seeds=6, stopped=None):
    """Trials with the given per-arm values plus a small noise that differs between arms (tied seeds would
    be "no variation") and averages to exactly 0 over the 6 seeds (so arm means are the given values)."""
    rows = []
    for k, (arm, spec) in enumerate(MODULE.ARMS.items()):
        for seed in range(seeds):
            jitter = 0.001 * ((seed + k) % 6 - 2.5)
            rows.append({"arm": arm, "seed": seed,
                         "train/auc": auc(spec["model"], spec["weight_init"], spec["bias_init"], seed) + jitter,
                         "train/epochs_to_threshold": epochs + 10 * jitter, "train/reached_threshold": reached,
                         "test/accuracy": test_accuracy(spec["model"], spec["weight_init"], spec["bias_init"], seed)
                         + jitter,
                         "dead/count_init": dead_c001 if spec["bias_init"] == "c001" else 3.0,
                         "dead/share_init": 0.0, "dead/share_trained": 0.0})
            if stopped is not None:  # the plateau test's record: 0 where the trial reached the cap still improving
                rows[-1][FIT_STOPPED] = stopped(spec["model"], spec["weight_init"], spec["bias_init"], seed)
    if stopped is not None:
        return Evidence(trials=pd.DataFrame(rows), cfg=CFG, plateau=MODULE.PLATEAU)
    return Evidence(trials=pd.DataFrame(rows), cfg=CFG)


WEIGHT_EFFECT = {"he": 0.9, "glorot": 0.8, "tn01": 0.6}


def noise(seed):
    return 0.001 * ((seed * 7) % 5 - 2)  # tiny, deterministic seed noise


def _spread(outcome, model, metric="train/auc"):
    (comparison,) = [c for c in outcome.comparisons if c.name == f"{model}: weight spread - bias spread" and
                     c.metric == metric]
    return comparison


def test_b2_supported_when_only_weight_init_matters_and_refuted_when_bias_dominates():
    outcome = MODULE.b2_rule(CFG).evaluate(_evidence(lambda m, w, b, s: WEIGHT_EFFECT[w] + noise(s)))
    assert outcome.verdict == "supported", outcome.reason
    assert outcome.details["parts"] == ["supported"] * 6  # 2 spreads, then the snippet CNN's 4 equivalences
    # the lab's additions are reported, never judged: all-ones biases, the MLP's stand-in for a snippet bias
    reported = {c.name for c in outcome.comparisons if not c.judged}
    assert {"cnn: weight spread - bias spread (with the lab's all-ones biases)", "mlp_tn01_zero - mlp_tn01_one",
            "mlp_tn01_rand - mlp_tn01_one"} <= reported
    assert not any("_one" in c.name or "all-ones" in c.name for c in outcome.comparisons if c.judged)
    # weight inits 0.9, 0.8, 0.6: squared differences 0.01, 0.09, 0.04; no bias spread (up to the jitter)
    assert _spread(outcome, "cnn").mean == pytest.approx(0.14 / 3, abs=1e-5) and _spread(outcome, "cnn").ci_low > 0
    assert not _spread(outcome, "cnn", "test/accuracy").judged  # the secondary spreads are reported only
    bias_effect = {"zero": 0.0, "vgg": -0.5, "one": -0.5, "c001": -0.5, "rand": 0.0}
    outcome = MODULE.b2_rule(CFG).evaluate(
        _evidence(lambda m, w, b, s: 0.9 + bias_effect[b] + 0.01 * (w == "he") + noise(s)))
    assert outcome.verdict == "refuted", outcome.reason
    # both spreads below 0; train/auc different from the snippet's in both (epochs stay equivalent)
    assert outcome.details["parts"] == ["refuted", "refuted"] + ["refuted", "supported"] * 2
    # weight: he 0.01 above the others (0.01^2 in 2 of 3 pairs); bias: c001 0.5 below zero and rand (2 of 3 pairs)
    assert _spread(outcome, "mlp").mean == pytest.approx(2 / 3 * 0.01 ** 2 - 2 / 3 * 0.5 ** 2, abs=1e-5)
    comparisons = {(c.name, c.metric): c for c in outcome.comparisons}
    zero_vs_vgg = comparisons[("cnn_tn01_zero - cnn_tn01_vgg", "train/auc")]
    assert zero_vs_vgg.state == "different" and zero_vs_vgg.mean == pytest.approx(0.5)  # far outside +-auc_margin


def test_b2_is_inconclusive_when_a_threshold_was_never_reached():
    """Part (a) and the train/auc equivalences hold, but epochs to a threshold no run reached is no measurement."""
    outcome = MODULE.b2_rule(CFG).evaluate(_evidence(lambda m, w, b, s: WEIGHT_EFFECT[w] + noise(s), reached=0.0))
    assert outcome.details["parts"] == ["supported", "supported"] + ["supported", "inconclusive"] * 2
    assert outcome.verdict == "inconclusive"
    censored = [c.state for c in outcome.comparisons if c.metric == "train/epochs_to_threshold" and c.judged]
    assert censored == ["censored"] * 2


def test_b3_refuted_by_a_dead_unit_or_a_consistent_gain_supported_otherwise():
    rule = MODULE.b3_rule(CFG)
    flat = rule.evaluate(_evidence(lambda m, w, b, s: 0.9))
    assert flat.verdict == "supported", flat.reason  # all fire; accuracy equal -> equivalent
    assert [c.state for c in flat.comparisons] == ["negligible", "equivalent"] * 6  # equal accuracy, by either test
    assert flat.details["all_fire"] and not flat.details["consistent_improvement"]
    dead = rule.evaluate(_evidence(lambda m, w, b, s: 0.9, dead_c001=1.0))
    assert dead.verdict == "refuted" and not dead.details["all_fire"] and "dead units at init" in dead.reason
    gain = rule.evaluate(_evidence(lambda m, w, b, s: 0.9,
                                   test_accuracy=lambda m, w, b, s: 0.85 + 0.05 * (b == "c001") + 0.001 * (s % 3)))
    assert gain.verdict == "refuted" and gain.details["consistent_improvement"], gain.reason
    assert [c.state for c in gain.comparisons[::2]] == ["better"] * 6


def test_b3_neither_refuted_nor_supported_on_test_accuracy_of_an_under_trained_arm():
    """B3's own rule (Custom) judges its comparisons as every rule does: a c001 arm with a seed stopped by the
    cap, still improving, decides nothing about test accuracy, in either direction."""
    rule = MODULE.b3_rule(CFG)
    c001_at_cap = {"stopped": lambda m, w, b, s: float(not (b == "c001" and s == 0))}
    gain = rule.evaluate(_evidence(lambda m, w, b, s: 0.9, **c001_at_cap,
                                   test_accuracy=lambda m, w, b, s: 0.85 + 0.05 * (b == "c001") + 0.001 * (s % 3)))
    assert gain.verdict == "inconclusive" and not gain.details["consistent_improvement"], gain.reason
    assert gain.qualifier.startswith("under-trained: cnn_he_c001"), gain.qualifier
    flat = rule.evaluate(_evidence(lambda m, w, b, s: 0.9, **c001_at_cap))
    assert flat.verdict == "inconclusive" and "under-trained" in flat.qualifier
    trained = rule.evaluate(_evidence(lambda m, w, b, s: 0.9, stopped=lambda m, w, b, s: 1.0))
    assert trained.verdict == "supported"  # the same trials with every arm at its plateau
    dead = rule.evaluate(_evidence(lambda m, w, b, s: 0.9, dead_c001=1.0, **c001_at_cap))
    assert dead.verdict == "refuted"  # dead units at init are measured before any training


# ---- the thresholds are config keys: the rules apply and print the run's values -----------------------
@pytest.mark.parametrize("key,value,claim_id,printed", [
    ("auc_margin", "0.05", "B2", "inside +-0.05"),
    ("epochs_margin", "2.5", "B2", "inside +-2.5"),
    ("test_accuracy_margin", "0.03", "B3", "inside +-0.03"),
])
def test_each_threshold_override_is_the_one_the_rule_text_names(key, value, claim_id, printed):
    cfg = config.resolve(EXPERIMENT, "smoke", overrides={key: value})
    claim = next(c for c in EXPERIMENT.claims if c.id == claim_id)
    assert printed in claim.rule_for(cfg).describe()
    assert printed not in claim.rule_for(CFG).describe()


def test_each_threshold_override_is_the_one_the_rule_applies():
    evidence = _evidence(lambda m, w, b, s: WEIGHT_EFFECT[w] + noise(s))  # 6 seeds
    override = lambda **values: config.resolve(EXPERIMENT, "smoke", overrides=values)  # noqa: E731
    b2 = MODULE.b2_rule(override(auc_margin="0.05", epochs_margin="2.5")).evaluate(evidence)
    margins = {c.metric: c.margin for c in b2.comparisons if c.name == "mlp_tn01_rand - mlp_tn01_one"}
    assert margins == {"train/auc": 0.05, "train/epochs_to_threshold": 2.5}
    two_seeds = Evidence(trials=evidence.trials[evidence.trials["seed"] < 2], cfg=CFG)
    too_few = MODULE.b2_rule(CFG).evaluate(two_seeds)
    assert _spread(too_few, "cnn").verdict == "inconclusive" and _spread(too_few, "cnn").qualifier == "too few seeds: 2 < 3"
    assert too_few.verdict == "inconclusive"  # the same rule supports B2's spreads on all 6 seeds
    b3 = MODULE.b3_rule(override(test_accuracy_margin="0.03")).evaluate(evidence)
    assert {c.margin for c in b3.comparisons[1::2]} == {0.03}
