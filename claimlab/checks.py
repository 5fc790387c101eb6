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
