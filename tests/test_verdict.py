"""Decision rules on hand-made trial tables: each verdict must follow from the rule's text."""

import pandas as pd
import pytest

from claimlab.verdict import (INCONCLUSIVE, REFUTED, SUPPORTED, Better, Equivalent, Evidence, Exact,
                              Ranking)


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
    assert outcome.measured["difference"]["n"] == 2


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


def test_summary_tables_render_built_in_shapes_and_skip_unknown_ones():
    from claimlab.report import _measured_table

    rows = _measured_table({
        "arms": {"a": {"n": 5, "mean": 0.9, "std": 0.01, "ci_low": 0.88, "ci_high": 0.92}},
        "equivalence": {"x vs y": {"tost_ci_low": 0.1}},  # a Custom rule's own layout: not a table here
        "pairs": {"a vs b": {"mean": 0.1, "ci_low": 0.05, "ci_high": 0.15, "n": 5}, "odd": 3},
    })
    assert "| a | 5 | 0.9000 | 0.0100 | [0.8800, 0.9200] |" in rows
    assert "| a vs b | 0.1000 | [0.0500, 0.1500] | 5 |" in rows
    assert not any("odd" in row or "x vs y" in row for row in rows)
