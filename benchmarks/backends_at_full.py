"""JAX against TensorFlow at the full profile, read from the committed results: no training here.

    python benchmarks/backends_at_full.py

Every experiment whose default setting runs on JAX declares a `tensorflow` setting: the same config, the
same trials, on TensorFlow (issue 24). Once both are committed from one regeneration, their trials.csv
files time the same work on the two backends, at the profile the ledger cites. This prints, per such
experiment, the compute time on each backend of the trials both settings ran (the sum of the trials'
`seconds`: a fused batch's time is shared among its seeds; two-stage seeds may add different trials to
each setting) and their ratio, as a markdown table for the README. Both settings ran
with the same --jobs, on the machine their summaries name; other work on that machine in the meantime
adds to either side, so compare ratios, not single times.

A second table compares what each arm reached on the two backends: its mean test accuracy in each setting,
a Welch t-test of the difference, and Holm's adjustment over every arm compared. The same seed draws
different initial weights and batch orders on the two backends, so only a difference in distribution is
a finding; the arms Holm leaves below 0.05 are printed.
"""

import csv
import json
import sys
from pathlib import Path

import pandas as pd
from scipy import stats as scipy_stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claimlab import registry  # noqa: E402
from claimlab.stats import holm  # noqa: E402
from claimlab.scope import DEFAULT_SETTING, TENSORFLOW_SETTING, folder  # noqa: E402


def trial_seconds(results_dir: Path) -> dict[tuple[str, str], float]:
    """Each trial's compute seconds, by (arm, seed)."""
    with open(results_dir / "trials.csv", newline="") as handle:
        return {(row["arm"], row["seed"]): float(row["seconds"]) for row in csv.DictReader(handle)}


def setting_pairs(results_root: Path) -> list[tuple[str, dict[str, Path], dict[str, dict]]]:
    """(experiment, folders, summaries) of each experiment whose default (JAX) and tensorflow settings are
    both committed, on the backends they declare."""
    pairs = []
    for experiment in registry.load_all():
        if TENSORFLOW_SETTING not in experiment.settings:
            continue
        dirs = {name: results_root / folder(experiment.name, name) for name in (DEFAULT_SETTING, TENSORFLOW_SETTING)}
        if not all((d / "summary.json").exists() for d in dirs.values()):
            continue
        summaries = {name: json.loads((d / "summary.json").read_text()) for name, d in dirs.items()}
        backends = {name: s["config"].get("backend") for name, s in summaries.items()}
        if backends == {DEFAULT_SETTING: "jax", TENSORFLOW_SETTING: "tensorflow"}:  # else from before JAX
            pairs.append((experiment.name, dirs, summaries))
    return pairs


def rows(results_root: Path) -> list[dict]:
    """One row per experiment with both settings committed on the backends they declare. Two-stage seeds add
    seeds where a setting left a comparison undecided, so the two settings may hold different trials: only
    the (arm, seed) trials both ran are summed, the same work on each backend."""
    found = []
    for name, dirs, summaries in setting_pairs(results_root):
        jax, tensorflow = (trial_seconds(dirs[setting]) for setting in (DEFAULT_SETTING, TENSORFLOW_SETTING))
        both = jax.keys() & tensorflow.keys()
        found.append({"experiment": name, "trials": len(both), "jax_trials": len(jax),
                      "tf_trials": len(tensorflow), "profile": summaries[DEFAULT_SETTING]["profile"],
                      "jax": sum(jax[key] for key in both), "tensorflow": sum(tensorflow[key] for key in both),
                      "machine": summaries[DEFAULT_SETTING]["machine"]})
    return found


def arm_differences(results_root: Path, metric: str = "test/accuracy") -> list[dict]:
    """Each arm of each pair of settings: its mean `metric` on JAX and on TensorFlow, the difference (TF - JAX),
    Welch's p and Holm's adjusted p over every arm listed. An arm whose values are identical within both
    settings has no test (p nan, adjusted 1)."""
    found = []
    for name, dirs, _ in setting_pairs(results_root):
        jax, tensorflow = (pd.read_csv(dirs[setting] / "trials.csv") for setting in (DEFAULT_SETTING, TENSORFLOW_SETTING))
        if metric not in jax or metric not in tensorflow:
            continue
        for arm in sorted(set(jax["arm"]) & set(tensorflow["arm"])):
            on_jax, on_tf = (frame.loc[frame["arm"] == arm, metric].dropna() for frame in (jax, tensorflow))
            varies = on_jax.nunique() > 1 or on_tf.nunique() > 1
            p_value = float(scipy_stats.ttest_ind(on_tf, on_jax, equal_var=False).pvalue) if varies else float("nan")
            found.append({"experiment": name, "arm": arm, "jax": float(on_jax.mean()), "tensorflow": float(on_tf.mean()),
                          "n_jax": len(on_jax), "n_tf": len(on_tf), "difference": float(on_tf.mean() - on_jax.mean()),
                          "p": p_value})
    for row, adjusted in zip(found, holm([row["p"] for row in found])):
        row["holm"] = adjusted
    return found


def main() -> None:
    found = rows(ROOT / "results")
    print("| experiment | profile | trials in both (JAX / TF ran) | JAX trial s | TensorFlow trial s | TF / JAX |")
    print("|---|---|---|---|---|---|")
    for row in found:
        print(f"| {row['experiment']} | {row['profile']} | {row['trials']} ({row['jax_trials']} / {row['tf_trials']}) | "
              f"{row['jax']:.0f} | {row['tensorflow']:.0f} | {row['tensorflow'] / row['jax']:.2f} |")
    print()
    print("machines: " + "; ".join(sorted({row["machine"] for row in found})))
    arms = arm_differences(ROOT / "results")
    print(f"\nArms whose test accuracy differs between the backends (Welch t, Holm over {len(arms)} arms, below 0.05):\n")
    print("| experiment | arm | JAX (n) | TensorFlow (n) | TF - JAX | p | Holm |")
    print("|---|---|---|---|---|---|---|")
    for row in arms:
        if row["holm"] < 0.05:
            print(f"| {row['experiment']} | {row['arm']} | {row['jax']:.4f} ({row['n_jax']}) | {row['tensorflow']:.4f} "
                  f"({row['n_tf']}) | {row['difference']:+.4f} | {row['p']:.2g} | {row['holm']:.2g} |")


if __name__ == "__main__":
    main()
