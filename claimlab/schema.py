"""What a run leaves on disk, as types: summary.json (`Summary`, one `ClaimResult` per claim) and
keras2.json (`Keras2Record`).

Every reader (summary.md, the ledger, the scope report, citations, the reproduction check, the Keras 2
column) takes these types, never a dict, so a misspelt field is an AttributeError at the first test
instead of a silent `.get()` default in a published report. The types round-trip through JSON:
`Summary.from_json(summary.to_json()) == summary`, NaN written as null and read back as NaN.

summary.json carries `schema_version`. Files without it are version 1 (everything committed before this
module): the same fields, so `upgrade` only stamps them; a later version adds its step there, and the
committed files keep loading without being edited by hand.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claimlab.backend import TENSORFLOW
from claimlab.errors import UsageError
from claimlab.verdict import INCONCLUSIVE, ArmSummary, CheckedValue, Comparison

SCHEMA_VERSION = 2


@dataclass(frozen=True)
class SourceRef:
    """Where a claim's quote is: a file under sources/, its lines ("12-18") and the thread's title."""

    file: str
    lines: str
    title: str


@dataclass(frozen=True)
class SeedsNeeded:
    """For an undecided comparison: the seeds that would decide it if effect and spread stayed as observed
    (None: no number would), and why (claimlab.scope.seeds_needed)."""

    comparison: str
    seeds: int | None
    why: str


@dataclass(frozen=True)
class Measured:
    """A rule's typed evidence (claimlab.verdict.Outcome without its verdict): per-arm summaries, paired
    comparisons, an exact check's values, and whatever else the rule measured (`details`)."""

    arms: tuple[ArmSummary, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    checked: tuple[CheckedValue, ...] = ()
    details: dict = field(default_factory=dict)

    @classmethod
    def of(cls, outcome) -> Measured:
        return cls(tuple(outcome.arms), tuple(outcome.comparisons), tuple(outcome.checked), dict(outcome.details))

    def judged(self) -> list[Comparison]:
        """The comparisons that decide the verdict (the others are reported only)."""
        return [c for c in self.comparisons if c.judged]


@dataclass(frozen=True)
class ClaimResult:
    """One claim of one run: what it says and where, the rule, the verdict and the numbers behind it."""

    id: str
    kind: str  # "empirical" or "exact"
    quote: str
    source: SourceRef
    hypothesis: str
    rule: str
    verdict: str
    qualifier: str
    reason: str
    measured: Measured
    seeds_needed: tuple[SeedsNeeded, ...] | None = None  # empirical claims only

    def label(self) -> str:
        """The verdict as a reader sees it: 'supported (negligible: within +-0.01)'."""
        return self.verdict + (f" ({self.qualifier})" if self.qualifier else "")

    def undecided(self) -> list[Comparison]:
        """The judged comparisons an inconclusive verdict leaves open."""
        if self.verdict != INCONCLUSIVE:
            return []
        return [c for c in self.measured.judged() if c.verdict == INCONCLUSIVE]


@dataclass(frozen=True)
class TrialCount:
    finished: int
    planned: int


@dataclass(frozen=True)
class MlflowRef:
    """Where the run is in MLflow."""

    tracking_uri: str
    experiment_id: str
    parent_run_id: str | None


@dataclass(frozen=True)
class SettingRecord:
    """The declared setting a run belongs to (claimlab.spec.Setting as recorded)."""

    name: str
    label: str
    reason: str
    overrides: dict


@dataclass(frozen=True)
class ReferenceCheck:
    """The setting's baseline arm against its published reference accuracy."""

    arm: str
    metric: str
    reference: float
    measured: float | None
    shortfall: float | None
    under_trained: bool
    source: str
    differs: tuple[str, ...] | None = None  # what keeps it from comparing like with like (None: not recorded)


@dataclass(frozen=True)
class ReproducedClaim:
    """One claim of a reader's run beside the published one, and the one word."""

    id: str
    verdict: str
    effect: str
    published_verdict: str
    published_effect: str
    word: str  # reproduced, differs, not comparable


@dataclass(frozen=True)
class Reproduction:
    """What a run was set against (claimlab.reproduce), whether the configs compare, and each claim."""

    against: str
    commit: str
    profile: str
    seeds: int
    run_seeds: int
    differing_keys: tuple[str, ...]
    comparable: bool
    note: str
    claims: tuple[ReproducedClaim, ...]


@dataclass(frozen=True)
class Summary:
    """summary.json: what was run, on what, where it is in MLflow, and each claim with its verdict."""

    experiment: str
    title: str
    status: str  # complete, interrupted, failed
    profile: str
    seeds: tuple[int, ...]
    variant: dict
    arms: dict
    trials: TrialCount
    command: str
    commit: str
    dirty: bool
    versions: dict
    machine: str
    config: dict
    config_hash: str
    wall_seconds: float
    trial_seconds: float
    generated_at: str
    mlflow: MlflowRef
    checks: dict
    if_diverged: dict
    claims: tuple[ClaimResult, ...]
    levels: dict | None = None  # each judged metric's chance and ceiling (LEVELS), described; None before them
    plateau: str | None = None  # when an arm counts as under-trained (PLATEAU), described; None before it
    setting: SettingRecord | None = None
    reference: ReferenceCheck | None = None
    reproduction: Reproduction | None = None
    schema_version: int = SCHEMA_VERSION

    def claim(self, claim_id: str) -> ClaimResult | None:
        return next((c for c in self.claims if c.id == claim_id), None)

    @property
    def backend(self) -> str:
        """The backend the trials ran on; results written before it was recorded ran on TensorFlow."""
        return self.config.get("backend", TENSORFLOW)

    def to_json(self) -> dict:
        return json_safe(self)

    @classmethod
    def from_json(cls, data: dict) -> Summary:
        return _build(cls, upgrade(data), "summary")


@dataclass(frozen=True)
class Change:
    """A judged quantity an exact check measured differently on Keras 2 and on Keras 3."""

    quantity: str
    keras3: Any
    keras2: Any


@dataclass(frozen=True)
class Keras2Claim:
    """An exact claim's verdict on Keras 2 beside its Keras 3 one, and the judged values that changed."""

    id: str
    verdict: str
    qualifier: str
    reason: str
    measured: Measured
    keras3_verdict: str | None
    same_verdict: bool
    changed: tuple[Change, ...]

    def label(self) -> str:
        return self.verdict + (f" ({self.qualifier})" if self.qualifier else "")


@dataclass(frozen=True)
class Keras2Record:
    """keras2.json: the exact checks of one experiment run on Keras 2 (`--keras 2`)."""

    experiment: str
    keras: int
    versions: dict
    keras3_versions: dict | None
    command: str
    commit: str
    dirty: bool
    wall_seconds: float
    mlflow_run_id: str
    generated_at: str
    claims: tuple[Keras2Claim, ...]
    checks: dict

    def claim(self, claim_id: str) -> Keras2Claim | None:
        return next((c for c in self.claims if c.id == claim_id), None)

    def to_json(self) -> dict:
        return json_safe(self)

    @classmethod
    def from_json(cls, data: dict) -> Keras2Record:
        return _build(cls, data, "keras2")


# ---- versions -------------------------------------------------------------------------------------
def upgrade(data: dict) -> dict:
    """summary.json of any version as the current one. Version 1 (no `schema_version`: every summary
    written before this module) has the current fields; its exact claims carry no seeds_needed."""
    version = data.get("schema_version", 1)
    if version > SCHEMA_VERSION:
        raise UsageError(f"summary.json of experiment {data.get('experiment')!r} has schema version {version}; "
                         f"this claimlab reads up to {SCHEMA_VERSION}: update claimlab (git pull)")
    return {**data, "schema_version": SCHEMA_VERSION}


def read_summary(folder: Path) -> Summary | None:
    """folder/summary.json, or None where no run has written one."""
    path = folder / "summary.json"
    if not path.exists():
        return None
    try:
        return Summary.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError) as error:
        raise UsageError(f"{path} is not a summary.json this claimlab can read ({error}); "
                         "rerun the experiment to write it again") from None


# ---- JSON -----------------------------------------------------------------------------------------
def json_safe(value) -> Any:
    """Any value as JSON values, for every file the lab writes: dataclasses as objects, tuples as lists,
    NaN and infinity as null (JSON has neither), NumPy scalars as numbers; an optional field that is None
    and newer than version 1 (_OMITTED_WHEN_NONE) left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (getattr(value, f.name) is None and f.name in _OMITTED_WHEN_NONE)}
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # NumPy scalars
        return json_safe(value.item())
    return value


# Fields added after version 1 files were written, left out when unset so that those files write back as
# they are: an exact claim's seeds_needed, a run's reproduction, LEVELS, PLATEAU and an arm's level.
_OMITTED_WHEN_NONE = {"seeds_needed", "reproduction", "levels", "level", "plateau", "under_trained", "differs",
                      "claimed_side", "stages", "tost_confidence", "pending_seeds", "pending_arms"}


def _build(cls, data, where: str):
    """An instance of dataclass `cls` from its JSON form, nested types from the annotations. An unknown or
    missing field is a TypeError that names where it is."""
    if not isinstance(data, dict):
        raise TypeError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise TypeError(f"{where}: unknown fields {sorted(unknown)}")
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in data
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise TypeError(f"{where}: missing fields {missing}")
    return cls(**{key: _value(hints[key], value, f"{where}.{key}") for key, value in data.items()})


def _value(hint, value, where: str):
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):  # X | None
        if value is None and type(None) in args:
            return None
        return _value(next(a for a in args if a is not type(None)), value, where)
    if value is None and hint is float:  # NaN was written as null
        return math.nan
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is tuple:
        return tuple(_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
    return value
