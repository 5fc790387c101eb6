"""Which Keras backend a trial runs on: JAX where the experiment is backend-neutral, TensorFlow where a
claim needs TensorFlow itself (TF ops, TFLite, tf.GradientTape probes).

Keras fixes its backend when it is first imported (KERAS_BACKEND), so a process has one backend for
life. The runner's own process is TensorFlow: the exact checks measure TensorFlow and Keras as the
sources used them, and stay there. Trials on JAX run in worker processes that choose their backend before
they import Keras (claimlab.execute; the Ray executor likewise, through the task's environment).

Why JAX: for the small models this lab trains, Keras on JAX compiles the whole train step with XLA, and
measured on the 2-core machine a deep MLP trains 7.7x, an LSTM 4.7x faster than on TensorFlow (README,
Performance). The backend is part of a trial's config (`backend`, in the config hash and the MLflow
params), so a run on each backend is its own run, and every JAX experiment declares a `tensorflow`
setting: the scope report shows whether a verdict depends on the backend.

Cheap to import: no Keras, TensorFlow or JAX here.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

JAX, TENSORFLOW = "jax", "tensorflow"
BACKENDS = (JAX, TENSORFLOW)
NAMES = {JAX: "JAX", TENSORFLOW: "TensorFlow"}
RUNNER_BACKEND = TENSORFLOW  # the runner's own process: exact checks, and trials on TensorFlow with --jobs 1

# One XLA thread per trial, as TensorFlow gets one (claimlab.execute.TRIAL_THREADS): the same seed gives
# the same numbers whatever --jobs is, and two workers share two cores without oversubscribing them.
_ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
COMPILE_CACHE_VARIABLE = "CLAIMLAB_XLA_CACHE"  # where JAX keeps compiled train steps between processes


def compile_cache_dir() -> Path:
    """JAX's persistent compilation cache: every trial of an arm compiles the same program (the weights
    are arguments, not constants), so workers and later runs load it instead of compiling it again."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "claimlab" / "xla"
    return Path(os.environ.get(COMPILE_CACHE_VARIABLE) or default)


def keras_backend_of_process() -> str:
    """The backend this process's Keras uses, or will use when it is imported."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "config"):
        return keras.config.backend()
    return os.environ.get("KERAS_BACKEND", TENSORFLOW)


def use(backend: str) -> None:
    """Make this process's Keras run on `backend`: before Keras is imported (a worker's first act)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if "keras" in sys.modules and keras_backend_of_process() != backend:
        raise RuntimeError(f"Keras is already imported on {keras_backend_of_process()} in this process; a trial on "
                           f"{backend} must run in a process of its own")
    os.environ["KERAS_BACKEND"] = backend
    if backend == JAX and _ONE_THREAD_XLA not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = " ".join(filter(None, [os.environ.get("XLA_FLAGS", ""), _ONE_THREAD_XLA]))
    if backend == JAX:
        os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # on a GPU, share it like TF's growth


def configure_jax() -> None:
    """The persistent compilation cache, on for every program however short its compile (after `use`, once
    JAX is importable)."""
    import jax

    cache = compile_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def version(backend: str) -> str:
    """The installed version of the backend's package, without importing it."""
    for name in {JAX: ("jax",), TENSORFLOW: ("tensorflow", "tensorflow-cpu")}[backend]:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "not installed"


def label(backend: str) -> str:
    """'JAX 0.10.2' / 'TensorFlow 2.21.0': how a verdict sentence names the backend it was measured on."""
    return f"{NAMES[backend]} {version(backend)}"
