"""Decision rules on hand-made trial tables: each verdict must follow from the rule's text."""

import math

import numpy as np
import pandas as pd
import pytest

from claimlab.verdict import (INCONCLUSIVE, REFUTED, SUPPORTED, AllOf, AtMost, Better, Contrast, Equivalent,
                              Evidence, Exact, Raised, Ranking, SeedStatistic, Summarize)


def evidence(per_arm: dict[str, list[float]], metric="acc") -> Evidence:
    rows = [{"arm": arm, "seed": seed, metric: value}
            for arm, values in per_arm.items() for seed, value in enumerate(values)]
    return Evidence(trials=pd.DataFrame(rows))


SMALL = 0.001  # a smallest effect of interest below every effect these tables show
CLEAR_WIN = {"a": [0.90, 0.92, 0.91, 0.93, 0.90], "b": [0.80, 0.81, 0.80, 0.82, 0.79]}
NOISE = {"a": [0.90, 0.80, 0.91, 0.79, 0.85], "b": [0.82, 0.89, 0.80, 0.88, 0.84]}


def test_better_supported_refuted_inconclusive():
    assert Better("acc", "a", than="b", smallest_effect=SMALL).evaluate(evidence(CLEAR_WIN)).verdict == SUPPORTED
    assert Better("acc", "b", than="a", smallest_effect=SMALL).evaluate(evidence(CLEAR_WIN)).verdict == REFUTED
    assert Better("acc", "a", than="b", smallest_effect=SMALL).evaluate(evidence(NOISE)).verdict == INCONCLUSIVE


def test_better_with_lower_is_better_flips_the_claimed_side():
    rule = Better("acc", "b", than="a", higher_is_better=False, smallest_effect=SMALL)
    assert rule.evaluate(evidence(CLEAR_WIN)).verdict == SUPPORTED
    assert "lower is better" in rule.describe()


def test_better_pairs_only_the_seeds_both_arms_finished():
    rule = Better("acc", "a", than="b", smallest_effect=SMALL)
    outcome = rule.evaluate(evidence({"a": [0.9, 0.91, 0.92, 0.95], "b": [0.8, 0.8, 0.82]}))
    assert outcome.comparisons[0].n == 3 and outcome.headline() is outcome.comparisons[0]


def test_better_with_one_seed_is_inconclusive():
    outcome = Better("acc", "a", than="b", smallest_effect=SMALL).evaluate(evidence({"a": [0.9], "b": [0.1]}))
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier == "too few seeds: 1 < 3"


def test_ranking_needs_every_adjacent_pair_and_is_refuted_by_one_reversal():
    arms = {"x": [0.95, 0.96, 0.95, 0.97, 0.96], "y": [0.85, 0.86, 0.86, 0.87, 0.84],
            "z": [0.50, 0.52, 0.51, 0.50, 0.53]}
    assert Ranking("acc", ["x", "y", "z"], smallest_effect=SMALL).evaluate(evidence(arms)).verdict == SUPPORTED
    outcome = Ranking("acc", ["x", "z", "y"], smallest_effect=SMALL).evaluate(evidence(arms))
    assert outcome.verdict == REFUTED and "z vs y" in outcome.reason
    noisy = {**arms, "y": [0.99, 0.80, 0.97, 0.84, 0.99]}
    assert Ranking("acc", ["x", "y", "z"], smallest_effect=SMALL).evaluate(evidence(noisy)).verdict == INCONCLUSIVE


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


def test_the_evidence_leads_with_what_decided_the_verdict():
    # an exact check refuted by one value of several names that value first (E3a's ledger row led with a pass)
    ev = Evidence(trials=pd.DataFrame(), checks={"count_check": count_check({})})
    outcome = Exact(count_check, {"shape": (3, 3, 3, 32), "weights": 1_560_000}).evaluate(ev)
    assert outcome.verdict == REFUTED
    assert outcome.reason.startswith("not as claimed: weights: claimed 1560000, measured 1568000; as claimed: shape")
    # a combination leads with the part whose verdict is the claim's
    parts = AllOf(Better("acc", "a", than="b", smallest_effect=SMALL), Better("acc", "b", than="a", smallest_effect=SMALL))
    refuted = parts.evaluate(evidence(CLEAR_WIN))
    assert refuted.verdict == REFUTED and refuted.reason.startswith("acc: b - a = -")
    # a refuted order leads with the reversal, a supported one with the order
    assert Ranking("acc", ["b", "a"], smallest_effect=SMALL).evaluate(evidence(CLEAR_WIN)).reason.startswith("reversed: b vs a")
    assert Ranking("acc", ["a", "b"], smallest_effect=SMALL).evaluate(evidence(CLEAR_WIN)).reason.startswith("measured order")


def test_a_quantity_the_check_did_not_measure_is_an_error_never_a_verdict():
    ev = Evidence(trials=pd.DataFrame(), checks={"count_check": count_check({})})
    with pytest.raises(KeyError, match=r"did not measure \['weigths'\], which the rule reads"):
        Exact(count_check, {"weigths": 1_568_000}).evaluate(ev)


def test_exact_rule_with_a_failed_check_is_inconclusive_and_says_why():
    ev = Evidence(trials=pd.DataFrame(), checks={"count_check": {"error": "ValueError: boom"}})
    outcome = Exact(count_check, {"weights": 1}).evaluate(ev)
    assert outcome.verdict == INCONCLUSIVE and "boom" in outcome.reason


def test_equivalence_comes_first_so_a_sure_but_negligible_difference_refutes_a_claim_that_it_matters():
    tiny_but_sure = {"a": [0.901, 0.9022, 0.9015, 0.9011, 0.9018], "b": [0.900, 0.901, 0.9005, 0.9002, 0.9008]}
    with_margin = Better("acc", "a", than="b", equivalence_margin=0.02, smallest_effect=0.02)
    outcome = with_margin.evaluate(evidence(tiny_but_sure))
    (comparison,) = outcome.comparisons
    assert comparison.ci_low > 0  # significant: the sign alone would have supported it
    assert outcome.label() == "refuted (negligible: within +-0.02)" and comparison.state == "negligible"
    assert comparison.p_refute < 0.05 and not math.isnan(comparison.p_support)
    same = {"a": [0.90, 0.91, 0.92, 0.90, 0.91], "b": [0.901, 0.909, 0.921, 0.899, 0.911]}
    assert with_margin.evaluate(evidence(same)).label() == "refuted (negligible: within +-0.02)"
    # the band: a CI that holds 0 and reaches beyond the margin decides nothing
    assert with_margin.evaluate(evidence(NOISE)).verdict == INCONCLUSIVE
    assert with_margin.evaluate(evidence(CLEAR_WIN)).verdict == SUPPORTED  # +0.108, its 90% CI beyond 0.02
    assert "Equivalence is checked first: a 90% CI inside +-0.02" in with_margin.describe()


def test_equivalent_censored_comparisons_decide_nothing():
    rows = [{"arm": arm, "seed": s, "epochs": 3.0, "reached": float(arm == "a" or s > 0)}
            for arm in ("a", "b") for s in range(5)]
    outcome = Equivalent("epochs", "a", to="b", margin=1.0, censored_unless="reached").evaluate(
        Evidence(trials=pd.DataFrame(rows)))
    assert outcome.verdict == INCONCLUSIVE and outcome.comparisons[0].state == "censored"


def test_contrast_is_a_difference_of_differences():
    per_arm = {"a": [0.9, 0.8, 0.85], "b": [0.5, 0.42, 0.45]}
    rows = [{"arm": arm, "seed": s, "small": v, "large": v * 0.5} for arm, vs in per_arm.items() for s, v in enumerate(vs)]
    rule = Contrast("shrink", [(1, "small", "a"), (-1, "small", "b"), (-1, "large", "a"), (1, "large", "b")],
                    "gap shrink", smallest_effect=SMALL)
    comparison = rule.compare(Evidence(trials=pd.DataFrame(rows)))
    # per seed: half of (a - b) = 0.2, 0.19, 0.2
    assert comparison.mean == pytest.approx(0.59 / 3) and comparison.n == 3 and comparison.verdict == SUPPORTED
    assert comparison.metric == "small / large"


def test_all_of_supports_only_when_every_part_does_and_reported_parts_never_decide():
    rule = AllOf(Better("acc", "a", than="b", smallest_effect=SMALL),
                 Better("acc", "a", than="c", smallest_effect=SMALL),
                 also_report=[Better("acc", "c", than="a", smallest_effect=SMALL), Summarize("acc", ["a", "b"])])
    arms = {**CLEAR_WIN, "c": [0.70, 0.72, 0.71, 0.69, 0.70]}
    outcome = rule.evaluate(evidence(arms))
    assert outcome.verdict == SUPPORTED  # the reported c - a (refuted on its own) does not decide
    assert [c.judged for c in outcome.comparisons] == [True, True, False]
    assert outcome.headline() is None  # two judged comparisons: no single headline
    assert "(1) Paired by seed" in rule.describe() and "Reported, not judged" in rule.describe()
    both_ways = AllOf(Better("acc", "a", than="b", smallest_effect=SMALL),
                      Better("acc", "b", than="a", smallest_effect=SMALL))
    assert both_ways.evaluate(evidence(arms)).verdict == REFUTED
    noisy = {**NOISE, "c": [0.70, 0.72, 0.71, 0.69, 0.70]}
    two = AllOf(Better("acc", "a", than="b", smallest_effect=SMALL), Better("acc", "a", than="c", smallest_effect=SMALL))
    assert two.evaluate(evidence(noisy)).verdict == INCONCLUSIVE
    assert "Holm over the 2 refute p-values" in two.describe()


def test_seed_statistic_leaves_seeds_out_jointly_and_needs_the_seed_floor():
    arms = {"a": [0.9, 0.92, 0.91, 0.93], "b": [0.5, 0.52, 0.49, 0.51]}
    rule = SeedStatistic("range", "acc", ["a", "b"], lambda m: float(np.ptp(m.mean(axis=1))),
                         "max - min of arm means", smallest_effect=SMALL)
    comparison = rule.compare(evidence(arms))
    assert comparison.verdict == SUPPORTED and comparison.mean == pytest.approx(0.41) and comparison.n == 4
    # the range of two arm means is their mean difference: the jackknife interval is the paired t interval
    from claimlab import stats

    paired = stats.paired_difference(arms["a"], arms["b"])
    assert (comparison.ci_low, comparison.ci_high) == pytest.approx((paired["ci_low"], paired["ci_high"]))
    two_seeds = {arm: values[:2] for arm, values in arms.items()}
    assert rule.compare(evidence(two_seeds)).verdict == INCONCLUSIVE


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
    from claimlab.schema import Measured

    outcome = AllOf(Better("acc", "a", than="b", smallest_effect=SMALL),
                    also_report=[Equivalent("acc", "a", to="b", margin=0.5)]).evaluate(evidence(CLEAR_WIN))
    rows = _measured_table(Measured.of(outcome))
    assert any(row.startswith("| acc | a | 5 | 0.9120 |") for row in rows), rows
    assert any(row.startswith("| a - b | acc | 0.1080 |") and row.endswith("| 5 | better |") for row in rows), rows
    assert rows[0] == "| metric | arm | n | mean | std | 95% CI | diverged |"
    assert any("±0.5, [" in row and "(reported, not judged)" in row for row in rows), rows


# ---- issue 8: floors, family-wise correction, smallest effects, diverged seeds ----------------------
def test_two_tied_seeds_decide_nothing_but_identical_values_over_enough_seeds_are_a_measured_constant():
    """Two seeds that each differ by +0.0019 give a zero-width interval [0.0019, 0.0019]: too few to decide.
    Ten that do are deterministic: a measured constant, decided by its value against 0 and the margin."""
    tied = {"a": [0.8019, 0.9019], "b": [0.8, 0.9]}
    outcome = Better("acc", "a", than="b", smallest_effect=SMALL).evaluate(evidence(tied))
    assert outcome.verdict == INCONCLUSIVE and outcome.qualifier == "too few seeds: 2 < 3"
    many_tied = {"a": [0.8019 + k / 10 for k in range(10)], "b": [0.8 + k / 10 for k in range(10)]}
    outcome = Better("acc", "a", than="b", smallest_effect=SMALL).evaluate(evidence(many_tied))
    assert outcome.label() == "supported (identical in all 10 seeds)"  # +0.0019 is beyond the 0.001 margin
    inside = Better("acc", "a", than="b", smallest_effect=0.01).evaluate(evidence(many_tied))
    assert inside.label() == "refuted (negligible: within +-0.01; identical in all 10 seeds)"
    assert Equivalent("acc", "a", to="b", margin=0.01).evaluate(evidence(many_tied)).label() == (
        "supported (identical in all 10 seeds)")
    assert Equivalent("acc", "a", to="b", margin=0.001).evaluate(evidence(many_tied)).verdict == REFUTED
    reversed_constant = Better("acc", "b", than="a", smallest_effect=SMALL).compare(evidence(many_tied))
    assert reversed_constant.verdict == REFUTED and reversed_constant.p_refute == 0.0  # decided, for Holm too


GMP_BEATS_GAP = {  # one reversed pair with p ~ 0.03 among four adjacent pairs; the others clearly in order
    "p": [0.990, 0.991, 0.989, 0.992, 0.990], "q": [0.95, 0.96, 0.94, 0.95, 0.97],
    "r": [0.96, 0.965, 0.965, 0.965, 0.98], "s": [0.70, 0.72, 0.71, 0.69, 0.70], "t": [0.40, 0.42, 0.41, 0.39, 0.43],
}


def test_ranking_corrects_its_refute_path_with_holm():
    pair = Better("acc", "r", than="q", smallest_effect=SMALL).compare(evidence(GMP_BEATS_GAP))
    assert pair.verdict == SUPPORTED and 0.0125 < pair.p_value < 0.05  # r beats q uncorrected ...
    alone = Ranking("acc", ["q", "r"], smallest_effect=SMALL).evaluate(evidence(GMP_BEATS_GAP))
    assert alone.verdict == REFUTED  # ... so a claimed q > r is refuted when it is the only comparison,
    four = Ranking("acc", ["p", "q", "r", "s", "t"], smallest_effect=SMALL)
    outcome = four.evaluate(evidence(GMP_BEATS_GAP))
    assert outcome.verdict == INCONCLUSIVE  # ... but not when it is one of four
    reversed_pair = outcome.comparisons[1]
    assert reversed_pair.unadjusted_verdict == REFUTED and reversed_pair.family == 4
    assert reversed_pair.p_refute_adjusted == pytest.approx(min(1.0, 4 * reversed_pair.p_value))
    assert reversed_pair.adjusted_ci_low < reversed_pair.ci_low  # the Bonferroni interval is wider
    assert "Holm over the 4 refute p-values" in four.describe() and "Holm p=" in outcome.reason
    assert outcome.qualifier == "refutes before correction, not after Holm over 4"


def test_a_significant_effect_inside_the_smallest_effect_is_negligible_and_refutes():
    small_but_sure = {"a": [0.905, 0.9062, 0.9055, 0.9051, 0.9058], "b": [0.900, 0.901, 0.9005, 0.9002, 0.9008]}
    assert Better("acc", "a", than="b", smallest_effect=0.01).evaluate(
        evidence(small_but_sure)).label() == "refuted (negligible: within +-0.01)"
    assert Better("acc", "a", than="b", smallest_effect=0.001).evaluate(evidence(small_but_sure)).label() == SUPPORTED
    # a claim that it does not matter reads the same numbers the other way round
    assert Equivalent("acc", "a", to="b", margin=0.01).evaluate(evidence(small_but_sure)).verdict == SUPPORTED
    assert Equivalent("acc", "a", to="b", margin=0.001).evaluate(evidence(small_but_sure)).verdict == REFUTED


def test_diverged_seeds_score_what_the_experiment_declares():
    from claimlab.verdict import IfDiverged

    rows = [{"arm": arm, "seed": s, "acc": value, "diverged": float(arm == "a" and s < 2)}
            for arm, values in CLEAR_WIN.items() for s, value in enumerate(values)]
    chance = Evidence(trials=pd.DataFrame(rows), if_diverged={"acc": IfDiverged.scores(0.1, "chance")})
    assert list(chance.values("acc", "a"))[:2] == [0.1, 0.1]  # not the (finite) accuracies recorded
    outcome = Better("acc", "a", than="b", smallest_effect=SMALL).evaluate(chance)
    assert outcome.verdict != SUPPORTED and outcome.arms[0].diverged == 2  # diverging counts against a
    excluded = Evidence(trials=pd.DataFrame(rows), if_diverged={"acc": IfDiverged.excluded("no value")})
    assert Better("acc", "a", than="b", smallest_effect=SMALL).compare(excluded).n == 3
    undeclared = Evidence(trials=pd.DataFrame(rows))
    with pytest.raises(KeyError, match="IF_DIVERGED declares nothing for 'acc'"):
        undeclared.values("acc", "a")


def test_all_of_takes_its_parts_flat_so_one_correction_covers_them():
    part = AllOf(Better("acc", "a", than="b", smallest_effect=SMALL))
    with pytest.raises(TypeError, match="AllOf inside AllOf"):
        AllOf(part, Better("acc", "a", than="b", smallest_effect=SMALL))


def test_if_diverged_declarations_describe_themselves():
    from claimlab.verdict import IfDiverged

    assert IfDiverged.scores(0.1, "chance").describe() == "scores 0.1 (chance)"
    assert IfDiverged.excluded("no value").describe() == "is left out (flagged) (no value)"
    assert IfDiverged.kept("a timing").describe() == "keeps its value (a timing)"


def test_a_ranking_of_arms_that_all_diverged_says_so_instead_of_ranking_them():
    from claimlab.verdict import IfDiverged

    rows = [{"arm": arm, "seed": s, "acc": 0.1 + 0.01 * s, "diverged": 1.0} for arm in ("x", "y", "z") for s in range(5)]
    evidence = Evidence(trials=pd.DataFrame(rows), if_diverged={"acc": IfDiverged.scores(0.1, "chance")})
    outcome = Ranking("acc", ["x", "y", "z"], smallest_effect=SMALL).evaluate(evidence)
    assert outcome.reason.startswith("every arm diverged (NaN loss)") and " > " not in outcome.reason
    assert outcome.verdict == INCONCLUSIVE


def test_a_family_with_one_negligible_part_is_refuted_as_negligible():
    arms = {"a": [0.905, 0.9062, 0.9055, 0.9051, 0.9058], "b": [0.900, 0.901, 0.9005, 0.9002, 0.9008],
            "c": [0.80, 0.81, 0.79, 0.80, 0.82]}
    one_small = AllOf(Better("acc", "a", than="b", smallest_effect=0.01),
                      Better("acc", "a", than="c", smallest_effect=0.01))
    outcome = one_small.evaluate(evidence(arms))
    assert outcome.label() == "refuted (negligible: within +-0.01)"  # a beats c clearly, but b only negligibly
    assert [c.verdict for c in outcome.comparisons] == [REFUTED, SUPPORTED]
    both_clear = {**arms, "b": [0.80, 0.81, 0.80, 0.82, 0.79]}
    assert one_small.evaluate(evidence(both_clear)).label() == SUPPORTED


def test_a_claim_that_asks_is_measured_not_judged_and_keeps_its_numbers():
    from claimlab.report import VERDICT_MARK
    from claimlab.scope import scope_verdict
    from claimlab.verdict import MEASURED, VERDICT_CODE, NotJudged

    rule = NotJudged(Better("acc", "a", than="b", smallest_effect=SMALL), "the quote asks why")
    outcome = rule.evaluate(evidence(CLEAR_WIN))  # a clear difference: still no verdict
    assert outcome.verdict == MEASURED and outcome.reason.startswith("not judged (the quote asks why); measured: acc")
    (comparison,) = outcome.comparisons
    assert comparison.verdict == SUPPORTED and not comparison.judged  # the numbers stay, reported
    assert rule.describe().startswith("Measured, not judged: the quote asks why. What is measured: Paired by seed")
    assert rule.reads() == [("acc", "a"), ("acc", "b")] and VERDICT_CODE[MEASURED] == 0
    assert VERDICT_MARK[MEASURED] == "📏 measured, not judged"
    assert scope_verdict({"default": MEASURED, "deep": MEASURED}) == {
        "code": "measured", "text": "measured, not judged, in all 2 settings"}


def test_the_decision_settles_as_seeds_grow_and_a_refuted_run_does_not_end_supported():
    """Issue 27's audit: a true difference of +0.001 (sd 0.0008) against a smallest effect of 0.02 was
    "refuted (equivalent)" at 3 seeds and "supported (negligible)" at 10 and 20, because the sign was checked
    first. With equivalence first (verdict.decide), each verdict's probability settles as seeds are added
    to the same runs, and a refutation does not turn into support."""
    from claimlab import stats
    from claimlab.verdict import sign_comparison

    rng = np.random.default_rng(27)
    seeds = (3, 5, 10, 20, 40)
    words = {SUPPORTED: "better", REFUTED: "worse"}

    def verdicts(effect, sd, runs=300):
        table = np.empty((runs, len(seeds)), dtype=object)
        for r in range(runs):
            d = rng.normal(effect, sd, size=max(seeds))
            for j, n in enumerate(seeds):
                table[r, j] = sign_comparison("d", "acc", stats.mean_test(d[:n]), "above", 0.02, words).verdict
        return table

    def share(table, verdict):
        return [(table[:, j] == verdict).mean() for j in range(len(seeds))]

    negligible = verdicts(0.001, 0.0008)  # 20x below the smallest effect: refuted as negligible
    assert share(negligible, SUPPORTED) == [0.0] * len(seeds)
    assert share(negligible, REFUTED)[-3:] == [1.0, 1.0, 1.0]
    real = verdicts(0.03, 0.008)  # beyond the smallest effect: supported, more surely with more seeds
    supported = share(real, SUPPORTED)
    assert supported == sorted(supported) and supported[-1] == 1.0 and share(real, REFUTED)[-1] == 0.0
    half, twice = verdicts(0.01, 0.01), verdicts(0.04, 0.01)  # half and twice the margin, noisier
    assert share(half, SUPPORTED)[-1] <= 0.01 and share(half, REFUTED)[-1] >= 0.99  # settles as negligible
    assert share(twice, SUPPORTED)[-1] >= 0.99
    # A run refuted at some number of seeds does not end supported when seeds are added. (At few seeds a
    # noisy run may pass through "supported" on its way to "negligible": 4% of the runs at half the margin.)
    for table in (negligible, real, half, twice):
        turned = [REFUTED in row[:-1] and row[-1] == SUPPORTED for row in table]
        assert np.mean(turned) <= 0.01, np.mean(turned)
    # (A true effect exactly at the margin has no limiting verdict: negligible and supported each stay
    # possible as seeds grow, and about 1 run in 10 goes from one to the other. That is the boundary, named
    # in decision_text's band.)
