"""Global average pooling vs flattening, and the other heads from "Why does the global average
pooling work in ResNet?" (sources/002_6725717de9344925.txt, lines 35-70).

The asker replaced the global-average-pooling head of a shallow ResNet and reported:

    GAP 93%, global max pooling 85%, an exponential moving average over one axis 12%,
    four strips each max-pooled then concatenated 75%, a one-filter 1x1 convolution 25%.

The answer credits GAP with (G2) removing ~1.56 million weights, (G6) faster training, (G3) less
over-fitting and (G4) more robustness to translations. The asker also tried (G5) averaging over the
channels, which "didn't work". We put all seven heads on one convolutional trunk and train every head with
the same seeds, so the heads differ in nothing but the head:

    trunk:  [conv3x3 relu] x2 (16) -> maxpool 2 -> [conv3x3 relu] x2 (32)    (Conv1D on MNIST-1D)
            or, with `--set trunk=resnet`, a shallow ResNet like the asker's "10 conv. layer" one:
            claimlab.models.resnet_cifar's stem and two stages of 2 residual blocks (16, 32 filters,
            the second stage strided): 9 convolutions, and the head's softmax layer makes 10
    heads:  gap           GlobalAveragePooling -> softmax
            gmp           GlobalMaxPooling -> softmax
            ema           exponential moving average over the positions (beta 0.5, as in the snippet)
            split4_gmp    positions in 4 contiguous strips, max-pooled each, concatenated -> softmax
            conv1_kernel  a 1x1 convolution with one filter, flattened -> softmax
            flatten       Flatten -> Dense(128, relu) -> softmax  (the "fully connected" paradigm)
            channel_mean  the mean over the channels, one feature per position -> softmax (the asker's
                          "Average the last channel. [-1, 128, 1, 32] --> [-1, 128]")

Like the asker's [-1, 128, 1, 32] map, the trunk's output is read as a sequence of positions
(8x8 = 64 positions of 32 channels on shifted_digits, 20 positions on MNIST-1D).

Design choices, made before any run:
- Data: `shifted_digits` (scikit-learn digits centred on a 16x16 canvas) by default, `mnist1d` with
  `--set dataset=mnist1d`. Training images are never shifted; G4 tests on copies of the test set
  moved by 0..max_shift pixels (a random direction per image, the same for every arm).
- "Over-fitting" (G3) is the generalisation gap: accuracy on the training set (evaluated in inference
  mode after training) minus test accuracy.
- "Robust to translations" (G4) is the accuracy drop: test accuracy at shift 0 minus the mean test
  accuracy at shifts 1..max_shift. Smaller is more robust. The whole curve is plotted.
- G5 and G6 were added by issue 28 (a second reading of the source), before the run that judges them:
  G5 on the channel_mean head, added for it; G6 on a timing added to every trial.
- "Speeds up the training" (G6) is read as training throughput, examples per second, which is what
  removing weights changes per step (how many epochs each head needs to its plateau is a different
  question, and depends on the stopping rule). The seeds of an arm train side by side as one model, so
  their wall time is shared: after everything else is measured, each trained model alone takes one batch
  (which traces its train step) and then one timed pass over `speed_probe_examples` (1024) training
  examples at batch_size (about a pass over the digits' training split). Judged: the mean over seeds of
  log(examples/s of gap / examples/s of flatten), paired by seed (a ratio, so the machine's speed
  cancels), with a smallest effect of 0.1 (about 10%).
  A timing depends on the machine and its load, so this verdict is about this machine (2 CPU cores,
  two trials at a time), which the results name.
- Every head trains until its validation loss has not improved for `patience` (10) epochs, at most
  `epochs` (150), and keeps the weights of its best epoch (PLATEAU; the validation split, never the test
  split). Why not a fixed budget: at the former 30 epochs the GAP, GMP and EMA heads were still improving
  (the quick run of 2026-12-05: training accuracy up 2.9 points over the last fifth for GAP, 3.4 for EMA),
  so G1's ranking would have said which head trains fastest. The generalisation gap (G3) is then the gap
  of each head's best epoch, the model a practitioner keeps.

What a verdict here covers: the default setting is one small trunk (4 convolutions, 32 channels at
the head) on small images. The SETTINGS below add MNIST-1D, a 5x more patient stop, and a 10-layer ResNet trunk
like the asker's, and the scope report (results/gap_vs_flatten/scope.md) says in which of them each
verdict holds. A head that pools 32 channels into 32 features has far less capacity than Flatten+Dense;
whether it still trains to 100% training accuracy is in the results (`train_eval/accuracy`).
"""

from claimlab import data as datasets
from claimlab import train
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.plots import mean_ci_band
from claimlab.spec import Advice, Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import Better, Exact, IfDiverged, Level, Plateau, Ranking, SeedStatistic

SOURCE_FILE = "002_6725717de9344925.txt"
QUESTION = "Why does the global average pooling work in ResNet?"

TITLE = "Global average pooling vs flatten and five other heads: accuracy, parameters, speed, over-fitting, shifts"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="G1",
        kind="empirical",
        quote=(
            "The performance is good as my expectation --- 93% (yeah, it is ok).\n"
            "Global max pooling layer. but got 85% ACC\n"
            "Exponential Moving Average. but got 12% (almost didn't work)\n"
            "Split input into 4 parts, avg_pool each parts, finally concatenate them.\n"
            "but got 75%\n"
            "Use a conv. layer with 1 kernel. In this way, the output shape is [-1, 128, 1, 1]. "
            "but didn't work, 25% or so."
        ),
        source=Source(SOURCE_FILE, "39-62", QUESTION),
        hypothesis=(
            "On one shared trunk, test accuracy ranks the asker's heads as GAP (93%) > GMP (85%) > "
            "4-strip GMP (75%) > one-filter conv (25%) > EMA (12%). The flatten head is reported alongside."
        ),
        rule=lambda cfg: Ranking("test/accuracy", order=("gap", "gmp", "split4_gmp", "conv1_kernel", "ema"),
                                 also_report=("flatten", "channel_mean"), smallest_effect=cfg["smallest_effect"]),
    ),
    Claim(
        id="G2",
        kind="exact",
        quote=(
            "The removal of a large number of trainable parameters from the model. Fully connected or dense "
            "layers have lots of parameters. A 7 x 7 x 64 CNN output being flattened and fed into a 500 node "
            "dense layer yields 1.56 million weights which need to be trained."
        ),
        source=Source(SOURCE_FILE, "66", QUESTION),
        hypothesis="keras.layers.Dense(500) on a flattened 7x7x64 map has 1.56 million weights.",
        rule=Exact("flatten_dense_weight_count", expect={"dense_weights": 1_560_000}, rel_tol=0.01,
                   note="The answer states the count to three significant figures; a Keras count within 1% "
                        "is taken as the same number, and the exact count is reported."),
    ),
    Claim(
        id="G3",
        kind="empirical",
        quote=(
            "The elimination of all these trainable parameters also reduces the tendency of over-fitting, "
            "which needs to be managed in fully connected layers by the use of dropout."
        ),
        source=Source(SOURCE_FILE, "67", QUESTION),
        hypothesis="The GAP head has a smaller train-test accuracy gap than the Flatten+Dense head.",
        rule=lambda cfg: Better("generalization_gap", arm="gap", than="flatten", higher_is_better=False,
                                smallest_effect=cfg["smallest_effect"]),
    ),
    Claim(
        id="G4",
        kind="empirical",
        quote=(
            "Finally, the authors also argue that, due to the averaging operation over the feature maps, "
            "this makes the model more robust to spatial translations in the data."
        ),
        source=Source(SOURCE_FILE, "69", QUESTION),
        hypothesis=(
            "Trained on unshifted inputs, the GAP head loses less test accuracy than the Flatten+Dense head "
            "when test inputs are shifted by 1..max_shift pixels."
        ),
        rule=lambda cfg: Better("shift/accuracy_drop", arm="gap", than="flatten", higher_is_better=False,
                                smallest_effect=cfg["smallest_effect"]),
    ),
    Claim(
        id="G5",
        kind="empirical",
        quote="Average the last channel. [-1, 128, 1, 32] --> [-1, 128], didn't work.",
        source=Source(SOURCE_FILE, "60", QUESTION),
        hypothesis=(
            "A head that averages the trunk's output over its channels, keeping the positions ([-1, positions, "
            "channels] -> [-1, positions]) -> softmax, reaches a lower test accuracy than the GAP head, which "
            "averages over the positions and keeps the channels."
        ),
        rule=lambda cfg: Better("test/accuracy", arm="gap", than="channel_mean", smallest_effect=cfg["smallest_effect"]),
    ),
    Claim(
        id="G6",
        kind="empirical",
        quote=(
            "A 7 x 7 x 64 CNN output being flattened and fed into a 500 node dense layer yields 1.56 million "
            "weights which need to be trained. Removing these layers speeds up the training of your model."
        ),
        source=Source(SOURCE_FILE, "66", QUESTION),
        hypothesis=(
            "The GAP head trains faster than the Flatten+Dense head: more training examples per second on the "
            "same trunk, timed for each trained model alone (time/train_examples_per_second)."
        ),
        rule=lambda cfg: speedup_rule(cfg),
    ),
]


# Lines of the same thread that the lab lists without a verdict: the ledger's "Not judged" section.
NOT_JUDGED = [
    Advice(
        quote='The authors argue in the original paper that removing the fully connected classification layers forces the feature maps to be more closely related to the classification categories – so that each feature map becomes a kind of “category confidence map”.',
        source=Source(SOURCE_FILE, "68", QUESTION),
        why=("it reports the Network-in-Network authors' argument about their own head, whose last convolution has "
             "one feature map per category that GAP feeds straight into the softmax; 'a kind of category confidence "
             "map' names no quantity a measurement could settle, and no head here (nor any of the asker's) ties a "
             "map to a category: GAP feeds a dense softmax layer over 32 channels. Judging it would mean adding "
             "NIN's head and choosing after the fact what makes a map a confidence map. G1-G6 judge what the "
             "answer says of GAP that can be measured."),
    ),
]

# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("shifted_digits", choices=("shifted_digits", "mnist1d", "keras:mnist", "keras:fashion_mnist")),
    # shifted_digits: the 8x8 digits sit in the middle of a canvas x canvas image
    # the 8x8 digits must fit
    "canvas": Integer(16, min=8),
    # plain: the conv blocks below; resnet: residual stages of the same widths (images only)
    "trunk": OneOf("plain", choices=("plain", "resnet")),
    # two conv blocks, a 2x max-pool between them (resnet: two stages, the second strided)
    "trunk_filters": Sizes((16, 32), min=1),
    # residual blocks per stage of the resnet trunk (2 blocks x 2 convs x 2 stages + stem = 9)
    "resnet_blocks": Integer(2, min=1),
    # the hidden layer of the flatten head
    # 0: no hidden layer, Flatten -> softmax
    "flatten_dense_units": Integer(128, min=0),
    "ema_beta": Real(0.5, min=0, max=1),  # the snippet's beta
    "epochs": Integer(150, min=1),  # the cap: each head stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before a head stops
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(1e-3, min=0, min_open=True),
    # G4: test shifts 0..max_shift pixels (positions on MNIST-1D)
    # G4's drop averages the accuracy at shifts 1..max_shift
    "max_shift": Integer(4, min=1),
    # G6: a trained model's training speed, timed alone: one pass over this many training examples at
    # batch_size, after one batch that traces the step
    "speed_probe_examples": Integer(1024, min=1),
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # The smallest effect of interest for G1, G3, G4, all in accuracy points: one point, the smallest
    # difference in test accuracy (or in a gap or a drop made of accuracies) that would change which
    # head a practitioner picks; a significant difference whose CI lies inside it is called negligible.
    "smallest_effect": Real(0.01, min=0, min_open=True, threshold=True),
    # G6: a speed-up counts as nothing if the 90% CI of the mean log ratio of examples per second lies inside
    # +-0.1 (about 10% faster or slower): a smaller difference would not make a practitioner pick a head
    "speedup_margin": Real(0.1, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    problems = []
    if cfg["dataset"] == "shifted_digits" and cfg["canvas"] < 8 + 2 * cfg["max_shift"]:
        problems.append(f"canvas={cfg['canvas']} must be at least 8 + 2 * max_shift = {8 + 2 * cfg['max_shift']}, "
                        "so that the 8x8 digits shifted by max_shift pixels stay on the canvas")
    if cfg["trunk"] == "resnet" and cfg["dataset"] == "mnist1d":
        problems.append("trunk=resnet is a 2-D ResNet: use it with an image dataset, not mnist1d")
    # The trunk max-pools 2x between blocks (the resnet trunk strides 2x between stages); split4_gmp then cuts the positions into 4 equal strips.
    side = {"shifted_digits": cfg["canvas"], "mnist1d": 40}.get(cfg["dataset"], 28)  # keras: 28x28 images
    side //= 2 ** (len(cfg["trunk_filters"]) - 1)
    positions = side if cfg["dataset"] == "mnist1d" else side * side
    if positions == 0 or positions % 4:
        problems.append(f"trunk_filters={cfg['trunk_filters']} leaves {positions} positions on {cfg['dataset']}; "
                        "split4_gmp needs a positive multiple of 4 (fewer blocks, or another canvas)")
    return problems


# What a diverged trial (non-finite training loss) counts as on each judged metric.
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: every dataset choice has 10 balanced classes"),
    "generalization_gap": IfDiverged.excluded("a gap between two chance-level accuracies measures nothing"),
    "shift/accuracy_drop": IfDiverged.excluded("a drop from a chance-level accuracy measures nothing"),
    "time/train_examples_per_second": IfDiverged.kept("a timing of training steps: it does not depend on the loss"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "test/accuracy": Level(0.1, 1.0, "every dataset choice has 10 balanced classes"),
    "*": Level.unbounded("a gap and a drop (differences between two accuracies), and a timing"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "max_shift": 2, "speed_probe_examples": 64},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The answer speaks of GAP "in ResNet" and of CNNs in general, so the scope varies the data, the
# training budget and the trunk. The baseline is the flatten head, an ordinary CNN classifier.
DIGITS_REFERENCE = datasets.reference("flatten", datasets.DIGITS_PUBLISHED, "a CNN",
                                      arm_dataset="shifted_digits")
MNIST1D_REFERENCE = datasets.reference("flatten", datasets.MNIST1D_CNN_PUBLISHED, "a CNN")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("shifted digits, the small plain trunk, to a val/loss plateau (patience 10, at most 150 "
                       "epochs)",
                       "the lab's reference setting: small enough to train seven heads over many seeds",
                       reference=DIGITS_REFERENCE),
    "mnist1d": Setting("MNIST-1D, the plain trunk in 1-D, to a val/loss plateau",
                       "the claims are about classification with conv features in general: a second, harder "
                       "dataset whose positions are time steps", {"dataset": "mnist1d"}, MNIST1D_REFERENCE),
    "long_budget": Setting("shifted digits, the small plain trunk, to a val/loss plateau (patience 50, at most "
                           "750 epochs)", "a 5x more patient stop: a head with fewer weights may only need longer, "
                           "and over-fitting (G3) grows with training", {"epochs": Times(5), "patience": Times(5)},
                           DIGITS_REFERENCE),
    "resnet_trunk": Setting("shifted digits, a 10-layer ResNet trunk, to a val/loss plateau",
                            "the asker's own kind of model (a shallow ResNet of 10 layers with a GAP head): "
                            "residual blocks and batch norm change the features every head reads",
                            {"trunk": "resnet"}, DIGITS_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

HEADS = ("gap", "gmp", "ema", "split4_gmp", "conv1_kernel", "flatten", "channel_mean")
ARMS = {head: {"head": head} for head in HEADS}

# ---- G2: the exact count --------------------------------------------------------------------------
def flatten_dense_weight_count(cfg):
    """Build the answer's example in Keras and count: Flatten(7x7x64) -> Dense(500), and GAP -> Dense(500)."""
    import keras
    from keras import layers

    feature_map = keras.Input(shape=(7, 7, 64))
    flatten_dense = layers.Dense(500)
    keras.Model(feature_map, flatten_dense(layers.Flatten()(feature_map)))
    gap_dense = layers.Dense(500)
    keras.Model(feature_map, gap_dense(layers.GlobalAveragePooling2D()(feature_map)))
    weights = int(flatten_dense.kernel.shape[0] * flatten_dense.kernel.shape[1])
    return {
        "dense_weights": weights,
        "dense_parameters_with_bias": int(flatten_dense.count_params()),
        "gap_dense_weights": int(gap_dense.kernel.shape[0] * gap_dense.kernel.shape[1]),
        "millions_to_3_significant_figures": float(f"{weights / 1e6:.3g}"),
    }


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    options = {"canvas": cfg["canvas"]} if cfg["dataset"] == "shifted_digits" else {}
    return datasets.load(cfg["dataset"], cfg["data_seed"], **options)


def prepare(cfg):
    """Called once by the runner before any trial: bad or unreachable data fails here, fast."""
    load_data(cfg)


# ---- model ----------------------------------------------------------------------------------------
def exponential_moving_average_weights(n, beta):
    """The snippet's loop as fixed weights over n positions:
    avg = x[0]; for i in 1..n-1: avg = beta * x[i] + (1 - beta) * avg."""
    import numpy as np

    weights = np.zeros(n, dtype="float32")
    weights[0] = 1.0
    for i in range(1, n):
        weights *= 1.0 - beta
        weights[i] = beta
    return weights


def build_model(head, input_shape, num_classes, cfg):
    import keras
    from keras import layers, ops

    images = len(input_shape) == 3
    conv = layers.Conv2D if images else layers.Conv1D
    pool = layers.MaxPooling2D if images else layers.MaxPooling1D

    if cfg["trunk"] == "resnet":
        from claimlab import models

        trunk = models.resnet_cifar(cfg["resnet_blocks"], input_shape, filters=cfg["trunk_filters"],
                                    include_top=False)
        inputs, x = trunk.input, trunk.output
    else:
        inputs = keras.Input(shape=input_shape)
        x = inputs
        for block, filters in enumerate(cfg["trunk_filters"]):
            if block:
                x = pool(2)(x)
            x = conv(filters, 3, padding="same", activation="relu")(x)
            x = conv(filters, 3, padding="same", activation="relu")(x)
    channels = cfg["trunk_filters"][-1]
    positions = layers.Reshape((-1, channels), name="positions")(x)  # like the asker's [-1, 128, 1, 32]

    if head == "gap":
        features = layers.GlobalAveragePooling1D()(positions)
    elif head == "gmp":
        features = layers.GlobalMaxPooling1D()(positions)
    elif head == "ema":
        weights = exponential_moving_average_weights(positions.shape[1], cfg["ema_beta"])
        features = layers.Lambda(lambda p: ops.einsum("bnc,n->bc", p, weights), name="ema")(positions)
    elif head == "split4_gmp":
        n = positions.shape[1]
        if n % 4:
            raise ValueError(f"split4_gmp needs a number of positions divisible by 4, got {n}")
        strips = layers.Reshape((4, n // 4, channels))(positions)
        features = layers.Flatten()(layers.Lambda(lambda s: ops.max(s, axis=2))(strips))
    elif head == "conv1_kernel":
        features = layers.Flatten()(layers.Conv1D(1, 1)(positions))
    elif head == "channel_mean":  # the asker's "Average the last channel": one feature per position
        features = layers.Lambda(lambda p: ops.mean(p, axis=-1), name="channel_mean")(positions)
    elif head == "flatten":
        features = layers.Flatten()(positions)
        if cfg["flatten_dense_units"]:
            features = layers.Dense(cfg["flatten_dense_units"], activation="relu")(features)
    else:
        raise ValueError(f"unknown head {head!r}")
    outputs = layers.Dense(num_classes, activation="softmax")(features)
    model = keras.Model(inputs, outputs, name=f"head_{head}")
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    trunk_params = keras.Model(inputs, positions).count_params()
    return model, trunk_params


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once: each seed's model is built as it would be alone, and the seeds
    train side by side as one Keras model (claimlab.train.fit_per_seed), bit-identical to training alone."""
    dataset = load_data(cfg)
    built = train.build_per_seed(seeds, lambda seed: build_model(cfg["head"], dataset.input_shape,
                                                                 dataset.num_classes, cfg))
    histories = train.fit_per_seed([model for model, _ in built], seeds, dataset, cfg["epochs"], cfg["batch_size"],
                                   stop=PLATEAU.stop(cfg))
    return measure(built, histories, dataset, cfg)


def measure(built, histories, dataset, cfg):
    """Each trained model's metrics: test and training accuracy (G3's gap), and accuracy under shifts (G4).
    The models are evaluated side by side (claimlab.train.evaluate_per_seed), each as it would be alone."""
    evaluate = train.evaluate_per_seed([model for model, _ in built])
    test = evaluate(dataset.x_test, dataset.y_test, "test")
    train_eval = evaluate(dataset.x_train, dataset.y_train, "train_eval")
    # G4: the same test set moved by 0..max_shift; the directions depend on data_seed, not on the trial.
    shifted = [evaluate(datasets.translate(dataset.x_test, shift, seed=cfg["data_seed"] * 1000 + shift),
                        dataset.y_test, "shifted") for shift in range(cfg["max_shift"] + 1)]

    results = []
    for i, ((model, trunk_params), history) in enumerate(zip(built, histories)):
        metrics = {
            **test[i],
            **train_eval[i],
            "params/total": model.count_params(),
            "params/head": model.count_params() - trunk_params,
            "diverged": float(train.diverged(history)),
        }
        metrics["generalization_gap"] = metrics["train_eval/accuracy"] - metrics["test/accuracy"]
        for shift, at_shift in enumerate(shifted):
            metrics[f"shift/accuracy_{shift}"] = at_shift[i]["shifted/accuracy"]
        moved = [metrics[f"shift/accuracy_{s}"] for s in range(1, cfg["max_shift"] + 1)]
        metrics["shift/accuracy_drop"] = metrics["shift/accuracy_0"] - sum(moved) / len(moved)
        results.append(TrialResult(metrics=metrics, history=history, datasets=[dataset.info()]))
    # G6, last: timing trains each model a little further, after everything above is measured
    for (model, _), result in zip(built, results):
        result.metrics["time/train_examples_per_second"] = train_examples_per_second(model, dataset, cfg)
    return results


def train_examples_per_second(model, dataset, cfg):
    """One model's training speed alone: one pass over speed_probe_examples training examples at batch_size,
    after one batch that traces its train step (the seeds trained side by side, so their wall time is shared)."""
    import time

    n = min(cfg["speed_probe_examples"], len(dataset.y_train))
    x, y, batch = dataset.x_train[:n], dataset.y_train[:n], min(cfg["batch_size"], n)
    model.fit(x[:batch], y[:batch], batch_size=batch, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    return n / (time.perf_counter() - start)


# ---- G6: the speed-up as a ratio -------------------------------------------------------------------
def speedup_rule(cfg):
    """Paired by seed: the mean over seeds of log(examples/s of gap / examples/s of flatten); above 0: GAP faster."""
    import math

    return SeedStatistic(
        "log(speed[gap] / speed[flatten])", "time/train_examples_per_second", ["gap", "flatten"],
        lambda m: sum(math.log(a / b) for a, b in zip(m[0], m[1])) / m.shape[1],
        "the mean over seeds of the log of the GAP head's training examples per second over the Flatten+Dense "
        "head's (0: as fast; 0.1: about 10% faster), each model timed alone after training",
        smallest_effect=cfg["speedup_margin"])


# ---- the claim's own figure -----------------------------------------------------------------------
def figures(evidence):
    """G4: test accuracy against the shift, per head, mean over seeds with a 95% CI band."""
    import matplotlib.pyplot as plt

    trials = evidence.trials
    shifts = sorted(int(c.rsplit("_", 1)[1]) for c in trials if c.startswith("shift/accuracy_") and
                    c.rsplit("_", 1)[1].isdigit())
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for i, head in enumerate(h for h in HEADS if h in set(trials["arm"])):
        rows = trials[trials["arm"] == head]
        mean_ci_band(ax, shifts, rows[[f"shift/accuracy_{s}" for s in shifts]].to_numpy(), f"C{i}", label=head,
                     marker="o")
    ax.set_xlabel(f"test shift (pixels; {evidence.cfg['dataset']}, trained unshifted)")
    ax.set_ylabel("test accuracy")
    ax.set_title("G4: accuracy against translation")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return {"accuracy_vs_shift": fig}
