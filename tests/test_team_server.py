"""The team setup from the README, for real: `mlflow server` backed by PostgreSQL (pgserver runs a real
Postgres from pip, no system install), and `mlflow server --app-name basic-auth` with MLflow's own login.
Everything listens on 127.0.0.1 and is stopped by its pid when the test ends."""

import pytest
import servers
from mlflow import MlflowClient

from claimlab import registry

HEADS = len(registry.load("gap_vs_flatten").arms)  # one smoke seed of each head


SMOKE = ["gap_vs_flatten", "--profile", "smoke", "--seeds", "1", "--epochs", "1", "--jobs", "1"]
ADMIN, ADMIN_PASSWORD = "claimlab-admin", "a-long-test-password-1234"


def logged_runs(uri: str, env: dict | None = None) -> dict:
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("gap_vs_flatten")
    runs = client.search_runs([experiment.experiment_id])
    return {role: sorted(r.info.status for r in runs if r.data.tags.get("claimlab.role") == role)
            for role in ("parent", "trial")}


@pytest.fixture
def postgres(process, tmp_path):
    """A real PostgreSQL server (pgserver) on a Unix socket in tmp_path; its URI for SQLAlchemy."""
    pgserver = pytest.importorskip("pgserver", reason="the test extra installs pgserver")
    server = pgserver.get_server(tmp_path / "pgdata", cleanup_mode="stop")
    try:
        server.psql("CREATE DATABASE mlflow;")
        yield server.get_uri("mlflow")
    finally:
        server.cleanup()


def test_a_smoke_run_logged_over_http_to_an_mlflow_server_on_postgresql(runner, tmp_path, postgres):
    assert postgres.startswith("postgresql://")
    with servers.mlflow_server(tmp_path, postgres) as uri:
        result = runner(*SMOKE, "--tracking-uri", uri, "--results-dir", tmp_path / "results")
        assert result.returncode == 0, result.stderr
        assert logged_runs(uri) == {"parent": ["FINISHED"], "trial": ["FINISHED"] * HEADS}


@pytest.fixture
def basic_auth_server(process, tmp_path):
    config = tmp_path / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{tmp_path / 'basic_auth.db'}\n"
        f"admin_username = {ADMIN}\n"
        f"admin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    with servers.mlflow_server(tmp_path, f"sqlite:///{tmp_path / 'server.db'}", "--app-name", "basic-auth",
                               env={"MLFLOW_AUTH_CONFIG_PATH": str(config),
                                    "MLFLOW_FLASK_SERVER_SECRET_KEY": "a-test-only-csrf-key"}) as uri:
        yield uri


def test_basic_auth_right_credentials_log_a_run_wrong_or_none_exit_2(runner, tmp_path, basic_auth_server, monkeypatch):
    uri = basic_auth_server
    for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    args = [*SMOKE, "--tracking-uri", uri, "--results-dir", tmp_path / "results"]

    none = runner(*args)
    assert none.returncode == 2 and len(none.stderr.strip().splitlines()) == 1, none.stderr
    assert "requires a login" in none.stderr and "401" in none.stderr

    wrong = runner(*args, env={"MLFLOW_TRACKING_USERNAME": ADMIN, "MLFLOW_TRACKING_PASSWORD": "not-the-password"})
    assert wrong.returncode == 2 and len(wrong.stderr.strip().splitlines()) == 1, wrong.stderr
    assert "refused the login" in wrong.stderr and "not-the-password" not in wrong.stderr + wrong.stdout
    assert not (tmp_path / "results" / "gap_vs_flatten@epochs=1").exists()  # refused before any training

    right = runner(*args, env={"MLFLOW_TRACKING_USERNAME": ADMIN, "MLFLOW_TRACKING_PASSWORD": ADMIN_PASSWORD})
    assert right.returncode == 0, right.stderr
    assert ADMIN_PASSWORD not in right.stdout + right.stderr
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", ADMIN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PASSWORD)
    assert logged_runs(uri) == {"parent": ["FINISHED"], "trial": ["FINISHED"] * HEADS}
