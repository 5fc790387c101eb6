"""A 1x1 convolution with stride 2 in a ResNet bottleneck block: data loss, and what it saves. From
"Stuck understanding ResNet's Identity block and Convolutional blocks" (sources/002_6725717de9344925.txt,
lines 71-96).

The asker's ResNet50 convolutional block opens its main path with `Conv2D(F1, (1, 1), strides=(s, s))`
and asks (line 83): "I don't understand the reason behind keeping stride > 1 with window size 1. Isn't it
just data loss? We are just considering alternate pixels in this case." An answer (line 90): "It's done to
save on computation/training time." (That answer speaks of the bottleneck design as a whole; the stride's
place is what the asker asks about, so both of its consequences are measured here.)

The claim has an exact part and an empirical part, so it is two ids:

    E8a (exact)      on real Keras layers: a Conv2D 1x1 with stride 2 on an HxW map reads only the
                     positions with even row and column (1/4 of them: "alternate pixels"), measured by the
                     gradient of the output sum w.r.t. the input, while a 3x3 stride-2 conv reads every
                     position; and a bottleneck block with the stride on the 1x1 needs fewer multiply-adds
                     than the same block with the stride on the 3x3: only the first 1x1 conv differs, and it
                     costs stride^2 = 4 times as much at full resolution ("save on computation").
    E8b (empirical)  the asker's "data loss" as an accuracy cost: the same small bottleneck CNN trained
                     with the stride on the 3x3 conv (ResNet v1.5 style) beats the one with the stride on
                     the 1x1 conv (ResNet v1, the asker's code) on test accuracy.

Arms (identical but for where the main path's stride sits; same seeds, same budget, same batch order):
    stride_on_1x1   each downsampling bottleneck block: 1x1 conv (stride 2) -> 3x3 conv -> 1x1 conv
    stride_on_3x3   the same block: 1x1 conv -> 3x3 conv (stride 2) -> 1x1 conv
In both arms the shortcut is a 1x1 conv with stride 2 (as in the asker's ResNet50 block), so only the
main path differs.

Model: stem Conv(stem_filters, 3, same, relu), then one downsampling bottleneck block per entry of
`stage_filters` (output channels C; bottleneck width C / bottleneck_ratio), main path
1x1 (relu) -> 3x3 same (relu) -> 1x1, plus the shortcut, then ReLU; GlobalAveragePooling -> Dense softmax.
No batch norm (ResNet v1 has it; it would apply to both arms alike, and it keeps these small nets simple
and the seeds fusable). On MNIST-1D the same model is built with Conv1D (positions 40 -> 20 -> 10).

Design choices, made before any run:
- Data: `shifted_digits` (scikit-learn digits centred on a 16x16 canvas: 16 -> 8 -> 4 positions per
  side through the two stages) by default; MNIST-1D as a second dataset.
- Training: Adam (1e-3), batch 32. Every arm trains until its validation loss has not improved for
  `patience` (10) epochs, at most `epochs` (150), and keeps the weights of its best epoch (PLATEAU; the
  validation split, never the test split). Why not a fixed budget: at the former 20 epochs both arms were
  still improving (the quick run of 2026-12-05: training accuracy up 5.0 and 3.2 points over the last
  fifth of the epochs), so E8b would have measured which stride learns faster, not what it costs.
- E8b reads "data loss" as an accuracy cost that matters: stride_on_3x3 - stride_on_1x1 test accuracy
  above 0 (95% paired CI), with one accuracy point (`smallest_effect` = 0.01) as the smallest effect of
  interest: the smallest difference in test accuracy that would make a practitioner move the stride. The
  lab's one decision (verdict.decide) tests equivalence first: a difference whose 90% CI lies inside
  +-1 point is negligible and refutes the claim ("no accuracy lost that matters" counts against "data
  loss"); only then does the side of 0 decide. (The rule had a separate `equivalence_margin` key of the
  same value, 0.01, until issue 27 made the smallest effect the one margin.)
- Reported, unjudged: the wall-clock training seconds per trial (the machine is shared, so only a rough
  figure), and each arm's multiply-adds per example (counted analytically from the built layers: for every
  conv, H_out*W_out*k*k*C_in*C_out; the Dense head too), parameters (equal in both arms), and training
  accuracy.
- E8a's gradient maps use Keras' default Glorot kernels (seed 0) and no bias or activation, on a
  16x16x4 input (the default canvas): a position is "reached" when |d sum(output) / d input| > 0 at any
  channel. The FLOPs check counts the asker's own block (ResNet50's conv3_1: a 56x56x256 input, F1 = 128,
  512 output channels, stride 2) and this module's first block as a 2-D block on a canvas x canvas map of
  stem_filters channels (whatever the dataset), each built both ways.

What a verdict here covers: small bottleneck CNNs on small data. The SETTINGS below add a 5x more patient stop, a
wider and deeper net (three stages, 64-128-256 channels), and MNIST-1D (1-D signals, where every
position of a sequence may carry information), and the scope report (results/strided_1x1/scope.md) says
in which of them each verdict holds.
"""

import time

from claimlab import data as datasets
from claimlab import train
from claimlab.checks import fresh_keras
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.spec import Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, Better, Exact, IfDiverged, Level, Plateau, Summarize

SOURCE_FILE = "002_6725717de9344925.txt"
QUESTION = "Stuck understanding ResNet's Identity block and Convolutional blocks"

TITLE = "Stride 2 on a 1x1 conv: which pixels it reads, what it saves, and whether it costs accuracy"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="E8a",
        kind="exact",
        quote=(
            "I don't understand the reason behind keeping stride > 1 with window size 1. Isn't it just data loss? "
            "We are just considering alternate pixels in this case.\n"
            "It's done to save on computation/training time."
        ),
        source=Source(SOURCE_FILE, "83-90", QUESTION),
        hypothesis=(
            "A Keras Conv2D 1x1 with stride 2 reads only the input positions with even row and column (1/4 of "
            "them; its output sum has a zero gradient everywhere else), while a 3x3 stride-2 conv reads all of "
            "them; and a bottleneck block with the stride on the 1x1 needs fewer multiply-adds than with the "
            "stride on the 3x3: the other layers cost the same, the first 1x1 costs stride^2 = 4 times as much "
            "unstrided."
        ),
        rule="e8a_rule",
    ),
    Claim(
        id="E8b",
        kind="empirical",
        quote="I don't understand the reason behind keeping stride > 1 with window size 1. Isn't it just data loss?",
        source=Source(SOURCE_FILE, "83", QUESTION),
        hypothesis=(
            "A small bottleneck CNN with the stride on the 3x3 conv of each downsampling block reaches a higher "
            "test accuracy than the same CNN with the stride on the first 1x1 conv (which skips 3 pixels in 4), "
            "by more than nothing; equivalence within +-1 point counts against the claim."
        ),
        rule="e8b_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("shifted_digits", choices=("shifted_digits", "mnist1d")),
    "canvas": Integer(16, min=8),  # shifted_digits: the 8x8 digits in the middle of a canvas x canvas image
    "stem_filters": Integer(16, min=1),
    "stage_filters": Sizes((32, 64), min=1),  # one downsampling bottleneck block per stage, these output channels
    "bottleneck_ratio": Integer(4, min=1),  # bottleneck width = output channels / 4, as in ResNet50
    "stride": Integer(2, min=2),
    "epochs": Integer(150, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(1e-3, min=0, min_open=True),
    "check_channels": Integer(4, min=1),  # E8a's gradient maps: a canvas x canvas x check_channels input
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E8b: the smallest accuracy cost of the 1x1 stride that matters, one test-accuracy point.
    "smallest_effect": Real(0.01, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    problems = []
    if any(c < cfg["bottleneck_ratio"] for c in cfg["stage_filters"]):
        problems.append(f"stage_filters={cfg['stage_filters']}: every stage needs at least bottleneck_ratio="
                        f"{cfg['bottleneck_ratio']} channels, so the bottleneck has at least one")
    side = cfg["canvas"] if cfg["dataset"] == "shifted_digits" else 40
    if side < cfg["stride"] ** len(cfg["stage_filters"]):
        problems.append(f"{len(cfg['stage_filters'])} stages of stride {cfg['stride']} need at least "
                        f"{cfg['stride'] ** len(cfg['stage_filters'])} positions per side, {cfg['dataset']} has {side}")
    return problems


IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: both dataset choices have 10 balanced classes"),
    "train_eval/accuracy": IfDiverged.scores(0.1, "chance: both dataset choices have 10 balanced classes"),
    "time/train_seconds": IfDiverged.kept("a wall-clock time is measured whatever the loss does"),
    "flops/per_example": IfDiverged.kept("counted from the layer shapes, before training"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "*accuracy": Level(0.1, 1.0, "both dataset choices have 10 balanced classes"),
    "*": Level.unbounded("a timing and a count of operations"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
DIGITS_REFERENCE = datasets.reference("stride_on_3x3", datasets.DIGITS_PUBLISHED, "a CNN",
                                      arm_dataset="shifted_digits")
MNIST1D_REFERENCE = datasets.reference("stride_on_3x3", datasets.MNIST1D_CNN_PUBLISHED, "a CNN")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("shifted digits (16x16), stem + 2 bottleneck blocks (32, 64 channels), to a val/loss plateau (patience "
                       "10, at most 150 epochs)",
                       "the lab's reference setting: small enough to train both arms over many seeds",
                       reference=DIGITS_REFERENCE),
    "long_budget": Setting("shifted digits, stem + 2 bottleneck blocks, to a val/loss plateau (patience 50, at "
                           "most 750 epochs)", "a 5x more patient stop: an arm that reads fewer pixels may only learn "
                           "slower", {"epochs": Times(5), "patience": Times(5)}, DIGITS_REFERENCE),
    "wide_deep": Setting("shifted digits, stem + 3 bottleneck blocks (64, 128, 256 channels), to a val/loss plateau",
                         "more capacity and one more strided block (a map down to 2x2): the pixels skipped by "
                         "each 1x1 stride compound with depth, and a wider net may make up for them",
                         {"stage_filters": (64, 128, 256)}, DIGITS_REFERENCE),
    "mnist1d": Setting("MNIST-1D (40 steps), the same net in Conv1D, to a val/loss plateau",
                       "the question is about data in general: a second dataset, 1-D signals whose every step "
                       "may carry information, where skipping alternate positions could cost more",
                       {"dataset": "mnist1d"}, MNIST1D_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ARMS = {
    "stride_on_1x1": {"stride_on": "1x1"},
    "stride_on_3x3": {"stride_on": "3x3"},
}


# ---- model ----------------------------------------------------------------------------------------
def bottleneck_block(x, filters, stride, stride_on, ratio, dims, name):
    """A downsampling bottleneck block: main path 1x1 -> 3x3 -> 1x1 with the stride on the first 1x1
    (stride_on="1x1", ResNet v1) or on the 3x3 (stride_on="3x3", v1.5); shortcut 1x1 with the stride."""
    from keras import layers

    if stride_on not in ("1x1", "3x3"):
        raise ValueError(f"unknown stride_on {stride_on!r}; choose 1x1 or 3x3")
    conv = layers.Conv2D if dims == 2 else layers.Conv1D
    width = filters // ratio
    first_stride, middle_stride = (stride, 1) if stride_on == "1x1" else (1, stride)
    y = conv(width, 1, strides=first_stride, padding="same", activation="relu", name=f"{name}_reduce")(x)
    y = conv(width, 3, strides=middle_stride, padding="same", activation="relu", name=f"{name}_3x3")(y)
    y = conv(filters, 1, padding="same", name=f"{name}_expand")(y)
    shortcut = conv(filters, 1, strides=stride, padding="same", name=f"{name}_shortcut")(x)
    return layers.Activation("relu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([y, shortcut]))


def build_model(stride_on, input_shape, num_classes, cfg):
    import keras
    from keras import layers

    dims = len(input_shape) - 1
    conv = layers.Conv2D if dims == 2 else layers.Conv1D
    gap = layers.GlobalAveragePooling2D if dims == 2 else layers.GlobalAveragePooling1D
    inputs = keras.Input(shape=input_shape)
    x = conv(cfg["stem_filters"], 3, padding="same", activation="relu", name="stem")(inputs)
    for i, filters in enumerate(cfg["stage_filters"], 1):
        x = bottleneck_block(x, filters, cfg["stride"], stride_on, cfg["bottleneck_ratio"], dims, f"block{i}")
    outputs = layers.Dense(num_classes, activation="softmax", name="head")(gap()(x))
    model = keras.Model(inputs, outputs, name=f"stride_on_{stride_on}")
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def layer_flops(layer):
    """Multiply-adds per example of a built Conv1D/Conv2D/Dense layer, from its shapes:
    (output positions) * (kernel positions) * C_in * C_out; a Dense layer is C_in * C_out."""
    import math

    kernel = layer.kernel.shape  # conv: (*kernel_size, C_in, C_out); dense: (C_in, C_out)
    if layer.__class__.__name__ == "Dense":
        return int(kernel[0] * kernel[1])
    positions = math.prod(layer.output.shape[1:-1])
    return int(positions * math.prod(kernel))


def model_flops(model):
    """{layer name: multiply-adds per example} for every conv and Dense layer of a model."""
    return {layer.name: layer_flops(layer) for layer in model.layers if hasattr(layer, "kernel")}


# ---- E8a: the exact checks ------------------------------------------------------------------------
def reached_positions(kernel_size, stride, side, channels):
    """A real Conv2D(kernel_size, stride, same, no bias) on a side x side x channels input: the boolean
    side x side map of input positions where the gradient of the output sum is non-zero (any channel)."""
    import numpy as np
    import tensorflow as tf
    from keras import layers

    conv = layers.Conv2D(8, kernel_size, strides=stride, padding="same", use_bias=False)
    x = tf.Variable(np.random.default_rng(0).normal(size=(1, side, side, channels)).astype("float32"))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(conv(x))
    gradient = np.asarray(tape.gradient(total, x))[0]
    return np.abs(gradient).max(axis=-1) > 0


def block_flops(input_shape, filters, stride, ratio, stride_on):
    """{layer role: multiply-adds} of one bottleneck block built on real Keras layers on `input_shape`."""
    import keras

    inputs = keras.Input(shape=input_shape)
    block = keras.Model(inputs, bottleneck_block(inputs, filters, stride, stride_on, ratio, len(input_shape) - 1, "b"))
    return {name.removeprefix("b_"): flops for name, flops in model_flops(block).items()}


def compare_blocks(input_shape, filters, stride, ratio):
    """The two placements of the stride in one block: per-layer multiply-adds and the relations."""
    on_1x1 = block_flops(input_shape, filters, stride, ratio, "1x1")
    on_3x3 = block_flops(input_shape, filters, stride, ratio, "3x3")
    return {
        "stride_on_1x1": on_1x1,
        "stride_on_3x3": on_3x3,
        "total_stride_on_1x1": sum(on_1x1.values()),
        "total_stride_on_3x3": sum(on_3x3.values()),
        "reduce_ratio": on_3x3["reduce"] / on_1x1["reduce"],
        "other_layers_equal": all(on_1x1[k] == on_3x3[k] for k in on_1x1 if k != "reduce"),
    }


def strided_1x1_reads_alternate_pixels(cfg):
    import numpy as np

    fresh_keras()  # seed 0: the same kernels every run
    side, stride, channels = cfg["canvas"], cfg["stride"], cfg["check_channels"]
    reached_1x1 = reached_positions(1, stride, side, channels)
    reached_3x3 = reached_positions(3, stride, side, channels)
    grid = np.zeros((side, side), dtype=bool)
    grid[::stride, ::stride] = True  # rows and columns 0, s, 2s, ...: the "alternate pixels" for s = 2
    resnet50 = compare_blocks((56, 56, 256), 512, 2, 4)  # ResNet50 conv3_1: F1 = 128, out 512, s = 2
    trial_input = (cfg["canvas"], cfg["canvas"], cfg["stem_filters"])
    trial = compare_blocks(trial_input, cfg["stage_filters"][0], stride, cfg["bottleneck_ratio"])
    return {
        "map_side": side,
        "share_reached_1x1_stride": float(reached_1x1.mean()),
        "reached_1x1_is_the_stride_grid": bool((reached_1x1 == grid).all()),
        "share_reached_3x3_stride": float(reached_3x3.mean()),
        "resnet50_block/stride_on_1x1": resnet50["stride_on_1x1"],
        "resnet50_block/stride_on_3x3": resnet50["stride_on_3x3"],
        "resnet50_block/total_stride_on_1x1": resnet50["total_stride_on_1x1"],
        "resnet50_block/total_stride_on_3x3": resnet50["total_stride_on_3x3"],
        "resnet50_block/reduce_ratio": resnet50["reduce_ratio"],
        "resnet50_block/saving": 1 - resnet50["total_stride_on_1x1"] / resnet50["total_stride_on_3x3"],
        "trial_block/total_stride_on_1x1": trial["total_stride_on_1x1"],
        "trial_block/total_stride_on_3x3": trial["total_stride_on_3x3"],
        "trial_block/reduce_ratio": trial["reduce_ratio"],
        "stride_on_1x1_needs_fewer_flops": bool(resnet50["total_stride_on_1x1"] < resnet50["total_stride_on_3x3"]
                                                and trial["total_stride_on_1x1"] < trial["total_stride_on_3x3"]),
        "only_the_first_1x1_differs": bool(resnet50["other_layers_equal"] and trial["other_layers_equal"]),
        "first_1x1_flops_ratio": float(max(resnet50["reduce_ratio"], trial["reduce_ratio"])),
    }


def e8a_context(measured):
    return (f"ResNet50 conv3_1 block: {measured['resnet50_block/total_stride_on_1x1'] / 1e6:.1f} M multiply-adds "
            f"with the stride on the 1x1 vs {measured['resnet50_block/total_stride_on_3x3'] / 1e6:.1f} M on the 3x3 "
            f"({measured['resnet50_block/saving']:.0%} saved); this module's first block: "
            f"{measured['trial_block/total_stride_on_1x1']:,} vs {measured['trial_block/total_stride_on_3x3']:,}")


def e8a_rule(cfg):
    s2 = cfg["stride"] ** 2
    return Exact(strided_1x1_reads_alternate_pixels,
                 expect={"share_reached_1x1_stride": 1 / s2, "reached_1x1_is_the_stride_grid": True,
                         "share_reached_3x3_stride": 1.0, "stride_on_1x1_needs_fewer_flops": True,
                         "only_the_first_1x1_differs": True, "first_1x1_flops_ratio": float(s2)},
                 note="Gradient maps of real Conv2D layers (Glorot kernels, seed 0, 'same' padding) on a "
                      "canvas x canvas x check_channels input: a position is reached when the gradient of the "
                      "output sum is non-zero there. Multiply-adds counted as H_out*W_out*k*k*C_in*C_out from "
                      "the built layers of a bottleneck block (1x1 -> 3x3 -> 1x1, 1x1 shortcut), for ResNet50's "
                      "conv3_1 (56x56x256 in, 512 out) and this module's first block; first_1x1_flops_ratio is "
                      "the larger of the two blocks' ratios (both must equal stride^2).",
                 context=e8a_context)


# ---- E8b: the empirical rule ----------------------------------------------------------------------
def e8b_rule(cfg):
    return AllOf(
        Better("test/accuracy", "stride_on_3x3", than="stride_on_1x1", smallest_effect=cfg["smallest_effect"]),
        also_report=[Summarize("train_eval/accuracy", list(ARMS)),
                     Summarize("time/train_seconds", list(ARMS)),
                     Summarize("flops/per_example", list(ARMS))],
    )


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    options = {"canvas": cfg["canvas"]} if cfg["dataset"] == "shifted_digits" else {}
    return datasets.load(cfg["dataset"], cfg["data_seed"], **options)


def prepare(cfg):
    """Called once by the runner before any trial: bad or unreachable data fails here, fast."""
    load_data(cfg)


# ---- the trials ----------------------------------------------------------------------------------
def run_trial(arm, seed, cfg):
    """One seed alone (not fused with other seeds), so that its training time is its own."""
    dataset = load_data(cfg)
    model = build_model(cfg["stride_on"], dataset.input_shape, dataset.num_classes, cfg)
    start = time.perf_counter()
    history = train.fit(model, dataset, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    seconds = time.perf_counter() - start
    flops = model_flops(model)
    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        **train.evaluate(model, dataset.x_train, dataset.y_train, "train_eval"),
        "params/total": model.count_params(),
        "flops/per_example": sum(flops.values()),
        "flops/block1_reduce": flops["block1_reduce"],
        "time/train_seconds": seconds,
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])
