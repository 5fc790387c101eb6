"""A reader's run set beside the published results: reproduced, differs, or not comparable.

The committed results/ are the lab's published evidence; a reader who reruns an experiment wants to
know at once whether the verdicts hold on their machine. So every run ends by finding the published run
of the same experiment and setting (by default in this repository's results/, `--compare-with DIR`
for another folder) and saying, claim by claim, one word:

- `reproduced`: the same verdict;
- `differs`: another verdict;
- `not comparable`: the two ran different configs, and the keys that differ are named.

How many seeds ran is the strength of the evidence, not the config: a quick run of 5 seeds against a
published full run of 10 is comparable, and the report says the seed counts differ. Everything here is
a pure function of two summaries (claimlab.schema.Summary); the runner reads the published one before it writes anything,
so `--publish` compares a regeneration with the results it replaces.
"""

from __future__ import annotations

import json
from pathlib import Path

from claimlab import config as config_module
from claimlab.errors import UsageError
from claimlab.schema import ClaimResult, ReproducedClaim, Reproduction, Summary, read_summary
from claimlab.stats import shown

REPRODUCED, DIFFERS, NOT_COMPARABLE = "reproduced", "differs", "not comparable"

# Keys that say how much evidence a run gathered, not what a trial computes.
STRENGTH_KEYS = config_module.NOT_TRIAL_IDENTITY


def _normal(value):
    """A config value as summary.json holds it (tuples become lists), so two runs compare by value."""
    return json.loads(json.dumps(value, default=repr))


def config_differences(published: dict, run: dict) -> list[str]:
    """The config keys whose values differ between two runs, the seed count left out, sorted."""
    published, run = config_module.as_recorded(published), config_module.as_recorded(run)
    keys = (set(published) | set(run)) - set(STRENGTH_KEYS)
    return sorted(key for key in keys if key not in published or key not in run
                  or _normal(published[key]) != _normal(run[key]))


def effect_text(entry: ClaimResult | None) -> str:
    """A claim's effect as the table shows it: the judged comparison's mean [95% CI]; with several judged
    comparisons the first, and how many more; an exact claim's 'exact check'."""
    if entry is None:
        return ""
    judged = entry.measured.judged()
    if not judged:
        return "exact check" if entry.kind == "exact" else "no paired comparison"
    first = judged[0]
    text = f"{shown(first.mean)} [{shown(first.ci_low)}, {shown(first.ci_high)}]"
    return text + (f" (+{len(judged) - 1} more)" if len(judged) > 1 else "")


def verdict_text(entry: ClaimResult | None) -> str:
    return "not in the published run" if entry is None else entry.label()


def compare(published: Summary, run: Summary, where: str) -> Reproduction:
    """The reproduction record of summary.json: what the run was set against (`where`, e.g.
    'results/gap_vs_flatten'), whether the configs are comparable, and per claim both verdicts and
    effects with the one word."""
    differing = config_differences(published.config, run.config)
    published_seeds, run_seeds = len(published.seeds), len(run.seeds)
    if differing:
        note = "not comparable: the configs differ in " + ", ".join(
            f"{key} ({_value(published, key)} published, {_value(run, key)} here)" for key in differing)
        if not [key for key in differing if key not in config_module.TRIALS_ONLY]:
            note += "; the exact checks are comparable (they run on TensorFlow whatever the trials' backend)"
    else:
        note = "the same config" + ("" if published_seeds == run_seeds else
                                    f"; only the seed count differs ({run_seeds} here, {published_seeds} published)")
    # The exact checks run in the runner's own process on TensorFlow whatever the trials' backend, so a
    # config that differs only in keys of the trials leaves them comparable.
    differing_for_checks = [key for key in differing if key not in config_module.TRIALS_ONLY]
    rows = []
    for entry in run.claims:
        old = published.claim(entry.id)
        word = (NOT_COMPARABLE if old is None or (differing_for_checks if entry.kind == "exact" else differing)
                else REPRODUCED if old.verdict == entry.verdict else DIFFERS)
        rows.append(ReproducedClaim(id=entry.id, verdict=verdict_text(entry), effect=effect_text(entry),
                                    published_verdict=verdict_text(old), published_effect=effect_text(old), word=word))
    return Reproduction(against=where, commit=published.commit, profile=published.profile, seeds=published_seeds,
                        run_seeds=run_seeds, differing_keys=tuple(differing), comparable=not differing, note=note,
                        claims=tuple(rows))


def _value(summary: Summary, key: str) -> str:
    config = config_module.as_recorded(summary.config)
    return "absent" if key not in config else repr(_normal(config[key]))


def _read(folder: Path) -> Summary | None:
    try:
        return read_summary(folder)
    except (OSError, UsageError):  # unreadable: nothing to compare with
        return None


def counterpart(published_root: Path, folder: str, experiment: str, cfg: dict) -> tuple[str, Summary] | None:
    """The published run a run in results folder `folder` is set against: the same folder (the same
    experiment and setting, or the same --set variant); for a variant the lab never published, a published
    run of the experiment with the very same config, else the experiment's default run (which the report
    then calls not comparable, naming the keys). None when nothing of the experiment is published."""
    same = _read(published_root / folder)
    if same is not None and same.experiment == experiment:
        return folder, same
    if "@" not in folder:
        return None
    candidates = sorted(path.parent for path in published_root.glob(f"{experiment}*/summary.json")
                        if path.parent.name.split("@", 1)[0] == experiment)
    for candidate in candidates:
        summary = _read(candidate)
        if summary and not config_differences(summary.config, cfg):
            return candidate.name, summary
    default = _read(published_root / experiment)
    return (experiment, default) if default is not None else None


def against_published(published_root: Path | None, folder: str, summary: Summary) -> Reproduction | None:
    """summary.json's reproduction record for a run written to results folder `folder`, or None when
    there is nothing published to compare with (or `published_root` is None)."""
    if published_root is None:
        return None
    found = counterpart(published_root, folder, summary.experiment, summary.config)
    if found is None:
        return None
    name, published = found
    return compare(published, summary, f"{_shown(published_root)}/{name}")


def _shown(root: Path) -> str:
    """The published folder as the report names it: relative to the working directory when inside it."""
    try:
        return str(root.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(root)


# ---- rendering ------------------------------------------------------------------------------------
def heading(record: Reproduction) -> str:
    commit = f", commit {record.commit[:12]}" if record.commit else ""
    return (f"Reproduction of the published results in {record.against} (profile {record.profile}, "
            f"{record.seeds} seeds{commit}): {record.note}.")


def terminal_lines(record: Reproduction) -> list[str]:
    """The terminal's reproduction table: each claim's verdict and effect here and published, and the word."""
    width = max([24, *(len(f"{r.verdict} {r.effect}") for r in record.claims)]) + 2
    lines = ["", heading(record),
             f"{'claim':<6} {'this run: verdict, effect [95% CI]':<{width}} "
             f"{'published: verdict, effect [95% CI]':<{width}} reproduction", "-" * 100]
    for row in record.claims:
        lines.append(f"{row.id:<6} {row.verdict + ' ' + row.effect:<{width}} "
                     f"{row.published_verdict + ' ' + row.published_effect:<{width}} {row.word}")
    return lines


def markdown_lines(record: Reproduction | None) -> list[str]:
    """summary.md's reproduction section."""
    if not record:
        return []
    lines = ["## Reproduction", "", heading(record), "",
             "| claim | this run | effect [95% CI] | published | effect [95% CI] | reproduction |",
             "|---|---|---|---|---|---|"]
    for row in record.claims:
        lines.append(f"| {row.id} | {row.verdict} | {row.effect} | {row.published_verdict} | "
                     f"{row.published_effect} | **{row.word}** |")
    return [*lines, ""]


def tags(record: Reproduction | None) -> dict[str, str]:
    """The parent run's tags: one word per claim, and what it was compared with."""
    if not record:
        return {}
    return {"claimlab.reproduction.against": f"{record.against}@{record.commit[:12]}",
            **{f"claimlab.reproduction.{row.id}": row.word for row in record.claims}}
