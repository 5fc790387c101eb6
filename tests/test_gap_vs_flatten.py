"""gap_vs_flatten end to end on the smoke profile: MLflow runs, results files, verdicts, exact values."""

import json

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab import config, registry, schema, train
from conftest import untimed

HEADS = ["gap", "gmp", "ema", "split4_gmp", "conv1_kernel", "flatten", "channel_mean"]
CLAIMS = ("G1", "G2", "G3", "G4", "G5", "G6")


@pytest.fixture(scope="module")
def store(smoke_run):
    assert smoke_run["code"] == 0, smoke_run["output"]
    client = MlflowClient(tracking_uri=smoke_run["uri"])
    experiment = client.get_experiment_by_name("gap_vs_flatten")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    return client, runs


def test_one_parent_run_with_description_tags_and_artifacts(store):
    client, runs = store
    parents = [r for r in runs if r.data.tags.get("claimlab.role") == "parent"]
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    tags = parent.data.tags
    assert tags["claimlab.claims"] == ",".join(CLAIMS) and tags["claimlab.profile"] == "smoke"
    assert "version.tensorflow" in tags and "version.keras" in tags and "version.mlflow" in tags
    assert "mlflow.source.git.commit" in tags
    note = tags["mlflow.note.content"]
    assert "A 7 x 7 x 64 CNN output being flattened" in note and "pending" not in note
    for claim in CLAIMS:
        assert tags[f"verdict.{claim}"] in ("supported", "refuted", "inconclusive")
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"summary.json", "summary.md", "trials.csv", "verdicts.json", "figures"} <= artifacts
    figures = {a.path for a in client.list_artifacts(parent.info.run_id, "figures")}
    assert {"figures/per_arm.png", "figures/learning_curves.png", "figures/accuracy_vs_shift.png"} <= figures


def test_one_nested_child_run_per_arm_and_seed_with_params_curves_and_data(store):
    client, runs = store
    parent_id = next(r.info.run_id for r in runs if r.data.tags.get("claimlab.role") == "parent")
    children = [r for r in runs if r.data.tags.get("claimlab.role") == "trial"]
    assert sorted((r.data.params["arm"], r.data.params["seed"]) for r in children) == sorted(
        (h, str(s)) for h in HEADS for s in (0, 1))
    cfg = config.resolve(registry.load("gap_vs_flatten"), "smoke")
    epochs = cfg["epochs"]
    for run in children:
        assert run.info.status == "FINISHED"
        assert run.data.tags["mlflow.parentRunId"] == parent_id
        params = run.data.params
        assert params["head"] == params["arm"] and params["epochs"] == str(epochs)
        assert {"learning_rate", "batch_size", "dataset", "trunk_filters", "data_seed"} <= set(params)
        for key in ("train/loss", "val/accuracy"):
            history = client.get_metric_history(run.info.run_id, key)
            assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(1, epochs + 1))
        assert 0.0 <= run.data.metrics["test/accuracy"] <= 1.0
        # the plateau test's numbers, derived by the runner from the trial's own training curve
        curve = [m.value for m in sorted(client.get_metric_history(run.info.run_id, "train/accuracy"),
                                         key=lambda m: m.step)]
        val_loss = [m.value for m in sorted(client.get_metric_history(run.info.run_id, "val/loss"), key=lambda m: m.step)]
        best_epoch, _ = registry.load("gap_vs_flatten").plateau.stop(cfg).replay(val_loss)  # each head trains to its val/loss plateau
        assert run.data.metrics["fit/final"] == pytest.approx(curve[best_epoch]) and len(curve) == epochs >= 2
        assert run.data.metrics["fit/epochs"] == len(curve) and run.data.metrics["fit/stopped"] == 0  # ran to the cap
        assert run.data.metrics["shift/accuracy_0"] == pytest.approx(run.data.metrics["test/accuracy"])
        (dataset_input,) = run.inputs.dataset_inputs
        assert dataset_input.dataset.name == "shifted_digits" and len(dataset_input.dataset.digest) == 16


def test_summary_json_schema(smoke_run):
    summary = json.loads((smoke_run["results"] / "gap_vs_flatten" / "summary.json").read_text())
    for key in ("experiment", "profile", "seeds", "command", "commit", "versions", "config", "claims", "status"):
        assert key in summary, key
    # the file as written is the typed summary's JSON, stamped with the schema version, and reads back
    assert summary["schema_version"] == schema.SCHEMA_VERSION
    assert schema.Summary.from_json(summary).to_json() == summary
    assert "seeds_needed" not in next(c for c in summary["claims"] if c["kind"] == "exact")
    assert summary["status"] == "complete" and summary["seeds"] == [0, 1]
    assert summary["command"].startswith("python runner.py gap_vs_flatten")
    assert {"tensorflow", "keras", "mlflow"} <= set(summary["versions"])
    assert [c["id"] for c in summary["claims"]] == list(CLAIMS)
    for claim in summary["claims"]:
        assert {"kind", "quote", "source", "rule", "hypothesis", "measured", "verdict", "reason"} <= set(claim)
        assert claim["verdict"] in ("supported", "refuted", "inconclusive")
        assert claim["source"]["file"] == "002_6725717de9344925.txt"
    g3 = next(c for c in summary["claims"] if c["id"] == "G3")
    (difference,) = g3["measured"]["comparisons"]
    assert difference["name"] == "gap - flatten" and difference["metric"] == "generalization_gap"
    assert difference["n"] == 2 and difference["ci_low"] <= difference["mean"] <= difference["ci_high"]


def test_results_files_agree_with_each_other(smoke_run):
    folder = smoke_run["results"] / "gap_vs_flatten"
    trials = pd.read_csv(folder / "trials.csv")
    assert len(trials) == 2 * len(HEADS) and set(trials["arm"]) == set(HEADS)
    g3 = schema.read_summary(folder).claim("G3")
    gaps = trials.pivot(index="seed", columns="arm", values="generalization_gap")
    assert g3.measured.comparisons[0].mean == pytest.approx((gaps["gap"] - gaps["flatten"]).mean(), rel=1e-12)
    markdown = (folder / "summary.md").read_text()
    assert "python runner.py gap_vs_flatten" in markdown and "![per_arm.png](per_arm.png)" in markdown
    for name in ("per_arm.png", "learning_curves.png", "accuracy_vs_shift.png"):
        assert (folder / name).stat().st_size > 1000
    ledger = (smoke_run["results"] / "README.md").read_text()
    for claim in CLAIMS:
        assert f"| {claim} | [gap_vs_flatten](gap_vs_flatten/summary.md#{claim.lower()})" in ledger


def test_every_claim_gets_a_verdict_in_the_terminal_table(smoke_run):
    for claim in CLAIMS:
        assert any(line.startswith(claim) for line in smoke_run["output"].splitlines())


def test_g2_counts_the_real_keras_dense_layer(smoke_run):
    summary = schema.read_summary(smoke_run["results"] / "gap_vs_flatten")
    measured = summary.checks["flatten_dense_weight_count"]
    assert measured["dense_weights"] == 7 * 7 * 64 * 500 == 1_568_000
    assert measured["dense_parameters_with_bias"] == 1_568_500
    assert measured["gap_dense_weights"] == 64 * 500
    assert summary.claim("G2").verdict == "supported"  # 1,568,000 is within the rule's 1% of "1.56 million"


def test_ema_head_weights_follow_the_snippets_loop():
    module = registry.load("gap_vs_flatten").module
    weights = module.exponential_moving_average_weights(4, 0.5)
    # avg = x0; avg = .5 x1 + .5 avg; avg = .5 x2 + .5 avg; avg = .5 x3 + .5 avg
    np.testing.assert_allclose(weights, [0.125, 0.125, 0.25, 0.5])
    assert weights.sum() == pytest.approx(1.0)


def test_every_head_builds_with_the_expected_head_size(keras):
    module = registry.load("gap_vs_flatten").module
    cfg = config.resolve(registry.load("gap_vs_flatten"), "smoke")
    head_params = {}
    for head in HEADS:
        model, trunk = module.build_model(head, (16, 16, 1), 10, cfg)
        assert model.output_shape == (None, 10)
        head_params[head] = model.count_params() - trunk
    assert head_params["gap"] == head_params["gmp"] == head_params["ema"] == 32 * 10 + 10
    assert head_params["split4_gmp"] == 4 * 32 * 10 + 10
    assert head_params["conv1_kernel"] == 33 + 64 * 10 + 10
    assert head_params["flatten"] == 64 * 32 * 128 + 128 + 128 * 10 + 10
    assert head_params["channel_mean"] == 64 * 10 + 10  # one feature per position: 64 positions, not 32 channels


def test_the_channel_mean_head_averages_the_channels_of_each_position(keras):
    """G5's head is the asker's [-1, 128, 1, 32] --> [-1, 128]: the mean over channels, per position."""
    import keras as k

    module = registry.load("gap_vs_flatten").module
    cfg = config.resolve(registry.load("gap_vs_flatten"), "smoke")
    model, _ = module.build_model("channel_mean", (16, 16, 1), 10, cfg)
    positions = model.get_layer("positions").output
    probe = k.Model(model.input, [positions, model.get_layer("channel_mean").output])
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 1)).astype("float32")
    per_position, averaged = (np.asarray(a) for a in probe(x))
    assert averaged.shape == (2, 64)
    np.testing.assert_allclose(averaged, per_position.mean(axis=-1), rtol=1e-6)


def test_g6_times_every_trial_and_compares_the_speed_as_a_paired_log_ratio(smoke_run):
    trials = pd.read_csv(smoke_run["results"] / "gap_vs_flatten" / "trials.csv")
    assert (trials["time/train_examples_per_second"] > 0).all()
    speed = trials.pivot(index="seed", columns="arm", values="time/train_examples_per_second")
    g6 = schema.read_summary(smoke_run["results"] / "gap_vs_flatten").claim("G6")
    (ratio,) = g6.measured.comparisons
    assert ratio.mean == pytest.approx(np.log(speed["gap"] / speed["flatten"]).mean(), rel=1e-9)
    assert ratio.smallest_effect == 0.1 and ratio.metric == "time/train_examples_per_second"


def test_the_resnet_trunk_is_the_askers_10_weighted_layers_with_the_same_64x32_positions(keras):
    import keras

    experiment = registry.load("gap_vs_flatten")
    cfg = config.resolve(experiment, "smoke", {"trunk": "resnet"})
    model, trunk_params = experiment.module.build_model("gap", (16, 16, 1), 10, cfg)
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(convolutions) == 9 and len(dense) == 1  # stem + 2 stages x 2 blocks x 2 convolutions; softmax
    assert any(isinstance(layer, keras.layers.Add) for layer in model.layers)  # residual, not plain
    assert model.get_layer("positions").output.shape[1:] == (64, 32)  # the plain trunk's 8x8 positions, 32 channels
    assert model.count_params() - trunk_params == 32 * 10 + 10
    with pytest.raises(Exception, match="image dataset"):
        config.resolve(experiment, "smoke", {"trunk": "resnet", "dataset": "mnist1d"})


def test_a_trial_is_deterministic_for_a_seed_and_differs_across_seeds(keras):
    experiment = registry.load("gap_vs_flatten")
    cfg = {**config.resolve(experiment, "smoke", {"epochs": "1"}), "head": "gap"}
    results = []
    for seed in (3, 3, 4):
        train.seed_everything(seed)
        results.append(experiment.run_trial("gap", seed, cfg))
    assert untimed(results[0].metrics) == untimed(results[1].metrics)  # every number but the G6 timing
    assert results[0].history == results[1].history
    assert results[0].metrics["test/loss"] != results[2].metrics["test/loss"]


def test_a_diverged_seed_scores_as_declared_and_every_verdict_counts_it_per_arm():
    """gap's seed 0 diverged with a (finite, high) recorded accuracy: G1 must count it as chance (0.1) and
    G3 must leave its gap out; both verdicts report the diverged seed per arm."""
    from claimlab.run import judge
    from claimlab.verdict import Evidence

    experiment = registry.load("gap_vs_flatten")
    cfg = config.resolve(experiment, "quick")
    accuracy = {"gap": 0.95, "gmp": 0.90, "split4_gmp": 0.85, "conv1_kernel": 0.80, "ema": 0.75, "flatten": 0.97,
                "channel_mean": 0.6}
    rows = [{"arm": head, "seed": seed, "test/accuracy": accuracy[head] + 0.002 * ((seed + k) % 5),
             "generalization_gap": 0.01 * ((seed + k) % 3), "shift/accuracy_drop": 0.1 + 0.01 * ((seed * k) % 4),
             "time/train_examples_per_second": 1000.0 + 10 * ((seed + k) % 3),
             "diverged": float(head == "gap" and seed == 0)}
            for k, head in enumerate(accuracy) for seed in range(5)]
    evidence = Evidence(pd.DataFrame(rows), {}, cfg, experiment.if_diverged(cfg))
    verdicts = judge(experiment, evidence, True, len(rows), len(rows), {})
    g1, g3 = verdicts["G1"], verdicts["G3"]
    gap_arm = next(a for a in g1.arms if a.arm == "gap")
    assert gap_arm.diverged == 1 and gap_arm.mean == pytest.approx((0.1 + sum(0.95 + 0.002 * s for s in range(1, 5))) / 5)
    assert g1.details["diverged_seeds"] == {head: int(head == "gap") for head in sorted(accuracy)}
    assert "diverged seeds: gap 1/5" in g1.reason and "test/accuracy scores 0.1" in g1.reason
    assert g3.comparisons[0].n == 4 and "generalization_gap is left out" in g3.reason
