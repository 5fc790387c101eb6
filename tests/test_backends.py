"""Trials on JAX where the experiment is backend-neutral, on TensorFlow where a claim needs it
(claimlab.backend): the declaration, `--backend`, the `tensorflow` setting, determinism and fused seeds on
JAX at tolerance zero."""

import json
import os
import sys
import types

import pytest
from mlflow import MlflowClient

from claimlab import backend, cli, config, execute, registry, scope
from claimlab.execute import Trial
from claimlab.schema import read_summary
from claimlab.spec import Setting
from conftest import untimed

TRAINING = [e for e in registry.load_all() if e.trains]


# ---- declarations (fast) -----------------------------------------------------------------------------
def test_every_training_experiment_declares_its_backend_and_a_jax_one_its_tensorflow_setting():
    on_jax = [e.name for e in TRAINING if e.backend == "jax"]
    assert len(on_jax) == 12
    assert [e.name for e in TRAINING if e.backend == "tensorflow"] == ["lstm_variable_length", "redundant_neurons"]
    for experiment in TRAINING:
        cfg = config.resolve(experiment, "quick")
        assert cfg["backend"] == experiment.backend
        if experiment.backend == "jax":
            assert experiment.backends == ("jax", "tensorflow")
            tensorflow = scope.setting_config(experiment, "tensorflow", "quick")
            assert tensorflow == {**cfg, "backend": "tensorflow"}  # the default config, on TensorFlow
        else:
            assert experiment.backends == ("tensorflow",) and experiment.module.TENSORFLOW_BECAUSE


def test_the_backend_is_part_of_a_trials_identity():
    experiment = registry.load("nonlinearity")
    on_jax = config.resolve(experiment, "quick")
    on_tensorflow = config.resolve(experiment, "quick", {"backend": "tensorflow"})
    assert config.config_hash(on_jax) != config.config_hash(on_tensorflow)


def fake_module(**attributes):
    base = dict(TITLE="t", CLAIMS=[], CONFIG={"epochs": config.Integer(1, min=1)},
                ARMS={"a": {}}, run_trial=lambda arm, seed, cfg: None)
    return types.SimpleNamespace(**{**base, **attributes})


def test_the_registry_asks_why_a_trainer_needs_tensorflow_and_a_jax_one_for_its_tensorflow_setting():
    with pytest.raises(TypeError, match="TENSORFLOW_BECAUSE"):
        registry._validate("m", fake_module())
    registry._validate("m", fake_module(TENSORFLOW_BECAUSE="TFLite"))
    with pytest.raises(TypeError, match="BACKEND must be one of"):
        registry._validate("m", fake_module(BACKEND="torch"))
    default = Setting("x", "y")
    with pytest.raises(TypeError, match="must declare 'tensorflow'"):
        registry._validate("m", fake_module(BACKEND="jax", SETTINGS={"default": default}))
    registry._validate("m", fake_module(BACKEND="jax", SETTINGS={"default": default, "tensorflow": Setting(
        "x", "y", {"backend": "tensorflow"})}))


def test_an_unknown_backend_exits_2_and_lists_the_valid_ones(capsys):
    assert cli.main(["nonlinearity", "--backend", "torch"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "'jax', 'tensorflow'" in error


def test_a_backend_the_experiment_cannot_run_on_exits_2_and_says_why(capsys):
    assert cli.main(["redundant_neurons", "--backend", "jax"]) == 2
    assert "redundant_neurons runs on tensorflow only: its trials quantize" in capsys.readouterr().err
    assert cli.main(["nonlinearity", "--backend", "jax", "--settings", "all"]) == 2  # settings run as declared


def test_the_worker_environment_picks_the_backend_before_keras_is_imported(monkeypatch):
    for variable in ("KERAS_BACKEND", "XLA_FLAGS", "XLA_PYTHON_CLIENT_PREALLOCATE"):
        monkeypatch.setenv(variable, "")  # so that the test leaves this process's environment as it was
    monkeypatch.setattr(backend, "keras_backend_of_process", lambda: "tensorflow")
    monkeypatch.setitem(sys.modules, "keras", None)  # as if Keras were imported, on TensorFlow
    with pytest.raises(RuntimeError, match="must run in a process of its own"):
        backend.use("jax")
    monkeypatch.delitem(sys.modules, "keras")
    backend.use("jax")
    backend.use("jax")  # a worker that runs it twice keeps one copy of the flags
    assert os.environ["KERAS_BACKEND"] == "jax"
    assert os.environ["XLA_FLAGS"].count("intra_op_parallelism_threads=1") == 1


# ---- real trials on JAX ------------------------------------------------------------------------------
def trials_on(backend_name: str, name: str, arm: str, seeds: list[int], jobs: int = 1) -> dict:
    """The arm's smoke trials through the runner's own worker pool on `backend_name`: {seed: TrialResult}."""
    experiment = registry.load(name)
    cfg = config.trial_config(config.resolve(experiment, "smoke", {"backend": backend_name}), experiment.arms[arm])
    results = {}

    def keep(trial, result) -> bool:
        results[trial.seed] = result
        return True

    execute.run_trials(name, [Trial(arm, seed, cfg) for seed in seeds], jobs, on_start=lambda trial: None,
                       on_done=keep, fuses_seeds=experiment.fuses_seeds)
    execute.stop_workers()  # the next call starts fresh processes
    return results


@pytest.mark.parametrize("name,arm", [("nonlinearity", "deep_relu"), ("gap_vs_flatten", "gap")],
                         ids=["fused-mlp", "sequential-conv"])
def test_on_jax_a_seed_gives_the_same_numbers_in_any_process_and_any_company(keras, process, name, arm):
    """Tolerance zero, as on TensorFlow: the same seed in a fresh process, alone (a lone seed trains beside a
    copy of itself) or after other seeds, gives every metric and every curve bit for bit."""
    group = trials_on("jax", name, arm, [0, 1, 2])
    alone = trials_on("jax", name, arm, [2])
    again = trials_on("jax", name, arm, [1, 0])
    for seed, other in ((2, alone), (0, again), (1, again)):
        assert not isinstance(other[seed], execute.TrialError), other[seed]
        assert untimed(other[seed].metrics) == untimed(group[seed].metrics), (name, seed)
        assert other[seed].history == group[seed].history, (name, seed)
    assert group[0].history != group[1].history  # different seeds, different trainings
    assert set(group[0].history) == {"train/loss", "train/accuracy", "val/loss", "val/accuracy"}


def test_a_trial_runs_on_the_backend_its_config_names_or_not_at_all(keras):
    with pytest.raises(RuntimeError, match="config says backend 'jax'"):
        execute.check_backend({"backend": "jax"})  # this process is TensorFlow's
    execute.check_backend({"backend": "tensorflow"})


def test_a_jax_experiment_and_its_tensorflow_setting_run_and_say_where_they_trained(smoke_runs):
    run = smoke_runs("nonlinearity", "--settings", "default,tensorflow")
    results = run["results"]
    on_jax = read_summary(results / "nonlinearity")
    on_tensorflow = read_summary(results / "nonlinearity@tensorflow")
    assert on_jax.backend == "jax" and on_tensorflow.backend == "tensorflow"
    assert {k: v for k, v in on_jax.config.items() if k != "backend"} == \
        {k: v for k, v in on_tensorflow.config.items() if k != "backend"}
    assert on_jax.versions["jax"] == backend.version("jax")
    jax_text = (results / "nonlinearity" / "summary.md").read_text()
    label = registry.load("nonlinearity").settings["default"].label
    assert f"in setting `default` ({label}), trained on JAX {backend.version('jax')}" in jax_text
    assert f"trained on TensorFlow {backend.version('tensorflow')}" in \
        (results / "nonlinearity@tensorflow" / "summary.md").read_text()
    client = MlflowClient(run["uri"])
    trials = client.search_runs([client.get_experiment_by_name("nonlinearity").experiment_id],
                                filter_string="tags.`claimlab.role` = 'trial'")
    assert {t.data.params["backend"] for t in trials} == {"jax", "tensorflow"}
    # the two settings trained the same nets on two backends: different numbers, one verdict rule
    assert on_jax.claims[1].measured.comparisons[0].mean != on_tensorflow.claims[1].measured.comparisons[0].mean
    scope_report = json.loads((results / "nonlinearity" / "scope.json").read_text())
    assert {"default", "tensorflow"} <= {n for n, s in scope_report["settings"].items() if s["counted"]}
