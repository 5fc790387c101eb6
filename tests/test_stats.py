"""Statistics on tiny inputs whose answers are known by hand."""

import math

import numpy as np
import pytest

from claimlab import stats


def test_describe_matches_the_hand_computed_t_interval():
    # mean 2, sample std 1, sem 1/sqrt(3), t(0.975, df=2) = 4.302653
    s = stats.describe([1.0, 2.0, 3.0])
    half_width = 4.302653 / math.sqrt(3)
    assert s["n"] == 3 and s["mean"] == pytest.approx(2.0) and s["std"] == pytest.approx(1.0)
    assert s["ci_low"] == pytest.approx(2.0 - half_width, abs=1e-5)
    assert s["ci_high"] == pytest.approx(2.0 + half_width, abs=1e-5)


def test_describe_counts_diverged_values_and_ignores_them():
    s = stats.describe([1.0, float("nan"), 3.0, float("inf")])
    assert s["n"] == 2 and s["not_finite"] == 2 and s["mean"] == pytest.approx(2.0)


def test_paired_difference_pairs_by_position():
    a, b = [0.9, 0.8, 0.7, 0.95], [0.8, 0.7, 0.6, 0.85]
    d = stats.paired_difference(a, b)
    assert d["mean"] == pytest.approx(0.1)
    assert d["sd"] == pytest.approx(0.0, abs=1e-12)  # constant differences: the rules call this "no variation"
    # Unpaired, these samples overlap heavily; paired, the difference is exact. Pairing must matter:
    assert stats.describe(a)["ci_low"] < stats.describe(b)["ci_high"]


def test_paired_difference_interval_covers_the_mean_and_is_reproducible():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 0.5, size=10)
    b = a - rng.normal(0.3, 0.1, size=10)
    first, second = stats.paired_difference(a, b), stats.paired_difference(a, b)
    assert first == second
    assert first["ci_low"] < first["mean"] < first["ci_high"]
    assert first["ci_low"] > 0  # a clear positive shift of 0.3 with sd 0.1 over 10 pairs


def test_the_decision_interval_is_the_t_interval_and_its_p_value_agrees_with_scipy():
    from scipy import stats as scipy_stats

    values = [0.1, 0.3, -0.05, 0.2, 0.15]
    test = stats.mean_test(values)
    assert (test["ci_low"], test["ci_high"]) == pytest.approx(stats.t_interval(values))
    assert test["p_value"] == pytest.approx(scipy_stats.ttest_1samp(values, 0.0).pvalue)
    # the interval excludes 0 exactly when p < 0.05
    assert (test["ci_low"] > 0) == (test["p_value"] < 0.05)


def test_holm_matches_the_hand_computed_step_down():
    # sorted 0.01, 0.02, 0.04 over k=3: 0.03, max(0.03, 0.04) = 0.04, max(0.04, 0.04) = 0.04
    assert stats.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert stats.holm([0.5, float("nan")]) == pytest.approx([1.0, 1.0])  # nan counts as 1, capped at 1
    assert stats.holm([0.024, 1.0, 1.0, 1.0]) == pytest.approx([0.096, 1.0, 1.0, 1.0])


def test_equivalence_p_values_agree_with_its_intervals():
    base = np.array([0.90, 0.91, 0.92, 0.93, 0.94, 0.95])
    tiny = base + np.array([0.001, -0.002, 0.001, 0.0, 0.002, -0.001])
    result = stats.equivalence(tiny, base, margin=0.01)
    assert result["p_equivalent"] < 0.05 and -0.01 < result["tost_ci_low"] < result["tost_ci_high"] < 0.01
    far = stats.equivalence(base + 0.05 + (tiny - base), base, margin=0.01)
    assert far["p_different"] < 0.05 and far["ci_low"] > 0.01


def test_paired_difference_rejects_unaligned_samples():
    with pytest.raises(ValueError):
        stats.paired_difference([1, 2, 3], [1, 2])


def test_equivalence_within_margin_outside_margin_and_undecided():
    base = np.array([0.90, 0.91, 0.92, 0.93, 0.94, 0.95])
    tiny = base + np.array([0.001, -0.002, 0.001, 0.0, 0.002, -0.001])
    assert stats.equivalence(tiny, base, margin=0.01)["equivalent"]
    far = base + 0.05 + np.array([0.001, -0.002, 0.001, 0.0, 0.002, -0.001])
    result = stats.equivalence(far, base, margin=0.01)
    assert result["different"] and not result["equivalent"]
    noisy = base + np.array([0.03, -0.03, 0.02, -0.02, 0.01, -0.01])
    result = stats.equivalence(noisy, base, margin=0.01)
    assert not result["equivalent"] and not result["different"]


def test_fewer_than_two_values_give_no_interval():
    assert all(math.isnan(x) for x in stats.t_interval([1.0]))
    assert math.isnan(stats.paired_difference([1.0], [0.0])["ci_low"])


def test_every_number_prints_in_one_of_three_forms():
    assert stats.shown(0.00612) == "+0.0061" and stats.shown(-0.5) == "-0.5000"
    assert stats.shown(0.98148, "value") == "0.9815"
    assert stats.shown(0.01234, "p") == "0.0123" and stats.shown(3.2e-7, "p") == "3.2e-07"
    assert stats.shown(10) == "10" and stats.shown(np.int64(7), "value") == "7"
    assert stats.shown(None) == stats.shown(float("nan")) == stats.shown(float("inf"), "p") == "n/a"
