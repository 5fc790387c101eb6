"""Against a real `mlflow server` over HTTP: the same runs, params, curves and artifacts as with SQLite."""

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from mlflow import MlflowClient

from conftest import runner


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    port = free_port()
    mlflow_cli = Path(sys.executable).parent / "mlflow"
    process = subprocess.Popen(
        [str(mlflow_cli), "server", "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uri = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            if requests.get(f"{uri}/health", timeout=2).ok:
                break
        except requests.RequestException:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("mlflow server did not start within 90 s")
    yield uri
    process.terminate()
    process.wait(timeout=30)


def test_a_run_logged_to_a_tracking_server(mlflow_server, tmp_path):
    result = runner("gap_vs_flatten", "--profile", "smoke", "--seeds", "1", "--epochs", "1", "--jobs", "1",
                    "--tracking-uri", mlflow_server, "--results-dir", tmp_path / "results")
    assert result.returncode == 0, result.stderr
    client = MlflowClient(tracking_uri=mlflow_server)
    experiment = client.get_experiment_by_name("gap_vs_flatten")
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if r.data.tags.get("claimlab.role") == "parent"]
    trials = [r for r in runs if r.data.tags.get("claimlab.role") == "trial"]
    assert parent.info.status == "FINISHED" and "1.56 million weights" in parent.data.tags["mlflow.note.content"]
    assert len(trials) == 6 and all(t.data.tags["mlflow.parentRunId"] == parent.info.run_id for t in trials)
    assert [m.step for m in client.get_metric_history(trials[0].info.run_id, "val/accuracy")] == [1]
    assert "summary.json" in {a.path for a in client.list_artifacts(parent.info.run_id)}
