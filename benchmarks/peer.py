"""The hand-written peer: a plain sequential loop over an experiment's arms x seeds in one process.

The same models and data as the runner, on the same backend (each trial is the experiment's own
`run_trial`, seeded the same way), with the backend's default threading, no worker processes, no MLflow,
no report. Prints one JSON
line: wall seconds, CPU seconds, and the seconds of each trial.

    python benchmarks/peer.py gap_vs_flatten --profile quick
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("experiment")
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args()
    started = time.perf_counter()
    from claimlab import backend, config, registry, train

    experiment = registry.load(args.experiment)
    cfg = config.resolve(experiment, args.profile)
    os.environ["KERAS_BACKEND"] = cfg["backend"]  # the runner's trials' backend, with its default threading
    if cfg["backend"] == backend.JAX:
        backend.configure_jax()  # the compilation cache the runner's workers use
    experiment.prepare(cfg)
    trial_seconds = []
    for seed in range(cfg["seeds"]):
        for arm, overrides in experiment.arms.items():
            began = time.perf_counter()
            train.seed_everything(seed)
            experiment.run_trial(arm, seed, config.trial_config(cfg, overrides))
            trial_seconds.append(time.perf_counter() - began)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                      "trials": trial_seconds, "peak_rss_mb": usage.ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
