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
