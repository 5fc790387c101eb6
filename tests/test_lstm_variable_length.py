"""lstm_variable_length: a smoke run end to end (verdicts, MLflow runs, exact values), and the input forms
each arm builds (padding, concatenated windows, equal-length batches, chunks) on small hand-checkable data."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT
from mlflow import MlflowClient

from claimlab import config, registry, train

NAME = "lstm_variable_length"
CLAIM_IDS = ["L1", "L2", "L3", "L4a", "L4b", "L5"]
INTERRUPTED_ARMS = ["post_pad", "pre_pad", "post_pad_mask", "bucketing", "stateful_chunks", "concatenated"]
ARMS = INTERRUPTED_ARMS + ["long_full", "long_chunked"]


@pytest.fixture(scope="module")
def experiment():
    return registry.load(NAME)


@pytest.fixture(scope="module")
def module(experiment):
    return experiment.module


@pytest.fixture(scope="module")
def smoke_cfg(experiment):
    return config.resolve(experiment, "smoke")


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    """python runner.py lstm_variable_length --profile smoke --jobs 2, in this process, into a fresh store."""
    return smoke_runs(NAME, "--jobs", "2")


# ---- the smoke run ----------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict(smoke):
    summary = smoke["summary"]
    assert summary.status == "complete"
    assert [c.id for c in summary.claims] == CLAIM_IDS
    for claim in summary.claims:
        assert claim.verdict in ("supported", "refuted", "inconclusive"), claim
        assert claim.source.file == "000_2706fe11d950e137.txt"
    for claim_id in CLAIM_IDS:
        assert any(line.startswith(claim_id + " ") for line in smoke["output"].splitlines()), claim_id


def test_child_runs_hold_the_metrics_and_curves(smoke, smoke_cfg):
    client = MlflowClient(tracking_uri=smoke["uri"])
    experiment = client.get_experiment_by_name(NAME)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    children = [r for r in runs if r.data.tags.get("claimlab.role") == "trial"]
    assert sorted((r.data.params["arm"], r.data.params["seed"]) for r in children) == sorted(
        (arm, str(seed)) for arm in ARMS for seed in range(smoke_cfg["seeds"]))
    for run in children:
        metrics, arm = run.data.metrics, run.data.params["arm"]
        assert 0.0 <= metrics["test/accuracy"] <= 1.0 and metrics["test/loss"] > 0
        assert metrics["time/epoch_seconds"] > 0 and metrics["diverged"] == 0.0
        if arm in INTERRUPTED_ARMS:
            for length in smoke_cfg["lengths"]:
                assert 0.0 <= metrics[f"test/accuracy_len{length}"] <= 1.0
            assert metrics["params/total"] == 4 * 16 * (1 + 16 + 1) + 17  # LSTM(16) on 1 feature + Dense(1)
        else:
            assert metrics["params/total"] == 4 * 16 * (2 + 16 + 1) + 17  # reading + marker
        for key in ("train/loss", "val/accuracy"):
            steps = sorted(m.step for m in client.get_metric_history(run.info.run_id, key))
            assert steps == list(range(1, smoke_cfg["epochs"] + 1)), (arm, key)
        (dataset_input,) = run.inputs.dataset_inputs
        expected = "interrupted_series" if arm in INTERRUPTED_ARMS else "long_dependency_series"
        assert dataset_input.dataset.name == expected


def test_l2_reports_accuracy_and_time_for_every_option(smoke):
    l2 = next(c for c in smoke["summary"].claims if c.id == "L2")
    options = {"post_pad", "pre_pad", "post_pad_mask", "stateful_chunks", "bucketing"}
    arms = l2.measured.arms
    assert {a.arm for a in arms if a.metric == "test/accuracy"} == options
    assert {a.arm for a in arms if a.metric == "time/epoch_seconds"} == options
    assert all(a.n == 2 and a.mean > 0 for a in arms if a.metric == "time/epoch_seconds")
    comparisons = l2.measured.comparisons
    assert [c.name for c in comparisons] == [f"{o} - bucketing" for o in ("post_pad", "pre_pad", "post_pad_mask",
                                                                             "stateful_chunks")]
    assert all(c.judged and c.metric == "test/accuracy" and c.margin == 0.05 for c in comparisons)
    assert l2.measured.details["parts"] == [c.verdict for c in comparisons]


# ---- exact checks: the measured values --------------------------------------------------------------
def test_l1_answer_model_has_24832_parameters_for_any_batch_and_length(smoke):
    measured = smoke["summary"].checks["lstm_any_length_parameter_count"]
    assert measured["lstm_parameters"] == 24_832 == measured["formula_4_units_inputs_units_1"], measured
    assert measured["output_shape_batch10_len5"] == [10, 64], measured
    assert measured["output_shape_batch5_len100"] == [5, 64], measured
    assert measured["parameters_after_both_predicts"] == 24_832, measured
    assert next(c for c in smoke["summary"].claims if c.id == "L1").verdict == "supported"


def test_l3_masking_makes_padding_invisible_and_without_it_padding_changes_the_output(smoke):
    measured = smoke["summary"].checks["masked_padding_matches_unpadded"]
    assert measured["lengths"] == [5, 10, 15, 20, 25, 30]
    assert measured["post_padded_masked_max_abs_diff"] <= 1e-5, f"Masking no longer skips post-padding: {measured}"
    assert measured["pre_padded_masked_max_abs_diff"] <= 1e-5, f"Masking no longer skips pre-padding: {measured}"
    # Without the mask the zeros are read as data (the check's LSTM has a non-zero bias, so even leading
    # zeros move the state): the difference must be visible, or the check compares nothing.
    assert measured["post_padded_unmasked_max_abs_diff"] > 1e-2, measured
    assert measured["pre_padded_unmasked_max_abs_diff"] > 1e-2, measured
    assert next(c for c in smoke["summary"].claims if c.id == "L3").verdict == "supported"


def test_l4a_stateful_chunks_equal_forward_but_truncated_gradients(smoke):
    measured = smoke["summary"].checks["stateful_chunks_vs_full_sequence"]
    assert measured["chunks"] == 4 and measured["chunk"] == 5
    assert measured["forward_max_abs_diff"] <= 1e-5, f"stateful chunks no longer reproduce the full pass: {measured}"
    assert measured["loss_abs_diff"] <= 1e-5, measured
    # The output layer sees the same LSTM output either way, so its gradient is the same ...
    for name in ("output_kernel", "output_bias"):
        assert measured[f"relative_diff_{name}"] <= 1e-5, (name, measured)
    # ... but the LSTM's gradient loses what flows back through the three earlier chunks.
    for name in ("lstm_kernel", "lstm_recurrent_kernel", "lstm_bias"):
        assert measured[f"relative_diff_{name}"] > 0.05, (name, measured)
        assert 0.5 < measured[f"cosine_{name}"] < 0.9999, (name, measured)
    relative = [value for key, value in measured.items() if key.startswith("relative_diff_")]
    draws = measured["by_draw"]  # the judged value is the worst of 5 draws of the weights; the parts are draw 0's
    assert len(relative) == 5 and draws["max_relative_gradient_diff"][0] == max(relative)
    assert draws["seeds"] == [0, 1, 2, 3, 4] and measured["max_relative_gradient_diff"] == max(
        draws["max_relative_gradient_diff"])
    assert max(draws["forward_max_abs_diff"]) <= 1e-5 and min(draws["max_relative_gradient_diff"]) > 0.05
    l4a = next(c for c in smoke["summary"].claims if c.id == "L4a")
    assert l4a.verdict == "refuted"
    checked = {c.quantity: c for c in l4a.measured.checked}
    assert checked["forward_max_abs_diff"].match is True  # the forward pass is the same ...
    assert checked["max_relative_gradient_diff"].match is False  # ... the gradient is not: that refutes
    assert checked["max_relative_gradient_diff"].measured == measured["max_relative_gradient_diff"]
    assert "gradient cosine full vs chunked BPTT (draw 0): lstm_kernel" in l4a.reason
    assert "<= 1e-05" in l4a.rule and "<= 0.0001" in l4a.rule


# ---- the rules: thresholds from the resolved config ------------------------------------------------
def test_rules_name_the_thresholds_of_the_resolved_config(experiment, module):
    assert set(experiment.thresholds) == {"accuracy_margin", "forward_tolerance", "gradient_tolerance"}
    cfg = config.resolve(experiment, "smoke", overrides={"accuracy_margin": "0.07", "forward_tolerance": "2e-05",
                                                         "gradient_tolerance": "0.0003"})
    rules = {claim.id: claim.rule_for(cfg) for claim in experiment.claims}
    l2 = rules["L2"].describe()
    assert l2.count("claimed equivalent within +-0.07") == 4 and "+-0.05" not in l2  # each option's margin
    assert [part.margin for part in rules["L2"].parts] == [0.07] * 4
    assert "absolute tolerance of 2e-05" in rules["L3"].describe() and rules["L3"].abs_tol == 2e-05
    assert "forward_max_abs_diff <= 2e-05" in rules["L4a"].describe()
    assert "max_relative_gradient_diff <= 0.0003" in rules["L4a"].describe()
    assert "+-0.07" in rules["L4b"].describe() and rules["L4b"].margin == 0.07
    for claim in experiment.claims:
        assert "0.05" not in claim.hypothesis and "1e-" not in claim.hypothesis, claim.id


def test_l4a_verdict_applies_the_configured_gradient_tolerance(experiment, module):
    from claimlab.verdict import Evidence

    measured = {"forward_max_abs_diff": 1e-7, "max_relative_gradient_diff": 2e-4, "cosine_lstm_kernel": 0.99}
    evidence = Evidence(trials=None, checks={"stateful_chunks_vs_full_sequence": measured})
    strict = module.l4a_rule({**experiment.thresholds}).evaluate(evidence)
    loose = module.l4a_rule({**experiment.thresholds, "gradient_tolerance": 3e-4}).evaluate(evidence)
    assert (strict.verdict, loose.verdict) == ("refuted", "supported")
    assert "gradient cosine full vs chunked BPTT (draw 0): lstm_kernel 0.9900" in strict.reason
    failed = module.l4a_rule(experiment.thresholds).evaluate(Evidence(trials=None, checks={}))
    assert failed.verdict == "inconclusive"  # a check that did not run decides nothing


def test_l2_rule_on_hand_made_trials(experiment, module):
    import pandas as pd

    from claimlab.verdict import Evidence

    noise = [0.001, -0.002, 0.0, 0.002, -0.001]

    def trials(post_pad_gap):
        rows = []
        for arm in module.L2_OPTIONS + (module.L2_REFERENCE,):
            offset = post_pad_gap if arm == "post_pad" else 0.0
            rows += [{"arm": arm, "seed": seed, "test/accuracy": 0.9 - offset + (e if arm != "bucketing" else 0.0),
                      "time/epoch_seconds": 0.1} for seed, e in enumerate(noise)]
        return Evidence(trials=pd.DataFrame(rows))

    rule = module.l2_rule(experiment.thresholds)
    assert rule.evaluate(trials(0.0)).verdict == "supported"  # every option within +-0.05
    assert rule.evaluate(trials(0.2)).verdict == "refuted"  # post_pad clearly 20 points worse
    # 5 points worse in every seed: clear of 0 and not inside the margin, a difference that refutes
    assert rule.evaluate(trials(0.05)).verdict == "refuted"
    assert rule.evaluate(trials(0.04)).verdict == "supported"  # 4 points worse, but inside +-0.05: negligible
    seconds = [a for a in rule.evaluate(trials(0.0)).arms if a.metric == "time/epoch_seconds"]
    assert [a.arm for a in seconds] == list(module.L2_OPTIONS) + ["bucketing"]


# ---- the input forms of the arms --------------------------------------------------------------------
def small_split(module):
    series = [np.full((n, 1), float(i + 1), dtype="float32") for i, n in enumerate((5, 10, 5, 15))]
    return module.SeriesSplit(series, np.array([0, 1, 0, 1], dtype="float32"))


def test_padding_puts_zeros_after_or_before_each_series(module):
    split = small_split(module)
    post, pre = module.pad(split, 15, "post"), module.pad(split, 15, "pre")
    assert post.shape == pre.shape == (4, 15, 1)
    np.testing.assert_array_equal(post[1, :10, 0], 2.0)
    np.testing.assert_array_equal(post[1, 10:, 0], 0.0)
    np.testing.assert_array_equal(pre[1, :5, 0], 0.0)
    np.testing.assert_array_equal(pre[1, 5:, 0], 2.0)
    np.testing.assert_array_equal(pre[3, :, 0], 4.0)  # the longest series is not padded


def test_concatenated_windows_end_with_their_series_and_start_in_other_series(module):
    split = small_split(module)
    windows = module.concatenated_windows(split, 15, data_seed=0)
    assert windows.shape == (4, 15, 1)
    assert not np.any(windows == 0.0), "a window must be made of real readings, no zero marks a start"
    for i, series in enumerate(split.series):
        np.testing.assert_array_equal(windows[i, -len(series):], series)
        if len(series) < 15:
            assert windows[i, -len(series) - 1, 0] != series[0, 0], "the step before must come from another series"


def test_equal_length_batches_cover_every_series_once_with_one_length_each(experiment, module):
    split = module.interrupted_series({**experiment.config, "data_seed": 0, "train_per_length": 64})["train"]
    batches = module.equal_length_batches(split, 32, np.random.default_rng(0))
    assert len(batches) == 6 * 2
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(split.labels)))
    for members in batches:
        assert len(members) == 32 and len(set(split.lengths[members].tolist())) == 1
    again = module.equal_length_batches(split, 32, np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again)), "the order must follow the seed"


def test_chunks_cut_a_series_into_gcd_pieces(module):
    x = np.arange(2 * 20).reshape(2, 20, 1)
    pieces = module.chunks(x, 5)
    assert [p.shape for p in pieces] == [(2, 5, 1)] * 4
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), x)


def test_tasks_depend_on_data_seed_only_and_labels_follow_their_definition(module, smoke_cfg):
    cfg = {**smoke_cfg, "data_seed": 0}
    first, again = module.interrupted_series(cfg), module.interrupted_series(cfg)
    other = module.interrupted_series({**cfg, "data_seed": 1})
    train_split = first["train"]
    assert all(np.array_equal(a, b) for a, b in zip(train_split.series, again["train"].series))
    assert not np.array_equal(train_split.series[0], other["train"].series[0])
    assert sorted(set(train_split.lengths.tolist())) == [5, 10, 15, 20, 25, 30]
    means = np.array([s.mean() for s in train_split.series])
    np.testing.assert_array_equal(train_split.labels, (means > 0.5).astype("float32"))
    assert 0.35 < train_split.labels.mean() < 0.65
    assert not any(np.any(s == 0.0) for s in train_split.series), "a real reading of 0 would be masked"

    long = module.long_dependency_series(cfg)["test"]
    x = np.stack(long.series)
    assert x.shape == (cfg["long_test"], 20, 2)
    marked = x[:, :, 1].argmax(axis=1)
    np.testing.assert_array_equal(x[:, :, 1].sum(axis=1), 1.0)
    assert marked.max() < cfg["chunk"], "the marked step must lie in the first chunk"
    np.testing.assert_array_equal(long.labels, (x[np.arange(len(x)), marked, 0] > 0.5).astype("float32"))


def test_the_scorer_agrees_with_keras_evaluate(keras, module, smoke_cfg):
    train.seed_everything(0)
    model = module.build_classifier(smoke_cfg, 1, timesteps=30, mask=True)
    split = module.interrupted_series({**smoke_cfg, "data_seed": 0})["val"]
    x = module.pad(split, 30, "post")
    ours = module.score(model.predict(x, verbose=0)[:, 0], split.labels, "val")
    keras_values = train.evaluate(model, x, split.labels, "val")
    assert ours["val/accuracy"] == pytest.approx(keras_values["val/accuracy"], abs=1e-6)
    assert ours["val/loss"] == pytest.approx(keras_values["val/loss"], abs=1e-5)


def test_a_stateful_trial_is_deterministic_for_a_seed_and_differs_across_seeds(keras, experiment, smoke_cfg):
    cfg = config.trial_config({**smoke_cfg, "epochs": 1}, experiment.arms["stateful_chunks"])
    results = []
    for seed in (3, 3, 4):
        train.seed_everything(seed)
        results.append(experiment.run_trial("stateful_chunks", seed, cfg))
    timeless = [{k: v for k, v in r.metrics.items() if not k.startswith("time/")} for r in results]
    assert timeless[0] == timeless[1]
    assert results[0].history["train/loss"] == results[1].history["train/loss"]
    assert timeless[0]["test/loss"] != timeless[2]["test/loss"]


def test_every_input_form_starts_from_the_same_weights_for_a_seed(keras, module, smoke_cfg):
    """Arms are paired by seed: padded, masked, bucketed and stateful models begin identical."""
    weights = []
    for options in ({"timesteps": 30}, {"timesteps": 30, "mask": True}, {}, {"stateful_batch": 32}):
        train.seed_everything(7)
        weights.append(module.build_classifier(smoke_cfg, 1, **options).get_weights())
    for other in weights[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(weights[0], other))


# The experiment runs on TensorFlow because of this (its TENSORFLOW_BECAUSE): the stateful arms' model, fed a
# series in two pieces by the experiment's own predict_stateful, against the same weights on the whole series.
STATEFUL_PIECES_VS_WHOLE = """
import json, sys
import numpy as np
from claimlab import config, registry, train
module = registry.load("lstm_variable_length").module
cfg = config.resolve(registry.load("lstm_variable_length"), "smoke")
train.seed_everything(0)
x = np.random.default_rng(0).normal(0.5, 0.25, size=(4, 2 * cfg["chunk"], 1)).astype("float32")
stateful = module.build_classifier(cfg, 1, stateful_batch=4)
whole = module.build_classifier(cfg, 1, timesteps=x.shape[1])
whole.set_weights(stateful.get_weights())
in_pieces = module.predict_stateful(stateful, x, cfg["chunk"])
print(json.dumps(float(np.max(np.abs(in_pieces - np.asarray(whole.predict_on_batch(x)))))))
"""


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_the_stateful_arms_carry_their_state_on_tensorflow_only(process, backend):
    result = subprocess.run([sys.executable, "-c", STATEFUL_PIECES_VS_WHOLE], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "KERAS_BACKEND": backend})
    assert result.returncode == 0, result.stderr[-2000:]
    difference = float(result.stdout.strip().splitlines()[-1])
    if backend == "tensorflow":
        assert difference < 1e-6  # the state carried: the pieces compute the whole series
    else:
        # Keras' JAX backend drops the state between calls. If this fails, a Keras release carries it: the
        # experiment may move back to JAX (BACKEND, TENSORFLOW_BECAUSE, a `tensorflow` setting).
        assert difference > 1e-3
