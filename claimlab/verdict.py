"""Decision rules: each turns the evidence of a run into supported / refuted / inconclusive.

A rule is declared next to its claim, in the experiment module, before any trial runs. Its
`describe()` text is written into MLflow and summary.json with the result, so a reader can check that
the verdict follows from the rule and the numbers. The rules know nothing about any one claim.

Every rule has:
- describe() -> str            the rule in words, with its thresholds;
- evaluate(evidence) -> Outcome;
- metrics                      the trial metrics it reads (plotted per arm in the report);
- checks                       exact-check functions it needs run (their results land in evidence.checks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"


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


@dataclass
class Outcome:
    verdict: str
    reason: str  # one line, with the numbers that decided it
    measured: dict = field(default_factory=dict)


def _fmt(x: float) -> str:
    return "nan" if x is None or not math.isfinite(x) else f"{x:+.4f}"


def arm_summaries(evidence: Evidence, metric: str, arms: Sequence[str]) -> dict:
    from claimlab import stats

    return {arm: stats.describe(evidence.values(metric, arm).to_numpy()) for arm in arms}


def side_of_zero(low: float, high: float) -> str:
    """Where a confidence interval lies: 'above', 'below', or 'straddles' zero (or unknown)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "unknown"
    if low > 0:
        return "above"
    if high < 0:
        return "below"
    return "straddles"


class Better:
    """Arm `arm` beats arm `than` on `metric`, paired by seed."""

    def __init__(self, metric: str, arm: str, than: str, higher_is_better: bool = True):
        self.metric, self.arm, self.than, self.higher_is_better = metric, arm, than, higher_is_better
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        direction = "higher" if self.higher_is_better else "lower"
        return (
            f"Paired by seed, d = {self.metric}[{self.arm}] - {self.metric}[{self.than}] ({direction} is "
            f"better). Supported if the 95% CI of mean d lies wholly on the {self.arm} side of 0, refuted "
            f"if it lies wholly on the {self.than} side, inconclusive otherwise."
        )

    def compare(self, evidence: Evidence) -> tuple[str, dict]:
        from claimlab import stats

        a, b = evidence.paired(self.metric, self.arm, self.than)
        diff = stats.paired_difference(a, b)
        side = side_of_zero(diff["ci_low"], diff["ci_high"])
        claimed_side = "above" if self.higher_is_better else "below"
        if diff["n"] < 2 or side in ("straddles", "unknown"):
            verdict = INCONCLUSIVE
        else:
            verdict = SUPPORTED if side == claimed_side else REFUTED
        return verdict, diff

    def evaluate(self, evidence: Evidence) -> Outcome:
        verdict, diff = self.compare(evidence)
        reason = (
            f"{self.metric}: {self.arm} - {self.than} = {_fmt(diff['mean'])} "
            f"[95% CI {_fmt(diff['ci_low'])}, {_fmt(diff['ci_high'])}], n={diff['n']} seeds"
        )
        measured = {"difference": diff, "arms": arm_summaries(evidence, self.metric, [self.arm, self.than])}
        return Outcome(verdict, reason, measured)


class Ranking:
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
        pairs, verdicts = {}, []
        for upper, lower in zip(self.order, self.order[1:]):
            verdict, diff = Better(self.metric, upper, lower, self.higher_is_better).compare(evidence)
            pairs[f"{upper} vs {lower}"] = {"verdict": verdict, **diff}
            verdicts.append(verdict)
        if verdicts and all(v == SUPPORTED for v in verdicts):
            verdict = SUPPORTED
        elif REFUTED in verdicts:
            verdict = REFUTED
        else:
            verdict = INCONCLUSIVE
        arms = arm_summaries(evidence, self.metric, self.order + self.also_report)
        def rank_key(arm):  # best first; arms with no finite mean (all diverged) last
            mean = arms[arm]["mean"]
            if not math.isfinite(mean):
                return math.inf
            return -mean if self.higher_is_better else mean

        measured_order = sorted(arms, key=rank_key)
        reversed_pairs = [name for name, p in pairs.items() if p["verdict"] == REFUTED]
        reason = f"measured order by mean {self.metric}: " + " > ".join(
            f"{arm} {arms[arm]['mean']:.3f}" for arm in measured_order
        )
        if reversed_pairs:
            reason += "; significantly reversed: " + ", ".join(reversed_pairs)
        return Outcome(verdict, reason, {"pairs": pairs, "arms": arms, "measured_order": measured_order})


class Equivalent:
    """Arm `arm` and arm `to` are equivalent on `metric` within +-margin (TOST, paired by seed)."""

    def __init__(self, metric: str, arm: str, to: str, margin: float):
        self.metric, self.arm, self.to, self.margin = metric, arm, to, margin
        self.metrics, self.checks = [metric], []

    def describe(self) -> str:
        return (
            f"Paired by seed, d = {self.metric}[{self.arm}] - {self.metric}[{self.to}]. Supported (equivalent) "
            f"if the 90% CI of mean d lies inside +-{self.margin} (TOST at alpha 0.05); refuted if the 95% "
            f"CI lies wholly outside +-{self.margin}; inconclusive otherwise."
        )

    def evaluate(self, evidence: Evidence) -> Outcome:
        from claimlab import stats

        a, b = evidence.paired(self.metric, self.arm, self.to)
        result = stats.equivalence(a, b, self.margin)
        if result["n"] >= 2 and result["equivalent"]:
            verdict = SUPPORTED
        elif result["n"] >= 2 and result["different"]:
            verdict = REFUTED
        else:
            verdict = INCONCLUSIVE
        reason = (
            f"{self.metric}: {self.arm} - {self.to} = {_fmt(result['mean'])} [90% CI {_fmt(result['tost_ci_low'])}, "
            f"{_fmt(result['tost_ci_high'])}], margin +-{self.margin}, n={result['n']} seeds"
        )
        return Outcome(verdict, reason, {"equivalence": result,
                                         "arms": arm_summaries(evidence, self.metric, [self.arm, self.to])})


def _matches(claimed, measured, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(claimed, bool) or isinstance(measured, bool):
        return claimed == measured
    if isinstance(claimed, (int, float)) and isinstance(measured, (int, float)):
        return math.isclose(measured, claimed, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(claimed, (list, tuple)) and isinstance(measured, (list, tuple)):
        return len(claimed) == len(measured) and all(
            _matches(c, m, rel_tol, abs_tol) for c, m in zip(claimed, measured)
        )
    return claimed == measured


class Exact:
    """A deterministic fact: `check(cfg)` builds real Keras/TF objects and returns measured values;
    each value named in `expect` must equal the claimed one (numbers within rel_tol / abs_tol)."""

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
        expected = ", ".join(f"{key} = {value!r}" for key, value in self.expect.items())
        text = f"Exact check `{self.check.__name__}`: supported if {expected}{tolerance}; refuted otherwise."
        return f"{text} {self.note}".strip()

    def evaluate(self, evidence: Evidence) -> Outcome:
        measured = evidence.checks.get(self.check.__name__)
        if measured is None or "error" in measured:
            error = (measured or {}).get("error", "the check did not run")
            return Outcome(INCONCLUSIVE, f"check failed: {error}", {"measured": measured})
        comparisons = {
            key: {"claimed": claimed, "measured": measured.get(key),
                  "match": _matches(claimed, measured.get(key), self.rel_tol, self.abs_tol)}
            for key, claimed in self.expect.items()
        }
        verdict = SUPPORTED if all(c["match"] for c in comparisons.values()) else REFUTED
        reason = "; ".join(
            f"{key}: claimed {c['claimed']!r}, measured {c['measured']!r}" for key, c in comparisons.items()
        )
        if self.context:
            reason += f"; {self.context(measured)}"
        return Outcome(verdict, reason, {"comparisons": comparisons, "measured": measured})


class Custom:
    """A rule with its own logic, written in the experiment module: `evaluate(evidence) -> Outcome`.

    For claims no generic rule fits (spreads across many arms, a mix of exact and empirical parts).
    `description` must state the thresholds as precisely as the built-in rules do.
    """

    def __init__(self, evaluate: Callable[[Evidence], Outcome], description: str, metrics=(), checks=()):
        self._evaluate, self.description = evaluate, description
        self.metrics, self.checks = list(metrics), list(checks)

    def describe(self) -> str:
        return self.description

    def evaluate(self, evidence: Evidence) -> Outcome:
        return self._evaluate(evidence)
