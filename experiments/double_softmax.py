"""A softmax in front of a loss that applies (log-)softmax itself: "the network doesn't learn at all". From
the question "Adding softmax layer to LSTM network "freezes" output" (sources/004_6e8709b0f2e54d47.txt,
lines 19-58).

The asker trains a next-character LSTM in PyTorch: LSTM layers, one fully connected layer, then
`nn.Softmax` (lines 26-40), and feeds the softmax output to `nn.CrossEntropyLoss` (line 50), which applies
log-softmax to what it is given. So the loss sees softmax(softmax(z)). They report (lines 24, 55) that with
the softmax layer "the output is the same every single epoch for every single batch" and "the network
doesn't learn at all", while without it (line 38: they comment the softmax line out) it "trains somewhat
appropriately".

Three ids:

    E2a (exact)      the double softmax, computed as the asker computes it (a softmax TensorFlow cannot
                     see as one, under Keras' SparseCategoricalCrossentropy(from_logits=True)): its loss and
                     its gradient at the logits z equal the closed forms below (float64) up to float32
                     round-off; at z = 0 the gradient is exactly 1/V of the correct loss's gradient; and the
                     loss can never leave the 1-nat band [log(V - 1 + e) - 1, log(V - 1 + e)].
    E2b (empirical)  trained on next-character prediction, the network with the (hand-written) softmax in
                     front of the from-logits loss learns nothing beyond always predicting the most frequent
                     character, while the same network without the softmax learns.
    E2c (exact)      the Keras form of the asker's mistake, a Keras softmax output (Dense(activation=
                     "softmax") or a Softmax layer) under SparseCategoricalCrossentropy(from_logits=True),
                     applies the softmax twice.

The closed forms (p = softmax(z), q = softmax(p), y the target, V classes): loss = -log q_y;
d loss / d p = q - e_y =: g; d loss / d z = J_softmax(p)^T g = p * (g - <p, g>) (elementwise). At z = 0:
p = q = 1/V, so d loss / d z = (1/V) (1/V - e_y) = (1/V) x the correct gradient (softmax(z) - e_y): norm
sqrt(V - 1) / V^1.5 against sqrt((V - 1) / V). Since p lies in the simplex, q_y lies between
1 / (V - 1 + e) (p = e_k, k != y) and e / (V - 1 + e) (p = e_y): the loss lives in a band 1 nat wide, from
log(V - 1 + e) - 1 (3.59 nats for V = 97) to log(V - 1 + e) (4.59), where uniform outputs give log V
(4.57 nats): from where it starts, the double softmax's loss can fall by less than 1 nat, the correct one
to 0. A training loss that barely moves is what the asker may have seen.

Found while reading Keras' source to write the arms, before any run: Keras 3 on TensorFlow
(keras/src/backend/tensorflow/nn.py, `_get_logits`) recognises a softmax output under a cross-entropy loss,
by the `_keras_logits` attribute Keras' softmax attaches to its output or by the graph op type "Softmax",
and computes the loss from the logits underneath instead, warning "received `from_logits=True`, but the
`output` argument was produced by a Softmax activation". A 20-line probe (a Dense model, 64 random
inputs) gave the correct loss, not the double one, for Dense(activation="softmax"), a Softmax layer and a
Softmax layer followed by Identity, in eager calls, in model.evaluate and inside a nested Model with an
Identity output, as claimlab's fused-seed towers wrap a model.
So the Keras form named in the claims list (softmax output with from_logits=True) is not a double softmax
in this Keras: E2c measures that, on the run's own model and data, as an exact check (with a control the
check can fail: the hand-written softmax). Trained, that form would be the `logits` arm again, so it is
not an arm. The double softmax is trained as the asker computes it: the softmax written out with
keras.ops (exp(z - max z) / sum), which no Keras or TensorFlow check recognises, then the same
from_logits=True loss. PyTorch's nn.CrossEntropyLoss has no such check, so this is the asker's computation.

Task: next-character prediction on the text of the lab's own sources (sources/*.txt concatenated in name
order, 83k characters, V = 97 distinct characters, every character its own class as in the asker's
one-hot dictionary of ~200). The text is cut into blocks of `block_chars` characters; the blocks are
shuffled by data_seed and split 75 / 10 / 15 % into train / validation / test, so no test window overlaps a
training window. An example is the `context` characters before a position (within one block) and the
character at it: about 62k training, 8k validation and 12k test examples. Baseline: always predict the
training split's most frequent character (the space, about 16% of the test characters).

Arms (the same network, the same initial weights for a seed, the same batches; Keras'
SparseCategoricalCrossentropy(from_logits=True) in both, as the asker's nn.CrossEntropyLoss in both):
    logits          Embedding(V, 16) -> Flatten -> Dense(256, relu) -> Dense(V) "logits": the loss gets z
    double_softmax  the same, then the hand-written softmax: the loss gets softmax(z) and applies its own

Design choices, made before any run:
- The model is a window MLP, not the asker's LSTM, to keep ten seeds and five settings within minutes on
  two cores (an LSTM of 64 units trained 2-3x slower per epoch in a timing before any run). The double softmax acts only after
  the last Dense layer, which is the asker's own `fully_connected` layer; what lies below it changes the
  features, not the loss. Training: Adam (learning rate 1e-3, Keras' default), batch 128 (about 490 updates an
  epoch), Keras' default initialisation, no clipping. Every arm trains until its validation loss has not
  improved for `patience` (10) epochs, at most `epochs` (300), and keeps the weights of its best epoch
  (PLATEAU; the validation split, never the test split). Why not a fixed budget: at the former 5 epochs
  the logits arm was still improving (the quick run of 2026-12-05: training accuracy 0.49, up 3.6 points
  over the last fifth of the epochs); and "doesn't learn at all" is a claim about where training ends.
  The cap was 60 at first: in the first quick run to a plateau the double-softmax arm reached it in every
  seed with its validation loss still falling (4.44 -> 4.23 nats, test accuracy 0.35 against the
  majority's 0.17), so it was raised to 300 before any full run.
- "doesn't learn at all" is read as: after training, the test accuracy of the double_softmax network
  exceeds the accuracy of always predicting the most frequent training character by no more than
  `learning_margin` = 2 points (per seed, test/accuracy_gain = test accuracy - that baseline). 2 points is
  the lab's usual smallest accuracy effect; a next-character model that learns anything from its context
  (even which letter follows "th") gains tens of points. "trains somewhat appropriately without" is read
  with the same line: the logits network's gain exceeds 2 points.
- E2b's rule (AllOf, Holm over the two refute paths), each part a SeedStatistic on test/accuracy_gain
  (the mean over seeds with its t interval; for a mean, the jackknife interval is the ordinary one):
  (1) learning_margin - mean gain of double_softmax: supported if its 95% CI lies above 0 (the gain is
      significantly below 2 points), refuted if below 0 (the double softmax significantly learns more);
  (2) mean gain of logits - learning_margin: supported if above 0.
  Smallest effect of interest for both: 0.5 points (`smallest_effect`): a gain whose 90% CI lies within
  half a point of the margin is negligible, not clearly on either side of it, which refutes that part. If
  every seed of the double softmax predicted the same single character for every test example, the gains
  would tie at 0: a measured constant, which decides by its value (verdict.decide; until issue 27 it was
  left inconclusive as "no variation"). test/distinct_predictions reports that case.
- The issue also asks how much slower the double softmax learns and at what gradient scale: reported, not
  judged. "how much slower" as the fraction of the logits arm's gain the double softmax does not reach in
  the same budget (1 - mean gain double / mean gain logits; smallest effect `smallest_fraction` = 0.1,
  as for the gradient below), the test-accuracy difference, the per-epoch
  validation accuracy (history), and across settings the 5x budget. The gradient scale: per trial, on the
  first `grad_examples` test examples, before and after training, the mean per-example norm of
  d loss / d z (z the logits) and the global norm of the gradient over the weights. A seed's two arms
  start from the same weights, so their ratio at initialisation is the loss's doing alone (reported as the
  fraction of the gradient the double softmax takes away, 1 - ratio).
  Also reported: the test cross-entropy (nats per character) of the model's distribution softmax(z)
  against the unigram baseline (training frequencies, add-one smoothed), the training loss per arm (the
  double softmax's stays inside its band) and the number of distinct characters predicted on the test set.
- E2a checks the closed forms at V = the run's class count and V = 200 (the asker's "~200"), on 256
  random logit vectors of scale `check_logit_scale` = 3 (std; spread like trained logits) with random
  targets, at z = 0, and at saturated logits z = 30 e_k (30 makes the softmax one-hot to 1e-13). The
  tolerance `float_tolerance` = 1e-5 (relative) is float32 round-off: machine epsilon 1.2e-7, sums of V
  <= 200 terms of order 1, an error around 1e-6; 1e-5 leaves ten times that. E2c uses the same tolerance
  to tell the two losses apart on the run's model: the logits kernel is scaled by 10 so that the correct
  and the double loss differ by far more than it (both reported), and after `check_steps` Adam steps from the
  same weights the weights of each softmax form are compared with the logits model's.

Changed after the first quick run, for a technical reason, with no judged part touched: the two
reported-only seed statistics (the unreached fraction, the gradient ratio) had hard-coded smallest effects,
which the lab's tests refuse (every smallest effect is a declared threshold): they now read
`smallest_fraction`, and the gradient ratio is reported as 1 - ratio so that 0 means "no change".

What we expect from the closed form (written before any run; not part of any rule): Adam divides each
update by a running root-mean-square of its gradient, so a gradient scaled down by ~1/V does not slow it by
itself; what the double softmax changes is the gradient's direction (weighted by p) and a loss that stops
rewarding confidence. Plain SGD steps in proportion to the gradient, so there the 1/V scale should bite.
The `sgd` setting is there for that reason.

What a verdict here covers: one small window MLP on one small text corpus on CPU. The SETTINGS add a 5x more
patient stop (does the double softmax catch up?), a second hidden layer, plain SGD (learning rate 0.1, no
momentum), and scikit-learn's digits (10 classes instead of 97: the 1/V factor is 10 times milder), and
the scope report (results/double_softmax/scope.md) says in which of them each verdict holds.
"""

from claimlab import data as datasets
from claimlab import train
from claimlab.checks import fresh_keras, keras_major
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.paths import SOURCES_DIR
from claimlab.spec import Claim, DatasetInfo, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, AtMost, Better, Exact, IfDiverged, Level, Plateau, SeedStatistic, Summarize

SOURCE_FILE = "004_6e8709b0f2e54d47.txt"
QUESTION = "Adding softmax layer to LSTM network \"freezes\" output"

TITLE = "A softmax in front of a from-logits loss: the gradient it leaves, what Keras does with it, and training"

SETUP_QUOTE = (
    "My idea is this : I take a batch of B input sequences of size n (np array of n integers), one hot encode "
    "them and pass them through my network composed of several LSTM layers, one fully connected layers and one "
    "softmax unit.\n"
    "self.softmax = nn.Softmax(dim = 1)\n"
    "output = self.softmax(output)\n"
    "loss = nn.CrossEntropyLoss(output, target)"
)

CLAIMS = [
    Claim(
        id="E2a",
        kind="exact",
        quote=SETUP_QUOTE,
        source=Source(SOURCE_FILE, "22-50", QUESTION),
        hypothesis=(
            "A softmax in front of a cross-entropy that applies log-softmax itself computes -log "
            "softmax(softmax(z))_y: in Keras/TensorFlow (a hand-written softmax under "
            "SparseCategoricalCrossentropy(from_logits=True)) its loss and its gradient at the logits match the "
            "closed forms up to float32 round-off, the gradient at z = 0 is exactly 1/V of the correct loss's, "
            "and the loss is confined to [log(V - 1 + e) - 1, log(V - 1 + e)], a band 1 nat wide."
        ),
        rule="e2a_rule",
    ),
    Claim(
        id="E2b",
        kind="empirical",
        quote=(
            "My issue is that when I include the softmax layer, the output is the same every single epoch for every "
            "single batch. When I don't include it, the network seems to learn appropriately.\n"
            "each time the outcome was the same : the network doesn't learn at all when it has the softmax layer, "
            "and trains somewhat appropriately without."
        ),
        source=Source(SOURCE_FILE, "24-55", QUESTION),
        hypothesis=(
            "Trained on next-character prediction (the text of the lab's sources, 97 characters), a window MLP whose "
            "softmax output goes into a loss that applies its own softmax reaches a test accuracy no more than 2 "
            "points above always predicting the most frequent character, while the same network without the "
            "softmax exceeds that baseline by more than 2 points."
        ),
        rule="e2b_rule",
    ),
    Claim(
        id="E2c",
        kind="exact",
        quote=(
            "output = self.softmax(output)\n"
            "loss = nn.CrossEntropyLoss(output, target)\n"
            "My understanding of my problem is that I'm trying to do classification, and that the usual is to put "
            "a softmax unit at the end to get \"probabilities\" of each character to appear, but clearly this "
            "isn't right."
        ),
        source=Source(SOURCE_FILE, "39-57", QUESTION),
        hypothesis=(
            "The asker's mistake carries over to Keras as a softmax output under "
            "SparseCategoricalCrossentropy(from_logits=True): with Keras' own softmax (Dense(activation='softmax') "
            "or a Softmax layer) the compiled loss is -log softmax(softmax(z))_y, as it is with a hand-written "
            "softmax."
        ),
        rule="e2c_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    # next character on the text of sources/*.txt; or digits (10 classes)
    "dataset": OneOf("sources_text", choices=("sources_text", "digits")),
    "context": Integer(16, min=1),  # characters before the predicted one
    # the text is split into blocks of this many characters for train / val / test
    "block_chars": Integer(1000, min=2),
    "train_stride": Integer(1, min=1),  # every window of a training block (smoke tests take every 8th)
    "embedding_dim": Integer(16, min=1),
    "hidden_units": Sizes((256,), min=1),
    "optimizer": OneOf("adam", choices=("adam", "sgd")),
    "learning_rate": Real(1e-3, min=0, min_open=True),
    "epochs": Integer(300, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(128, min=1),
    "grad_examples": Integer(512, min=1),  # the test examples the gradient scale is measured on
    "check_vocab": Integer(200, min=2),  # E2a's second class count: the asker's one_hot_length "~200" (line 41)
    "check_logit_scale": Real(3.0, min=0, min_open=True),  # E2a: std of the random logits
    "check_steps": Integer(5, min=1),  # E2c: Adam steps from the same weights before the weights are compared
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E2b: "learns" = test accuracy more than 2 points above always predicting the most frequent character.
    "learning_margin": Real(0.02, min=0, min_open=True, threshold=True),
    # E2b: a gain whose 90% CI lies within +-0.5 points of the margin is negligible: not clearly on either
    # side of it, which refutes the part that claims a side (verdict.decide).
    "smallest_effect": Real(0.005, min=0, min_open=True, threshold=True),
    # E2a, E2c: relative float32 round-off on losses and gradients (see the module docstring).
    "float_tolerance": Real(1e-5, min=0, min_open=True, threshold=True),
    # Reported only (E2b's also_report): a fraction (of the logits arm's gain left unreached, of the
    # gradient's size lost) whose 90% CI lies within +-0.1 is negligible.
    "smallest_fraction": Real(0.1, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    if cfg["dataset"] == "sources_text" and cfg["context"] >= cfg["block_chars"]:
        return [f"context={cfg['context']} must be smaller than block_chars={cfg['block_chars']}: a window lies "
                "within one block"]
    return []


IF_DIVERGED = {
    "test/accuracy_gain": IfDiverged.scores(0.0, "a diverged net has learned nothing: no gain over always "
                                                 "predicting the most frequent character"),
    "grad/*_init": IfDiverged.kept("measured at initialisation, before any training"),
    "*": IfDiverged.excluded("reported only: the values of a diverged net are not finite"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "test/accuracy_gain": Level(0.0, None, "a gain over always predicting the majority class: 0 is learning nothing"),
    "test/accuracy": Level(None, 1.0, "its chance is the majority class's share, which test/accuracy_gain subtracts"),
    "*": Level.unbounded("baselines, losses in nats, counts and gradient norms"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "train_stride": 8, "grad_examples": 128},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The asker reports the failure for their network and optimiser on their text; the double softmax's
# loss band and its 1/V gradient factor depend on the number of classes, and how much a small gradient
# slows training depends on the optimiser. The scope varies the budget, the depth, the optimiser and the
# data. The text task has no published accuracy; digits has one.
DIGITS_REFERENCE = datasets.reference("logits", datasets.DIGITS_PUBLISHED, "an MLP")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("source texts (97 characters), 16-character window MLP (256 units), Adam 1e-3 to a val/loss "
                       "plateau (patience 10, at most 300 epochs)", "the lab's reference setting: a next-character model like the "
                       "asker's, small enough for "
                       "ten seeds on two cores"),
    "long_budget": Setting("source texts, 16-character window MLP (256 units), Adam 1e-3 to a val/loss plateau "
                           "(patience 50, at most 1500 epochs)", "a 5x more patient stop: a network that learns slowly may only need "
                           "longer",
                           {"epochs": Times(5), "patience": Times(5)}),
    "deep": Setting("source texts, 16-character window MLP (two hidden layers of 256), Adam 1e-3 to a plateau",
                    "more capacity, and a longer path for the shrunken gradient (the asker stacks several LSTM "
                    "layers)", {"hidden_units": (256, 256)}),
    "sgd": Setting("source texts, 16-character window MLP (256 units), plain SGD 0.1 to a plateau",
                   "an optimiser whose steps scale with the gradient: Adam normalises the double softmax's small "
                   "gradient away, plain SGD does not", {"optimizer": "sgd", "learning_rate": 0.1}),
    "digits": Setting("scikit-learn digits (10 classes), MLP (256 units), Adam 1e-3 to a plateau (at most 1800 "
                      "epochs)",
                      "the claim is about the loss, whatever the data: a second dataset with 10 classes, where the "
                      "double softmax's 1/V factor is ten times milder (a cap of 1,800 epochs: digits has 1,100 "
                      "training images, 9 batches per epoch)", {"dataset": "digits", "epochs": Times(6)}, DIGITS_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ARMS = {
    "logits": {"head": "logits"},
    "double_softmax": {"head": "double_softmax"},
}
HEADS = tuple(ARMS)


# ---- the double softmax, as the asker computes it ---------------------------------------------------
def hand_written_softmax(z):
    """softmax(z) = exp(z - max z) / sum exp(z - max z) over the last axis, written out with keras.ops so
    that neither Keras (no `_keras_logits` on the result) nor TensorFlow (no "Softmax" op) can tell it is a
    softmax: the loss then treats it as logits, as PyTorch's CrossEntropyLoss treats the asker's."""

    if keras_major() == 2:  # Keras 2 branch (--keras 2): no keras.ops; the same formula in TensorFlow ops
        import tensorflow as tf

        e = tf.exp(z - tf.reduce_max(z, axis=-1, keepdims=True))
        return e / tf.reduce_sum(e, axis=-1, keepdims=True)
    from keras import ops

    e = ops.exp(z - ops.max(z, axis=-1, keepdims=True))
    return e / ops.sum(e, axis=-1, keepdims=True)


def softmax(z):
    """scipy's softmax over the last axis, in float64."""
    import numpy as np
    from scipy import special

    return special.softmax(np.asarray(z, dtype="float64"), axis=-1)


def log_softmax(z):
    """scipy's log-softmax over the last axis, in float64."""
    import numpy as np
    from scipy import special

    return special.log_softmax(np.asarray(z, dtype="float64"), axis=-1)


def correct_loss(z, y):
    """Per example: -log softmax(z)_y, the cross-entropy the asker meant (float64)."""
    import numpy as np

    return -log_softmax(z)[np.arange(len(y)), y]


def double_loss(z, y):
    """Per example: -log softmax(softmax(z))_y, what the loss computes behind a softmax (float64)."""
    import numpy as np

    return -log_softmax(softmax(z))[np.arange(len(y)), y]


def double_gradient(z, y):
    """Per example: d double_loss / d z = p * (g - <p, g>) with p = softmax(z), g = softmax(p) - e_y."""
    import numpy as np

    p = softmax(z)
    g = softmax(p)
    g[np.arange(len(y)), y] -= 1.0
    return p * (g - (p * g).sum(axis=-1, keepdims=True))


def correct_gradient(z, y):
    """Per example: d correct_loss / d z = softmax(z) - e_y."""
    import numpy as np

    g = softmax(z)
    g[np.arange(len(y)), y] -= 1.0
    return g


def double_loss_band(V):
    """The double softmax's loss lies in [log(V - 1 + e) - 1, log(V - 1 + e)], whatever the logits."""
    import math

    top = math.log(V - 1 + math.e)
    return top - 1.0, top


# ---- E2a: the closed forms against TensorFlow --------------------------------------------------------
def keras_double_softmax_loss_and_gradient(z, y):
    """Keras' SparseCategoricalCrossentropy(from_logits=True) on hand_written_softmax(z): the per-example
    losses and d loss_i / d z_i (the batch mean's gradient times the batch size), in float32."""
    import keras
    import numpy as np
    import tensorflow as tf

    z = tf.constant(np.asarray(z, dtype="float32"))

    unreduced = None if keras_major() == 3 else "none"  # Keras 2 (--keras 2) spells "no reduction" "none"
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=unreduced)
    with tf.GradientTape() as tape:
        tape.watch(z)
        losses = loss_fn(np.asarray(y), hand_written_softmax(z))
        mean = tf.reduce_mean(losses)
    gradient = tape.gradient(mean, z) * len(y)
    return np.asarray(losses, dtype="float64"), np.asarray(gradient, dtype="float64")


def keras_correct_gradient(z, y):
    """The same loss on the logits themselves: d loss_i / d z_i of the correct form, in float32."""
    import keras
    import numpy as np
    import tensorflow as tf

    z = tf.constant(np.asarray(z, dtype="float32"))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with tf.GradientTape() as tape:
        tape.watch(z)
        loss = loss_fn(np.asarray(y), z)
    return np.asarray(tape.gradient(loss, z), dtype="float64") * len(y)


def relative_difference(measured, closed_form):
    import numpy as np

    measured, closed_form = np.asarray(measured, dtype="float64"), np.asarray(closed_form, dtype="float64")
    return float(np.abs(measured - closed_form).max() / np.abs(closed_form).max())


def closed_forms_at(V, cfg):
    """E2a at V classes: random logits, zero logits, saturated logits (z = 30 e_k)."""
    import numpy as np

    rng = np.random.default_rng([cfg["data_seed"], V])
    n = 256
    z = rng.normal(scale=cfg["check_logit_scale"], size=(n, V))
    y = rng.integers(0, V, size=n)
    losses, gradient = keras_double_softmax_loss_and_gradient(z, y)
    measured = {
        "loss_rel_diff": relative_difference(losses, double_loss(z, y)),
        "gradient_rel_diff": relative_difference(gradient, double_gradient(z, y)),
        # reported: on these random logits, how much smaller the double softmax's gradient is
        "random_logits_gradient_norm_ratio": float(np.mean(np.linalg.norm(gradient, axis=1)
                                                           / np.linalg.norm(correct_gradient(z, y), axis=1))),
    }

    targets = np.arange(V)  # every class once as the target, at z = 0
    zeros = np.zeros((V, V))
    _, double_at_zero = keras_double_softmax_loss_and_gradient(zeros, targets)
    correct_at_zero = keras_correct_gradient(zeros, targets)
    double_norm = np.linalg.norm(double_at_zero, axis=1)
    correct_norm = np.linalg.norm(correct_at_zero, axis=1)
    measured.update({
        "zero_logits_gradient_ratio": float(np.mean(double_norm / correct_norm)),
        "zero_logits_double_gradient_norm": float(np.mean(double_norm)),
        "zero_logits_correct_gradient_norm": float(np.mean(correct_norm)),
        "zero_logits_gradient_is_scaled_correct": relative_difference(double_at_zero * V, correct_at_zero),
    })

    saturated_right = 30.0 * np.eye(V)  # z = 30 e_y: the softmax puts all its mass on the target
    saturated_wrong = 30.0 * np.roll(np.eye(V), 1, axis=1)  # z = 30 e_(y+1): all on another class
    right, _ = keras_double_softmax_loss_and_gradient(saturated_right, targets)
    wrong, _ = keras_double_softmax_loss_and_gradient(saturated_wrong, targets)
    measured.update({
        "loss_floor": float(right.mean()),
        "loss_ceiling": float(wrong.mean()),
        "uniform_loss": float(np.log(V)),  # reported: z = 0 gives log V under either loss
        "correct_loss_at_floor_logits": float(correct_loss(saturated_right, targets).mean()),
    })
    return measured


def num_classes(cfg):
    return load_data(cfg).num_classes


def double_softmax_closed_forms(cfg):
    """E2a: at the run's class count and at the asker's ~200."""

    fresh_keras()
    measured = {}
    for V in (num_classes(cfg), cfg["check_vocab"]):
        measured.update({f"V{V}/{key}": value for key, value in closed_forms_at(V, cfg).items()})
    return measured


def closed_form_context(measured):
    vocabularies = sorted({key.split("/")[0] for key in measured}, key=lambda v: int(v[1:]))
    return "; ".join(
        f"{v}: gradient on random logits (std 3) {measured[f'{v}/random_logits_gradient_norm_ratio']:.3g}x the "
        f"correct one, loss band [{measured[f'{v}/loss_floor']:.4g}, {measured[f'{v}/loss_ceiling']:.4g}] nats "
        f"against log V = {measured[f'{v}/uniform_loss']:.4g} (the correct loss reaches "
        f"{measured[f'{v}/correct_loss_at_floor_logits']:.2g})" for v in vocabularies)


def e2a_rule(cfg):
    import math

    tolerance = cfg["float_tolerance"]
    expect = {}
    for V in (num_classes(cfg), cfg["check_vocab"]):
        floor, ceiling = double_loss_band(V)
        expect.update({
            f"V{V}/loss_rel_diff": AtMost(tolerance),
            f"V{V}/gradient_rel_diff": AtMost(tolerance),
            f"V{V}/zero_logits_gradient_ratio": 1.0 / V,
            f"V{V}/zero_logits_double_gradient_norm": math.sqrt(V - 1) / V ** 1.5,
            f"V{V}/zero_logits_gradient_is_scaled_correct": AtMost(tolerance),
            f"V{V}/loss_floor": floor,
            f"V{V}/loss_ceiling": ceiling,
        })
    return Exact(double_softmax_closed_forms, expect=expect, rel_tol=tolerance,
                 note="Keras' SparseCategoricalCrossentropy(from_logits=True) on a hand-written softmax of the "
                      "logits z, its gradient taken by tf.GradientTape, against the closed forms in float64: on 256 "
                      "random logit vectors (std check_logit_scale) with random targets (*_rel_diff: max |difference| "
                      "over the largest closed-form value); at z = 0 for every target (the gradient is 1/V of the "
                      "correct loss's, elementwise and in norm); at z = 30 e_y and z = 30 e_k, k != y (the loss's "
                      "floor log(V - 1 + e) - 1 and ceiling log(V - 1 + e)). At the run's class count and at the "
                      "asker's ~200. The bound is float32 round-off.",
                 context=closed_form_context)


# ---- E2c: the Keras form ----------------------------------------------------------------------------
KERAS_FORMS = ("softmax_activation", "softmax_layer", "hand_written_softmax")


def build_form(form, cfg, data, from_logits=True):
    """The trial's network with the softmax written one way: Dense(V, activation="softmax") named "logits"
    (its logits are the Dense layer's pre-activation), Dense then layers.Softmax, Dense then the hand-written
    softmax, or no softmax ("logits"). Compiled with SparseCategoricalCrossentropy(from_logits)."""
    import keras
    from keras import layers

    inputs, features = trunk(cfg, data)
    if form == "softmax_activation":
        outputs = layers.Dense(data.num_classes, activation="softmax", name="logits")(features)
    else:
        outputs = layers.Dense(data.num_classes, name="logits")(features)
        if form == "softmax_layer":
            outputs = layers.Softmax(name="softmax")(outputs)
        elif form == "hand_written_softmax":
            outputs = layers.Lambda(hand_written_softmax, name="softmax")(outputs)
        elif form != "logits":
            raise ValueError(f"unknown form {form!r}; choose one of logits, {', '.join(KERAS_FORMS)}")
    model = keras.Model(inputs, outputs, name=form)
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits))
    return model


def pre_softmax_logits(model, x):
    """z for a model built by build_form: the logits layer's output, before any activation."""
    import keras
    import numpy as np

    layer = model.get_layer("logits")
    if layer.activation is keras.activations.softmax:  # Dense(activation="softmax"): z = x @ W + b
        features = keras.Model(model.input, layer.input)(x)
        kernel, bias = layer.get_weights()
        return np.asarray(features, dtype="float64") @ kernel.astype("float64") + bias.astype("float64")
    return np.asarray(keras.Model(model.input, layer.output)(x), dtype="float64")


def keras_softmax_with_from_logits(cfg):
    """E2c on the run's network and the first 256 training examples: each softmax form under
    SparseCategoricalCrossentropy(from_logits=True), compiled, from the same weights (the logits kernel
    scaled by 10 so the two losses differ widely): which loss model.evaluate computes, whether Keras warns,
    and how far its weights are from the logits model's after check_steps Adam steps."""
    import math
    import warnings

    import numpy as np

    fresh_keras()
    data = load_data(cfg)
    x, y = data.x_train[:256], data.y_train[:256]
    tolerance = cfg["float_tolerance"]
    reference = build_form("logits", cfg, data)
    weights = reference.get_weights()
    weights[-2] = weights[-2] * 10.0  # the logits kernel: logits of a few units, not ~0.1
    reference.set_weights(weights)
    z = pre_softmax_logits(reference, x)
    correct, double = float(correct_loss(z, y).mean()), float(double_loss(z, y).mean())
    measured = {"correct_loss": correct, "double_loss": double}

    models = {"logits": reference}
    models.update({form: build_form(form, cfg, data) for form in KERAS_FORMS})
    models["softmax_layer_from_logits_false"] = build_form("softmax_layer", cfg, data, from_logits=False)
    for form, model in models.items():
        model.set_weights(weights)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = float(model.evaluate(x, y, batch_size=len(y), verbose=0))
            model.fit(x, y, batch_size=len(y), epochs=cfg["check_steps"], shuffle=False, verbose=0)
        messages = [str(w.message) for w in caught if "from_logits" in str(w.message)]
        measured[f"{form}/loss"] = loss
        measured[f"{form}/applies_softmax_twice"] = bool(math.isclose(loss, double, rel_tol=tolerance))
        measured[f"{form}/loss_is_correct"] = bool(math.isclose(loss, correct, rel_tol=tolerance))
        measured[f"{form}/warns"] = bool(messages)
        if messages:
            measured["warning"] = " ".join(messages[0].split())[:300]
    trained = models["logits"].get_weights()
    for form, model in models.items():
        if form != "logits":
            measured[f"{form}/weights_max_abs_diff_after_fit"] = float(max(
                np.abs(a.astype("float64") - b.astype("float64")).max() for a, b in zip(model.get_weights(), trained)))
    return measured


def keras_form_context(measured):
    forms = [*KERAS_FORMS, "softmax_layer_from_logits_false"]
    return (f"correct loss {measured['correct_loss']:.4f}, double {measured['double_loss']:.4f}; "
            + ", ".join(f"{form} computes {measured[f'{form}/loss']:.4f}"
                        f"{' (warns)' if measured[f'{form}/warns'] else ''} and after training is "
                        f"{measured[f'{form}/weights_max_abs_diff_after_fit']:.3g} from the logits model's weights"
                        for form in forms))


def e2c_rule(cfg):
    return Exact(keras_softmax_with_from_logits,
                 expect={"softmax_activation/applies_softmax_twice": True,
                         "softmax_layer/applies_softmax_twice": True,
                         "hand_written_softmax/applies_softmax_twice": True},
                 note="The run's network (the same weights, its logits kernel scaled by 10) with its output written "
                      "as Dense(activation='softmax'), as Dense then layers.Softmax, or as Dense then a hand-written "
                      "softmax (the control: a double softmax the check must see), each compiled with "
                      "SparseCategoricalCrossentropy(from_logits=True) and evaluated by model.evaluate on 256 "
                      "training examples. applies_softmax_twice: the loss equals -log softmax(softmax(z))_y in "
                      "float64 within the relative tolerance float_tolerance. Recorded, not judged: whether it "
                      "equals the correct loss instead, Keras' warning, the same network under from_logits=False, "
                      "and each form's weights after check_steps Adam steps against the logits model's.",
                 context=keras_form_context)


# ---- E2b: the empirical rule ----------------------------------------------------------------------
def unreached_fraction(gains):
    """1 - mean gain of the double softmax / mean gain of logits (rows: double_softmax, logits); nan when
    the logits network gained nothing either."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return float(1.0 - np.mean(gains[0]) / np.mean(gains[1]))


def e2b_rule(cfg):
    """The claim is that the double softmax "doesn't learn at all": a gain at chance (nothing over the majority
    baseline) is what it asserts, so an arm there is judged like any other value (about chance)."""
    margin, effect = cfg["learning_margin"], cfg["smallest_effect"]
    gain = "test/accuracy_gain"
    return AllOf(
        SeedStatistic(f"{margin:g} - gain[double_softmax]", gain, ["double_softmax"],
                      lambda m: margin - m[0].mean(),
                      f"{margin:g} minus the mean gain of double_softmax's test accuracy over always predicting the "
                      "most frequent training character (above 0: it learns nothing beyond that)",
                      smallest_effect=effect, about=["chance"]),
        SeedStatistic(f"gain[logits] - {margin:g}", gain, ["logits"], lambda m: m[0].mean() - margin,
                      f"the mean gain of logits' test accuracy over always predicting the most frequent training "
                      f"character, minus {margin:g} (above 0: the network without the softmax learns)",
                      smallest_effect=effect, about=["chance"]),
        also_report=[
            Better("test/accuracy", "logits", than="double_softmax", smallest_effect=margin),
            SeedStatistic("1 - gain[double_softmax] / gain[logits]", gain, ["double_softmax", "logits"],
                          unreached_fraction,
                          "the fraction of the logits network's gain that the double softmax does not reach in the "
                          "same budget (0: as fast, 1: nothing learned)", smallest_effect=cfg["smallest_fraction"]),
            SeedStatistic("1 - grad_z[double_softmax] / grad_z[logits] at init", "grad/logits_norm_init",
                          ["double_softmax", "logits"], lambda m: 1.0 - m[0].mean() / m[1].mean(),
                          "the fraction of the per-example gradient norm at the logits, d loss / d z, that the double "
                          "softmax takes away at initialisation (the same weights in both arms; 1 - 1/V at z = 0)",
                          smallest_effect=cfg["smallest_fraction"]),
            Summarize("test/accuracy", list(ARMS)),
            Summarize("baseline/majority_accuracy", list(ARMS)),
            Summarize("test/nats_per_char", list(ARMS)),
            Summarize("baseline/unigram_nats", list(ARMS)),
            Summarize("test/distinct_predictions", list(ARMS)),
            Summarize("train/final_loss", list(ARMS)),
            Summarize("grad/weights_norm_init", list(ARMS)),
            Summarize("grad/logits_norm_final", list(ARMS)),
            Summarize("grad/weights_norm_final", list(ARMS)),
        ],
    )


# ---- the claims -----------------------------------------------------------------------------------


# ---- data -----------------------------------------------------------------------------------------
def corpus():
    """The text of sources/*.txt in name order, and its sorted characters (the classes)."""

    text = "".join(path.read_text(encoding="utf-8") for path in sorted(SOURCES_DIR.glob("*.txt")))
    return text, sorted(set(text))


def windows(ids, context, stride=1):
    """Every `context` ids before a position of one block, and the id at it (every stride-th position)."""
    import numpy as np

    ends = np.arange(context, len(ids), stride)
    return ids[ends[:, None] - np.arange(context, 0, -1)[None, :]], ids[ends]


def text_splits(cfg):
    """Blocks of block_chars characters, shuffled by data_seed, 75 / 10 / 15 % to train / val / test."""
    import numpy as np

    text, vocabulary = corpus()
    index = {c: i for i, c in enumerate(vocabulary)}
    ids = np.array([index[c] for c in text], dtype="int32")
    size = cfg["block_chars"]
    blocks = [ids[i:i + size] for i in range(0, len(ids), size)]
    blocks = [b for b in blocks if len(b) > cfg["context"]]
    order = np.random.default_rng([cfg["data_seed"], 2]).permutation(len(blocks))
    n_test, n_val = round(0.15 * len(blocks)), round(0.10 * len(blocks))
    parts = {"test": order[:n_test], "val": order[n_test:n_test + n_val], "train": order[n_test + n_val:]}
    data = {"num_classes": len(vocabulary), "vocabulary": vocabulary, "kind": "text", "name": "sources_text"}
    for split, chosen in parts.items():
        stride = cfg["train_stride"] if split == "train" else 1
        pairs = [windows(blocks[i], cfg["context"], stride) for i in sorted(chosen)]
        data[f"x_{split}"] = np.concatenate([x for x, _ in pairs]).astype("int32")
        data[f"y_{split}"] = np.concatenate([y for _, y in pairs]).astype("int32")
    return data


def load_data(cfg):
    """The task as train / val / test arrays, its class count, and the baselines that learn nothing from the
    input: the most frequent training class, and the training frequencies (add-one smoothed)."""
    from types import SimpleNamespace

    import numpy as np

    if cfg["dataset"] == "sources_text":
        data = text_splits(cfg)
    else:
        loaded = datasets.load(cfg["dataset"], cfg["data_seed"])
        data = {"num_classes": loaded.num_classes, "kind": "images", "name": loaded.name,
                **{k: getattr(loaded, k) for k in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")}}
    counts = np.bincount(data["y_train"], minlength=data["num_classes"])
    frequencies = (counts + 1.0) / (counts.sum() + data["num_classes"])
    data["majority_class"] = int(counts.argmax())
    data["majority_accuracy"] = float(np.mean(data["y_test"] == data["majority_class"]))
    data["unigram_nats"] = float(-np.log(frequencies[data["y_test"]]).mean())
    return SimpleNamespace(**data)


def dataset_info(cfg, data) -> DatasetInfo:
    digest = datasets.digest_of([getattr(data, f"{part}_{split}") for split in ("train", "val", "test")
                                 for part in ("x", "y")])
    profile = {split: len(getattr(data, f"y_{split}")) for split in ("train", "val", "test")}
    profile.update(classes=data.num_classes, majority_accuracy=round(data.majority_accuracy, 4))
    if data.kind == "text":
        profile.update(context=cfg["context"], block_chars=cfg["block_chars"], train_stride=cfg["train_stride"])
        source = "the text of sources/*.txt, next character (experiments/double_softmax.py)"
    else:
        source = f"claimlab.data.{data.name}"
    return DatasetInfo(name=data.name, digest=digest, source=source, profile=profile)


def prepare(cfg):
    """Called once by the runner before any trial: data that cannot be built fails here, fast."""
    load_data(cfg)


# ---- model ----------------------------------------------------------------------------------------
def trunk(cfg, data):
    """Input -> Embedding(V, embedding_dim) -> Flatten (text) or Flatten (images) -> hidden ReLU layers."""
    import keras
    from keras import layers

    if data.kind == "text":
        inputs = keras.Input(shape=(cfg["context"],), dtype="int32")
        x = layers.Flatten()(layers.Embedding(data.num_classes, cfg["embedding_dim"], name="embedding")(inputs))
    else:
        inputs = keras.Input(shape=data.x_train.shape[1:])
        x = layers.Flatten()(inputs)
    for i, units in enumerate(cfg["hidden_units"], 1):
        x = layers.Dense(units, activation="relu", name=f"hidden{i}")(x)
    return inputs, x


def optimizer(cfg):
    import keras

    if cfg["optimizer"] == "sgd":
        return keras.optimizers.SGD(cfg["learning_rate"])
    return keras.optimizers.Adam(cfg["learning_rate"])


def build_model(head, cfg, data):
    """The arm's network: the trunk, Dense(V) "logits", and for double_softmax the hand-written softmax;
    both under SparseCategoricalCrossentropy(from_logits=True), as the asker's both were under
    nn.CrossEntropyLoss (they commented the softmax line out, line 38)."""
    import keras
    from keras import layers

    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    inputs, x = trunk(cfg, data)
    outputs = layers.Dense(data.num_classes, name="logits")(x)
    if head == "double_softmax":
        outputs = layers.Lambda(hand_written_softmax, name="softmax")(outputs)
    model = keras.Model(inputs, outputs, name=head)
    model.compile(optimizer=optimizer(cfg), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def gradient_scale(model, data, cfg):
    """On the first grad_examples test examples: the mean per-example norm of d loss / d z (z the logits),
    the global norm of d loss / d weights (the batch-mean loss), and that loss; on the backend the trial
    runs on (claimlab.train.chain_gradients: a GradientTape, or JAX's autodiff)."""
    import keras
    import numpy as np

    x, y = data.x_test[:cfg["grad_examples"]], data.y_test[:cfg["grad_examples"]]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    probe = train.chain_gradients(model, x, lambda outputs: loss_fn(y, outputs), weights=True)
    per_example = np.linalg.norm(np.asarray(probe["output_gradients"]["logits"], dtype="float64") * len(y), axis=1)
    weight_norm = np.sqrt(sum(np.sum(np.square(np.asarray(g, dtype="float64"))) for g in probe["weight_gradients"]))
    return {"logits_norm": float(per_example.mean()), "weights_norm": float(weight_norm), "loss": probe["loss"]}


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once, trained side by side as one Keras model
    (claimlab.train.fit_per_seed, bit-identical to training each alone)."""
    data = load_data(cfg)
    models = train.build_per_seed(seeds, lambda seed: build_model(cfg["head"], cfg, data))
    at_init = [gradient_scale(model, data, cfg) for model in models]
    histories = train.fit_per_seed(models, seeds, data, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    return [measure(model, history, init, data, cfg) for model, history, init in zip(models, histories, at_init)]


def measure(model, history, init, data, cfg):
    import keras
    import numpy as np

    z = keras.Model(model.input, model.get_layer("logits").output).predict(data.x_test, batch_size=1024, verbose=0)
    predictions = z.argmax(axis=1)
    final = gradient_scale(model, data, cfg)
    floor, ceiling = double_loss_band(data.num_classes)
    metrics = {
        **train.evaluate(model, data.x_test, data.y_test, "test"),
        "test/accuracy_gain": float(np.mean(predictions == data.y_test)) - data.majority_accuracy,
        "test/nats_per_char": float(correct_loss(z, data.y_test).mean()),
        "test/distinct_predictions": float(len(np.unique(predictions))),
        "baseline/majority_accuracy": data.majority_accuracy,
        "baseline/unigram_nats": data.unigram_nats,
        "bound/double_loss_floor": floor,
        "bound/double_loss_ceiling": ceiling,
        "train/first_loss": history["train/loss"][0],
        "train/final_loss": history["train/loss"][-1],
        "grad/logits_norm_init": init["logits_norm"],
        "grad/weights_norm_init": init["weights_norm"],
        "grad/loss_init": init["loss"],
        "grad/logits_norm_final": final["logits_norm"],
        "grad/weights_norm_final": final["weights_norm"],
        "params/total": float(model.count_params()),
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset_info(cfg, data)])
