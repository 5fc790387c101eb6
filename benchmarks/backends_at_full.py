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
"""

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from claimlab import registry  # noqa: E402
from claimlab.scope import DEFAULT_SETTING, TENSORFLOW_SETTING, folder  # noqa: E402


def trial_seconds(results_dir: Path) -> dict[tuple[str, str], float]:
    """Each trial's compute seconds, by (arm, seed)."""
    with open(results_dir / "trials.csv", newline="") as handle:
        return {(row["arm"], row["seed"]): float(row["seconds"]) for row in csv.DictReader(handle)}


def rows(results_root: Path) -> list[dict]:
    """One row per experiment with both settings committed on the backends they declare. Two-stage seeds add
    seeds where a setting left a comparison undecided, so the two settings may hold different trials: only
    the (arm, seed) trials both ran are summed, the same work on each backend."""
    found = []
    for experiment in registry.load_all():
        if TENSORFLOW_SETTING not in experiment.settings:
            continue
        dirs = {name: results_root / folder(experiment.name, name) for name in (DEFAULT_SETTING, TENSORFLOW_SETTING)}
        if not all((d / "summary.json").exists() for d in dirs.values()):
            continue
        summaries = {name: json.loads((d / "summary.json").read_text()) for name, d in dirs.items()}
        backends = {name: s["config"].get("backend") for name, s in summaries.items()}
        if backends != {DEFAULT_SETTING: "jax", TENSORFLOW_SETTING: "tensorflow"}:
            continue  # a setting from before the experiment moved to JAX
        jax, tensorflow = (trial_seconds(dirs[name]) for name in (DEFAULT_SETTING, TENSORFLOW_SETTING))
        both = jax.keys() & tensorflow.keys()
        found.append({"experiment": experiment.name, "trials": len(both), "jax_trials": len(jax),
                      "tf_trials": len(tensorflow), "profile": summaries[DEFAULT_SETTING]["profile"],
                      "jax": sum(jax[key] for key in both), "tensorflow": sum(tensorflow[key] for key in both),
                      "machine": summaries[DEFAULT_SETTING]["machine"]})
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


if __name__ == "__main__":
    main()
