"""The runner's own account of where its time went ($CLAIMLAB_PHASES_FILE, read by benchmarks/compare.py)."""

import json
from pathlib import Path


PROBE_FOLDER = Path(__file__).resolve().parent / "fault_experiments"


def test_the_phases_file_accounts_for_the_run(runner, tmp_path):
    phases_file = tmp_path / "phases.json"
    result = runner("fault_probe", "--profile", "smoke", "--set", "seconds=0.2", "--jobs", "1",
                    "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--results-dir", tmp_path / "results",
                    env={"CLAIMLAB_PHASES_FILE": str(phases_file), "CLAIMLAB_EXPERIMENTS_PATH": str(PROBE_FOLDER)})
    assert result.returncode == 0, result.stderr
    phases = json.loads(phases_file.read_text())
    assert phases["trials_run"] == 9 and phases["jobs"] == 1
    assert 9 * 0.2 <= phases["trial_compute"] <= phases["trials_wall"]  # each trial sleeps to 0.2 s at least
    assert 0 < phases["mlflow_during_trials"] <= phases["mlflow"] < phases["run_wall"]
    assert phases["prepare"] + phases["trials_wall"] + phases["report"] <= phases["run_wall"] + 1e-6
