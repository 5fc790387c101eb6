"""A test-only experiment for tests/test_scope.py: a tiny real Keras training declared in three settings.

Not a claim: found only through $CLAIMLAB_EXPERIMENTS_PATH. Two arms (a narrow and a wide hidden
layer) fit a noisy linear rule; the settings change the budget (relative to the profile, as the real
budget settings do) and the width, and the default names a reference no one-epoch run reaches, so the
scope report's under-trained label has something to show.
"""

from claimlab.domains import Integer, Real
from claimlab.spec import Claim, Reference, Setting, Source, Times, TrialResult
from claimlab.verdict import Better, IfDiverged, Level

TITLE = "Scope probe (tests only)"
CONFIG = {
    "epochs": Integer(1, min=1),
    "width_scale": Integer(1, min=1),
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    "smallest_effect": Real(0.01, min=0, threshold=True),  # the rule's, as every experiment declares it
}
PROFILES = {"smoke": {"seeds": 3}}
TENSORFLOW_BECAUSE = "a probe of the scope machinery, run as the runner's own TensorFlow trials"
ARMS = {"narrow": {"units": 1}, "wide": {"units": 16}}
IF_DIVERGED = {"accuracy": IfDiverged.scores(0.5, "chance on two balanced classes")}
LEVELS = {"accuracy": Level(0.5, 1.0, "two balanced classes")}
SETTINGS = {
    "default": Setting("64 examples, one epoch", "the probe's own setting",
                       reference=Reference("wide", "accuracy", 0.999, "a reference no one-epoch run reaches",
                                           "two blobs", "an MLP", 64, arm_dataset="two blobs", arm_family="an MLP",
                                           arm_train_examples=64)),
    "longer": Setting("64 examples, 3x the epochs", "a budget setting relative to the profile", {"epochs": Times(3)}),
    "wider": Setting("64 examples, both arms 4x wider", "a capacity setting", {"width_scale": 4}),
}

CLAIMS = [
    Claim(id="S1", kind="empirical", quote="A wider layer fits better.",
          source=Source("000_2706fe11d950e137.txt", "1", "scope probe"),
          hypothesis="wide beats narrow on training accuracy (a probe, not a claim)",
          rule=lambda cfg: Better("accuracy", arm="wide", than="narrow", smallest_effect=cfg["smallest_effect"])),
]


def run_trial(arm, seed, cfg):
    import keras
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.3 * rng.normal(size=64) > 0).astype("int32")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(cfg["units"] * cfg["width_scale"], activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=cfg["epochs"], verbose=0).history
    return TrialResult(metrics={"accuracy": float(history["accuracy"][-1]), "diverged": 0.0},
                       history={"train/loss": history["loss"]})
