"""What every exact-claim experiment (no arms, checks only) must deliver, whatever its topic."""

import pytest

from claimlab import registry
from conftest import mlflow_runs

EXACT_ONLY = [e.name for e in registry.load_all() if not e.trains]


def test_the_exact_only_experiments_are_found():
    assert {"conv_shapes", "dense_semantics", "lstm_shapes", "tf_ops", "resnet_cifar"} <= set(EXACT_ONLY)


@pytest.mark.parametrize("name", EXACT_ONLY)
def test_every_claim_gets_a_verdict_measured_on_the_installed_versions(smoke_runs, name):
    run = smoke_runs(name)
    claims = [c.id for c in registry.load(name).claims]
    assert list(run["verdicts"]) == claims
    versions = run["summary"].versions
    measured_on = f" (measured on TensorFlow {versions['tensorflow']}, Keras {versions['keras']})"
    for claim_id, claim in run["verdicts"].items():
        assert claim.kind == "exact", claim_id
        assert claim.verdict in ("supported", "refuted", "inconclusive"), claim_id
        assert claim.reason.endswith(measured_on) and claim.reason.count("measured on") == 1, claim.reason
        assert any(line.startswith(claim_id + " ") for line in run["output"].splitlines()), claim_id
    for check, measured in run["checks"].items():
        assert "error" not in measured, f"check {check} raised: {measured.get('error')}"
    assert "Exact checks on real Keras/TensorFlow objects, measured once" in (run["folder"] / "summary.md").read_text()


@pytest.mark.parametrize("name", EXACT_ONLY)
def test_the_checks_are_one_child_run_of_the_parent(smoke_runs, name):
    from mlflow import MlflowClient

    run = smoke_runs(name)
    runs = mlflow_runs(run["uri"], name)
    (parent,), (child,) = runs["parent"], runs["checks"]
    assert not runs["trial"]
    assert child.info.run_name == "exact-checks" and child.info.status == "FINISHED"
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id and parent.info.status == "FINISHED"
    for claim_id, claim in run["verdicts"].items():
        assert parent.data.tags[f"verdict.{claim_id}"] == claim.verdict
    assert "checks.json" in {a.path for a in MlflowClient(tracking_uri=run["uri"]).list_artifacts(child.info.run_id)}


# Issue 26, item 5: the exact checks that measure freshly initialised weights, and the draws they measure.
WEIGHT_DRAW_CHECKS = {"nonlinearity": "collapsed_layer_matches_keras_stack",
                      "learned_kernels": "kernel_is_a_trained_parameter",
                      "lstm_variable_length": "masked_padding_matches_unpadded",
                      "dense_semantics": "dense_linear_regression",
                      "weight_init_depth": "scales_across_depths_and_inits",
                      "batch_size": "batch_matmul_matches_rows",
                      "dense_width": "dense_unit_connectivity",
                      "residual_depth": "deeper_resnet_contains_shallower",
                      "redundant_neurons": "quantized_head_storage"}


@pytest.mark.parametrize("name", sorted(WEIGHT_DRAW_CHECKS))
def test_a_check_on_fresh_weights_cannot_be_set_to_fewer_than_five_draws(name):
    from claimlab import config
    from claimlab.errors import UsageError

    experiment = registry.load(name)
    cfg = config.resolve(experiment, "smoke")
    assert WEIGHT_DRAW_CHECKS[name] in [check.__name__ for check in experiment.checks(cfg)]
    assert cfg["check_seeds"] >= 5  # every profile, the smoke one too
    with pytest.raises(UsageError, match="check_seeds"):
        config.resolve(experiment, overrides={"check_seeds": "1"})


def test_over_weight_draws_judges_the_worst_of_five_seeded_draws(keras):
    import numpy as np

    from claimlab import checks

    def first_kernel_entry(seed):
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
        value = float(np.asarray(layer.kernel)[0, 0])
        return {"entry": value, "positive": value > 0, "seed_seen": seed}

    measured = checks.over_weight_draws(first_kernel_entry, 5, worst={"entry": "max", "positive": "all"})
    draws = measured["by_draw"]
    assert draws["seeds"] == draws["seed_seen"] == [0, 1, 2, 3, 4]
    assert len(set(draws["entry"])) == 5  # five different draws, not one repeated
    assert measured["entry"] == max(draws["entry"])
    assert measured["positive"] == all(draws["positive"])
    assert measured["seed_seen"] == 0  # an unjudged quantity is draw 0's
    again = checks.over_weight_draws(first_kernel_entry, 5, worst={"entry": "max"})
    assert again["by_draw"]["entry"] == draws["entry"]  # seeded: the same draws every run
