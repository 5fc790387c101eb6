"""Scope: where a verdict holds.

A verdict from one setting (one dataset, one model size, one training budget) is not a general one:
turning one reasonable knob can flip it. So each empirical experiment declares SETTINGS next to its
CONFIG: named config overrides (claimlab.spec.Setting), chosen before any run from what the claim's
wording generalises over, each with a one-line reason. `python runner.py NAME --settings all` runs each
as an ordinary run (results/NAME@setting/, its own MLflow parent run; "default" is results/NAME/), and
this module turns the settings' summaries into the scope report:

- results/NAME/scope.md and scope.json: per claim, a table (setting | verdict | effect [95% CI] | n seeds
  | seeds needed) and the scope verdict from SCOPE_RULE;
- results/NAME/scope_<claim>.png: a forest plot, one row per setting and comparison;
- an MLflow run for the grid (tag claimlab.role = scope) with the same files.

The report is rebuilt from the summaries on disk after every run of a declared setting, so it always
says what results/ holds; a setting that has not run, did not finish, or ran under an older
declaration is named and not counted.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime
from pathlib import Path

from claimlab import config as config_module
from claimlab import files, plots, stats
from claimlab.backend import TENSORFLOW
from claimlab.errors import UsageError
from claimlab.schema import ClaimResult, ReferenceCheck, SeedsNeeded, SettingRecord, Summary, read_summary
from claimlab.spec import Setting, Times
from claimlab.stats import shown
from claimlab.verdict import (ABOVE, BELOW, FLOOR, INCONCLUSIVE, MEASURED, NEGLIGIBLE, NUMERICALLY_ZERO, REFUTED,
                              SUPPORTED, UNDECIDED, Comparison, Custom, decide)

DEFAULT_SETTING = "default"
# Every experiment whose trials run on JAX declares this setting: its default config on TensorFlow, which
# the sources ran. The scope report then shows whether moving to JAX changes a conclusion.
TENSORFLOW_SETTING = "tensorflow"


# A setting whose baseline arm scores more than this below a published reference that compares like with
# like (spec.Reference) is labelled under-trained: its verdicts still count, and say so.
UNDER_TRAINED_SHORTFALL = 0.05

HETEROGENEITY_ALPHA = 0.05  # Cochran's Q test: below this, the settings' effects differ

SCOPE_RULE = (
    "A claim's scope comes from its effects, not its labels (issue 27). For each judged comparison, its effect "
    f"in the counted settings is combined in a {stats.META_METHOD}. The scope 'varies' when, for some "
    f"comparison, the heterogeneity test (Cochran's Q) rejects at {HETEROGENEITY_ALPHA:g} and the settings' "
    "effects are decided on different sides of the decision (negligible, above 0, below 0, each by the lab's "
    "one decision); the settings of each side are named with their effects. Otherwise it is 'consistent': "
    "where the effects differ in size but every setting decides them the same way, that decision holds; else "
    "the pooled effect of each comparison is decided like a single setting's (equivalence within the smallest "
    "effect first, then the side of 0), and the claim's pooled verdict combines them as AllOf does (supported "
    "if every comparison supports, refuted if any refutes); a setting undecided on its own is named as "
    "lacking power, not as a different verdict. A setting whose seeds all gave the same effect has no sampling "
    "error: it stays out of the pooled mean, is decided exactly, and enters Cochran's Q as a known effect (Q is "
    "then the other settings' standardised distances from it; two such effects that differ make Q infinite); "
    "a pooled decision that disagrees with it is undecided. A claim judged in fewer than 2 settings, or 'measured, not "
    "judged', keeps its label. A setting counts once its run is complete under the current declaration; one "
    "that has not run, did not finish or ran an older declaration is named and not counted. A setting whose "
    f"baseline arm scores more than {UNDER_TRAINED_SHORTFALL:g} below a published reference accuracy for the same "
    "dataset, model family and split size counts, and is labelled under-trained; a reference that differs in any "
    "of them is reported with what differs, and labels nothing."
)
# for MLflow's compare view
SCOPE_CODES = {"holds": 1, "inconclusive": 0, "setting-dependent": 0, "refuted": -1, "measured": 0,
               "varies": 0, "consistent": 0}


# ---- the declared settings ------------------------------------------------------------------------
def declared(experiment) -> dict[str, Setting]:
    """The experiment's SETTINGS, "default" first; {} for an experiment that declares none."""
    return experiment.settings


def check_declaration(name: str, module) -> None:
    """A module's SETTINGS must include "default" with no overrides, and override only config keys."""
    settings = getattr(module, "SETTINGS", None)
    if settings is None:
        return
    if DEFAULT_SETTING not in settings or settings[DEFAULT_SETTING].overrides:
        raise TypeError(f"experiments/{name}.py: SETTINGS must declare '{DEFAULT_SETTING}' with no overrides")
    declared = getattr(module, "CONFIG", {})
    keys = {*declared, "backend"}
    thresholds = {key for key, domain in declared.items() if getattr(domain, "threshold", False)}
    if getattr(module, "BACKEND", TENSORFLOW) != TENSORFLOW and \
            getattr(settings.get(TENSORFLOW_SETTING), "overrides", None) != {"backend": TENSORFLOW}:
        raise TypeError(f"experiments/{name}.py runs on {module.BACKEND}: SETTINGS must declare "
                        f"'{TENSORFLOW_SETTING}', the default config on TensorFlow (overrides {{'backend': "
                        "'tensorflow'}), so the scope shows whether a verdict depends on the backend")
    for setting_name, setting in settings.items():
        if not isinstance(setting, Setting):
            raise TypeError(f"experiments/{name}.py: SETTINGS[{setting_name!r}] must be a claimlab.spec.Setting")
        unknown = set(setting.overrides) - keys
        if unknown:
            raise TypeError(f"experiments/{name}.py: setting {setting_name!r} overrides unknown keys {sorted(unknown)}")
        if set(setting.overrides) & thresholds:
            raise TypeError(f"experiments/{name}.py: setting {setting_name!r} changes a decision threshold; "
                            "a setting changes what is trained, never the rule")


def folder(experiment_name: str, setting_name: str) -> str:
    """results/NAME for the default setting, results/NAME@setting for the others."""
    return experiment_name if setting_name == DEFAULT_SETTING else f"{experiment_name}@{setting_name}"


def setting_config(experiment, setting_name: str, profile: str, seeds: int | None = None,
                   until_decided: int | None = None) -> dict:
    """The resolved config of one declared setting under a profile (config.resolve checks every value)."""
    setting = declared(experiment)[setting_name]
    base = config_module.resolve(experiment, profile, seeds=seeds, until_decided=until_decided)
    overrides = {key: repr(value.of(base[key]) if isinstance(value, Times) else value)
                 for key, value in setting.overrides.items()}
    # Every setting runs the profile's seeds (issue 27): with fewer seeds in some settings, a scope that
    # compares settings would mostly count seeds.
    return config_module.resolve(experiment, profile, overrides, seeds=seeds, until_decided=until_decided)


def chosen(experiment, names: str) -> list[str]:
    """The settings `--settings` names for one experiment: 'all', or a comma-separated list."""
    available = declared(experiment) or {DEFAULT_SETTING: None}
    if names == "all":
        return list(available)
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise UsageError(f"--settings {unknown[0]}: {experiment.name} declares no such setting; "
                         f"its settings: {', '.join(available)}, or all")
    return wanted


def setting_record(name: str, setting: Setting) -> SettingRecord:
    """What summary.json says about the setting a run belongs to."""
    return SettingRecord(name, setting.label, setting.reason,
                         {key: repr(value) if isinstance(value, Times) else value
                          for key, value in setting.overrides.items()})


# ---- reference accuracy ---------------------------------------------------------------------------
def reference_check(setting: Setting | None, trials) -> ReferenceCheck | None:
    """The setting's baseline arm against its published reference: measured mean, shortfall, and whether
    it is under-trained. None when the setting names no reference or the baseline has not run."""
    if setting is None or setting.reference is None or not len(trials):
        return None
    reference = setting.reference
    rows = trials[trials["arm"] == reference.arm]
    measured = float(rows[reference.metric].astype(float).mean()) if reference.metric in rows and len(rows) else None
    shortfall = None if measured is None else reference.value - measured
    differs = reference.differences()
    return ReferenceCheck(arm=reference.arm, metric=reference.metric, reference=reference.value, measured=measured,
                          shortfall=shortfall,
                          under_trained=bool(not differs and shortfall is not None and shortfall > UNDER_TRAINED_SHORTFALL),
                          source=reference.source, differs=differs)


def reference_text(check: ReferenceCheck | None) -> str:
    if not check:
        return "no published reference"
    if check.measured is None:
        return (f"{check.arm} {check.metric} was not measured in this run (a profile without that training "
                f"size?), so it is not compared with the published {check.reference:.2f}")
    if check.differs:  # not like with like: reported, and what differs said; it labels nothing
        return (f"{check.arm} {check.metric} {check.measured:.3f} beside a published {check.reference:.2f} that does "
                f"not compare like with like ({'; '.join(check.differs)}: context only, the plateau test says "
                f"whether the arm trained; {check.source})")
    state = (f"under-trained: {check.shortfall:.3f} short" if check.under_trained
             else "within reach of it" if check.shortfall > 0 else "above it")
    return (f"{check.arm} {check.metric} {check.measured:.3f} against a published {check.reference:.2f} "
            f"({state}; {check.source})")


# ---- seeds needed ---------------------------------------------------------------------------------
def seeds_needed(comparison: Comparison) -> SeedsNeeded:
    """For an undecided comparison: how many seeds would decide it, planned at the declared smallest effect
    of interest m with the observed spread (never at the observed effect, which is what is uncertain). A
    claim of a difference needs 80% power to show a true d of m clear of 0; a claim of equivalence needs 80%
    power for TOST to show a true d of 0 inside +-m. The path the observed d points to sets the alpha: a
    refutation is one of the family's k refute paths (alpha / k, the Bonferroni bound of Holm), support
    is not corrected. The other path's count is given beside it."""

    name, n, mean, se = comparison.name, comparison.n, comparison.mean, comparison.se
    if comparison.state == "censored":
        return SeedsNeeded(name, None,
                           "censored (a run never reached the threshold): more seeds of the same runs do not help")
    sd = se * math.sqrt(n) if se is not None and n and math.isfinite(se) else math.nan
    if not (math.isfinite(sd) and sd > NUMERICALLY_ZERO and math.isfinite(mean)):
        return SeedsNeeded(name, None, f"no spread between seeds to extrapolate from (n={n})")
    m = comparison.margin if comparison.margin is not None else comparison.smallest_effect
    family = comparison.family or 1
    toward_support = comparison.p_support < comparison.p_refute  # the observed d points to support
    refute_alpha = stats.ALPHA / family
    at_refute = f"alpha {stats.ALPHA:g}" + (f"/{family}" if family > 1 else "")
    spread = f"observed sd {sd:.4f}"
    if m is None:  # no smallest effect declared: only the observed effect can be planned for
        alpha = stats.ALPHA if toward_support else refute_alpha
        return SeedsNeeded(name, stats.seeds_for_power(mean, sd, alpha=alpha),
                           f"for {stats.POWER:.0%} power at the observed d {mean:+.4f} ({spread})")
    if comparison.test == "equivalence":
        # support: TOST inside +-m at a true d of 0; refute: a true d of m shown clear of 0 (one of k)
        support_seeds = stats.seeds_for_equivalence(0.0, sd, m)
        refute_seeds = stats.seeds_for_power(m, sd, alpha=refute_alpha)
        support_why = f"for {stats.POWER:.0%} power that TOST shows a true d of 0 inside +-{m:g}"
        refute_why = f"for {stats.POWER:.0%} power to show a true d of {m:g} clear of 0 at {at_refute}"
    else:
        # support: a true d of m shown clear of 0 (uncorrected); refute: a true d of 0 shown negligible
        support_seeds = stats.seeds_for_power(m, sd, alpha=stats.ALPHA)
        refute_seeds = stats.seeds_for_equivalence(0.0, sd, m, alpha=refute_alpha)
        support_why = f"for {stats.POWER:.0%} power to show a true d of {m:g} clear of 0 at alpha {stats.ALPHA:g}"
        refute_why = f"for {stats.POWER:.0%} power that a true d of 0 is shown inside +-{m:g} at {at_refute}"
    if toward_support:
        return SeedsNeeded(name, support_seeds, f"{support_why} ({spread}); or {_count(refute_seeds)} {refute_why}")
    return SeedsNeeded(name, refute_seeds, f"{refute_why} ({spread}); or {_count(support_seeds)} {support_why}")


def _count(seeds: int | None) -> str:
    return "not reachable" if seeds is None else str(seeds)


def seeds_needed_for_claim(claim: ClaimResult) -> tuple[SeedsNeeded, ...]:
    """Seeds needed for every judged, undecided comparison of an inconclusive claim."""
    return tuple(seeds_needed(c) for c in claim.undecided())


def seeds_needed_text(entry: SeedsNeeded) -> str:
    seeds = "no number of seeds" if entry.seeds is None else f"{entry.seeds} seeds"
    return f"{entry.comparison}: {seeds} {entry.why}"


# ---- the scope rule -------------------------------------------------------------------------------
def scope_verdict(verdicts: dict[str, str], under_trained: set[str] = frozenset(),
                  not_counted: dict[str, str] | None = None) -> dict:
    """SCOPE_RULE on one claim's verdict per counted setting ({setting: verdict}, in declaration order).
    Returns {"code": holds | refuted | inconclusive | setting-dependent | not run, "text": ...}."""
    def names(settings):
        return ", ".join(s + (" (under-trained)" if s in under_trained else "") for s in settings)

    k = len(verdicts)
    kinds = set(verdicts.values())
    if not k:
        code, text = "not run", "no setting has a complete run yet"
    elif kinds == {SUPPORTED}:
        code, text = "holds", f"holds in all {k} settings"
    elif kinds == {REFUTED}:
        code, text = "refuted", f"refuted in all {k} settings"
    elif kinds == {INCONCLUSIVE}:
        code, text = "inconclusive", f"inconclusive in all {k} settings"
    elif kinds == {MEASURED}:  # a claim that is not judged anywhere has no scope to give
        code, text = "measured", f"measured, not judged, in all {k} settings"
    else:
        code = "setting-dependent"
        text = "setting-dependent: " + "; ".join(
            f"{verdict} in {names([s for s, v in verdicts.items() if v == verdict])}"
            for verdict in (SUPPORTED, REFUTED, INCONCLUSIVE) if verdict in kinds)
    marked = [s for s in verdicts if s in under_trained]
    if code != "setting-dependent" and marked:
        text += f" ({names(marked)})"
    if not_counted:
        text += "; not counted: " + ", ".join(f"{s} ({why})" for s, why in not_counted.items())
    return {"code": code, "text": text}


# ---- scope from the effects (issue 27) ---------------------------------------------------------------
def claimed_side(c: Comparison) -> str | None:
    """A difference comparison's claimed side of 0: recorded since issue 27; for older results read from
    its p-values (the support path is the claimed side's)."""
    if c.claimed_side or c.test == "equivalence":
        return c.claimed_side
    if not (math.isfinite(c.p_support) and math.isfinite(c.p_refute)) or c.mean == 0 or c.p_support == c.p_refute:
        return None
    on_mean_side = "above" if c.mean > 0 else "below"
    return on_mean_side if c.p_support < c.p_refute else ("below" if on_mean_side == "above" else "above")


def finding_of(c: Comparison) -> str:
    """What the lab's one decision finds in one comparison's numbers: negligible, above, below, undecided."""
    sd = c.se * math.sqrt(c.n) if c.n and math.isfinite(c.se) else math.nan
    test = {"n": c.n, "sd": sd, "mean": c.mean, "se": c.se, "df": c.df, "ci_low": c.ci_low, "ci_high": c.ci_high}
    return decide(test, c.margin)["finding"]


def verdict_of_finding(finding: str, test: str, side: str | None) -> str:
    """A finding read as the claim reads it: an equivalence claim is supported by negligible; a claimed side
    by that side, and refuted by the other side or negligible."""
    if finding in (FLOOR, UNDECIDED):
        return INCONCLUSIVE
    if test == "equivalence":
        return SUPPORTED if finding == NEGLIGIBLE else REFUTED
    if side is None:
        return INCONCLUSIVE
    return SUPPORTED if finding == side else REFUTED


def pooled_comparisons(rows: dict) -> dict:
    """Per judged comparison (name, metric) found in at least 2 counted settings: its meta-analysis across
    them, each setting's effect and finding, whether it varies, and the pooled finding and verdict.

    A setting whose seeds all gave the same effect (the verdicts' "identical in all n seeds") has no sampling
    error, so it cannot take an inverse-variance weight: it stays out of the pooled mean, is decided exactly,
    and enters the heterogeneity test as a known effect (stats.heterogeneity_about_exact). A pooled mean
    cannot overrule it: where they disagree the pooled finding is undecided."""
    by_key: dict[tuple[str, str], dict[str, Comparison]] = {}
    for setting_name, row in rows.items():
        for c in row["comparisons"]:
            by_key.setdefault((c.name, c.metric), {})[setting_name] = c
    pooled = {}
    for (name, metric), per_setting in by_key.items():
        finite = {s: c for s, c in per_setting.items() if c.n and math.isfinite(c.mean) and math.isfinite(c.se)}
        exact = {s: c for s, c in finite.items() if not c.se * math.sqrt(c.n) > NUMERICALLY_ZERO}
        usable = {s: c for s, c in finite.items() if s not in exact}
        if len(finite) < 2:
            continue
        first = next(iter(finite.values()))
        meta = (stats.meta_analysis([c.mean for c in usable.values()], [c.se for c in usable.values()])
                if len(usable) >= 2 else dict(NO_POOLED_MEAN, k=len(usable)))
        if exact:
            meta["q"], meta["q_p"] = stats.heterogeneity_about_exact(
                [c.mean for c in usable.values()], [c.se for c in usable.values()], [c.mean for c in exact.values()])
        findings = {s: finding_of(c) for s, c in finite.items()}
        decided = {f for f in findings.values() if f in (NEGLIGIBLE, ABOVE, BELOW)}
        varies = meta["q_p"] < HETEROGENEITY_ALPHA and len(decided) >= 2
        finding = UNDECIDED
        if len(usable) >= 2:
            sd = meta["se"] * math.sqrt(meta["k"])
            finding = decide({"n": meta["k"], "sd": sd, "mean": meta["mean"], "se": meta["se"], "df": meta["df"],
                              "ci_low": meta["ci_low"], "ci_high": meta["ci_high"]}, first.margin)["finding"]
        # Effects that differ in size but are decided the same way in every setting: the decision holds in each,
        # and a pooled mean of different sizes would only blur it (random effects widen its interval).
        every_setting_alike = len(decided) == 1 and set(findings.values()) == decided
        same_way = meta["q_p"] < HETEROGENEITY_ALPHA and every_setting_alike
        if same_way or (exact and every_setting_alike):
            finding = next(iter(decided))
        elif any(findings[s] != finding for s in exact):
            finding = UNDECIDED
        side = next((claimed_side(c) for c in finite.values() if claimed_side(c)), None)
        pooled[f"{name} ({metric})"] = {
            **meta, "name": name, "metric": metric, "margin": first.margin, "test": first.test,
            "settings": {s: {"mean": c.mean, "ci_low": c.ci_low, "ci_high": c.ci_high, "finding": findings[s],
                             "verdict": c.verdict} for s, c in finite.items()},
            "exact": list(exact), "varies": varies, "same_way": same_way, "finding": finding,
            "verdict": verdict_of_finding(finding, first.test, side)}
    return pooled


# What a comparison pooled over fewer than 2 settings with a sampling error has in place of a meta-analysis.
NO_POOLED_MEAN = {"mean": math.nan, "se": math.nan, "df": 0, "ci_low": math.nan, "ci_high": math.nan,
                  "tau2": math.nan, "i2": math.nan, "q": math.nan, "q_p": math.nan, "pi_low": math.nan,
                  "pi_high": math.nan, "p_value": math.nan}


def effects_scope(verdicts: dict[str, str], pooled: dict, combines_as_all_of: bool = True,
                  under_trained: set[str] = frozenset(), not_counted: dict[str, str] | None = None) -> dict:
    """SCOPE_RULE on one claim: its per-setting verdicts and its pooled comparisons (pooled_comparisons)."""
    judged = {s: v for s, v in verdicts.items() if v != MEASURED}
    if not pooled or len(judged) < 2:  # nothing to combine: the labels are all there is
        return scope_verdict(verdicts, under_trained, not_counted)
    k = len(verdicts)
    varying = {key: p for key, p in pooled.items() if p["varies"]}
    if varying:
        code = "varies"
        text = "varies between settings: " + "; ".join(
            f"{p['name']}: " + ", ".join(f"{s} {shown(e['mean'])} ({e['finding']})" for s, e in p["settings"].items())
            + f" (Q p={p['q_p']:.2g}, I2 {_percent(p['i2'])})" for p in varying.values())
    else:
        code = "consistent"
        parts = "; ".join(f"{p['name']} = {shown(p['mean'])} [{shown(p['ci_low'])}, {shown(p['ci_high'])}] "
                          f"{p['finding']}" + (f" in every setting, sizes differing (Q p={p['q_p']:.2g})"
                                               if p["same_way"] else "") + _not_pooled(p) for p in pooled.values())
        if combines_as_all_of:
            pooled_verdicts = [p["verdict"] for p in pooled.values()]
            claim = (REFUTED if REFUTED in pooled_verdicts else SUPPORTED if all(v == SUPPORTED for v in pooled_verdicts)
                     else INCONCLUSIVE)
            text = f"consistent across {k} settings, pooled: {claim} ({parts})"
        else:
            text = f"consistent across {k} settings, pooled per comparison (the claim's own rule combines them): {parts}"
        alone = [s for s, v in judged.items() if v == INCONCLUSIVE]
        if alone and len(alone) < len(judged):
            text += f"; undecided alone (too little power): {', '.join(alone)}"
    marked = [s for s in verdicts if s in under_trained]
    if marked:
        text += f" (under-trained: {', '.join(marked)})"
    if not_counted:
        text += "; not counted: " + ", ".join(f"{s} ({why})" for s, why in not_counted.items())
    return {"code": code, "text": text}


def _percent(share: float) -> str:
    return f"{share:.0%}" if math.isfinite(share) else "n/a"


def _not_pooled(p: dict) -> str:
    """The settings a pooled comparison left out of its mean, each identical in every seed, with its effect."""
    exact = p.get("exact") or []  # scope.json from before the exact settings were told apart has none
    return (" (identical in every seed, so not in the pooled mean: "
            + ", ".join(f"{s} {shown(p['settings'][s]['mean'])} {p['settings'][s]['finding']}" for s in exact) + ")"
            if exact else "")


# ---- collecting the settings' results ---------------------------------------------------------------
def _identity(cfg: dict) -> str:
    return json.dumps(files.json_safe({k: v for k, v in cfg.items() if k not in config_module.NOT_TRIAL_IDENTITY}),
                      sort_keys=True, default=repr)


def _why_not_counted(experiment, setting_name: str, summary: Summary | None) -> str:
    if summary is None:
        return "not run"
    if summary.status != "complete":
        return f"run {summary.status}: finish it with --resume"
    try:
        expected = setting_config(experiment, setting_name, summary.profile)
    except UsageError as error:
        return f"cannot run: {error}"
    if _identity(expected) != _identity(config_module.as_recorded(summary.config)):
        return "ran an older declaration of the setting or config: rerun it"
    return ""


def collect(experiment, results_root: Path) -> dict:
    """scope.json's content: the settings with their status and reference check, and per empirical claim
    its row per counted setting and its scope verdict. The rows hold the typed comparisons and seeds
    needed (claimlab.schema); scope.json writes them as summary.json does."""
    settings, summaries, not_counted = {}, {}, {}
    for name, setting in declared(experiment).items():
        summary = read_summary(results_root / folder(experiment.name, name))
        why = _why_not_counted(experiment, name, summary)
        settings[name] = {**dataclasses.asdict(setting_record(name, setting)), "folder": folder(experiment.name, name),
                          "counted": not why, "why_not_counted": why,
                          "profile": summary and summary.profile, "seeds": summary and len(summary.seeds),
                          "reference": summary and summary.reference,
                          "parent_run_id": summary and summary.mlflow.parent_run_id,
                          "wall_seconds": summary and summary.wall_seconds}
        if why:
            not_counted[name] = why
        else:
            summaries[name] = summary
    under_trained = {name for name, s in settings.items() if s["reference"] and s["reference"].under_trained}
    claims = {}
    for claim in experiment.claims:
        if claim.kind != "empirical":
            continue
        rows = {}
        for name, summary in summaries.items():
            entry = summary.claim(claim.id)
            rows[name] = {"verdict": entry.verdict, "qualifier": entry.qualifier, "reason": entry.reason,
                          "seeds_needed": entry.seeds_needed or (), "comparisons": entry.measured.judged()}
        verdicts = {name: row["verdict"] for name, row in rows.items()}
        pooled = pooled_comparisons(rows)
        # AllOf, Ranking and the single comparisons combine their comparisons as AllOf does; a Custom rule its own way
        own_way = bool(summaries) and isinstance(
            claim.rule_for({**experiment.config, **next(iter(summaries.values())).config}), Custom)
        claims[claim.id] = {"quote": claim.quote, "hypothesis": claim.hypothesis, "rows": rows, "pooled": pooled,
                            "scope": effects_scope(verdicts, pooled, not own_way, under_trained, not_counted)}
    return {"experiment": experiment.name, "title": experiment.title, "rule": SCOPE_RULE, "settings": settings,
            "claims": claims}


# ---- the report -----------------------------------------------------------------------------------
def scope_markdown(scope: dict, figure_files: dict[str, str]) -> str:
    name = scope["experiment"]
    lines = [f"# {name}: where the verdicts hold", "",
             f"Generated by the runner from results/{name}@*/summary.json (the default setting is results/{name}/); "
             "do not edit.", "", f"**Scope rule (fixed before the runs).** {scope['rule']}", "",
             "## Settings", "", "Declared in experiments/" + name + ".py before any run.", "",
             "| setting | what | why it is in the scope | profile, seeds | status | baseline against a published "
             "reference |", "|---|---|---|---|---|---|"]
    for setting_name, s in scope["settings"].items():
        link = f"[{setting_name}](../{s['folder']}/summary.md)" if s["profile"] else setting_name
        status = "counted" if s["counted"] else s["why_not_counted"]
        runs = f"{s['profile']}, {s['seeds']} seeds" if s["profile"] else ""
        lines.append(f"| {link} | {s['label']} | {s['reason']} | {runs} | {status} | "
                     f"{reference_text(s['reference']) if s['profile'] else ''} |")
    lines.append("")
    for claim_id, claim in scope["claims"].items():
        lines += [f"## {claim_id}", "", *[f"> {line}" for line in claim["quote"].splitlines()], "",
                  f"**Hypothesis.** {claim['hypothesis']}", "", f"**Scope: {claim['scope']['text']}.**", "",
                  "| setting | verdict | comparison | effect [95% CI] | n seeds | seeds needed |",
                  "|---|---|---|---|---|---|"]
        for setting_name, row in claim["rows"].items():
            verdict = row["verdict"] + (f" ({row['qualifier']})" if row["qualifier"] else "")
            needed = {entry.comparison: entry for entry in row["seeds_needed"]}
            if not row["comparisons"]:
                lines.append(f"| {setting_name} | {verdict} | {row['reason'][:120]} | | | |")
            for c in row["comparisons"]:
                entry = needed.get(c.name)
                seeds = "" if entry is None else (_count(entry.seeds) + f" ({entry.why})")
                lines.append(f"| {setting_name} | {verdict} | {c.name} ({c.metric}): {c.verdict} | "
                             f"{shown(c.mean)} [{shown(c.ci_low)}, {shown(c.ci_high)}] | {c.n} | {seeds} |")
        lines.append("")
        if claim.get("pooled"):
            lines += [f"Pooled across the settings ({stats.META_METHOD}):", "",
                      "| comparison | settings | pooled d [95% CI] | prediction interval | tau^2 | I^2 | Q (p) | "
                      "decision |", "|---|---|---|---|---|---|---|---|"]
            for p in claim["pooled"].values():
                decision = p["finding"] + (" (in every setting; sizes differ)" if p.get("same_way") else "") + (
                    " - varies" if p["varies"] else "")
                settings = f"{p['k']}" + (f" + {len(p['exact'])} identical in every seed" if p.get("exact") else "")
                lines.append(f"| {p['name']} ({p['metric']}) | {settings} | {shown(p['mean'])} [{shown(p['ci_low'])}, "
                             f"{shown(p['ci_high'])}] | [{shown(p['pi_low'])}, {shown(p['pi_high'])}] | {p['tau2']:.2g} | "
                             f"{_percent(p['i2'])} | {p['q']:.3g} ({p['q_p']:.2g}) | {decision}: {p['verdict']} |")
            lines.append("")
        if claim_id in figure_files:
            lines += [f"![{claim_id} across settings]({figure_files[claim_id]})", ""]
    return "\n".join(lines)


VERDICT_COLOUR = {SUPPORTED: "tab:green", REFUTED: "tab:red", INCONCLUSIVE: "0.45"}


def forest_figure(claim_id: str, claim: dict, settings: dict):
    """One row per (setting, judged comparison): the effect with its 95% CI, coloured by the comparison's
    verdict, the zero line, and the equivalence margin where the rule has one; then per comparison its
    pooled effect across the settings (a diamond, its Hartung-Knapp CI) and the prediction interval of a
    new setting (dotted); a panel per metric."""
    plt = plots.pyplot()
    panels: dict[str, list] = {}
    for setting_name, row in claim["rows"].items():
        reference = settings[setting_name]["reference"]
        for c in row["comparisons"]:
            label = f"{setting_name}{' (under-trained)' if reference and reference.under_trained else ''}: {c.name}"
            panels.setdefault(c.metric, []).append((label, c))
    for p in claim.get("pooled", {}).values():  # scope.json from before issue 27 has no pooled effects
        if not math.isfinite(p["mean"]):  # fewer than 2 settings with a sampling error: no pooled mean
            continue
        pooled = Comparison(p["name"], p["metric"], p["mean"], p["ci_low"], p["ci_high"], p["k"], p["verdict"],
                            p["finding"], margin=p["margin"])
        panels.setdefault(p["metric"], []).append((f"pooled ({p['k']} settings): {p['name']}", pooled,
                                                   (p["pi_low"], p["pi_high"])))
    if not panels:
        return None
    height = max(2.2, 0.32 * max(len(rows) for rows in panels.values()) + 1.4)
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), height), squeeze=False)
    for ax, (metric, rows) in zip(axes[0], panels.items()):
        for y, (label, c, *prediction) in enumerate(reversed(rows)):
            colour = VERDICT_COLOUR.get(c.verdict, "0.45")
            if prediction and all(math.isfinite(v) for v in prediction[0]):
                ax.plot(list(prediction[0]), [y, y], color=colour, linewidth=1, linestyle=":")
            if math.isfinite(c.ci_low):
                ax.plot([c.ci_low, c.ci_high], [y, y], color=colour, linewidth=2)
            ax.plot([c.mean], [y], "D" if prediction else "o", color=colour, markersize=8 if prediction else 6)
            if c.margin is not None:
                ax.plot([-c.margin, c.margin], [y, y], linestyle="none", marker="|", markersize=14, color="k")
        ax.axvline(0, color="k", linewidth=0.8)
        shown = {row[1].verdict for row in rows}
        ax.legend(handles=[plt.Line2D([], [], color=VERDICT_COLOUR[v], marker="o", label=v) for v in VERDICT_COLOUR
                           if v in shown], fontsize=7, loc="best")
        ax.set_yticks(range(len(rows)), [row[0] for row in reversed(rows)], fontsize=7)
        ax.set_xlabel(f"effect d on {metric} (95% CI; | marks the equivalence margin)")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"{claim_id}: {claim['scope']['text']}"[:150], fontsize=9)
    fig.tight_layout()
    return fig


def write_report(experiment, results_root: Path) -> dict:
    """Rebuild results/NAME/scope.{md,json} and the forest plots from the settings' summaries on disk.
    Returns the scope (scope.json's content) with the figure files under "figures". Each setting's
    summary.md then shows the scope as it now stands: claimlab.report.write_scope does both."""
    scope = collect(experiment, results_root)
    results_dir = results_root / experiment.name
    figure_files, plt = {}, plots.pyplot()
    for claim_id, claim in scope["claims"].items():
        figure = forest_figure(claim_id, claim, scope["settings"])
        if figure is None:
            continue
        figure_files[claim_id] = f"scope_{claim_id}.png"
        files.atomic_write(results_dir / figure_files[claim_id],
                           lambda temporary: figure.savefig(temporary, format="png", dpi=110, bbox_inches="tight"))
        plt.close(figure)
    for stale in results_dir.glob("scope_*.png"):
        if stale.name not in figure_files.values():
            stale.unlink()
    scope["figures"] = figure_files
    files.atomic_write_text(results_dir / "scope.json", json.dumps(files.json_safe(scope), indent=2) + "\n")
    files.atomic_write_text(results_dir / "scope.md", scope_markdown(scope, figure_files))
    return scope


def read(results_root: Path, experiment_name: str) -> dict | None:
    path = results_root / experiment_name / "scope.json"
    return json.loads(path.read_text()) if path.exists() else None


def log_grid_run(tracker, results_root: Path, scope: dict, profile: str, command: str) -> str:
    """An MLflow run for the grid: the scope verdicts as tags and metrics, the settings' parent runs, and
    the scope report as artifacts."""
    results_dir = results_root / scope["experiment"]
    tags = {"claimlab.role": "scope", "claimlab.profile": profile, "claimlab.command": command,
            "claimlab.settings": json.dumps({name: s["parent_run_id"] for name, s in scope["settings"].items()}),
            "mlflow.note.content": (results_dir / "scope.md").read_text(),
            **{f"scope.{claim_id}": claim["scope"]["text"] for claim_id, claim in scope["claims"].items()}}
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    run_id = tracker.start_run(f"scope-{profile}-{stamp}", {})
    tracker.set_tags(run_id, tags)  # set_tags cuts each value to what MLflow stores: the note is long
    tracker.log_metrics(run_id, {f"scope/{claim_id}": SCOPE_CODES.get(claim["scope"]["code"], 0)
                                 for claim_id, claim in scope["claims"].items()})
    for path in [results_dir / "scope.md", results_dir / "scope.json",
                 *(results_dir / name for name in scope["figures"].values())]:
        tracker.client.log_artifact(run_id, str(path), "scope")
    tracker.end(run_id, "FINISHED")
    return run_id


def print_table(scope: dict, out) -> None:
    """The scope of each claim in the terminal: its verdict per setting, then the scope verdict."""
    counted = [name for name, s in scope["settings"].items() if s["counted"]]
    out("")
    out(f"scope of {scope['experiment']} ({len(counted)} of {len(scope['settings'])} settings counted)")
    out(f"{'claim':<6} " + " ".join(f"{name[:14]:<14}" for name in scope["settings"]) + " scope")
    out("-" * 100)
    for claim_id, claim in scope["claims"].items():
        cells = [claim["rows"][name]["verdict"] if name in claim["rows"] else "-" for name in scope["settings"]]
        out(f"{claim_id:<6} " + " ".join(f"{cell[:14]:<14}" for cell in cells) + f" {claim['scope']['text']}")
