"""Decision rules: each turns the evidence of a run into supported / refuted / inconclusive.

A rule is declared next to its claim, in the experiment module, before any trial runs. Its
`describe()` text is written into MLflow and summary.json with the result, so a reader can check that
the verdict follows from the rule and the numbers. The rules know nothing about any one claim.

A claim's rule is either a rule object or a function `cfg -> rule`: the second form is for rules whose
thresholds or metric names come from the run's config (a margin that `--set` can change, the sizes a
profile trains), so the printed text always names the numbers that were applied.

The vocabulary:
- comparisons, paired by seed: Better (one arm beats another; optionally "refuted if equivalent
  within a margin"), Equivalent (TOST within a margin), Contrast (any signed combination of arms and
  metrics, e.g. a difference of differences), SeedStatistic (any statistic of several arms' per-seed
  values, with a jackknife t interval over seeds);
- Ranking: a claimed order, judged pair by adjacent pair;
- AllOf: supported if every part is, refuted if any part is, inconclusive otherwise; `also_report`
  adds comparisons that are shown but do not decide;

The statistics every comparison shares (issue 8): a 95% paired t interval (claimlab.stats says why);
a floor (fewer than 3 finite paired seeds decides nothing); one decision with the smallest effect of
interest m (issue 27, `decide`: a 90% CI inside +-m is negligible, checked first, then the 95% CI's side
of 0; a d identical in every seed is a measured constant, decided by its value); and, where any one
of k comparisons can refute (Ranking, AllOf), Holm's correction over the k refute p-values. Diverged
trials count as the experiment's IF_DIVERGED declares.
- Summarize: per-arm summaries of a metric, for `also_report`;
- Exact: a deterministic check against claimed values (equalities, or AtMost / Raised matchers);
- Custom: logic that none of the above expresses (it still returns the typed Outcome).

Every rule returns an `Outcome`: the verdict, a one-line reason, and typed evidence (ArmSummary,
Comparison, CheckedValue rows) that claimlab.report renders as tables and the runner logs as metrics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Sequence
from claimlab import stats
from claimlab.stats import shown

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
# The fourth label: a quote that asks rather than asserts has nothing to support or refute; what the lab
# measured about it is kept and shown, and no verdict is given (NotJudged).
MEASURED = "measured"
VERDICTS = (SUPPORTED, REFUTED, INCONCLUSIVE, MEASURED)
VERDICT_CODE = {SUPPORTED: 1, INCONCLUSIVE: 0, REFUTED: -1, MEASURED: 0}  # numeric, for MLflow's compare view
NUMERICALLY_ZERO = 1e-12  # a spread of per-seed values below this is float round-off, not variation


# ---- evidence in, outcome out ---------------------------------------------------------------------
@dataclass(frozen=True)
class IfDiverged:
    """What a diverged trial (a non-finite training loss: its `diverged` metric is 1) counts as on one
    judged metric, declared by the experiment in IF_DIVERGED before any run. Leaving diverged seeds out
    silently would make an arm that diverges look better than it is, so each metric says:
    - `IfDiverged.scores(value, why)`: the trial counts as `value` (chance accuracy, the worst value);
    - `IfDiverged.excluded(why)`: the trial is left out of comparisons, and the verdict says so;
    - `IfDiverged.kept(why)`: the trial's own value stands (measured before training, or a timing).
    `flag` is the 0/1 trial metric that says the training behind this metric diverged."""

    mode: str  # "score", "exclude" or "keep"
    why: str
    value: float | None = None
    flag: str = "diverged"

    @classmethod
    def scores(cls, value: float, why: str, flag: str = "diverged") -> "IfDiverged":
        return cls("score", why, float(value), flag)

    @classmethod
    def excluded(cls, why: str, flag: str = "diverged") -> "IfDiverged":
        return cls("exclude", why, flag=flag)

    @classmethod
    def kept(cls, why: str, flag: str = "diverged") -> "IfDiverged":
        return cls("keep", why, flag=flag)

    def describe(self) -> str:
        what = {"exclude": "is left out (flagged)", "keep": "keeps its value"}.get(self.mode)
        return f"{what or f'scores {self.value:g}'} ({self.why})"


def declared_for(declarations: dict, metric: str):
    """A metric's declaration (IF_DIVERGED, LEVELS): its own key, else the first matching glob pattern
    (`*test/accuracy`), else None."""
    import fnmatch

    if metric in declarations:
        return declarations[metric]
    return next((rule for pattern, rule in declarations.items() if fnmatch.fnmatchcase(metric, pattern)), None)


CHANCE, CEILING, BUDGET = "chance", "ceiling", "budget"  # what a rule may declare its claim `about`


@dataclass(frozen=True)
class Level:
    """Where a judged metric stops telling arms apart, declared by the experiment in LEVELS before any run:
    `chance`, what a net that learned nothing scores, and `ceiling`, the best score there is. An arm whose
    mean over seeds lies within `chance_margin` of chance, or `ceiling_margin` of the ceiling, is there.

    A comparison with any arm at chance, or with every arm at the ceiling, cannot discriminate: it is
    inconclusive (chance / ceiling), whatever its interval says, unless its rule declares that the claim is
    about reaching that level (`about=("chance",)`: "a deep sigmoid net does not train"). `Level.unbounded`
    is for a metric with neither (a time, a gap between two accuracies, a count)."""

    chance: float | None
    ceiling: float | None
    why: str
    chance_margin: float = 0.02  # within 2 points of chance: the arm learned next to nothing
    ceiling_margin: float = 0.005  # >= 0.995 of a perfect 1: no room left to differ

    @classmethod
    def unbounded(cls, why: str) -> "Level":
        return cls(None, None, why)

    def at(self, mean: float) -> str:
        """'chance', 'ceiling' or '' for an arm's mean."""
        if not math.isfinite(mean):
            return ""
        if self.chance is not None and mean <= self.chance + self.chance_margin:
            return CHANCE
        if self.ceiling is not None and mean >= self.ceiling - self.ceiling_margin:
            return CEILING
        return ""

    def describe(self) -> str:
        if self.chance is None and self.ceiling is None:
            return f"has no chance level or ceiling ({self.why})"
        parts = ([f"chance is {self.chance:g} (an arm within {self.chance_margin:g} of it is at chance)"]
                 if self.chance is not None else [])
        parts += ([f"the ceiling is {self.ceiling:g} (within {self.ceiling_margin:g})"] if self.ceiling is not None else [])
        return f"{' and '.join(parts)} ({self.why})"


# The per-trial numbers the runner derives from a trial's training curve (claimlab.verdict.fit_metrics).
FIT_FINAL, FIT_GAIN = "fit/final", "fit/last_fifth_gain"
FIT_EPOCHS, FIT_STOPPED = "fit/epochs", "fit/stopped"  # trained to a plateau: epochs run, and 1 if it stopped


@dataclass(frozen=True)
class EarlyStop:
    """Stop training once `monitor` has not improved by more than `min_delta` for `patience` epochs in a
    row, and keep the weights of its best epoch: Keras' EarlyStopping with restore_best_weights, written
    once here so that every training loop (model.fit in claimlab.train, the seeds side by side in
    claimlab.jax_seeds) applies the same rule. A loss improves downward, anything else upward; a
    non-finite value never improves. `min_epochs`: never stop before that many epochs (an experiment that
    also measures the first epochs of every curve)."""

    monitor: str
    patience: int
    min_delta: float = 0.0
    min_epochs: int = 0

    def improves(self, value: float, best: float | None) -> bool:
        if not math.isfinite(value):
            return False
        if best is None:
            return True
        return value < best - self.min_delta if self.monitor.endswith("loss") else value > best + self.min_delta

    def replay(self, curve: Sequence[float]) -> tuple[int, int | None]:
        """(the best epoch, the epoch at which training stopped or None) of a monitored curve; epochs from 0."""
        watch, best_epoch = StopWatch(self), 0
        for epoch, value in enumerate(curve):
            if watch.update(float(value)):
                best_epoch = epoch
            if watch.done:
                return best_epoch, epoch
        return best_epoch, None


class StopWatch:
    """An EarlyStop rule applied epoch by epoch, as a training loop calls it after each epoch: `update`
    says whether this epoch is the best so far (keep its weights), `done` whether to stop now."""

    def __init__(self, stop: EarlyStop):
        self.stop, self.best, self.wait, self.epochs, self.done = stop, None, 0, 0, False

    def update(self, value: float) -> bool:
        self.epochs += 1
        if self.stop.improves(value, self.best):
            self.best, self.wait = value, 0
            return True
        self.wait += 1
        self.done = self.wait >= self.stop.patience and self.epochs >= self.stop.min_epochs
        return False


# What counts as an improvement of the validation loss when an arm trains to its plateau. The first runs
# with any decrease counting (quick profile, 2026-12-05, dense_width) showed why a floor is needed: with the
# training accuracy at 1.0, the validation loss kept finding new minima 1e-4 nats apart for 300 epochs, and
# arms whose test accuracy had not moved in 100 epochs never stopped. A thousandth of a nat is below what
# 200-1,000 validation examples can resolve (the standard error of a mean loss over them is 0.01 or more).
VALIDATION_LOSS_MIN_DELTA = 1e-3
VALIDATION_LOSS_WHY = ("the validation split's loss, the quantity training minimises, measured on data the weights never "
                       "saw; a change under 0.001 nats is below what the split can resolve")


@dataclass(frozen=True)
class Plateau:
    """Whether an arm trained to the end of what training can give it, declared before any run (an
    experiment's PLATEAU). Two designs, each experiment choosing one and saying why:

    - a fixed budget (the default): from each trial's training curve `curve` the runner records FIT_FINAL,
      its mean over the last fifth of the epochs, and FIT_GAIN, that mean minus the mean over the fifth
      before. An arm whose mean FIT_GAIN over seeds exceeds `tolerance` was still improving when its budget
      ran out: under-trained;
    - until a plateau (`until`, a monitored curve such as "val/loss"): each trial trains until `until`
      has not improved for the config's `patience` epochs (EarlyStop), at most the config's `epochs`, and
      keeps its best epoch's weights. The runner records FIT_EPOCHS, FIT_STOPPED (1 when patience ran out
      before the cap) and FIT_FINAL (`curve` at the best epoch). An arm with any seed that reached the cap
      still improving is under-trained.

    A comparison with an under-trained arm does not say what the claim is about but where the budget
    stopped: it is inconclusive (under-trained: arm), unless its rule says the claim is about the budget
    (`about=["budget"]`)."""

    curve: str = "train/accuracy"
    tolerance: float = 0.005
    why: str = "half an accuracy point over the last fifth of the epochs: still rising beyond noise"
    until: str | None = None
    min_delta: float = 0.0

    @classmethod
    def validation_loss(cls) -> "Plateau":
        """The lab's plateau for an arm judged on held-out data: the validation loss, improved by more than
        VALIDATION_LOSS_MIN_DELTA."""
        return cls(until="val/loss", min_delta=VALIDATION_LOSS_MIN_DELTA, why=VALIDATION_LOSS_WHY)

    def stop(self, cfg: dict) -> EarlyStop | None:
        """The early-stopping rule a trial trains under (None for a fixed budget)."""
        return EarlyStop(self.until, int(cfg["patience"]), self.min_delta) if self.until else None

    def gain(self, curve: Sequence[float]) -> tuple[float, float]:
        """(mean over the last fifth of the epochs, that minus the mean over the fifth before); NaN for a
        curve of fewer than 2 epochs, whose last fifth has nothing before it."""
        values = [float(v) for v in curve]
        window = max(1, round(len(values) / 5))
        if len(values) < 2 * window:
            return math.nan, math.nan
        last = sum(values[-window:]) / window
        return last, last - sum(values[-2 * window:-window]) / window

    def describe(self, cfg: dict) -> str:
        if self.until:
            delta = f" by more than {self.min_delta:g}" if self.min_delta else ""
            return (f"every arm trains until its {self.until} has not improved{delta} for {cfg['patience']} epochs "
                    f"(at most {cfg['epochs']} epochs) and keeps the weights of its best epoch; an arm with a seed "
                    f"that reached {cfg['epochs']} epochs still improving is under-trained ({self.why})")
        return (f"an arm is under-trained when its {self.curve}, averaged over the last fifth of the epochs, is "
                f"still more than {self.tolerance:g} above the fifth before (mean over seeds; {self.why})")


def fit_metrics(history: dict, plateau: Plateau | None, cfg: dict) -> dict[str, float]:
    """What the plateau test reads of one trial, from its curves; {} where the trial recorded none.

    A trial that trains several models records each one's curves under its own prefix ("n400/val/loss",
    "position/train/accuracy"); the trial then counts as its least trained model: the largest gain, the
    most epochs, stopped only if every model stopped, the lowest final value."""
    if plateau is None:
        return {}
    trainings = [name[:-len(plateau.curve)] for name in history
                 if name.endswith(plateau.curve) and (name == plateau.curve or name[-len(plateau.curve) - 1] == "/")]
    trainings = [prefix for prefix in trainings if history[prefix + plateau.curve]]
    if not trainings:
        return {}
    if plateau.until:
        fits = []
        for prefix in trainings:
            monitored, curve = history.get(prefix + plateau.until, []), history[prefix + plateau.curve]
            best_epoch, _ = plateau.stop(cfg).replay(monitored)
            fits.append((len(monitored), len(monitored) < int(cfg["epochs"]), curve[min(best_epoch, len(curve) - 1)]))
        return {FIT_EPOCHS: float(max(f[0] for f in fits)), FIT_STOPPED: float(all(f[1] for f in fits)),
                FIT_FINAL: float(min(f[2] for f in fits))}
    gains = [plateau.gain(history[prefix + plateau.curve]) for prefix in trainings]
    measured = [(final, gain) for final, gain in gains if not math.isnan(gain)] or [(math.nan, math.nan)]
    return {FIT_FINAL: min(final for final, _ in measured), FIT_GAIN: max(gain for _, gain in measured)}


@dataclass
class Evidence:
    """What a rule may look at: the finished trials (a pandas DataFrame with one row per (arm, seed)
    and a column per final metric), the exact checks' measured values, the resolved config, what a
    diverged trial counts as on each metric (the experiment's IF_DIVERGED) and where each metric stops
    discriminating (its LEVELS)."""

    trials: Any
    checks: dict[str, dict] = field(default_factory=dict)
    cfg: dict = field(default_factory=dict)
    if_diverged: dict[str, IfDiverged] = field(default_factory=dict)
    levels: dict[str, Level] = field(default_factory=dict)
    plateau: Plateau | None = None

    def under_trained(self, arm: str) -> bool:
        """Was the arm still improving when its budget ran out (Plateau)? False where the trials recorded no
        curve to tell (results written before the plateau test, an arm that trains nothing)."""
        if self.plateau is None or arm not in self.arms_present():
            return False
        if self.plateau.until and FIT_STOPPED in self.trials:
            stopped = self.trials.loc[self.trials["arm"] == arm, FIT_STOPPED].astype(float)
            return bool((stopped[stopped.notna()] == 0).any())
        if FIT_GAIN not in self.trials:
            return False
        gains = self.trials.loc[self.trials["arm"] == arm, FIT_GAIN].astype(float)
        gains = gains[gains.notna()]
        return bool(len(gains) and gains.mean() > self.plateau.tolerance)

    def level_of(self, metric: str, arm: str) -> str:
        """'chance', 'ceiling' or '' for one arm's mean on one metric, as LEVELS declares the metric."""
        level = declared_for(self.levels, metric)
        if level is None or arm not in self.arms_present():
            return ""
        values = self.values(metric, arm)
        finite = values[values.notna()]
        return level.at(float(finite.mean())) if len(finite) else ""

    def diverged(self, arm: str, metric: str | None = None):
        """Per seed: did the training behind `metric` (by default, the trial) diverge? Trials that record no
        flag did not."""
        declared = declared_for(self.if_diverged, metric) if metric else None
        flag = declared.flag if declared else "diverged"
        rows = self.trials[self.trials["arm"] == arm].set_index("seed").sort_index()
        if flag not in rows:
            return rows["arm"].map(lambda _: False)
        return rows[flag].fillna(0).astype(float) > 0

    def values(self, metric: str, arm: str):
        """Per-seed values of a metric for one arm, indexed by seed, diverged trials counted as declared."""
        rows = self.trials[self.trials["arm"] == arm]
        if metric not in rows:
            raise KeyError(f"no trial reported the metric {metric!r}; reported: {sorted(self.trials.columns)}")
        values = rows.set_index("seed")[metric].astype(float).sort_index()
        diverged = self.diverged(arm, metric)
        if not diverged.any():
            return values
        rule = declared_for(self.if_diverged, metric)
        if rule is None:
            raise KeyError(f"{arm} diverged on seeds {list(diverged[diverged].index)}, and IF_DIVERGED declares "
                           f"nothing for {metric!r}: declare what a diverged trial scores on it")
        if rule.mode == "score":
            values[diverged] = rule.value
        elif rule.mode == "exclude":
            values[diverged] = math.nan
        return values

    def paired(self, metric: str, arm: str, other: str):
        """Two aligned arrays over the seeds both arms finished."""
        matrix = self.seed_matrix([(metric, arm), (metric, other)])
        return matrix[0], matrix[1]

    def seed_matrix(self, terms: Sequence[tuple[str, str]]):
        """(terms x seeds) values of each (metric, arm) over the seeds every term finished (`seeds_of`)."""
        import numpy as np

        series = [self.values(metric, arm) for metric, arm in terms]
        seeds = self.seeds_of(terms)
        return np.array([[float(s.loc[seed]) for seed in seeds] for s in series]).reshape(len(terms), len(seeds))

    def seeds_of(self, terms: Sequence[tuple[str, str]]) -> list[int]:
        """The seeds every (metric, arm) of `terms` finished, in order: the columns of `seed_matrix`."""
        arms = {arm for _, arm in terms}
        finished = [set(self.trials.loc[self.trials["arm"] == arm, "seed"]) for arm in arms]
        return sorted(int(seed) for seed in set.intersection(*finished)) if finished else []

    def arms_present(self) -> set:
        return set(self.trials["arm"]) if len(self.trials) else set()


@dataclass
class ArmSummary:
    """One arm's per-seed values of one metric: n, mean, std and the t interval of the mean."""

    metric: str
    arm: str
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float
    not_finite: int = 0
    diverged: int = 0  # seeds whose training loss went non-finite (scored as IF_DIVERGED declares)
    level: str | None = None  # "chance" or "ceiling" where the mean is there (LEVELS)
    under_trained: bool | None = None  # still improving when its budget ran out (Plateau); None: not measured


@dataclass(frozen=True)
class Comparison:
    """A paired comparison: the mean of per-seed values d and its 95% paired t interval; for an equivalence
    test also the margin and the 90% (TOST) interval. `state` says what the numbers show in words;
    `verdict` what the comparison concludes (after the family-wise correction, when it is one of
    several); `judged` is False for comparisons that are reported only.

    `p_support` / `p_refute` are the p-values of the tests whose rejection supports / refutes the claim
    (nan below the evidence floor); `p_refute` is the one (a significant reversal, or
    equivalence / difference from a margin); in a family of k comparisons where any one refutes, Holm
    adjusts it (`p_refute_adjusted`) and the Bonferroni interval at 1 - 0.05/k is shown beside the
    unadjusted one. `qualifier` says why a verdict is weaker than it looks: negligible (the whole CI
    inside the smallest effect of interest), too few seeds, a measured constant (identical in every seed).

    Immutable: a family correction or an equivalence step returns a new Comparison (dataclasses.replace)."""

    name: str
    metric: str
    mean: float
    ci_low: float
    ci_high: float
    n: int
    verdict: str
    state: str
    confidence: float = 0.95
    margin: float | None = None
    tost_ci_low: float | None = None
    tost_ci_high: float | None = None
    judged: bool = True
    differences: list = field(default_factory=list)
    se: float = math.nan
    df: int = 0
    p_value: float = math.nan
    p_support: float = math.nan
    p_refute: float = math.nan
    unadjusted_verdict: str = ""
    family: int = 1
    p_refute_adjusted: float | None = None
    adjusted_ci_low: float | None = None
    adjusted_ci_high: float | None = None
    smallest_effect: float | None = None
    qualifier: str = ""
    test: str = "difference"  # "difference" (a sign test against 0) or "equivalence" (TOST within the margin)
    claimed_side: str | None = None  # a difference's claimed side of 0, "above" or "below" (None: equivalence)
    # Two-stage seeds (`staged_test`): the finite seeds of each stage that decided (None: one stage), the
    # level of the TOST interval (None: 0.90), and, for a comparison the first stage left undecided, the seeds
    # in all its second stage needs, and of which arms, while they are not yet run.
    stages: tuple[int, ...] | None = None
    tost_confidence: float | None = None
    pending_seeds: int | None = None
    pending_arms: tuple[str, ...] | None = None


@dataclass
class CheckedValue:
    """One quantity of an exact check: what the claim says, what was measured, whether they match."""

    quantity: str
    claimed: Any
    measured: Any
    match: bool


@dataclass(frozen=True)
class Outcome:
    """A claim's verdict, its one-line reason and the typed evidence behind it. Immutable: a note added
    after the rule (diverged seeds, the versions an exact check ran on) makes a new Outcome."""

    verdict: str
    reason: str  # one line, with the numbers that decided it
    arms: list[ArmSummary] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    checked: list[CheckedValue] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # anything else measured: summary.json only
    qualifier: str = ""  # "negligible: within +-0.01", "too few seeds: 2 < 3", ...: shown with the verdict

    def label(self) -> str:
        """The verdict as a reader sees it: 'supported (negligible: within +-0.01)'."""
        return f"{self.verdict} ({self.qualifier})" if self.qualifier else self.verdict

    def headline(self) -> Comparison | None:
        """The comparison that decided the claim, when exactly one did."""
        judged = [c for c in self.comparisons if c.judged]
        return judged[0] if len(judged) == 1 else None


def verdict_of_all(verdicts: Sequence[str]) -> str:
    """Supported if every part is supported; refuted if any part is refuted; else inconclusive."""
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    if REFUTED in verdicts:
        return REFUTED
    return INCONCLUSIVE


def arm_summaries(evidence: Evidence, metric: str, arms: Sequence[str]) -> list[ArmSummary]:
    present = evidence.arms_present()
    return [ArmSummary(metric, arm, **stats.describe(evidence.values(metric, arm).to_numpy()),
                       diverged=int(evidence.diverged(arm, metric).sum()), level=evidence.level_of(metric, arm) or None,
                       under_trained=evidence.under_trained(arm) or None)
            for arm in arms if arm in present]


def discriminating(comparison: Comparison, evidence: Evidence, terms: Sequence[tuple[str, str]],
                   about: Sequence[str] = ()) -> Comparison:
    """The comparison, or the same numbers judged inconclusive where it cannot discriminate: an arm of
    `terms` ((metric, arm) pairs) at chance, or every arm at the ceiling (Level), unless the claim is
    `about` that level. Its p-values are then not a test of anything, so it refutes nothing in a family.
    A comparison the evidence floor already left inconclusive (too few seeds) keeps that first reason. So
    does one with an under-trained arm (Plateau), unless the claim is `about` the budget."""
    if comparison.verdict == INCONCLUSIVE and comparison.qualifier.startswith(TOO_FEW_SEEDS):
        return comparison
    at = {(metric, arm): evidence.level_of(metric, arm) for metric, arm in terms}
    at_chance = [arm for (_, arm), level in at.items() if level == CHANCE]
    under_trained = [arm for arm in dict.fromkeys(arm for _, arm in terms) if evidence.under_trained(arm)]
    if at_chance and CHANCE not in about:
        why = f"chance: {', '.join(dict.fromkeys(at_chance))} at chance"
    elif at and all(level == CEILING for level in at.values()) and CEILING not in about:
        why = "ceiling: every arm at the ceiling"
    elif under_trained and BUDGET not in about:
        why = f"under-trained: {', '.join(under_trained)}"
    else:
        return comparison
    # a comparison that cannot discriminate gains nothing from a second stage of seeds: none is run for it
    return replace(comparison, verdict=INCONCLUSIVE, unadjusted_verdict=INCONCLUSIVE, state=f"at {why.split(':')[0]}",
                   qualifier=why, p_support=math.nan, p_refute=math.nan, pending_seeds=None, pending_arms=None)


def about_text(about: Sequence[str]) -> str:
    """What a rule's text says about chance and ceiling: the claim is about reaching one, or nothing."""
    if not about:
        return ""
    levels = [level for level in about if level != BUDGET]
    text = (f" The claim is about reaching {' and '.join(levels)}: an arm there is judged like any other, not "
            "set aside as unable to discriminate.") if levels else ""
    if BUDGET in about:
        text += (" The claim is about what a fixed budget gives: an arm still improving when it ends is judged "
                 "like any other, not set aside as under-trained.")
    return text


def side_of_zero(low: float, high: float) -> str:
    """Where a confidence interval lies: 'above', 'below', or 'straddles' zero (or unknown)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "unknown"
    if low > 0:
        return "above"
    if high < 0:
        return "below"
    return "straddles"


TOO_FEW_SEEDS = "too few seeds"


def too_little_evidence(n: int, sd: float) -> str:
    """Why a sample decides nothing, or '': too few finite (paired) seeds. (A sample without spread is a
    measured constant, which decides by its value: see `decide`.)"""

    if n < stats.MIN_SEEDS:
        return f"{TOO_FEW_SEEDS}: {n} < {stats.MIN_SEEDS}"
    return ""


NEGLIGIBLE, ABOVE, BELOW, UNDECIDED, FLOOR = "negligible", "above", "below", "undecided", "floor"


def decide(test: dict, margin: float | None) -> dict:
    """The lab's one decision on the mean of per-seed values d, the same for every comparative rule
    (issue 27), with the smallest effect of interest m (`margin`):

    1. fewer than MIN_SEEDS finite seeds: FLOOR, nothing decided;
    2. equivalence first: the 90% CI (TOST) inside +-m is NEGLIGIBLE, whatever its side of 0;
    3. otherwise the side of 0 the 95% CI lies on: ABOVE or BELOW;
    4. otherwise UNDECIDED: the band where the CI reaches beyond +-m and still holds 0.

    A measured constant (the same d in every one of n >= MIN_SEEDS seeds: deterministic) decides by its value:
    inside +-m, or exactly 0, NEGLIGIBLE; else its sign. Returns the finding, the floor's reason, whether d
    was constant, and the TOST numbers (m given)."""
    n, sd, mean = test["n"], test["sd"], test["mean"]
    floor = too_little_evidence(n, sd)
    constant = not floor and math.isfinite(mean) and not (sd > NUMERICALLY_ZERO)
    equivalence = {}
    if margin is not None and "tost_ci_low" in test:  # a two-stage test brings its own (stats.two_stage_test)
        equivalence = {key: test[key] for key in ("margin", "tost_ci_low", "tost_ci_high", "p_equivalent", "equivalent")}
    elif margin is not None:  # reported below the floor too (2 seeds have an interval); it decides only above it
        se = 0.0 if constant else test["se"]
        # TOST at the test's own alpha: 0.05 (a 90% interval), or the first stage's alpha of a two-stage design
        equivalence = stats.tost(mean, se, test["df"], margin, alpha=1 - test.get("confidence", stats.CONFIDENCE))
    if floor:
        finding = FLOOR
    elif constant:
        finding = (NEGLIGIBLE if (margin is not None and abs(mean) < margin) or mean == 0
                   else ABOVE if mean > 0 else BELOW)
    elif equivalence.get("equivalent"):
        finding = NEGLIGIBLE
    else:
        side = side_of_zero(test["ci_low"], test["ci_high"])
        finding = side if side in (ABOVE, BELOW) else UNDECIDED
    return {"finding": finding, "floor": floor, "constant": constant, **equivalence}


TWO_STAGE_KEY = "until_decided"  # the config key: the most seeds a second stage may bring a comparison to (0: off)


def staged_test(evidence: Evidence, seeds: Sequence[int], test_of: Callable, margin: float | None,
                smallest_effect: float | None, arms: Sequence[str]) -> dict:
    """The test a comparison is decided on. `test_of(positions, confidence)` tests the per-seed values at
    those positions of `seeds` (the seed ids the comparison has values for).

    One stage (the config's until_decided is 0): every seed, at 95%. Two stages (issue 27): the planned seeds
    (ids below cfg['seeds']) at the first stage's level (stats.FIRST_STAGE_ALPHA). When they leave the
    comparison undecided, its second stage is the seeds that 80% power at the declared smallest effect needs
    (stats.seeds_for_decision, with the first stage's spread), if that many fit within the cap: with those
    seeds present the combination test decides (stats.two_stage_test); without them the test says which
    seeds of which arms to run (`pending_seeds`, `pending_arms`), and the comparison stays undecided."""
    import numpy as np

    cap, planned = evidence.cfg.get(TWO_STAGE_KEY, 0), evidence.cfg.get("seeds", 0)
    seeds = np.asarray(seeds, dtype=int)
    if not cap:
        return test_of(np.arange(len(seeds)), stats.CONFIDENCE)
    first = test_of(np.flatnonzero(seeds < planned), 1 - stats.FIRST_STAGE_ALPHA)
    if decide(first, margin)["finding"] != UNDECIDED:
        return first
    needed = stats.seeds_for_decision(first["sd"], smallest_effect, margin) if smallest_effect else None
    if needed is None or needed > cap:
        return {**first, "second_stage": f"needs {needed or 'over ' + str(stats.MAX_SEEDS_NEEDED)} seeds > cap {cap}"}
    total = planned + max(needed - planned, stats.MIN_SEEDS)
    later = np.flatnonzero((seeds >= planned) & (seeds < total))
    if len(later) < total - planned:
        return {**first, "pending_seeds": total, "pending_arms": tuple(dict.fromkeys(arms)),
                "second_stage": f"second stage: seeds {planned} to {total - 1} still to run"}
    second = test_of(later, stats.CONFIDENCE)
    if second["n"] < stats.MIN_SEEDS:
        return {**first, "second_stage": f"second stage: {second['n']} finite seeds, below the floor"}
    return stats.two_stage_test(first, second, margin)


def stage_fields(test: dict) -> dict:
    """What a staged test adds to its Comparison: the seeds per stage and the TOST level of a two-stage
    design, and a second stage still to run."""
    confidence = test.get("confidence", stats.CONFIDENCE)
    fields = {"confidence": confidence, "stages": tuple(test["stages"]) if "stages" in test else None,
              "pending_seeds": test.get("pending_seeds"), "pending_arms": test.get("pending_arms")}
    if confidence != stats.CONFIDENCE:  # a first stage of two: its TOST runs at its own alpha
        fields["tost_confidence"] = 1 - 2 * (1 - confidence)
    return fields


def seeds_shown(c: Comparison) -> str:
    """A comparison's seeds for a reason: 'n=10 seeds', or 'n=10 + 14 seeds (two-stage)'."""
    if c.stages and len(c.stages) == 2:
        return f"n={c.stages[0]} + {c.stages[1]} seeds (two-stage)"
    return f"n={c.n} seeds"


def ci_shown(c: Comparison) -> str:
    """A comparison's decision interval for a reason: '[95% CI -0.0100, +0.0300]'."""
    return f"[{c.confidence:.0%} CI {shown(c.ci_low)}, {shown(c.ci_high)}]"


def decision_text(margin: float | None, claim: str = "differs") -> str:
    """The decision in words, for a rule's description; `claim` is 'differs' (a claimed side of 0) or
    'equivalent' (a claim that something does not matter)."""
    if margin is None:
        return ("The 95% CI's side of 0 decides; a CI holding 0 is inconclusive. A d identical in every seed "
                "(at least 3) is a measured constant and decides by its sign.")
    negligible_means = "refutes the claim" if claim == "differs" else "supports the claim"
    return (f"Equivalence is checked first: a 90% CI inside +-{margin:g} (TOST at alpha 0.05) is negligible and "
            f"{negligible_means}; otherwise the side of 0 the 95% CI lies on decides; a CI that reaches beyond "
            f"+-{margin:g} and still holds 0 is inconclusive. A d identical in every seed (at least 3) is a "
            f"measured constant: inside +-{margin:g} it is negligible, else its sign decides.")


def sign_comparison(name: str, metric: str, test: dict, claimed_side: str, margin: float | None,
                    words: dict[str, str]) -> Comparison:
    """A comparison of a claimed side of 0 (`claimed_side`), judged by `decide` with the smallest effect of
    interest `margin`: the claimed side supports, the other side and a negligible d refute. `words` names the
    states: {'supported': 'better', 'refuted': 'worse'}."""
    decided = decide(test, margin)
    finding, floor = decided["finding"], decided["floor"]
    constant = f"identical in all {test['n']} seeds" if decided["constant"] else ""
    if finding == FLOOR:
        verdict, state, qualifier = INCONCLUSIVE, floor, floor
    elif finding == NEGLIGIBLE:
        verdict, state = REFUTED, NEGLIGIBLE
        qualifier = "; ".join(filter(None, [f"negligible: within +-{margin:g}" if margin is not None else "",
                                            constant]))
    elif finding == UNDECIDED:
        verdict, state, qualifier = INCONCLUSIVE, "not significant", test.get("second_stage", "")
    else:
        verdict = SUPPORTED if finding == claimed_side else REFUTED
        state, qualifier = words[verdict], constant
    on_other_side = test["mean"] < 0 if claimed_side == "above" else test["mean"] > 0
    p_side = 0.0 if decided["constant"] else test["p_value"]
    p_support, p_refute = (1.0, p_side) if on_other_side else (p_side, 1.0)
    if finding == NEGLIGIBLE:
        p_support, p_refute = 1.0, min(p_refute, decided.get("p_equivalent", 0.0))
    if floor:
        p_support = p_refute = math.nan
    return Comparison(name, metric, test["mean"], test["ci_low"], test["ci_high"], test["n"], verdict, state,
                      margin=margin, tost_ci_low=decided.get("tost_ci_low"), tost_ci_high=decided.get("tost_ci_high"),
                      differences=test.get("differences", []), se=test["se"], df=test["df"],
                      p_value=test["p_value"], p_support=p_support, p_refute=p_refute, unadjusted_verdict=verdict,
                      smallest_effect=margin, qualifier=qualifier, claimed_side=claimed_side, **stage_fields(test))


def correct_for_family(comparisons: Sequence[Comparison]) -> list[Comparison]:
    """Family-wise error control where any one of k comparisons refutes: Holm over their refute
    p-values. Returns the comparisons as corrected: a refutation that does not survive becomes
    inconclusive; every comparison gets its adjusted p-value and the Bonferroni interval at 1 - 0.05/k
    beside the unadjusted 95% CI. Always computed from the unadjusted verdicts."""
    k = len(comparisons)
    corrected = []
    for comparison, p in zip(comparisons, stats.holm([c.p_refute for c in comparisons])):
        comparison = in_family(comparison, k, p)
        if comparison.unadjusted_verdict == REFUTED and not p < stats.ALPHA:
            comparison = replace(comparison, verdict=INCONCLUSIVE,
                                 qualifier=f"refutes before correction, not after Holm over {k}")
        else:
            comparison = replace(comparison, verdict=comparison.unadjusted_verdict)
        corrected.append(comparison)
    return corrected


def in_family(comparison: Comparison, k: int, p_adjusted: float) -> Comparison:
    """The comparison as one of k: with its family-adjusted p-value and its Bonferroni interval."""
    low, high = stats.interval_around(comparison.mean, comparison.se, comparison.df, 1 - stats.ALPHA / k)
    return replace(comparison, family=k, p_refute_adjusted=p_adjusted, adjusted_ci_low=low, adjusted_ci_high=high)


def family_text(k: int) -> str:
    return (f"The refute path is any one of {k} comparisons, so it is corrected ({stats.FAMILY_METHOD} over the "
            f"{k} refute p-values, family-wise alpha 0.05); the support path needs all {k} and is not.")


def family_qualifier(comparisons: Sequence[Comparison], verdict: str) -> str:
    """The qualifiers of the comparisons that carry the verdict (those with that verdict), each named once:
    negligible, a measured constant, why an undecided comparison decides nothing."""
    return "; ".join(dict.fromkeys(c.qualifier for c in comparisons if c.verdict == verdict and c.qualifier))


class Rule:
    """The interface: describe() -> str, evaluate(evidence) -> Outcome, and the trial metrics it reads
    (plotted per arm in the report) and exact-check functions it needs run."""

    metrics: list[str] = []
    checks: list = []

    def describe(self) -> str:
        raise NotImplementedError

    def reads(self) -> list[tuple[str, str]]:
        """The (metric, arm) pairs the rule reads, so that a misspelt arm fails when the experiment loads and
        a misspelt metric at the arm's first trial, never as a verdict. Empty: none, or not declared."""
        return []

    def evaluate(self, evidence: Evidence) -> Outcome:
        raise NotImplementedError


def paired_comparisons(rule: Rule) -> list[Rule]:
    """Every paired comparison a rule is built from, inside AllOf and its also_report too: the rules that
    must each name a declared smallest effect."""
    parts = [*getattr(rule, "parts", []), *[r for r in getattr(rule, "also_report", []) if isinstance(r, Rule)],
             *([rule.rule] if isinstance(rule, NotJudged) else [])]
    own = [rule] if isinstance(rule, (Better, Contrast, Ranking, SeedStatistic)) else []
    return own + [inner for part in parts for inner in paired_comparisons(part)]


def resolve_rule(rule, cfg: dict) -> Rule:
    """A claim's rule for one run: the rule itself, or what its factory builds from the run's config."""
    return rule if isinstance(rule, Rule) else rule(cfg)


def rule_text(rule: Rule, cfg: dict) -> str:
    """A rule's text for one run: its own, then, when the run has a second stage (until_decided), the design
    its paired comparisons are decided under."""
    cap = cfg.get(TWO_STAGE_KEY, 0)
    if not cap or not count_comparisons(rule):
        return rule.describe()
    return (f"{rule.describe()} Two-stage seeds (until_decided={cap}): {stats.TWO_STAGE_METHOD}. The planned "
            f"{cfg.get('seeds')} seeds decide with {1 - stats.FIRST_STAGE_ALPHA:.0%} and "
            f"{1 - 2 * stats.FIRST_STAGE_ALPHA:.0%} CIs in place of 95% and 90%; a comparison whose seeds needed "
            f"exceed {cap} stays inconclusive.")


def evidence_floor_text() -> str:
    return f"Fewer than {stats.MIN_SEEDS} finite paired seeds decides nothing (inconclusive)."


def smallest_effect_text(smallest_effect: float | None) -> str:
    return decision_text(smallest_effect)


# ---- comparisons paired by seed -------------------------------------------------------------------
class Contrast(Rule):
    """The per-seed value d = sum of coefficient x metric[arm] over `terms` (paired by seed); supported if
    the 95% CI of mean d lies wholly on `claimed_side` of 0 ('above' or 'below'), refuted if wholly on the
    other side, inconclusive otherwise. `meaning` says in words what d is."""

    def __init__(self, name: str, terms: Sequence[tuple[float, str, str]], meaning: str, *,
                 smallest_effect: float, claimed_side: str = "above", about: Sequence[str] = ()):
        self.name, self.terms, self.meaning, self.claimed_side = name, list(terms), meaning, claimed_side
        self.smallest_effect, self.about = smallest_effect, tuple(about)
        self.metrics = list(dict.fromkeys(metric for _, metric, _ in self.terms))
        self.checks = []

    def reads(self) -> list[tuple[str, str]]:
        return [(metric, arm) for _, metric, arm in self.terms]

    def describe(self) -> str:
        other = "below" if self.claimed_side == "above" else "above"
        return (f"Paired by seed, d = {self.meaning}, claimed {self.claimed_side} 0 (95% CI of mean d: "
                f"{stats.INTERVAL_METHOD}). {decision_text(self.smallest_effect)} A d {self.claimed_side} 0 "
                f"supports; {other} 0, or negligible, refutes. {evidence_floor_text()}{about_text(self.about)}")

    def per_seed(self, evidence: Evidence):
        matrix = evidence.seed_matrix([(metric, arm) for _, metric, arm in self.terms])
        values = matrix[0] * self.terms[0][0]
        for (coefficient, _, _), row in zip(self.terms[1:], matrix[1:]):
            values = values + coefficient * row
        return values

    def compare(self, evidence: Evidence) -> Comparison:
        values = self.per_seed(evidence)
        test = staged_test(evidence, evidence.seeds_of(self.reads()),
                           lambda positions, confidence: stats.mean_test(values[positions], confidence),
                           self.smallest_effect, self.smallest_effect, [arm for _, arm in self.reads()])
        test["differences"] = test["values"]
        comparison = sign_comparison(self.name, " / ".join(self.metrics), test, self.claimed_side,
                                     self.smallest_effect, {SUPPORTED: f"{self.claimed_side} 0",
                                                            REFUTED: "below 0" if self.claimed_side == "above" else "above 0"})
        return discriminating(comparison, evidence, self.reads(), self.about)

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = f"{self.name} = {shown(c.mean)} {ci_shown(c)}{tost_shown(c)}, {seeds_shown(c)}"
        arms = list(dict.fromkeys(arm for _, _, arm in self.terms))
        return Outcome(c.verdict, reason, arms=arm_summaries(evidence, self.terms[0][1], arms), comparisons=[c],
                       qualifier=c.qualifier)


def tost_shown(c: Comparison) -> str:
    """A comparison's equivalence interval for a reason, where it was tested: ', 90% CI [...] vs margin +-m'."""
    if c.margin is None or c.tost_ci_low is None:
        return ""
    return f", {c.tost_confidence or 0.9:.0%} CI [{shown(c.tost_ci_low)}, {shown(c.tost_ci_high)}] vs margin +-{c.margin:g}"


def paired_staged_test(evidence: Evidence, metric: str, arm: str, other: str, margin: float | None,
                       smallest_effect: float | None) -> dict:
    """`staged_test` of the paired differences metric[arm] - metric[other]."""
    a, b = evidence.paired(metric, arm, other)
    return staged_test(evidence, evidence.seeds_of([(metric, arm), (metric, other)]),
                       lambda positions, confidence: stats.paired_difference(a[positions], b[positions], confidence),
                       margin, smallest_effect, [arm, other])


class Better(Rule):
    """Arm `arm` beats arm `than` on `metric`, paired by seed. With `equivalence_margin`, the claim is
    also refuted when the two are equivalent within +-margin (TOST): for claims that something matters,
    a difference too small to matter counts against them. The sign is checked first."""

    def __init__(self, metric: str, arm: str, than: str, higher_is_better: bool = True, *,
                 smallest_effect: float, equivalence_margin: float | None = None, about: Sequence[str] = ()):
        self.metric, self.arm, self.than, self.higher_is_better = metric, arm, than, higher_is_better
        self.smallest_effect, self.equivalence_margin, self.about = smallest_effect, equivalence_margin, tuple(about)
        self.metrics, self.checks = [metric], []

    def reads(self) -> list[tuple[str, str]]:
        return [(self.metric, self.arm), (self.metric, self.than)]

    def describe(self) -> str:
        direction = "higher" if self.higher_is_better else "lower"
        return (f"Paired by seed, d = {self.metric}[{self.arm}] - {self.metric}[{self.than}] ({direction} is "
                f"better; 95% CI of mean d: {stats.INTERVAL_METHOD}). {decision_text(self.margin)} A d on the "
                f"{self.arm} side of 0 supports; on the {self.than} side, or negligible, refutes. "
                f"{evidence_floor_text()}{about_text(self.about)}")

    @property
    def margin(self) -> float | None:
        """The smallest effect of interest the decision uses: the declared equivalence margin, if any."""
        return self.equivalence_margin if self.equivalence_margin is not None else self.smallest_effect

    def compare(self, evidence: Evidence) -> Comparison:
        claimed_side = "above" if self.higher_is_better else "below"
        test = paired_staged_test(evidence, self.metric, self.arm, self.than, self.margin, self.smallest_effect)
        comparison = sign_comparison(f"{self.arm} - {self.than}", self.metric, test, claimed_side, self.margin,
                                     {SUPPORTED: "better", REFUTED: "worse"})
        return discriminating(comparison, evidence, self.reads(), self.about)

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = f"{self.metric}: {c.name} = {shown(c.mean)} {ci_shown(c)}{tost_shown(c)}, {seeds_shown(c)}"
        return Outcome(c.verdict, reason, arms=arm_summaries(evidence, self.metric, [self.arm, self.than]),
                       comparisons=[c], qualifier=c.qualifier)


class Equivalent(Rule):
    """Arm `arm` and arm `to` are equivalent on `metric` within +-margin (TOST, paired by seed). The
    margin is the smallest effect of interest: a difference inside it is, by declaration, negligible.

    `censored_unless`: a 0/1 metric that must be 1 in every compared trial for the comparison to count
    (e.g. "reached the accuracy threshold": an epochs-to-threshold value of a run that never reached
    it is not a measurement)."""

    def __init__(self, metric: str, arm: str, to: str, margin: float, censored_unless: str | None = None,
                 about: Sequence[str] = ()):
        self.metric, self.arm, self.to, self.margin, self.censored_unless = metric, arm, to, margin, censored_unless
        self.about = tuple(about)
        self.metrics, self.checks = [metric], []

    def reads(self) -> list[tuple[str, str]]:
        metrics = [self.metric] + ([self.censored_unless] if self.censored_unless else [])
        return [(metric, arm) for metric in metrics for arm in (self.arm, self.to)]

    def describe(self) -> str:
        text = (f"Paired by seed, d = {self.metric}[{self.arm}] - {self.metric}[{self.to}], claimed equivalent "
                f"within +-{self.margin:g} (CIs of mean d: {stats.INTERVAL_METHOD}). "
                f"{decision_text(self.margin, claim='equivalent')} A d clear of 0 on either side refutes. "
                f"{evidence_floor_text()}")
        if self.censored_unless:
            text += f" Compared only when {self.censored_unless} is 1 in every compared trial."
        return text + about_text(self.about)

    def compare(self, evidence: Evidence) -> Comparison:
        result = paired_staged_test(evidence, self.metric, self.arm, self.to, self.margin, self.margin)
        censored = False
        if self.censored_unless:
            reached_a, reached_b = evidence.paired(self.censored_unless, self.arm, self.to)
            censored = not (reached_a.all() and reached_b.all())
        decided = decide(result, self.margin)
        finding, floor = decided["finding"], decided["floor"]
        constant = f"identical in all {result['n']} seeds" if decided["constant"] else ""
        if censored:
            verdict, state, qualifier = INCONCLUSIVE, "censored", ""
        elif finding == FLOOR:
            verdict, state, qualifier = INCONCLUSIVE, floor, floor
        elif finding == NEGLIGIBLE:
            verdict, state, qualifier = SUPPORTED, "equivalent", constant
        elif finding in (ABOVE, BELOW):
            verdict, state, qualifier = REFUTED, "different", constant
        else:
            verdict, state, qualifier = INCONCLUSIVE, "undecided", result.get("second_stage", "")
        undecidable = censored or bool(floor)
        p_equivalent = decided.get("p_equivalent", math.nan)
        p_different = 0.0 if decided["constant"] else result["p_value"]
        comparison = Comparison(f"{self.arm} - {self.to}", self.metric, result["mean"], result["ci_low"],
                                result["ci_high"], result["n"], verdict, state, margin=self.margin,
                                tost_ci_low=decided.get("tost_ci_low"), tost_ci_high=decided.get("tost_ci_high"),
                                differences=result["differences"], se=result["se"], df=result["df"],
                                p_value=p_equivalent, p_support=math.nan if undecidable else p_equivalent,
                                p_refute=math.nan if undecidable else p_different,
                                unadjusted_verdict=verdict, smallest_effect=self.margin, qualifier=qualifier,
                                test="equivalence", **stage_fields(result))
        return discriminating(comparison, evidence, [(self.metric, self.arm), (self.metric, self.to)], self.about)

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = (f"{self.metric}: {c.name} = {shown(c.mean)} [{c.tost_confidence or 0.9:.0%} CI {shown(c.tost_ci_low)}, "
                  f"{shown(c.tost_ci_high)}], margin +-{self.margin:g}, {seeds_shown(c)}"
                  + (" (censored)" if c.state == "censored" else ""))
        return Outcome(c.verdict, reason, arms=arm_summaries(evidence, self.metric, [self.arm, self.to]),
                       comparisons=[c], qualifier=c.qualifier)


class SeedStatistic(Rule):
    """A statistic of several arms' per-seed values of one metric (`statistic(matrix)` on an arms x seeds
    matrix -> float), with a 95% t interval around its jackknife standard error over seeds (each seed
    left out of every arm at once, which keeps the arms paired). Supported if the interval lies wholly
    above 0, refuted if wholly below, else inconclusive. `meaning` defines the statistic."""

    def __init__(self, name: str, metric: str, arms: Sequence[str], statistic: Callable, meaning: str, *,
                 smallest_effect: float, about: Sequence[str] = (), margin_in_statistic: bool = False):
        """`margin_in_statistic`: the statistic is measured from a declared bound (a non-inferiority margin,
        d + m, or a threshold, t - gain), so only its side of 0 decides: no equivalence step around 0."""
        self.name, self.metric, self.arms, self.statistic = name, metric, list(arms), statistic
        self.meaning, self.smallest_effect, self.about = meaning, smallest_effect, tuple(about)
        self.margin_in_statistic = margin_in_statistic
        self.metrics, self.checks = [metric], []

    def reads(self) -> list[tuple[str, str]]:
        return [(self.metric, arm) for arm in self.arms]

    def describe(self) -> str:
        return (f"{self.name} = {self.meaning}, on {self.metric}. 95% CI: {stats.SEED_STATISTIC_METHOD} (seeds "
                f"left out jointly for all arms), claimed above 0. {decision_text(self.margin)}"
                + (" The statistic is measured from a declared bound (a non-inferiority margin or a threshold), so "
                   "there is no equivalence step around 0." if self.margin_in_statistic else "")
                + f" Above 0 supports; below 0, or negligible, refutes. {evidence_floor_text()}{about_text(self.about)}")

    @property
    def margin(self) -> float | None:
        return None if self.margin_in_statistic else self.smallest_effect

    def compare(self, evidence: Evidence) -> Comparison:
        import numpy as np

        matrix = evidence.seed_matrix(self.reads())
        complete = np.isfinite(matrix).all(axis=0)  # a seed with any excluded value leaves every arm
        matrix, seeds = matrix[:, complete], np.asarray(evidence.seeds_of(self.reads()), dtype=int)[complete]

        def test_of(positions, confidence):
            chosen = matrix[:, positions]
            return stats.jackknife_test(lambda kept: self.statistic(chosen[:, kept]), chosen.shape[1], confidence)

        test = staged_test(evidence, seeds, test_of, self.margin, self.smallest_effect, self.arms)
        comparison = sign_comparison(self.name, self.metric, test, "above", self.margin,
                                     {SUPPORTED: "above 0", REFUTED: "below 0"})
        return discriminating(comparison, evidence, self.reads(), self.about)

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = f"{self.name} ({self.metric}) = {shown(c.mean)} {ci_shown(c)}, {seeds_shown(c)}"
        return Outcome(c.verdict, reason, comparisons=[c], qualifier=c.qualifier)


def not_worse(metric: str, arm: str, than: str, margin: float) -> SeedStatistic:
    """A non-inferiority comparison, paired by seed: mean(metric[arm] - metric[than]) + margin, which is above 0
    when `arm` is not worse than `than` by more than the margin."""
    return SeedStatistic(f"{arm} - {than} + {margin:g}", metric, [arm, than],
                         lambda m: float((m[0] - m[1]).mean() + margin),
                         f"the mean over seeds of {metric}[{arm}] - {metric}[{than}], plus the margin {margin:g} "
                         f"(above 0: {arm} is not worse than {than} by more than {margin:g}; below 0: worse by more)",
                         smallest_effect=margin, margin_in_statistic=True)


class Summarize(Rule):
    """Per-arm summaries of a metric, decided nothing: for AllOf's `also_report`."""

    def __init__(self, metric: str, arms: Sequence[str]):
        self.metric, self.arms = metric, list(arms)
        self.metrics, self.checks = [metric], []

    def reads(self) -> list[tuple[str, str]]:
        return [(self.metric, arm) for arm in self.arms]

    def describe(self) -> str:
        shown = ", ".join(self.arms) if len(self.arms) <= 6 else f"{len(self.arms)} arms"
        return f"{self.metric} per arm ({shown})"

    def evaluate(self, evidence: Evidence) -> Outcome:
        arms = arm_summaries(evidence, self.metric, self.arms)
        reason = f"mean {self.metric}: " + ", ".join(f"{a.arm} {a.mean:.3f}" for a in arms)
        return Outcome(INCONCLUSIVE, reason, arms=arms)


# ---- combinations -----------------------------------------------------------------------------------
def _merge(outcomes: Sequence[Outcome], judged: bool = True) -> dict:
    """The typed evidence of several outcomes as one: arms once each, comparisons and checks in order."""
    arms, seen = [], set()
    comparisons, checked = [], []
    for outcome in outcomes:
        for arm in outcome.arms:
            if (arm.metric, arm.arm) not in seen:
                seen.add((arm.metric, arm.arm))
                arms.append(arm)
        for comparison in outcome.comparisons:
            comparisons.append(comparison if judged else _reported(comparison))
        checked += outcome.checked
    return {"arms": arms, "comparisons": comparisons, "checked": checked}


def _reported(comparison: Comparison) -> Comparison:
    from dataclasses import replace

    return replace(comparison, judged=False)


def _judged(outcome: Outcome) -> list[Comparison]:
    return [c for c in outcome.comparisons if c.judged]


class AllOf(Rule):
    """Several rules that must all hold: supported if every part is supported, refuted if any part is
    refuted (Holm-corrected over every judged comparison of every part), inconclusive otherwise.
    `also_report` rules are evaluated and shown, never decide."""

    def __init__(self, *parts: Rule, also_report: Sequence[Rule] = (), label: str = ""):
        if any(isinstance(part, AllOf) for part in parts):
            raise TypeError("AllOf inside AllOf: list the parts in one AllOf, so one correction covers them all")
        self.parts, self.also_report, self.label = list(parts), list(also_report), label
        self.metrics = list(dict.fromkeys(m for rule in self.parts + self.also_report for m in rule.metrics))
        self.checks = [check for rule in self.parts for check in rule.checks]

    def reads(self) -> list[tuple[str, str]]:
        return list(dict.fromkeys(pair for rule in self.parts + self.also_report for pair in rule.reads()))

    def describe(self) -> str:
        if len(self.parts) == 1:
            text = self.parts[0].describe()
        else:
            parts = " ".join(f"({i}) {rule.describe()}" for i, rule in enumerate(self.parts, 1))
            text = (f"{len(self.parts)} parts. {parts} Supported if every part is supported; refuted if any part "
                    "is refuted; inconclusive otherwise.")
        text = f"{self.label + ': ' if self.label else ''}{text}"
        if count_comparisons(self) > 1:
            text += " " + family_text(count_comparisons(self))
        if self.also_report:
            text += " Reported, not judged: " + "; ".join(rule.describe() for rule in self.also_report) + "."
        return text

    def evaluate(self, evidence: Evidence) -> Outcome:
        outcomes = [rule.evaluate(evidence) for rule in self.parts]
        reported = [rule.evaluate(evidence) for rule in self.also_report]
        leaves = [c for outcome in outcomes for c in _judged(outcome)]
        if len(leaves) > 1:
            corrected = dict(zip(map(id, leaves), correct_for_family(leaves)))
            outcomes = [replace(o, comparisons=[corrected.get(id(c), c) for c in o.comparisons]) for o in outcomes]
            leaves = [c for outcome in outcomes for c in _judged(outcome)]
        verdict = verdict_of_all([verdict_of_all([c.verdict for c in _judged(o)]) if _judged(o) else o.verdict
                                  for o in outcomes])
        # the evidence leads with what decided: the parts whose verdict is the claim's, then the others
        reason = "; ".join(o.reason for o in sorted(outcomes, key=lambda o: o.verdict != verdict))
        if len(leaves) > 1:
            reason += f" [Holm over {len(leaves)} comparisons]"
        if self.label:
            reason = f"{self.label}: {reason} ({verdict})"
        merged = _merge(outcomes)
        extra = _merge(reported, judged=False)
        qualifier = family_qualifier(leaves, verdict) or "; ".join(
            dict.fromkeys(o.qualifier for o in outcomes if o.qualifier and o.verdict == verdict))
        return Outcome(verdict, reason, arms=merged["arms"] + [a for a in extra["arms"] if a not in merged["arms"]],
                       comparisons=merged["comparisons"] + extra["comparisons"], checked=merged["checked"],
                       details={"parts": [o.verdict for o in outcomes]}, qualifier=qualifier)


def count_comparisons(rule: Rule) -> int:
    """How many judged comparisons a rule decides on (0 for exact checks and custom rules)."""
    if isinstance(rule, AllOf):
        return sum(count_comparisons(part) for part in rule.parts)
    if isinstance(rule, Ranking):
        return len(rule.order) - 1
    if isinstance(rule, (Better, Equivalent, Contrast, SeedStatistic)):
        return 1
    return 0


class Ranking(Rule):
    """Arms rank in the claimed order on `metric`: each adjacent pair is judged with Better.

    Supported if every adjacent pair is significantly in the claimed order; refuted if any adjacent
    pair is significantly reversed after Holm's correction over the pairs; inconclusive otherwise.
    """

    def __init__(self, metric: str, order: Sequence[str], higher_is_better: bool = True, also_report=(), *,
                 smallest_effect: float, about: Sequence[str] = ()):
        self.metric, self.order, self.higher_is_better = metric, list(order), higher_is_better
        self.also_report, self.smallest_effect, self.about = list(also_report), smallest_effect, tuple(about)
        self.metrics, self.checks = [metric], []

    def reads(self) -> list[tuple[str, str]]:
        return [(self.metric, arm) for arm in dict.fromkeys(self.order + self.also_report)]  # also_report: arms

    def describe(self) -> str:
        chain = " > ".join(self.order)
        return (
            f"Claimed order on {self.metric} ({'higher' if self.higher_is_better else 'lower'} is better): "
            f"{chain}. Each adjacent pair is compared paired by seed with a 95% CI of the mean difference "
            f"({stats.INTERVAL_METHOD}), each decided so: {decision_text(self.smallest_effect)} Supported if every "
            "adjacent pair is in the claimed order; refuted if any adjacent pair is reversed or negligible; "
            f"inconclusive otherwise. {evidence_floor_text()}"
            + (f" {family_text(len(self.order) - 1)}" if len(self.order) > 2 else "") + about_text(self.about)
        )

    def evaluate(self, evidence: Evidence) -> Outcome:
        comparisons = [Better(self.metric, upper, lower, self.higher_is_better, smallest_effect=self.smallest_effect,
                              about=self.about).compare(evidence)
                       for upper, lower in zip(self.order, self.order[1:])]
        if len(comparisons) > 1:
            comparisons = correct_for_family(comparisons)
        verdict = verdict_of_all([c.verdict for c in comparisons])
        arms = arm_summaries(evidence, self.metric, self.order + self.also_report)

        def rank_key(arm):  # best first; arms with no finite mean (all diverged) last
            return math.inf if not math.isfinite(arm.mean) else (-arm.mean if self.higher_is_better else arm.mean)

        measured_order = [a.arm for a in sorted(arms, key=rank_key)]
        means = {a.arm: a.mean for a in arms}
        if arms and all(a.diverged and a.diverged >= a.n for a in arms):  # all at their IF_DIVERGED score
            reason = f"every arm diverged (NaN loss) on every seed: no order to measure on {self.metric}"
            return Outcome(INCONCLUSIVE, reason, arms=arms, comparisons=comparisons, qualifier="every arm diverged")
        reason = f"measured order by mean {self.metric}: " + " > ".join(f"{a} {means[a]:.3f}" for a in measured_order)
        reversed_pairs = [c for c in comparisons if c.unadjusted_verdict == REFUTED]
        if reversed_pairs:
            reversals = "reversed: " + ", ".join(
                f"{c.name.replace(' - ', ' vs ')} (p={c.p_value:.3f}"
                + (f", Holm p={c.p_refute_adjusted:.3f} over {c.family})" if c.family > 1 else ")")
                for c in reversed_pairs)
            # the evidence leads with what decided: a refutation with the reversal, anything else with the order
            reason = f"{reversals}; {reason}" if verdict == REFUTED else f"{reason}; {reversals}"
        return Outcome(verdict, reason, arms=arms, comparisons=comparisons, details={"measured_order": measured_order},
                       qualifier=family_qualifier(comparisons, verdict))


# ---- exact checks -----------------------------------------------------------------------------------
class AtMost:
    """A claimed value that is a bound: the measured number must be <= limit (a tolerance, a round-off)."""

    def __init__(self, limit: float):
        self.limit = limit

    def __repr__(self) -> str:
        return f"<= {self.limit:g}"

    def matches(self, measured) -> bool:
        return isinstance(measured, (int, float)) and not isinstance(measured, bool) and measured <= self.limit


class Raised:
    """A claimed error: the measured value (an exception's type name, from claimlab.checks.raised) must
    name an exception; which one is recorded, not judged."""

    def __repr__(self) -> str:
        return "an exception"

    def matches(self, measured) -> bool:
        return bool(measured)


def _matches(claimed, measured, rel_tol: float, abs_tol: float) -> bool:
    if hasattr(claimed, "matches"):
        return claimed.matches(measured)
    if isinstance(claimed, bool) or isinstance(measured, bool):
        return claimed == measured
    if isinstance(claimed, (int, float)) and isinstance(measured, (int, float)):
        return math.isclose(measured, claimed, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(claimed, (list, tuple)) and isinstance(measured, (list, tuple)):
        return len(claimed) == len(measured) and all(
            _matches(c, m, rel_tol, abs_tol) for c, m in zip(claimed, measured)
        )
    return claimed == measured


def check_not_run(measured: dict | None) -> Outcome | None:
    """The one guard every exact rule needs: a check that did not run or raised decides nothing, so the
    claim is inconclusive with the check's error. None when the check ran."""
    if measured is not None and "error" not in measured:
        return None
    error = (measured or {}).get("error", "the check did not run")
    return Outcome(INCONCLUSIVE, f"check failed: {error}", details={"measured": measured})


class Exact(Rule):
    """A deterministic fact: `check(cfg)` builds real Keras/TF objects and returns measured values;
    each value named in `expect` must equal the claimed one (numbers within rel_tol / abs_tol), or
    satisfy it when the claimed value is a matcher (AtMost, Raised). `check` is the function, or its name
    in the experiment's module (the registry finds it there when the checks run)."""

    def __init__(self, check: Callable[[dict], dict] | str, expect: dict, rel_tol: float = 0.0, abs_tol: float = 0.0,
                 note: str = "", context: Callable[[dict], str] | None = None):
        """`context(measured)` may add to the reason what else the check recorded, unjudged."""
        self.check_name = check if isinstance(check, str) else check.__name__
        self.expect, self.rel_tol, self.abs_tol, self.note = dict(expect), rel_tol, abs_tol, note
        self.context = context
        self.metrics, self.checks = [], [check]

    def describe(self) -> str:
        tolerance = ""
        if self.rel_tol:
            tolerance = f" within a relative tolerance of {self.rel_tol:g}"
        elif self.abs_tol:
            tolerance = f" within an absolute tolerance of {self.abs_tol:g}"
        expected = ", ".join(f"{key} {value!r}" if hasattr(value, "matches") else f"{key} = {value!r}"
                             for key, value in self.expect.items())
        text = f"Exact check `{self.check_name}`: supported if {expected}{tolerance}; refuted otherwise."
        return f"{text} {self.note}".strip()

    def evaluate(self, evidence: Evidence) -> Outcome:
        measured = evidence.checks.get(self.check_name)
        failed = check_not_run(measured)
        if failed:
            return failed
        unmeasured = [key for key in self.expect if key not in measured]
        if unmeasured:  # a quantity the check does not measure is a misspelt name or an older check: an error
            raise KeyError(f"the check {self.check_name} did not measure {unmeasured}, which the rule reads; "
                           f"it measured: {sorted(measured)[:20]}")
        checked = [CheckedValue(key, claimed, measured[key], _matches(claimed, measured[key], self.rel_tol,
                                                                      self.abs_tol))
                   for key, claimed in self.expect.items()]
        verdict = SUPPORTED if all(c.match for c in checked) else REFUTED

        def listed(values):
            return "; ".join(f"{c.quantity}: claimed {c.claimed!r}, measured {c.measured!r}" for c in values)

        reason = listed(checked)
        if verdict == REFUTED:  # the evidence leads with what decided: the values that are not as claimed
            reason = "not as claimed: " + listed(c for c in checked if not c.match)
            if any(c.match for c in checked):
                reason += "; as claimed: " + listed(c for c in checked if c.match)
        if self.context:
            reason += f"; {self.context(measured)}"
        return Outcome(verdict, reason, checked=checked, details={"measured": measured})


class NotJudged(Rule):
    """A claim measured but not judged: the quote asks rather than asserts (and no assertion it rests on is
    quoted from the thread), so there is nothing to support or refute. `rule` says what is measured; its
    comparisons are kept and shown as reported, and the label is MEASURED whatever they show."""

    def __init__(self, rule: Rule, why: str):
        self.rule, self.why = rule, why
        self.metrics, self.checks = rule.metrics, rule.checks

    def reads(self) -> list[tuple[str, str]]:
        return self.rule.reads()

    def describe(self) -> str:
        return f"Measured, not judged: {self.why}. What is measured: {self.rule.describe()}"

    def evaluate(self, evidence: Evidence) -> Outcome:
        measured = self.rule.evaluate(evidence)
        return replace(measured, verdict=MEASURED, qualifier="", reason=f"not judged ({self.why}); measured: "
                       f"{measured.reason}", comparisons=[_reported(c) for c in measured.comparisons])


class Custom(Rule):
    """A rule with its own logic, written in the experiment module: `evaluate(evidence) -> Outcome`.

    For claims none of the rules above expresses. `description` must state the thresholds as precisely
    as the built-in rules do; build the rule in a `cfg -> rule` function when they come from the config.
    """

    def __init__(self, evaluate: Callable[[Evidence], Outcome], description: str, metrics=(), checks=(), reads=()):
        self._evaluate, self.description = evaluate, description
        self.metrics, self.checks, self._reads = list(metrics), list(checks), list(reads)

    def reads(self) -> list[tuple[str, str]]:
        return self._reads

    def describe(self) -> str:
        return self.description

    def evaluate(self, evidence: Evidence) -> Outcome:
        return self._evaluate(evidence)
