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
    assert d["ci_low"] == pytest.approx(0.1) and d["ci_high"] == pytest.approx(0.1)  # constant differences
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


def test_small_samples_use_the_wider_of_bootstrap_and_t():
    values = [0.1, 0.3, -0.05, 0.2, 0.15]
    low, high = stats.mean_interval(values)
    t_low, t_high = stats.t_interval(values)
    b_low, b_high = stats.bootstrap_interval(values)
    assert low == pytest.approx(min(t_low, b_low)) and high == pytest.approx(max(t_high, b_high))


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
