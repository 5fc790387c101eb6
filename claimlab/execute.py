"""Where trials run: in the runner's own process, or in a local pool of worker processes (--jobs N).

A trial is a pure function of (experiment, arm, seed, config): it returns a TrialResult and writes
nothing shared. Only the runner writes to MLflow and results/, so the tracking store never sees two
writers. Workers are spawned (not forked: TensorFlow does not survive a fork) and ignore Ctrl-C, so
the runner alone decides how to stop.

Every trial runs TensorFlow on TRIAL_THREADS threads, wherever it runs: a reduction split over a
different number of threads rounds differently, and the same seed must give the same numbers whether
the run used --jobs 1 or --jobs 8 (and whether a trial was resumed from an earlier run).

`--executor ray` runs the same trials as Ray tasks instead (claimlab/ray_executor.py), with the same
callbacks: the runner still writes MLflow and results/ alone.
"""

from __future__ import annotations

import concurrent.futures as futures
from concurrent.futures.process import BrokenProcessPool
import multiprocessing
import os
import signal
import time
import traceback
from dataclasses import dataclass
from typing import Callable

TRIAL_THREADS = 1


def default_jobs() -> int:
    """One single-threaded worker per core (at most 8: each holds its own TensorFlow, ~0.5 GB)."""
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class Trial:
    arm: str
    seed: int
    cfg: dict


@dataclass
class TrialError:
    """A trial that raised: the exception's one-line summary and its full traceback. `worker_died`: the
    trial's worker process died under it (twice), rather than the trial raising."""

    summary: str
    traceback: str
    worker_died: bool = False


WORKER_DEATHS_ALLOWED = 1  # a trial whose worker dies is retried once; a second death fails it


def run_one(experiment_name: str, trial: Trial):
    """Seed everything, run the experiment's trial, time it. Returns a TrialResult or a TrialError."""
    from claimlab import registry, train

    started = time.perf_counter()
    try:
        experiment = registry.load(experiment_name)
        train.seed_everything(trial.seed)
        result = experiment.run_trial(trial.arm, trial.seed, dict(trial.cfg))
    except Exception as error:  # reported back to the runner, which marks the run FAILED
        return TrialError(f"{type(error).__name__}: {error}", traceback.format_exc())
    result.seconds = time.perf_counter() - started
    return result


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from claimlab import train

    train.limit_threads(TRIAL_THREADS)


def run_trials(experiment_name: str, trials: list[Trial], jobs: int,
               on_start: Callable[[Trial], None], on_done: Callable[[Trial, object], bool],
               executor: str = "local", ray_address: str | None = None) -> None:
    """Run every trial; `on_start` before each begins, `on_done(trial, result)` as each ends.

    `on_done` returns False to stop scheduling new trials (a failure). At most `jobs` trials are in
    flight at once (on Ray: as many as the cluster has CPUs), so at most that many child runs are open.
    """
    if executor == "ray":
        from claimlab import ray_executor

        return ray_executor.run_trials(experiment_name, trials, on_start, on_done, ray_address)
    if jobs <= 1:
        from claimlab import train

        train.limit_threads(TRIAL_THREADS)
        for trial in trials:
            on_start(trial)
            if not on_done(trial, run_one(experiment_name, trial)):
                return
        return

    _run_in_pool(experiment_name, trials, jobs, on_start, on_done)


def _new_pool(jobs: int):
    context = multiprocessing.get_context("spawn")
    return futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker)


def _replace(pool, jobs: int):
    """A new pool for a broken one (whose surviving workers the executor has already terminated)."""
    pool.shutdown(wait=False, cancel_futures=True)
    return _new_pool(jobs)


def _run_in_pool(experiment_name: str, trials: list[Trial], jobs: int, on_start, on_done) -> None:
    """The pool version of run_trials. A worker that dies (the OOM killer, a segfault) breaks the whole
    pool: it is replaced, and the trials that were in flight are retried, one retried trial at a time so
    that a second death points at one trial. A trial in flight at two deaths fails (worker_died); the
    other trials go on."""
    pool = _new_pool(jobs)
    pending, retry, in_flight = list(trials), [], {}
    deaths: dict[tuple[str, int], int] = {}
    try:
        while pending or retry or in_flight:
            while len(in_flight) < jobs and (pending or retry):
                retrying = any((t.arm, t.seed) in deaths for t in in_flight.values())
                if retry and not retrying:
                    trial = retry.pop(0)  # its MLflow run is still open from its first start
                elif pending:
                    trial = pending.pop(0)
                    on_start(trial)
                else:
                    break
                try:
                    in_flight[pool.submit(run_one, experiment_name, trial)] = trial
                except BrokenProcessPool:  # a worker died since the last wait
                    retry.insert(0, trial)  # started, never ran: not counted as a death
                    if in_flight:
                        break  # the wait below collects the trials that went down with the pool
                    pool = _replace(pool, jobs)  # an idle worker died: nothing went down with it
            done, _ = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
            went_down = []  # trials whose worker died under them (a dead worker breaks the whole pool)
            for future in done:
                trial = in_flight.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    went_down.append(trial)
                    continue
                try:
                    result = future.result()
                except Exception as error:  # the result could not come back (e.g. not picklable)
                    result = TrialError(f"worker process failed: {type(error).__name__}: {error}",
                                        traceback.format_exc())
                if not on_done(trial, result):
                    pending.clear()
                    retry.clear()
            if went_down:
                went_down += in_flight.values()  # every trial in flight went down with the pool
                in_flight.clear()
                pool = _replace(pool, jobs)
                for trial in went_down:
                    key = (trial.arm, trial.seed)
                    deaths[key] = deaths.get(key, 0) + 1
                    if deaths[key] <= WORKER_DEATHS_ALLOWED:
                        retry.append(trial)
                    elif not on_done(trial, TrialError(f"its worker process died {deaths[key]} times running it "
                                                       "(killed by a signal, or out of memory)", "",
                                                       worker_died=True)):
                        pending.clear()
    finally:
        # On Ctrl-C or a failure: drop queued work and stop the workers now, not after their trials.
        for process in list(getattr(pool, "_processes", {}).values()):
            if in_flight and process.is_alive():
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
