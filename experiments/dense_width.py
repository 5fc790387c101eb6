"""Hidden-layer width against the number of input features, from "you should select the number of nodes in
your network to be a multiple of the number of features" (sources/001_448bd649d2fb709b.txt, lines 29-58)
and "Units in Dense layer in Keras" / "Neural network hidden layer vs. Convolutional hidden layer
intuition" (sources/004_6e8709b0f2e54d47.txt, lines 76-101 and 1-16).

The asker of 001 concludes that "you should select the number of nodes in your network to be a multiple
of the number of features"; the answer is "No.": beyond input_dim "there is no other relationship
whatsoever between the number of data features and the number of network nodes". The askers of 004 fear
that a first hidden layer with fewer units than features (10 features, 5 neurons) sees only half of the
features, or that the drop from 784 inputs to 32 units comes from units "not activated"; the answer:
it is a matrix multiplication, [BATCHSIZE, 784] * [784, 32] = [BATCHSIZE, 32].

    E6a (exact)      a Dense layer with fewer units than features has a (features, units) kernel with no
                     structural zeros: every unit is connected to every feature, and the gradient of every
                     unit's output with respect to every feature is non-zero. Checked on real Keras layers:
                     10 -> 5 (004 line 4), 64 -> 16 (digits into E6b's narrowest-but-two width),
                     784 -> 32 (004 line 95), and 20 -> 64, more units than inputs (004 line 97).
    E6b (empirical)  the asker's rule, as a prediction about training: one-hidden-layer ReLU MLPs whose
                     width is a multiple of the feature count F do better than MLPs of the nearest widths
                     that are not.
    E6c (empirical)  "Even if you go down to 32 dimensions, that doesn't necessarily mean that it will lose
                     accuracy" (004 line 91; issue 28): the 0.5F arm (32 units on digits) is not worse than
                     the widest arm by more than no_loss_margin (non-inferiority, paired by seed).

E6b's arms are widths given as multiples of the feature count F (F = the flattened input: 64 on digits,
40 on MNIST-1D), so the same arms mean the same thing on both datasets:

    ratio    0.125 0.25 0.5 0.75 | 1  1.25 1.5 1.75 | 2   2.25 2.5 2.75 | 3   3.25
    digits     8    16   32  48  | 64  80   96  112 | 128 144  160 176  | 192 208
    MNIST-1D   5    10   20  30  | 40  50   60   70 | 80   90  100 110  | 120 130
    role      below F (reported)   multiples kF (k = 1, 2, 3), their neighbours kF +- F/4, and the
                                   "placebo" widths 1.5F and 2.5F halfway between multiples

Model: Flatten -> `hidden_layers` x Dense(width, relu) -> Dense(10, softmax); Adam, batch 32, sparse
categorical cross-entropy. Every arm trains until its validation loss has not improved for `patience`
(10) epochs, at most `epochs` (300), and keeps the weights of its best epoch (PLATEAU; the validation
split, never the test split). Why not a fixed budget: at the former 30 epochs every width was still
improving (the quick run of 2026-12-05: training accuracy up 0.6-2.6 points over the last fifth of the
epochs, the narrowest most), so a width's verdict would have said how fast it trains, not what it reaches.

Design choices, made before any run:
- Reading of E6b: the claim is a contrast. Per seed, d = mean test accuracy of the three multiple widths
  (F, 2F, 3F) minus the mean test accuracy of their six neighbours (0.75F, 1.25F, 1.75F, 2.25F, 2.75F,
  3.25F): coefficients +1/3 and -1/6. Refuted as negligible if the 90% CI lies inside
  +-`equivalence_margin` (TOST: no advantage worth the name), checked first; else supported if the 95% CI
  of mean d lies above 0, refuted if below 0, inconclusive otherwise (verdict.decide).
- The margin is 1 accuracy point (THRESHOLDS). A rule for choosing layer widths that buys less than one
  point is not a rule anyone would follow: it is 5 of digits' 540 test images (10 of MNIST-1D's 1,000),
  and it is the lab's smallest effect of interest on test accuracy elsewhere (gap_vs_flatten).
- Neighbours at +-F/4 are symmetric around each multiple, so an accuracy curve that rises or falls
  linearly with width cancels out of d. A curve that is concave in width (diminishing returns) does not:
  it makes every midpoint beat the mean of its neighbours, which biases d in favour of the claim (so a
  refutation is conservative). The placebo contrasts, the same shape centred on 1.5F and 2.5F where no
  multiple is, measure that bias; they and the contrast at each multiple alone are reported, not judged.
- "Widths below the feature count still learn" is reported (not judged): for each arm below F (0.125F
  to 0.75F), its mean test accuracy minus chance (0.1 on both datasets' 10 classes), with a t interval
  over seeds.
- E6b is judged by claimlab's Contrast with the margin as its smallest effect of interest: the lab's
  one decision (verdict.decide) tests equivalence first, so a contrast inside +-margin refutes the claim
  as negligible, and only then does the side of 0 decide. (Until issue 27 this was a Custom rule that
  checked the sign first, which let a significant but negligible d count as support.)
- E6a's gradient is taken of the layer's output without activation (Dense's default, linear): an
  elementwise activation multiplies a unit's whole row of the Jacobian by one number f'(z), so it can
  silence a unit for one input (ReLU at z < 0) but never cut a single feature off from a unit. That is
  measured too: with ReLU, every (input, unit) pair sees either all features or, when the unit is off,
  none; `relu_units_seeing_some_but_not_all_features` counts the pairs that see a strict subset.
- E6c reads "doesn't necessarily lose accuracy" one-sided, as non-inferiority (a narrower layer that is
  better does not count against it), on arms E6b trains anyway: 0.5F is the answer's 32 units on the
  digits (half the input, where the answer's 784 -> 32 is a 24x reduction; 0.125F and 0.25F, 8x and 4x,
  are reported the same way, not judged). The statistic is mean(acc[0.5F] - acc[3.25F]) + no_loss_margin
  (1 point), as residual_depth's E9b: above 0 supports, below 0 refutes.
- Data: scikit-learn's digits (8x8 images, F = 64) by default, MNIST-1D (F = 40) as the second dataset;
  splits fixed by data_seed, the same for every arm and seed. Seeds are paired: a seed fixes the data
  order for every arm (the initial weights differ, as the widths do).

What a verdict here covers: the default setting is one hidden layer on digits, each arm trained to its
plateau. The SETTINGS add a 5x more patient stop (and cap), two hidden layers of the swept width, and MNIST-1D; the scope report
(results/dense_width/scope.md) says in which of them the verdict holds.
"""

from claimlab import data as datasets
from claimlab import checks, stats, train
from claimlab.checks import fresh_keras, max_abs_difference
from claimlab.domains import Integer, OneOf, Real
from claimlab.spec import Advice, Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import (AllOf, AtMost, Contrast, Exact, IfDiverged, Level, Plateau, SeedStatistic, Summarize,
                              not_worse)

SOURCE_001 = "001_448bd649d2fb709b.txt"
SOURCE_004 = "004_6e8709b0f2e54d47.txt"
NODES_QUESTION = ("(untitled) I'm trying to teach myself machine learning … you should select the number of nodes "
                  "in your network to be a multiple of the number of features")
UNITS_QUESTION = "Units in Dense layer in Keras"

TITLE = "Hidden width vs the number of features: full connectivity (exact), multiples of F vs neighbours, narrower than F"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="E6a",
        kind="exact",
        quote=(
            "Neural Networks are basicly matrix multiplications, the drop you are talking about in the first part "
            "is not due to an Activation function, it's only happen because of the nature of matrix "
            "multiplication :\n"
            "The calcul here is : input * weights = output\n"
            "so -> [BATCHSIZE, 784] * [784, 32] = [BATCHSIZE, 32] -> output dimension"
        ),
        source=Source(SOURCE_004, "93-95", UNITS_QUESTION),
        hypothesis=(
            "A Keras Dense layer with fewer units than input features (10 -> 5, 64 -> 16, 784 -> 32), or more "
            "(20 -> 64), multiplies the whole input by a (features, units) kernel with no zero entry: every unit "
            "is connected to every feature, and the gradient of every unit's output with respect to every "
            "feature is non-zero on random inputs (it is the kernel). A ReLU after it switches whole units off "
            "for an input, never single features."
        ),
        rule="e6a_rule",
    ),
    Claim(
        id="E6b",
        kind="empirical",
        quote=(
            "So therefore generally, you should select the number of nodes in your network to be a multiple of "
            "the number of features,\n"
            "No.\n"
            "Beyond this input_dim argument, there is no other relationship whatsoever between the number of data "
            "features and the number of network nodes"
        ),
        source=Source(SOURCE_001, "50-53", NODES_QUESTION),
        hypothesis=(
            "The asker's rule: one-hidden-layer ReLU MLPs whose width is a multiple of the number of input "
            "features F (F, 2F, 3F) reach a higher mean test accuracy than MLPs of the nearest widths that are "
            "not multiples (F +- F/4, 2F +- F/4, 3F +- F/4). The answer ('No.') predicts no difference beyond "
            "the margin. Widths below F are reported against chance."
        ),
        rule="e6b_rule",
    ),
    Claim(
        id="E6c",
        kind="empirical",
        quote=(
            "784 for the input neurons most likely comes from the MNIST dataset, which are images that are 28 x 28 "
            "= 784. I've seen implementations of neural networks where 32 neurons for the hidden layer is good. "
            "Think of each layer as a dimensionality transformation. Even if you go down to 32 dimensions, that "
            "doesn't necessarily mean that it will lose accuracy."
        ),
        source=Source(SOURCE_004, "91", UNITS_QUESTION),
        hypothesis=(
            "A hidden layer narrower than the input, half the input features (0.5F: 32 units on the digits' 64, "
            "20 on MNIST-1D's 40), is not worse in test accuracy than the widest arm (3.25F) by more than "
            "no_loss_margin, paired by seed (non-inferiority). The narrower widths are reported the same way."
        ),
        rule="e6c_rule",
    ),
]

# Lines of the same threads that the lab lists without a verdict: the ledger's "Not judged" section.
NOT_JUDGED = [
    Advice(
        quote=(
            "The total number of neurons in a Dense layer is a topic that is still not agreed upon within the"
            " machine learning and data science community.\n"
            "In summary, the number of hidden units between both methods as you have specified most likely "
            "originated from repeated experimentation and trial-and-error achieving the best accuracy."
        ),
        source=Source(SOURCE_004, "89-90", UNITS_QUESTION),
        why=(
            "a survey of opinion ('not agreed upon') and a guess at where the asker's numbers came from; "
            "neither says what a width does to a network. What widths do is measured here: E6b (multiples of "
            "the features) and E6c (narrower than the input)."
        ),
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("digits", choices=("digits", "mnist1d")),
    "hidden_layers": Integer(1, min=1),  # Dense(width, relu) layers, each of the arm's width
    "epochs": Integer(300, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(1e-3, min=0, min_open=True),
    # E6a: random inputs (N(0, 1), from data_seed) on which the gradients are taken
    "probe_examples": Integer(16, min=1),
    "check_seeds": Integer(5, min=5),  # E6a: each kernel drawn under seeds 0..check_seeds-1, the worst judged
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E6b: the multiples' advantage counts as nothing if its 90% CI lies inside +-1 accuracy point (TOST);
    # also the smallest effect of interest of every E6b contrast. Why 1 point: see the module docstring.
    "equivalence_margin": Real(0.01, min=0, min_open=True, threshold=True),
    # E6c: "need not lose accuracy" = not worse than the widest arm by more than 1 accuracy point (5 of the
    # digits' 540 test images), the lab's usual smallest effect on test accuracy
    "no_loss_margin": Real(0.01, min=0, min_open=True, threshold=True),
    # E6a: max |d(x @ kernel + bias)/dx - kernel^T|; the gradient of a matmul copies the kernel, so any
    # difference is float32 round-off on weights of magnitude < 1.
    "jacobian_tolerance": Real(1e-6, min=0, threshold=True),
}
# What a diverged trial (non-finite training loss) counts as on each judged metric.
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: both dataset choices have 10 balanced classes"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {"test/accuracy": Level(0.1, 1.0, "both dataset choices have 10 balanced classes")}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "probe_examples": 4},
}

# ---- the arms: widths as multiples of the feature count F ------------------------------------------
BELOW = (0.125, 0.25, 0.5, 0.75)  # narrower than the input: reported against chance
MULTIPLES = (1, 2, 3)  # the asker's widths: kF
OFFSET = 0.25  # each multiple's neighbours: kF - F/4 and kF + F/4
PLACEBOS = (1.5, 2.5)  # halfway between multiples: the same contrast where no multiple is
RATIOS = tuple(sorted({*BELOW, *MULTIPLES, *PLACEBOS, *(k + s * OFFSET for k in MULTIPLES for s in (-1, 1))}))


def arm_name(ratio):
    """The arm of a width of `ratio` x F: w0.125F, w1F, w1.25F, ..."""
    return f"w{ratio:g}F"


ARMS = {arm_name(ratio): {"width_ratio": ratio} for ratio in RATIOS}
NEIGHBOURS = {k: (k - OFFSET, k + OFFSET) for k in (*MULTIPLES, *PLACEBOS)}
WIDEST = arm_name(max(RATIOS))

# ---- scope: the settings the claim is judged in (claimlab.scope), chosen before any run --------------
# The asker's rule is about networks and data in general: the scope varies the training budget, the
# depth (the asker's own model has two hidden layers of one width) and the dataset (another F).
# The reference is the widest arm, the net with the most capacity.
DIGITS_REFERENCE = datasets.reference(WIDEST, datasets.DIGITS_PUBLISHED, "an MLP")
MNIST1D_REFERENCE = datasets.reference(WIDEST, datasets.MNIST1D_MLP_PUBLISHED, "an MLP")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("digits (F = 64), one hidden layer, to a val/loss plateau (patience 10, at most 300 epochs)",
                       "the lab's reference setting: 14 widths over many seeds on 2 cores", reference=DIGITS_REFERENCE),
    "long_budget": Setting("digits (F = 64), one hidden layer, to a val/loss plateau (patience 50, at most 1500 "
                           "epochs)", "a 5x more patient stop: a slow late gain of some widths, which patience 10 "
                           "would cut off, could make an advantage appear or vanish",
                           {"epochs": Times(5), "patience": Times(5)}, DIGITS_REFERENCE),
    "deep": Setting("digits (F = 64), two hidden layers of the swept width, to a val/loss plateau",
                    "the asker's own model stacks two hidden layers of one width (Dense(6) twice on 3 features): "
                    "depth is where a width rule might matter beyond the first layer", {"hidden_layers": 2},
                    DIGITS_REFERENCE),
    "mnist1d": Setting("MNIST-1D (F = 40), one hidden layer, to a val/loss plateau",
                       "the rule is about data in general: another dataset, another feature count (multiples "
                       "40, 80, 120), a harder task where width should matter more", {"dataset": "mnist1d"},
                       MNIST1D_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])


# ---- E6a: the exact check ---------------------------------------------------------------------------
CONNECTIVITY_CASES = {"10_to_5": (10, 5), "64_to_16": (64, 16), "784_to_32": (784, 32), "20_to_64": (20, 64)}


def connectivity(features, units, probe_examples, seed, weight_seed=0):
    """One real Dense(units) on `features` inputs: its kernel, and the Jacobian of its output (linear, and
    after a ReLU) with respect to the input on `probe_examples` N(0, 1) inputs."""
    import numpy as np

    tf = train.import_tensorflow()
    keras = fresh_keras(weight_seed)
    inputs = keras.Input(shape=(features,))
    dense = keras.layers.Dense(units)
    model = keras.Model(inputs, dense(inputs))
    kernel = np.asarray(dense.kernel)
    x = tf.constant(np.random.default_rng(seed).normal(size=(probe_examples, features)), dtype="float32")
    # One gradient per unit: examples do not mix, so d(sum over examples of unit j)/dx holds, row by row,
    # each example's gradient of unit j. Stacked: the Jacobian, (examples, units, features).
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        z = dense(x)
        a = keras.activations.relu(z)
        unit_sums = [tf.reduce_sum(z[:, j]) for j in range(units)]
        relu_sums = [tf.reduce_sum(a[:, j]) for j in range(units)]
    jacobian = np.stack([tape.gradient(total, x).numpy() for total in unit_sums], axis=1)
    relu_jacobian = np.stack([tape.gradient(total, x).numpy() for total in relu_sums], axis=1)
    del tape
    features_seen = (jacobian != 0).sum(axis=2)  # per (example, unit): features with a non-zero gradient
    relu_seen = (relu_jacobian != 0).sum(axis=2)
    return {
        "kernel_shape": [int(s) for s in kernel.shape],
        "parameters": int(model.count_params()),
        "kernel_zero_entries": int((kernel == 0).sum()),
        "min_features_reaching_a_unit": int(features_seen.min()),
        "jacobian_minus_kernel": max_abs_difference(jacobian, np.broadcast_to(kernel.T, jacobian.shape)),
        "relu_partial": int(((relu_seen > 0) & (relu_seen < features)).sum()),
        "relu_active_share": float((np.asarray(z) > 0).mean()),
    }


def dense_unit_connectivity(cfg):
    """E6a: for each (features, units) case, the kernel shape, its zero entries, and how many features
    reach each unit through the gradient, on check_seeds draws of the kernel (the worst draw judged)."""

    def one_draw(seed):
        measured = {}
        for name, (features, units) in CONNECTIVITY_CASES.items():
            case = connectivity(features, units, cfg["probe_examples"], cfg["data_seed"], weight_seed=seed)
            measured[f"kernel_shape_{name}"] = case["kernel_shape"]
            measured[f"parameters_{name}"] = case["parameters"]
            measured[f"kernel_zero_entries_{name}"] = case["kernel_zero_entries"]
            measured[f"features_reaching_every_unit_{name}"] = case["min_features_reaching_a_unit"]
            measured[f"jacobian_minus_kernel_max_abs_{name}"] = case["jacobian_minus_kernel"]
            measured[f"relu_units_seeing_some_but_not_all_features_{name}"] = case["relu_partial"]
            measured[f"relu_active_share_{name}"] = case["relu_active_share"]
        measured["jacobian_minus_kernel_max_abs"] = max(measured[f"jacobian_minus_kernel_max_abs_{n}"]
                                                        for n in CONNECTIVITY_CASES)
        measured["relu_units_seeing_some_but_not_all_features"] = sum(
            measured[f"relu_units_seeing_some_but_not_all_features_{n}"] for n in CONNECTIVITY_CASES)
        return measured

    # "Every feature reaches every unit" is claimed of any Dense layer: the worst draw is judged (the most
    # zero weights, the fewest features reaching a unit, the largest Jacobian difference).
    worst = {"jacobian_minus_kernel_max_abs": "max", "relu_units_seeing_some_but_not_all_features": "max"}
    for name in CONNECTIVITY_CASES:
        worst.update({f"kernel_zero_entries_{name}": "max", f"features_reaching_every_unit_{name}": "min"})
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst=worst)


def e6a_expected():
    """What E6a claims for every case: a (features, units) kernel, features x units + units parameters, no
    zero weight, and every feature reaching every unit."""
    expect = {}
    for name, (features, units) in CONNECTIVITY_CASES.items():
        expect[f"kernel_shape_{name}"] = [features, units]
        expect[f"parameters_{name}"] = features * units + units
        expect[f"kernel_zero_entries_{name}"] = 0
        expect[f"features_reaching_every_unit_{name}"] = features
    expect["relu_units_seeing_some_but_not_all_features"] = 0
    return expect


def relu_context(measured):
    """What E6a's reason adds, unjudged: the share of (input, unit) pairs a ReLU leaves on."""
    return "ReLU units on per case: " + ", ".join(
        f"{name} {measured[f'relu_active_share_{name}']:.2f}" for name in CONNECTIVITY_CASES)


def e6a_rule(cfg):
    return Exact(dense_unit_connectivity,
                 expect={**e6a_expected(), "jacobian_minus_kernel_max_abs": AtMost(cfg["jacobian_tolerance"])},
                 note=f"Gradients on {cfg['probe_examples']} N(0, 1) inputs per case (seeded by data_seed), from "
                      f"{checks.weight_draws_text(cfg)}, through "
                      "the layer's linear output; with a ReLU after it, a unit for one input sees all features or "
                      "none (the count of (input, unit) pairs that see a strict subset must be 0).",
                 context=relu_context)


# ---- E6b: the contrast, with an equivalence margin ---------------------------------------------------
METRIC = "test/accuracy"


def multiples_terms(metric=METRIC):
    """+1/3 for each multiple kF, -1/6 for each of their six neighbours kF +- F/4."""
    terms = [(1 / len(MULTIPLES), metric, arm_name(k)) for k in MULTIPLES]
    neighbours = [r for k in MULTIPLES for r in NEIGHBOURS[k]]
    return terms + [(-1 / len(neighbours), metric, arm_name(r)) for r in neighbours]


def bump(centre, smallest_effect, metric=METRIC):
    """Accuracy at `centre` x F minus the mean of its two neighbours (centre +- 1/4) x F, per seed."""
    low, high = NEIGHBOURS[centre]
    kind = "multiple" if centre in MULTIPLES else "placebo, no multiple"
    return Contrast(f"bump at {centre:g}F ({kind})",
                    [(1.0, metric, arm_name(centre)), (-0.5, metric, arm_name(low)), (-0.5, metric, arm_name(high))],
                    meaning=f"{metric} at width {centre:g}F minus the mean of {low:g}F and {high:g}F",
                    smallest_effect=smallest_effect)


CHANCE = 0.1  # both dataset choices have 10 balanced classes


def above_chance(ratio, smallest_effect, metric=METRIC):
    """A width below F: its mean test accuracy minus chance, with a t interval over seeds (reported)."""
    return SeedStatistic(f"{arm_name(ratio)} - chance", metric, [arm_name(ratio)],
                         lambda matrix: float(matrix[0].mean()) - CHANCE,
                         f"the mean {metric} of width {ratio:g}F (below the feature count) minus chance, {CHANCE:g}",
                         smallest_effect=smallest_effect)


def e6b_rule(cfg):
    margin = cfg["equivalence_margin"]
    multiples = ", ".join(f"{k}F" for k in MULTIPLES)
    neighbours = ", ".join(f"{r:g}F" for k in MULTIPLES for r in NEIGHBOURS[k])
    judged = Contrast(
        "multiples - neighbours", multiples_terms(),
        f"the mean {METRIC} of the widths {multiples} minus the mean {METRIC} of their neighbours {neighbours} "
        "(F = the number of input features)", smallest_effect=margin)
    return AllOf(
        judged,
        also_report=[*(above_chance(r, margin) for r in BELOW),
                     *(bump(k, margin) for k in MULTIPLES),
                     *(bump(p, margin) for p in PLACEBOS),
                     Summarize(METRIC, list(ARMS))],
    )


# ---- E6c: a narrower layer need not lose accuracy -------------------------------------------------
NARROW_CLAIMED = 0.5  # 32 units on digits: the answer's "32 dimensions"


def e6c_rule(cfg):
    margin = cfg["no_loss_margin"]
    # Paired by seed: mean(acc[ratio x F] - acc[widest]) + margin; above 0: not worse by more than the margin.
    return AllOf(not_worse(METRIC, arm_name(NARROW_CLAIMED), WIDEST, margin),
                 also_report=[not_worse(METRIC, arm_name(r), WIDEST, margin) for r in BELOW if r != NARROW_CLAIMED])


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    return datasets.load(cfg["dataset"], cfg["data_seed"])


def feature_count(dataset):
    """F: the number of input features the first Dense layer sees (the flattened input)."""
    import math

    return int(math.prod(dataset.input_shape))


def width(ratio, features):
    """The hidden width of an arm: ratio x F, which must be a whole number of units."""
    units = ratio * features
    if units < 1 or units != int(units):
        raise ValueError(f"width {ratio:g} x F = {units:g} units is not a positive whole number (F = {features})")
    return int(units)


def prepare(cfg):
    """Called once by the runner before any trial: load the data and check every arm's width is whole."""
    features = feature_count(load_data(cfg))
    for ratio in RATIOS:
        width(ratio, features)


# ---- model ----------------------------------------------------------------------------------------
def build_model(units, input_shape, num_classes, cfg):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(inputs)
    for _ in range(cfg["hidden_layers"]):
        x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"mlp_{units}")
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once: each seed's model is built as it would be alone, and the seeds
    train side by side as one Keras model (claimlab.train.fit_per_seed), bit-identical to training alone."""
    dataset = load_data(cfg)
    features = feature_count(dataset)
    units = width(cfg["width_ratio"], features)
    models = train.build_per_seed(seeds, lambda seed: build_model(units, dataset.input_shape, dataset.num_classes,
                                                                  cfg))
    histories = train.fit_per_seed(models, seeds, dataset, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    return [measure(model, history, dataset, features, units) for model, history in zip(models, histories)]


def measure(model, history, dataset, features, units):
    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        **train.evaluate(model, dataset.x_train, dataset.y_train, "train_eval"),
        "features": float(features),
        "units": float(units),
        "params/total": float(model.count_params()),
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])


# ---- the claim's own figure -----------------------------------------------------------------------
def figures(evidence):
    """E6b: test accuracy against the width (in multiples of F), mean over seeds with a 95% CI; the
    multiples of F marked."""
    import matplotlib.pyplot as plt
    import numpy as np

    trials = evidence.trials
    present = [r for r in RATIOS if arm_name(r) in set(trials["arm"])]
    if not present:
        return {}
    summaries = [stats.describe(evidence.values(METRIC, arm_name(r)).to_numpy()) for r in present]
    means = np.array([s["mean"] for s in summaries])
    low = np.array([s["ci_low"] for s in summaries])
    high = np.array([s["ci_high"] for s in summaries])
    fig, ax = plt.subplots(figsize=(7, 4))
    for k in MULTIPLES:
        ax.axvline(k, color="C3", alpha=0.3, linestyle="--")
    colours = ["C3" if r in MULTIPLES else "C2" if r in PLACEBOS else "C0" for r in present]
    ax.plot(present, means, color="C0", alpha=0.5)
    errors = np.vstack([means - low, high - means])
    errors = np.where(np.isfinite(errors), errors, 0.0)
    for r, m, e_low, e_high, colour in zip(present, means, errors[0], errors[1], colours):
        ax.errorbar([r], [m], yerr=[[e_low], [e_high]], fmt="o", color=colour, capsize=3)
    ax.axhline(CHANCE, color="grey", linestyle=":", label=f"chance ({CHANCE:g})")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel(f"hidden width / number of features F ({evidence.cfg.get('dataset', '')}; red: multiples of F, "
                  "green: placebo widths)")
    ax.set_ylabel("test accuracy (mean, 95% CI)")
    ax.set_title("E6b: test accuracy against hidden width")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return {"accuracy_vs_width": fig}
