"""The fault matrix: each fault done for real to real runner processes, and what must survive it.

Real signals to real runner and worker processes, three real runners racing on a fresh SQLite file, a
real worker that dies (the test-only fault_probe experiment in tests/fault_experiments, which trains a
tiny real Keras model and can end its worker with os._exit), real unwritable folders and a real full
disk (a 1 MB tmpfs, where the machine lets the test mount one). Every runner is started in its own
process group and stopped by its pid; every store is a temporary SQLite file.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE_FOLDER = Path(__file__).resolve().parent / "fault_experiments"
TRIALS = 9  # fault_probe's smoke profile: 3 arms x 3 seeds

def _start_runner(tmp_path: Path, *args: str, store: str = "mlflow.db") -> subprocess.Popen:
    env = {**os.environ, "CLAIMLAB_EXPERIMENTS_PATH": str(PROBE_FOLDER), "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, str(ROOT / "runner.py"), *args, "--tracking-uri", f"sqlite:///{tmp_path / store}"]
    if "--results-dir" not in args:
        command += ["--results-dir", str(tmp_path / "results")]
    return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


@pytest.fixture
def start_runner(process):
    """start_runner(tmp_path, *args): `python runner.py ARGS` started in its own session, not waited for."""
    return _start_runner


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return process.returncode, out, err


def probe_args(marker_dir: Path, *extra: str) -> list[str]:
    return ["fault_probe", "--profile", "smoke", "--set", f"marker_dir={marker_dir}", *extra]


def statuses(db: Path, role: str | None = None) -> Counter:
    """Run statuses straight from the SQLite store (optionally only parent or trial runs)."""
    query = "SELECT runs.status FROM runs"
    if role:
        query += (" JOIN tags ON tags.run_uuid = runs.run_uuid AND tags.key = 'claimlab.role' "
                  f"AND tags.value = '{role}'")
    with sqlite3.connect(db) as connection:
        return Counter(status for (status,) in connection.execute(query))


def wait_for_markers(marker_dir: Path, count: int, timeout: float = 120) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        markers = sorted(marker_dir.glob("*.started"), key=lambda p: p.stat().st_mtime)
        if len(markers) >= count:
            return markers
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} trials started in {timeout} s")


def test_sigkill_mid_run_then_resume_leaves_no_run_running(start_runner, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    args = probe_args(markers, "--set", "seconds=3.0", "--jobs", "2")
    runner = start_runner(tmp_path, *args)
    wait_for_markers(markers, 4)  # two trials done or nearly, two in flight
    os.killpg(runner.pid, signal.SIGKILL)  # the runner and its workers, with no chance to clean up
    runner.wait(timeout=30)
    assert statuses(tmp_path / "mlflow.db")["RUNNING"] >= 2  # the parent and the trials in flight

    code, out, err = finish(start_runner(tmp_path, *args, "--resume"))
    assert code == 0, err
    assert "left RUNNING (now KILLED)" in out
    after = statuses(tmp_path / "mlflow.db")
    assert after["RUNNING"] == 0, after
    assert statuses(tmp_path / "mlflow.db", "trial")["FINISHED"] == TRIALS


def test_three_runners_at_once_on_a_fresh_store_all_succeed(start_runner, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    runners = [start_runner(tmp_path, *probe_args(markers, "--set", "seconds=0.0", "--jobs", "1"))
               for _ in range(3)]
    results = [finish(runner) for runner in runners]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("fault_probe")
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    roles = Counter((r.data.tags.get("claimlab.role"), r.info.status) for r in runs)
    assert roles == {("parent", "FINISHED"): 3, ("trial", "FINISHED"): 3 * TRIALS}
    assert len(list((tmp_path / "results").glob("fault_probe@*/summary.json"))) == 1  # one variant folder


BAD_VALUES = {
    "batch_size=0": ["gap_vs_flatten", "--set", "batch_size=0"],
    "learning_rate=-1": ["gap_vs_flatten", "--set", "learning_rate=-1"],
    "max_shift=-1": ["gap_vs_flatten", "--set", "max_shift=-1"],
    "chunk=0": ["lstm_variable_length", "--set", "chunk=0"],
}


@pytest.mark.parametrize("args", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_a_value_outside_its_domain_exits_2_before_anything_runs(start_runner, tmp_path, args):
    started = time.monotonic()
    code, out, err = finish(start_runner(tmp_path, *args), timeout=60)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "must be" in err and time.monotonic() - started < 10
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "results").exists()  # nothing was opened


def test_an_unwritable_results_dir_exits_2_before_training(start_runner, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the results folder should be")
    code, out, err = finish(start_runner(tmp_path, "fault_probe", "--profile", "smoke",
                                         "--results-dir", str(blocker / "results")), timeout=60)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "cannot write there" in err, err
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize("content", [b"this is not a database\n" * 200, b"SQLite format 3\x00" + b"\x07" * 4000],
                         ids=["text", "damaged-sqlite"])
def test_a_corrupt_store_file_exits_2_and_is_left_alone(start_runner, tmp_path, content):
    (tmp_path / "mlflow.db").write_bytes(content)
    code, out, err = finish(start_runner(tmp_path, "fault_probe", "--profile", "smoke"), timeout=60)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "mlflow.db" in err, err
    assert (tmp_path / "mlflow.db").read_bytes() == content
    assert not (tmp_path / "results" / "fault_probe").exists()


def test_a_worker_sigkilled_once_is_replaced_and_its_trial_retried(start_runner, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    runner = start_runner(tmp_path, *probe_args(markers, "--set", "seconds=3.0", "--jobs", "2"))
    first = wait_for_markers(markers, 1)[0]
    os.kill(int(first.read_text()), signal.SIGKILL)
    code, out, err = finish(runner)
    assert code == 0, err
    trial = first.name.rsplit("-", 1)[0]  # arm-seed
    assert len(list(markers.glob(f"{trial}-*.started"))) == 2  # it ran again, in a new worker
    assert statuses(tmp_path / "mlflow.db", "trial") == {"FINISHED": TRIALS}


def test_a_trial_that_kills_its_worker_twice_fails_alone(start_runner, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    code, out, err = finish(start_runner(tmp_path, *probe_args(markers, "--set", "dying_arm=dies", "--seeds", "1",
                                                               "--set", "seconds=0.0", "--jobs", "2")))
    assert code == 1 and len(err.strip().splitlines()) == 1 and "1 trial" in err, err
    assert len(list(markers.glob("dies-0-*.started"))) == 2  # tried, retried once
    trials = statuses(tmp_path / "mlflow.db", "trial")
    assert trials == {"FINISHED": 2, "FAILED": 1}, trials  # the other arms went on
    assert statuses(tmp_path / "mlflow.db")["RUNNING"] == 0


@pytest.fixture
def tiny_disk(process, tmp_path):
    """A real 1 MB filesystem (tmpfs); skipped where this machine does not let the test mount one."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_disk_that_fills_while_results_are_written_keeps_the_previous_results(start_runner, tmp_path, tiny_disk):
    markers = tmp_path / "markers"
    markers.mkdir()
    args = probe_args(markers, "--set", "seconds=0.0", "--jobs", "1", "--results-dir", str(tiny_disk))
    code, _, err = finish(start_runner(tmp_path, *args))
    assert code == 0, err
    (folder,) = tiny_disk.glob("fault_probe@*")
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
    (tiny_disk / "filler").write_bytes(b"\0" * max(0, free - 2048))  # the disk is now (nearly) full

    code, out, err = finish(start_runner(tmp_path, *args))
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before  # nothing half-written
    assert not list(folder.glob(".*.tmp"))
