"""lstm_variable_length: a smoke run end to end (verdicts, MLflow runs, exact values), and the input forms
each arm builds (padding, concatenated windows, equal-length batches, chunks) on small hand-checkable data."""


import numpy as np
import pytest
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
    assert summary["status"] == "complete"
    assert [c["id"] for c in summary["claims"]] == CLAIM_IDS
    for claim in summary["claims"]:
        assert claim["verdict"] in ("supported", "refuted", "inconclusive"), claim
        assert claim["source"]["file"] == "000_2706fe11d950e137.txt"
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
    l2 = next(c for c in smoke["summary"]["claims"] if c["id"] == "L2")
    assert set(l2["measured"]["arms"]) == {"post_pad", "pre_pad", "post_pad_mask", "stateful_chunks", "bucketing"}
    assert set(l2["measured"]["epoch_seconds"]) == set(l2["measured"]["arms"])
    assert len(l2["measured"]["pairs"]) == 4


# ---- exact checks: the measured values --------------------------------------------------------------
def test_l1_answer_model_has_24832_parameters_for_any_batch_and_length(smoke):
    measured = smoke["summary"]["checks"]["lstm_any_length_parameter_count"]
    assert measured["lstm_parameters"] == 24_832 == measured["formula_4_units_inputs_units_1"], measured
    assert measured["output_shape_batch10_len5"] == [10, 64], measured
    assert measured["output_shape_batch5_len100"] == [5, 64], measured
    assert measured["parameters_after_both_predicts"] == 24_832, measured
    assert next(c for c in smoke["summary"]["claims"] if c["id"] == "L1")["verdict"] == "supported"


def test_l3_masking_makes_padding_invisible_and_without_it_padding_changes_the_output(smoke):
    measured = smoke["summary"]["checks"]["masked_padding_matches_unpadded"]
    assert measured["lengths"] == [5, 10, 15, 20, 25, 30]
    assert measured["post_padded_masked_max_abs_diff"] <= 1e-5, f"Masking no longer skips post-padding: {measured}"
    assert measured["pre_padded_masked_max_abs_diff"] <= 1e-5, f"Masking no longer skips pre-padding: {measured}"
    # Without the mask the zeros are read as data (the check's LSTM has a non-zero bias, so even leading
    # zeros move the state): the difference must be visible, or the check compares nothing.
    assert measured["post_padded_unmasked_max_abs_diff"] > 1e-2, measured
    assert measured["pre_padded_unmasked_max_abs_diff"] > 1e-2, measured
    assert next(c for c in smoke["summary"]["claims"] if c["id"] == "L3")["verdict"] == "supported"


def test_l4a_stateful_chunks_equal_forward_but_truncated_gradients(smoke):
    measured = smoke["summary"]["checks"]["stateful_chunks_vs_full_sequence"]
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
    assert next(c for c in smoke["summary"]["claims"] if c["id"] == "L4a")["verdict"] == "refuted"


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


def test_equal_length_batches_cover_every_series_once_with_one_length_each(module):
    split = module.interrupted_series({**module.CONFIG, "data_seed": 0, "train_per_length": 64})["train"]
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


def test_the_scorer_agrees_with_keras_evaluate(module, smoke_cfg):
    train.seed_everything(0)
    model = module.build_classifier(smoke_cfg, 1, timesteps=30, mask=True)
    split = module.interrupted_series({**smoke_cfg, "data_seed": 0})["val"]
    x = module.pad(split, 30, "post")
    ours = module.score(model.predict(x, verbose=0)[:, 0], split.labels, "val")
    keras_values = train.evaluate(model, x, split.labels, "val")
    assert ours["val/accuracy"] == pytest.approx(keras_values["val/accuracy"], abs=1e-6)
    assert ours["val/loss"] == pytest.approx(keras_values["val/loss"], abs=1e-5)


def test_a_stateful_trial_is_deterministic_for_a_seed_and_differs_across_seeds(experiment, smoke_cfg):
    cfg = config.trial_config({**smoke_cfg, "epochs": 1}, experiment.arms["stateful_chunks"])
    results = []
    for seed in (3, 3, 4):
        train.seed_everything(seed)
        results.append(experiment.run_trial("stateful_chunks", seed, cfg))
    timeless = [{k: v for k, v in r.metrics.items() if not k.startswith("time/")} for r in results]
    assert timeless[0] == timeless[1]
    assert results[0].history["train/loss"] == results[1].history["train/loss"]
    assert timeless[0]["test/loss"] != timeless[2]["test/loss"]


def test_every_input_form_starts_from_the_same_weights_for_a_seed(module, smoke_cfg):
    """Arms are paired by seed: padded, masked, bucketed and stateful models begin identical."""
    weights = []
    for options in ({"timesteps": 30}, {"timesteps": 30, "mask": True}, {}, {"stateful_batch": 32}):
        train.seed_everything(7)
        weights.append(module.build_classifier(smoke_cfg, 1, **options).get_weights())
    for other in weights[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(weights[0], other))
