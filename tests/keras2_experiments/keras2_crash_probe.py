"""A test-only experiment for tests/test_keras2.py: an exact check that crashes its process (a signal, as
TensorFlow's oneDNN conv2d_backprop_filter does under tf-keras for E8a) unless oneDNN is off, so the test
can show the Keras 2 run retrying without oneDNN and saying so. Found only through
$CLAIMLAB_EXPERIMENTS_PATH."""

from claimlab.spec import Claim, Source
from claimlab.verdict import Exact

TITLE = "Keras 2 crash probe (tests only)"
CONFIG = {
}
PROFILES = {"smoke": {"seeds": 1}, "quick": {"seeds": 1}, "full": {"seeds": 1}}
ARMS = {}


def crashes_unless_onednn_is_off(cfg):
    import os
    import signal

    if os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
        os.kill(os.getpid(), signal.SIGSEGV)
    return {"ran": True}


CLAIMS = [
    Claim(id="K2", kind="exact", quote="This check runs.", source=Source("000_2706fe11d950e137.txt", "1", "probe"),
          hypothesis="the check returns (a probe, not a claim)",
          rule=Exact(crashes_unless_onednn_is_off, expect={"ran": True})),
]
