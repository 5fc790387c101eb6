"""A test-only experiment for tests/test_keras2.py: one exact claim whose measured value differs between
Keras 2 and Keras 3, so the test can show that such a claim is reported with both verdicts.

Not a claim of the lab: found only through $CLAIMLAB_EXPERIMENTS_PATH. "Keras ships a
LocallyConnected2D layer" held in Keras 2 and stopped holding in Keras 3, which dropped the layer.
"""

from claimlab.spec import Claim, Source
from claimlab.verdict import Exact

TITLE = "Keras 2 probe (tests only)"
CONFIG = {
}
PROFILES = {"smoke": {"seeds": 1}, "quick": {"seeds": 1}, "full": {"seeds": 1}}
ARMS = {}


def locally_connected_in_keras(cfg):
    import keras

    return {"ships_locally_connected_2d": hasattr(keras.layers, "LocallyConnected2D"),
            "keras_major": int(keras.__version__.split(".")[0])}


CLAIMS = [
    Claim(id="K1", kind="exact", quote="Keras has a LocallyConnected2D layer.",
          source=Source("000_2706fe11d950e137.txt", "1", "keras 2 probe"),
          hypothesis="keras.layers.LocallyConnected2D exists (a probe, not a claim)",
          rule=Exact(locally_connected_in_keras, expect={"ships_locally_connected_2d": True})),
]
