"""One invocation of one experiment: plan trials, run them, log them, judge the claims, write results.

The runner is the only writer to MLflow and results/. Every finished trial is logged the moment it
comes back, so an interrupted or failed run loses nothing that finished; `--resume` picks up from there.

Read top-down: `run_experiment` is the whole story in a screen. It opens the parent run and runs the
exact checks and the trials (`_run_checks_and_trials`, with `RunState` as run_trials' callbacks), then
closes the runs and reports (`_close_runs_and_report`): `judge`, `build_summary`, `write_results_files`,
the ledger, and `log_to_parent`.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from claimlab import config as config_module
from claimlab import execute, files, plots, ray_executor, report, reproduce, scope, train
from claimlab.errors import RunFailure, UsageError
from claimlab.execute import TRIAL_THREADS, Trial, TrialError
from claimlab.provenance import Provenance, package_versions
from claimlab.registry import Experiment
from claimlab.schema import ClaimResult, Measured, MlflowRef, Reproduction, SourceRef, Summary, TrialCount
from claimlab.tracking import Tracker, parent_metrics
from claimlab.verdict import INCONCLUSIVE, Evidence, Outcome, declared_for, fit_metrics

EXIT_OK, EXIT_FAILURE, EXIT_INTERRUPTED = 0, 1, 130
END_STATUS = {"complete": "FINISHED", "interrupted": "KILLED", "failed": "FAILED"}  # run status -> MLflow's


@dataclass
class RunOptions:
    profile: str
    tracking_uri: str
    results_root: Path
    jobs: int = 1
    resume: bool = False
    command: str = ""
    overrides: dict = field(default_factory=dict)  # the --set values, which name a variant's results folder
    executor: str = "local"  # local: this machine's worker pool; ray: tasks on a Ray cluster
    ray_address: str | None = None
    setting: str | None = None  # the declared setting this run is (claimlab.scope); None for a --set variant
    compare_with: Path | None = None  # the published results a run is set beside (claimlab.reproduce)


@dataclass
class RunOutcome:
    status: str  # complete | interrupted | failed
    summary: Summary | None = None
    exit_code: int = EXIT_OK


@dataclass
class ExperimentRun:
    """What every step of one invocation reads, fixed before the first trial: the experiment and its
    resolved config, the options, where its results go, the MLflow tracker, the provenance, the signal
    guard and where progress is printed."""

    experiment: Experiment
    cfg: dict
    options: RunOptions
    results_dir: Path
    tracker: Tracker
    provenance: Provenance
    guard: InterruptGuard
    out: Callable[..., None]  # print, or whatever the caller collects the lines with


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def run_checks(experiment: Experiment, cfg: dict) -> dict[str, dict]:
    """Run every exact check once, in this process, each from seed 0. A check that raises is recorded."""

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
            rule = claim.rule_for(evidence.cfg)
            verdicts[claim.id] = rule.evaluate(evidence)
            if claim.kind == "empirical":
                verdicts[claim.id] = with_diverged_seeds(verdicts[claim.id], evidence, rule.metrics)
        except Exception as error:  # a rule that cannot be evaluated is a fault of the rule, never a verdict
            raise RunFailure(f"claim {claim.id}'s rule could not be evaluated: {type(error).__name__}: {error}; fix "
                             "the rule (the trials are kept: rerun with --resume to judge them)") from error
        if claim.kind == "exact":
            verdicts[claim.id] = replace(verdicts[claim.id], reason=verdicts[claim.id].reason + measured_on)
    return verdicts


def with_diverged_seeds(outcome: Outcome, evidence: Evidence, metrics: list[str]) -> Outcome:
    """The outcome with how many seeds of each arm diverged in a training the rule's metrics come from, in
    the details (every arm, zeros included) and, when any did, in the reason with what they scored as."""
    import pandas as pd

    counts, seeds = {}, {}
    for arm in sorted(evidence.arms_present()):
        flags = pd.concat([evidence.diverged(arm, metric) for metric in metrics] or [evidence.diverged(arm)], axis=1)
        counts[arm], seeds[arm] = int(flags.any(axis=1).sum()), len(flags)
    reason = outcome.reason
    diverged = [f"{arm} {count}/{seeds[arm]}" for arm, count in counts.items() if count]
    if diverged:
        declared = {metric: declared_for(evidence.if_diverged, metric) for metric in metrics}
        scored = ", ".join(f"{metric} {rule.describe()}" for metric, rule in declared.items() if rule)
        reason += f"; diverged seeds: {', '.join(diverged)} ({scored})"
    return replace(outcome, reason=reason, details={**outcome.details, "diverged_seeds": counts})


def print_verdicts(experiment: Experiment, verdicts: dict[str, Outcome], out, setting: str | None = None,
                   scopes: dict | None = None) -> None:
    """The verdict table; for a declared setting, which one, and each empirical claim's scope so far."""
    out("")
    if setting:
        out(f"setting {setting}: {experiment.settings[setting].label}")
    scopes = scopes or {}
    out(f"{'claim':<6} {'kind':<10} {'verdict':<13} {'scope':<18} evidence" if scopes else
        f"{'claim':<6} {'kind':<10} {'verdict':<13} evidence")
    out("-" * 100)
    for claim in experiment.claims:
        outcome = verdicts[claim.id]
        scope_cell = f"{scopes.get(claim.id, {}).get('code', ''):<18} " if scopes else ""
        out(f"{claim.id:<6} {claim.kind:<10} {outcome.label():<13} {scope_cell}{outcome.reason}")


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


class RunState:
    """The trials of one invocation as they start and finish: the parent run, the child runs open in
    MLflow, the results so far (with --resume, starting from those already in the store), the failures,
    and the progress line printed as each trial finishes.

    `on_start` and `on_done` are run_trials' callbacks. Each does its MLflow work inside the guard's
    bookkeeping block, so a signal cannot land between creating a child run and noting it as open, or
    between logging a trial and ending its run.
    """

    def __init__(self, run: ExperimentRun, planned: list[tuple[str, int]], finished: dict):
        self.run = run
        self.planned = list(planned)
        self.parent_id: str | None = None  # set once the parent run is open
        self.finished_before = finished  # what MLflow held when the run started (--resume)
        self.results = {key: finished[key] for key in planned if key in finished}
        self.todo = [key for key in planned if key not in self.results]
        self.open_runs: dict[tuple[str, int], str] = {}
        self.failures: list[str] = []
        self.finished_here = 0  # trials this invocation finished: the ETA counts only these
        self.compute_here = 0.0  # their seconds inside the workers
        self.started = time.perf_counter()
        self.headline = _headline_metric(run.experiment, run.cfg)
        self.read_by_rules = _metrics_read_by_rules(run.experiment, run.cfg)
        self.curve_missing = False  # a trial recorded no curve for the plateau test

    def add_trials(self, keys: list[tuple[str, int]]) -> list[tuple[str, int]]:
        """Plan more trials (a second stage of seeds); returns those still to run (--resume may hold some)."""
        self.planned += keys
        self.results.update({key: self.finished_before[key] for key in keys if key in self.finished_before})
        new = [key for key in keys if key not in self.results]
        self.todo += new
        return new

    def on_start(self, trial: Trial) -> None:
        with self.run.guard.bookkeeping():
            self.open_runs[(trial.arm, trial.seed)] = self.run.tracker.start_trial(
                self.parent_id, trial.arm, trial.seed, self.run.provenance.config_hash)

    def on_done(self, trial: Trial, result) -> bool:
        """Log the trial and end its run; False (schedule no more trials) when the trial failed."""
        with self.run.guard.bookkeeping():
            if isinstance(result, TrialError):
                self._record_failure(trial, result)
                return result.worker_died  # a trial that kills its worker fails alone; an error stops the run
            # what the plateau test reads (fit/final, fit/last_fifth_gain), derived here from the training
            # curve so that every experiment records it the same way, in trials.csv and in MLflow
            fit = fit_metrics(result.history, self.run.experiment.plateau, self.run.cfg)
            self.curve_missing |= not fit  # said in summary.md: the plateau test could not be applied
            result.metrics.update(fit)
            self._record_result(trial, result)
            self._print_progress(trial, result)
            return self._reports_what_the_rules_read(trial, result)

    def _reports_what_the_rules_read(self, trial: Trial, result) -> bool:
        """At an arm's first trial: every metric the claims' rules read of this arm is reported. A misspelt
        metric fails the run here (the trial is kept), rather than yielding an inconclusive verdict at the end."""
        wanted = self.read_by_rules.pop(trial.arm, {})
        missing = {metric: claims for metric, claims in wanted.items() if metric not in result.metrics}
        for metric, claims in missing.items():
            self.failures.append(f"trial {trial.arm}/seed{trial.seed} did not report {metric!r}, which the rule of "
                                 f"{', '.join(claims)} reads (it reported: {', '.join(sorted(result.metrics))}); "
                                 "fix the metric's name in the rule or in the trial")
        return not missing

    # A run leaves open_runs only once it is ended, so a logging error still gets it ended FAILED.
    def _record_failure(self, trial: Trial, error: TrialError) -> None:
        tracker, run_id = self.run.tracker, self.open_runs[(trial.arm, trial.seed)]
        tracker.set_tags(run_id, {"claimlab.error": error.summary})
        if error.traceback:
            tracker.client.log_text(run_id, error.traceback, "error.txt")
        tracker.end(run_id, "FAILED")
        del self.open_runs[(trial.arm, trial.seed)]
        self.failures.append(f"trial {trial.arm}/seed{trial.seed} failed: {error.summary}")

    def _record_result(self, trial: Trial, result) -> None:
        tracker, run_id = self.run.tracker, self.open_runs[(trial.arm, trial.seed)]
        tracker.log_trial(run_id, trial.arm, trial.seed, trial.cfg, result)
        tracker.end(run_id, "FINISHED")
        del self.open_runs[(trial.arm, trial.seed)]
        self.results[(trial.arm, trial.seed)] = result
        files.write_trials_csv(self.run.results_dir, report.trials_frame(self.results))
        self.finished_here += 1
        self.compute_here += result.seconds

    def _print_progress(self, trial: Trial, result) -> None:
        elapsed = time.perf_counter() - self.started
        eta = elapsed / self.finished_here * (len(self.todo) - self.finished_here)
        value = result.metrics.get(self.headline, float("nan"))
        self.run.out(f"[{len(self.results):>3}/{len(self.planned)}] {trial.arm:<14} seed {trial.seed:<3} "
                     f"{self.headline} {value:.4f}  ({result.seconds:.1f} s)  elapsed {_clock(elapsed)}  "
                     f"ETA {_clock(eta)}", flush=True)

    def end_open_runs(self, status: str) -> None:
        for run_id in self.open_runs.values():
            self.run.tracker.end(run_id, status)


def run_experiment(experiment: Experiment, cfg: dict, options: RunOptions, out=print) -> RunOutcome:
    """Run one experiment: its exact checks and every trial not yet finished, each logged as it ends;
    then the verdicts, results/<name>/, the ledger and the parent run's tags, metrics and artifacts.

    Ctrl-C or SIGTERM ends the open runs KILLED and still reports what finished (EXIT_INTERRUPTED). A
    failed trial ends its run FAILED and stops new trials from starting; the run still reports what
    finished, then raises RunFailure. Any other error ends every open run FAILED and raises RunFailure.
    The local worker pool starts as the run does and ends with it (or with the CLI's keep_workers block).
    """
    try:
        return _run_experiment(experiment, cfg, options, out)
    except BaseException:
        execute.stop_workers(kill=True)
        raise
    finally:
        execute.release_workers()


def _run_experiment(experiment: Experiment, cfg: dict, options: RunOptions, out) -> RunOutcome:
    started = time.perf_counter()
    _prepare(experiment, cfg)
    if options.executor == "local" and experiment.trains:  # the workers import TensorFlow while MLflow opens
        execute.start_workers(experiment.name, options.jobs, cfg["backend"])
    prepared = time.perf_counter()
    results_dir = options.results_root / (scope.folder(experiment.name, options.setting) if options.setting
                                          else report.results_folder(experiment.name, options.overrides))
    tracker = Tracker(options.tracking_uri, experiment.name)
    provenance = Provenance.capture(config_module.config_hash(cfg), started)
    orphans = tracker.end_orphans(provenance.config_hash)
    if orphans:
        out(f"{experiment.name}: ended {orphans} run(s) of this config that a runner which is gone left RUNNING "
            "(now KILLED)", flush=True)
    run = ExperimentRun(experiment, cfg, options, results_dir, tracker, provenance, InterruptGuard(), out)
    finished = tracker.finished_trials(provenance.config_hash) if options.resume else {}
    state = RunState(run, plan_trials(experiment, cfg), finished)

    with run.guard:
        trials_started = time.perf_counter()
        status, checks = _run_checks_and_trials(run, state)
        trials_ended, mlflow_during_trials = time.perf_counter(), tracker.client.seconds
        # A second Ctrl-C from here on waits until every run is closed and the results are written.
        with run.guard.bookkeeping():
            summary, verdicts = _close_runs_and_report(run, state, status, checks)
    _write_phases(run, state, {"prepare": prepared - started, "trials_wall": trials_ended - trials_started,
                               "mlflow_during_trials": mlflow_during_trials,
                               "report": time.perf_counter() - trials_ended, "run_wall": time.perf_counter() - started})

    report_of_scope = scope.read(options.results_root, experiment.name) if options.setting else None
    print_verdicts(experiment, verdicts, out, options.setting,
                   {cid: c["scope"] for cid, c in (report_of_scope or {}).get("claims", {}).items()})
    if summary is not None and summary.reproduction:
        for line in reproduce.terminal_lines(summary.reproduction):
            out(line)
    out(f"\nresults: {results_dir}/summary.md   MLflow: {options.tracking_uri} (experiment {experiment.name}, "
        f"parent run {state.parent_id})   wall time {_clock(time.perf_counter() - started)}   "
        f"UI: {tracker.ui_url(state.parent_id)}", flush=True)
    if status == "interrupted":
        out(f"interrupted after {len(state.results)} of {len(state.planned)} trials; every finished trial is "
            "kept. Finish with the same command and --resume.", flush=True)
        return RunOutcome(status, summary, EXIT_INTERRUPTED)
    if status == "failed":
        count = f"{len(state.failures)} trial{'s' if len(state.failures) > 1 else ''} failed, first: "
        raise RunFailure(count + state.failures[0] + " (finished trials are kept; fix it and rerun with --resume)")
    return RunOutcome(status, summary, EXIT_OK)


def _prepare(experiment: Experiment, cfg: dict) -> None:
    """Fix TensorFlow's thread count before the exact checks start it in this process, and let the
    experiment reject a config its trials cannot run: a usage error, before anything is opened."""

    train.prepare_process(TRIAL_THREADS)
    if experiment.trains:
        try:
            experiment.prepare(cfg)
        except ValueError as error:
            raise UsageError(f"{experiment.name}: {error}") from None


def _write_phases(run: ExperimentRun, state: RunState, phases: dict) -> None:
    """Where the run's time went, for benchmarks/compare.py: to $CLAIMLAB_PHASES_FILE when it is set."""
    path = os.environ.get("CLAIMLAB_PHASES_FILE")
    if path:
        Path(path).write_text(json.dumps({**phases, "mlflow": run.tracker.client.seconds, "jobs": run.options.jobs,
                                          "trial_compute": state.compute_here, "trials_run": state.finished_here}))


def plan_trials(experiment: Experiment, cfg: dict) -> list[tuple[str, int]]:
    """Every (arm, seed), seed-major: an interrupted run still holds whole seeds, which is what paired
    statistics need. (An experiment that fuses seeds runs them in batches of one arm's seeds, so an
    interrupted run of it holds whole arms instead; --resume completes the rest either way.)"""
    return [(arm, seed) for seed in range(cfg["seeds"]) for arm in experiment.arms]


def _run_checks_and_trials(run: ExperimentRun, state: RunState) -> tuple[str, dict]:
    """Open the parent run, run the exact checks, then every trial still to do. Returns the status
    (complete, failed or interrupted) and the checks' measured values. Any other error ends every open
    run FAILED and raises RunFailure."""
    experiment, checks, beside = run.experiment, {}, None
    try:
        with run.guard.bookkeeping():
            state.parent_id = _open_parent(run, state)
        if _checks_can_run_beside_the_trials(run, state):
            thread = futures.ThreadPoolExecutor(1, thread_name_prefix="exact-checks")
            beside = thread.submit(run_checks, experiment, run.cfg)
            thread.shutdown(wait=False)  # the thread ends with the checks
        else:
            checks = run_checks(experiment, run.cfg)
            if checks:
                _log_checks(run.tracker, state.parent_id, run.provenance.config_hash, run.cfg, checks)
        if state.planned:
            run.out(f"{experiment.name}: {len(state.planned)} trials ({len(experiment.arms)} arms x "
                    f"{run.cfg['seeds']} seeds), profile {run.options.profile}, jobs {run.options.jobs}"
                    + (f"; {len(state.results)} already finished in MLflow" if state.results else ""), flush=True)
        _execute(run, state, state.todo)
        if beside is not None:
            checks = beside.result()
            if checks:
                _log_checks(run.tracker, state.parent_id, run.provenance.config_hash, run.cfg, checks)
        if not state.failures:
            second = state.add_trials(second_stage_trials(run, state, checks))
            if second:
                run.out(f"{experiment.name}: second stage, {len(second)} more trials for the comparisons the "
                        f"planned seeds left undecided (until_decided={run.cfg['until_decided']})", flush=True)
                _execute(run, state, second)
    except KeyboardInterrupt:
        if state.parent_id is None:  # interrupted before anything was opened: nothing to close
            raise
        return "interrupted", (beside.result() if beside is not None else checks)
    except Exception as error:
        with run.guard.bookkeeping():
            for run_id in [*state.open_runs.values(), *([state.parent_id] if state.parent_id else [])]:
                run.tracker.end(run_id, "FAILED")
        raise RunFailure(f"{experiment.name} failed: {type(error).__name__}: {error}") from error
    return ("failed" if state.failures else "complete"), checks


def _execute(run: ExperimentRun, state: RunState, keys: list[tuple[str, int]]) -> None:
    """Run the (arm, seed) trials `keys` on the run's executor, each logged as it ends (RunState)."""
    experiment = run.experiment
    trials = [Trial(arm, seed, config_module.trial_config(run.cfg, experiment.arms[arm])) for arm, seed in keys]
    if run.options.executor == "ray":
        ray_executor.run_trials(experiment.name, trials, state.on_start, state.on_done, run.options.ray_address,
                                experiment.fuses_seeds, run.cfg["backend"])
    else:
        execute.run_trials(experiment.name, trials, run.options.jobs, state.on_start, state.on_done,
                           fuses_seeds=experiment.fuses_seeds)


def second_stage_trials(run: ExperimentRun, state: RunState, checks: dict) -> list[tuple[str, int]]:
    """With two-stage seeds (until_decided), the trials of every second stage the finished trials call for:
    the rules judge them, and each comparison they leave undecided names the seeds its second stage needs and
    the arms it compares (claimlab.verdict.staged_test). Seed-major, like plan_trials; [] with one stage."""
    if not run.cfg.get("until_decided") or not state.results:
        return []
    evidence = run.experiment.evidence(report.trials_frame(state.results), checks, run.cfg)
    verdicts = judge(run.experiment, evidence, True, len(state.results), len(state.planned), run.provenance.versions)
    wanted: dict[str, int] = {}
    for outcome in verdicts.values():
        for comparison in outcome.comparisons:
            for arm in comparison.pending_arms or ():
                wanted[arm] = max(wanted.get(arm, 0), comparison.pending_seeds)
    planned = set(state.planned)
    return [(arm, seed) for seed in range(run.cfg["seeds"], max(wanted.values(), default=0))
            for arm in run.experiment.arms if seed < wanted.get(arm, 0) and (arm, seed) not in planned]


def _checks_can_run_beside_the_trials(run: ExperimentRun, state: RunState) -> bool:
    """The exact checks run in this process, each seeded from 0. While the trials run in other processes
    (the worker pool, or Ray) the checks run beside them, in a thread of this process, instead of keeping
    the workers waiting; trials in this process run after them, as their seeding would otherwise mix."""
    if not state.todo or not run.experiment.checks(run.cfg):
        return False
    return run.options.executor != "local" or not execute.in_process(run.cfg["backend"], run.options.jobs)


def _open_parent(run: ExperimentRun, state: RunState) -> str:
    """With --resume, reopen this config's latest parent run that did not finish; else start one."""
    tags = {
        "claimlab.claims": ",".join(c.id for c in run.experiment.claims), "claimlab.profile": run.options.profile,
        "claimlab.config_hash": run.provenance.config_hash, "claimlab.command": run.options.command,
        "mlflow.note.content": report.note_markdown(run.experiment, run.cfg, None), **run.provenance.tags(),
        **({"claimlab.setting": run.options.setting} if run.options.setting else {}),
    }
    # Nothing left to run: the report goes on the parent that holds the trials, even a finished one.
    reopened = (run.tracker.resumable_parent(run.provenance.config_hash, finished_too=not state.todo)
                if run.options.resume else None)
    if reopened:
        run.tracker.reopen(reopened, tags)
        return reopened
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return run.tracker.start_parent(f"{run.options.profile}-{stamp}", tags, run.cfg)


def _close_runs_and_report(run: ExperimentRun, state: RunState, status: str, checks: dict):
    """End the child runs still open, report, then end the parent run with the run's status. Whatever
    breaks while reporting, the parent run must not stay RUNNING: it ends FAILED and RunFailure says why."""
    end_status = END_STATUS[status]
    state.end_open_runs(end_status)
    try:
        summary, verdicts = _judge_and_report(run, state, status, checks)
    except RunFailure:
        run.tracker.end(state.parent_id, "FAILED")
        raise
    except Exception as error:
        run.tracker.end(state.parent_id, "FAILED")
        raise RunFailure(f"{run.experiment.name}: reporting failed: {type(error).__name__}: {error}") from error
    run.tracker.end(state.parent_id, end_status)
    return summary, verdicts


def _judge_and_report(run: ExperimentRun, state: RunState, status: str, checks: dict):
    """Verdicts from the rules, then results/<name>/, the ledger and the parent run's tags, metrics and
    artifacts. Returns summary.json's content and the verdicts."""
    trials = report.trials_frame(state.results)
    evidence = run.experiment.evidence(trials, checks, run.cfg)
    verdicts = judge(run.experiment, evidence, status == "complete", len(state.results), len(state.planned),
                     run.provenance.versions)
    summary = build_summary(run, state, status, checks, verdicts, trials)
    # read before this run writes anything: under --publish it is the published run being replaced
    summary = replace(summary, reproduction=reproduce.against_published(run.options.compare_with,
                                                                        run.results_dir.name, summary))
    with files.results_lock(run.options.results_root):  # a second runner writing results/ waits its turn
        figures = write_results_files(run, state.results, trials, evidence, summary)
        if run.options.setting and run.experiment.settings:  # the scope report always says what results/ holds
            report.write_scope(run.experiment, run.options.results_root)
    try:
        with files.results_lock(run.options.results_root):
            report.write_ledger(run.options.results_root)
        log_to_parent(run, state.parent_id, status, verdicts, figures, summary.reproduction)
    finally:
        _close_figures(figures)
    return summary, verdicts


def build_summary(run: ExperimentRun, state: RunState, status: str, checks: dict,
                  verdicts: dict[str, Outcome], trials) -> Summary:
    """summary.json: what was run, on what, where it is in MLflow, and each claim with its verdict; for a
    declared setting also the setting, its baseline against the published reference, and for an
    inconclusive claim the seeds its undecided comparisons would need."""
    experiment, cfg, options, provenance = run.experiment, run.cfg, run.options, run.provenance
    setting = experiment.settings.get(options.setting) if options.setting else None
    return Summary(
        experiment=experiment.name, title=experiment.title, status=status, profile=options.profile,
        seeds=tuple(range(cfg["seeds"])), variant=options.overrides, arms=experiment.arms,
        trials=TrialCount(finished=len(state.results), planned=len(state.planned)), command=options.command,
        commit=provenance.commit, dirty=provenance.dirty, versions=provenance.versions,
        machine=report.machine_description(), config=cfg, config_hash=provenance.config_hash,
        wall_seconds=time.perf_counter() - provenance.started,
        # worker seconds of every trial, those a --resume took from MLflow included
        trial_seconds=float(trials["seconds"].sum()) if len(trials) else 0.0,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        mlflow=MlflowRef(options.tracking_uri, run.tracker.experiment_id, state.parent_id),
        checks=checks,
        if_diverged={metric: rule.describe() for metric, rule in experiment.if_diverged(cfg).items()},
        levels={metric: level.describe() for metric, level in experiment.levels(cfg).items()},
        plateau=plateau_text(experiment, state),
        claims=tuple(claim_result(c, cfg, verdicts[c.id]) for c in experiment.claims),
        setting=scope.setting_record(options.setting, setting) if setting else None,
        reference=scope.reference_check(setting, trials),
    )


def plateau_text(experiment: Experiment, state: RunState) -> str | None:
    """summary.json's plateau test, and where the trials recorded no curve for it, that it was not applied."""
    if experiment.plateau is None:
        return None
    text = experiment.plateau.describe(state.run.cfg)
    if state.curve_missing:
        text += (f". NOT APPLIED to trials that record no {experiment.plateau.curve} curve: their arms "
                 "count as trained")
    return text


def claim_result(claim, cfg: dict, outcome: Outcome) -> ClaimResult:
    """summary.json's record of one claim: the claim as declared, its rule under this config, the verdict
    and the typed evidence; for an empirical claim left inconclusive, the seeds that would decide it."""
    result = ClaimResult(
        id=claim.id, kind=claim.kind, quote=claim.quote,
        source=SourceRef(claim.source.file, claim.source.lines, claim.source.title),
        hypothesis=claim.hypothesis, rule=claim.rule_text(cfg), verdict=outcome.verdict,
        qualifier=outcome.qualifier, reason=outcome.reason, measured=Measured.of(outcome))
    if claim.kind != "empirical":
        return result
    return replace(result, seeds_needed=scope.seeds_needed_for_claim(result))


def write_results_files(run: ExperimentRun, results: dict, trials, evidence: Evidence, summary: Summary) -> dict:
    """results/<name>/: trials.csv, the figures, summary.json and summary.md. Returns the figures (open
    matplotlib figures, for the parent run's artifacts)."""
    figures = _figures(run.experiment, results, trials, evidence) if results or not run.experiment.trains else {}
    if results:
        files.write_trials_csv(run.results_dir, trials)
    figure_files = files.write_figures(run.results_dir, figures)
    report.write_summary(run.results_dir, summary, figure_files, trials)
    return figures


def log_to_parent(run: ExperimentRun, parent_id: str, status: str, verdicts: dict[str, Outcome],
                  figures: dict, reproduction: Reproduction | None = None) -> None:
    """The parent run's description with the verdicts, its status, verdict and reproduction tags, the
    verdicts' numbers as metrics (for comparing runs), and the verdict table, figures and results files as
    artifacts."""

    claims = run.experiment.claims
    verdict_table = {
        "claim": [c.id for c in claims], "kind": [c.kind for c in claims],
        "verdict": [verdicts[c.id].verdict for c in claims], "evidence": [verdicts[c.id].reason for c in claims],
    }
    run.tracker.set_tags(parent_id, {"mlflow.note.content": report.note_markdown(run.experiment, run.cfg, verdicts),
                                     "claimlab.status": status,
                                     **{f"verdict.{cid}": o.verdict for cid, o in verdicts.items()},
                                     **reproduce.tags(reproduction)})
    run.tracker.log_metrics(parent_id, parent_metrics(verdicts))
    run.tracker.log_results(parent_id, run.results_dir, verdict_table, figures)


def _metrics_read_by_rules(experiment: Experiment, cfg: dict) -> dict[str, dict[str, list[str]]]:
    """arm -> metric -> the empirical claims whose rule reads that metric of that arm (Rule.reads)."""
    read: dict[str, dict[str, list[str]]] = {}
    for claim in experiment.claims:
        if claim.kind == "empirical":
            for metric, arm in claim.rule_for(cfg).reads():
                read.setdefault(arm, {}).setdefault(metric, []).append(claim.id)
    return read


def _headline_metric(experiment: Experiment, cfg: dict) -> str:
    for claim in experiment.claims:
        if claim.rule_for(cfg).metrics:
            return claim.rule_for(cfg).metrics[0]
    return "test/accuracy"


def _log_checks(tracker, parent_id: str, config_hash: str, cfg: dict, checks: dict) -> None:
    """The exact checks as one child run of the parent."""
    # tagged beside `--keras 2`'s run (claimlab.keras=2), so the two versions' values can be compared
    tracker.log_checks("exact-checks", {"mlflow.parentRunId": parent_id, "claimlab.config_hash": config_hash,
                                        "claimlab.keras": "3",
                                        "claimlab.keras_version": package_versions().get("keras", "?")}, checks, cfg)


def _figures(experiment: Experiment, results: dict, trials_df, evidence) -> dict:
    metrics = []
    for claim in experiment.claims:
        metrics += [m for m in claim.rule_for(evidence.cfg).metrics if m not in metrics and m in trials_df]
    arms = list(experiment.arms)
    figures = {}
    if metrics:
        figures["per_arm"] = plots.per_arm_figure(trials_df, metrics, arms)
    curves = plots.learning_curves_figure(results, arms)
    if curves is not None:
        figures["learning_curves"] = curves
    figures.update(experiment.figures(evidence))
    return figures


def _close_figures(figures: dict) -> None:
    import matplotlib.pyplot as plt

    for figure in figures.values():
        plt.close(figure)

