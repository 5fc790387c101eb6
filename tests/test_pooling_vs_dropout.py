"""pooling_vs_dropout: a smoke run end to end, the exact parameter counts, the data, the models, the rules."""

import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab import config, registry
from claimlab.verdict import Evidence

EXPERIMENT = registry.load("pooling_vs_dropout")
MODULE = EXPERIMENT.module
ARMS = ["none", "maxpool", "avgpool", "strided", "dropout", "maxpool_dropout"]
CLAIM_IDS = ["P1", "P2", "P3", "P4"]


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    """python runner.py pooling_vs_dropout --profile smoke --jobs 2, in this process, into a fresh store."""
    run = smoke_runs("pooling_vs_dropout", "--jobs", "2")
    return {**run, "results": run["folder"]}


def smoke_cfg(**overrides):
    return {**config.resolve(EXPERIMENT, "smoke"), **overrides}


# ---- the smoke run --------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict_with_its_rule(smoke):
    claims = smoke["summary"].claims
    assert [c.id for c in claims] == CLAIM_IDS
    for claim in claims:
        assert claim.verdict in ("supported", "refuted", "inconclusive"), claim
        assert claim.rule and claim.source.file == "003_8f61efd7de26bf97.txt"
        assert any(line.startswith(claim.id) for line in smoke["output"].splitlines())
    # P3 under the smoke profile: its contrasts use the smoke sizes (80 and 320), not the default ones.
    p3 = next(c for c in claims if c.id == "P3")
    shrinks = {c.name: c for c in p3.measured.comparisons if c.name.startswith("shrink of")}
    assert set(shrinks) == {f"shrink of {arm}'s advantage, n80 minus n320" for arm in set(ARMS) - {"none"}}
    assert {name for name, c in shrinks.items() if c.judged} == {
        "shrink of maxpool's advantage, n80 minus n320", "shrink of avgpool's advantage, n80 minus n320"}
    assert all(c.n == 2 for c in shrinks.values())
    advantages = [(c.name, c.metric) for c in p3.measured.comparisons if not c.name.startswith("shrink")]
    assert sorted(advantages) == sorted((f"{arm} - none", f"n{size}/test/accuracy")
                                        for arm in set(ARMS) - {"none"} for size in (80, 320))
    assert "n=80" in p3.rule and "n=320" in p3.rule and "6400" not in p3.rule
    assert (smoke["results"] / "accuracy_vs_train_size.png").stat().st_size > 1000
    assert (smoke["results"] / "position_task.png").stat().st_size > 1000


def test_child_runs_hold_the_key_metrics_and_curves(smoke):
    client = MlflowClient(tracking_uri=smoke["uri"])
    experiment = client.get_experiment_by_name("pooling_vs_dropout")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    children = [r for r in runs if r.data.tags.get("claimlab.role") == "trial"]
    assert sorted((r.data.params["arm"], r.data.params["seed"]) for r in children) == sorted(
        (arm, str(seed)) for arm in ARMS for seed in (0, 1))
    cfg = smoke_cfg()
    sizes = sorted(cfg["train_sizes"])
    # 10-class MNIST-1D models: no pooling keeps a 40 x 32 map for Dense(64), pooling or striding a 10 x 32 one
    expected_params = {"none": 85_930, "dropout": 85_930, "maxpool": 24_490, "avgpool": 24_490,
                       "strided": 24_490, "maxpool_dropout": 24_490}
    for run in children:
        metrics = run.data.metrics
        accuracies = [metrics[f"n{size}/test/accuracy"] for size in sizes]
        assert all(0.0 <= a <= 1.0 for a in accuracies)
        assert metrics["test/accuracy_mean_over_sizes"] == pytest.approx(np.mean(accuracies), abs=1e-6)
        assert 0.0 <= metrics["position/test/accuracy"] <= 1.0
        for size in sizes:
            assert metrics[f"n{size}/generalization_gap"] == pytest.approx(
                metrics[f"n{size}/train_eval/accuracy"] - metrics[f"n{size}/test/accuracy"], abs=1e-6)
        assert metrics["params/total"] == expected_params[run.data.params["arm"]]
        assert metrics["diverged"] == 0.0
        for key in [f"n{size}/val/accuracy" for size in sizes] + ["position/val/accuracy"]:
            history = client.get_metric_history(run.info.run_id, key)
            assert sorted(m.step for m in history) == list(range(1, cfg["epochs"] + 1)), key
        names = sorted(d.dataset.name for d in run.inputs.dataset_inputs)
        assert names == sorted(["mnist1d"] * len(sizes) + ["position_mod4"])


def test_trials_csv_and_verdicts_agree(smoke):
    trials = pd.read_csv(smoke["results"] / "trials.csv")
    p2 = next(c for c in smoke["summary"].claims if c.id == "P2")
    accuracy = trials.pivot(index="seed", columns="arm", values="position/test/accuracy")
    judged, *reported = p2.measured.comparisons
    assert (judged.name, judged.metric, judged.judged) == ("none - maxpool", "position/test/accuracy", True)
    assert judged.mean == pytest.approx((accuracy["none"] - accuracy["maxpool"]).mean(), rel=1e-12)
    assert judged.margin == 0.02 and judged.tost_ci_low <= judged.mean <= judged.tost_ci_high
    assert [(c.name, c.judged) for c in reported] == [("none - avgpool", False), ("none - strided", False)]
    assert reported[1].mean == pytest.approx((accuracy["none"] - accuracy["strided"]).mean(), rel=1e-12)
    p1 = next(c for c in smoke["summary"].claims if c.id == "P1")
    means = trials.pivot(index="seed", columns="arm", values="test/accuracy_mean_over_sizes")
    first = p1.measured.comparisons[0]
    assert (first.name, first.metric) == ("dropout - maxpool", "test/accuracy_mean_over_sizes")
    assert first.mean == pytest.approx((means["dropout"] - means["maxpool"]).mean(), rel=1e-12)


# ---- P4: the exact values -------------------------------------------------------------------------
def test_p4_counts_the_real_keras_models(smoke):
    measured = smoke["summary"].checks["parameter_counts_with_and_without_pooling"]
    # conv 5*1*32+32 = 192 and 3*32*32+32 = 3,104; Dense(64) on 40*32 = 1,280 or 10*32 = 320; Dense(10) 650
    assert measured["total_without_pooling"] == 192 + 3_104 + 1_280 * 64 + 64 + 650 == 85_930
    assert measured["total_with_maxpooling"] == 192 + 3_104 + 320 * 64 + 64 + 650 == 24_490
    assert measured["total_with_strided_conv"] == 24_490
    assert measured["flattened_size_without_pooling"] == 1_280
    assert measured["flattened_size_with_maxpooling"] == 320
    assert measured["first_dense_weights_without_pooling"] == 81_920
    assert measured["first_dense_weights_with_maxpooling"] == 20_480
    assert measured["output_size_ratio"] == measured["next_dense_weight_ratio"] == 4.0
    assert measured["maxpooling_layers"] == 2 and measured["pooling_layer_parameters"] == 0
    assert measured["conv_parameters_unchanged_by_pooling"] is True
    p4 = next(c for c in smoke["summary"].claims if c.id == "P4")
    assert p4.verdict == "supported", p4.reason


# ---- data -----------------------------------------------------------------------------------------
def test_training_subsets_are_nested_balanced_and_fixed_by_data_seed():
    labels = np.repeat(np.arange(10), [60, 70, 80, 55, 65, 75, 62, 68, 71, 59])
    order = MODULE.nested_balanced_order(labels, data_seed=0)
    assert sorted(order) == list(range(len(labels)))  # a permutation: every example, once
    for size in (10, 50, 400):
        counts = np.bincount(labels[order[:size]], minlength=10)
        assert counts.max() - counts.min() <= 1, (size, counts)
    assert np.array_equal(order, MODULE.nested_balanced_order(labels, data_seed=0))
    assert not np.array_equal(order, MODULE.nested_balanced_order(labels, data_seed=1))


def test_position_task_label_is_the_spike_position_mod_4():
    cfg = smoke_cfg()
    task = MODULE.position_task(cfg)
    assert task.x_train.shape == (cfg["position_train"], 40, 1) and task.x_test.shape == (cfg["position_test"], 40, 1)
    x = np.concatenate([task.x_train, task.x_val, task.x_test])[..., 0]
    y = np.concatenate([task.y_train, task.y_val, task.y_test])
    spike = x.argmax(axis=1)
    assert 4 <= spike.min() and spike.max() < 36
    assert np.mean(spike % 4 == y) > 0.995  # the spike (>= 0.5) towers over noise of std 0.1
    assert set(np.unique(y)) == {0, 1, 2, 3}
    again = MODULE.position_task(cfg)
    assert np.array_equal(task.x_test, again.x_test)  # data_seed, not the trial, fixes the data


def test_repeat_to_budget_gives_at_least_the_budget_in_whole_passes():
    cfg = smoke_cfg()
    task = MODULE.position_task(cfg)
    assert len(MODULE.repeat_to_budget(task, 320).y_train) == 320  # 320 examples: one pass
    small = MODULE.subset(MODULE.load_mnist1d(cfg), 80, np.arange(80), cfg, "mnist1d")
    assert len(MODULE.repeat_to_budget(small, 320).y_train) == 320  # four passes
    odd = MODULE.subset(MODULE.load_mnist1d(cfg), 300, np.arange(300), cfg, "mnist1d")
    assert len(MODULE.repeat_to_budget(odd, 320).y_train) == 600  # two whole passes


# ---- models ---------------------------------------------------------------------------------------
def test_each_arm_builds_its_own_downsampling_and_dropout(keras):
    cfg = smoke_cfg()
    for arm in ARMS:
        model = MODULE.build_model({**cfg, **MODULE.ARMS[arm]}, (40, 1), 10)
        kinds = [type(layer).__name__ for layer in model.layers]
        convs = [layer for layer in model.layers if type(layer).__name__ == "Conv1D"]
        flatten = next(layer for layer in model.layers if type(layer).__name__ == "Flatten")
        assert model.output_shape == (None, 10)
        assert kinds.count("MaxPooling1D") == (2 if arm in ("maxpool", "maxpool_dropout") else 0), arm
        assert kinds.count("AveragePooling1D") == (2 if arm == "avgpool" else 0), arm
        assert kinds.count("Dropout") == (2 if arm in ("dropout", "maxpool_dropout") else 0), arm
        assert [c.strides for c in convs] == ([(2,), (2,)] if arm == "strided" else [(1,), (1,)]), arm
        assert flatten.output.shape[-1] == (1_280 if arm in ("none", "dropout") else 320), arm


def test_a_trial_reseeds_each_training_so_it_is_deterministic_for_a_seed(keras):
    from claimlab import train

    train.limit_threads(1)
    train.seed_everything(0)  # op determinism on, as the runner has it; the trial reseeds by itself
    experiment_cfg = smoke_cfg(train_sizes=(80,), **MODULE.ARMS["maxpool"])
    first = EXPERIMENT.run_trial("maxpool", 3, experiment_cfg)
    again = EXPERIMENT.run_trial("maxpool", 3, experiment_cfg)  # no outside reseeding: the trial does it
    other = EXPERIMENT.run_trial("maxpool", 4, experiment_cfg)
    assert first.metrics == again.metrics and first.history == again.history
    assert first.metrics["n80/test/loss"] != other.metrics["n80/test/loss"]


# ---- the rules, on hand-made trials (no training) -------------------------------------------------
def evidence(values_by_arm, cfg=None):
    """Trials frame: values_by_arm[arm][metric] = per-seed list."""
    rows = []
    for arm, metrics in values_by_arm.items():
        seeds = len(next(iter(metrics.values())))
        for seed in range(seeds):
            rows.append({"arm": arm, "seed": seed, **{m: v[seed] for m, v in metrics.items()}})
    return Evidence(trials=pd.DataFrame(rows), cfg=cfg or {"train_sizes": (100, 1000), **EXPERIMENT.thresholds})


NOISE = [0.001, -0.002, 0.0, 0.002, -0.001]


def test_p3_rule_supported_when_pooling_helps_less_with_more_data_and_refuted_when_more():
    def trials(small_advantage, large_advantage):
        arms = {"none": {"n100/test/accuracy": [0.6 + e for e in NOISE], "n1000/test/accuracy": [0.8] * 5}}
        for arm in ("maxpool", "avgpool"):
            arms[arm] = {"n100/test/accuracy": [0.6 + small_advantage] * 5,
                         "n1000/test/accuracy": [0.8 + large_advantage + e for e in NOISE]}
        return evidence(arms)

    rule = MODULE.p3_rule({"train_sizes": (1000, 100), **EXPERIMENT.thresholds})  # smallest and largest, whatever the order
    assert rule.evaluate(trials(0.10, 0.00)).verdict == "supported"
    assert rule.evaluate(trials(0.00, 0.10)).verdict == "refuted"
    # the same advantage at both sizes: no shrink, negligible (inside the smallest effect), which refutes
    assert rule.evaluate(trials(0.05, 0.05)).label().startswith("refuted (negligible: within")
    shrink = rule.evaluate(trials(0.10, 0.00)).comparisons[0]
    assert shrink.name == "shrink of maxpool's advantage, n100 minus n1000"
    assert shrink.mean == pytest.approx(0.10, abs=1e-12)  # (0.7 - 0.6) - (0.8 - 0.8), the noise averages out


def test_p1_rule_needs_dropout_to_beat_both_pooling_arms():
    def trials(over_max, over_avg):
        metric = MODULE.P1_METRIC
        return evidence({"dropout": {metric: [0.8 + e for e in NOISE], "n100/test/accuracy": [0.8] * 5},
                         "maxpool": {metric: [0.8 - over_max] * 5, "n100/test/accuracy": [0.8] * 5},
                         "avgpool": {metric: [0.8 - over_avg] * 5, "n100/test/accuracy": [0.8] * 5}},
                        cfg={"train_sizes": (100,), **EXPERIMENT.thresholds})

    rule = MODULE.p1_rule({"train_sizes": (100,), **EXPERIMENT.thresholds})
    assert rule.evaluate(trials(0.05, 0.05)).verdict == "supported"
    # as good as average pooling (negligible difference): not better than both, so refuted as negligible
    assert rule.evaluate(trials(0.05, 0.0)).label().startswith("refuted (negligible: within")
    assert rule.evaluate(trials(0.05, -0.05)).verdict == "refuted"
    per_size = [c for c in rule.evaluate(trials(0.05, 0.05)).comparisons if not c.judged]
    assert [(c.name, c.metric) for c in per_size] == [("dropout - maxpool", "n100/test/accuracy"),
                                                      ("dropout - avgpool", "n100/test/accuracy")]


def test_p2_rule_refutes_when_max_pooling_loses_nothing_measurable():
    def trials(loss):
        metric = MODULE.P2_METRIC
        return evidence({"none": {metric: [0.9 + e for e in NOISE]}, "maxpool": {metric: [0.9 - loss] * 5}})

    rule = MODULE.p2_rule({**EXPERIMENT.thresholds, "p2_equivalence_margin": 0.02})
    assert rule.evaluate(trials(0.10)).verdict == "supported"
    assert rule.evaluate(trials(0.0)).verdict == "refuted"  # equivalent within +-0.02
    assert rule.evaluate(trials(-0.10)).verdict == "refuted"
    # The margin applied is the config's: too narrow a margin cannot show equivalence.
    narrow = MODULE.p2_rule({**EXPERIMENT.thresholds, "p2_equivalence_margin": 0.0001})
    assert narrow.evaluate(trials(0.0)).verdict == "inconclusive"


def test_rules_follow_the_resolved_config():
    """Thresholds are config keys (threshold=True), and every rule's text names the value applied."""
    assert "p2_equivalence_margin" in EXPERIMENT.thresholds
    assert config.resolve(EXPERIMENT, "smoke")["p2_equivalence_margin"] == 0.02
    cfg = config.resolve(EXPERIMENT, "smoke", overrides={"p2_equivalence_margin": "0.035"})
    rules = {claim.id: claim.rule_for(cfg) for claim in EXPERIMENT.claims}
    assert "+-0.035" in rules["P2"].describe() and "0.02" not in rules["P2"].describe()
    assert rules["P2"].parts[0].equivalence_margin == 0.035
    assert rules["P3"].metrics == ["n80/test/accuracy", "n320/test/accuracy"]  # the smoke sizes
    assert "n=80" in rules["P3"].describe() and "n=320" in rules["P3"].describe()
    assert "400" not in rules["P3"].describe() and "400" not in rules["P1"].describe()
    assert rules["P1"].metrics == [MODULE.P1_METRIC, "n80/test/accuracy", "n320/test/accuracy"]
    for claim in EXPERIMENT.claims:
        assert "0.02" not in claim.hypothesis and "p2_equivalence_margin" not in claim.hypothesis
