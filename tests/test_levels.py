"""Chance and ceiling (issue 26, item 2): a comparison with an arm at chance, or with every arm at the
ceiling, cannot discriminate, so it is inconclusive whatever its interval says, unless its rule declares
that the claim is about reaching that level. Each experiment declares its metrics' levels in LEVELS."""

import pandas as pd
import pytest

from claimlab import config, registry
from claimlab.report import _measured_table
from claimlab.schema import Measured
from claimlab.verdict import (CEILING, CHANCE, INCONCLUSIVE, REFUTED, SUPPORTED, AllOf, Better, Equivalent, Evidence,
                              Level, declared_for)
from conftest import a_summary

ACCURACY = Level(0.1, 1.0, "10 balanced classes")


def evidence(per_arm: dict[str, list[float]], levels=None) -> Evidence:
    rows = [{"arm": arm, "seed": seed, "acc": value} for arm, values in per_arm.items() for seed, value in enumerate(values)]
    return Evidence(trials=pd.DataFrame(rows), levels={"acc": ACCURACY} if levels is None else levels)


# every arm within 0.005 of 1, b a little but consistently better: a "significant" difference at the ceiling
AT_CEILING = {"a": [0.9960, 0.9970, 0.9965, 0.9975, 0.9960], "b": [0.9990, 0.9995, 0.9990, 1.0, 0.9995]}
# a never trains (within 0.02 of chance 0.1); b does
ONE_AT_CHANCE = {"a": [0.10, 0.11, 0.10, 0.12, 0.09], "b": [0.80, 0.82, 0.81, 0.83, 0.80]}
CLEAR_WIN = {"a": [0.90, 0.92, 0.91, 0.93, 0.90], "b": [0.80, 0.81, 0.80, 0.82, 0.79]}


def test_a_level_places_a_mean_at_chance_at_the_ceiling_or_between():
    assert ACCURACY.at(0.119) == CHANCE and ACCURACY.at(0.121) == "" and ACCURACY.at(0.5) == ""
    assert ACCURACY.at(0.995) == CEILING and ACCURACY.at(0.994) == "" and ACCURACY.at(float("nan")) == ""
    assert Level.unbounded("a time").at(0.0) == "" and "no chance level or ceiling" in Level.unbounded("x").describe()
    assert "chance is 0.1 (an arm within 0.02 of it is at chance) and the ceiling is 1" in ACCURACY.describe()


def test_a_difference_at_the_ceiling_is_inconclusive_and_says_why():
    outcome = Better("acc", "b", than="a", smallest_effect=0.001).evaluate(evidence(AT_CEILING))
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier == "ceiling: every arm at the ceiling"
    (comparison,) = outcome.comparisons
    assert comparison.state == "at ceiling" and comparison.mean > 0 and comparison.ci_low > 0  # the numbers stay
    # the same table without LEVELS decides it, as before
    assert Better("acc", "b", than="a", smallest_effect=0.001).evaluate(evidence(AT_CEILING, {})).verdict == SUPPORTED


def test_an_equivalence_at_the_ceiling_is_not_supported():
    # P2's case: two arms both >= 0.995 are "equivalent" within 0.02 because neither can move
    outcome = Equivalent("acc", "a", to="b", margin=0.02).evaluate(evidence(AT_CEILING))
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier.startswith("ceiling")
    assert Equivalent("acc", "a", to="b", margin=0.02).evaluate(evidence(AT_CEILING, {})).verdict == SUPPORTED


def test_an_arm_at_chance_sets_the_comparison_aside_unless_the_claim_is_about_chance():
    outcome = Better("acc", "b", than="a", smallest_effect=0.01).evaluate(evidence(ONE_AT_CHANCE))
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier == "chance: a at chance"
    about = Better("acc", "b", than="a", smallest_effect=0.01, about=["chance"])
    assert about.evaluate(evidence(ONE_AT_CHANCE)).verdict == SUPPORTED
    assert "The claim is about reaching chance" in about.describe()
    assert "about reaching" not in Better("acc", "b", than="a", smallest_effect=0.01).describe()


def test_a_comparison_set_aside_refutes_nothing_in_its_family():
    # a part at chance would refute (b is significantly worse than a): set aside, it cannot, and the claim
    # is inconclusive rather than refuted; the other part still decides its own
    per_arm = {**ONE_AT_CHANCE, "c": [0.70, 0.71, 0.70, 0.72, 0.69]}
    rule = AllOf(Better("acc", "a", than="b", smallest_effect=0.01), Better("acc", "b", than="c", smallest_effect=0.01))
    outcome = rule.evaluate(evidence(per_arm))
    assert [c.verdict for c in outcome.comparisons] == [INCONCLUSIVE, SUPPORTED]
    assert outcome.verdict == INCONCLUSIVE
    assert rule.evaluate(evidence(per_arm, {})).verdict == REFUTED


def test_the_arm_table_marks_an_arm_at_chance():
    outcome = Better("acc", "b", than="a", smallest_effect=0.01).evaluate(evidence(ONE_AT_CHANCE))
    assert [(a.arm, a.level) for a in outcome.arms] == [("b", None), ("a", CHANCE)]
    rows = _measured_table(Measured.of(outcome))
    assert any(row.startswith("| acc | a (at chance) | 5 |") for row in rows) and any("| acc | b | 5 |" in r for r in rows)


def test_summary_md_states_the_declared_levels():
    from claimlab.report import summary_markdown

    text = summary_markdown(a_summary([], levels={"acc": ACCURACY.describe()}), [], pd.DataFrame())
    assert "Chance and ceiling: on `acc` chance is 0.1" in text and "cannot discriminate" in text
    assert "Chance and ceiling" not in summary_markdown(a_summary([]), [], pd.DataFrame())


@pytest.mark.parametrize("name", [e.name for e in registry.load_all() if any(c.kind == "empirical" for c in e.claims)])
def test_every_judged_accuracy_has_a_chance_and_a_ceiling(name):
    # an accuracy declared unbounded would silently skip the check: every *accuracy metric a rule reads
    # (gains over a baseline aside) names both its levels, under every profile
    experiment = registry.load(name)
    for profile in ("smoke", "quick", "full"):
        cfg = config.resolve(experiment, profile)
        levels = experiment.levels(cfg)
        for metric in experiment.judged_metrics(cfg):
            level = declared_for(levels, metric)
            if metric.endswith("accuracy") and "majority" not in metric:
                assert level.ceiling == 1.0, (metric, level)
                assert level.chance is not None or "majority" in level.why, (metric, level)
