"""Helpers for exact checks: functions that build real Keras/TF objects and return measured values.

Claims about errors are measured like any other value: which exception was raised, with which message.
"""

from __future__ import annotations

import re

_COLOUR_CODES = re.compile(r"\x1b\[[0-9;]*m")


def raised(action, limit: int = 400) -> dict:
    """Call `action()`; the exception it raised as {"raises": type name, "message": its text}, or
    {"raises": None, "message": None} when it raised nothing. Keras and TF wrap messages over several
    lines and colour them for terminals: the text is folded to one plain line of at most `limit` chars."""
    try:
        action()
    except Exception as error:  # which error is the measurement, so every error is caught
        text = " ".join(_COLOUR_CODES.sub("", str(error)).split())
        return {"raises": type(error).__name__, "message": text[:limit]}
    return {"raises": None, "message": None}


def fresh_keras():
    """keras, with its global state reset: layer names (which appear in error messages) and seeds start
    afresh in every check, so a check measures the same thing whatever ran before it."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    return keras


def keras_major() -> int:
    """3 normally; 2 when the checks run on tf-keras (`python runner.py NAME --keras 2`, claimlab.keras2).
    Checks branch on it only where the two APIs differ, and each branch says so."""
    import keras

    return int(keras.__version__.split(".", 1)[0])


def locally_connected(rank: int):
    """The LocallyConnected1D/2D class: Keras 2's own layer on Keras 2; on Keras 3, which dropped it, the
    lab's twin in claimlab.layers (X9 compares the two on identical weights)."""
    if keras_major() == 2:  # Keras 2 branch: the real layer
        import keras

        return getattr(keras.layers, f"LocallyConnected{rank}D")
    from claimlab import layers

    return getattr(layers, f"LocallyConnected{rank}D")


def shape_of(tensor_or_shape) -> list:
    """A tensor's (or a shape tuple's) sizes as a JSON-friendly list: ints, None for an unknown size."""
    return [None if size is None else int(size) for size in getattr(tensor_or_shape, "shape", tensor_or_shape)]


def max_abs_difference(a, b) -> float:
    """max |a - b| over all elements, computed in float64 (arrays or tensors)."""
    import numpy as np

    return float(np.abs(np.asarray(a, dtype="float64") - np.asarray(b, dtype="float64")).max())

