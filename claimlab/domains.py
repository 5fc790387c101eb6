"""Each config key, declared once: its default and the values it may take together, in an experiment's
CONFIG, e.g. `"epochs": Integer(30, min=1)`, `"dataset": OneOf("digits", choices=("digits", "mnist1d"))`.
A decision threshold is marked as one: `"smallest_effect": Real(0.01, min=0, threshold=True)`.

The runner checks every key of the resolved config against its domain before any MLflow run, data
load or training, so `--set batch_size=0` exits 2 with the valid range instead of training with
something else. A domain is a small object: `check(value)` returns None when the value is valid, else
what is wrong; `describe()` says what is valid, for error messages and `runner.py --list NAME`. The
element of a TupleOf, and the machinery's own keys (claimlab.config.BASE_DOMAINS), are domains without
a default.

Rules that tie keys together (a chunk that divides a sequence length) go in the module's optional
`check_config(cfg) -> list[str]`, which the runner calls after the per-key checks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

UNSET = None  # a domain with no default: an element of a TupleOf, or a key whose default comes from elsewhere


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _bounds_text(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return "(any finite value)"


def _outside(value, low, high, low_open: bool, high_open: bool) -> bool:
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    return below or above


@dataclass(frozen=True)
class Integer:
    """An integer, optionally bounded: Integer(32, min=1) for a size, Integer(4, min=0) for a shift."""

    default: int | None = UNSET
    min: int | None = None
    max: int | None = None
    threshold: bool = False

    def describe(self) -> str:
        return "an integer " + _bounds_text(self.min, self.max, False, False)

    def check(self, value) -> str | None:
        if not _is_int(value) or _outside(value, self.min, self.max, False, False):
            return f"must be {self.describe()}"
        return None


@dataclass(frozen=True)
class Real:
    """A finite number, optionally bounded; `min_open` / `max_open` exclude the bound itself:
    Real(0.5, min=0, max=1, min_open=True, max_open=True) for a rate in (0, 1)."""

    default: float | None = UNSET
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    threshold: bool = False

    def describe(self) -> str:
        return "a number " + _bounds_text(self.min, self.max, self.min_open, self.max_open)

    def check(self, value) -> str | None:
        if not _is_number(value) or _outside(value, self.min, self.max, self.min_open, self.max_open):
            return f"must be {self.describe()}"
        return None


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of values (a dataset name, a method)."""

    default: Any = UNSET
    choices: tuple = ()
    threshold: bool = False

    def describe(self) -> str:
        return "one of " + ", ".join(map(str, self.choices))

    def check(self, value) -> str | None:
        return None if value in self.choices else f"must be {self.describe()}"


@dataclass(frozen=True)
class Flag:
    default: bool | None = UNSET
    threshold: bool = False

    def describe(self) -> str:
        return "true or false"

    def check(self, value) -> str | None:
        return None if isinstance(value, bool) else "must be true or false"


def Sizes(default: tuple | None = UNSET, min: int = 1, length: int | None = None,  # noqa: N802 (a domain)
          threshold: bool = False) -> "TupleOf":
    """A non-empty tuple of integers, each >= min (layer widths, training-set sizes, lengths); `length`:
    exactly this many, when the model needs it."""
    return TupleOf(default, Integer(min=min), length, threshold)


def check_value(key: str, value: Any, domain) -> str | None:
    """The one-line complaint about `key=value`, or None if it is valid."""
    problem = domain.check(value)
    return None if problem is None else f"{key}={value!r} {problem}"


@dataclass(frozen=True)
class Text:
    """Any string (a folder, a free-form label): for keys with no finite set of values."""

    default: str | None = UNSET
    threshold: bool = False

    def describe(self) -> str:
        return "any text"

    def check(self, value) -> str | None:
        return None if isinstance(value, str) else "must be text"


@dataclass(frozen=True)
class TupleOf:
    """A non-empty tuple whose every element is in `element` (another domain), optionally of a fixed
    length: TupleOf((1.0, 0.5, 0.1), Real(), length=3) for three coefficients, TupleOf(((2, 1),),
    Sizes(length=2)) for pairs."""

    default: tuple | None = UNSET
    element: Any = None
    length: int | None = None
    threshold: bool = False

    def describe(self) -> str:
        count = f"{self.length} " if self.length else ""
        return f"a tuple of {count}values, each {self.element.describe()}"

    def check(self, value) -> str | None:
        if not isinstance(value, (tuple, list)) or not value or (self.length and len(value) != self.length):
            return f"must be {self.describe()}"
        return None if all(self.element.check(v) is None for v in value) else f"must be {self.describe()}"
