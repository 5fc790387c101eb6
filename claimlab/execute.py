"""Where trials run: in the runner's own process, or in a local pool of worker processes (--jobs N).

A trial is a pure function of (experiment, arm, seed, config): it returns a TrialResult and writes
nothing shared. Only the runner writes to MLflow and results/, so the tracking store never sees two
writers. Workers are spawned (not forked: TensorFlow does not survive a fork) and ignore Ctrl-C, so
the runner alone decides how to stop.

Every trial runs TensorFlow on TRIAL_THREADS threads, wherever it runs: a reduction split over a
different number of threads rounds differently, and the same seed must give the same numbers whether
the run used --jobs 1 or --jobs 8 (and whether a trial was resumed from an earlier run).

An experiment that defines `run_trials(arm, seeds, cfg)` trains several seeds of one arm at once (fused
seeds, bit-identical to each seed alone: claimlab/train.py). Its trials then travel as batches, the
seeds of one arm (`batches`); every other experiment's trials travel one by one. Either way each trial
starts and ends on its own in MLflow.

`--executor ray` runs the same batches as Ray tasks instead (claimlab/ray_executor.py), with the same
callbacks: the runner still writes MLflow and results/ alone.

Workers start once per command, not once per run: `start_workers` spawns the pool as a run begins, so the
workers import TensorFlow while the runner opens MLflow and runs the exact checks, and inside
`keep_workers()` (the CLI's whole command: `all`, `--settings all`) one pool serves every run. A worker
keeps nothing from one trial to the next that the next trial's seeding does not reset, so a trial's numbers
do not depend on which worker, or which earlier run's worker, runs it (tests/test_workers.py).
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
from concurrent.futures.process import BrokenProcessPool
import multiprocessing
import os
import signal
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from claimlab import backend as backend_module
from claimlab import registry, train

TRIAL_THREADS = 1


def default_jobs() -> int:
    """One worker per GPU when TensorFlow sees GPUs; else one single-threaded worker per core (at most 8:
    each holds its own TensorFlow, ~0.5 GB)."""
    return visible_gpus() or cpu_jobs()


def cpu_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def visible_gpus() -> int:
    """How many GPUs TensorFlow sees. Where no NVIDIA device file exists the answer is 0 without
    importing TensorFlow, so CPU machines pay nothing for asking."""
    if not any(Path("/dev").glob("nvidia[0-9]*")):
        return 0

    return len(train.use_gpu_memory_growth())


def gpu_for_each_worker(jobs: int, gpus: int) -> list[int]:
    """Which GPU each of `jobs` workers runs on: one each, round-robin when there are more workers."""
    return [worker % gpus for worker in range(jobs)] if gpus else []


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


def check_backend(cfg: dict) -> None:
    """A trial runs on the backend its config names, or not at all: a number labelled JAX that TensorFlow
    computed would be a wrong record."""
    wanted, here = cfg.get("backend", backend_module.TENSORFLOW), backend_module.keras_backend_of_process()
    if wanted != here:
        raise RuntimeError(f"this trial's config says backend {wanted!r}, but this process's Keras runs on {here!r}")


def run_one(experiment_name: str, trial: Trial):
    """Seed everything, run the experiment's trial, time it. Returns a TrialResult or a TrialError."""

    started = time.perf_counter()
    try:
        check_backend(trial.cfg)
        experiment = registry.load(experiment_name)
        train.seed_everything(trial.seed)
        result = experiment.run_trial(trial.arm, trial.seed, dict(trial.cfg))
    except Exception as error:  # reported back to the runner, which marks the run FAILED
        return TrialError(f"{type(error).__name__}: {error}", traceback.format_exc())
    result.seconds = time.perf_counter() - started
    return result


Batch = tuple  # of Trials of one arm, run as one work item


# A batch's trials reach MLflow together when the batch ends, so a run interrupted (a laptop's lid, a
# session's end) loses every batch in flight. Five seeds at most: five MLP seeds side by side take 0.57x
# the time of five fits (claimlab.jax_seeds), and the seeds that train one after the other anyway
# (convolutions on JAX, every plateau-stopped model on TensorFlow) lose at most five seeds' work.
MOST_SEEDS_PER_BATCH = 5


def batches(trials: list[Trial], jobs: int, fuses_seeds: bool) -> list[Batch]:
    """The work items: each trial alone, or, when the experiment fuses seeds, the trials of each arm in
    as few batches as keep every worker busy (at least two items per worker) and hold at most
    MOST_SEEDS_PER_BATCH seeds each, in the trials' order."""
    if not fuses_seeds or not trials:  # nothing to do is what a resume of a finished run has
        return [(trial,) for trial in trials]
    by_arm: dict[str, list[Trial]] = {}
    for trial in trials:
        by_arm.setdefault(trial.arm, []).append(trial)
    busy = max(1, -(-2 * jobs // len(by_arm))) if jobs > 1 else 1  # pieces per arm
    items = []
    for arm_trials in by_arm.values():
        pieces = max(busy, -(-len(arm_trials) // MOST_SEEDS_PER_BATCH))
        size = -(-len(arm_trials) // min(pieces, len(arm_trials)))
        items += [tuple(arm_trials[i : i + size]) for i in range(0, len(arm_trials), size)]
    return items


def run_batch(experiment_name: str, batch: Batch) -> list:
    """A batch's results in its order: one trial by run_one, several seeds of one arm by the experiment's
    run_trials. A batch that raises fails each of its trials with the error; each trial's `seconds` is
    its share of the batch's time."""
    if len(batch) == 1:
        return [run_one(experiment_name, batch[0])]

    started = time.perf_counter()
    try:
        check_backend(batch[0].cfg)
        experiment = registry.load(experiment_name)
        results = experiment.run_trials(batch[0].arm, [trial.seed for trial in batch], dict(batch[0].cfg))
    except Exception as error:
        return [TrialError(f"{type(error).__name__}: {error}", traceback.format_exc())] * len(batch)
    for result in results:
        result.seconds = (time.perf_counter() - started) / len(batch)
    return results


def _init_worker(backend: str, gpu_queue=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if gpu_queue is not None:  # this worker's GPU, before TensorFlow or JAX is imported
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu_queue.get())
    backend_module.use(backend)  # before Keras is imported: a process keeps its first backend

    train.prepare_process(TRIAL_THREADS)


def in_process(backend: str, jobs: int) -> bool:
    """Whether trials run in the runner's own process: with --jobs 1, when they run on the backend this
    process's Keras has (the runner's is TensorFlow: claimlab.backend); else in worker processes."""
    return jobs <= 1 and backend == backend_module.keras_backend_of_process()


def run_trials(experiment_name: str, trials: list[Trial], jobs: int,
               on_start: Callable[[Trial], None], on_done: Callable[[Trial, object], bool],
               fuses_seeds: bool = False) -> None:
    """Run every trial; `on_start` before each begins, `on_done(trial, result)` as each ends.

    `on_done` returns False to stop scheduling new trials (a failure). At most `jobs` batches are in
    flight at once, so at most that many batches of child runs are open (claimlab.ray_executor does the
    same on a Ray cluster). The trials of one call share a config, and so a backend (`cfg["backend"]`).
    """
    backend = trials[0].cfg.get("backend", backend_module.TENSORFLOW) if trials else backend_module.TENSORFLOW
    work = batches(trials, jobs, fuses_seeds)
    if in_process(backend, jobs):
        train.prepare_process(TRIAL_THREADS)
        for batch in work:
            for trial in batch:
                on_start(trial)
            if not all([on_done(trial, result) for trial, result in zip(batch, run_batch(experiment_name, batch))]):
                return
        return

    _run_in_pool(experiment_name, work, max(1, jobs), backend, on_start, on_done)


def _new_pool(jobs: int, backend: str):
    context = multiprocessing.get_context("spawn")
    gpus, gpu_queue = visible_gpus(), None
    if gpus:  # each worker takes one GPU index as it starts (replaced workers too: a new pool, a new queue)
        gpu_queue = context.Queue()
        for gpu in gpu_for_each_worker(jobs, gpus):
            gpu_queue.put(gpu)
    return futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_worker,
                                       initargs=(backend, gpu_queue))


# The command's worker pools, one per backend (a worker's Keras has one backend for life): made by
# start_workers or the first pool run, kept between runs while a keep_workers() block is open, else shut
# down when their run ends.
_workers = {"pools": {}, "kept": 0}  # backend -> (pool, jobs)


def _pool_of(jobs: int, backend: str):
    """The backend's pool if it has `jobs` workers, else a new one (the old one shut down)."""
    pool, size = _workers["pools"].get(backend, (None, 0))
    if pool is not None and size != jobs:
        _stop(backend)
        pool = None
    if pool is None:
        pool = _new_pool(jobs, backend)
        _workers["pools"][backend] = (pool, jobs)
    return pool


def _warm_up(experiment_name: str) -> None:
    registry.load(experiment_name)  # imports Keras and the experiment's module


def start_workers(experiment_name: str, jobs: int, backend: str) -> None:
    """Spawn the backend's pool of `jobs` workers now and have each import Keras and the experiment, while
    the runner gets on with MLflow and the exact checks (a pool spawns one worker per submission)."""
    if not in_process(backend, jobs):
        jobs = max(1, jobs)
        pool = _pool_of(jobs, backend)
        for _ in range(jobs):
            pool.submit(_warm_up, experiment_name)


def _stop(backend: str, kill: bool = False) -> None:
    pool, _ = _workers["pools"].pop(backend, (None, 0))
    if pool is None:
        return
    if kill:
        for process in list(getattr(pool, "_processes", {}).values()):
            if process.is_alive():
                process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def stop_workers(kill: bool = False) -> None:
    """Shut every pool down (now, killing its workers' trials, with `kill`)."""
    for backend in list(_workers["pools"]):
        _stop(backend, kill)


# A worker's memory grows with the graphs of every model it has traced (measured: 4.6 GB after all 19
# experiments at quick, against 1.9 GB for the largest process with a pool per run). A kept pool whose
# workers have grown past this is replaced before the next run; a fresh worker holds about 0.5 GB.
WORKER_MEMORY_LIMIT = 1.5 * 2**30


def _worker_memory(pool) -> list[int]:
    """Resident bytes of each of the pool's worker processes, from /proc (Linux; elsewhere none)."""
    sizes = []
    for pid in list(getattr(pool, "_processes", {})):
        try:
            sizes.append(int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, IndexError):
            continue
    return sizes


def release_workers() -> None:
    """A run is over: shut its pools down, unless a keep_workers() block keeps them for the next run and
    their workers are still under WORKER_MEMORY_LIMIT."""
    for backend, (pool, _) in list(_workers["pools"].items()):
        if not _workers["kept"] or max(_worker_memory(pool), default=0) > WORKER_MEMORY_LIMIT:
            _stop(backend)


@contextlib.contextmanager
def keep_workers():
    """One pool for every run inside the block (each run's trials still start and end in MLflow on their
    own); shut down when the block ends, however it ends."""
    _workers["kept"] += 1
    try:
        yield
    finally:
        _workers["kept"] -= 1
        if not _workers["kept"]:
            stop_workers(kill=True)


def _replace(pool, jobs: int, backend: str):
    """A new pool for a broken one (whose surviving workers the executor has already terminated)."""
    pool.shutdown(wait=False, cancel_futures=True)
    _workers["pools"].pop(backend, None)
    return _pool_of(jobs, backend)


def _key(batch: Batch) -> tuple:
    return tuple((trial.arm, trial.seed) for trial in batch)


def _hand_over(done, in_flight: dict, on_done) -> tuple[list[Batch], bool]:
    """Each finished batch's results to `on_done`, its future out of `in_flight`. Returns the batches whose
    worker died under them (a dead worker breaks the whole pool), and False once `on_done` says stop."""
    went_down, go_on = [], True
    for future in done:
        batch = in_flight.pop(future)
        if isinstance(future.exception(), BrokenProcessPool):
            went_down.append(batch)
            continue
        try:
            results = future.result()
        except Exception as error:  # the results could not come back (e.g. not picklable)
            results = [TrialError(f"worker process failed: {type(error).__name__}: {error}",
                                  traceback.format_exc())] * len(batch)
        if not all([on_done(trial, result) for trial, result in zip(batch, results)]):
            go_on = False
    return went_down, go_on


def _run_in_pool(experiment_name: str, work: list[Batch], jobs: int, backend: str, on_start, on_done) -> None:
    """The pool version of run_trials. A worker that dies (the OOM killer, a segfault) breaks the whole
    pool: it is replaced, and the batches that were in flight are retried, one retried batch at a time so
    that a second death points at one batch. A batch in flight at two deaths fails (worker_died); the
    other batches go on."""
    pool = _pool_of(jobs, backend)
    pending, retry, in_flight = list(work), [], {}
    deaths: dict[tuple, int] = {}  # by the (arm, seed)s of a batch
    try:
        while pending or retry or in_flight:
            while len(in_flight) < jobs and (pending or retry):
                retrying = any(_key(batch) in deaths for batch in in_flight.values())
                if retry and not retrying:
                    batch = retry.pop(0)  # its MLflow runs are still open from its first start
                elif pending:
                    batch = pending.pop(0)
                    for trial in batch:
                        on_start(trial)
                else:
                    break
                try:
                    in_flight[pool.submit(run_batch, experiment_name, batch)] = batch
                except BrokenProcessPool:  # a worker died since the last wait
                    retry.insert(0, batch)  # started, never ran: not counted as a death
                    if in_flight:
                        break  # the wait below collects the batches that went down with the pool
                    pool = _replace(pool, jobs, backend)  # an idle worker died: nothing went down with it
            done, _ = futures.wait(in_flight, return_when=futures.FIRST_COMPLETED)
            went_down, go_on = _hand_over(done, in_flight, on_done)
            if not go_on:
                pending.clear()
                retry.clear()
            if went_down:
                went_down += in_flight.values()  # every batch in flight went down with the pool
                in_flight.clear()
                pool = _replace(pool, jobs, backend)
                for batch in went_down:
                    key = _key(batch)
                    deaths[key] = deaths.get(key, 0) + 1
                    if deaths[key] <= WORKER_DEATHS_ALLOWED:
                        retry.append(batch)
                        continue
                    error = TrialError(f"its worker process died {deaths[key]} times running it "
                                       "(killed by a signal, or out of memory)", "", worker_died=True)
                    if not all([on_done(trial, error) for trial in batch]):
                        pending.clear()
    finally:
        # On Ctrl-C or a failure: drop queued work and stop the workers now, not after their trials.
        if in_flight:
            stop_workers(kill=True)
        else:
            release_workers()
