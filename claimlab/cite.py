"""`python runner.py --cite ID`: a ready-to-paste citation of one claim from what results/ holds.

Every number is read from the summary.json files the runner wrote (the default setting's and each
declared setting's), never recomputed, so a citation says exactly what the committed results say: the
quote and its source, the verdict and effect [95% CI] in each setting, the scope verdict, the seed
counts, the commit and the versions, and a BibTeX @misc entry.
"""

from __future__ import annotations

from pathlib import Path

from claimlab import registry, scope
from claimlab.errors import UsageError
from claimlab.report import trained_on
from claimlab.schema import ClaimResult, Summary, read_summary
from claimlab.stats import shown
from claimlab.verdict import Comparison


def find_claim(claim_id: str):
    """The experiment and claim with this id (case-insensitive), or a UsageError that says where ids are listed."""
    for experiment in registry.load_all():
        for claim in experiment.claims:
            if claim.id.lower() == claim_id.lower():
                return experiment, claim
    raise UsageError(f"no claim with id {claim_id!r}; python runner.py --list shows every claim id")


def comparison_text(c: Comparison) -> str:
    """One judged comparison as the citation quotes it: effect [CI], the margin if any, the seed count."""
    text = f"{c.name} ({c.metric}) = {shown(c.mean)} [{c.confidence:.0%} CI {shown(c.ci_low)}, {shown(c.ci_high)}]"
    if c.margin is not None:
        text += f", equivalence margin +-{c.margin:g}"
    return text + f", n={c.n} seeds"


def evidence_text(entry: ClaimResult) -> str:
    """The numbers behind one claim's verdict in one run: its judged comparisons, else the rule's reason."""
    judged = entry.measured.judged()
    return "; ".join(comparison_text(c) for c in judged) if judged else entry.reason


def runs_of(experiment, results_root: Path) -> list[tuple[str, str, Summary]]:
    """(setting name, its label, summary.json) for every run of the experiment that results/ holds: each
    declared setting in declaration order, or the one default run of an experiment without settings."""
    if not experiment.settings:
        summary = read_summary(results_root / experiment.name)
        return [("default", "the experiment's config", summary)] if summary else []
    return [(name, setting.label, summary) for name, setting in experiment.settings.items()
            if (summary := read_summary(results_root / scope.folder(experiment.name, name)))]


def citation(claim_id: str, results_root: Path) -> str:
    experiment, claim = find_claim(claim_id)
    rerun = f"python runner.py {experiment.name}" + (" --settings all" if experiment.settings else "")
    runs = runs_of(experiment, results_root)
    if not runs:
        raise UsageError(f"results/ holds no run of {experiment.name} (in {results_root}); run {rerun} first")
    runs = [run for run in runs if run[2].claim(claim.id) is not None]  # a run from before the claim was declared
    if not runs:
        raise UsageError(f"{claim.id} was declared after the runs of {experiment.name} in {results_root} were made, "
                         f"so none of them judged it; run {rerun} to judge it")
    default = runs[0][2]
    entries = {name: summary.claim(claim.id) for name, _, summary in runs}
    source = claim.source.where()
    versions = ", ".join(f"{k} {v}" for k, v in default.versions.items())
    commit = default.commit[:12] + (" (with uncommitted changes)" if default.dirty else "")
    lines = [f"{claim.id} ({experiment.name}, {claim.kind} claim)", "",
             *[f"> {line}" for line in claim.quote.splitlines()], "",
             f"Source: {source}, \"{claim.source.title}\"", f"Hypothesis: {claim.hypothesis}", "",
             "Verdict in each setting:"]
    for name, label, summary in runs:
        entry = entries[name]
        lines.append(f"- {name} ({label}; profile {summary.profile}, {len(summary.seeds)} seeds, trained on "
                     f"{trained_on(summary)}): {entry.label()}: {evidence_text(entry)}")
    scope_report = scope.read(results_root, experiment.name) if experiment.settings else None
    scope_line = None
    if claim.kind == "empirical" and scope_report and claim.id in scope_report["claims"]:
        scope_line = scope_report["claims"][claim.id]["scope"]["text"]
        lines += ["", f"Scope: {scope_line} (rule: {scope_report['rule']})"]
    framework = ", ".join(f"{k} {v}" for k, v in default.versions.items() if k in ("tensorflow", "keras"))
    lines += ["", f"Measured by claimlab at commit {commit} on {versions}; results/{experiment.name}/summary.md.",
              "", bibtex(claim, experiment.name, runs, entries, scope_line, commit, framework)]
    return "\n".join(lines)


def bibtex(claim, experiment_name: str, runs, entries: dict, scope_line: str | None, commit: str,
           framework: str) -> str:
    year = runs[0][2].generated_at[:4] or "n.d."
    per_setting = "; ".join(f"{name}: {entries[name].label()}" for name, _, _ in runs)
    note = f"{per_setting}." + (f" Scope: {scope_line}." if scope_line else "") + f" Measured on {framework}."
    key = f"claimlab_{claim.id.lower()}"
    return "\n".join([
        f"@misc{{{key},",
        f"  title        = {{{{claimlab}}: claim {claim.id}, {_bibtex_escape(claim.source.title)}}},",
        "  author       = {{claimlab contributors}},",
        f"  year         = {{{year}}},",
        f"  howpublished = {{results/{experiment_name}/summary.json at commit {commit}}},",
        f"  note         = {{{_bibtex_escape(note)}}}",
        "}"])


def _bibtex_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "&%$#_{}" else ch for ch in text)
