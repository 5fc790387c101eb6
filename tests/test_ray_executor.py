"""`--executor ray` on a real two-node Ray cluster started on this machine (ray.cluster_utils.Cluster,
every node on 127.0.0.1, shut down by the test): the same trials, the same numbers as the local pool,
and only the driver writes MLflow and results/."""

import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab import registry


SMOKE = ["gap_vs_flatten", "--profile", "smoke", "--seeds", "1", "--epochs", "1"]
# Ray rewrites a 127.0.0.1 address to this machine's network address unless told it is not a cluster
# machine; the cluster below listens on 127.0.0.1 only, so the driver is told so.
LOOPBACK_DRIVER = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}


@pytest.fixture(scope="module")
def ray_cluster(process):
    pytest.importorskip("ray", reason="the test extra installs ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, connect=False,
                      head_node_args={"num_cpus": 1, "node_ip_address": "127.0.0.1", "include_dashboard": False})
    cluster.add_node(num_cpus=1, node_ip_address="127.0.0.1")
    cluster.wait_for_nodes()
    try:
        yield cluster.address
    finally:
        cluster.shutdown()


def test_a_smoke_run_on_a_two_node_ray_cluster_matches_the_local_pool(runner, tmp_path, ray_cluster):
    local = runner(*SMOKE, "--jobs", "2", "--tracking-uri", f"sqlite:///{tmp_path / 'local.db'}",
                   "--results-dir", tmp_path / "local")
    assert local.returncode == 0, local.stderr
    on_ray = runner(*SMOKE, "--executor", "ray", "--ray-address", ray_cluster, "--tracking-uri",
                    f"sqlite:///{tmp_path / 'ray.db'}", "--results-dir", tmp_path / "ray", env=LOOPBACK_DRIVER,
                    timeout=300)
    assert on_ray.returncode == 0, on_ray.stderr

    def numbers(folder):
        trials = pd.read_csv(folder / "gap_vs_flatten@epochs=1" / "trials.csv").drop(columns=["seconds"])
        trials = trials.drop(columns=[c for c in trials if c.startswith("time/")])  # timings differ run to run
        return trials.sort_values(["arm", "seed"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(numbers(tmp_path / "ray"), numbers(tmp_path / "local"))  # bit for bit
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'ray.db'}")
    runs = client.search_runs([client.get_experiment_by_name("gap_vs_flatten").experiment_id])
    statuses = sorted((r.data.tags.get("claimlab.role"), r.info.status) for r in runs)
    assert statuses.count(("trial", "FINISHED")) == len(registry.load("gap_vs_flatten").arms)  # one seed per head


def test_ray_address_without_the_ray_executor_is_a_usage_error(runner):
    result = runner(*SMOKE, "--ray-address", "127.0.0.1:6379")
    assert result.returncode == 2 and "--ray-address needs --executor ray" in result.stderr


def test_without_ray_installed_the_ray_executor_exits_2_with_the_install_line(runner, tmp_path):
    fake = tmp_path / "no_ray" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named ray (hidden by the test)')\n")
    result = runner(*SMOKE, "--executor", "ray", env={"PYTHONPATH": str(fake.parent)})
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert 'pip install -e ".[ray]"' in result.stderr


PROBE = ["fault_probe", "--profile", "smoke", "--seeds", "1", "--set", "seconds=0.0"]


def probe_on_ray(runner, tmp_path, ray_cluster, *extra):
    from pathlib import Path

    folder = Path(__file__).resolve().parent / "fault_experiments"
    return runner(*PROBE, *extra, "--executor", "ray", "--ray-address", ray_cluster,
                  "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--results-dir", tmp_path / "results",
                  env={**LOOPBACK_DRIVER, "CLAIMLAB_EXPERIMENTS_PATH": str(folder)}, timeout=300)


def trial_statuses(tmp_path):
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
    runs = client.search_runs([client.get_experiment_by_name("fault_probe").experiment_id])
    return sorted((r.data.tags["claimlab.arm"], r.data.tags["claimlab.seed"], r.info.status)
                  for r in runs if r.data.tags.get("claimlab.role") == "trial")


def test_on_ray_a_trial_that_kills_its_worker_fails_alone_and_resume_runs_only_what_is_missing(runner, tmp_path,
                                                                                             ray_cluster):
    failed = probe_on_ray(runner, tmp_path, ray_cluster, "--set", "dying_arm=dies")
    assert failed.returncode == 1 and "1 trial failed" in failed.stderr, failed.stderr
    assert trial_statuses(tmp_path) == [("dies", "0", "FAILED"), ("large", "0", "FINISHED"), ("small", "0", "FINISHED")]

    more_seeds = probe_on_ray(runner, tmp_path, ray_cluster, "--set", "dying_arm=dies", "--seeds", "2", "--resume")
    assert more_seeds.returncode == 1  # dies fails again, on both seeds
    finished = [t for t in trial_statuses(tmp_path) if t[2] == "FINISHED"]
    assert finished == [("large", "0", "FINISHED"), ("large", "1", "FINISHED"), ("small", "0", "FINISHED"),
                        ("small", "1", "FINISHED")]  # seed 0 was reused, not run twice


def test_on_ray_ctrl_c_ends_the_open_runs_killed_and_resume_finishes(runner, tmp_path, ray_cluster):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from conftest import ROOT

    markers = tmp_path / "markers"
    markers.mkdir()
    folder = Path(__file__).resolve().parent / "fault_experiments"
    args = [*PROBE, "--set", "seconds=4.0", "--set", f"marker_dir={markers}", "--executor", "ray",
            "--ray-address", ray_cluster, "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}",
            "--results-dir", str(tmp_path / "results")]
    env = {**os.environ, **LOOPBACK_DRIVER, "CLAIMLAB_EXPERIMENTS_PATH": str(folder)}
    process = subprocess.Popen([sys.executable, str(ROOT / "runner.py"), *args], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while not list(markers.glob("*.started")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGINT)  # Ctrl-C to the runner (the Ray driver) alone
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    statuses = trial_statuses(tmp_path)
    assert statuses and all(status in ("FINISHED", "KILLED") for _, _, status in statuses), statuses

    resumed = runner(*args, "--resume", env={**LOOPBACK_DRIVER, "CLAIMLAB_EXPERIMENTS_PATH": str(folder)},
                     timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    finished = [t for t in trial_statuses(tmp_path) if t[2] == "FINISHED"]
    assert len(finished) == 3 and len({(arm, seed) for arm, seed, _ in finished}) == 3
