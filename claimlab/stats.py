"""Small pure statistics functions, each with a plain data contract (rliable-style).

Inputs are 1-D sequences of per-seed values; outputs are plain dicts of floats so they can go
straight into summary.json. scipy does the work; nothing here is hand-rolled inference.

Why two kinds of interval: a per-arm interval is the classic Student-t interval of the mean (it is
honest at n = 5, where a bootstrap of the mean is too narrow). The paired difference between two arms
uses scipy's BCa bootstrap, as DESIGN.md asks, with a fixed resampling seed so a verdict never
changes between two reads of the same trials; with fewer than 8 seeds we take the wider of the
bootstrap and the t interval, because the bootstrap under-covers on very small samples.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 20261125
SMALL_SAMPLE = 8


def _finite(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t confidence interval of the mean; (nan, nan) with fewer than two finite values."""
    from scipy import stats

    x = _finite(values)
    if len(x) < 2:
        return (math.nan, math.nan)
    mean, sem = float(x.mean()), float(stats.sem(x))
    if sem == 0.0:
        return (mean, mean)
    low, high = stats.t.interval(confidence, len(x) - 1, loc=mean, scale=sem)
    return (float(low), float(high))


def bootstrap_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """BCa bootstrap interval of the mean (scipy.stats.bootstrap), seeded for reproducible verdicts."""
    x = _finite(values)
    if len(x) < 2:
        return (math.nan, math.nan)
    if np.all(x == x[0]):  # the bootstrap distribution is a single point: so is the interval
        return (float(x[0]), float(x[0]))
    low, high = _bootstrap(x, confidence, "BCa")
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa can fail on tiny samples
        low, high = _bootstrap(x, confidence, "percentile")
    return (low, high)


def _bootstrap(x: np.ndarray, confidence: float, method: str) -> tuple[float, float]:
    return _scipy_bootstrap((x,), np.mean, confidence, method, vectorized=None)


def _scipy_bootstrap(data: tuple, statistic, confidence: float, method: str, vectorized) -> tuple[float, float]:
    from scipy import stats

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # scipy warns on degenerate resamples; the callers' fallback handles them
        result = stats.bootstrap(data, statistic, vectorized=vectorized, confidence_level=confidence,
                                 n_resamples=BOOTSTRAP_RESAMPLES, method=method,
                                 rng=np.random.default_rng(BOOTSTRAP_SEED))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def seed_bootstrap_interval(statistic, n_seeds: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval of `statistic(seed_indices)` over resamples of the seeds: BCa, percentile where BCa fails.

    For statistics of several arms at once (a spread across arms, a difference of differences): the
    seeds are resampled jointly for every arm, which keeps the arms paired.
    """
    positions = np.arange(n_seeds, dtype=float)

    def of_positions(resampled):
        return statistic(resampled.astype(int))

    low, high = _scipy_bootstrap((positions,), of_positions, confidence, "BCa", vectorized=False)
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = _scipy_bootstrap((positions,), of_positions, confidence, "percentile", vectorized=False)
    return (low, high)


def describe(values: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Per-arm summary: n, mean, std (ddof=1), a t interval of the mean, and how many were not finite."""
    raw = np.asarray(values, dtype=float).ravel()
    x = _finite(raw)
    low, high = t_interval(x, confidence)
    return {
        "n": int(len(x)),
        "mean": float(x.mean()) if len(x) else math.nan,
        "std": float(x.std(ddof=1)) if len(x) > 1 else math.nan,
        "ci_low": low,
        "ci_high": high,
        "not_finite": int(len(raw) - len(x)),
    }


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The interval used for decisions: bootstrap, widened to the t interval on small samples."""
    x = _finite(values)
    low, high = bootstrap_interval(x, confidence)
    if len(x) < SMALL_SAMPLE:
        t_low, t_high = t_interval(x, confidence)
        if math.isfinite(t_low):
            low, high = min(low, t_low), max(high, t_high)
    return (low, high)


def mean_with_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Mean of per-seed values (a paired difference, a contrast) with the decision interval."""
    raw = np.asarray(values, dtype=float).ravel()
    x = _finite(raw)
    low, high = mean_interval(x, confidence)
    return {
        "n": int(len(x)),
        "mean": float(x.mean()) if len(x) else math.nan,
        "ci_low": low,
        "ci_high": high,
        "confidence": confidence,
        "values": [float(d) for d in raw],
    }


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Mean of a - b over paired seeds, with its confidence interval. a and b must be aligned by seed."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference needs aligned samples, got {a.shape} and {b.shape}")
    result = mean_with_interval(a - b, confidence)
    result["differences"] = result.pop("values")
    return result


def equivalence(a: Sequence[float], b: Sequence[float], margin: float, alpha: float = 0.05) -> dict:
    """TOST-style equivalence of two paired samples within +-margin.

    Equivalent when the (1 - 2 alpha) interval of the mean difference lies inside (-margin, margin);
    shown different when the (1 - alpha) interval lies wholly outside it. Neither: undecided.
    """
    if margin <= 0:
        raise ValueError("an equivalence margin must be positive")
    narrow = paired_difference(a, b, confidence=1 - 2 * alpha)
    wide = paired_difference(a, b, confidence=1 - alpha)
    equivalent = -margin < narrow["ci_low"] and narrow["ci_high"] < margin
    different = wide["ci_low"] > margin or wide["ci_high"] < -margin
    return {
        "n": narrow["n"],
        "mean": narrow["mean"],
        "margin": margin,
        "tost_ci_low": narrow["ci_low"],
        "tost_ci_high": narrow["ci_high"],
        "ci_low": wide["ci_low"],
        "ci_high": wide["ci_high"],
        "equivalent": bool(equivalent),
        "different": bool(different),
    }
