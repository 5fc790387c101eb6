"""One trial's training: seed everything, fit with Keras, evaluate. No claim-specific code.

Speed on a laptop CPU: no per-batch Python callbacks (Keras' History already records per-epoch
metrics), verbose=0, and data held in memory as NumPy arrays.
"""

from __future__ import annotations

import importlib
import math
import os
import sys

import numpy as np

# Quiet TensorFlow's C++ banner before it is imported anywhere in this process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Keras History names -> the metric names we log ("val_loss" -> "val/loss").
def history_name(keras_name: str) -> str:
    if keras_name.startswith("val_"):
        return "val/" + keras_name[4:]
    return "train/" + keras_name


def import_tensorflow():
    """Import TensorFlow with its C++ start-up notices (absl, oneDNN) kept off the terminal: they are
    written to file descriptor 2 before any log level applies. Python errors still raise as usual."""
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            importlib.import_module("tensorflow")
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    return sys.modules["tensorflow"]


def seed_everything(seed: int) -> None:
    """Same seed, same machine -> same numbers: Python, NumPy and TF seeds, and deterministic TF ops."""
    tf = import_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def limit_threads(threads: int) -> None:
    """Run this process's TensorFlow ops on `threads` threads. Must come before TF starts its runtime;
    afterwards TF refuses, and the process keeps what it has."""
    tf = import_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass


def fit(model, data, epochs: int, batch_size: int, validation: bool = True) -> dict[str, list[float]]:
    """model.fit on the dataset's training split; returns per-epoch curves under our metric names."""
    history = model.fit(
        data.x_train, data.y_train,
        validation_data=(data.x_val, data.y_val) if validation else None,
        epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
    )
    return {history_name(k): [float(v) for v in values] for k, values in history.history.items()}


def evaluate(model, x, y, prefix: str, batch_size: int = 512) -> dict[str, float]:
    """Loss and compiled metrics on (x, y), named prefix/loss, prefix/accuracy, ..."""
    results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {f"{prefix}/{name}": float(value) for name, value in results.items()}


def diverged(history: dict[str, list[float]]) -> bool:
    """A NaN or infinite training loss: recorded as a result, not raised as a crash."""
    return any(not math.isfinite(v) for v in history.get("train/loss", []))


def count_params(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))
