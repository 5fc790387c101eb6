"""One invocation of one experiment: plan trials, run them, log them, judge the claims, write results.

The runner is the only writer to MLflow and results/. Every finished trial is logged the moment it
comes back, so an interrupted or failed run loses nothing that finished; `--resume` picks up from there.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from claimlab import config as config_module
from claimlab import report
from claimlab.errors import RunFailure, UsageError
from claimlab.execute import Trial, TrialError, run_trials
from claimlab.registry import PROJECT_ROOT, Experiment
from claimlab.verdict import INCONCLUSIVE, Evidence, Outcome

EXIT_OK, EXIT_FAILURE, EXIT_INTERRUPTED = 0, 1, 130
RESULT_MAKING_CODE = ("claimlab", "experiments", "runner.py", "pyproject.toml")


@dataclass
class RunOptions:
    profile: str
    tracking_uri: str
    results_root: Path
    jobs: int = 1
    resume: bool = False
    command: str = ""
    overrides: dict = field(default_factory=dict)  # the --set values, which name a variant's results folder


@dataclass
class Provenance:
    """Where a run's numbers came from, for summary.json and the parent run's tags."""

    commit: str
    dirty: bool
    versions: dict
    config_hash: str
    started: float  # time.perf_counter() at the start, for the wall time


@dataclass
class RunOutcome:
    status: str  # complete | interrupted | failed
    summary: dict = field(default_factory=dict)
    exit_code: int = EXIT_OK


def package_versions() -> dict[str, str]:
    """Versions without importing the packages (importlib.metadata reads the installed metadata)."""
    versions = {"python": platform.python_version()}
    for label, candidates in {
        "tensorflow": ("tensorflow-cpu", "tensorflow"), "keras": ("keras",), "mlflow": ("mlflow", "mlflow-skinny"),
        "numpy": ("numpy",), "scipy": ("scipy",), "pandas": ("pandas",), "scikit-learn": ("scikit-learn",),
        "mnist1d": ("mnist1d",),
    }.items():
        for name in candidates:
            try:
                versions[label] = importlib.metadata.version(name)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def git_commit() -> tuple[str, bool]:
    """The commit the code came from, and whether the code that makes results (claimlab/, experiments/,
    runner.py, pyproject.toml) differs from it. Edits to tests, docs or results/ do not count."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", *RESULT_MAKING_CODE],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        return commit, bool(status)
    except (OSError, subprocess.SubprocessError):
        return "unknown", False


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def note_markdown(experiment: Experiment, cfg: dict, verdicts: dict[str, Outcome] | None) -> str:
    """The parent run's description in the MLflow UI: each claim quoted, its rule, its verdict."""
    parts = [f"**{experiment.name}**: {experiment.title}", ""]
    for claim in experiment.claims:
        outcome = (verdicts or {}).get(claim.id)
        verdict = f"**{outcome.verdict}**: {outcome.reason}" if outcome else "*pending*"
        parts += [f"### {claim.id} ({claim.kind}): {verdict}", "", f"> {claim.quote}", "",
                  f"Source: {claim.source.cite()}", "", f"Rule: {claim.rule_for(cfg).describe()}", ""]
    return "\n".join(parts)


def run_checks(experiment: Experiment, cfg: dict) -> dict[str, dict]:
    """Run every exact check once, in this process, each from seed 0. A check that raises is recorded."""
    from claimlab import train

    measured = {}
    for check in experiment.checks(cfg):
        train.seed_everything(0)
        try:
            measured[check.__name__] = check(dict(cfg))
        except Exception as error:  # an exact check that breaks is a result to report, not a crash
            measured[check.__name__] = {"error": f"{type(error).__name__}: {error}"}
    return measured


def judge(experiment: Experiment, evidence: Evidence, complete: bool, finished: int, planned: int,
          versions: dict):
    """Each claim's rule on the evidence. Exact verdicts name the TensorFlow and Keras they were measured
    on: several claims were written for older versions, and the verdict holds for these ones."""
    measured_on = f" (measured on TensorFlow {versions.get('tensorflow')}, Keras {versions.get('keras')})"
    verdicts = {}
    for claim in experiment.claims:
        if claim.kind == "empirical" and not complete:
            verdicts[claim.id] = Outcome(
                INCONCLUSIVE, f"run incomplete ({finished} of {planned} trials); finish it with --resume")
            continue
        try:
            verdicts[claim.id] = claim.rule_for(evidence.cfg).evaluate(evidence)
        except Exception as error:  # a rule that cannot be evaluated on these trials says why
            verdicts[claim.id] = Outcome(INCONCLUSIVE, f"rule could not be evaluated: {type(error).__name__}: {error}")
        if claim.kind == "exact":
            verdicts[claim.id].reason += measured_on
    return verdicts


def print_verdicts(experiment: Experiment, verdicts: dict[str, Outcome], out) -> None:
    out("")
    out(f"{'claim':<6} {'kind':<10} {'verdict':<13} evidence")
    out("-" * 100)
    for claim in experiment.claims:
        outcome = verdicts[claim.id]
        out(f"{claim.id:<6} {claim.kind:<10} {outcome.verdict:<13} {outcome.reason}")


class InterruptGuard:
    """Ctrl-C and SIGTERM become KeyboardInterrupt, except inside `bookkeeping()`, where they wait for the
    block to end. A signal landing between MLflow's create_run and the runner noting the new run as open,
    or between logging a trial and ending its run, would otherwise leave a child run RUNNING for good."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.depth, self.pending, self.previous = 0, None, {}

    def __enter__(self):
        self.previous = {signum: signal.signal(signum, self._handle) for signum in self.SIGNALS}
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum, frame):
        if self.depth:
            self.pending = signum
            return
        raise KeyboardInterrupt(f"signal {signum}")

    @contextlib.contextmanager
    def bookkeeping(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None:
            signum, self.pending = self.pending, None
            raise KeyboardInterrupt(f"signal {signum}")


def run_experiment(experiment: Experiment, cfg: dict, options: RunOptions, out=print) -> RunOutcome:
    from claimlab.tracking import Tracker

    from claimlab import train
    from claimlab.execute import TRIAL_THREADS

    started = time.perf_counter()
    train.limit_threads(TRIAL_THREADS)  # before the exact checks start TensorFlow in this process
    if experiment.trains:
        try:
            experiment.prepare(cfg)
        except ValueError as error:  # prepare() rejects a config its trials cannot run: a usage error
            raise UsageError(f"{experiment.name}: {error}") from None
    results_dir = options.results_root / report.results_folder(experiment.name, options.overrides)
    tracker = Tracker(options.tracking_uri, experiment.name)
    config_hash = config_module.config_hash(cfg)
    commit, dirty = git_commit()
    versions = package_versions()
    seeds = list(range(cfg["seeds"]))
    arms = list(experiment.arms)
    # Seed-major order: an interrupted run still holds whole seeds, which is what paired statistics need.
    planned = [(arm, seed) for seed in seeds for arm in arms]

    done = tracker.finished_trials(config_hash) if options.resume else {}
    results = {key: done[key] for key in planned if key in done}
    todo = [key for key in planned if key not in results]

    parent_tags = {
        "claimlab.claims": ",".join(c.id for c in experiment.claims), "claimlab.profile": options.profile,
        "claimlab.config_hash": config_hash, "claimlab.command": options.command,
        "mlflow.source.git.commit": commit, "claimlab.git_dirty": str(dirty),
        "mlflow.note.content": note_markdown(experiment, cfg, None),
        **{f"version.{k}": v for k, v in versions.items()},
    }
    open_runs: dict[tuple[str, int], str] = {}
    failure: list[str] = []
    progress = {"done": 0, "started": time.perf_counter()}
    headline = _headline_metric(experiment, cfg)

    guard = InterruptGuard()

    def on_start(trial: Trial) -> None:
        with guard.bookkeeping():
            open_runs[(trial.arm, trial.seed)] = tracker.start_trial(parent_id, trial.arm, trial.seed, config_hash)

    def on_done(trial: Trial, result) -> bool:
        with guard.bookkeeping():
            return record(trial, result)

    def record(trial: Trial, result) -> bool:
        # The run leaves open_runs only once it is ended, so a logging error still gets it ended FAILED.
        run_id = open_runs[(trial.arm, trial.seed)]
        if isinstance(result, TrialError):
            tracker.set_tags(run_id, {"claimlab.error": result.summary})
            tracker.client.log_text(run_id, result.traceback, "error.txt")
            tracker.end(run_id, "FAILED")
            del open_runs[(trial.arm, trial.seed)]
            failure.append(f"trial {trial.arm}/seed{trial.seed} failed: {result.summary}")
            return False
        tracker.log_trial(run_id, trial.arm, trial.seed, trial.cfg, result)
        tracker.end(run_id, "FINISHED")
        del open_runs[(trial.arm, trial.seed)]
        results[(trial.arm, trial.seed)] = result
        report.write_trials_csv(results_dir, report.trials_frame(results))
        progress["done"] += 1
        elapsed = time.perf_counter() - progress["started"]
        remaining = len(todo) - progress["done"]
        eta = elapsed / progress["done"] * remaining
        value = result.metrics.get(headline, float("nan"))
        out(f"[{len(results):>3}/{len(planned)}] {trial.arm:<14} seed {trial.seed:<3} {headline} {value:.4f}  "
            f"({result.seconds:.1f} s)  elapsed {_clock(elapsed)}  ETA {_clock(eta)}", flush=True)
        return True

    def open_parent() -> str:
        reopened = tracker.resumable_parent(config_hash) if options.resume else None
        if reopened:
            tracker.reopen(reopened, parent_tags)
            return reopened
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return tracker.start_parent(f"{options.profile}-{stamp}", parent_tags, cfg)

    with guard:
        parent_id, status, checks = None, "complete", {}
        try:
            with guard.bookkeeping():
                parent_id = open_parent()
            checks = run_checks(experiment, cfg)
            if checks:
                _log_checks(tracker, parent_id, config_hash, cfg, checks)
            if planned:
                out(f"{experiment.name}: {len(planned)} trials ({len(arms)} arms x {len(seeds)} seeds), "
                    f"profile {options.profile}, jobs {options.jobs}"
                    + (f"; {len(results)} already finished in MLflow" if results else ""), flush=True)
            trials = [Trial(arm, seed, config_module.trial_config(cfg, experiment.arms[arm])) for arm, seed in todo]
            run_trials(experiment.name, trials, options.jobs, on_start, on_done)
            if failure:
                status = "failed"
        except KeyboardInterrupt:
            if parent_id is None:  # interrupted before anything was opened: nothing to close
                raise
            status = "interrupted"
        except Exception as error:
            with guard.bookkeeping():
                for run_id in [*open_runs.values(), *([parent_id] if parent_id else [])]:
                    tracker.end(run_id, "FAILED")
            raise RunFailure(f"{experiment.name} failed: {type(error).__name__}: {error}") from error

        # A second Ctrl-C from here on waits until every run is closed and the results are written.
        with guard.bookkeeping():
            end_status = {"complete": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}[status]
            for run_id in open_runs.values():
                tracker.end(run_id, end_status)
            try:
                provenance = Provenance(commit, dirty, versions, config_hash, started)
                summary, verdicts = _judge_and_report(experiment, cfg, options, tracker, parent_id, provenance,
                                                      results_dir, planned, results, checks, status)
            except Exception as error:  # whatever breaks while reporting, the parent run must not stay RUNNING
                tracker.end(parent_id, "FAILED")
                raise RunFailure(f"{experiment.name}: reporting failed: {type(error).__name__}: {error}") from error
            tracker.end(parent_id, end_status)

    print_verdicts(experiment, verdicts, out)
    out(f"\nresults: {results_dir}/summary.md   MLflow: {options.tracking_uri} (experiment {experiment.name}, "
        f"parent run {parent_id})   wall time {_clock(time.perf_counter() - started)}", flush=True)
    if status == "interrupted":
        out(f"interrupted after {len(results)} of {len(planned)} trials; every finished trial is kept. "
            "Finish with the same command and --resume.", flush=True)
        return RunOutcome(status, summary, EXIT_INTERRUPTED)
    if status == "failed":
        raise RunFailure(failure[0] + " (finished trials are kept; fix it and rerun with --resume)")
    return RunOutcome(status, summary, EXIT_OK)


def _judge_and_report(experiment: Experiment, cfg: dict, options: RunOptions, tracker, parent_id: str,
                      provenance: Provenance, results_dir: Path, planned: list, results: dict, checks: dict,
                      status: str):
    """Verdicts from the rules, then results/<name>/, the ledger and the parent run's artifacts."""
    trials_df = report.trials_frame(results)
    evidence = Evidence(trials=trials_df, checks=checks, cfg=cfg)
    verdicts = judge(experiment, evidence, status == "complete", len(results), len(planned), provenance.versions)
    summary = {
        "experiment": experiment.name, "title": experiment.title, "status": status, "profile": options.profile,
        "seeds": list(range(cfg["seeds"])), "variant": options.overrides, "arms": experiment.arms,
        "trials": {"finished": len(results), "planned": len(planned)}, "command": options.command,
        "commit": provenance.commit, "dirty": provenance.dirty, "versions": provenance.versions,
        "machine": report.machine_description(), "config": cfg, "config_hash": provenance.config_hash,
        "wall_seconds": time.perf_counter() - provenance.started,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mlflow": {"tracking_uri": options.tracking_uri, "experiment_id": tracker.experiment_id,
                   "parent_run_id": parent_id},
        "checks": checks,
        "claims": [
            {"id": c.id, "kind": c.kind, "quote": c.quote,
             "source": {"file": c.source.file, "lines": c.source.lines, "title": c.source.title},
             "hypothesis": c.hypothesis, "rule": c.rule_for(cfg).describe(), "verdict": verdicts[c.id].verdict,
             "reason": verdicts[c.id].reason, "measured": verdicts[c.id].to_dict()}
            for c in experiment.claims
        ],
    }
    figures = _figures(experiment, results, trials_df, evidence) if results or not experiment.trains else {}
    if results:
        report.write_trials_csv(results_dir, trials_df)
    figure_files = report.write_figures(results_dir, figures)
    report.write_summary(results_dir, summary, figure_files, trials_df)
    report.write_ledger(options.results_root)

    verdict_table = {
        "claim": [c.id for c in experiment.claims], "kind": [c.kind for c in experiment.claims],
        "verdict": [verdicts[c.id].verdict for c in experiment.claims],
        "evidence": [verdicts[c.id].reason for c in experiment.claims],
    }
    tracker.set_tags(parent_id, {"mlflow.note.content": note_markdown(experiment, cfg, verdicts),
                                 "claimlab.status": status,
                                 **{f"verdict.{cid}": o.verdict for cid, o in verdicts.items()}})
    tracker.log_results(parent_id, results_dir, verdict_table, figures)
    _close_figures(figures)

    return summary, verdicts


def _headline_metric(experiment: Experiment, cfg: dict) -> str:
    for claim in experiment.claims:
        if claim.rule_for(cfg).metrics:
            return claim.rule_for(cfg).metrics[0]
    return "test/accuracy"


def _log_checks(tracker, parent_id: str, config_hash: str, cfg: dict, checks: dict) -> None:
    """The exact checks as one child run: numeric values as metrics, everything in checks.json."""
    run_id = tracker.client.create_run(
        tracker.experiment_id, run_name="exact-checks",
        tags={"mlflow.parentRunId": parent_id, "claimlab.role": "checks", "claimlab.config_hash": config_hash},
    ).info.run_id
    numeric = {  # MLflow accepts letters, digits and _-. /: other characters in a key become _
        re.sub(r"[^A-Za-z0-9_\-. /]", "_", f"{name}/{key}"): value
        for name, values in checks.items() for key, value in values.items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }
    tracker.log_metrics(run_id, numeric)
    tracker.log_params(run_id, cfg)
    tracker.client.log_dict(run_id, report.json_safe(checks), "checks.json")
    tracker.end(run_id, "FINISHED")


def _figures(experiment: Experiment, results: dict, trials_df, evidence) -> dict:
    metrics = []
    for claim in experiment.claims:
        metrics += [m for m in claim.rule_for(evidence.cfg).metrics if m not in metrics and m in trials_df]
    arms = list(experiment.arms)
    figures = {}
    if metrics:
        figures["per_arm"] = report.per_arm_figure(trials_df, metrics, arms)
    curves = report.learning_curves_figure(results, arms)
    if curves is not None:
        figures["learning_curves"] = curves
    figures.update(experiment.figures(evidence))
    return figures


def _close_figures(figures: dict) -> None:
    import matplotlib.pyplot as plt

    for figure in figures.values():
        plt.close(figure)

