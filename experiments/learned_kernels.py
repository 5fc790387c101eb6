"""Learned vs predefined convolution kernels, from "Are Convolution Kernels Predefined or Does a CNN Define
them During Training" (sources/000_2706fe11d950e137.txt, lines 116-128).

The asker wonders whether one writes a 5x5 kernel by hand, giving an example,

    [[ 0,  1, -2,  1,  0],
     [ 0,  2, -1,  2,  1],
     [ 1,  0,  1,  0,  0],
     [-1, -1,  0, -3, -1],
     [-3, -2,  0,  1,  1]]

or tells the CNN to find one. The answer: the kernels are trained, "each number in the matrix is a free
parameter, adjusted according to partial derivative of the loss" (E5a, exact), and the model "will find
all the kernels on its own" (E5b, empirical: are the kernels it finds better than predefined ones?).

E5a builds a Conv2D(first_filters, 5) and checks on real Keras objects that its kernel is a trainable
weight and that one plain SGD step on a batch of digits moves every one of its numbers by exactly
-learning_rate x the partial derivative of the loss with respect to that number.

E5b trains one small CNN whose FIRST convolution is the arm, everything else identical and trainable:

    net:   conv 5x5 (first_filters) relu   <- the arm      (Conv1D, kernel 5, on MNIST-1D)
           -> maxpool 2 -> conv 3x3 (second_filters) relu -> maxpool 2
           -> Flatten -> Dense(dense_units) relu -> Dense(10) softmax
    arms:  learned         an ordinary trainable Conv2D (Keras' default Glorot-uniform start)
           fixed_designed  the kernel is set to a hand-designed bank and frozen: the asker's 5x5 example
                           first, then Sobel edge kernels and other classic filters (DESIGNED_2D below)
           fixed_random    the kernel is frozen at its random Glorot-uniform initialisation

Design choices, made before any run:
- Only the first layer's KERNEL is frozen (`layer.kernel.trainable = False`); its bias stays trainable in
  every arm, so the arms differ in nothing but whether the kernel numbers are learned and what they are.
  The tests check that a frozen kernel is bit-identical after training and that the learned one moves.
- Common random numbers: for one seed the three arms are built in the same order from the same seed, so
  every layer starts from the same weights in all three, and fixed_random's kernel is exactly the
  learned arm's starting kernel. The data order is the same too (the runner seeds each trial).
- The designed bank (16 kernels; `first_filters` may not exceed it, a designer runs out of classic
  filters): 0 the asker's example as written (Keras convolutions are cross-correlations, so the matrix
  is applied as printed); 1-4 the 5x5 Sobel derivatives (outer product of [1,4,6,4,1] and
  [-1,-2,0,2,1]) along x, y and their negatives (ReLU keeps one polarity per filter, so each sign is its
  own edge detector); 5-6 the 5x5 Laplacian-of-Gaussian mask and its negative (bright / dark spots);
  7 the 5x5 binomial Gaussian blur; 8-11 the diagonal Sobel derivatives (x + y, x - y, steered) and their
  negatives; 12-15 bright-line detectors at 0, 45, 90 and 135 degrees (2 on the line through the centre,
  -1 elsewhere, made zero-sum). The default 8 filters use kernels 0-7; the `wide` setting all 16.
  MNIST-1D's bank is the 1-D counterpart (DESIGNED_1D): Gaussian smoothing, the Sobel derivative
  [-1,-2,0,2,1] and its negative, a centre-surround peak and valley, central differences, a delta, then
  second differences, step edges, a box filter and a negative smoothing. The asker's 2-D example has no
  1-D counterpart, so it is only in the 2-D bank.
- Scale: a hand-designed kernel's size is arbitrary (the asker's has norm 6.7, a Keras default kernel
  about 0.47), so every designed kernel is rescaled to the expected L2 norm of the Keras default
  (Glorot-uniform) kernel of its layer, sqrt(k^d * 2 / (fan_in + fan_out)). The designed and the random
  arm then differ in the kernels' shape, not their size.
- Reading of the claim: the answer says nothing about accuracy, but a CNN that "will find all the kernels
  on its own" is only worth the training if what it finds is better than what one could predefine. E5b
  is read as: learned first-layer kernels give higher test accuracy than the same net with the designed
  bank frozen AND than with random kernels frozen. Each comparison is a Better with smallest effect and
  equivalence margin `smallest_effect` (one accuracy point, THRESHOLDS): a significant difference counts
  for the claim; learned and fixed kernels equivalent within one point count against it (then learning
  the kernels bought nothing a practitioner would choose by). Designed vs random is reported, not judged.
- How far the learned kernels moved is reported per trial: kernel/relative_change = ||W_end - W_start|| /
  ||W_start|| and kernel/max_abs_change (both exactly 0 in the frozen arms), summarised in E5b's report.
- Adam. Every arm trains until its validation loss has not improved for `patience` (10) epochs, at most
  `epochs` (150), and keeps the weights of its best epoch (PLATEAU; the validation split, never the test
  split). Why not a fixed budget: at the former 30 epochs all three arms were still improving (the quick
  run of 2026-12-05: training accuracy up 1.1-1.4 points over the last fifth of the epochs), and a frozen
  first layer may only slow the rest down, which a fixed budget would read as a loss of accuracy.

What a verdict covers: one small CNN whose later layers are trainable and can adapt to whatever the first
layer computes, so E5b measures what learning the FIRST layer adds on top of a trainable rest. SETTINGS add
a 5x more patient stop, twice the first-layer filters (the whole designed bank), and MNIST-1D (a Conv1D net).
"""

import numpy as np

from claimlab import checks, train
from claimlab import data as datasets
from claimlab.domains import Integer, OneOf, Real
from claimlab.spec import Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, AtMost, Better, Exact, IfDiverged, Level, Plateau, Summarize

SOURCE_FILE = "000_2706fe11d950e137.txt"
QUESTION = "Are Convolution Kernels Predefined or Does a CNN Define them During Training"

TITLE = "Learned vs frozen first-layer kernels (hand-designed 5x5 incl. the asker's, random): are kernels free parameters?"

KERNEL_SIZE = 5  # the asker's example is 5x5, and so is every designed kernel: not a tunable key
DESIGNED_BANK_SIZE = 16  # kernels in each designed bank (2-D and 1-D)

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="E5a",
        kind="exact",
        quote=(
            "For CNN the kernels are trained during the optimization procedure, so each number in the matrix is "
            "a free parameter, adjusted according to partial derivative of the loss considered with respect to "
            "this particular variable."
        ),
        source=Source(SOURCE_FILE, "125", QUESTION),
        hypothesis=(
            "A Keras Conv2D's 5x5 kernel is in model.trainable_weights, every one of its numbers gets a non-zero "
            "partial derivative of the loss, and one SGD step moves every number by exactly -lr times it."
        ),
        rule="e5a_rule",
    ),
    Claim(
        id="E5b",
        kind="empirical",
        quote=(
            "However, I'm not sure if in the typical CNN you would predefine what the convolutional kernel is or "
            "if that is something that the CNN \"figures out.\"\n"
            "kernel = [[ 0, 1, -2, 1, 0]\n"
            "[ 0, 2, -1, 2, 1]\n"
            "[ 1, 0, 1, 0, 0]\n"
            "[-1, -1, 0, -3, -1]\n"
            "[-3, -2, 0, 1, 1]]\n"
            "Or would you simply tell the CNN to find a 5x5 kernel and after training it will have come up with "
            "a good 5x5 kernel?\n"
            "You would tell the model to use K kernels of given size, with given spacing, maybe in multiple "
            "layers, followed by other operations, and it will find all the kernels on its own."
        ),
        source=Source(SOURCE_FILE, "118-128", QUESTION),
        hypothesis=(
            "With the rest of a small CNN identical and trainable, learned first-layer kernels give higher test "
            "accuracy than the same kernels frozen at a hand-designed bank (the asker's 5x5 example, Sobel and "
            "other classic filters) and than kernels frozen at their random initialisation."
        ),
        rule="e5b_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("digits", choices=("digits", "shifted_digits", "mnist1d")),
    "canvas": Integer(16, min=8),  # shifted_digits only: the 8x8 digits in the middle of a canvas x canvas image
    "first_filters": Integer(8, min=1, max=DESIGNED_BANK_SIZE),  # the arm's layer; designed: one kernel per filter
    "second_filters": Integer(16, min=1),  # the trainable conv 3x3 after the first max-pool
    "dense_units": Integer(32, min=1),
    "epochs": Integer(150, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(1e-3, min=0, min_open=True),  # Adam
    "check_learning_rate": Real(0.1, min=0, min_open=True),  # E5a: the one plain-SGD step
    "check_examples": Integer(64, min=1),  # E5a: the batch of digits the step is taken on
    "check_seeds": Integer(5, min=5),  # E5a: the weights drawn under seeds 0..check_seeds-1, the worst judged
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E5b: one accuracy point, the smallest test-accuracy difference that would change which first layer a
    # practitioner picks; also the equivalence margin under which learned and fixed count as the same.
    "smallest_effect": Real(0.01, min=0, min_open=True, threshold=True),
    # E5a: float32 round-off between Keras' SGD update and W - lr * dL/dW computed from a GradientTape.
    "update_tolerance": Real(1e-6, min=0, min_open=True, threshold=True),
}


# What a diverged trial (non-finite training loss) counts as on each metric a rule reads.
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: every dataset choice has 10 balanced classes"),
    "kernel/relative_change": IfDiverged.excluded("a NaN kernel has no distance from its start"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "test/accuracy": Level(0.1, 1.0, "every dataset choice has 10 balanced classes"),
    "kernel/relative_change": Level.unbounded("a distance of the kernel from its start"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The answer speaks of CNNs in general: the scope varies the training budget, the number of first-layer
# kernels (more fixed kernels may cover what learning finds) and the data (a second, 1-D dataset).
DIGITS_REFERENCE = datasets.reference("learned", datasets.DIGITS_PUBLISHED, "a CNN")
MNIST1D_REFERENCE = datasets.reference("learned", datasets.MNIST1D_CNN_PUBLISHED, "a CNN")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("digits, 8 first-layer 5x5 kernels, to a val/loss plateau (patience 10, at most 150 epochs)",
                       "the lab's reference setting: a small CNN, three arms over many seeds on 2 cores",
                       reference=DIGITS_REFERENCE),
    "long_budget": Setting("digits, 8 first-layer 5x5 kernels, to a val/loss plateau (patience 50, at most 750 "
                           "epochs)", "a 5x more patient stop: the trainable rest of a frozen-kernel net may only "
                           "need longer to adapt to its fixed first layer", {"epochs": Times(5), "patience": Times(5)},
                           DIGITS_REFERENCE),
    "wide": Setting("digits, 16 first-layer 5x5 kernels (the whole designed bank), to a val/loss plateau",
                    "model capacity: with twice the kernels a fixed bank covers more directions and features, "
                    "which may close the gap to learned kernels", {"first_filters": 16}, DIGITS_REFERENCE),
    "mnist1d": Setting("MNIST-1D, the same net in 1-D (8 kernels of 5), to a val/loss plateau",
                       "a second, harder dataset whose positions are time steps, with 1-D hand-designed "
                       "(difference, smoothing) kernels", {"dataset": "mnist1d"}, MNIST1D_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ARMS = {arm: {"kernels": arm} for arm in ("learned", "fixed_designed", "fixed_random")}

# ---- the hand-designed kernels ----------------------------------------------------------------------
# The asker's example, lines 119-123 of the source, as printed (row i, column j).
ASKER_KERNEL = [[0, 1, -2, 1, 0],
                [0, 2, -1, 2, 1],
                [1, 0, 1, 0, 0],
                [-1, -1, 0, -3, -1],
                [-3, -2, 0, 1, 1]]
SMOOTH = np.array([1.0, 4.0, 6.0, 4.0, 1.0])  # binomial smoothing (the 5x5 Sobel's smoothing part)
DERIVATIVE = np.array([-1.0, -2.0, 0.0, 2.0, 1.0])  # the 5x5 Sobel's derivative part
LAPLACIAN_OF_GAUSSIAN = [[0, 0, -1, 0, 0],
                         [0, -1, -2, -1, 0],
                         [-1, -2, 16, -2, -1],
                         [0, -1, -2, -1, 0],
                         [0, 0, -1, 0, 0]]


def line_detector(angle_degrees):
    """5x5 bright-line detector: 2 on the cells within half a pixel of the line through the centre at the
    angle, -1 elsewhere, minus its mean (zero-sum)."""
    angle = np.deg2rad(angle_degrees)
    offsets = np.arange(KERNEL_SIZE) - KERNEL_SIZE // 2
    y, x = np.meshgrid(offsets, offsets, indexing="ij")
    distance = np.abs(-np.sin(angle) * x + np.cos(angle) * -y)  # rows grow downwards
    kernel = np.where(distance < 0.5, 2.0, -1.0)
    return kernel - kernel.mean()


def _designed_2d():
    sobel_x, sobel_y = np.outer(SMOOTH, DERIVATIVE), np.outer(DERIVATIVE, SMOOTH)
    diagonal, antidiagonal = (sobel_x + sobel_y) / np.sqrt(2), (sobel_x - sobel_y) / np.sqrt(2)
    log = np.array(LAPLACIAN_OF_GAUSSIAN, dtype=float)
    return {
        "asker_example": np.array(ASKER_KERNEL, dtype=float),
        "sobel_x": sobel_x, "sobel_y": sobel_y, "-sobel_x": -sobel_x, "-sobel_y": -sobel_y,
        "laplacian_of_gaussian": log, "-laplacian_of_gaussian": -log,
        "gaussian_blur": np.outer(SMOOTH, SMOOTH) / 256.0,
        "sobel_diagonal": diagonal, "sobel_antidiagonal": antidiagonal,
        "-sobel_diagonal": -diagonal, "-sobel_antidiagonal": -antidiagonal,
        **{f"line_{angle}deg": line_detector(angle) for angle in (0, 45, 90, 135)},
    }


def _designed_1d():
    peak = np.array([-1.0, -2.0, 6.0, -2.0, -1.0])  # centre-surround, zero-sum
    central = np.array([0.0, -1.0, 0.0, 1.0, 0.0])
    second = np.array([0.0, 1.0, -2.0, 1.0, 0.0])
    wide_second = np.array([1.0, 0.0, -2.0, 0.0, 1.0])
    step = np.array([-1.0, -1.0, 0.0, 1.0, 1.0])
    return {
        "smooth": SMOOTH / 16.0, "sobel": DERIVATIVE, "-sobel": -DERIVATIVE, "peak": peak, "valley": -peak,
        "central_difference": central, "-central_difference": -central, "delta": np.array([0.0, 0.0, 1.0, 0.0, 0.0]),
        "second_difference": second, "-second_difference": -second,
        "wide_second_difference": wide_second, "-wide_second_difference": -wide_second,
        "step": step, "-step": -step, "box": np.ones(5) / 5.0, "-smooth": -SMOOTH / 16.0,
    }


DESIGNED_2D = _designed_2d()
DESIGNED_1D = _designed_1d()


def glorot_kernel_norm(kernel_shape):
    """Expected L2 norm of one (filter, input channel) slice of a Glorot-uniform kernel of this shape:
    each entry has variance 2 / (fan_in + fan_out), and a slice has prod(spatial) entries."""
    *spatial, in_channels, filters = kernel_shape
    receptive = int(np.prod(spatial))
    fan_in, fan_out = receptive * in_channels, receptive * filters
    return float(np.sqrt(receptive * 2.0 / (fan_in + fan_out)))


def designed_kernel(kernel_shape):
    """The frozen arm's kernel, Keras layout (k, k, in, filters) or (k, in, filters): bank kernel f in
    filter f (every input channel), each rescaled to the Glorot-uniform expected norm of that layer."""
    *spatial, in_channels, filters = kernel_shape
    bank = list((DESIGNED_2D if len(spatial) == 2 else DESIGNED_1D).values())
    if filters > len(bank):
        raise ValueError(f"the designed bank has {len(bank)} kernels; {filters} filters asked for")
    if any(size != KERNEL_SIZE for size in spatial):
        raise ValueError(f"the designed kernels are {KERNEL_SIZE}-wide, not {spatial}")
    target = glorot_kernel_norm(kernel_shape)
    kernel = np.zeros(kernel_shape, dtype="float32")
    for f in range(filters):
        unit = bank[f] / np.linalg.norm(bank[f])
        for c in range(in_channels):
            kernel[..., c, f] = unit * target
    return kernel


# ---- E5a: the exact check ---------------------------------------------------------------------------
def kernel_is_a_trained_parameter(cfg):
    """A Conv2D(first_filters, 5) -> Flatten -> Dense(10) softmax on 8x8 digits: is the kernel a trainable
    weight, does every kernel number get a partial derivative, and does one SGD step (Keras' own
    train_on_batch) move each number by exactly -lr * dL/dW? The conv is linear here (no ReLU) so that no
    dead unit can hide a kernel number from the loss. A control with the kernel frozen is reported."""

    tf = train.import_tensorflow()
    data = datasets.load("digits", cfg["data_seed"])
    x, y = data.x_train[: cfg["check_examples"]], data.y_train[: cfg["check_examples"]]
    lr = cfg["check_learning_rate"]

    def build(freeze, seed):
        keras = checks.fresh_keras(seed)  # the same seed: both models start from the same weights
        inputs = keras.Input(shape=data.input_shape)
        conv = keras.layers.Conv2D(cfg["first_filters"], KERNEL_SIZE, padding="same", name="conv")
        outputs = keras.layers.Dense(data.num_classes, activation="softmax")(keras.layers.Flatten()(conv(inputs)))
        model = keras.Model(inputs, outputs)
        if freeze:
            if checks.keras_major() == 3:
                conv.kernel.trainable = False
            else:  # Keras 2 branch (--keras 2): a variable's trainable flag is read-only; freeze the layer
                conv.trainable = False
        model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy")
        return keras, model, conv

    def one_draw(seed):
        keras, model, conv = build(freeze=False, seed=seed)
        start = np.array(conv.kernel)
        with tf.GradientTape() as tape:
            loss = keras.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
        gradient = np.array(tape.gradient(loss, [conv.kernel])[0])
        model.train_on_batch(x, y)
        end = np.array(conv.kernel)

        _, frozen, frozen_conv = build(freeze=True, seed=seed)
        frozen_start, frozen_bias_start = np.array(frozen_conv.kernel), np.array(frozen_conv.bias)
        frozen.train_on_batch(x, y)
        return {
            "kernel_shape": [int(s) for s in conv.kernel.shape],
            "kernel_in_trainable_weights": any(w is conv.kernel for w in model.trainable_weights),
            "trainable_kernel_numbers": int(np.prod(conv.kernel.shape)),
            "kernel_entries_with_nonzero_gradient": int(np.count_nonzero(gradient)),
            "kernel_entries_changed_by_one_step": int(np.count_nonzero(end != start)),
            "max_abs_update_error": float(np.abs(end.astype("float64") - (start - lr * gradient)).max()),
            "max_abs_step": float(np.abs(end - start).max()),
            "frozen_control_kernel_in_trainable_weights": any(w is frozen_conv.kernel
                                                              for w in frozen.trainable_weights),
            "frozen_control_kernel_max_abs_change": float(np.abs(np.array(frozen_conv.kernel) - frozen_start).max()),
            "frozen_control_bias_changed": bool(np.any(np.array(frozen_conv.bias) != frozen_bias_start)),
        }

    # Every kernel number must get a gradient and move in every draw: the fewest over the draws is judged.
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "kernel_in_trainable_weights": "all", "trainable_kernel_numbers": "min",
        "kernel_entries_with_nonzero_gradient": "min", "kernel_entries_changed_by_one_step": "min",
        "max_abs_update_error": "max", "frozen_control_kernel_in_trainable_weights": "any",
        "frozen_control_kernel_max_abs_change": "max", "frozen_control_bias_changed": "all"})


def e5a_rule(cfg):
    numbers = KERNEL_SIZE * KERNEL_SIZE * cfg["first_filters"]  # one input channel (grey digits)
    return Exact(kernel_is_a_trained_parameter,
                 expect={"kernel_in_trainable_weights": True, "trainable_kernel_numbers": numbers,
                         "kernel_entries_with_nonzero_gradient": numbers,
                         "kernel_entries_changed_by_one_step": numbers,
                         "max_abs_update_error": AtMost(cfg["update_tolerance"])},
                 note=f"One plain-SGD step (learning rate {cfg['check_learning_rate']:g}) on {cfg['check_examples']} "
                      f"digits, from {checks.weight_draws_text(cfg)} (the fewest kernel numbers with a gradient "
                      "or a step, the largest update error: the claim holds for any weights). max_abs_update_error = max |W_after - (W_before - lr * dL/dW)| over the kernel, the "
                      "gradient from a GradientTape. A control with the kernel frozen (kernel.trainable = False) "
                      "is reported: its kernel must not move.")


# ---- E5b: the rule ---------------------------------------------------------------------------------
def e5b_rule(cfg):
    effect = cfg["smallest_effect"]
    return AllOf(
        Better("test/accuracy", "learned", than="fixed_designed", smallest_effect=effect, equivalence_margin=effect),
        Better("test/accuracy", "learned", than="fixed_random", smallest_effect=effect, equivalence_margin=effect),
        also_report=[Better("test/accuracy", "fixed_designed", than="fixed_random", smallest_effect=effect),
                     Summarize("kernel/relative_change", list(ARMS))],
    )


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    options = {"canvas": cfg["canvas"]} if cfg["dataset"] == "shifted_digits" else {}
    return datasets.load(cfg["dataset"], cfg["data_seed"], **options)


def prepare(cfg):
    """Called once by the runner before any trial: bad or unreachable data fails here, fast."""
    load_data(cfg)


# ---- model ----------------------------------------------------------------------------------------
def build_model(kernels, input_shape, num_classes, cfg):
    """The CNN with the arm's first layer; returns the compiled model and the first layer's kernel as it
    starts training (a NumPy copy)."""
    import keras
    from keras import layers

    if kernels not in ARMS:
        raise ValueError(f"unknown kernels {kernels!r}; choose one of {', '.join(ARMS)}")
    images = len(input_shape) == 3
    conv = layers.Conv2D if images else layers.Conv1D
    pool = layers.MaxPooling2D if images else layers.MaxPooling1D

    inputs = keras.Input(shape=input_shape)
    first = conv(cfg["first_filters"], KERNEL_SIZE, padding="same", activation="relu", name="first_conv")
    x = pool(2)(first(inputs))
    x = conv(cfg["second_filters"], 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(pool(2)(x))
    x = layers.Dense(cfg["dense_units"], activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"kernels_{kernels}")
    if kernels == "fixed_designed":
        first.kernel.assign(designed_kernel(tuple(first.kernel.shape)))
    if kernels != "learned":
        first.kernel.trainable = False  # the kernel only: the first layer's bias trains in every arm
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, np.array(first.kernel)


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once: each seed's model is built as it would be alone, and the seeds
    train side by side as one Keras model (claimlab.train.fit_per_seed), bit-identical to training alone."""
    dataset = load_data(cfg)
    built = train.build_per_seed(seeds, lambda seed: build_model(cfg["kernels"], dataset.input_shape,
                                                                 dataset.num_classes, cfg))
    histories = train.fit_per_seed([model for model, _ in built], seeds, dataset, cfg["epochs"], cfg["batch_size"],
                                   stop=PLATEAU.stop(cfg))
    return [measure(model, start, history, dataset)
            for (model, start), history in zip(built, histories)]


def kernel_movement(start, end):
    """How far a kernel moved: relative L2 distance from its start, and the largest single change."""
    start, end = np.asarray(start, dtype="float64"), np.asarray(end, dtype="float64")
    return {"kernel/relative_change": float(np.linalg.norm(end - start) / np.linalg.norm(start)),
            "kernel/max_abs_change": float(np.abs(end - start).max()),
            "kernel/norm_start": float(np.linalg.norm(start)), "kernel/norm_end": float(np.linalg.norm(end))}


def measure(model, start, history, dataset):
    first = model.get_layer("first_conv")
    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        **kernel_movement(start, np.array(first.kernel)),
        "params/trainable": float(train.count_params(model)),
        "params/total": float(model.count_params()),
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])


# ---- the claim's own figure -----------------------------------------------------------------------
def figures(evidence):
    """The designed bank the fixed_designed arm uses, as rescaled and frozen (first_filters of them)."""
    import matplotlib.pyplot as plt

    cfg = evidence.cfg
    filters = cfg.get("first_filters", CONFIG["first_filters"].default)
    one_d = cfg.get("dataset") == "mnist1d"
    shape = (KERNEL_SIZE, 1, filters) if one_d else (KERNEL_SIZE, KERNEL_SIZE, 1, filters)
    kernel = designed_kernel(shape)
    names = list((DESIGNED_1D if one_d else DESIGNED_2D))[:filters]
    columns = min(filters, 8)
    rows = -(-filters // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 2.0 * rows), squeeze=False)
    limit = float(np.abs(kernel).max())
    for index, ax in enumerate(axes.flat):
        if index >= filters:
            ax.axis("off")
            continue
        if one_d:
            ax.bar(range(KERNEL_SIZE), kernel[:, 0, index], color="C0")
            ax.set_ylim(-limit, limit)
        else:
            ax.imshow(kernel[:, :, 0, index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(names[index], fontsize=7)
    fig.suptitle("fixed_designed: the frozen first-layer kernels (red +, blue -)", fontsize=9)
    fig.tight_layout()
    return {"designed_kernels": fig}
