"""Shared fixtures: real smoke runs of the experiments against temporary SQLite MLflow stores; and the
two test tiers.

The runs are real (real Keras training, a real MLflow store). Each experiment's smoke run happens once
per test session and is shared by the tests that read what it produced.

The tiers. A test that trains or builds a model, starts a process or starts a server is an integration
test; every other test (rules, statistics, config, the registry, reports from hand-made inputs) runs in
the fast tier, `python -m pytest -m "not integration"`. Nobody writes the marker: a test is marked from
the fixtures it uses. Keras comes from the `keras` fixture, processes and servers from the `process`
fixture (or a fixture built on them: `runner`, `smoke_runs`, the server fixtures), and a test that uses
neither is held to the fast tier's promise: one that starts a process, or imports TensorFlow, Keras, JAX
or Ray, fails and says which fixture to use.
"""

import builtins
import contextlib
import importlib
import importlib.util
import json
import multiprocessing.process
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# A test using any of these fixtures (directly or through another fixture) is marked integration.
INTEGRATION_FIXTURES = ("keras", "process")
# Importing one of these takes seconds and means a model or a cluster: not in the fast tier.
HEAVY_MODULES = ("tensorflow", "keras", "jax", "tf_keras", "ray")


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: trains or builds a model, starts a process or a server "
                                       "(set by conftest from the fixtures a test uses)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if set(INTEGRATION_FIXTURES) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
    # The files that train or start processes first, the fast ones last: xdist (--dist loadfile) hands out
    # files in this order, so the short files fill the end of the run, not a 3-minute file started last
    # while the other worker idles (longest first, the classic rule for scheduling on a few machines).
    slow_files = {item.path for item in items if item.get_closest_marker("integration")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: each file keeps its own order


def pytest_collection_finish(session):
    """Collection must not import a framework, or the fast tier could not tell which test imports one."""
    imported = [name for name in HEAVY_MODULES if name in sys.modules]
    if imported and any(not item.get_closest_marker("integration") for item in session.items):
        raise pytest.UsageError(f"collecting the tests imported {', '.join(imported)}: a test module imports it "
                                "at module level; import it inside a test that uses the `keras` fixture")


@contextlib.contextmanager
def fast_tier_guard(item):
    """While a test outside the integration tier sets up, runs and tears down (its module- and session-scoped
    fixtures included), starting a process or importing a framework fails it, naming the fixture to use."""
    def refuse_process(*args, **kwargs):
        pytest.fail(f"{item.nodeid} starts a process: request the `process` fixture (or `runner`), which marks "
                    "it integration", pytrace=False)

    def refuse_heavy(name: str) -> None:
        # at every `import x` statement, even of a module another test imported already
        if name.partition(".")[0] in HEAVY_MODULES:
            pytest.fail(f"{item.nodeid} imports {name}: request the `keras` fixture, which marks it integration",
                        pytrace=False)

    def guarded_import(name, *args, **kwargs):
        refuse_heavy(name)
        return real_import(name, *args, **kwargs)

    def guarded_import_module(name, *args, **kwargs):
        refuse_heavy(name)
        return real_import_module(name, *args, **kwargs)

    real_import, real_import_module = builtins.__import__, importlib.import_module
    patches = [(builtins, "__import__", guarded_import), (importlib, "import_module", guarded_import_module),
               (subprocess.Popen, "__init__", refuse_process),
               (multiprocessing.process.BaseProcess, "start", refuse_process)]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _guarded(item):
    return contextlib.nullcontext() if item.get_closest_marker("integration") else fast_tier_guard(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _guarded(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _guarded(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    with _guarded(item):
        yield


@pytest.fixture(scope="session")
def keras():
    """Keras (and so TensorFlow): a test that builds or trains a model."""
    import keras as keras_module

    return keras_module


@pytest.fixture(scope="session")
def process():
    """A test that starts processes or servers (on 127.0.0.1, stopped by their pids)."""


# ---- typed results made by hand, for the pure tests of what reads them -------------------------------
def a_comparison(name: str = "large - small", **fields):
    """A judged paired comparison as a rule makes it (claimlab.verdict.Comparison)."""
    from claimlab.verdict import Comparison

    values = {"metric": "accuracy", "mean": 0.125, "ci_low": 0.05, "ci_high": 0.2, "n": 10, "verdict": "supported",
              "state": "better", **fields}
    return Comparison(name=name, **values)


def a_claim(claim_id: str, kind: str = "empirical", verdict: str = "supported", comparisons=(), **fields):
    """One claim's result (claimlab.schema.ClaimResult) with the given verdict and comparisons."""
    from claimlab.schema import ClaimResult, Measured, SourceRef

    values = {"quote": "a quote", "source": SourceRef("thread.md", "1-2", "a thread"), "hypothesis": "h",
              "rule": "r", "qualifier": "", "reason": "because", "measured": Measured(comparisons=tuple(comparisons)),
              **fields}
    return ClaimResult(id=claim_id, kind=kind, verdict=verdict, **values)


def a_summary(claims, **fields):
    """A complete summary.json (claimlab.schema.Summary) of a finished run of experiment "probe"."""
    from claimlab.schema import MlflowRef, Summary, TrialCount

    seeds = fields.pop("seeds", 10)
    values = {"experiment": "probe", "title": "a probe", "status": "complete", "profile": "full",
              "seeds": tuple(range(seeds)), "variant": {}, "arms": {}, "trials": TrialCount(seeds, seeds),
              "command": "python runner.py probe", "commit": "0123456789abcdef0123", "dirty": False,
              "versions": {"keras": "3"}, "machine": "a machine", "config": {"seeds": seeds},
              "config_hash": "h", "wall_seconds": 1.0, "trial_seconds": 1.0, "generated_at": "2026-12-05T00:00:00",
              "mlflow": MlflowRef("sqlite:///mlflow.db", "1", "parent"), "checks": {}, "if_diverged": {},
              **fields}
    return Summary(claims=tuple(claims), **values)


def run_runner(*args, cwd=ROOT, timeout=600, env=None):
    """Run `python runner.py ARGS` in a fresh process; returns the CompletedProcess."""
    return subprocess.run([sys.executable, str(ROOT / "runner.py"), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def runner(process):
    """runner(*args, cwd=ROOT, timeout=600, env=None): `python runner.py ARGS` in a fresh process."""
    return run_runner


def smoke_run_of(name: str, base: Path, *extra: str) -> dict:
    """`python runner.py NAME --profile smoke EXTRA...` in this process, into a fresh store under `base`.

    Returns the tracking uri, the results root and the experiment's folder, summary.json
    (claimlab.schema.Summary), its checks and claims by id (ClaimResult), and what the runner printed.
    """
    from claimlab import cli
    from claimlab.schema import read_summary

    uri = f"sqlite:///{base / 'mlflow.db'}"
    lines = []
    code = cli.main([name, "--profile", "smoke", *extra, "--tracking-uri", uri, "--results-dir", str(base / "results")],
                    out=lambda *a, **k: lines.append(" ".join(map(str, a))))
    output = "\n".join(lines)
    assert code == 0, output
    folder = base / "results" / name
    summary = read_summary(folder)
    return {"code": code, "uri": uri, "results": base / "results", "folder": folder, "summary": summary,
            "checks": summary.checks, "verdicts": {c.id: c for c in summary.claims}, "output": output}


def assert_every_claim_judged(run: dict, claim_ids: list[str], trials: int | None = None,
                              source_file: str | None = None) -> None:
    """A smoke run's summary judged each claim, in order, with one of the three verdicts, printed a terminal
    line for each, and (when given) finished all `trials` trials and quoted `source_file`."""
    summary = run["summary"]
    assert summary.status == "complete"
    if trials is not None:
        assert (summary.trials.finished, summary.trials.planned) == (trials, trials)
    assert [c.id for c in summary.claims] == claim_ids
    for claim in summary.claims:
        assert claim.verdict in ("supported", "refuted", "inconclusive", "measured"), claim
        assert source_file is None or claim.source.file == source_file, claim.source
        assert any(line.startswith(claim.id + " ") for line in run["output"].splitlines()), claim.id


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory, keras, process):
    """smoke_runs(NAME, *extra): the smoke run of an experiment, made once per session."""
    made = {}

    def get(name: str, *extra: str) -> dict:
        if (name, *extra) not in made:
            made[(name, *extra)] = smoke_run_of(name, tmp_path_factory.mktemp(name), *extra)
        return made[(name, *extra)]

    return get


@pytest.fixture(scope="session")
def smoke_run(smoke_runs):
    """gap_vs_flatten's smoke run with --jobs 1: its JAX trials in a pool of one worker (the in-process path,
    TensorFlow's, is covered by tests/test_interrupt_resume.py and test_reproduce.py)."""
    return smoke_runs("gap_vs_flatten", "--jobs", "1")


def load_benchmark(name: str):
    """benchmarks/NAME.py as a module (the benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def regenerated(folder: Path) -> bool:
    """Whether a results folder comes from the one regeneration after issues 24-27 (DEVELOPERS.md): its run
    recorded the two-stage cap (config until_decided), which every run writes since issue 27 and no committed
    run before it did. The marks that wait for the regeneration fall away per experiment as it lands."""
    path = folder / "summary.json"
    return path.exists() and "until_decided" in json.loads(path.read_text())["config"]


def untimed(metrics: dict) -> dict:
    """A trial's metrics without its timings ("time/..."): a timing differs from run to run, while every other
    number is bit-identical for a seed."""
    return {key: value for key, value in metrics.items() if not key.startswith("time/")}


def mlflow_runs(uri: str, experiment_name: str) -> dict:
    """The runs of one MLflow experiment by role: parent, checks, trial (lists)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    runs = client.search_runs([experiment.experiment_id], max_results=1000)
    by_role = {"parent": [], "checks": [], "trial": []}
    for run in runs:
        by_role.setdefault(run.data.tags.get("claimlab.role"), []).append(run)
    return by_role
