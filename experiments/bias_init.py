"""Bias initialisation vs weight initialisation in small ReLU networks, from "Why are different bias
values used in different types of layers" (sources/000_2706fe11d950e137.txt, lines 72-115).

The asker quotes a VGG16 snippet in TensorFlow: every kernel is `truncated_normal(stddev=0.1)`, every
conv bias starts at 0.0 and every fully connected bias at 1.0, and asks why. The answer:

    (B2) "bias init isn't that important (compared to weight init) and I'm pretty sure you'll get
         similar training speed with zero or small random init as well"
    (B3) CS231n: a 0.01 bias "ensures that all ReLU units fire in the beginning", but "it is not clear
         if this provides a consistent improvement (in fact some results seem to indicate that this
         performs worse)".

We train a grid of (model, weight init, bias init) arms on scikit-learn's digits:

    models        cnn  VGG-like: [conv3x3 relu] x2 (8) -> maxpool -> [conv3x3 relu] x2 (16) -> maxpool
                       -> Dense(32) relu -> Dense(32) relu -> Dense(10) softmax (like fc1, fc2, fc3)
                  mlp  Flatten -> 3 x Dense(64) relu -> Dense(10) softmax
    weight init   he      HeNormal (Keras: truncated normal, stddev sqrt(2 / fan_in))
                  glorot  GlorotUniform (the Keras default)
                  tn01    TruncatedNormal(stddev=0.1): the snippet's kernels
    bias init     zero    0 everywhere (the Keras default)
                  vgg     the snippet: 0 in conv layers, 1 in dense layers (cnn only, see below)
                  one     1 everywhere
                  c001    0.01 everywhere (the CS231n suggestion)
                  rand    TruncatedNormal(stddev=0.1) everywhere: "small random", drawn like the
                          snippet's own weights

    cnn: 3 weight inits x 5 bias inits = 15 arms; mlp: 3 x 4 = 12 arms (27 in all).

Design choices, made before any run:
- The MLP has no conv layers, so its VGG-style init (conv 0 / dense 1) is the same network as "one":
  the duplicate arm is left out. That is the only reduction of the full grid; the catalogue's fourth
  weight init, N(0, 0.01), is left out to keep the quick profile within 4 minutes on 2 cores (27 arms
  x 5 seeds), so "weight init" here means the three inits people actually use or the snippet uses.
- Every layer (the output layer too) gets the arm's inits, except VGG-style where conv biases are 0 and
  dense biases 1 (the snippet's fc3 also starts at 1.0). A constant bias on the softmax layer changes
  nothing (softmax is shift-invariant), so it is harmless to include.
- Common random numbers: each layer's kernel initializer is seeded from (trial seed, layer index), so
  for one seed all bias arms of one (model, weight init) start from the very same kernels, and the data
  order (set by the runner's seed) is the same in every arm. Bias effects are thus measured with the
  weights held fixed. (HeNormal and tn01 then even share the standardised draws: only the scale differs.)
- Optimiser: SGD with momentum 0.9 and learning rate 0.01 (VGG's own), batch 32, no augmentation. Every
  arm trains until its validation loss has not improved by 0.001 for `patience` (10) epochs, never
  before `speed_epochs` (15), at most `epochs` (150), and keeps the weights of its best epoch (PLATEAU;
  the validation split, never the test split). Why: B1 and B2 are about training speed, measured over a
  fixed window (the first 15 epochs, the former whole budget), but B3 compares test accuracy, which a
  fixed budget would judge where it stopped the arms (the quick run of 2026-12-05: all 27 arms still
  improving at 15 epochs, the tn01 CNNs at 0.13-0.48 training accuracy). Plain SGD, not Adam, because
  Adam's per-parameter normalisation would hide part of what an init does to the scale of gradients.
- "Training speed" is measured two ways from Keras' per-epoch History over its first `speed_epochs`
  (training accuracy, which Keras averages over the epoch's batches): train/auc, the mean of those
  per-epoch training accuracies (the normalised area under the learning curve), and
  train/epochs_to_threshold, the first (linearly interpolated) crossing of accuracy_threshold, counting
  epoch 0 as the accuracy at initialisation. A run that never reaches the threshold in the window gets
  speed_epochs + 1 and train/reached_threshold = 0 (censored).
- Dead ReLU units (B3): after building and after training, the model is run (inference mode) on a fixed
  probe batch, the first `probe_examples` training examples. A dense unit is dead if it outputs 0 for
  every probe example; a conv unit is a channel, dead if it outputs 0 at every position of every probe
  example. dead/share_* is dead units / all ReLU units; zero_activation/share_* is the share of all
  ReLU outputs (examples x positions x units) that are exactly 0, the finer "do units fire" measure.
  dead/count_*_all_train counts the same on the whole training set; no rule reads it (it was added
  after the first smoke run, to show whether a unit dead on the probe batch is dead on all the data).
- B2's spreads are mean squared differences, not ranges (issue 27, item 7; a rule change made after the
  committed run, on the coverage tests/test_coverage.py measures, not on B2's numbers). A factor's spread
  is the squared difference between two of its levels' true means, averaged over its pairs of levels
  within each level of the other factor. The range of arm means it replaced is inflated by seed noise
  when arms are really tied (an absolute difference has no unbiased estimate from noisy means), so the
  interval around it covered only 73-84% where one factor's arms are tied. A squared difference has one:
  per seed, the difference of the two arms (which also cancels the kernels and data they share), then
  its mean squared minus its variance over seeds / n, since E[mean^2] = delta^2 + variance / n. Its
  jackknife interval covers about 95% on tied and separated arms alike (tests/test_coverage.py). The
  smallest effect of interest is squared with it (auc_spread_margin = 0.02^2: one factor's levels 0.02
  apart against none of the other's). Averaging over pairs also keeps the 5 (cnn) or 4 (mlp) bias levels from inflating the bias
  spread, as a range over more levels did.
- The rules are built from the run's config (b2_rule, b3_rule, above the claims); their margins are the
  THRESHOLDS, fixed before any run.
- Issue 26 (a judged hypothesis tests what the source asserts; what the lab adds is reported, never
  judged): all-ones biases are in neither the snippet nor the answer, so B2 judges its spreads over zero,
  vgg, c001 and rand (cnn) and zero, c001 and rand (mlp), and its equivalences on the snippet's CNN only
  (the MLP has no snippet bias; all ones stood in for it). The spreads with the all-ones arms and the MLP's
  equivalences are reported beside them. The committed B2 refutation came from those arms and from CNN
  arms that never trained; re-judged on the committed trials it is inconclusive (see results/ after the
  regeneration). B1 and B2 are claims about training speed: an arm still improving when the budget ends
  is their measurement (about the budget), an arm at chance is not.
"""

import dataclasses

from claimlab import data as datasets
from claimlab import stats, train
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.spec import Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import (INCONCLUSIVE, REFUTED, SUPPORTED, AllOf, Better, Custom, Equivalent, NotJudged,
                              IfDiverged, Level, Outcome, Plateau, SeedStatistic, Summarize, arm_summaries,
                              in_family)

SOURCE_FILE = "000_2706fe11d950e137.txt"
QUESTION = "Why are different bias values used in different types of layers"

TITLE = "Bias init (0, VGG 0/1, 1, 0.01, random) vs weight init (He, Glorot, N(0.1)): speed, dead ReLUs"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="B1",
        kind="empirical",
        quote=(
            "biases = tf.Variable(tf.constant(0.0, shape=[512], dtype=tf.float32),\n"
            "fc1b = tf.Variable(tf.constant(1.0, shape=[4096], dtype=tf.float32),\n"
            "Now my question is, why is bias in convolution layers 0 and it's 1 in fully connected layers "
            "(every conv. layer from this model has 0 for bias and FC layers have 1)?"
        ),
        source=Source(SOURCE_FILE, "76-102", QUESTION),
        hypothesis=(
            "The premise the asker reads into the snippet: its bias choice (conv 0 / dense 1) is there for a "
            "reason, i.e. on the snippet's own setup (truncated-normal 0.1 kernels, small VGG-like CNN) it "
            "trains faster than all-zero biases: higher train/auc (mean per-epoch training accuracy). The asker "
            "asks why and nobody in the thread asserts it, so it is measured and reported, not judged."
        ),
        # the quote asks why; nothing in the thread asserts the premise (the answer asserts B2 against it), so it
        # is measured, not judged (issue 26, item 4); a speed claim: the fixed budget's result is the measurement
        rule=lambda cfg: NotJudged(
            Better("train/auc", arm=arm_name("cnn", "tn01", "vgg"), than=arm_name("cnn", "tn01", "zero"),
                   smallest_effect=cfg["auc_margin"], about=["budget"]),
            "the quote asks why the snippet's biases are 0 and 1, and no one in the thread asserts that they train "
            "faster; the answer's assertion is B2"),
    ),
    Claim(
        id="B2",
        kind="empirical",
        quote=(
            "this sample CNN uses random init for all weights and biases and it doesn't hurt the performance.\n"
            "So, in summary, bias init isn't that important (compared to weight init) and I'm pretty sure you'll "
            "get similar training speed with zero or small random init as well."
        ),
        source=Source(SOURCE_FILE, "113-114", QUESTION),
        hypothesis=(
            "(a) On both the CNN and the MLP, changing the bias init among those the thread names (zero, the "
            "snippet's conv 0 / dense 1, 0.01, small random) moves training speed (train/auc) less than changing "
            "the weight init; (b) on the snippet's CNN (tn01 kernels, conv 0 / dense 1 biases), zero and small "
            "random biases train as fast as the snippet's. The lab's all-ones biases are reported, not judged."
        ),
        rule="b2_rule",
    ),
    Claim(
        id="B3",
        kind="empirical",
        quote=(
            "For ReLU non-linearities, some people like to use small constant value such as 0.01 for all biases "
            "because this ensures that all ReLU units fire in the beginning and therefore obtain and propagate "
            "some gradient. However, it is not clear if this provides a consistent improvement (in fact some "
            "results seem to indicate that this performs worse) and it is more common to simply use 0 bias "
            "initialization."
        ),
        source=Source(SOURCE_FILE, "106-112", QUESTION),
        hypothesis=(
            "With all biases at 0.01, no ReLU unit is dead at initialisation (each fires for at least one probe "
            "example), yet 0.01 does not consistently improve test accuracy over 0 across the 6 (model, weight "
            "init) combinations: in at least one it is no better (equivalent) or worse."
        ),
        rule="b3_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("digits", choices=("digits", "keras:mnist", "keras:fashion_mnist")),
    "cnn_filters": Sizes((8, 16), min=1),  # two VGG blocks of two 3x3 convs each, a 2x max-pool after each block
    "cnn_dense_units": Sizes((32, 32), min=1),  # the VGG head: fc1, fc2 (then the softmax layer)
    "mlp_units": Sizes((64, 64, 64), min=1),
    "epochs": Integer(150, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    # B1/B2's training speed is measured over the first speed_epochs epochs of every curve (no arm stops before)
    "speed_epochs": Integer(15, min=1),
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(0.01, min=0, min_open=True),
    "momentum": Real(0.9, min=0, max=1, max_open=True),
    "snippet_weight_stddev": Real(0.1, min=0, min_open=True),  # the snippet's truncated_normal(stddev=1e-1) kernels
    "small_bias": Real(0.01, min=0, min_open=True),  # CS231n's small constant; a positive constant: 0 is the zero arm
    "random_bias_stddev": Real(0.1, min=0, min_open=True),  # "small random" biases, drawn like the snippet's weights
    # training accuracy that counts as "trained" for epochs_to_threshold
    # a training accuracy; 0 is reached before training
    "accuracy_threshold": Real(0.8, min=0, max=1, min_open=True),
    "probe_examples": Integer(256, min=1),  # the fixed batch on which dead ReLUs are counted
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # B2 "similar training speed": mean per-epoch training accuracy within 2 points
    "auc_margin": Real(0.02, min=0, min_open=True, threshold=True),
    # B2 ... and epochs to the accuracy threshold within one epoch
    "epochs_margin": Real(1.0, min=0, min_open=True, threshold=True),
    # B2 (a) "compared to weight init": a spread is a mean squared difference (see the docstring), so its
    # smallest effect is squared: one factor's levels 0.02 of train/auc apart against none of the other's.
    # The spreads of epochs and of test accuracy are reported only, with one epoch and 2 points squared.
    "auc_spread_margin": Real(0.02 ** 2, min=0, min_open=True, threshold=True),
    "epochs_spread_margin": Real(1.0 ** 2, min=0, min_open=True, threshold=True),
    "test_accuracy_spread_margin": Real(0.02 ** 2, min=0, min_open=True, threshold=True),
    # B3: 0.01 vs 0 bias "no improvement" = test accuracy within 2 points
    "test_accuracy_margin": Real(0.02, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    problems = []
    # Each CNN block ends in a 2x max-pool: the 8x8 digits have room for 3 blocks, 28x28 MNIST for 4.
    side = 8 if cfg["dataset"] == "digits" else 28
    blocks = len(cfg["cnn_filters"])
    if 2 ** blocks > side:
        problems.append(f"cnn_filters={cfg['cnn_filters']} has {blocks} blocks, each halving the image; "
                        f"the {side}x{side} images of {cfg['dataset']} allow at most {side.bit_length() - 1}")
    return problems


# What a diverged trial (non-finite training loss) counts as on each metric a rule reads.
IF_DIVERGED = {
    "train/auc": IfDiverged.scores(0.1, "chance: the mean training accuracy of a model that guesses among 10 digits"),
    "test/accuracy": IfDiverged.scores(0.1, "chance on 10 classes (every dataset choice has 10)"),
    "train/epochs_to_threshold": IfDiverged.excluded("a diverged run never reaches the threshold: censored"),
    "dead/count_init": IfDiverged.kept("measured at initialisation, before any training"),
    "dead/share_init": IfDiverged.kept("measured at initialisation, before any training"),
    "dead/share_trained": IfDiverged.excluded("the units of a diverged net are NaN, neither dead nor alive"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "train/auc": Level(0.1, 1.0, "the mean training accuracy over the epochs, on 10 classes"),
    "test/accuracy": Level(0.1, 1.0, "every dataset choice has 10 balanced classes"),
    "*": Level.unbounded("epochs to a threshold, and dead units counted at initialisation"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "speed_epochs": 2},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The claims are about initialising ReLU networks in general. No second offline image dataset fits the
# 2-D CNN arms as digits do, so the scope varies the budget and the depth. The baseline is the Keras
# default (Glorot kernels, zero biases) on the CNN.
DIGITS_REFERENCE = datasets.reference("cnn_glorot_zero", datasets.DIGITS_PUBLISHED, "a CNN")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("digits, the small CNN and MLP, SGD to a val/loss plateau (patience 10, at most 150 epochs), "
                       "speed over the first 15",
                       "the lab's reference setting: 27 arms over many seeds on 2 cores", reference=DIGITS_REFERENCE),
    "long_budget": Setting("digits, the small CNN and MLP, SGD to a val/loss plateau (patience 50, at most 750 "
                           "epochs), speed over the first 75", "5x the training budget: B2 and B3 are about the "
                           "speed and the start of training, and a longer window shows whether an early difference "
                           "lasts", {"epochs": Times(5), "patience": Times(5), "speed_epochs": Times(5)},
                           DIGITS_REFERENCE),
    "deep": Setting("digits, a 3-block CNN and a 6-layer MLP, SGD to a val/loss plateau, speed over the first 15",
                    "init effects compound layer by layer (dead ReLUs at init, the CS231n argument), so depth is "
                    "where a bias choice should show", {"cnn_filters": (8, 16, 32), "mlp_units": (64,) * 6},
                    DIGITS_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

MODELS = ("cnn", "mlp")
WEIGHT_INITS = ("he", "glorot", "tn01")
BIAS_INITS = {"cnn": ("zero", "vgg", "one", "c001", "rand"), "mlp": ("zero", "one", "c001", "rand")}
# The snippet's own bias choice for each model: conv 0 / dense 1; an MLP is all dense, so all 1.
SNIPPET_BIAS = {"cnn": "vgg", "mlp": "one"}
# The bias inits the thread names (issue 26: a judged hypothesis tests what the source asserts): zero, the
# snippet's conv 0 / dense 1 (vgg), "small random" (rand) and the 0.01 constant (B3's quote, the same
# thread). All-ones biases ("one", on the CNN and as the MLP's stand-in for the snippet's) are the lab's
# addition: their arms are reported beside the judged ones, never judged.
SOURCE_BIAS_INITS = {"cnn": ("zero", "vgg", "c001", "rand"), "mlp": ("zero", "c001", "rand")}
SNIPPET_WEIGHT = "tn01"


def arm_name(model, weight_init, bias_init):
    return f"{model}_{weight_init}_{bias_init}"


ARMS = {
    arm_name(model, weight, bias): {"model": model, "weight_init": weight, "bias_init": bias}
    for model in MODELS for weight in WEIGHT_INITS for bias in BIAS_INITS[model]
}


# ---- the rules: built from the run's config, so each text names the threshold it applies ------------
def squared_spread(values, axis):
    """From a (weight inits x bias inits x seeds) array: the squared difference between the true means of
    every two levels along `axis`, within each level of the other factor, averaged. Each is estimated
    without noise bias: the per-seed differences' mean squared, minus their variance over seeds / n."""
    import numpy as np

    seeds = values.shape[-1]
    if seeds < 2:
        return float("nan")  # no variance over one seed: the bias cannot be removed
    first, second = np.triu_indices(values.shape[axis], k=1)  # every pair of levels along `axis`
    differences = values.take(first, axis) - values.take(second, axis)  # per seed, within the other factor
    return float((differences.mean(axis=-1) ** 2 - differences.var(axis=-1, ddof=1) / seeds).mean())


def grid_arms(model, bias_inits):
    """The model's arms, weight init by weight init: the rows of its (weight inits x bias inits) table."""
    return [arm_name(model, weight, bias) for weight in WEIGHT_INITS for bias in bias_inits]


def spread_difference(model, metric, smallest_effect, bias_inits=None):
    """B2 (a) on one model: weight spread - bias spread of `metric`, spreads as mean squared differences (see
    the module docstring), with a 95% interval from leaving the seeds out jointly for every arm; over the
    bias inits the thread names unless given. `smallest_effect` is in squared units, like the statistic."""
    bias_inits = bias_inits or SOURCE_BIAS_INITS[model]
    shape = (len(WEIGHT_INITS), len(bias_inits))

    def weight_minus_bias(matrix):  # matrix: the model's arms (grid_arms order) x seeds
        values = matrix.reshape(*shape, matrix.shape[1])
        return squared_spread(values, 0) - squared_spread(values, 1)

    meaning = (f"on the {model} arms, the squared difference between the mean {metric} of two weight inits "
               f"({', '.join(WEIGHT_INITS)}) within a bias init, averaged over their pairs and the bias inits "
               f"({', '.join(bias_inits)}), minus the same across bias inits within a weight init; each squared "
               "difference is the per-seed differences' mean squared less their variance over seeds / n "
               "(unbiased when arms are tied)")
    added = "" if tuple(bias_inits) == SOURCE_BIAS_INITS[model] else " (with the lab's all-ones biases)"
    return SeedStatistic(f"{model}: weight spread - bias spread{added}", metric, grid_arms(model, bias_inits),
                         weight_minus_bias, meaning, smallest_effect=smallest_effect, about=["budget"])


def b2_rule(cfg):
    """(a) weight init moves train/auc more than bias init, on both models, over the bias inits the thread
    names; (b) on the snippet's CNN (its kernels), zero and small random biases train as fast as the
    snippet's own biases (4 equivalences). Reported, not judged: the same with the lab's all-ones biases
    (the MLP has no snippet bias; all ones stands in for it). Claims about training speed: what the fixed
    budget gives is the measurement (about the budget)."""
    def as_fast(model):
        snippet = arm_name(model, SNIPPET_WEIGHT, SNIPPET_BIAS[model])
        comparisons = []
        for bias in ("zero", "rand"):
            arm = arm_name(model, SNIPPET_WEIGHT, bias)
            comparisons += [
                Equivalent("train/auc", arm, to=snippet, margin=cfg["auc_margin"], about=["budget"]),
                Equivalent("train/epochs_to_threshold", arm, to=snippet, margin=cfg["epochs_margin"],
                           censored_unless="train/reached_threshold", about=["budget"]),
            ]
        return comparisons
    margins = {"train/auc": cfg["auc_spread_margin"], "train/epochs_to_threshold": cfg["epochs_spread_margin"],
               "test/accuracy": cfg["test_accuracy_spread_margin"]}
    secondary = [spread_difference(model, metric, margins[metric])
                 for model in MODELS for metric in ("train/epochs_to_threshold", "test/accuracy")]
    with_all_ones = [spread_difference(model, "train/auc", margins["train/auc"], BIAS_INITS[model]) for model in MODELS]
    return AllOf(
        *(spread_difference(model, "train/auc", margins["train/auc"]) for model in MODELS),
        *as_fast("cnn"),
        also_report=[*with_all_ones, *as_fast("mlp"), *secondary,
                     Summarize("train/auc", list(ARMS))],  # the arm means the spreads come from
    )


def b3_rule(cfg):
    """The 0.01 bias makes every ReLU fire at init, yet is not a consistent improvement over 0."""
    margin = cfg["test_accuracy_margin"]
    pairs = [(arm_name(model, weight, "c001"), arm_name(model, weight, "zero"))
             for model in MODELS for weight in WEIGHT_INITS]

    def evaluate(evidence):
        # "ensures that all ReLU units fire in the beginning": no dead unit at init in any 0.01 arm.
        dead_at_init = {small: [float(v) for v in evidence.values("dead/count_init", small)] for small, _ in pairs}
        all_fire = all(v == 0 for values in dead_at_init.values() for v in values)
        # "not clear if this provides a consistent improvement": test accuracy 0.01 vs 0, per combination.
        better = [Better("test/accuracy", small, than=zero, smallest_effect=margin).compare(evidence)
                  for small, zero in pairs]
        same = [Equivalent("test/accuracy", small, to=zero, margin=margin).compare(evidence) for small, zero in pairs]
        consistent_improvement = all(b.verdict == SUPPORTED for b in better)  # all 6 needed: no correction
        # One "worse" or "equivalent" among 12 tests supports the claim: Holm over the 12 keeps that honest.
        no_improvement_p = stats.holm([b.p_refute for b in better] + [e.p_support for e in same])
        worse_p, equivalent_p = no_improvement_p[:len(pairs)], no_improvement_p[len(pairs):]
        no_improvement_somewhere = any(p < stats.ALPHA for p in no_improvement_p)
        if not all_fire or consistent_improvement:
            verdict = REFUTED
        elif no_improvement_somewhere:
            verdict = SUPPORTED
        else:
            verdict = INCONCLUSIVE
        fired = "every unit fires at init in every 0.01 arm" if all_fire else "dead units at init in 0.01 arms: " + (
            ", ".join(f"{arm} {values}" for arm, values in dead_at_init.items() if any(values)))
        reason = fired + "; test accuracy 0.01 - 0 (Holm over 12): " + ", ".join(
            f"{small.removesuffix('_c001')} {b.mean:+.4f} [{b.ci_low:+.4f}, {b.ci_high:+.4f}]"
            + (" better" if b.verdict == SUPPORTED else f" {b.state}" if p_worse < stats.ALPHA  # worse or negligible
               else " equivalent" if p_same < stats.ALPHA else "")
            for (small, _), b, p_worse, p_same in zip(pairs, better, worse_p, equivalent_p))
        in_twelve = [in_family(comparison, len(no_improvement_p), p)
                     for comparison, p in zip(better + same, no_improvement_p)]
        better, same = in_twelve[:len(pairs)], in_twelve[len(pairs):]
        dead_share = {arm: {"init": stats.describe(evidence.values("dead/share_init", arm).to_numpy()),
                            "trained": stats.describe(evidence.values("dead/share_trained", arm).to_numpy())}
                      for arm in sorted(set(evidence.trials["arm"]))}
        arms = (arm_summaries(evidence, "dead/count_init", [small for small, _ in pairs])
                + arm_summaries(evidence, "test/accuracy", [arm for pair in pairs for arm in pair]))
        # Why the undecided comparisons decide nothing: the evidence floor, or an arm under-trained, at chance
        # or at the ceiling (verdict.discriminating, applied by Better and Equivalent).
        floors = "; ".join(dict.fromkeys(c.qualifier for c in better + same if c.qualifier.startswith(
            ("too few", "under-trained", "chance", "ceiling"))))
        return Outcome(verdict, reason, arms=arms, comparisons=[c for pair in zip(better, same) for c in pair],
                       details={"dead_units_at_init_in_0.01_arms": dead_at_init, "all_fire": all_fire,
                                "consistent_improvement": consistent_improvement, "dead_share": dead_share,
                                "holm_adjusted_p": {"worse": worse_p, "equivalent": equivalent_p}},
                       qualifier=floors if verdict == INCONCLUSIVE else "")

    return Custom(evaluate, description=b3_description(margin),
                  metrics=["test/accuracy", "dead/count_init", "dead/share_init"],
                  reads=[*((metric, small) for small, _ in pairs for metric in ("dead/count_init", "test/accuracy")),
                         *(("test/accuracy", zero) for _, zero in pairs)])


def b3_description(margin: float) -> str:
    return (
        "Fire: dead/count_init (ReLU units, conv channels counted as units, that output 0 for every "
        "example of the fixed probe batch at initialisation) must be 0 in every seed of every c001 arm "
        "(cnn and mlp, 3 weight inits). Improvement: for each of the 6 (model, weight init) pairs, "
        "d = test/accuracy[c001] - test/accuracy[zero], paired by seed, with a 95% paired t interval; "
        "'better' if it is decided above 0 (verdict.decide: its 90% CI not inside +-margin, its 95% CI above "
        "0); 'worse' if the two-sided t test shows d below 0, or 'negligible' if its 90% CI lies inside "
        "+-margin; 'equivalent' if "
        f"TOST shows d inside +-{margin:g} (alpha 0.05), both after Holm's correction over the 12 tests "
        "(6 'worse', 6 'equivalent'), because any one of them supports the claim. Refuted if some c001 "
        "arm has a dead unit at init, or if c001 is 'better' in all 6 pairs (a consistent improvement; all "
        "6 are needed, so uncorrected); supported if every unit fires and c001 is 'worse' or 'equivalent' "
        f"in at least one pair; inconclusive otherwise. Fewer than 3 finite paired seeds decides nothing; a d "
        "identical in every seed is a measured constant, decided by its value."
    )


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    return datasets.load(cfg["dataset"], cfg["data_seed"])


def prepare(cfg):
    """Called once by the runner before any trial: bad or unreachable data fails here, fast."""
    load_data(cfg)


# ---- model ----------------------------------------------------------------------------------------
def kernel_initializer(name, seed, cfg):
    import keras

    if name == "he":
        return keras.initializers.HeNormal(seed=seed)
    if name == "glorot":
        return keras.initializers.GlorotUniform(seed=seed)
    if name == "tn01":
        return keras.initializers.TruncatedNormal(stddev=cfg["snippet_weight_stddev"], seed=seed)
    raise ValueError(f"unknown weight init {name!r}")


def bias_initializer(name, is_conv, seed, cfg):
    import keras

    if name == "zero":
        return keras.initializers.Zeros()
    if name == "vgg":  # the snippet: tf.constant(0.0) in conv layers, tf.constant(1.0) in fc layers
        return keras.initializers.Zeros() if is_conv else keras.initializers.Constant(1.0)
    if name == "one":
        return keras.initializers.Constant(1.0)
    if name == "c001":
        return keras.initializers.Constant(cfg["small_bias"])
    if name == "rand":
        return keras.initializers.TruncatedNormal(stddev=cfg["random_bias_stddev"], seed=seed)
    raise ValueError(f"unknown bias init {name!r}")


def build_model(model_kind, weight_init, bias_init, input_shape, num_classes, seed, cfg):
    """The CNN or the MLP with the arm's initialisers. Layer i's kernel is seeded from (seed, i), so
    every bias arm of a (model, weight init) starts from the same kernels for the same seed."""
    import keras
    from keras import layers

    counter = iter(range(1000))

    def inits(is_conv):
        index = next(counter)
        return {"kernel_initializer": kernel_initializer(weight_init, seed * 1000 + index, cfg),
                "bias_initializer": bias_initializer(bias_init, is_conv, seed * 1000 + 500 + index, cfg)}

    inputs = keras.Input(shape=input_shape)
    x = inputs
    if model_kind == "cnn":
        for filters in cfg["cnn_filters"]:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", **inits(True))(x)
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", **inits(True))(x)
            x = layers.MaxPooling2D(2)(x)
        x = layers.Flatten()(x)
        hidden_units = cfg["cnn_dense_units"]
    elif model_kind == "mlp":
        x = layers.Flatten()(x)
        hidden_units = cfg["mlp_units"]
    else:
        raise ValueError(f"unknown model {model_kind!r}")
    for units in hidden_units:
        x = layers.Dense(units, activation="relu", **inits(False))(x)
    outputs = layers.Dense(num_classes, activation="softmax", **inits(False))(x)
    model = keras.Model(inputs, outputs, name=f"{model_kind}_{weight_init}_{bias_init}")
    model.compile(optimizer=keras.optimizers.SGD(cfg["learning_rate"], momentum=cfg["momentum"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# ---- measurements ---------------------------------------------------------------------------------
def relu_probe(model):
    """A model that returns the output of every ReLU layer of `model`, sharing its weights."""
    import keras

    relu_layers = [layer for layer in model.layers
                   if getattr(getattr(layer, "activation", None), "__name__", "") == "relu"]
    return keras.Model(model.inputs[0], [layer.output for layer in relu_layers])


def relu_activity(probe, x, chunk=1024):
    """Dead units and zero outputs on the batch x. A unit is a dense neuron or a conv channel; it is
    dead when it outputs 0 for every example (and, for a channel, at every position). Run in chunks
    so that a large set (the whole of MNIST's training split) fits in memory."""
    import numpy as np

    peaks, zeros, values = None, 0, 0
    for start in range(0, len(x), chunk):
        outputs = probe(x[start : start + chunk], training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        per_unit = [np.asarray(a).reshape(-1, a.shape[-1]) for a in outputs]  # (examples x positions, units)
        chunk_peaks = [a.max(axis=0) for a in per_unit]
        peaks = chunk_peaks if peaks is None else [np.maximum(p, c) for p, c in zip(peaks, chunk_peaks)]
        zeros += sum(int((a <= 0).sum()) for a in per_unit)
        values += sum(a.size for a in per_unit)
    dead = sum(int((p <= 0).sum()) for p in peaks)
    units = sum(p.size for p in peaks)
    return {"dead": dead, "units": units, "dead_share": dead / units, "zero_share": zeros / values}


def epochs_to_threshold(curve, threshold, start):
    """First crossing of `threshold` by the per-epoch curve, linearly interpolated, with epoch 0 at
    `start`. Returns (epochs, reached); a curve that never crosses gives (len(curve) + 1, False)."""
    previous = start
    if start >= threshold:
        return 0.0, True
    for epoch, value in enumerate(curve, start=1):
        if value >= threshold:
            return epoch - 1 + (threshold - previous) / (value - previous), True
        previous = value
    return float(len(curve) + 1), False


def accuracy(model, x, y):
    """Accuracy by one eager forward pass (no compiled evaluate function to trace for a single batch)."""
    import numpy as np

    correct = sum(int((np.asarray(model(x[i : i + 1024], training=False)).argmax(axis=-1) == y[i : i + 1024]).sum())
                  for i in range(0, len(x), 1024))
    return correct / len(x)


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once: each seed's model is built and probed as it would be alone, and
    the seeds train side by side as one Keras model (claimlab.train.fit_per_seed), bit-identical to
    training alone."""
    dataset = load_data(cfg)
    models = train.build_per_seed(seeds, lambda seed: build_model(cfg["model"], cfg["weight_init"], cfg["bias_init"],
                                                                  dataset.input_shape, dataset.num_classes, seed, cfg))
    at_init = [measure_at_init(model, dataset, cfg) for model in models]
    stop = dataclasses.replace(PLATEAU.stop(cfg), min_epochs=cfg["speed_epochs"])  # the speed window is whole
    histories = train.fit_per_seed(models, seeds, dataset, cfg["epochs"], cfg["batch_size"], stop=stop)
    return [measure(model, before, history, dataset, cfg)
            for model, before, history in zip(models, at_init, histories)]


def measure_at_init(model, dataset, cfg):
    """Before training: ReLU activity on the probe batch and on the whole training set, and accuracy."""
    probe = relu_probe(model)
    return {
        "probe": probe,
        "activity": relu_activity(probe, dataset.x_train[: cfg["probe_examples"]]),
        "activity_all": relu_activity(probe, dataset.x_train),  # no rule uses it: is "dead on the batch" dead on all?
        "accuracy": accuracy(model, dataset.x_train, dataset.y_train),
    }


def measure(model, at_init, history, dataset, cfg):
    """One trained model's metrics, beside what `measure_at_init` saw before training."""
    probe, before = at_init["probe"], at_init["activity"]
    trained = relu_activity(probe, dataset.x_train[: cfg["probe_examples"]])
    trained_all = relu_activity(probe, dataset.x_train)

    curve = history["train/accuracy"][: cfg["speed_epochs"]]  # training speed: the fixed window
    epochs, reached = epochs_to_threshold(curve, cfg["accuracy_threshold"], at_init["accuracy"])
    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        "train/accuracy_init": at_init["accuracy"],
        "train/auc": sum(curve) / len(curve),
        "train/epochs_to_threshold": epochs,
        "train/reached_threshold": float(reached),
        "train/final_accuracy": history["train/accuracy"][-1],
        "relu/units": float(before["units"]),
        "dead/count_init": float(before["dead"]),
        "dead/count_trained": float(trained["dead"]),
        "dead/share_init": before["dead_share"],
        "dead/share_trained": trained["dead_share"],
        "dead/count_init_all_train": float(at_init["activity_all"]["dead"]),
        "dead/count_trained_all_train": float(trained_all["dead"]),
        "zero_activation/share_init": before["zero_share"],
        "zero_activation/share_trained": trained["zero_share"],
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])


# ---- the claims' own figures ------------------------------------------------------------------------
def figures(evidence):
    """B2: mean train/auc per (weight init, bias init) for each model; B3: dead-ReLU share per arm,
    at initialisation and after training."""
    import matplotlib.pyplot as plt
    import numpy as np

    trials = evidence.trials
    present = set(trials["arm"])
    out = {}

    fig, axes = plt.subplots(1, len(MODELS), figsize=(11, 3.6))
    for ax, model in zip(axes, MODELS):
        biases = BIAS_INITS[model]
        table = np.full((len(WEIGHT_INITS), len(biases)), np.nan)
        for i, weight in enumerate(WEIGHT_INITS):
            for j, bias in enumerate(biases):
                arm = arm_name(model, weight, bias)
                if arm in present:
                    table[i, j] = trials.loc[trials["arm"] == arm, "train/auc"].astype(float).mean()
        image = ax.imshow(table, cmap="viridis", vmin=np.nanmin(table), vmax=np.nanmax(table))
        for (i, j), value in np.ndenumerate(table):
            ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="w", fontsize=8)
        ax.set_xticks(range(len(biases)), biases)
        ax.set_yticks(range(len(WEIGHT_INITS)), WEIGHT_INITS)
        ax.set_xlabel("bias init")
        ax.set_ylabel("weight init")
        ax.set_title(f"{model}: mean train/auc over seeds")
        fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    out["auc_by_weight_and_bias_init"] = fig

    arms = [arm for arm in ARMS if arm in present]
    fig, ax = plt.subplots(figsize=(max(8, 0.42 * len(arms) + 2), 4))
    for offset, (column, label, color) in enumerate(
            (("dead/share_init", "at init", "C0"), ("dead/share_trained", "after training", "C3"))):
        for i, arm in enumerate(arms):
            values = trials.loc[trials["arm"] == arm, column].astype(float).to_numpy()
            x = i + (offset - 0.5) * 0.3
            ax.scatter([x] * len(values), values, color=color, s=10, alpha=0.5)
            ax.scatter([x], [values.mean()], color=color, marker="_", s=120, label=label if i == 0 else None)
    ax.set_xticks(range(len(arms)), arms, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("share of dead ReLU units (probe batch)")
    ax.set_title("B3: dead ReLU units per arm (dots: seeds, bars: mean)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out["dead_relu_share"] = fig
    return out
