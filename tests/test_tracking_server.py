"""Against a real `mlflow server` over HTTP: the same runs, params, curves and artifacts as with SQLite."""

import pytest
import servers
from mlflow import MlflowClient

from claimlab import registry

HEADS = len(registry.load("gap_vs_flatten").arms)  # one smoke seed of each head



@pytest.fixture
def mlflow_server(process, tmp_path):
    with servers.mlflow_server(tmp_path, f"sqlite:///{tmp_path / 'server.db'}") as uri:
        yield uri


def test_a_run_logged_to_a_tracking_server(runner, mlflow_server, tmp_path):
    result = runner("gap_vs_flatten", "--profile", "smoke", "--seeds", "1", "--epochs", "1", "--jobs", "1",
                    "--tracking-uri", mlflow_server, "--results-dir", tmp_path / "results")
    assert result.returncode == 0, result.stderr
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("gap_vs_flatten")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("claimlab.role") == "parent"]
    trials = [r for r in runs if r.data.tags.get("claimlab.role") == "trial"]
    assert parent.info.status == "FINISHED" and "1.56 million weights" in parent.data.tags["mlflow.note.content"]
    assert len(trials) == HEADS and all(t.data.tags["mlflow.parentRunId"] == parent.info.run_id for t in trials)
    assert [m.step for m in client.get_metric_history(trials[0].info.run_id, "val/accuracy")] == [1]
    assert "summary.json" in {a.path for a in client.list_artifacts(parent.info.run_id)}
