"""Every number a rule text names comes from the config the run used.

For each experiment and each decision threshold it declares (THRESHOLDS, which `--set` can change),
the rule descriptions are built under an override of that threshold: the texts must change and name
the new value. A rule text that hard-codes its threshold (as P2's once hard-coded 0.02) fails here.
"""

import pytest

from claimlab import config, registry, verdict

EXPERIMENTS = registry.load_all()
# The P2 margin is named explicitly too: it is the case that once drifted from its text.
THRESHOLD_KEYS = sorted({(e.name, key) for e in EXPERIMENTS for key in e.thresholds}
                        | {("pooling_vs_dropout", "p2_equivalence_margin")})


def other_value(value):
    """A value no default uses, written as --set would receive it, and as a rule text prints it."""
    if isinstance(value, bool):
        raise TypeError("a threshold is a number")
    new = value * 3 + (7 if isinstance(value, int) else 0.0037)
    return str(new), f"{new:g}"


def rule_texts(experiment, overrides=None) -> str:
    cfg = config.resolve(experiment, "smoke", overrides=overrides)
    return "\n".join(claim.rule_for(cfg).describe() for claim in experiment.claims)


@pytest.mark.parametrize("name,key", THRESHOLD_KEYS, ids=[f"{n}:{k}" for n, k in THRESHOLD_KEYS])
def test_rule_text_follows_each_threshold_override(name, key):
    experiment = registry.load(name)
    cli_text, printed = other_value(experiment.config[key])
    default_text = rule_texts(experiment)
    changed_text = rule_texts(experiment, {key: cli_text})
    assert changed_text != default_text, f"no rule text of {name} changes with --set {key}={cli_text}"
    assert printed in changed_text, f"--set {key}={cli_text}: no rule text of {name} names {printed}"


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=[e.name for e in EXPERIMENTS])
def test_every_metric_a_rule_reads_exists_under_the_profile_that_runs_it(experiment):
    """Rule metric names built from the config (e.g. one per training-set size) follow the profile."""
    smoke = config.resolve(experiment, "smoke")
    for claim in experiment.claims:
        for metric in claim.rule_for(smoke).metrics:
            for size in experiment.config.get("train_sizes", ()):
                if size not in smoke.get("train_sizes", ()):
                    assert f"n{size}/" not in metric, (claim.id, metric)


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=[e.name for e in EXPERIMENTS])
@pytest.mark.parametrize("profile", config.PROFILES)
def test_every_judged_metric_declares_what_a_diverged_trial_scores(experiment, profile):
    cfg = config.resolve(experiment, profile)
    assert experiment.undeclared_divergence(cfg) == []


def comparative_rules(rule):
    """Every paired comparison a rule is built from (inside AllOf and also_report too)."""
    parts = [*getattr(rule, "parts", []), *getattr(rule, "also_report", [])]
    own = [rule] if isinstance(rule, (verdict.Better, verdict.Contrast, verdict.Ranking, verdict.SeedStatistic)) else []
    return own + [inner for part in parts for inner in comparative_rules(part)]


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=[e.name for e in EXPERIMENTS])
def test_every_comparison_names_its_method_and_a_declared_smallest_effect(experiment):
    cfg = config.resolve(experiment, "quick")
    for claim in experiment.claims:
        rule = claim.rule_for(cfg)
        for comparison in comparative_rules(rule):
            assert comparison.smallest_effect in experiment.thresholds.values(), (claim.id, comparison.describe())
        if claim.kind == "empirical" and not isinstance(rule, verdict.Custom):
            text = rule.describe()
            assert "paired t interval" in text or "jackknife" in text or "TOST" in text, claim.id
