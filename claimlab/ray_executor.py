"""`--executor ray`: the trials as Ray tasks on a Ray cluster, for when one machine is not enough.

The same contract as the local pool (claimlab.execute): a trial is a pure function of (experiment, arm,
seed, config) and returns its TrialResult; the driver (this runner process) alone writes MLflow and
results/, through the same on_start / on_done callbacks. Each task runs Keras on the trials' backend
(chosen by the task's environment, before its worker imports Keras) on TRIAL_THREADS threads, so the
numbers are the local pool's. A task whose worker dies is retried once by Ray
(max_retries=1), as the local pool retries a trial whose worker dies; Ctrl-C cancels what is in flight.

Every node must be able to import claimlab and the experiments: on a cluster of machines, install this
project on each node (the README says how); on one machine the driver's checkout is put on the tasks'
PYTHONPATH.
"""

from __future__ import annotations

import os
from typing import Callable

from claimlab import backend as backend_module
from claimlab import train
from claimlab.errors import UsageError
from claimlab.execute import TRIAL_THREADS, Trial, TrialError, batches, run_batch
from claimlab.paths import PROJECT_ROOT
from claimlab.registry import EXTRA_PATH_VARIABLE

INSTALL_LINE = 'pip install -e ".[ray]"'


def require_ray():
    """The ray module, or a UsageError with the install line (Ray is an optional extra)."""
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray, which is not installed: {INSTALL_LINE}") from None
    return ray


def _batch_task(experiment_name: str, batch: tuple, backend: str):
    backend_module.use(backend)  # the task's environment chose it before this worker imported Keras
    train.prepare_process(TRIAL_THREADS)  # a no-op once this worker is set up
    return run_batch(experiment_name, batch)


def _task_environment(backend: str | None = None) -> dict:
    """The tasks' environment variables: the checkout on PYTHONPATH, and the Keras backend, so that Ray
    starts each task's worker on it (Ray keeps a pool of workers per environment)."""

    paths = [str(PROJECT_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {"PYTHONPATH": os.pathsep.join(paths), "TF_CPP_MIN_LOG_LEVEL": "3"}
    if os.environ.get(EXTRA_PATH_VARIABLE):
        env[EXTRA_PATH_VARIABLE] = os.environ[EXTRA_PATH_VARIABLE]
    if backend:
        env["KERAS_BACKEND"] = backend
    return env


def connect(address: str | None):
    """Join the Ray cluster at `address` (e.g. 127.0.0.1:6379, or ray://HOST:10001), or start a local
    Ray instance when there is none. Returns the ray module and whether this call started Ray."""
    ray = require_ray()
    if ray.is_initialized():
        return ray, False
    try:
        ray.init(address=address, runtime_env={"env_vars": _task_environment()}, log_to_driver=False,
                 include_dashboard=False, configure_logging=False)
    except ConnectionError as error:
        raise UsageError(f"--ray-address {address}: cannot join a Ray cluster there ({error})") from None
    return ray, True


def run_trials(experiment_name: str, trials: list[Trial], on_start: Callable, on_done: Callable,
               address: str | None, fuses_seeds: bool = False, backend: str = backend_module.TENSORFLOW) -> None:
    ray, started_here = connect(address)
    task = ray.remote(num_cpus=1, max_retries=1)(_batch_task).options(
        runtime_env={"env_vars": _task_environment(backend)})
    capacity = max(1, int(ray.cluster_resources().get("CPU", 1)))
    pending, in_flight = batches(trials, capacity, fuses_seeds), {}
    try:
        while pending or in_flight:
            while pending and len(in_flight) < capacity:
                batch = pending.pop(0)
                for trial in batch:
                    on_start(trial)
                in_flight[task.remote(experiment_name, batch, backend)] = batch
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for reference in ready:
                batch = in_flight.pop(reference)
                try:
                    results = ray.get(reference)
                except ray.exceptions.RayError as error:  # the task's worker died twice, or its node went away
                    results = [TrialError(f"Ray task failed: {type(error).__name__}: {str(error).splitlines()[0]}",
                                          str(error), worker_died=True)] * len(batch)
                if not all([on_done(trial, result) for trial, result in zip(batch, results)]):
                    pending.clear()
    finally:
        for reference in in_flight:  # Ctrl-C or a failure: stop what is still running
            ray.cancel(reference, force=True)
        if started_here:
            ray.shutdown()
