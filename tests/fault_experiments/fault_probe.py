"""A test-only experiment for tests/test_faults.py: tiny real Keras training, plus arms that misbehave.

Not a claim: it lives under tests/ and is found only through $CLAIMLAB_EXPERIMENTS_PATH. Each trial
writes its worker's pid to `marker_dir` when it starts (so a test can SIGKILL that worker), trains a
one-layer model for `seconds` of wall time at least (so a test can act mid-run), and the `dies` arm
ends its own worker process with os._exit, as the OOM killer would.
"""

import os
import time
from pathlib import Path

from claimlab.domains import Integer, OneOf, Real, Text
from claimlab.spec import Claim, Source, TrialResult
from claimlab.verdict import Better, IfDiverged, Level

TITLE = "Fault probe (tests only)"
CONFIG = {
    "epochs": Integer(1, min=1),
    "seconds": Real(1.0, min=0),
    "marker_dir": Text(""),
    "dying_arm": OneOf("none", choices=("none", "dies")),
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    "smallest_effect": Real(0.01, min=0, threshold=True),  # the rule's, as every experiment declares it
}
PROFILES = {"smoke": {"seeds": 3}}
TENSORFLOW_BECAUSE = "a probe of the runner's own in-process and pool paths, which run TensorFlow like the runner"
ARMS = {"small": {"units": 2}, "large": {"units": 8}, "dies": {"units": 4}}
IF_DIVERGED = {"accuracy": IfDiverged.scores(0.5, "chance on two balanced classes")}
LEVELS = {"accuracy": Level(0.5, 1.0, "two balanced classes")}


CLAIMS = [
    Claim(id="F1", kind="empirical", quote="A wider layer fits better.",
          source=Source("000_2706fe11d950e137.txt", "1", "fault probe"),
          hypothesis="large beats small on training accuracy (a probe, not a claim)",
          rule=lambda cfg: Better("accuracy", arm="large", than="small", smallest_effect=cfg["smallest_effect"])),
]


def run_trial(arm, seed, cfg):
    import numpy as np
    import keras

    if cfg["marker_dir"]:
        Path(cfg["marker_dir"], f"{arm}-{seed}-{os.getpid()}.started").write_text(str(os.getpid()))
    if arm == "dies" and cfg["dying_arm"] == "dies":
        os._exit(137)  # what a worker killed by the OOM killer looks like to the pool
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(ARMS[arm]["units"], activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=cfg["epochs"], verbose=0).history
    time.sleep(max(0.0, cfg["seconds"] - (time.perf_counter() - started)))
    return TrialResult(metrics={"accuracy": float(history["accuracy"][-1]), "diverged": 0.0},
                       history={"train/loss": history["loss"]})
