"""Plain vs residual networks at increasing depth: does adding layers hurt a ResNet, and a plain net? From
"Stuck understanding ResNet's Identity block and Convolutional blocks" (sources/002_6725717de9344925.txt,
lines 71-75), on the CIFAR ResNet of "ResNet for 32x32 images" (same file, lines 22-34).

The asker (line 73): "I understand that one of the main reasons why ResNets work is that they can learn
identity function and that's why adding more and more layers in network does not hurt the performance of
the network." That is the argument of He et al. (2016, "Deep Residual Learning for Image Recognition"):
a deeper plain network does worse than a shallower one even on its training set (the "degradation
problem"), while a residual block only has to drive its branch to zero to pass its input on unchanged.
The networks are those of lines 22-34: He et al.'s CIFAR family, a 3x3 convolution, 6n layers of 3x3
convolutions in three stages (2n per map size, the first convolution of stages 2 and 3 with stride 2),
global average pooling, a dense layer (6n + 2 weighted layers), zero-padded identity shortcuts where the
shape changes. X18 (experiments/resnet_cifar.py) already checks those lines' shapes, layer counts and the
parameter-free shortcut; this module does not check them again. It uses the family to test line 73.

Three ids:

    E9a (exact)      "they can learn identity function": a residual block whose branch ends in a batch norm
                     with scale and shift 0 is exactly the identity, so the deepest residual net, given the
                     shallowest one's weights and such blocks in every added place, computes the shallowest
                     net's function (in inference and in training mode). The same zeroing in the plain net
                     cuts the signal (its output no longer depends on the input); a plain block too can be the
                     identity, but only with identity (delta) kernels and batch norm set to undo its own
                     normalisation (inference mode).
    E9b (empirical)  "adding more and more layers in network does not hurt the performance": no deeper
                     residual net has a test accuracy lower than a shallower one's by more than a margin.
    E9c (empirical)  the contrast the claim implies ("that's why"): without shortcuts, depth does hurt (the
                     shallowest plain net beats the deepest), and at the deepest depth the residual net beats
                     the plain one.

Arms: claimlab.models.resnet_cifar(n, shortcut=...) at three depths n in `depths` = (1, 3, 5), i.e. 8, 20
and 32 weighted layers (the tutorial's n = 1 and He et al.'s ResNet-20 and -32), each with zero-padded
identity shortcuts ("residual_*", the paper's option A) and without any shortcut ("plain_*": the same
convolutions, batch norms and parameters, the paper's plain counterpart). Six arms:
plain_shallow / plain_middle / plain_deep and residual_shallow / residual_middle / residual_deep.
Every arm: the same data, batch size, optimiser, stopping rule and seeds (for a seed, every arm sees the
same batch order); no augmentation. Every arm trains until its validation loss has not improved for
`patience` (10) epochs, at most `epochs` (100), and keeps the weights of its best epoch (PLATEAU; the
validation split, never the test split). Why not a fixed budget: at the former 10 epochs the plain nets
were still improving (the quick run of 2026-12-05: the 32-layer plain net's training accuracy up 10 points
over the last fifth of the epochs, at 0.65), so E9c would have compared how fast each depth trains, while
He et al.'s degradation is about nets trained to convergence (the `long_budget` setting asks the same).

Design choices:
- Data: scikit-learn's 8x8 digits (claimlab.data.digits: 1,068 training, 189 validation, 540 test
  images), the maps 8x8 -> 4x4 -> 2x2 through the three stages; filters (8, 16, 32), half of the paper's
  (16, 32, 64): the deepest nets must train over many seeds on two CPU cores. `canvas` > 8 pastes the
  digits on a bigger blank canvas (claimlab.data.shifted_digits) for a user with time to spare.
- Training: Adam (learning rate 1e-3), batch 32, to a plateau (above), no weight decay. Adam, not the paper's SGD,
  by default: one learning rate that needs no tuning per depth, the same for all arms. Adam's per-weight
  step sizes may hide an optimisation difficulty, so the `sgd` setting trains with He et al.'s recipe.
- Batch norm is in every arm, as in the paper (resnet_cifar has no switch, and the plain nets are the
  paper's, with batch norm). Batch norm is what makes deep plain nets trainable at all (He et al. chose
  it so that their plain nets' signals neither vanish nor explode); whatever plain nets lose with depth
  here, they lose with batch norm's help.
- "Performance" is test accuracy: what the asker's "hurt the performance" means to a practitioner. He et
  al.'s degradation is about training error too, so each trial also records the training accuracy and
  loss evaluated after training in inference mode (train_eval/), and the last epoch's training loss
  (train/final_loss; both losses include the weight-decay penalty where there is one); they are reported,
  not judged: on 1,068 digits a net can fit the training set whatever its depth, and an accuracy of 1.0 on
  every seed decides nothing.
- "Hurt" is a drop of more than `hurt_margin` = 1 test-accuracy point. The digits' shallow nets make about
  3% errors, so 1 point (5 of the 540 test images) is a third more errors: the smallest drop a
  practitioner would call hurt, and the lab's usual smallest effect on test accuracy (gap_vs_flatten,
  strided_1x1, dense_width).
- E9b is read one-sided, as non-inferiority: "does not hurt" is refuted by a deeper net that is worse,
  not by one that is better (an equivalence test would count a deeper net that is much better against the
  claim). For each pair (deeper, shallower) of residual arms (middle vs shallow, deep vs shallow, deep vs
  middle: every way of "adding more layers"), paired by seed, the statistic is
  mean(acc[deeper] - acc[shallower]) + hurt_margin, with a 95% t interval (SeedStatistic: for a mean
  this is the paired t interval). Above 0: not worse by more than the margin (supported); below 0: worse
  by more than the margin (refuted); else inconclusive. All three must hold (AllOf, Holm over the three
  refute paths). A "negligible" label on this statistic would mean a deeper net significantly worse by
  less than the margin. Reported: whether the deepest residual net is better than the shallowest.
- E9c: Better(plain_shallow over plain_deep) and Better(residual_deep over plain_deep) on test accuracy,
  smallest effect hurt_margin; a difference equivalent to 0 within +-hurt_margin (TOST) refutes (depth
  that "does not hurt" a plain net either counts against the contrast). Both must hold (AllOf, Holm).
  Reported: the same two comparisons on the training accuracy (He et al.'s degradation), and every arm's
  test and training accuracy, training loss and parameters (equal for plain and residual at a depth).
- E9a: the shallowest and deepest nets of `depths`, built for the run's input shape and filters, on the
  first `probe_examples` = 64 test images. Every batch norm's scale, shift, moving mean and variance is
  drawn at random (seeded) so that nothing rests on their defaults; the deep net gets the shallow net's
  weights layer by layer (same names), and each block added in the deep net (blocks n_shallow + 1 ..
  n_deep of every stage) gets its last batch norm's scale and shift set to 0 (residual, plain-zeroed) or
  delta kernels and batch norms set to gamma = sqrt(moving variance + epsilon), beta = moving mean (plain
  identity). Compared: the pooled features and the output probabilities; "equal" is a max absolute
  difference within `identity_tolerance` = 1e-6 (float32 round-off from a differently ordered sum; a
  block that is not the identity moves these numbers by orders of magnitude more) for the residual net and
  the plain net's spread over inputs, within `plain_identity_tolerance` = 1e-5 for the plain identity (its
  24 batch norms of a deep net each round once more). The plain identity in training mode (batch
  statistics) is reported, not judged.

Before these choices were written, one timing run (seed 0, this file's nets on 8x8 digits, Adam 1e-3,
batch 32, 2 and 10 epochs, one thread) measured the cost of each depth: the fit of a 32-layer net takes
about 10 s of graph tracing plus 0.5 s per epoch. Its accuracies were seen (10 epochs: residual 0.970,
0.952, 0.957 and plain 0.972, 0.811, 0.585 at 8, 20, 32 layers); the epochs, depths and filters above were
chosen for the budget (the full grid of the three settings in about 15 minutes on two cores), and the
margin, the rules and the settings from the claim's wording; none was changed after the run. The long
budget is 5x the epochs, like every scoped experiment's (tests/test_scope.py). It was first cut to 3x for
time, and ran so once; the lab never shrinks a setting to save time, so it was restored to 5x and rerun
(its 3x results were replaced, not used to choose anything).

What a verdict here covers: small CIFAR-style ResNets with batch norm on 8x8 digits, on a CPU. The
SETTINGS add a 5x more patient stop (is a plain net's loss with depth only slower training?) and He et al.'s SGD
recipe; the scope report (results/residual_depth/scope.md) says in which each verdict holds.
"""

import time

from claimlab import data as datasets
from claimlab import checks, train
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.plots import mean_ci_band
from claimlab.spec import Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, AtMost, Better, Exact, IfDiverged, Level, Plateau, Summarize, not_worse

SOURCE_FILE = "002_6725717de9344925.txt"
QUESTION = "Stuck understanding ResNet's Identity block and Convolutional blocks"

TITLE = "Plain vs residual nets at 8, 20, 32 layers: the identity block, and whether depth hurts"

QUOTE = ("I understand that one of the main reasons why ResNets work is that they can learn identity function and "
         "that's why adding more and more layers in network does not hurt the performance of the network.")

CLAIMS = [
    Claim(
        id="E9a",
        kind="exact",
        quote="I understand that one of the main reasons why ResNets work is that they can learn identity function",
        source=Source(SOURCE_FILE, "73", QUESTION),
        hypothesis=(
            "A residual block of resnet_cifar whose last batch norm has scale and shift 0 is exactly the identity, so "
            "the deepest residual net with the shallowest one's weights and such added blocks computes the "
            "shallowest net's features and probabilities (within the identity tolerance, in inference and training "
            "mode); the same zeroing makes a plain net's output independent of its input; a plain block is the "
            "identity only with delta kernels and batch norms set to undo their statistics (inference mode, within "
            "the plain identity tolerance)."
        ),
        rule="e9a_rule",
    ),
    Claim(
        id="E9b",
        kind="empirical",
        quote=QUOTE,
        source=Source(SOURCE_FILE, "73", QUESTION),
        hypothesis=(
            "On 8x8 digits, each net trained to its plateau, no deeper residual net (8, 20, 32 weighted layers) has a lower test "
            "accuracy than a shallower one by more than the hurt margin (non-inferiority, every pair)."
        ),
        rule="e9b_rule",
    ),
    Claim(
        id="E9c",
        kind="empirical",
        quote=QUOTE,
        source=Source(SOURCE_FILE, "73", QUESTION),
        hypothesis=(
            "On 8x8 digits, each net trained to its plateau, the 8-layer plain net (no shortcuts, same convolutions and batch "
            "norms) reaches a higher test accuracy than the 32-layer plain net, and the 32-layer residual net a higher "
            "one than the 32-layer plain net, each by more than nothing; equivalence within the hurt margin refutes."
        ),
        rule="e9c_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "canvas": Integer(8, min=8),  # 8: the bare 8x8 digits; more: the digits centred on a canvas x canvas blank image
    # n of the shallow, middle and deep nets: 6n + 2 = 8, 20, 32 weighted layers
    "depths": Sizes((1, 3, 5), min=1, length=3),
    # channels of the three stages (the paper's (16, 32, 64), halved for the CPU)
    "filters": Sizes((8, 16, 32), min=1),
    "epochs": Integer(100, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(32, min=1),
    "optimizer": OneOf("adam", choices=("adam", "sgd")),
    "learning_rate": Real(1e-3, min=0, min_open=True),
    "momentum": Real(0.9, min=0, max=1, max_open=True),  # SGD only
    "weight_decay": Real(0.0, min=0),  # L2 factor on every kernel (resnet_cifar's weight_decay)
    "probe_examples": Integer(64, min=2),  # E9a: the first test images the nets are compared on
    "check_seeds": Integer(5, min=5),  # E9a: weights and batch-norm statistics drawn under seeds 0..check_seeds-1
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E9b, E9c: a test-accuracy drop larger than this is "hurt" (1 point: see the module docstring).
    "hurt_margin": Real(0.01, min=0, min_open=True, threshold=True),
    # E9a: residual identity and plain zeroed spread: max absolute difference allowed (float32 round-off).
    "identity_tolerance": Real(1e-6, min=0, min_open=True, threshold=True),
    # E9a: the plain identity (delta kernels, batch norm undoing itself): max absolute difference allowed.
    "plain_identity_tolerance": Real(1e-5, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    problems = []
    if not cfg["depths"][0] < cfg["depths"][1] < cfg["depths"][2]:
        problems.append(f"depths={cfg['depths']} must increase: the shallow, middle and deep nets' n")
    if cfg["canvas"] < 2 ** (len(cfg["filters"]) - 1):
        problems.append(f"{len(cfg['filters'])} stages halve the map {len(cfg['filters']) - 1} times: canvas="
                        f"{cfg['canvas']} is too small")
    return problems


IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: 10 balanced digit classes"),
    "train_eval/accuracy": IfDiverged.scores(0.1, "chance: 10 balanced digit classes"),
    "train_eval/loss": IfDiverged.excluded("a diverged net's loss is not a number"),
    "train/final_loss": IfDiverged.excluded("a diverged net's loss is not a number"),
    "params/total": IfDiverged.kept("fixed by the architecture, reported only"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "*accuracy": Level(0.1, 1.0, "10 balanced digit classes"),
    "*": Level.unbounded("losses and a parameter count"),
}
PROFILES = {
    # smoke: one stage of 4 filters, nets of 4, 6, 8 layers (tracing the graph is most of a short trial)
    "smoke": {"epochs": 2, "patience": 1, "depths": (1, 2, 3), "filters": (4,)},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
DIGITS_REFERENCE = datasets.reference("residual_shallow", datasets.DIGITS_PUBLISHED, "a CNN")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("digits 8x8, nets of 8, 20, 32 layers (filters 8-16-32), Adam to a val/loss plateau "
                       "(patience 10, at most 100 epochs)",
                       "the lab's reference setting: six nets over many seeds on 2 cores", reference=DIGITS_REFERENCE),
    "long_budget": Setting("digits 8x8, nets of 8, 20, 32 layers, Adam to a val/loss plateau (patience 50, at "
                           "most 500 epochs)", "a 5x more patient stop: a deep "
                           "plain net may only train slower, and catch up given time (He et al.'s degradation is that "
                           "it does not)", {"epochs": Times(5), "patience": Times(5)}, DIGITS_REFERENCE),
    "sgd": Setting("digits 8x8, nets of 8, 20, 32 layers, SGD (momentum 0.9, lr 0.025, weight decay 1e-4), to a val/loss plateau",
                   "He et al.'s optimiser, with which the degradation problem was shown: SGD with momentum 0.9, their "
                   "learning rate 0.1 at batch 128 scaled to batch 32, their weight decay 1e-4 (L2 factor 5e-5: "
                   "gradient 1e-4 w); Adam's per-weight steps may hide an optimisation difficulty",
                   {"optimizer": "sgd", "learning_rate": 0.025, "weight_decay": 5e-5}, DIGITS_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ROLES = ("shallow", "middle", "deep")  # the three entries of `depths`
SHORTCUTS = {"plain": "none", "residual": "zero_pad"}
ARMS = {f"{kind}_{role}": {"kind": kind, "role": role} for kind in SHORTCUTS for role in ROLES}


def depth_of(role, cfg) -> int:
    """n of an arm's net."""
    return cfg["depths"][ROLES.index(role)]


def layer_count(n, cfg) -> int:
    """Weighted layers of a net of n blocks per stage: the stem, 2n per stage, the dense layer (6n + 2 with the
    default three stages)."""
    return 2 * n * len(cfg["filters"]) + 2


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    if cfg["canvas"] == 8:
        return datasets.digits(cfg["data_seed"])
    return datasets.shifted_digits(cfg["data_seed"], cfg["canvas"])


def prepare(cfg):
    """Called once by the runner before any trial: bad data fails here, fast."""
    load_data(cfg)


# ---- model ----------------------------------------------------------------------------------------
def build_model(kind, n, input_shape, num_classes, cfg):
    """resnet_cifar(n) with (residual) or without (plain) shortcuts, compiled with the run's optimiser."""
    import keras

    from claimlab.models import resnet_cifar

    model = resnet_cifar(n, input_shape, num_classes, tuple(cfg["filters"]), shortcut=SHORTCUTS[kind],
                         weight_decay=cfg["weight_decay"], name=f"{kind}{layer_count(n, cfg)}")
    if cfg["optimizer"] == "adam":
        optimizer = keras.optimizers.Adam(cfg["learning_rate"])
    else:
        optimizer = keras.optimizers.SGD(cfg["learning_rate"], momentum=cfg["momentum"])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def weighted_layers(model) -> int:
    """Convolutions on the main path and dense layers: He et al.'s layer count (6n + 2)."""
    return sum(type(layer).__name__ in ("Conv2D", "Dense") and not layer.name.endswith("_shortcut")
               for layer in model.layers)


# ---- E9a: the exact check -------------------------------------------------------------------------
def added_blocks(n_shallow, n_deep, stages):
    """The blocks a net of n_deep has and one of n_shallow has not: blocks n_shallow+1..n_deep of each stage."""
    return [f"stage{s}_block{b}" for s in range(1, stages + 1) for b in range(n_shallow + 1, n_deep + 1)]


def randomise_batch_norms(model, rng):
    """Every batch norm's gamma, beta, moving mean and variance drawn at random: no check may rest on 1, 0, 0, 1."""
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, channels), rng.normal(0, 0.2, channels),
                               rng.normal(0, 0.2, channels), rng.uniform(0.5, 1.5, channels)])


def copy_weights(source, target):
    """Every weighted layer of `source` into the layer of the same name in `target`."""
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


def zero_branch(model, block):
    """The block's last batch norm outputs 0: scale and shift 0."""
    bn = model.get_layer(f"{block}_bn2")
    _, _, mean, variance = bn.get_weights()
    bn.set_weights([0 * mean, 0 * mean, mean, variance])


def identity_branch(model, block):
    """A plain block that passes a non-negative input through (inference mode): delta kernels (the centre tap
    is the identity matrix), and each batch norm's gamma and beta set to undo its moving statistics."""
    import numpy as np

    for i in (1, 2):
        conv = model.get_layer(f"{block}_conv{i}")
        kernel = np.zeros(conv.kernel.shape, dtype="float32")
        kernel[1, 1] = np.eye(kernel.shape[2], kernel.shape[3])
        conv.set_weights([kernel])
        bn = model.get_layer(f"{block}_bn{i}")
        _, _, mean, variance = bn.get_weights()
        bn.set_weights([np.sqrt(variance + bn.epsilon), mean, mean, variance])


def outputs(model, x, training=False):
    """The pooled features and the output probabilities of `model` on x, as NumPy."""
    import keras
    import numpy as np

    probe = keras.Model(model.input, [model.get_layer("pool").output, model.output])
    return [np.asarray(a, dtype="float64") for a in probe(x, training=training)]


def max_abs_diff(a, b) -> float:
    import numpy as np

    return float(max(np.abs(x - y).max() for x, y in zip(a, b)))


def deeper_resnet_contains_shallower(cfg):
    """E9a: the deepest net of `depths`, given the shallowest one's weights and every added block made the
    identity (residual: branch zeroed; plain: zeroed, or delta kernels), against the shallowest net."""
    import numpy as np

    from claimlab.models import resnet_cifar

    dataset = load_data(cfg)
    x = dataset.x_test[: cfg["probe_examples"]]
    n_shallow, n_deep = cfg["depths"][0], cfg["depths"][-1]
    blocks = added_blocks(n_shallow, n_deep, len(cfg["filters"]))

    def one_draw(seed):
        rng = np.random.default_rng(seed)  # the batch norms' statistics, drawn with the weights

        def pair(kind, make_identity):
            shallow, deep = (resnet_cifar(n, dataset.input_shape, dataset.num_classes, tuple(cfg["filters"]),
                                          shortcut=SHORTCUTS[kind]) for n in (n_shallow, n_deep))
            randomise_batch_norms(shallow, rng)
            randomise_batch_norms(deep, rng)
            copy_weights(shallow, deep)
            for block in blocks:
                make_identity(deep, block)
            return shallow, deep

        shallow, deep = pair("residual", zero_branch)
        measured = {
            "weighted_layers": [weighted_layers(shallow), weighted_layers(deep)],
            "added_blocks": len(blocks),
            "residual_zeroed/max_abs_diff_inference": max_abs_diff(outputs(shallow, x), outputs(deep, x)),
            "residual_zeroed/max_abs_diff_training": max_abs_diff(outputs(shallow, x, True), outputs(deep, x, True)),
        }
        shallow, deep = pair("plain", zero_branch)
        features, probabilities = outputs(deep, x)
        measured["plain_zeroed/output_spread"] = float(max(np.ptp(features, axis=0).max(),
                                                           np.ptp(probabilities, axis=0).max()))
        measured["plain_zeroed/max_abs_diff_inference"] = max_abs_diff(outputs(shallow, x), outputs(deep, x))
        measured["plain_zeroed/shallow_output_spread"] = float(np.ptp(outputs(shallow, x)[1], axis=0).max())
        shallow, deep = pair("plain", identity_branch)
        measured["plain_identity/max_abs_diff_inference"] = max_abs_diff(outputs(shallow, x), outputs(deep, x))
        measured["plain_identity/max_abs_diff_training"] = max_abs_diff(outputs(shallow, x, True), outputs(deep, x, True))
        return measured

    # The deeper net contains the shallower one for any weights: the worst draw is judged (and the zeroed plain
    # net's difference from the shallow one, reported, at its smallest).
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "residual_zeroed/max_abs_diff_inference": "max", "residual_zeroed/max_abs_diff_training": "max",
        "plain_zeroed/output_spread": "max", "plain_zeroed/max_abs_diff_inference": "min",
        "plain_identity/max_abs_diff_inference": "max", "plain_identity/max_abs_diff_training": "max"})


def e9a_context(measured):
    return (f"nets of {measured['weighted_layers'][0]} and {measured['weighted_layers'][1]} weighted layers "
            f"({measured['added_blocks']} blocks added); plain net with its added blocks zeroed differs from the "
            f"shallow plain net by {measured['plain_zeroed/max_abs_diff_inference']:.3g} (the shallow one's outputs "
            f"spread {measured['plain_zeroed/shallow_output_spread']:.3g} over inputs); plain identity blocks in "
            f"training mode (batch statistics): {measured['plain_identity/max_abs_diff_training']:.3g}")


def e9a_rule(cfg):
    tolerance, plain_tolerance = cfg["identity_tolerance"], cfg["plain_identity_tolerance"]
    return Exact(deeper_resnet_contains_shallower,
                 expect={"residual_zeroed/max_abs_diff_inference": AtMost(tolerance),
                         "residual_zeroed/max_abs_diff_training": AtMost(tolerance),
                         "plain_zeroed/output_spread": AtMost(tolerance),
                         "plain_identity/max_abs_diff_inference": AtMost(plain_tolerance)},
                 note="The shallowest and deepest nets of `depths` (resnet_cifar, the run's input shape and filters), "
                      f"every batch norm's statistics drawn at random, from {checks.weight_draws_text(cfg)}, the deep net given the shallow one's "
                      "weights by layer name; every block the deep net adds has its last batch norm's scale and "
                      "shift set to 0 (residual; plain zeroed) or delta kernels and batch norms undoing their moving "
                      "statistics (plain identity). max_abs_diff: the largest absolute difference of the pooled "
                      "features and output probabilities from the shallow net's, on the first probe_examples test "
                      "digits; output_spread: the largest range over those inputs of any feature or probability of "
                      "the zeroed plain net (0: its output no longer depends on the input).",
                 context=e9a_context)


# ---- E9b, E9c: the empirical rules ------------------------------------------------------------------
def e9b_rule(cfg):
    margin = cfg["hurt_margin"]
    residual = [f"residual_{role}" for role in ROLES]
    return AllOf(
        # paired by seed: mean(acc[deeper] - acc[shallower]) + margin; above 0: not worse by more than the margin
        not_worse("test/accuracy", "residual_middle", "residual_shallow", margin),
        not_worse("test/accuracy", "residual_deep", "residual_shallow", margin),
        not_worse("test/accuracy", "residual_deep", "residual_middle", margin),
        also_report=[Better("test/accuracy", "residual_deep", than="residual_shallow", smallest_effect=margin),
                     Summarize("test/accuracy", residual),
                     Summarize("train_eval/accuracy", residual)],
    )


def e9c_rule(cfg):
    margin = cfg["hurt_margin"]
    return AllOf(
        Better("test/accuracy", "plain_shallow", than="plain_deep", smallest_effect=margin, equivalence_margin=margin),
        Better("test/accuracy", "residual_deep", than="plain_deep", smallest_effect=margin, equivalence_margin=margin),
        also_report=[Better("train_eval/accuracy", "plain_shallow", than="plain_deep", smallest_effect=margin),
                     Better("train_eval/accuracy", "residual_deep", than="plain_deep", smallest_effect=margin),
                     Summarize("test/accuracy", list(ARMS)),
                     Summarize("train_eval/accuracy", list(ARMS)),
                     Summarize("train_eval/loss", list(ARMS)),
                     Summarize("train/final_loss", list(ARMS)),
                     Summarize("params/total", list(ARMS))],
    )


# ---- the claims -----------------------------------------------------------------------------------


# ---- one trial ------------------------------------------------------------------------------------
def run_trial(arm, seed, cfg):
    dataset = load_data(cfg)
    n = depth_of(cfg["role"], cfg)
    model = build_model(cfg["kind"], n, dataset.input_shape, dataset.num_classes, cfg)
    started = time.perf_counter()
    history = train.fit(model, dataset, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    seconds = time.perf_counter() - started
    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        **train.evaluate(model, dataset.x_train, dataset.y_train, "train_eval"),  # inference mode, after training
        "train/final_loss": history["train/loss"][-1],
        "params/total": model.count_params(),
        "layers/weighted": weighted_layers(model),
        "time/train_seconds": seconds,
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])


# ---- figures --------------------------------------------------------------------------------------
def figures(evidence):
    """Test and training accuracy against the number of weighted layers, plain and residual, mean over seeds
    with a 95% CI band."""
    import matplotlib.pyplot as plt

    trials = evidence.trials
    layers = [layer_count(n, evidence.cfg) for n in evidence.cfg["depths"]]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for colour, kind in (("C0", "plain"), ("C1", "residual")):
        arms = [f"{kind}_{role}" for role in ROLES]
        if not set(arms) <= set(trials["arm"]):
            continue
        for metric, style in (("test/accuracy", "-"), ("train_eval/accuracy", "--")):
            table = trials.pivot(index="seed", columns="arm", values=metric)[arms]
            mean_ci_band(ax, layers, table.to_numpy(), colour, label=f"{kind}, {metric.split('/')[0]}",
                         linestyle=style, marker="o")
    ax.set_xlabel("weighted layers")
    ax.set_ylabel("accuracy")
    ax.set_xticks(layers)
    ax.set_title("E9: accuracy against depth")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return {"accuracy_vs_depth": fig}
