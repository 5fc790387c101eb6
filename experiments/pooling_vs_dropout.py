"""Pooling vs dropout vs strided convolution, over training-set sizes, from "Recently, pooling layers have
fallen out of favor" (sources/003_8f61efd7de26bf97.txt, lines 46-61, repeated at 134-154).

The notes say a pooling layer is "used to decrease the size of the output and prevent overfitting",
that the reduction of overfitting comes from fewer parameters in later layers (P4), and that pooling
has fallen out of favour because

    P3  "Recent datasets are so big and complex we're more concerned about underfitting."
    P1  "Dropout is a much better regularizer."
    P2  "Pooling results in a loss of information. ... We only keep the largest of n numbers."

We train six arms that share one small 1-D convolutional trunk and differ only in how it downsamples
and whether it drops out:

    trunk:  Conv1D(32, 5) relu -> [down] -> Conv1D(32, 3) relu -> [down] -> Flatten -> [drop]
            -> Dense(64) relu -> [drop] -> Dense(classes) softmax
    arms:   none             [down] = nothing,            no dropout
            maxpool          [down] = MaxPooling1D(2),     no dropout
            avgpool          [down] = AveragePooling1D(2), no dropout
            strided          the conv before [down] has strides=2 (no pooling layer), no dropout
            dropout          [down] = nothing,            [drop] = Dropout(dropout_rate)
            maxpool_dropout  [down] = MaxPooling1D(2),     [drop] = Dropout(dropout_rate)

Every arm of one seed sees the same data; only the architecture differs.

Design choices, made before any run:
- Data (P1, P3): MNIST-1D from its generator (claimlab.data.mnist1d, num_samples=10,000: 6,800 train,
  2,000 test), fixed by data_seed. The training sets of sizes `train_sizes` are nested, class-balanced
  subsets of the 6,800 (the smaller set is inside the larger one), drawn with data_seed; every size is
  tested on the same 2,000 test sequences.
- Training-set size is looped *inside* a trial, not made part of the arm: an arm is an architecture,
  and one trial (arm, seed) trains one fresh model per size. Before each of these trainings we reseed
  with seed * 1000 + k (k = which training within the trial), so each training is a function of
  (arm, seed, size) alone and does not depend on what ran before it. Pairing by seed stays valid:
  for a seed, every arm sees the same training subsets and the same test set at every size.
- Every training trains to its plateau: until its validation loss has not improved by 0.001 for
  `patience` (10) epochs, at most `epochs` (120), keeping the weights of its best epoch (PLATEAU; the
  validation split, never the test split). An "epoch" here is `examples_per_epoch` examples
  (ceil(examples_per_epoch / n) passes over the n examples, tiled then shuffled by fit: 100 Adam steps),
  the same unit at every size, so a small training set is not stopped after a few dozen steps by the
  noise of its epochs. The first design fixed the compute instead (6 such epochs, 600 steps, for every
  training), so that "more data" meant more distinct examples for the same steps; but a fixed budget
  judges arms where it stops them, and at 600 steps the arms were still improving. Trained to a plateau,
  "more data" means more distinct examples, each training taking the steps it needs. The cap was 60
  until a quick run (2026-12-05, 5 seeds) had one training of 30 reach it still improving; it was raised
  to 120 before any verdict of record, and no rule changed.
- Dropout rate 0.25: the source's own network keeps units with probability 0.75 ("dropout = 0.75 #
  Dropout, probability to keep units", line 77). Dropout sits on the inputs of the two dense layers,
  where the parameters are (the flattened map feeds Dense(64)).
- "Better regularizer" (P1) means higher test accuracy, averaged over the training-set sizes
  (`test/accuracy_mean_over_sizes`): what a regulariser is for is generalisation. P1 compares dropout
  without pooling against max pooling and against average pooling, each without dropout. The word
  "much" is not turned into a threshold; the size of each difference is reported.
- "Loss of information" (P2): a task on which the label depends on exact positions, so information
  thrown away by pooling would cost accuracy. A sequence of 40 samples of Gaussian noise (std
  `position_noise`) holds one spike (amplitude 0.5..1.5) at a position p in [4, 36); the label is
  p mod 4, i.e. exactly the offset that two 2x poolings could wash out. Same trunk, 4 classes, the
  same fixed compute. A net can still solve it after pooling if its convolutions learn to write the
  offset into channels; if max pooling loses the information for good, its accuracy will show it.
  Generated with NumPy from data_seed: 3,200 train, 400 validation, 2,000 test sequences. The rule
  tests significance before equivalence (within THRESHOLDS' `p2_equivalence_margin`), so any
  significant loss, however small, supports the claim (the literal reading of "results in a loss");
  the size of the loss is in the verdict line.
- "More concerned about underfitting" (P3): if overfitting stops being the problem as data grows,
  the advantage of pooling over the plain net (test accuracy minus `none`'s, per seed) should shrink
  from the smallest to the largest training set. The advantage of every arm at every size is reported
  and plotted (figure accuracy_vs_train_size), and so are train accuracies (underfitting shows as a low
  one).
- P4 (exact) builds the real Keras models of the `none`, `maxpool` and `strided` arms and counts the
  parameters layer by layer: pooling has none of its own, leaves the convolutions' counts unchanged,
  and divides the flattened output, hence the weights of the next Dense layer, by 4. Whether the
  smaller count is *why* pooling reduces overfitting is not an exact question; the trials report the
  generalisation gap (train minus test accuracy) of each arm at each size.
- The validation split (400 sequences) decides when each training stops; the curves of every training
  are kept, under its size's prefix (n400/val/loss, ..., position/val/loss), and the plateau test takes
  a trial's least trained one.
"""

import math

from claimlab import data as datasets
from claimlab import stats, train
from claimlab.domains import Integer, Real, Sizes
from claimlab.plots import mean_ci_band
from claimlab.spec import Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, Better, Contrast, Exact, IfDiverged, Level, Plateau

SOURCE_FILE = "003_8f61efd7de26bf97.txt"
QUESTION = "Recently, pooling layers have fallen out of favor"

TITLE = "Pooling vs dropout vs strided conv over training-set sizes; a position task; parameter counts"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="P1",
        kind="empirical",
        quote="Recently, pooling layers have fallen out of favor. Some reasons are:\nDropout is a much better regularizer.",
        source=Source(SOURCE_FILE, "46-61", QUESTION),
        hypothesis=(
            "On one trunk and the same data, dropout without pooling gives higher test accuracy (averaged over "
            "the training-set sizes) than max pooling without dropout and than average pooling without dropout."
        ),
        rule="p1_rule",
    ),
    Claim(
        id="P2",
        kind="empirical",
        quote=(
            "Pooling results in a loss of information. Think about the max pooling operation as an example. "
            "We only keep the largest of n numbers, thereby disregarding n-1 numbers completely."
        ),
        source=Source(SOURCE_FILE, "46-61", QUESTION),
        hypothesis=(
            "On a task whose label depends on an exact position (a spike's position mod 4), the max-pooling net "
            "reaches lower test accuracy than the same net without pooling."
        ),
        rule="p2_rule",
    ),
    Claim(
        id="P3",
        kind="empirical",
        quote="Recent datasets are so big and complex we're more concerned about underfitting.",
        source=Source(SOURCE_FILE, "46-61", QUESTION),
        hypothesis=(
            "With the compute fixed, the test-accuracy advantage of max and average pooling over the plain net "
            "shrinks as the training set grows from the smallest to the largest size."
        ),
        rule="p3_rule",
    ),
    Claim(
        id="P4",
        kind="exact",
        quote=(
            "A pooling layer is generally used to decrease the size of the output and prevent overfitting. "
            "Reducing overfitting is a consequence of the reducing the output size, which in turn, reduces the "
            "number of parameters in future layers."
        ),
        source=Source(SOURCE_FILE, "134-154", QUESTION),
        hypothesis=(
            "In Keras, two 2x max-pooling layers have no parameters, leave the convolutions' counts unchanged, "
            "divide the flattened output by 4 and so the next Dense layer's weights by 4, and the whole model "
            "has fewer parameters."
        ),
        rule=Exact("parameter_counts_with_and_without_pooling",
                   expect={"pooling_layer_parameters": 0, "conv_parameters_unchanged_by_pooling": True,
                           "output_size_ratio": 4.0, "next_dense_weight_ratio": 4.0,
                           "fewer_parameters_with_pooling": True},
                   note="The claimed reduction is (pool size)^(number of pooling layers) = 2^2 = 4 on this trunk; "
                        "the exact totals are reported."),
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    # generated: 6,800 train / 1,200 validation / 2,000 test
    # fewer break the stratified split of the 10 classes
    "mnist1d_samples": Integer(10_000, min=100),
    "train_sizes": Sizes((400, 1600, 6400), min=1),  # nested class-balanced subsets of the 6,800 training sequences
    "val_examples": Integer(400, min=1),  # validation sequences used for the per-epoch curves (not for any decision)
    "conv_filters": Sizes((32, 32), min=1),
    "conv_kernels": Sizes((5, 3), min=1),
    "dense_units": Integer(64, min=1),
    # also the stride of the strided arm
    # 1 would make the pooling and strided arms the plain net
    "pool_size": Integer(2, min=2),
    "dropout_rate": Real(0.25, min=0, max=1, min_open=True, max_open=True),  # the source's keep probability 0.75
    "epochs": Integer(120, min=1),  # the cap: each training stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before a training stops
    # the unit of an epoch at every training-set size: examples_per_epoch examples
    "examples_per_epoch": Integer(6400, min=1),
    "batch_size": Integer(64, min=1),
    "learning_rate": Real(2e-3, min=0, min_open=True),
    # P2's position task
    "position_train": Integer(3200, min=1),
    "position_val": Integer(400, min=1),
    "position_test": Integer(2000, min=1),
    "position_noise": Real(0.1, min=0),
    "position_classes": Integer(4, min=2),  # label = spike position mod 4
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # P2 is refuted if max pooling's position-task accuracy is within +-2 points of none's: a loss of
    # less than 2 accuracy points is not the "loss of information" the notes warn about.
    "p2_equivalence_margin": Real(0.02, min=0, min_open=True, threshold=True),
    # P1's and P3's smallest effect of interest, in test-accuracy points: the same 2 points, so a
    # difference (or shrink) whose 90% CI lies inside +-2 points is negligible, which refutes.
    "smallest_effect": Real(0.02, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    problems = []
    # MNIST-1D keeps 80% of the samples for training, and claimlab.data holds 15% of those out for validation.
    generated = int(cfg["mnist1d_samples"] * 0.8)
    n_val = math.ceil(0.15 * generated)
    n_train = generated - n_val
    if max(cfg["train_sizes"]) > n_train:
        problems.append(f"train_sizes={cfg['train_sizes']} must be at most the {n_train} training sequences of "
                        f"mnist1d_samples={cfg['mnist1d_samples']}")
    if cfg["val_examples"] > n_val:
        problems.append(f"val_examples={cfg['val_examples']} must be at most the {n_val} validation sequences of "
                        f"mnist1d_samples={cfg['mnist1d_samples']}")
    # P3 compares the smallest training set with the largest.
    if len(set(cfg["train_sizes"])) < 2:
        problems.append(f"train_sizes={cfg['train_sizes']} needs at least two different sizes")
    # The trunk zips the two: a longer one would be cut silently.
    if len(cfg["conv_filters"]) != len(cfg["conv_kernels"]):
        problems.append(f"conv_filters={cfg['conv_filters']} and conv_kernels={cfg['conv_kernels']} must have "
                        "the same length, one entry per conv layer")
    # Each conv layer is followed by a pooling of pool_size on the 40-step sequences.
    if 40 // cfg["pool_size"] ** len(cfg["conv_filters"]) < 1:
        problems.append(f"pool_size={cfg['pool_size']} after each of the {len(cfg['conv_filters'])} conv layers "
                        "shrinks the 40 steps to nothing: pool_size ** layers must be at most 40")
    return problems


def if_diverged(cfg):
    """What a diverged training (non-finite loss) counts as: chance accuracy of the task it trained on.
    Each training-set size and the position task have their own flag; the mean over sizes counts as
    chance if any size's training diverged (an average over a diverged model measures nothing)."""
    mnist1d_chance = IfDiverged.scores(0.1, "chance on MNIST-1D's 10 classes", flag="diverged")
    return {
        P1_METRIC: mnist1d_chance,
        **{size_metric(size): IfDiverged.scores(0.1, "chance on MNIST-1D's 10 classes",
                                                flag=size_metric(size, "diverged"))
           for size in cfg["train_sizes"]},
        P2_METRIC: IfDiverged.scores(1 / cfg["position_classes"], f"chance on {cfg['position_classes']} positions",
                                     flag="position/diverged"),
    }


IF_DIVERGED = if_diverged


def levels(cfg):
    """Chance and ceiling of each judged accuracy: MNIST-1D's 10 classes, and the position task's classes."""
    return {P2_METRIC: Level(1 / cfg["position_classes"], 1.0, f"{cfg['position_classes']} balanced positions"),
            "*accuracy*": Level(0.1, 1.0, "MNIST-1D's 10 balanced classes")}


LEVELS = levels
PLATEAU = Plateau.validation_loss()  # each training to its plateau (claimlab.verdict.Plateau says how)
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "examples_per_epoch": 320, "train_sizes": (80, 320),
              "val_examples": 100, "position_train": 320, "position_val": 100, "position_test": 400},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# P1-P3 are about conv nets in general, but the task (nested training sizes, P2's position labels) is
# built on MNIST-1D's generator; a second dataset would need a second generator and is not in the scope.
# The scope varies the budget and the width. The baseline is the plain conv net at the largest size.
MNIST1D_REFERENCE = datasets.reference("none", datasets.MNIST1D_CNN_PUBLISHED, "a CNN", arm_train_examples=6400,
                                       metric="n6400/test/accuracy")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("MNIST-1D, Adam to a val/loss plateau in epochs of 6,400 examples (patience 10, at most 120)",
                       "the lab's reference setting: six arms at three training sizes over many seeds",
                       reference=MNIST1D_REFERENCE),
    "long_budget": Setting("MNIST-1D, Adam to a val/loss plateau in epochs of 6,400 examples (patience 50, at most "
                           "600)", "a 5x more patient stop, the regime of MNIST-1D's own pooling benchmark: a "
                           "regulariser's worth depends on how far training goes",
                           {"epochs": Times(5), "patience": Times(5)}, MNIST1D_REFERENCE),
    "wide": Setting("MNIST-1D, Adam to a val/loss plateau, twice the channels and hidden units: 64, 64 and 128",
                    "a regulariser matters more the more capacity a net has to over-fit with",
                    {"conv_filters": (64, 64), "dense_units": 128}, MNIST1D_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ARMS = {
    "none": {"downsample": "none", "dropout": False},
    "maxpool": {"downsample": "maxpool", "dropout": False},
    "avgpool": {"downsample": "avgpool", "dropout": False},
    "strided": {"downsample": "strided", "dropout": False},
    "dropout": {"downsample": "none", "dropout": True},
    "maxpool_dropout": {"downsample": "maxpool", "dropout": True},
}
POOLING_ARMS = ("maxpool", "avgpool")
P1_METRIC = "test/accuracy_mean_over_sizes"  # P1: test accuracy averaged over the training-set sizes
P2_METRIC = "position/test/accuracy"  # P2: test accuracy on the position task


def size_metric(size, name="test/accuracy"):
    """The metric of one training-set size, e.g. n400/test/accuracy."""
    return f"n{size}/{name}"


# ---- P4: the exact count --------------------------------------------------------------------------
def parameter_counts_with_and_without_pooling(cfg):
    """Build the none / maxpool / strided models on MNIST-1D's (40, 1) input; count their parameters."""
    counts = {}
    for arm in ("none", "maxpool", "strided"):
        model = build_model({**cfg, **ARMS[arm]}, (40, 1), 10)
        layers_by_kind = {}
        for layer in model.layers:
            kind = type(layer).__name__
            layers_by_kind.setdefault(kind, []).append(layer)
        flatten = layers_by_kind["Flatten"][0]
        first_dense = layers_by_kind["Dense"][0]
        counts[arm] = {
            "total": int(model.count_params()),
            "conv": int(sum(layer.count_params() for layer in layers_by_kind["Conv1D"])),
            "pooling": int(sum(layer.count_params() for kind, group in layers_by_kind.items()
                               if "Pooling" in kind for layer in group)),
            "pooling_layers": sum(len(group) for kind, group in layers_by_kind.items() if "Pooling" in kind),
            "flattened_size": int(flatten.output.shape[-1]),
            "first_dense_weights": int(first_dense.kernel.shape[0] * first_dense.kernel.shape[1]),
            "first_dense_parameters": int(first_dense.count_params()),
        }
    none, pooled, strided = counts["none"], counts["maxpool"], counts["strided"]
    return {
        "total_without_pooling": none["total"],
        "total_with_maxpooling": pooled["total"],
        "total_with_strided_conv": strided["total"],
        "flattened_size_without_pooling": none["flattened_size"],
        "flattened_size_with_maxpooling": pooled["flattened_size"],
        "first_dense_weights_without_pooling": none["first_dense_weights"],
        "first_dense_weights_with_maxpooling": pooled["first_dense_weights"],
        "output_size_ratio": none["flattened_size"] / pooled["flattened_size"],
        "next_dense_weight_ratio": none["first_dense_weights"] / pooled["first_dense_weights"],
        "maxpooling_layers": pooled["pooling_layers"],
        "pooling_layer_parameters": pooled["pooling"],
        "conv_parameters_unchanged_by_pooling": none["conv"] == pooled["conv"],
        "fewer_parameters_with_pooling": pooled["total"] < none["total"],
    }


# ---- the rules, built from the resolved config (the sizes a profile trains, the margin --set gives) --
def p1_rule(cfg):
    """Dropout beats both pooling arms on the mean over sizes; every size's difference is reported."""
    return AllOf(
        *[Better(P1_METRIC, "dropout", than=pooling, smallest_effect=cfg["smallest_effect"])
          for pooling in POOLING_ARMS],
        also_report=[Better(size_metric(size), "dropout", than=pooling, smallest_effect=cfg["smallest_effect"])
                     for size in sorted(cfg["train_sizes"]) for pooling in POOLING_ARMS],
    )


def p2_rule(cfg):
    """Max pooling loses accuracy on the position task: a loss inside the margin is negligible (refuted)."""
    return AllOf(
        Better(P2_METRIC, "none", than="maxpool", equivalence_margin=cfg["p2_equivalence_margin"],
               smallest_effect=cfg["p2_equivalence_margin"]),
        also_report=[Better(P2_METRIC, "none", than=arm, smallest_effect=cfg["p2_equivalence_margin"])
                     for arm in ("avgpool", "strided")],
    )


def advantage_shrink(arm, smallest, largest, smallest_effect):
    """How much an arm's test-accuracy advantage over `none` shrinks from the smallest training set to the
    largest: (arm - none at smallest) - (arm - none at largest), per seed."""
    return Contrast(
        f"shrink of {arm}'s advantage, n{smallest} minus n{largest}",
        terms=[(+1, size_metric(smallest), arm), (-1, size_metric(smallest), "none"),
               (-1, size_metric(largest), arm), (+1, size_metric(largest), "none")],
        meaning=(f"({arm} - none at n={smallest}) - ({arm} - none at n={largest}) in test accuracy, how much "
                 f"{arm}'s advantage over none shrinks from the smallest to the largest training set"),
        claimed_side="above", smallest_effect=smallest_effect,
    )


def p3_rule(cfg):
    """Pooling's advantage shrinks as data grows, for both pooling arms; the other arms' shrink and every
    arm's advantage at every size are reported."""
    sizes = sorted(cfg["train_sizes"])
    smallest, largest = sizes[0], sizes[-1]
    others = [arm for arm in ARMS if arm != "none" and arm not in POOLING_ARMS]
    return AllOf(
        *[advantage_shrink(arm, smallest, largest, cfg["smallest_effect"]) for arm in POOLING_ARMS],
        also_report=[advantage_shrink(arm, smallest, largest, cfg["smallest_effect"]) for arm in others]
        + [Better(size_metric(size), arm, than="none", smallest_effect=cfg["smallest_effect"])
           for arm in ARMS if arm != "none" for size in sizes],
    )


# ---- data -----------------------------------------------------------------------------------------
def load_mnist1d(cfg):
    return datasets.mnist1d(cfg["data_seed"], num_samples=cfg["mnist1d_samples"])


def nested_balanced_order(labels, data_seed):
    """An order of the training indices whose every prefix is (nearly) class-balanced: the classes take
    turns, each in a data_seed-random order. The first n indices are the training set of size n."""
    import numpy as np

    rng = np.random.default_rng(data_seed)
    shuffled = rng.permutation(len(labels))
    rank_in_class = np.empty(len(labels), dtype=np.int64)
    for label in np.unique(labels):
        members = shuffled[labels[shuffled] == label]
        rank_in_class[members] = np.arange(len(members))
    # stable sort by rank within class; ties (one per class) stay in the random order of `shuffled`
    position_in_shuffle = np.empty(len(labels), dtype=np.int64)
    position_in_shuffle[shuffled] = np.arange(len(labels))
    return np.lexsort((position_in_shuffle, rank_in_class))


def subset(full, size, order, cfg, name):
    """A Dataset with the first `size` training examples of `order`, the first val_examples validation
    examples and the full test set."""
    if size > len(order):
        raise ValueError(f"training-set size {size} is larger than the {len(order)} training examples")
    chosen = order[:size]
    keep_val = slice(0, cfg["val_examples"])
    return datasets.Dataset(name, full.x_train[chosen], full.y_train[chosen], full.x_val[keep_val],
                            full.y_val[keep_val], full.x_test, full.y_test, num_classes=full.num_classes,
                            source=full.source, params={**full.params, "train_size": size})


def position_task(cfg):
    """P2's data: Gaussian noise of length 40 with one spike at position p in [4, 36); label = p mod 4."""
    import numpy as np

    length, margin = 40, 4
    sizes = (cfg["position_train"], cfg["position_val"], cfg["position_test"])
    rng = np.random.default_rng([cfg["data_seed"], 2])  # data_seed only: the same data for every trial
    total = sum(sizes)
    positions = rng.integers(margin, length - margin, size=total)
    x = rng.normal(0.0, cfg["position_noise"], size=(total, length)).astype("float32")
    x[np.arange(total), positions] += rng.uniform(0.5, 1.5, size=total).astype("float32")
    y = (positions % cfg["position_classes"]).astype("int32")
    x = x[..., None]
    a, b = sizes[0], sizes[0] + sizes[1]
    return datasets.Dataset("position_mod4", x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:],
                            num_classes=cfg["position_classes"],
                            source="numpy: one spike in Gaussian noise, label = position mod 4",
                            params={"data_seed": cfg["data_seed"], "noise": cfg["position_noise"]})


def repeat_to_budget(dataset, examples_per_epoch):
    """The training split tiled ceil(examples_per_epoch / n) times: one fit epoch = that many passes."""
    import numpy as np

    repeats = max(1, math.ceil(examples_per_epoch / len(dataset.y_train)))
    return datasets.Dataset(dataset.name, np.tile(dataset.x_train, (repeats, 1, 1)),
                            np.tile(dataset.y_train, repeats), dataset.x_val, dataset.y_val,
                            dataset.x_test, dataset.y_test, dataset.num_classes, dataset.source, dataset.params)


def prepare(cfg):
    """Called once by the runner before any trial: generate the data and check the sizes fit."""
    full = load_mnist1d(cfg)
    if max(cfg["train_sizes"]) > len(full.y_train):
        raise ValueError(f"train_sizes {cfg['train_sizes']} exceed the {len(full.y_train)} generated "
                         "training sequences; raise mnist1d_samples")
    position_task(cfg)


# ---- model ----------------------------------------------------------------------------------------
def build_model(cfg, input_shape, num_classes):
    """The shared trunk with the arm's downsampling (cfg['downsample']) and dropout (cfg['dropout'])."""
    import keras
    from keras import layers

    downsample = cfg["downsample"]
    if downsample not in ("none", "maxpool", "avgpool", "strided"):
        raise ValueError(f"unknown downsample {downsample!r}")
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for filters, kernel in zip(cfg["conv_filters"], cfg["conv_kernels"]):
        stride = cfg["pool_size"] if downsample == "strided" else 1
        x = layers.Conv1D(filters, kernel, strides=stride, padding="same", activation="relu")(x)
        if downsample == "maxpool":
            x = layers.MaxPooling1D(cfg["pool_size"])(x)
        elif downsample == "avgpool":
            x = layers.AveragePooling1D(cfg["pool_size"])(x)
    x = layers.Flatten()(x)
    if cfg["dropout"]:
        x = layers.Dropout(cfg["dropout_rate"])(x)
    x = layers.Dense(cfg["dense_units"], activation="relu")(x)
    if cfg["dropout"]:
        x = layers.Dropout(cfg["dropout_rate"])(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_and_evaluate(dataset, cfg, seeds):
    """One fresh model per seed in `seeds`, each trained to its plateau, side by side (claimlab.train.
    fit_per_seed, bit-identical to training each alone); test and train accuracy."""
    models = train.build_per_seed(seeds, lambda seed: build_model(cfg, dataset.input_shape, dataset.num_classes))
    histories = train.fit_per_seed(models, seeds, repeat_to_budget(dataset, cfg["examples_per_epoch"]),
                                   cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    results = []
    for model, history in zip(models, histories):
        metrics = {
            **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
            **train.evaluate(model, dataset.x_train, dataset.y_train, "train_eval"),
        }
        metrics["generalization_gap"] = metrics["train_eval/accuracy"] - metrics["test/accuracy"]
        metrics["diverged"] = float(train.diverged(history))
        results.append((model, metrics, history))
    return results


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once; training k of seed s is seeded with s * 1000 + k, as alone."""
    full = load_mnist1d(cfg)
    order = nested_balanced_order(full.y_train, cfg["data_seed"])
    metrics, history, used = ({seed: {} for seed in seeds} for _ in range(3))
    sizes = sorted(cfg["train_sizes"])
    for k, size in enumerate(sizes):
        dataset = subset(full, size, order, cfg, "mnist1d")
        trained = train_and_evaluate(dataset, cfg, [seed * 1000 + k for seed in seeds])
        params = float(trained[0][0].count_params())  # the same network at every size
        for seed, (_, measured, curves) in zip(seeds, trained):
            metrics[seed].update({size_metric(size, name): value for name, value in measured.items()})
            history[seed].update({size_metric(size, name): curve for name, curve in curves.items()})
            used[seed][size] = dataset.info()

    position = position_task(cfg)
    trained = train_and_evaluate(position, cfg, [seed * 1000 + len(sizes) for seed in seeds])
    results = []
    for seed, (_, measured, curves) in zip(seeds, trained):
        seed_metrics = metrics[seed]
        seed_metrics[P1_METRIC] = sum(seed_metrics[size_metric(s)] for s in sizes) / len(sizes)
        seed_metrics["params/total"] = params
        seed_metrics.update({f"position/{name}": value for name, value in measured.items()})
        history[seed].update({f"position/{name}": curve for name, curve in curves.items()})
        seed_metrics["diverged"] = float(any(value for name, value in seed_metrics.items() if name.endswith("diverged")))
        results.append(TrialResult(metrics=seed_metrics, history=history[seed],
                                   datasets=[*used[seed].values(), position.info()]))
    return results


# ---- the claim's own figures ----------------------------------------------------------------------
def figures(evidence):
    """P3: test accuracy against training-set size per arm; P2: position-task accuracy per arm."""
    import matplotlib.pyplot as plt
    import numpy as np

    trials = evidence.trials
    arms = [a for a in ARMS if a in set(trials["arm"])]
    sizes = sorted(s for s in evidence.cfg["train_sizes"] if size_metric(s) in trials)
    result = {}
    if sizes:
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for i, arm in enumerate(arms):
            rows = trials[trials["arm"] == arm]
            mean_ci_band(ax, sizes, rows[[size_metric(s) for s in sizes]].to_numpy(), f"C{i}", label=arm, marker="o")
        ax.set_xscale("log")
        ax.minorticks_off()  # only the sizes themselves as ticks
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("training-set size (MNIST-1D; same compute for every size)")
        ax.set_ylabel("test accuracy")
        ax.set_title("P1/P3: test accuracy against training-set size (mean, 95% CI)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        result["accuracy_vs_train_size"] = fig
    if P2_METRIC in trials:
        fig, ax = plt.subplots(figsize=(6.5, 3.8))
        summaries = [stats.describe(trials[trials["arm"] == arm][P2_METRIC].to_numpy()) for arm in arms]
        means = np.array([s["mean"] for s in summaries])
        errors = np.array([[m - s["ci_low"], s["ci_high"] - m] for m, s in zip(means, summaries)]).T
        ax.bar(arms, means, yerr=np.nan_to_num(errors), color=[f"C{i}" for i in range(len(arms))], capsize=4)
        ax.axhline(1 / evidence.cfg["position_classes"], color="gray", linestyle="--", label="chance")
        ax.set_ylabel("test accuracy")
        ax.set_title("P2: label = spike position mod 4 (mean, 95% CI)")
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        fig.tight_layout()
        result["position_task"] = fig
    return result
