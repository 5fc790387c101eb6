"""A misspelt arm or metric in a rule is an error, never a verdict: an arm when the experiment loads, a
metric at the first trial of an arm the rule reads (the trial is kept). And what every rule must be is
checked as the experiment loads (claimlab.registry), not only by a test suite an author runs later."""

import sqlite3
from pathlib import Path

import pytest

from claimlab import cli, registry

PROBE = (Path(__file__).resolve().parent / "fault_experiments" / "fault_probe.py").read_text()
RULE = 'rule=lambda cfg: Better("accuracy", arm="large", than="small", smallest_effect=cfg["smallest_effect"])'


def probe_with(tmp_path: Path, monkeypatch, name: str, rule: str) -> None:
    assert RULE in PROBE  # the probe these tests misspell
    (tmp_path / f"{name}.py").write_text(PROBE.replace(RULE, rule))
    monkeypatch.setenv(registry.EXTRA_PATH_VARIABLE, str(tmp_path))


def test_a_rule_that_reads_an_arm_the_experiment_does_not_train_does_not_load(tmp_path, monkeypatch):
    probe_with(tmp_path, monkeypatch, "misspelt_arm", RULE.replace('arm="large"', 'arm="larg"'))
    with pytest.raises(TypeError, match=r"claim F1's rule reads arms it does not train: \['larg'\]"):
        registry.load("misspelt_arm")


def test_a_rule_that_reads_a_metric_no_trial_reports_fails_the_run_at_the_first_trial(tmp_path, monkeypatch,
                                                                                       capsys, keras):
    probe_with(tmp_path, monkeypatch, "misspelt_metric", RULE.replace('Better("accuracy"', 'Better("acuracy"'))
    # the misspelling made consistently, in IF_DIVERGED and LEVELS too, so that the module loads and the run
    # must catch it
    source = (tmp_path / "misspelt_metric.py").read_text()
    for declaration in ('{"accuracy": IfDiverged', '{"accuracy": Level'):
        assert declaration in source
        source = source.replace(declaration, declaration.replace("accuracy", "acuracy"))
    (tmp_path / "misspelt_metric.py").write_text(source)
    code = cli.main(["misspelt_metric", "--profile", "smoke", "--jobs", "1", "--set", "seconds=0",
                     "--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}", "--results-dir", str(tmp_path / "r")])
    assert code == 1
    error = capsys.readouterr().err
    assert "did not report 'acuracy', which the rule of F1 reads" in error and "accuracy, diverged" in error
    with sqlite3.connect(tmp_path / "mlflow.db") as db:  # the trial that showed it is kept, and nothing after it
        trials = db.execute("select status from runs join tags on runs.run_uuid = tags.run_uuid "
                            "where tags.key = 'claimlab.role' and tags.value = 'trial'").fetchall()
    assert trials == [("FINISHED",)]
    assert "large" not in (tmp_path / "r" / "misspelt_metric@seconds=0" / "trials.csv").read_text()


def test_a_smallest_effect_that_is_no_declared_threshold_does_not_load(tmp_path, monkeypatch):
    probe_with(tmp_path, monkeypatch, "undeclared_effect", RULE.replace('cfg["smallest_effect"]', "0.02"))
    with pytest.raises(TypeError, match=r"claim F1: a comparison's smallest_effect 0.02 is no THRESHOLDS value"):
        registry.load("undeclared_effect")


@pytest.mark.parametrize("name, declared", [
    ("IF_DIVERGED", 'IF_DIVERGED = {"accuracy": IfDiverged.scores(0.5, "chance on two balanced classes")}'),
    ("LEVELS", 'LEVELS = {"accuracy": Level(0.5, 1.0, "two balanced classes")}'),
])
def test_a_judged_metric_without_a_divergence_or_level_declaration_does_not_load(tmp_path, monkeypatch, name,
                                                                                 declared):
    probe = f"undeclared_{name.lower()}"
    probe_with(tmp_path, monkeypatch, probe, RULE)
    source = (tmp_path / f"{probe}.py").read_text()
    assert declared in source
    (tmp_path / f"{probe}.py").write_text(source.replace(declared, f"{name} = {{}}"))
    with pytest.raises(TypeError, match=rf"{name} declares nothing for the judged metrics \['accuracy'\]"):
        registry.load(probe)


def test_a_claim_may_name_its_rule_and_a_name_the_module_lacks_does_not_load(tmp_path, monkeypatch):
    # a rule given by name lets CLAIMS come first in the module; the registry binds it as the module loads
    probe_with(tmp_path, monkeypatch, "named_rule", 'rule="f1_rule"')
    with pytest.raises(TypeError, match="claim F1's rule names 'f1_rule', which the module does not define"):
        registry.load("named_rule")
    probe_with(tmp_path, monkeypatch, "named_rule_defined", 'rule="f1_rule"')
    (tmp_path / "named_rule_defined.py").write_text((tmp_path / "named_rule_defined.py").read_text() + (
        '\n\ndef f1_rule(cfg):\n    return Better("accuracy", arm="large", than="small", '
        'smallest_effect=cfg["smallest_effect"])\n'))
    experiment = registry.load("named_rule_defined")
    assert "Paired by seed" in experiment.claims[0].rule_for(experiment.config).describe()


@pytest.mark.parametrize("arms,says", [
    ('ARMS = {"small": {"units": 2}, "large": {"unit": 8}, "dies": {"units": 4}}', "every arm must set the same keys"),
    ('ARMS = {"small": {"epochs": 2}, "large": {"epochs": 8}, "dies": {"epochs": 4}}', r"arms set the config keys \['epochs'\]"),
])
def test_arms_that_disagree_on_their_keys_or_shadow_the_config_do_not_load(tmp_path, monkeypatch, arms, says):
    name = f"arms_{abs(hash(arms))}"
    probe_with(tmp_path, monkeypatch, name, RULE)
    source = (tmp_path / f"{name}.py").read_text()
    declared = 'ARMS = {"small": {"units": 2}, "large": {"units": 8}, "dies": {"units": 4}}'
    assert declared in source
    (tmp_path / f"{name}.py").write_text(source.replace(declared, arms))
    with pytest.raises(TypeError, match=says):
        registry.load(name)
