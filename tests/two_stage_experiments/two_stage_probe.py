"""A test-only experiment for tests/test_two_stage.py: two arms that train the same tiny Keras model on
differently drawn noisy data, so their paired difference is a real, noisy, near-zero effect that three seeds
leave undecided and a second stage of seeds can decide.

Not a claim: found only through $CLAIMLAB_EXPERIMENTS_PATH.
"""

from claimlab.domains import Integer, Real
from claimlab.spec import Claim, Source, TrialResult
from claimlab.verdict import Better, IfDiverged, Level

TITLE = "Two-stage probe (tests only)"
CONFIG = {
    "epochs": Integer(20, min=1),
    "smallest_effect": Real(0.06, min=0, threshold=True),  # the rule's, as every experiment declares it
}
PROFILES = {"smoke": {"seeds": 3}}
TENSORFLOW_BECAUSE = "a probe of the runner's second stage, run as the runner's own TensorFlow trials"
ARMS = {"a": {"draw": 1}, "b": {"draw": 2}}
IF_DIVERGED = {"accuracy": IfDiverged.scores(0.5, "chance on two balanced classes")}
LEVELS = {"accuracy": Level.unbounded("a probe: the arms are compared wherever they land")}

CLAIMS = [
    Claim(id="T1", kind="empirical", quote="Arm a fits better than arm b.",
          source=Source("000_2706fe11d950e137.txt", "1", "two-stage probe"),
          hypothesis="a beats b on held-out accuracy (a probe, not a claim: the arms are the same model)",
          rule=lambda cfg: Better("accuracy", arm="a", than="b", smallest_effect=cfg["smallest_effect"])),
]


def run_trial(arm, seed, cfg):
    import keras
    import numpy as np

    rng = np.random.default_rng([seed, cfg["draw"]])
    weights = np.array([1.0, -1.0, 0.5, 0.0])
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x @ weights + 0.8 * rng.normal(size=96) > 0).astype("int32")
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:64], y[:64], epochs=cfg["epochs"], verbose=0).history
    accuracy = float(model.evaluate(x[64:], y[64:], verbose=0)[1])
    return TrialResult(metrics={"accuracy": accuracy, "diverged": 0.0}, history={"train/loss": history["loss"]})
