"""The regeneration's staging folder (regeneration/README.md): what the queue will run and what has been
staged agree with the experiments' declared settings and with what results/ already holds."""

import json
from pathlib import Path

import pytest
from conftest import regenerated

from claimlab import registry

ROOT = Path(__file__).resolve().parent.parent
STAGING = ROOT / "regeneration"


def folder_name(experiment: str, setting: str) -> str:
    return experiment if setting == "default" else f"{experiment}@{setting}"


def queued_pairs() -> list[tuple[str, str]]:
    lines = (STAGING / "pairs.txt").read_text().splitlines()
    return [tuple(line.split()) for line in lines if line.strip()]


def staged_folders() -> list[Path]:
    return sorted(path for path in STAGING.iterdir() if path.is_dir())


def test_the_queue_holds_every_setting_of_every_experiment_not_yet_regenerated_and_nothing_else():
    pairs = queued_pairs()
    assert all(len(pair) == 2 for pair in pairs), "each line of pairs.txt is 'EXPERIMENT SETTING'"
    assert len(pairs) == len(set(pairs)), "a pair is queued twice"
    waiting = {(experiment.name, setting) for experiment in registry.load_all() if experiment.settings
               and not regenerated(ROOT / "results" / experiment.name) for setting in experiment.settings}
    assert set(pairs) == waiting


@pytest.mark.parametrize("staged", staged_folders(), ids=lambda path: path.name)
def test_a_staged_setting_is_a_finished_full_run_of_today_with_ten_seeds_and_its_experiment_still_waits(staged):
    summary = json.loads((staged / "summary.json").read_text())
    assert staged.name == folder_name(summary["experiment"], summary["setting"]["name"])
    assert (summary["status"], summary["profile"], summary["dirty"]) == ("complete", "full", False)
    assert len(summary["seeds"]) >= 10 and summary["config"]["until_decided"] > 0
    assert (staged / "trials.csv").exists() and not list(staged.glob("scope*"))
    # once every setting is staged, integrate.sh moves them into results/ and off the queue
    assert not regenerated(ROOT / "results" / summary["experiment"])
    assert (summary["experiment"], summary["setting"]["name"]) in queued_pairs()
