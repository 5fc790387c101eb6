"""Helpers for exact checks: functions that build real Keras/TF objects and return measured values.

Claims about errors are measured like any other value: which exception was raised, with which message.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping

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


def fresh_keras(seed: int = 0):
    """keras, with its global state reset: layer names (which appear in error messages) and seeds start
    afresh in every check (from `seed`), so a check measures the same thing whatever ran before it."""
    import keras

    if keras_major() == 2:  # Keras 2 branch: tf-keras' clear_session takes no arguments
        keras.backend.clear_session()
    else:
        # No explicit gc.collect: a full collection of this process's heap (TensorFlow, Keras, every built
        # model) costs 0.1-0.25 s, and E3a alone builds 160 nets. Python's own collector still frees them;
        # neither the weights nor the names depend on when.
        keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(seed)
    return keras


# How each judged quantity's worst draw is found: the largest error, the smallest count, a fact that must
# hold in every draw ("all") or that shows in some draw ("any").
WORST = {"max": max, "min": min, "all": all, "any": any}


def over_weight_draws(measure: Callable[[int], dict], draws: int, worst: Mapping[str, str]) -> dict:
    """An exact check on freshly initialised weights, measured on `draws` draws of them, so that no verdict
    hinges on one draw (issue 26): `measure(seed)` runs in a fresh Keras session seeded with each of
    0..draws-1. Each quantity named in `worst` is its worst value over the draws (see WORST), under its own
    name, so the rule's claimed values read it as before; every quantity of every draw is kept under
    `by_draw`, and anything else measured is draw 0's, for context."""
    per_draw = []
    for seed in range(draws):
        fresh_keras(seed)
        per_draw.append(measure(seed))
    measured = dict(per_draw[0])
    measured.update({key: WORST[how](draw[key] for draw in per_draw) for key, how in worst.items()})
    measured["by_draw"] = {"seeds": list(range(draws)),
                           "worst_of": {key: how for key, how in worst.items()},
                           **{key: [draw.get(key) for draw in per_draw] for key in per_draw[0]}}
    return measured


def weight_draws_text(cfg: dict) -> str:
    """How many draws of the weights a rule's check measured, for its note: results from before issue 26 ran
    the check on one draw and record no `check_seeds`."""
    draws = cfg.get("check_seeds")
    if draws is None:
        return "one draw of the weights (seed 0; a run from before the checks measured several)"
    return f"each of {draws} draws of the weights (seeds 0-{draws - 1}), the worst draw judged"


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

