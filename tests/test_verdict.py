"""Decision rules on hand-made trial tables: each verdict must follow from the rule's text."""

import numpy as np
import pandas as pd
import pytest

from claimlab.verdict import (INCONCLUSIVE, REFUTED, SUPPORTED, AllOf, AtMost, Better, Contrast, Equivalent,
                              Evidence, Exact, Raised, Ranking, SeedStatistic, Summarize)


def evidence(per_arm: dict[str, list[float]], metric="acc") -> Evidence:
    rows = [{"arm": arm, "seed": seed, metric: value}
            for arm, values in per_arm.items() for seed, value in enumerate(values)]
    return Evidence(trials=pd.DataFrame(rows))


CLEAR_WIN = {"a": [0.90, 0.92, 0.91, 0.93, 0.90], "b": [0.80, 0.81, 0.80, 0.82, 0.79]}
NOISE = {"a": [0.90, 0.80, 0.91, 0.79, 0.85], "b": [0.82, 0.89, 0.80, 0.88, 0.84]}


def test_better_supported_refuted_inconclusive():
    assert Better("acc", "a", than="b").evaluate(evidence(CLEAR_WIN)).verdict == SUPPORTED
    assert Better("acc", "b", than="a").evaluate(evidence(CLEAR_WIN)).verdict == REFUTED
    assert Better("acc", "a", than="b").evaluate(evidence(NOISE)).verdict == INCONCLUSIVE


def test_better_with_lower_is_better_flips_the_claimed_side():
    rule = Better("acc", "b", than="a", higher_is_better=False)
    assert rule.evaluate(evidence(CLEAR_WIN)).verdict == SUPPORTED
    assert "lower is better" in rule.describe()


def test_better_pairs_only_the_seeds_both_arms_finished():
    outcome = Better("acc", "a", than="b").evaluate(evidence({"a": [0.9, 0.91, 0.92], "b": [0.8, 0.8]}))
    assert outcome.comparisons[0].n == 2 and outcome.headline() is outcome.comparisons[0]


def test_better_with_one_seed_is_inconclusive():
    assert Better("acc", "a", than="b").evaluate(evidence({"a": [0.9], "b": [0.1]})).verdict == INCONCLUSIVE


def test_ranking_needs_every_adjacent_pair_and_is_refuted_by_one_reversal():
    arms = {"x": [0.95, 0.96, 0.95, 0.97, 0.96], "y": [0.85, 0.86, 0.85, 0.87, 0.86],
            "z": [0.50, 0.52, 0.51, 0.50, 0.53]}
    assert Ranking("acc", ["x", "y", "z"]).evaluate(evidence(arms)).verdict == SUPPORTED
    outcome = Ranking("acc", ["x", "z", "y"]).evaluate(evidence(arms))
    assert outcome.verdict == REFUTED and "z vs y" in outcome.reason
    noisy = {**arms, "y": [0.99, 0.80, 0.97, 0.84, 0.99]}
    assert Ranking("acc", ["x", "y", "z"]).evaluate(evidence(noisy)).verdict == INCONCLUSIVE


def test_equivalent_rule():
    same = {"a": [0.90, 0.91, 0.92, 0.90, 0.91], "b": [0.901, 0.909, 0.921, 0.899, 0.911]}
    assert Equivalent("acc", "a", to="b", margin=0.01).evaluate(evidence(same)).verdict == SUPPORTED
    assert Equivalent("acc", "a", to="b", margin=0.01).evaluate(evidence(CLEAR_WIN)).verdict == REFUTED


def count_check(cfg):
    return {"weights": 1_568_000, "shape": (3, 3, 3, 32)}


@pytest.mark.parametrize("expect,rel_tol,verdict", [
    ({"weights": 1_568_000}, 0.0, SUPPORTED),
    ({"weights": 1_560_000}, 0.0, REFUTED),
    ({"weights": 1_560_000}, 0.01, SUPPORTED),
    ({"shape": (3, 3, 3, 32)}, 0.0, SUPPORTED),
    ({"shape": [3, 3, 32, 3]}, 0.0, REFUTED),
])
def test_exact_rule_compares_claimed_and_measured(expect, rel_tol, verdict):
    ev = Evidence(trials=pd.DataFrame(), checks={"count_check": count_check({})})
    assert Exact(count_check, expect, rel_tol=rel_tol).evaluate(ev).verdict == verdict


def test_exact_rule_with_a_failed_check_is_inconclusive_and_says_why():
    ev = Evidence(trials=pd.DataFrame(), checks={"count_check": {"error": "ValueError: boom"}})
    outcome = Exact(count_check, {"weights": 1}).evaluate(ev)
    assert outcome.verdict == INCONCLUSIVE and "boom" in outcome.reason


def test_better_with_a_margin_is_refuted_by_equivalence_but_a_significant_difference_comes_first():
    tiny_but_sure = {"a": [0.901, 0.902, 0.9015, 0.9012, 0.9018], "b": [0.900, 0.901, 0.9005, 0.9002, 0.9008]}
    assert Better("acc", "a", than="b", equivalence_margin=0.02).evaluate(evidence(tiny_but_sure)).verdict == SUPPORTED
    same = {"a": [0.90, 0.91, 0.92, 0.90, 0.91], "b": [0.901, 0.909, 0.921, 0.899, 0.911]}
    outcome = Better("acc", "a", than="b", equivalence_margin=0.02).evaluate(evidence(same))
    assert outcome.verdict == REFUTED and outcome.comparisons[0].state == "equivalent"
    assert Better("acc", "a", than="b").evaluate(evidence(same)).verdict == INCONCLUSIVE  # no margin: undecided


def test_equivalent_censored_comparisons_decide_nothing():
    rows = [{"arm": arm, "seed": s, "epochs": 3.0, "reached": float(arm == "a" or s > 0)}
            for arm in ("a", "b") for s in range(5)]
    outcome = Equivalent("epochs", "a", to="b", margin=1.0, censored_unless="reached").evaluate(
        Evidence(trials=pd.DataFrame(rows)))
    assert outcome.verdict == INCONCLUSIVE and outcome.comparisons[0].state == "censored"


def test_contrast_is_a_difference_of_differences():
    per_arm = {"a": [0.9, 0.8, 0.85], "b": [0.5, 0.4, 0.45]}
    rows = [{"arm": arm, "seed": s, "small": v, "large": v * 0.5} for arm, vs in per_arm.items() for s, v in enumerate(vs)]
    rule = Contrast("shrink", [(1, "small", "a"), (-1, "small", "b"), (-1, "large", "a"), (1, "large", "b")], "gap shrink")
    comparison = rule.compare(Evidence(trials=pd.DataFrame(rows)))
    assert comparison.mean == pytest.approx(0.2) and comparison.n == 3 and comparison.verdict == SUPPORTED


def test_all_of_supports_only_when_every_part_does_and_reported_parts_never_decide():
    rule = AllOf(Better("acc", "a", than="b"), Better("acc", "a", than="c"),
                 also_report=[Better("acc", "c", than="a"), Summarize("acc", ["a", "b"])])
    arms = {**CLEAR_WIN, "c": [0.70, 0.72, 0.71, 0.69, 0.70]}
    outcome = rule.evaluate(evidence(arms))
    assert outcome.verdict == SUPPORTED  # the reported c - a (refuted on its own) does not decide
    assert [c.judged for c in outcome.comparisons] == [True, True, False]
    assert outcome.headline() is None  # two judged comparisons: no single headline
    assert "(1) Paired by seed" in rule.describe() and "Reported, not judged" in rule.describe()
    assert AllOf(Better("acc", "a", than="b"), Better("acc", "b", than="a")).evaluate(evidence(arms)).verdict == REFUTED
    noisy = {**NOISE, "c": [0.70, 0.72, 0.71, 0.69, 0.70]}
    assert AllOf(Better("acc", "a", than="b"), Better("acc", "a", than="c")).evaluate(evidence(noisy)).verdict == INCONCLUSIVE


def test_seed_statistic_resamples_seeds_and_needs_its_minimum():
    arms = {"a": [0.9, 0.92, 0.91, 0.93], "b": [0.5, 0.52, 0.49, 0.51]}
    rule = SeedStatistic("range", "acc", ["a", "b"], lambda m: float(np.ptp(m.mean(axis=1))), "max - min of arm means")
    comparison = rule.compare(evidence(arms))
    assert comparison.verdict == SUPPORTED and comparison.mean == pytest.approx(0.41) and comparison.n == 4
    few = SeedStatistic("range", "acc", ["a", "b"], lambda m: float(np.ptp(m.mean(axis=1))), "range", min_seeds=5)
    assert few.compare(evidence(arms)).verdict == INCONCLUSIVE


def test_exact_matchers_bound_and_error():
    ev = Evidence(trials=pd.DataFrame(), checks={"count_check": {"error_type": "ValueError", "diff": 2e-6}})
    check = count_check
    check.__name__ = "count_check"
    assert Exact(check, {"diff": AtMost(1e-5), "error_type": Raised()}).evaluate(ev).verdict == SUPPORTED
    assert Exact(check, {"diff": AtMost(1e-7)}).evaluate(ev).verdict == REFUTED
    assert "diff <= 1e-07" in Exact(check, {"diff": AtMost(1e-7)}).describe()
    ev_none = Evidence(trials=pd.DataFrame(), checks={"count_check": {"error_type": None}})
    assert Exact(check, {"error_type": Raised()}).evaluate(ev_none).verdict == REFUTED


def test_summary_tables_render_the_typed_evidence():
    from claimlab.report import _measured_table

    outcome = AllOf(Better("acc", "a", than="b"), also_report=[Equivalent("acc", "a", to="b", margin=0.5)]).evaluate(
        evidence(CLEAR_WIN))
    rows = _measured_table(outcome.to_dict())
    assert any(row.startswith("| acc | a | 5 | 0.9120 |") for row in rows), rows
    assert any(row.startswith("| a - b | acc | 0.1080 |") and row.endswith("| 5 | better |") for row in rows), rows
    assert any("±0.5, [" in row and "(reported, not judged)" in row for row in rows), rows
