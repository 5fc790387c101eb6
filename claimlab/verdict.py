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
  values, with a seed-bootstrap interval);
- Ranking: a claimed order, judged pair by adjacent pair;
- AllOf: supported if every part is, refuted if any part is, inconclusive otherwise; `also_report`
  adds comparisons that are shown but do not decide;
- Summarize: per-arm summaries of a metric, for `also_report`;
- Exact: a deterministic check against claimed values (equalities, or AtMost / Raised matchers);
- Custom: logic that none of the above expresses (it still returns the typed Outcome).

Every rule returns an `Outcome`: the verdict, a one-line reason, and typed evidence (ArmSummary,
Comparison, CheckedValue rows) that claimlab.report renders as tables and the runner logs as metrics.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
VERDICT_CODE = {SUPPORTED: 1, INCONCLUSIVE: 0, REFUTED: -1}  # numeric, for MLflow's compare view


# ---- evidence in, outcome out ---------------------------------------------------------------------
@dataclass
class Evidence:
    """What a rule may look at: the finished trials (a pandas DataFrame with one row per (arm, seed)
    and a column per final metric), the exact checks' measured values, and the resolved config."""

    trials: Any
    checks: dict[str, dict] = field(default_factory=dict)
    cfg: dict = field(default_factory=dict)

    def values(self, metric: str, arm: str):
        """Per-seed values of a metric for one arm, indexed by seed."""
        rows = self.trials[self.trials["arm"] == arm]
        if metric not in rows:
            raise KeyError(f"no trial reported the metric {metric!r}; reported: {sorted(self.trials.columns)}")
        return rows.set_index("seed")[metric].astype(float).sort_index()

    def paired(self, metric: str, arm: str, other: str):
        """Two aligned arrays over the seeds both arms finished."""
        a, b = self.values(metric, arm), self.values(metric, other)
        seeds = a.index.intersection(b.index)
        return a.loc[seeds].to_numpy(), b.loc[seeds].to_numpy()

    def seed_matrix(self, terms: Sequence[tuple[str, str]]):
        """(terms x seeds) values of each (metric, arm) over the seeds every term finished."""
        import numpy as np

        series = [self.values(metric, arm) for metric, arm in terms]
        seeds = sorted(set.intersection(*(set(s.index) for s in series)))
        return np.array([[float(s.loc[seed]) for seed in seeds] for s in series]).reshape(len(terms), len(seeds))

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


@dataclass
class Comparison:
    """A paired comparison: the mean of per-seed values d and its 95% CI; for an equivalence test also
    the margin and the 90% (TOST) interval. `state` says what the numbers show in words; `verdict` what
    the comparison alone would conclude; `judged` is False for comparisons that are reported only."""

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


@dataclass
class CheckedValue:
    """One quantity of an exact check: what the claim says, what was measured, whether they match."""

    quantity: str
    claimed: Any
    measured: Any
    match: bool


@dataclass
class Outcome:
    verdict: str
    reason: str  # one line, with the numbers that decided it
    arms: list[ArmSummary] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    checked: list[CheckedValue] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # anything else measured: summary.json only

    def headline(self) -> Comparison | None:
        """The comparison that decided the claim, when exactly one did."""
        judged = [c for c in self.comparisons if c.judged]
        return judged[0] if len(judged) == 1 else None

    def to_dict(self) -> dict:
        return {"arms": [asdict(a) for a in self.arms], "comparisons": [asdict(c) for c in self.comparisons],
                "checked": [asdict(c) for c in self.checked], "details": self.details}


def fmt(x: float | None) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:+.4f}"


def verdict_of_all(verdicts: Sequence[str]) -> str:
    """Supported if every part is supported; refuted if any part is refuted; else inconclusive."""
    if verdicts and all(v == SUPPORTED for v in verdicts):
        return SUPPORTED
    if REFUTED in verdicts:
        return REFUTED
    return INCONCLUSIVE


def arm_summaries(evidence: Evidence, metric: str, arms: Sequence[str]) -> list[ArmSummary]:
    from claimlab import stats

    present = evidence.arms_present()
    return [ArmSummary(metric, arm, **stats.describe(evidence.values(metric, arm).to_numpy()))
            for arm in arms if arm in present]


def side_of_zero(low: float, high: float) -> str:
    """Where a confidence interval lies: 'above', 'below', or 'straddles' zero (or unknown)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "unknown"
    if low > 0:
        return "above"
    if high < 0:
        return "below"
    return "straddles"


def _sign_verdict(low: float, high: float, n: int, claimed_side: str = "above", min_n: int = 2) -> str:
    side = side_of_zero(low, high)
    if n < min_n or side in ("straddles", "unknown"):
        return INCONCLUSIVE
    return SUPPORTED if side == claimed_side else REFUTED


class Rule:
    """The interface: describe() -> str, evaluate(evidence) -> Outcome, and the trial metrics it reads
    (plotted per arm in the report) and exact-check functions it needs run."""

    metrics: list[str] = []
    checks: list = []

    def describe(self) -> str:
        raise NotImplementedError

    def evaluate(self, evidence: Evidence) -> Outcome:
        raise NotImplementedError


def resolve_rule(rule, cfg: dict) -> Rule:
    """A claim's rule for one run: the rule itself, or what its factory builds from the run's config."""
    return rule if isinstance(rule, Rule) else rule(cfg)


# ---- comparisons paired by seed -------------------------------------------------------------------
class Contrast(Rule):
    """The per-seed value d = sum of coefficient x metric[arm] over `terms` (paired by seed); supported if
    the 95% CI of mean d lies wholly on `claimed_side` of 0 ('above' or 'below'), refuted if wholly on the
    other side, inconclusive otherwise. `meaning` says in words what d is."""

    def __init__(self, name: str, terms: Sequence[tuple[float, str, str]], meaning: str,
                 claimed_side: str = "above"):
        self.name, self.terms, self.meaning, self.claimed_side = name, list(terms), meaning, claimed_side
        self.metrics = list(dict.fromkeys(metric for _, metric, _ in self.terms))
        self.checks = []

    def describe(self) -> str:
        other = "below" if self.claimed_side == "above" else "above"
        return (f"Paired by seed, d = {self.meaning}. Supported if the 95% CI of mean d lies wholly "
                f"{self.claimed_side} 0, refuted if it lies wholly {other} 0, inconclusive otherwise.")

    def per_seed(self, evidence: Evidence):
        matrix = evidence.seed_matrix([(metric, arm) for _, metric, arm in self.terms])
        values = matrix[0] * self.terms[0][0]
        for (coefficient, _, _), row in zip(self.terms[1:], matrix[1:]):
            values = values + coefficient * row
        return values

    def compare(self, evidence: Evidence) -> Comparison:
        from claimlab import stats

        diff = stats.mean_with_interval(self.per_seed(evidence))
        verdict = _sign_verdict(diff["ci_low"], diff["ci_high"], diff["n"], self.claimed_side)
        state = {"above": "above 0", "below": "below 0"}.get(side_of_zero(diff["ci_low"], diff["ci_high"]),
                                                             "straddles 0")
        return Comparison(self.name, self.metrics[0], diff["mean"], diff["ci_low"], diff["ci_high"], diff["n"],
                          verdict, state, differences=diff["values"])

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = f"{self.name} = {fmt(c.mean)} [95% CI {fmt(c.ci_low)}, {fmt(c.ci_high)}], n={c.n} seeds"
        return Outcome(c.verdict, reason, comparisons=[c])


class Better(Rule):
    """Arm `arm` beats arm `than` on `metric`, paired by seed. With `equivalence_margin`, the claim is
    also refuted when the two are equivalent within +-margin (TOST): for claims that something matters,
    a difference too small to matter counts against them. The sign is checked first."""

    def __init__(self, metric: str, arm: str, than: str, higher_is_better: bool = True,
                 equivalence_margin: float | None = None):
        self.metric, self.arm, self.than, self.higher_is_better = metric, arm, than, higher_is_better
        self.equivalence_margin = equivalence_margin
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        direction = "higher" if self.higher_is_better else "lower"
        text = (f"Paired by seed, d = {self.metric}[{self.arm}] - {self.metric}[{self.than}] ({direction} is "
                f"better). Supported if the 95% CI of mean d lies wholly on the {self.arm} side of 0, refuted "
                f"if it lies wholly on the {self.than} side")
        if self.equivalence_margin is not None:
            text += (f", or if the 90% CI lies inside +-{self.equivalence_margin:g} (equivalent, TOST at alpha "
                     "0.05); inconclusive otherwise. Checked in that order: a significant difference smaller than "
                     "the margin still counts as supported.")
            return text
        return text + ", inconclusive otherwise."

    def compare(self, evidence: Evidence) -> Comparison:
        from claimlab import stats

        a, b = evidence.paired(self.metric, self.arm, self.than)
        diff = stats.paired_difference(a, b)
        claimed_side = "above" if self.higher_is_better else "below"
        verdict = _sign_verdict(diff["ci_low"], diff["ci_high"], diff["n"], claimed_side)
        state = {SUPPORTED: "better", REFUTED: "worse"}.get(verdict, "not significant")
        comparison = Comparison(f"{self.arm} - {self.than}", self.metric, diff["mean"], diff["ci_low"],
                                diff["ci_high"], diff["n"], verdict, state, differences=diff["differences"])
        if self.equivalence_margin is not None and diff["n"] >= 2:
            tost = stats.equivalence(a, b, self.equivalence_margin)
            comparison.margin = self.equivalence_margin
            comparison.tost_ci_low, comparison.tost_ci_high = tost["tost_ci_low"], tost["tost_ci_high"]
            if verdict == INCONCLUSIVE and tost["equivalent"]:
                comparison.verdict, comparison.state = REFUTED, "equivalent"
        return comparison

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = f"{self.metric}: {c.name} = {fmt(c.mean)} [95% CI {fmt(c.ci_low)}, {fmt(c.ci_high)}]"
        if c.margin is not None:
            reason += f", 90% CI [{fmt(c.tost_ci_low)}, {fmt(c.tost_ci_high)}] vs margin +-{c.margin:g}"
        reason += f", n={c.n} seeds"
        return Outcome(c.verdict, reason, arms=arm_summaries(evidence, self.metric, [self.arm, self.than]),
                       comparisons=[c])


class Equivalent(Rule):
    """Arm `arm` and arm `to` are equivalent on `metric` within +-margin (TOST, paired by seed).

    `censored_unless`: a 0/1 metric that must be 1 in every compared trial for the comparison to count
    (e.g. "reached the accuracy threshold": an epochs-to-threshold value of a run that never reached
    it is not a measurement)."""

    def __init__(self, metric: str, arm: str, to: str, margin: float, censored_unless: str | None = None):
        self.metric, self.arm, self.to, self.margin, self.censored_unless = metric, arm, to, margin, censored_unless
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        text = (f"Paired by seed, d = {self.metric}[{self.arm}] - {self.metric}[{self.to}]. Supported (equivalent) "
                f"if the 90% CI of mean d lies inside +-{self.margin:g} (TOST at alpha 0.05); refuted if the 95% "
                f"CI lies wholly outside +-{self.margin:g}; inconclusive otherwise.")
        if self.censored_unless:
            text += f" Compared only when {self.censored_unless} is 1 in every compared trial."
        return text

    def compare(self, evidence: Evidence) -> Comparison:
        from claimlab import stats

        a, b = evidence.paired(self.metric, self.arm, self.to)
        result = stats.equivalence(a, b, self.margin)
        censored = False
        if self.censored_unless:
            reached_a, reached_b = evidence.paired(self.censored_unless, self.arm, self.to)
            censored = not (reached_a.all() and reached_b.all())
        if censored:
            verdict, state = INCONCLUSIVE, "censored"
        elif result["n"] >= 2 and result["equivalent"]:
            verdict, state = SUPPORTED, "equivalent"
        elif result["n"] >= 2 and result["different"]:
            verdict, state = REFUTED, "different"
        else:
            verdict, state = INCONCLUSIVE, "undecided"
        return Comparison(f"{self.arm} - {self.to}", self.metric, result["mean"], result["ci_low"],
                          result["ci_high"], result["n"], verdict, state, margin=self.margin,
                          tost_ci_low=result["tost_ci_low"], tost_ci_high=result["tost_ci_high"],
                          differences=[float(x) for x in a - b])

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = (f"{self.metric}: {c.name} = {fmt(c.mean)} [90% CI {fmt(c.tost_ci_low)}, {fmt(c.tost_ci_high)}], "
                  f"margin +-{self.margin:g}, n={c.n} seeds" + (" (censored)" if c.state == "censored" else ""))
        return Outcome(c.verdict, reason, arms=arm_summaries(evidence, self.metric, [self.arm, self.to]),
                       comparisons=[c])


class SeedStatistic(Rule):
    """A statistic of several arms' per-seed values of one metric (`statistic(matrix)` on an arms x seeds
    matrix -> float), with a 95% interval from resampling the seeds jointly for every arm (which keeps
    the arms paired). Supported if the interval lies wholly above 0, refuted if wholly below, else
    inconclusive; with fewer than `min_seeds` seeds it decides nothing. `meaning` defines the statistic."""

    def __init__(self, name: str, metric: str, arms: Sequence[str], statistic: Callable, meaning: str,
                 min_seeds: int = 3):
        self.name, self.metric, self.arms, self.statistic = name, metric, list(arms), statistic
        self.meaning, self.min_seeds = meaning, min_seeds
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        return (f"{self.name} = {self.meaning}, on {self.metric}. 95% CI: BCa bootstrap over seeds (percentile "
                f"if BCa fails), seeds resampled jointly for all arms, {self.min_seeds}+ seeds needed. Supported "
                "if the CI lies above 0, refuted if below 0, inconclusive otherwise.")

    def compare(self, evidence: Evidence) -> Comparison:
        import numpy as np

        from claimlab import stats

        matrix = evidence.seed_matrix([(self.metric, arm) for arm in self.arms])
        n = matrix.shape[1]
        estimate = float(self.statistic(matrix)) if n else math.nan
        low = high = math.nan
        if n >= self.min_seeds and np.isfinite(matrix).all():
            low, high = stats.seed_bootstrap_interval(lambda seeds: self.statistic(matrix[:, seeds]), n)
        verdict = _sign_verdict(low, high, n, "above", self.min_seeds)
        state = {SUPPORTED: "above 0", REFUTED: "below 0"}.get(verdict, "undecided")
        return Comparison(self.name, self.metric, estimate, low, high, n, verdict, state)

    def evaluate(self, evidence: Evidence) -> Outcome:
        c = self.compare(evidence)
        reason = f"{self.name} ({self.metric}) = {fmt(c.mean)} [95% CI {fmt(c.ci_low)}, {fmt(c.ci_high)}], n={c.n} seeds"
        return Outcome(c.verdict, reason, comparisons=[c])


class Summarize(Rule):
    """Per-arm summaries of a metric, decided nothing: for AllOf's `also_report`."""

    def __init__(self, metric: str, arms: Sequence[str]):
        self.metric, self.arms = metric, list(arms)
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        return f"{self.metric} per arm ({', '.join(self.arms)})"

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


class AllOf(Rule):
    """Several rules that must all hold: supported if every part is supported, refuted if any part is
    refuted, inconclusive otherwise. `also_report` rules are evaluated and shown, never decide."""

    def __init__(self, *parts: Rule, also_report: Sequence[Rule] = (), label: str = ""):
        self.parts, self.also_report, self.label = list(parts), list(also_report), label
        self.metrics = list(dict.fromkeys(m for rule in self.parts + self.also_report for m in rule.metrics))
        self.checks = [check for rule in self.parts for check in rule.checks]

    def describe(self) -> str:
        parts = " ".join(f"({i}) {rule.describe()}" for i, rule in enumerate(self.parts, 1))
        text = (f"{self.label + ': ' if self.label else ''}{len(self.parts)} parts. {parts} Supported if every "
                "part is supported; refuted if any part is refuted; inconclusive otherwise.")
        if self.also_report:
            text += " Reported, not judged: " + "; ".join(rule.describe() for rule in self.also_report) + "."
        return text

    def evaluate(self, evidence: Evidence) -> Outcome:
        outcomes = [rule.evaluate(evidence) for rule in self.parts]
        reported = [rule.evaluate(evidence) for rule in self.also_report]
        verdict = verdict_of_all([o.verdict for o in outcomes])
        reason = "; ".join(o.reason for o in outcomes)
        if self.label:
            reason = f"{self.label}: {reason} ({verdict})"
        merged = _merge(outcomes)
        extra = _merge(reported, judged=False)
        return Outcome(verdict, reason, arms=merged["arms"] + [a for a in extra["arms"] if a not in merged["arms"]],
                       comparisons=merged["comparisons"] + extra["comparisons"],
                       checked=merged["checked"], details={"parts": [o.verdict for o in outcomes]})


class Ranking(Rule):
    """Arms rank in the claimed order on `metric`: each adjacent pair is judged with Better.

    Supported if every adjacent pair is significantly in the claimed order; refuted if any adjacent
    pair is significantly reversed; inconclusive otherwise.
    """

    def __init__(self, metric: str, order: Sequence[str], higher_is_better: bool = True, also_report=()):
        self.metric, self.order, self.higher_is_better = metric, list(order), higher_is_better
        self.also_report = list(also_report)
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        chain = " > ".join(self.order)
        return (
            f"Claimed order on {self.metric} ({'higher' if self.higher_is_better else 'lower'} is better): "
            f"{chain}. Each adjacent pair is compared paired by seed with a 95% CI of the mean difference. "
            "Supported if every adjacent pair is significantly in the claimed order; refuted if any adjacent "
            "pair is significantly reversed; inconclusive otherwise."
        )

    def evaluate(self, evidence: Evidence) -> Outcome:
        comparisons = [Better(self.metric, upper, lower, self.higher_is_better).compare(evidence)
                       for upper, lower in zip(self.order, self.order[1:])]
        verdict = verdict_of_all([c.verdict for c in comparisons])
        arms = arm_summaries(evidence, self.metric, self.order + self.also_report)

        def rank_key(arm):  # best first; arms with no finite mean (all diverged) last
            return math.inf if not math.isfinite(arm.mean) else (-arm.mean if self.higher_is_better else arm.mean)

        measured_order = [a.arm for a in sorted(arms, key=rank_key)]
        means = {a.arm: a.mean for a in arms}
        reason = f"measured order by mean {self.metric}: " + " > ".join(f"{a} {means[a]:.3f}" for a in measured_order)
        reversed_pairs = [c.name.replace(" - ", " vs ") for c in comparisons if c.verdict == REFUTED]
        if reversed_pairs:
            reason += "; significantly reversed: " + ", ".join(reversed_pairs)
        return Outcome(verdict, reason, arms=arms, comparisons=comparisons, details={"measured_order": measured_order})


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
    satisfy it when the claimed value is a matcher (AtMost, Raised)."""

    def __init__(self, check: Callable[[dict], dict], expect: dict, rel_tol: float = 0.0, abs_tol: float = 0.0,
                 note: str = "", context: Callable[[dict], str] | None = None):
        """`context(measured)` may add to the reason what else the check recorded, unjudged."""
        self.check, self.expect, self.rel_tol, self.abs_tol, self.note = check, dict(expect), rel_tol, abs_tol, note
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
        text = f"Exact check `{self.check.__name__}`: supported if {expected}{tolerance}; refuted otherwise."
        return f"{text} {self.note}".strip()

    def evaluate(self, evidence: Evidence) -> Outcome:
        measured = evidence.checks.get(self.check.__name__)
        failed = check_not_run(measured)
        if failed:
            return failed
        checked = [CheckedValue(key, claimed, measured.get(key),
                                _matches(claimed, measured.get(key), self.rel_tol, self.abs_tol))
                   for key, claimed in self.expect.items()]
        verdict = SUPPORTED if all(c.match for c in checked) else REFUTED
        reason = "; ".join(f"{c.quantity}: claimed {c.claimed!r}, measured {c.measured!r}" for c in checked)
        if self.context:
            reason += f"; {self.context(measured)}"
        return Outcome(verdict, reason, checked=checked, details={"measured": measured})


class Custom(Rule):
    """A rule with its own logic, written in the experiment module: `evaluate(evidence) -> Outcome`.

    For claims none of the rules above expresses. `description` must state the thresholds as precisely
    as the built-in rules do; build the rule in a `cfg -> rule` function when they come from the config.
    """

    def __init__(self, evaluate: Callable[[Evidence], Outcome], description: str, metrics=(), checks=()):
        self._evaluate, self.description = evaluate, description
        self.metrics, self.checks = list(metrics), list(checks)

    def describe(self) -> str:
        return self.description

    def evaluate(self, evidence: Evidence) -> Outcome:
        return self._evaluate(evidence)
