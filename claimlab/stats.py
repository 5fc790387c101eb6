"""Small pure statistics functions, each with a plain data contract (rliable-style).

Inputs are 1-D sequences of per-seed values (or a statistic of a seeds axis); outputs are plain dicts
of floats so they can go straight into summary.json. scipy does the distributions.

Which interval, and why: every decision interval is a Student-t interval of the mean of per-seed
values (for two arms, of their paired differences: the paired t interval). Its coverage is checked by
simulation in tests/test_coverage.py at every seed count the lab uses (3 to 30): about 0.95 for normal
and quantised differences and at least 0.93 for moderately skewed ones (gamma, skewness 1). The BCa
bootstrap this module used before covered only about 0.90 at 10 seeds (the full profile) and is
worse below; with 5 seeds it has 126 distinct resamples. A statistic that is not a mean (a spread
across arms) gets the same t interval around a jackknife standard error over seeds, which is the
paired t interval exactly when the statistic is a mean.

A floor on evidence: fewer than MIN_SEEDS finite values decide nothing (an interval of width 0 from two
tied seeds is not certainty). Identical values over at least MIN_SEEDS seeds are a measured constant,
which claimlab.verdict.decide judges by its value.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
MIN_SEEDS = 3  # finite (paired) seeds below which a comparison decides nothing: t at 1 df is not evidence
INTERVAL_METHOD = "paired t interval"
SEED_STATISTIC_METHOD = "t interval around the jackknife standard error over seeds"
FAMILY_METHOD = "Holm"


def _finite(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def _t():
    from scipy import stats

    return stats.t


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t confidence interval of the mean; (nan, nan) with fewer than two finite values."""
    test = mean_test(values, confidence)
    return (test["ci_low"], test["ci_high"])


def interval_around(estimate: float, se: float, df: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """estimate +- t(df) quantile x se; a point when se is 0, (nan, nan) when it is not finite."""
    if df < 1 or not (math.isfinite(estimate) and math.isfinite(se)):
        return (math.nan, math.nan)
    half = float(_t().ppf(0.5 + confidence / 2, df)) * se
    return (estimate - half, estimate + half)


def two_sided_p(estimate: float, se: float, df: int, null: float = 0.0) -> float:
    """p-value of the t test of `estimate` against `null`; nan when there is no spread to test with."""
    if df < 1 or not (se > 0 and math.isfinite(se) and math.isfinite(estimate)):
        return math.nan
    return float(2 * _t().sf(abs(estimate - null) / se, df))


def t_intervals(samples: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """The decision interval, row by row: the t interval of the mean of each row of a (samples x seeds)
    array of finite values. mean_test uses it for one row; tests/test_coverage.py for 100,000 at once."""
    samples = np.atleast_2d(np.asarray(samples, dtype=float))
    n = samples.shape[1]
    if n < 2:
        nan = np.full(samples.shape[0], math.nan)
        return nan, nan
    mean = samples.mean(axis=1)
    half = float(_t().ppf(0.5 + confidence / 2, n - 1)) * samples.std(axis=1, ddof=1) / math.sqrt(n)
    return mean - half, mean + half


def mean_test(values: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Mean of per-seed values (a paired difference, a contrast): its t interval, standard error, degrees
    of freedom and the two-sided p-value against 0. Non-finite values are left out (and counted)."""
    raw = np.asarray(values, dtype=float).ravel()
    x = _finite(raw)
    n = len(x)
    mean = float(x.mean()) if n else math.nan
    sd = float(x.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    low, high = (float(bound[0]) for bound in t_intervals(x[None, :], confidence))
    return {"n": n, "mean": mean, "sd": sd, "se": se, "df": n - 1, "ci_low": low, "ci_high": high,
            "p_value": two_sided_p(mean, se, n - 1), "confidence": confidence,
            "not_finite": int(len(raw) - n), "values": [float(v) for v in raw]}


def paired_difference(a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """mean_test of a - b over paired seeds. a and b must be aligned by seed."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference needs aligned samples, got {a.shape} and {b.shape}")
    result = mean_test(a - b, confidence)
    result["differences"] = result.pop("values")
    return result


def equivalence(a: Sequence[float], b: Sequence[float], margin: float, alpha: float = ALPHA) -> dict:
    """TOST equivalence of two paired samples within +-margin, on the paired t distribution.

    Equivalent when both one-sided tests reject (p_equivalent < alpha), which is the (1 - 2 alpha)
    interval lying inside (-margin, margin); shown different when the (1 - alpha) interval lies wholly
    outside it (p_different < alpha). Neither: undecided.
    """
    diff = paired_difference(a, b, confidence=1 - alpha)
    mean, se, df = diff["mean"], diff["se"], diff["df"]
    p_different = math.nan
    if df >= 1 and se > 0:
        nearest = margin if mean > 0 else -margin
        p_different = two_sided_p(mean, se, df, null=nearest) if abs(mean) > margin else 1.0
    return {**diff, **tost(mean, se, df, margin, alpha), "p_different": p_different,
            "different": bool(p_different < alpha)}


def tost(mean: float, se: float, df: int, margin: float, alpha: float = ALPHA) -> dict:
    """Two one-sided tests of |mean| < margin from an estimate, its standard error and degrees of freedom:
    the (1 - 2 alpha) interval, the TOST p-value (the larger one-sided p) and whether it is equivalent. An
    estimate without spread (se 0: identical values) is equivalent exactly when it lies inside the margin."""
    if margin <= 0:
        raise ValueError("an equivalence margin must be positive")
    tost_low, tost_high = interval_around(mean, se, df, 1 - 2 * alpha)
    p_equivalent = math.nan
    if df >= 1 and se > 0:
        t = _t()
        p_equivalent = float(max(t.sf((mean + margin) / se, df), t.cdf((mean - margin) / se, df)))
    elif df >= 1 and se == 0 and math.isfinite(mean):
        p_equivalent = 0.0 if abs(mean) < margin else 1.0
    return {"margin": margin, "tost_ci_low": tost_low, "tost_ci_high": tost_high, "p_equivalent": p_equivalent,
            "equivalent": bool(p_equivalent < alpha)}


def jackknife_test(statistic: Callable[[np.ndarray], float], n_seeds: int, confidence: float = CONFIDENCE) -> dict:
    """A statistic of several arms' seeds (`statistic(seed_indices)`), with a t interval (n - 1 df) around
    its jackknife standard error: each seed left out in turn, from every arm at once, so the arms stay
    paired. For a mean this is exactly the paired t interval; tests/test_coverage.py checks a spread."""
    seeds = np.arange(n_seeds)
    estimate = float(statistic(seeds)) if n_seeds else math.nan
    se = math.nan
    if n_seeds >= 2:
        left_out = np.array([float(statistic(np.delete(seeds, i))) for i in range(n_seeds)])
        # A statistic that is infinite on some left-out sample (a ratio over a gain of 0) has no jackknife
        # spread: se is nan, which the tests downstream read as "cannot decide"; numpy need not warn of it.
        with np.errstate(invalid="ignore"):
            se = float(math.sqrt((n_seeds - 1) / n_seeds * ((left_out - left_out.mean()) ** 2).sum()))
    low, high = interval_around(estimate, se, n_seeds - 1, confidence)
    return {"n": n_seeds, "mean": estimate, "se": se, "sd": se * math.sqrt(n_seeds) if n_seeds else math.nan,
            "df": n_seeds - 1, "ci_low": low, "ci_high": high, "p_value": two_sided_p(estimate, se, n_seeds - 1),
            "confidence": confidence}


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control for any one of k tests); a nan
    p-value (a test that could not be run) counts as 1."""
    p = np.array([1.0 if not math.isfinite(v) else v for v in p_values], dtype=float)
    k = len(p)
    adjusted = np.empty(k)
    running = 0.0
    for rank, index in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (k - rank) * p[index]))
        adjusted[index] = running
    return [float(v) for v in adjusted]


def describe(values: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """Per-arm summary: n, mean, std (ddof=1), a t interval of the mean, and how many were not finite."""
    test = mean_test(values, confidence)
    return {"n": test["n"], "mean": test["mean"], "std": test["sd"], "ci_low": test["ci_low"],
            "ci_high": test["ci_high"], "not_finite": test["not_finite"]}


# ---- how many seeds a comparison would need -----------------------------------------------------
POWER = 0.8  # the conventional target power for "seeds needed"
MAX_SEEDS_NEEDED = 100_000  # beyond this, "seeds needed" is reported as not reachable


def _smallest_n(enough: Callable[[int], bool]) -> int | None:
    """The smallest n >= MIN_SEEDS with enough(n), for a condition that stays true once it holds
    (doubling, then bisection); None when even MAX_SEEDS_NEEDED is not enough."""
    if not enough(MAX_SEEDS_NEEDED):
        return None
    low, high = MIN_SEEDS, MIN_SEEDS
    while not enough(high):
        low, high = high + 1, min(2 * high, MAX_SEEDS_NEEDED)
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle + 1, high)
    return low


def paired_t_power(effect: float, sd: float, n: int, alpha: float = ALPHA) -> float:
    """The power of a two-sided paired t test at alpha with n seeds, when the true mean difference is
    `effect` and the per-seed differences have standard deviation `sd` (noncentral t)."""
    from scipy import stats

    df = n - 1
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    shift = abs(effect) / sd * math.sqrt(n)
    power = float(stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift))
    if not math.isfinite(power):
        # scipy's noncentral t returns nan at large noncentrality (around 35 and beyond), where it is a
        # normal shifted by `shift` to within 1e-4 at these df: the two tails of that normal.
        power = float(stats.norm.sf(critical - shift) + stats.norm.cdf(-critical - shift))
    return power


def seeds_for_power(effect: float, sd: float, power: float = POWER, alpha: float = ALPHA) -> int | None:
    """Seeds a paired t test needs for `power` at alpha when the true effect and spread are the observed
    ones; None when the observed effect is 0 or not finite (no number of seeds detects it)."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or effect == 0 or sd <= 0:
        return None
    return _smallest_n(lambda n: paired_t_power(effect, sd, n, alpha) >= power)


def equivalence_power(mean: float, sd: float, n: int, margin: float, alpha: float = ALPHA) -> float:
    """The power of TOST at alpha (its (1 - 2 alpha) interval inside +-margin) with n seeds, when the true
    mean difference is `mean` and the per-seed differences have standard deviation `sd`: the chance that
    both one-sided t tests reject, from the two noncentral t statistics (the standard approximation, which
    ignores that they share one estimate of sd; exact as n grows)."""
    from scipy import stats

    if abs(mean) >= margin:
        return 0.0
    df, root = n - 1, math.sqrt(n)
    critical = float(stats.t.ppf(1 - alpha, df))
    upper = float(stats.nct.sf(critical, df, (mean + margin) / sd * root))  # d > -margin shown
    lower = float(stats.nct.cdf(-critical, df, (mean - margin) / sd * root))  # d < +margin shown
    if not (math.isfinite(upper) and math.isfinite(lower)):  # large noncentrality: see paired_t_power
        upper = float(stats.norm.sf(critical - (mean + margin) / sd * root))
        lower = float(stats.norm.cdf(-critical - (mean - margin) / sd * root))
    return max(0.0, upper + lower - 1.0)


def seeds_for_equivalence(mean: float, sd: float, margin: float, power: float = POWER,
                          alpha: float = ALPHA) -> int | None:
    """Seeds for `power` (80%) that TOST shows the mean difference inside +-margin, when the true mean and
    spread are `mean` and `sd`; None when the mean is not inside the margin (no number of seeds shows it)."""
    if not (math.isfinite(mean) and math.isfinite(sd)) or abs(mean) >= margin or sd < 0:
        return None
    if sd == 0:
        return MIN_SEEDS
    return _smallest_n(lambda n: equivalence_power(mean, sd, n, margin, alpha) >= power)


# ---- two stages: the planned seeds, then more seeds for a comparison they leave undecided ----------
# A group-sequential design with two looks (issue 27): the planned seeds decide at FIRST_STAGE_ALPHA, and a
# comparison still undecided gets a second stage of seeds, decided at the error that remains, so that over
# both stages a false decision has probability at most ALPHA. The second stage is judged by the inverse-normal
# combination of the two stages' p-values with fixed, equal weights (Lehmacher & Wassmer 1999): under the
# null the second stage's p-value is uniform whatever number of seeds the first stage chose for it, so the
# error rates hold exactly for normal per-seed values (tests/test_two_stage.py measures them as run).
FIRST_STAGE_ALPHA = 0.04  # most of the error goes to the planned seeds, which decide most comparisons
STAGE_WEIGHTS = (math.sqrt(0.5), math.sqrt(0.5))
TWO_STAGE_METHOD = (f"two stages: the planned seeds decide at alpha {FIRST_STAGE_ALPHA:g}; an undecided comparison "
                    f"gets the seeds its 80% power at the smallest effect of interest needs, decided by the "
                    f"inverse-normal combination of the two stages' t tests (equal weights) at the boundary that "
                    f"keeps alpha {ALPHA:g} over both stages")


def _second_stage_error(first: float, second: float, two_sided: bool) -> float:
    """P(the first stage does not reject, the combination does) under the null: Z1 inside `first`, the
    combination w1 Z1 + w2 Z2 beyond `second` (both sides when two_sided)."""
    from scipy import integrate, special

    w1, w2 = STAGE_WEIGHTS

    def beyond(z1):
        tails = special.ndtr((w1 * z1 - second) / w2) + (special.ndtr((-second - w1 * z1) / w2) if two_sided else 0.0)
        return math.exp(-z1 * z1 / 2) / math.sqrt(2 * math.pi) * tails

    return float(integrate.quad(beyond, -first if two_sided else -math.inf, first, epsabs=1e-12)[0])


_BOUNDARIES: dict = {}


def two_stage_boundaries(two_sided: bool) -> tuple[float, float]:
    """The normal critical values (first stage, second stage) of the two-stage design: two-sided for a
    confidence interval, one-sided for each of TOST's two tests."""
    if two_sided not in _BOUNDARIES:
        from scipy import optimize

        from scipy import special

        first = float(-special.ndtri(FIRST_STAGE_ALPHA / (2 if two_sided else 1)))
        second = optimize.brentq(lambda c: _second_stage_error(first, c, two_sided) - (ALPHA - FIRST_STAGE_ALPHA),
                                 0.0, 10.0, xtol=1e-10)
        _BOUNDARIES[two_sided] = (first, float(second))
    return _BOUNDARIES[two_sided]


def _stage_z(test: dict, theta):
    """A stage's one-sided evidence against `theta` on the normal scale: Phi^-1 of its t test's p-value, exact
    in both tails (a stage without spread is certain: +-inf)."""
    from scipy import special

    x = np.asarray((test["mean"] - np.asarray(theta, dtype=float)) / test["se"]) if test["se"] > 0 else (
        np.sign(test["mean"] - np.asarray(theta, dtype=float)) * math.inf)
    return -np.sign(x) * special.ndtri(special.stdtr(test["df"], -np.abs(x)))


def _combined_z(first: dict, second: dict, theta):
    w1, w2 = STAGE_WEIGHTS
    return w1 * _stage_z(first, theta) + w2 * _stage_z(second, theta)


def _where_combined_is(first: dict, second: dict, level: float) -> float:
    """The theta at which the combined z equals `level` (it falls as theta grows)."""
    from scipy import optimize

    centre = (first["mean"] + second["mean"]) / 2
    reach = 10 * (abs(first["mean"] - second["mean"]) + first["se"] + second["se"]) + 1e-12
    low, high = centre - reach, centre + reach
    while _combined_z(first, second, low) < level:
        low -= reach
    while _combined_z(first, second, high) > level:
        high += reach
    return float(optimize.brentq(lambda theta: float(_combined_z(first, second, theta)) - level, low, high,
                                 xtol=1e-14 * max(1.0, abs(centre))))


def stagewise_p(z: float, two_sided: bool) -> float:
    """The p-value of a second-stage result whose combined z is `z`, over the whole design (the stage-wise
    ordering): below alpha exactly when the second stage rejects, and never below the first stage's alpha."""
    first, _ = two_stage_boundaries(two_sided)
    strength = abs(z) if two_sided else z
    return float(min(1.0, FIRST_STAGE_ALPHA + _second_stage_error(first, strength, two_sided)))


def two_stage_test(first: dict, second: dict, margin: float | None = None) -> dict:
    """A comparison decided over two stages of seeds, from each stage's test (mean, se, df and values as
    `mean_test` gives them): the 95% repeated confidence interval of the combination test, its estimate
    (the effect at which the combination is 0: median-unbiased) and its stage-wise p-value against 0; with a
    margin, TOST's interval at the one-sided boundary and whether it lies inside +-margin. A dict like
    mean_test's, with `stages` (finite seeds in each) and the TOST numbers included."""
    two, one = two_stage_boundaries(True)[1], two_stage_boundaries(False)[1]
    n = first["n"] + second["n"]
    low, high = _where_combined_is(first, second, two), _where_combined_is(first, second, -two)
    estimate = _where_combined_is(first, second, 0.0)
    se = (high - low) / (2 * two)  # the standard error the interval implies (for the meta-analysis)
    test = {"n": n, "mean": estimate, "se": se, "sd": se * math.sqrt(n), "df": n - 2, "ci_low": low,
            "ci_high": high, "p_value": stagewise_p(float(_combined_z(first, second, 0.0)), True),
            "confidence": CONFIDENCE, "stages": [first["n"], second["n"]], "not_finite": first.get("not_finite", 0)
            + second.get("not_finite", 0)}
    # both stages' per-seed values, under the stages' own key (paired_difference names them "differences")
    per_seed = "differences" if "differences" in first else "values"
    test[per_seed] = list(first.get(per_seed, [])) + list(second.get(per_seed, []))
    if margin is not None:
        tost_low, tost_high = _where_combined_is(first, second, one), _where_combined_is(first, second, -one)
        p_equivalent = max(stagewise_p(-float(_combined_z(first, second, margin)), False),
                           stagewise_p(float(_combined_z(first, second, -margin)), False))
        test.update({"margin": margin, "tost_ci_low": tost_low, "tost_ci_high": tost_high,
                     "p_equivalent": p_equivalent, "equivalent": bool(-margin < tost_low and tost_high < margin)})
    return test


def seeds_for_decision(sd: float, smallest_effect: float, margin: float | None) -> int | None:
    """Seeds a comparison needs to be decided with 80% power when the true effect is the declared smallest
    effect of interest (its sign shown) or 0 (negligible shown, with a margin): the larger of the two counts,
    with the spread `sd` the first stage measured. None when no number of seeds reaches it."""
    counts = [seeds_for_power(smallest_effect, sd)]
    if margin is not None:
        counts.append(seeds_for_equivalence(0.0, sd, margin))
    return None if any(count is None for count in counts) else max(counts)


# ---- settings combined: a random-effects meta-analysis ----------------------------------------------
META_METHOD = ("random-effects meta-analysis (statsmodels' combine_effects: Paule-Mandel tau^2, the modified "
               "Hartung-Knapp standard error with a t interval on k - 1 df)")


def meta_analysis(effects: Sequence[float], ses: Sequence[float], confidence: float = CONFIDENCE) -> dict:
    """One comparison's effects in k settings, each with its standard error, combined: the pooled effect
    with its Hartung-Knapp interval (which k = 3-6 settings need: the normal interval is too narrow), tau^2
    (the between-settings variance), I^2, Cochran's Q with its heterogeneity p-value, and the 95%
    prediction interval of the effect in a new setting (Higgins et al.: t on k - 2 df)."""
    import warnings

    from scipy import stats as scipy_stats
    from statsmodels.stats.meta_analysis import combine_effects

    effects, ses = np.asarray(effects, dtype=float), np.asarray(ses, dtype=float)
    k = len(effects)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # combine_effects warns that per-setting intervals use the normal
        result = combine_effects(effects, ses ** 2, method_re="iterated", use_t=True)
    # Hartung-Knapp's scale can fall below 1 when the settings agree more than their errors say, which makes
    # the interval narrower than the plain random-effects one; the "modified" Hartung-Knapp (Roever et al.
    # 2015) keeps the wider of the two.
    pooled = float(result.mean_effect_re)
    se = max(float(result.sd_eff_w_re_hksj), float(result.sd_eff_w_re))
    tau2 = float(result.tau2)
    low, high = interval_around(pooled, se, k - 1, confidence)
    q_statistic, q_p = result.test_homogeneity()[:2]
    pi_low = pi_high = math.nan
    if k >= 3:
        half = float(scipy_stats.t.ppf(0.5 + confidence / 2, k - 2)) * math.sqrt(tau2 + se ** 2)
        pi_low, pi_high = pooled - half, pooled + half
    return {"k": k, "mean": pooled, "se": se, "df": k - 1, "ci_low": low, "ci_high": high, "tau2": tau2,
            "i2": max(0.0, float(result.i2)), "q": float(q_statistic), "q_p": float(q_p), "pi_low": pi_low,
            "pi_high": pi_high, "p_value": two_sided_p(pooled, se, k - 1)}


def heterogeneity_about_exact(effects: Sequence[float], ses: Sequence[float], exact: Sequence[float]) -> tuple[float, float]:
    """Cochran's Q and its p-value when some settings' effects carry no sampling error (every seed gave the
    same value, so the standard error is 0). An inverse-variance weight of 1 / 0 makes such an effect the
    fixed-effect mean, so Q is the other settings' squared standardised distances from it, on k - 1 degrees
    of freedom (k counting every setting); exact effects that differ from each other make Q infinite. The
    usual computation cannot take a zero error: round-off leaves it 1e-17, and Q comes out 0."""
    from scipy import stats as scipy_stats

    exact = [float(e) for e in exact]
    if any(not math.isclose(e, exact[0], rel_tol=1e-9, abs_tol=1e-12) for e in exact):
        return math.inf, 0.0
    effects, ses = np.asarray(effects, dtype=float), np.asarray(ses, dtype=float)
    q = float(np.sum(((effects - exact[0]) / ses) ** 2))
    df = len(effects) + len(exact) - 1
    return q, (float(scipy_stats.chi2.sf(q, df)) if df > 0 else 1.0)


# ---- how numbers are printed --------------------------------------------------------------------------
NUMBER_FORMATS = {"effect": "{:+.4f}", "value": "{:.4f}", "p": "{:.3g}"}


def shown(x, kind: str = "effect") -> str:
    """Every number the lab prints, in one of three forms: an effect signed with 4 decimals (+0.0061), a
    value with 4 decimals (0.9815), a p-value with 3 significant digits (0.012). An integer prints as it
    is; None, NaN and infinity print as n/a."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(x)
    return NUMBER_FORMATS[kind].format(float(x))
