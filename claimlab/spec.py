"""The vocabulary an experiment module uses to declare itself.

Everything here is plain data, cheap to import: `runner.py --list` imports every experiment module,
and must not pay for TensorFlow, MLflow or pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from claimlab.paths import SOURCES_DIR
from claimlab.verdict import resolve_rule, rule_text



@dataclass(frozen=True)
class Source:
    """Where a quoted claim comes from: a file in sources/, its line range, the question's title."""

    file: str
    lines: str  # "35-70": 1-based, inclusive, as a text editor shows them
    title: str

    @property
    def path(self) -> Path:
        return SOURCES_DIR / self.file

    def line_range(self) -> tuple[int, int]:
        first, _, last = self.lines.partition("-")
        return int(first), int(last or first)

    def text(self) -> str:
        """The cited lines themselves, so tests can check that every quote is really there."""
        first, last = self.line_range()
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return "\n".join(lines[first - 1 : last])

    def where(self) -> str:
        """"sources/FILE, line 13" or "sources/FILE, lines 3-12"."""
        first, last = self.line_range()
        return f"sources/{self.file}, " + (f"lines {self.lines}" if last > first else f"line {self.lines}")

    def cite(self) -> str:
        return f"{self.where()} (\"{self.title}\")"


@dataclass(frozen=True)
class Claim:
    """One claim from the catalogue, quoted verbatim, with the rule that will judge it.

    kind: "exact" (a deterministic fact checked on real Keras/TF objects) or "empirical" (training
    behaviour, judged over seeds). `rule` is a claimlab.verdict rule object, a function of the resolved
    config that returns one, or the name of such a function in the experiment's module (so that CLAIMS can
    come first in the module, before the code it names; the registry binds the name as the module loads).
    Its description is written into every result, so the rule is on record before any number is seen.
    """

    id: str
    kind: str
    quote: str
    source: Source
    hypothesis: str
    rule: Any

    def rule_for(self, cfg: dict):
        """The rule as this run applies it: a `cfg -> rule` factory is built from the resolved config, so
        every threshold its text names is the one applied."""
        if isinstance(self.rule, str):
            raise TypeError(f"claim {self.id}: its rule {self.rule!r} is a name; load the experiment through "
                            "claimlab.registry, which binds it")
        return resolve_rule(self.rule, cfg)

    def rule_text(self, cfg: dict) -> str:
        """The rule's text as this run applies it, with the two-stage design when the run has one."""
        return rule_text(self.rule_for(cfg), cfg)

    def __post_init__(self):
        if self.kind not in ("exact", "empirical"):
            raise ValueError(f"claim {self.id}: kind must be 'exact' or 'empirical', not {self.kind!r}")


@dataclass(frozen=True)
class Advice:
    """A line of a source that asserts nothing a measurement could settle (a rule of thumb, a recommendation,
    an opinion, a counterfactual). An experiment lists such lines in NOT_JUDGED, next to its claims from the same
    thread, so that a reader who finds the line in the source also finds why the lab has no verdict on it:
    the ledger's "Not judged" section is written from these declarations."""

    quote: str
    source: Source
    why: str


@dataclass
class DatasetInfo:
    """What MLflow records as a run's input: enough to tell two datasets apart, not the arrays."""

    name: str
    digest: str
    source: str
    context: str = "training"
    profile: dict = field(default_factory=dict)


@dataclass
class TrialResult:
    """What one (arm, seed) trial returns: final metrics, per-epoch curves and the data it used."""

    metrics: dict[str, float]
    history: dict[str, list[float]] = field(default_factory=dict)
    datasets: list[DatasetInfo] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Reference:
    """A published accuracy for a setting's baseline arm, so a reader can tell a setting that trains
    its nets properly from an under-trained toy: `metric` of arm `arm`, against `value` from `source`.

    A reference judges training only when it compares like with like (issue 26): the same dataset, the same
    model family and a training split of about the same size (within SPLIT_RATIO). Each side is declared:
    `dataset`, `family` and `train_examples` of the published number (claimlab.data's *_PUBLISHED), and the
    same three of the lab's arm. A reference that differs is still reported, with what differs; whether the
    arm trained is then the plateau test's to say (claimlab.verdict.Plateau)."""

    arm: str
    metric: str
    value: float
    source: str  # where the number is published, as a reader would look it up
    dataset: str = ""  # what the published number was measured on
    family: str = ""  # the published model's family: "SVC (RBF kernel)", "CNN", "MLP", "logistic regression"
    train_examples: int = 0  # its training split
    arm_dataset: str = ""  # the same three for the lab's arm
    arm_family: str = ""
    arm_train_examples: int = 0

    SPLIT_RATIO = 1.25  # training splits within 25% of each other count as the same size

    def differences(self) -> tuple[str, ...]:
        """What keeps the reference from comparing like with like; empty when it does."""
        differs = []
        if self.dataset != self.arm_dataset:
            differs.append(f"the reference's dataset is {self.dataset}, the arm's {self.arm_dataset}")
        if self.family != self.arm_family:
            differs.append(f"the reference is {self.family}, the arm {self.arm_family}")
        low, high = sorted((self.train_examples, self.arm_train_examples))
        if not low or high / low > self.SPLIT_RATIO:
            differs.append(f"the reference trained on {self.train_examples:,} examples, the arm on "
                           f"{self.arm_train_examples:,}")
        return tuple(differs)


@dataclass(frozen=True)
class Times:
    """A setting's override relative to the profile: `{"epochs": Times(5)}` trains 5x the profile's epochs
    (150 at the full profile's 30, 10 at smoke's 2), so a smoke test of a budget setting stays a smoke test."""

    factor: int

    def of(self, value):
        return value * self.factor

    def __repr__(self) -> str:
        return f"{self.factor}x the profile's"


@dataclass(frozen=True)
class Setting:
    """One named setting of an empirical experiment: config overrides, chosen before any run from what
    the claim's wording generalises over (another dataset, a longer budget, a bigger model).

    `label` names the setting in every verdict sentence ("MNIST-1D, 600 Adam steps"), `reason` says in
    one line why it is in the scope; `reference` is the published accuracy of its baseline, if one exists.
    """

    label: str
    reason: str
    overrides: dict = field(default_factory=dict)
    reference: Reference | None = None


def on_tensorflow(default: Setting) -> Setting:
    """The `tensorflow` setting every experiment whose trials run on JAX declares: its default setting with
    the trials on TensorFlow, the backend the sources ran (claimlab.backend)."""
    return Setting(f"{default.label}; on TensorFlow",
                   "the sources ran TensorFlow: the default config on TensorFlow shows whether training on JAX "
                   "changes a conclusion", {"backend": "tensorflow"}, default.reference)
