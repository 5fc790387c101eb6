"""LSTMs on time series of different lengths: padding, masking, bucketing, stateful chunks, concatenation.
From "Training LSTMs in Keras with time series of different length" (sources/000_2706fe11d950e137.txt,
lines 16-53).

The asker has interrupted series (day 1-10, day 15-20), fears that concatenating them "might yield
wrong results" (L5), and sees two ways to bring them to one shape: zero padding, or cutting every
series into pieces of the lengths' GCD and feeding them to a stateful LSTM with a state reset between
series (L2). They ask whether a stateless LSTM on the whole sequence and a stateful LSTM on pieces train
the same (L4). The answer says `Input(shape=(None, 32))` -> `LSTM(64)` has 24,832 parameters whatever the
batch size or length, and feeds batches of different lengths (L1). L3 checks that padding plus a Keras
mask computes exactly what the unpadded series computes.

Tasks (NumPy, seeded by data_seed only, so every arm and seed sees the same series):
    interrupted      series of 5, 10, ..., 30 steps (multiples of the chunk, so the GCD is the chunk);
                     each step is an independent reading N(0.5, 0.25); the label is "the series' mean
                     is above 0.5". Every step moves the label, so the target depends on the whole
                     series, and a padded 0 looks like a real (low) reading.
    long_dependency  series of 20 steps (4 chunks of 5) with a second feature marking one step in the
                     first chunk; the label is "the marked reading is above 0.5". The dependency (at
                     least 16 steps) is longer than a chunk.

Arms (one small model for all: [Masking] -> LSTM(units) -> Dense(1, sigmoid), Adam, binary
cross-entropy; the same seed gives every arm the same initial weights):
    post_pad         zeros after each series, up to the longest; no mask
    pre_pad          zeros before each series; no mask
    post_pad_mask    zeros after, with layers.Masking(0.0), so the LSTM skips the padded steps (a real
                     reading is never exactly 0)
    bucketing        no padding: Input(shape=(None, 1)) and batches whose series all have one length
                     (the answer's suggestion)
    stateful_chunks  the asker's option 2: every series cut into chunks of GCD length, a stateful LSTM
                     (fixed batch size) fed the chunks in order, state reset between batches of series
    concatenated     the series in one stream (a fixed order); each example is the window of the
                     stream, as long as the longest series, that ends where its series ends: what a
                     model trained on "a single series" sees, with no way to tell where a series began
                     (the stream wraps around, so the first series' window is filled the same way)
    long_full        long_dependency task, stateless LSTM on the complete 20-step sequence (full BPTT)
    long_chunked     long_dependency task, stateful LSTM on 4 chunks of 5 (truncated BPTT)

Design choices, made before any run:
- One training loop for every arm: Keras' train_on_batch over batches of batch_size series, in an
  order shuffled by the trial seed (bucketing and stateful arms: within one length, then across).
  The arms differ only in the shape of a batch and how it is fed, so time per epoch compares them.
- Stateful training (stateful_chunks, long_chunked): for a batch of series, reset the state, advance it
  through every chunk but the last with predict_on_batch, then train_on_batch on the last chunk with the
  series' label. The loss is where the stateless arm has it (at the end of the series); the gradient
  cannot reach earlier chunks because Keras stores the carried state in a non-trainable variable. This
  is truncated backpropagation through time with the chunk as the truncation length, which is what
  a stateful Keras LSTM trained piece by piece does. Every length bucket (and the long task) holds a
  multiple of batch_size series, so a stateful model never needs a partial batch.
- Evaluation mirrors training: each arm is scored on the test series in its own input form (padded,
  bucketed, chunked with state resets, or concatenated stream windows), by one scorer (accuracy at 0.5
  and binary cross-entropy of the predicted probabilities). Test accuracy per series length is logged
  too (test/accuracy_len5, ...).
- Time per epoch is the median over epochs of the wall time of the training pass alone (validation
  not included); the median leaves out the first epoch's tracing. Measured on one TF thread per trial.
- Every arm trains until its validation loss has not improved by 0.001 for `patience` (10) epochs, at
  most `epochs` (200), and keeps the weights of its best epoch (PLATEAU, through the same StopWatch as
  model.fit's; the validation split, never the test split). Why not a fixed budget: at the former 40
  epochs six of the eight arms were still improving (the quick run of 2026-12-05: training accuracy up
  0.8-3.4 points over the last fifth of the epochs), so L2's equivalences and L5's difference would have
  compared how fast each input form trains, not what it can learn.
- L2 asks whether the asker's options are interchangeable: each option's test accuracy is compared with
  bucketing (the exact computation without padding) by an equivalence test with the margin
  `accuracy_margin` (THRESHOLDS; L4b uses the same one).
- L4 has two parts: L4a (exact) compares one forward pass and one gradient of a stateless and a
  stateful LSTM with the same weights (one batch of the long-dependency task, the initial weights drawn
  `check_seeds` (5) times, the worst draw judged: the equivalence is claimed for any weights;
  the gradients are compared per weight by cosine similarity and relative difference, within the
  float32 round-off tolerances `forward_tolerance` and `gradient_tolerance`); L4b
  (empirical) trains both on the long-dependency task.
- L3's check gives its LSTM a random non-zero bias: with Keras' default zero bias, zeros read from the
  zero initial state leave the state exactly at zero, and pre-padding would pass even without a mask.
  (Found while writing the check, before any verdict was recorded: it makes the test stricter.) L3 too
  is measured on `check_seeds` draws of the weights, and its largest difference is judged.
"""

import time
from dataclasses import dataclass

import numpy as np

from claimlab import checks, stats, train
from claimlab.data import digest_of
from claimlab.domains import Integer, Real, Sizes
from claimlab.plots import mean_ci_band
from claimlab.spec import Advice, Claim, DatasetInfo, Setting, Source, Times, TrialResult
from claimlab.verdict import (AllOf, AtMost, Better, Equivalent, Exact, IfDiverged, Level, Plateau, StopWatch,
                              Summarize)

SOURCE_FILE = "000_2706fe11d950e137.txt"
QUESTION = "Training LSTMs in Keras with time series of different length"

TITLE = "LSTMs on series of different lengths: padding, masks, bucketing, stateful chunks, concatenation"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="L1",
        kind="exact",
        quote=(
            "lstm_input = layers.Input(shape=(None, n_feats))\n"
            "lstm_output = layers.LSTM(latent_dim)(lstm_input)\n"
            "Total params: 24,832\n"
            "the number of parameters used in a LSTM layer does not depend on the batch size or time-series "
            "length (it only depends on input feature vector's length and the latent dimension of LSTM).\n"
            "model.predict(np.random.rand(10, 5, n_feats)) # This works\n"
            "model.predict(np.random.rand(5, 100, n_feats)) # This also works"
        ),
        source=Source(SOURCE_FILE, "32-51", QUESTION),
        hypothesis=(
            "keras.Input(shape=(None, 32)) -> layers.LSTM(64) has 24,832 parameters; predict accepts inputs of "
            "shape (10, 5, 32) and (5, 100, 32), returns (10, 64) and (5, 64), and the count does not change."
        ),
        rule=Exact("lstm_any_length_parameter_count",
                   expect={"lstm_parameters": 24_832, "output_shape_batch10_len5": [10, 64],
                           "output_shape_batch5_len100": [5, 64], "parameters_after_both_predicts": 24_832}),
    ),
    Claim(
        id="L2",
        kind="empirical",
        quote=(
            "I see basically two options to bring them to shape (batch_size, timesteps, output_features):\n"
            "Extend the shorter series by some default value (0)\n"
            "Compute the GCD of the lengths, cut the series into pieces, and use a stateful LSTM\n"
            "Are there any other / better solutions?\n"
            "Have you tried feeding the LSTM layer with inputs of different length?"
        ),
        source=Source(SOURCE_FILE, "18-28", QUESTION),
        hypothesis=(
            "On interrupted series of 5-30 steps whose label depends on every step, each of the asker's options "
            "(zero padding post or pre without a mask, zero padding with a mask, a stateful LSTM over GCD-length "
            "pieces) reaches the test accuracy of the answer's way (no padding, equal-length batches), within "
            "the accuracy margin. Time per epoch is reported for every option."
        ),
        rule="l2_rule",
    ),
    Claim(
        id="L3",
        kind="exact",
        quote=(
            "Extend the shorter series by some default value (0), i.e. for the above example we would have the "
            "following batch:\n"
            "d1, ..., d10\n"
            "d15, ..., d20, 0, 0, 0, 0, 0"
        ),
        source=Source(SOURCE_FILE, "19-21", QUESTION),
        hypothesis=(
            "Zero padding with a Keras Masking layer is a faithful way to batch series of different lengths: an "
            "LSTM's output on a padded and masked batch (post or pre padding) equals its output on each series "
            "alone, unpadded. (Without the mask it is reported, not judged.)"
        ),
        rule="l3_rule",
    ),
    Claim(
        id="L4a",
        kind="exact",
        quote=(
            "Compute the GCD of the lengths, cut the series into pieces, and use a stateful LSTM, i.e.:\n"
            "reset_state\n"
            "Is training a stateless LSTM with a complete sequence equivalent to training a stateful LSTM with "
            "pieces?"
        ),
        source=Source(SOURCE_FILE, "22-27", QUESTION),
        hypothesis=(
            "With the same weights, a stateful LSTM fed a series in chunks (state carried, reset between series) "
            "computes the same output as a stateless LSTM fed the whole series, and the gradient of the loss "
            "at the series' end is the same for both (so one training step is the same)."
        ),
        rule="l4a_rule",
    ),
    Claim(
        id="L4b",
        kind="empirical",
        quote="Is training a stateless LSTM with a complete sequence equivalent to training a stateful LSTM with pieces?",
        source=Source(SOURCE_FILE, "27", QUESTION),
        hypothesis=(
            "On a task whose dependency (a reading marked in the first chunk, the label at the end) spans more "
            "than one chunk, a stateful LSTM trained on the chunks reaches the test accuracy of a stateless LSTM "
            "trained on the complete sequences, within the accuracy margin."
        ),
        rule="l4b_rule",
    ),
    Claim(
        id="L5",
        kind="empirical",
        quote=(
            "Consider, for example, a continuous series from day 1 to day 10 and another continuous series from "
            "day 15 to day 20. Simply concatenating them to a single series might yield wrong results."
        ),
        source=Source(SOURCE_FILE, "18", QUESTION),
        hypothesis=(
            "A model trained and tested on windows of the concatenated series (no boundary between series) has a "
            "lower test accuracy than the same LSTM trained on each series separately (bucketing)."
        ),
        # The smallest effect of interest is L2's "as good as" margin: a smaller loss is "as good as".
        rule=lambda cfg: Better("test/accuracy", arm="bucketing", than="concatenated",
                                smallest_effect=cfg["accuracy_margin"]),
    ),
]

# Lines of the same threads that the lab lists without a verdict: the ledger's "Not judged" section.
NOT_JUDGED = [
    Advice(
        quote=(
            "However, depending on the specific problem you are working on, this may not work; though I don't"
            " have any specific examples in my mind now in which this behavior may not be suitable and you "
            "should make sure all the time-series have the same length."
        ),
        source=Source(SOURCE_FILE, "52", QUESTION),
        why=(
            "a hedge ('this may not work', with no example in mind) followed by advice to make every series "
            "the same length: it names no case a measurement could test. What padding, masking and feeding "
            "the series one by one do is measured in L2-L5."
        ),
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "lengths": Sizes((5, 10, 15, 20, 25, 30), min=1),  # interrupted task: series lengths, multiples of the chunk
    "chunk": Integer(5, min=1),  # the GCD of the lengths: the stateful arms' piece length
    # series per length; each a multiple of batch_size (stateful batches are fixed)
    "train_per_length": Integer(96, min=1),
    "val_per_length": Integer(32, min=1),
    "test_per_length": Integer(64, min=1),
    "reading_mean": Real(0.5),  # every step is an independent reading N(mean, std); label: series mean > mean
    "reading_std": Real(0.25, min=0, min_open=True),
    "long_length": Integer(20, min=1),  # long_dependency task: 4 chunks; the marked step is in the first chunk
    "long_train": Integer(768, min=1),
    "long_val": Integer(128, min=1),
    "long_test": Integer(256, min=1),
    "units": Integer(16, min=1),
    "epochs": Integer(200, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(3e-3, min=0, min_open=True),
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # L2, L4b: "as good as" means test accuracies within 5 points; L5's smallest effect
    "accuracy_margin": Real(0.05, min=0, min_open=True, threshold=True),
    # L3, L4a: float32 round-off on LSTM outputs in (-1, 1)
    "forward_tolerance": Real(1e-5, min=0, min_open=True, threshold=True),
    # L4a: ||g_full - g_chunked|| / ||g_full||: equal up to float32 round-off
    "gradient_tolerance": Real(1e-4, min=0, min_open=True, threshold=True),
    # L3, L4a: the LSTM's weights drawn under seeds 0..check_seeds-1; every draw must pass (the worst is judged)
    "check_seeds": Integer(5, min=5),
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    problems = []
    chunk = cfg["chunk"]
    # The stateful arms cut every series into chunk-long pieces.
    if any(length % chunk for length in (*cfg["lengths"], cfg["long_length"])):
        problems.append(f"every series length must be a multiple of chunk={chunk}: lengths={cfg['lengths']}, "
                        f"long_length={cfg['long_length']}")
    # With one chunk the stateful arm is the full sequence, and L4 would compare it with itself.
    if cfg["long_length"] < 2 * chunk:
        problems.append(f"long_length={cfg['long_length']} must be at least 2 chunks (2 * chunk = {2 * chunk})")
    # A stateful LSTM has a fixed batch size: every split of every length must fill whole batches.
    for key in ("train_per_length", "val_per_length", "test_per_length", "long_train", "long_val", "long_test"):
        if cfg[key] % cfg["batch_size"]:
            problems.append(f"{key}={cfg[key]} must be a multiple of batch_size={cfg['batch_size']}")
    return problems


# What a diverged trial (non-finite training loss) counts as on each judged metric.
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.5, "chance on the binary tasks, whose labels are balanced by construction"),
    "time/epoch_seconds": IfDiverged.kept("a timing, reported only: divergence does not change it"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "test/accuracy": Level(0.5, 1.0, "binary tasks whose labels are balanced by construction"),
    "*": Level.unbounded("a timing"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "train_per_length": 32, "val_per_length": 32, "test_per_length": 32,
              "long_train": 128, "long_val": 64, "long_test": 64},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The tasks are generated, so there is no published reference accuracy; the scope varies the budget
# and the LSTM's size.
# The trials use keras, keras.ops and keras.random only, but their stateful arms need what `stateful=True`
# means: the LSTM's state carried from one call to the next. Keras 3.15 on JAX does not carry it (the state
# variables are untracked, so its stateless calls drop their updates): there stateful_chunks and long_chunked
# would train and predict on the last piece alone, from a zero state. So the trials run on TensorFlow, the
# backend the sources ran (tests/test_lstm_variable_length.py checks both halves of this).
BACKEND = "tensorflow"
TENSORFLOW_BECAUSE = ("its stateful arms (L2's stateful_chunks, L4b's long_chunked) need an LSTM that carries "
                      "its state from one call to the next, which Keras' JAX backend does not do")
SETTINGS = {
    "default": Setting("generated series, 16 LSTM units, to a val/loss plateau (patience 10, at most 200 epochs)",
                       "the lab's reference setting: eight arms over many seeds on 2 cores"),
    "long_budget": Setting("generated series, 16 LSTM units, to a val/loss plateau (patience 50, at most 1000 "
                           "epochs)", "a 5x more patient stop: whether padding or chunking costs accuracy may only show once "
                           "every arm has converged", {"epochs": Times(5), "patience": Times(5)}),
    "wide": Setting("generated series, 64 LSTM units, to a val/loss plateau",
                    "the answer's own LSTM(64) (L1): more capacity may absorb what padding costs",
                    {"units": 64}),
}

INTERRUPTED_ARMS = ("post_pad", "pre_pad", "post_pad_mask", "bucketing", "stateful_chunks", "concatenated")
ARMS = {
    **{arm: {"task": "interrupted", "method": arm} for arm in INTERRUPTED_ARMS},
    "long_full": {"task": "long_dependency", "method": "full_sequence"},
    "long_chunked": {"task": "long_dependency", "method": "stateful_chunks"},
}
L2_OPTIONS = ("post_pad", "pre_pad", "post_pad_mask", "stateful_chunks")  # the asker's options, judged ...
L2_REFERENCE = "bucketing"  # ... against the answer's way: no padding, equal-length batches


# ---- L1: the exact count --------------------------------------------------------------------------
def lstm_any_length_parameter_count(cfg):
    """L1: the answer's model, and predict on (10, 5, 32) and (5, 100, 32)."""
    import keras
    from keras import layers

    lstm_input = layers.Input(shape=(None, 32))
    model = keras.Model(lstm_input, layers.LSTM(64)(lstm_input))
    before = model.count_params()
    rng = np.random.default_rng(cfg["data_seed"])
    short = model.predict(rng.random((10, 5, 32)), verbose=0)
    long = model.predict(rng.random((5, 100, 32)), verbose=0)
    return {
        "lstm_parameters": int(before),
        "formula_4_units_inputs_units_1": 4 * 64 * (32 + 64 + 1),
        "output_shape_batch10_len5": list(short.shape),
        "output_shape_batch5_len100": list(long.shape),
        "parameters_after_both_predicts": int(model.count_params()),
    }


# ---- the rules, built from the resolved config (the thresholds --set gives) -------------------------
def l2_rule(cfg):
    """Every option equivalent to bucketing within the margin; time per epoch reported for each."""
    margin = cfg["accuracy_margin"]
    return AllOf(
        *[Equivalent("test/accuracy", option, to=L2_REFERENCE, margin=margin) for option in L2_OPTIONS],
        also_report=[Summarize("time/epoch_seconds", list(L2_OPTIONS) + [L2_REFERENCE])],
    )


def l3_rule(cfg):
    return Exact(masked_padding_matches_unpadded,
                 expect={"post_padded_masked_max_abs_diff": 0.0, "pre_padded_masked_max_abs_diff": 0.0},
                 abs_tol=cfg["forward_tolerance"],
                 note=f"Measured on {checks.weight_draws_text(cfg)}: the padded output must equal the unpadded "
                      "one in every draw, so the largest difference over the draws is judged. "
                      "The unmasked differences are measured alongside to show what the mask changes (the "
                      "smallest over the draws).")


def gradient_cosines(measured):
    """What L4a's reason adds, unjudged: the cosine similarity of the full and chunked gradient per weight
    (draw 0), and the smallest over every weight and draw."""
    worst = (f"; smallest over the draws {measured['min_gradient_cosine']:.4f}" if "min_gradient_cosine" in measured
             else "")  # results from before the draws (issue 26) have only draw 0
    return "gradient cosine full vs chunked BPTT (draw 0): " + ", ".join(
        f"{key.removeprefix('cosine_')} {value:.4f}" for key, value in measured.items()
        if key.startswith("cosine_")) + worst


def l4a_rule(cfg):
    return Exact(stateful_chunks_vs_full_sequence,
                 expect={"forward_max_abs_diff": AtMost(cfg["forward_tolerance"]),
                         "max_relative_gradient_diff": AtMost(cfg["gradient_tolerance"])},
                 note=f"One batch of the long-dependency task, from {checks.weight_draws_text(cfg)} (the "
                      "equivalence is claimed for any weights). forward_max_abs_diff is the max |output difference|; max_relative_gradient_diff the largest, over the trainable weights, "
                      "of ||g_full - g_chunked|| / ||g_full||; the bounds are float32 round-off. The cosine "
                      "similarity of the two gradients per weight is reported.",
                 context=gradient_cosines)


def l4b_rule(cfg):
    return Equivalent("test/accuracy", arm="long_chunked", to="long_full", margin=cfg["accuracy_margin"])


# ---- data -----------------------------------------------------------------------------------------
@dataclass
class SeriesSplit:
    """Series of possibly different lengths (each (length, features)) and their 0/1 labels."""

    series: list
    labels: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.array([len(s) for s in self.series])


def interrupted_series(cfg) -> dict:
    """train / val / test splits of the interrupted task; the label is "the series' mean reading is high"."""
    rng = np.random.default_rng([cfg["data_seed"], 0])
    splits = {}
    for split in ("train", "val", "test"):
        series, labels = [], []
        for length in cfg["lengths"]:
            readings = rng.normal(cfg["reading_mean"], cfg["reading_std"], size=(cfg[f"{split}_per_length"], length, 1))
            series += list(readings.astype("float32"))
            labels += list(readings.mean(axis=(1, 2)) > cfg["reading_mean"])
        splits[split] = SeriesSplit(series, np.array(labels, dtype="float32"))
    return splits


def long_dependency_series(cfg) -> dict:
    """Fixed-length series; feature 1 marks one step of the first chunk, the label is that step's reading."""
    rng = np.random.default_rng([cfg["data_seed"], 1])
    splits = {}
    for split in ("train", "val", "test"):
        n, length = cfg[f"long_{split}"], cfg["long_length"]
        readings = rng.normal(cfg["reading_mean"], cfg["reading_std"], size=(n, length)).astype("float32")
        marked = rng.integers(0, cfg["chunk"], size=n)
        marker = np.zeros((n, length), dtype="float32")
        marker[np.arange(n), marked] = 1.0
        labels = (readings[np.arange(n), marked] > cfg["reading_mean"]).astype("float32")
        splits[split] = SeriesSplit(list(np.stack([readings, marker], axis=-1)), labels)
    return splits


def load_task(cfg) -> dict:
    return interrupted_series(cfg) if cfg["task"] == "interrupted" else long_dependency_series(cfg)


def dataset_info(cfg, splits) -> DatasetInfo:
    digest = digest_of([array for split in splits.values() for array in (*split.series, split.labels)])
    name = "interrupted_series" if cfg["task"] == "interrupted" else "long_dependency_series"
    profile = {name: len(split.labels) for name, split in splits.items()}
    profile["lengths"] = sorted(set(splits["train"].lengths.tolist()))
    profile["features"] = int(splits["train"].series[0].shape[1])
    return DatasetInfo(name=name, digest=digest, source="numpy: experiments/lstm_variable_length.py",
                       profile=profile)


def prepare(cfg):
    """Called once before any trial: a config the stateful arms cannot run fails here, fast."""
    lengths = list(cfg["lengths"]) + [cfg["long_length"]]
    if any(length % cfg["chunk"] for length in lengths):
        raise ValueError(f"every length must be a multiple of chunk={cfg['chunk']}: {lengths}")
    counts = [cfg[f"{s}_per_length"] for s in ("train", "val", "test")] + [cfg[f"long_{s}"] for s in ("train", "val", "test")]
    if any(count % cfg["batch_size"] for count in counts):
        raise ValueError(f"every split size per length must be a multiple of batch_size={cfg['batch_size']}: {counts}")


# ---- the input forms of the arms ------------------------------------------------------------------
def pad(split: SeriesSplit, length: int, side: str) -> np.ndarray:
    """Zero padding to `length` steps, after ("post") or before ("pre") each series."""
    padded = np.zeros((len(split.series), length, split.series[0].shape[1]), dtype="float32")
    for i, series in enumerate(split.series):
        if side == "post":
            padded[i, : len(series)] = series
        else:
            padded[i, length - len(series):] = series
    return padded


def concatenated_windows(split: SeriesSplit, window: int, data_seed: int) -> np.ndarray:
    """The series laid end to end in one stream (an order fixed by data_seed); for each series the
    `window` steps of the stream that end where it ends. The stream wraps around, so every window is
    made of real readings and none begins with the zeros that would mark a start."""
    order = np.random.default_rng([data_seed, 2]).permutation(len(split.series))
    stream = np.concatenate([split.series[i] for i in order])
    ends = np.cumsum([len(split.series[i]) for i in order])
    steps = (ends[:, None] - window + np.arange(window)[None, :]) % len(stream)
    windows = np.empty((len(order), window, stream.shape[1]), dtype="float32")
    windows[order] = stream[steps]
    return windows


def equal_length_batches(split: SeriesSplit, batch_size: int, rng=None) -> list:
    """Batches of indices whose series share one length; shuffled within and across lengths if rng."""
    batches = []
    for length in sorted(set(split.lengths.tolist())):
        members = np.flatnonzero(split.lengths == length)
        if rng is not None:
            members = rng.permutation(members)
        batches += [members[i: i + batch_size] for i in range(0, len(members), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def stack(split: SeriesSplit, members) -> np.ndarray:
    return np.stack([split.series[i] for i in members])


# ---- model ----------------------------------------------------------------------------------------
def build_classifier(cfg, features, timesteps=None, mask=False, stateful_batch=None):
    """[Masking] -> LSTM(units) -> Dense(1, sigmoid). Stateful: a fixed batch of chunk-long pieces."""
    import keras
    from keras import layers

    if stateful_batch:
        inputs = keras.Input(batch_shape=(stateful_batch, cfg["chunk"], features))
    else:
        inputs = keras.Input(shape=(timesteps, features))
    x = layers.Masking(mask_value=0.0)(inputs) if mask else inputs
    x = layers.LSTM(cfg["units"], stateful=bool(stateful_batch), name="lstm")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="output")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def reset_lstm_state(model) -> None:
    for layer in model.layers:
        if getattr(layer, "stateful", False):
            # Keras 2 (--keras 2) names it reset_states; Keras 3 reset_state
            (layer.reset_state if hasattr(layer, "reset_state") else layer.reset_states)()


def chunks(x: np.ndarray, chunk: int) -> list:
    return [x[:, start: start + chunk] for start in range(0, x.shape[1], chunk)]


def predict_stateful(model, x: np.ndarray, chunk: int) -> np.ndarray:
    """Reset, feed the pieces in order; the prediction after the last piece is the series' prediction."""
    reset_lstm_state(model)
    for piece in chunks(x, chunk):
        probabilities = model.predict_on_batch(piece)
    return np.asarray(probabilities)


# ---- one method per arm: how it feeds a batch, how it predicts a split -----------------------------
# Every arm trains with the same loop, Keras' train_on_batch over batches of batch_size series in an
# order shuffled by the trial seed, so the arms differ only in how a batch is shaped and fed, and their
# times per epoch are comparable. (claimlab.train.fit runs model.fit, whose per-call setup costs more
# than a whole epoch here when called once per epoch, and it takes no callback to time epochs.)
def train_epoch(step, batches) -> dict:
    """One pass over the batches; the mean of the per-batch training loss and accuracy."""
    logs = [step(x, y) for x, y in batches]
    return {f"train/{key}": float(np.mean([log[key] for log in logs])) for key in logs[0]}


class PaddedMethod:
    """post_pad, pre_pad, post_pad_mask, concatenated, full_sequence: one fixed-length array per split."""

    def __init__(self, method, cfg, splits, features):
        longest = max(max(split.lengths) for split in splits.values())
        if method == "concatenated":
            arrays = {name: concatenated_windows(split, longest, cfg["data_seed"]) for name, split in splits.items()}
        elif method == "full_sequence":
            if len(set(splits["train"].lengths.tolist())) != 1:
                raise ValueError("full_sequence needs series of one length")
            arrays = {name: pad(split, longest, "post") for name, split in splits.items()}
        else:
            arrays = {name: pad(split, longest, "pre" if method == "pre_pad" else "post")
                      for name, split in splits.items()}
        self.arrays, self.cfg, self.labels = arrays, cfg, splits["train"].labels
        self.model = build_classifier(cfg, features, timesteps=longest, mask=method == "post_pad_mask")

    def train_epoch(self, rng):
        order, size = rng.permutation(len(self.labels)), self.cfg["batch_size"]
        batches = ((self.arrays["train"][members], self.labels[members])
                   for members in (order[i: i + size] for i in range(0, len(order), size)))
        return train_epoch(lambda x, y: self.model.train_on_batch(x, y, return_dict=True), batches)

    def predict(self, name, split):
        return self.model.predict(self.arrays[name], batch_size=512, verbose=0)[:, 0]


class BucketingMethod:
    """No padding: Input(shape=(None, features)); every batch holds series of one length."""

    def __init__(self, method, cfg, splits, features):
        self.cfg, self.splits = cfg, splits
        self.model = build_classifier(cfg, features)

    def train_epoch(self, rng):
        split = self.splits["train"]
        batches = ((stack(split, members), split.labels[members])
                   for members in equal_length_batches(split, self.cfg["batch_size"], rng))
        return train_epoch(lambda x, y: self.model.train_on_batch(x, y, return_dict=True), batches)

    def predict(self, name, split):
        probabilities = np.empty(len(split.labels), dtype="float32")
        for members in equal_length_batches(split, len(split.labels)):  # one batch per length
            probabilities[members] = np.asarray(self.model.predict_on_batch(stack(split, members)))[:, 0]
        return probabilities


class StatefulChunksMethod:
    """The asker's option 2: pieces of GCD length through a stateful LSTM, state reset between series.
    Truncated BPTT: earlier pieces only advance the state; the loss (at the series' end) trains the
    last piece."""

    def __init__(self, method, cfg, splits, features):
        self.cfg, self.splits = cfg, splits
        self.model = build_classifier(cfg, features, stateful_batch=cfg["batch_size"])

    def step(self, x, y):
        pieces = chunks(x, self.cfg["chunk"])
        reset_lstm_state(self.model)
        for piece in pieces[:-1]:
            self.model.predict_on_batch(piece)
        return self.model.train_on_batch(pieces[-1], y, return_dict=True)

    def train_epoch(self, rng):
        split = self.splits["train"]
        batches = ((stack(split, members), split.labels[members])
                   for members in equal_length_batches(split, self.cfg["batch_size"], rng))
        return train_epoch(self.step, batches)

    def predict(self, name, split):
        probabilities = np.empty(len(split.labels), dtype="float32")
        for members in equal_length_batches(split, self.cfg["batch_size"]):
            probabilities[members] = predict_stateful(self.model, stack(split, members), self.cfg["chunk"])[:, 0]
        return probabilities


METHODS = {"post_pad": PaddedMethod, "pre_pad": PaddedMethod, "post_pad_mask": PaddedMethod,
           "concatenated": PaddedMethod, "full_sequence": PaddedMethod,
           "bucketing": BucketingMethod, "stateful_chunks": StatefulChunksMethod}


def score(probabilities, labels, prefix: str) -> dict:
    """Accuracy at 0.5 and binary cross-entropy (Keras' clipping), the same for every arm."""
    p = np.clip(np.asarray(probabilities, dtype="float64"), 1e-7, 1 - 1e-7)
    y = np.asarray(labels, dtype="float64")
    return {f"{prefix}/accuracy": float(np.mean((p > 0.5) == (y > 0.5))),
            f"{prefix}/loss": float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))}


# ---- one trial ------------------------------------------------------------------------------------
def run_trial(arm, seed, cfg):
    splits = load_task(cfg)
    features = splits["train"].series[0].shape[1]
    method = METHODS[cfg["method"]](cfg["method"], cfg, splits, features)
    rng = np.random.default_rng(seed)  # the batch order: the trial seed controls shuffling

    history, epoch_seconds = {}, []
    watch, best_weights = StopWatch(PLATEAU.stop(cfg)), None  # train to the plateau, keep the best epoch
    for _ in range(cfg["epochs"]):
        started = time.perf_counter()
        logs = method.train_epoch(rng)
        epoch_seconds.append(time.perf_counter() - started)
        logs.update(score(method.predict("val", splits["val"]), splits["val"].labels, "val"))
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        if watch.update(logs["val/loss"]):
            best_weights = method.model.get_weights()
        if watch.done:
            break
    if best_weights is not None:
        method.model.set_weights(best_weights)

    test = splits["test"]
    probabilities = method.predict("test", test)
    metrics = {
        **score(probabilities, test.labels, "test"),
        "time/epoch_seconds": float(np.median(epoch_seconds)),
        "time/train_seconds": float(np.sum(epoch_seconds)),
        "params/total": float(method.model.count_params()),
        "diverged": float(train.diverged(history)),
    }
    if cfg["task"] == "interrupted":
        for length in cfg["lengths"]:
            at = test.lengths == length
            metrics[f"test/accuracy_len{length}"] = score(probabilities[at], test.labels[at], "t")["t/accuracy"]
    return TrialResult(metrics=metrics, history=history, datasets=[dataset_info(cfg, splits)])


# ---- exact checks (L3, L4a) ------------------------------------------------------------------------
def masked_padding_matches_unpadded(cfg):
    """L3: one series of each length, padded (post and pre) in one batch, through an LSTM with and without
    a Masking layer, against the same LSTM on each series alone without padding."""
    import keras
    from keras import layers

    split = interrupted_series(cfg)["test"]
    first_of_each_length = [int(np.flatnonzero(split.lengths == length)[0]) for length in cfg["lengths"]]
    series = SeriesSplit([split.series[i] for i in first_of_each_length], split.labels[first_of_each_length])
    longest = max(cfg["lengths"])

    def one_draw(seed):
        inputs = keras.Input(shape=(None, 1))
        # A non-zero bias: with Keras' default zero bias (forget gate aside), zeros read from a zero state
        # leave the state at exactly zero, and pre-padding would pass this test even without a mask.
        lstm = layers.LSTM(cfg["units"], bias_initializer=keras.initializers.RandomNormal(stddev=0.5))
        masked = keras.Model(inputs, lstm(layers.Masking(mask_value=0.0)(inputs)))
        unmasked = keras.Model(inputs, lstm(inputs))  # the same LSTM layer: the same weights
        alone = np.concatenate([np.asarray(unmasked.predict_on_batch(s[None])) for s in series.series])

        measured = {"lengths": [int(n) for n in series.lengths]}
        for side in ("post", "pre"):
            padded = pad(series, longest, side)
            for name, model in (("masked", masked), ("unmasked", unmasked)):
                outputs = np.asarray(model.predict_on_batch(padded))
                measured[f"{side}_padded_{name}_max_abs_diff"] = float(np.max(np.abs(outputs - alone)))
        return measured

    # Judged: the largest masked difference over the draws; the unmasked ones are reported at their smallest,
    # what the mask changes in the draw where it changes least.
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "post_padded_masked_max_abs_diff": "max", "pre_padded_masked_max_abs_diff": "max",
        "post_padded_unmasked_max_abs_diff": "min", "pre_padded_unmasked_max_abs_diff": "min"})


def stateful_chunks_vs_full_sequence(cfg):
    """L4a: a stateless LSTM on whole long-dependency series and a stateful LSTM with the same weights on
    their chunks. Forward: the outputs. Training: the gradient of the loss at the series' end, with
    full BPTT (stateless) and with the state carried into the last chunk as Keras does (truncated)."""
    import keras
    import tensorflow as tf

    batch = cfg["batch_size"]
    split = long_dependency_series(cfg)["train"]
    x, y = stack(split, range(batch)), split.labels[:batch, None]
    features = x.shape[2]

    def one_draw(seed):
        stateless = build_classifier(cfg, features)
        stateful = build_classifier(cfg, features, stateful_batch=batch)
        stateful.set_weights(stateless.get_weights())
        loss = keras.losses.BinaryCrossentropy()

        full_output = np.asarray(stateless(x, training=False))
        chunked_output = predict_stateful(stateful, x, cfg["chunk"])

        with tf.GradientTape() as tape:
            full_loss = loss(y, stateless(x, training=True))
        full_gradients = tape.gradient(full_loss, stateless.trainable_weights)
        pieces = chunks(x, cfg["chunk"])
        reset_lstm_state(stateful)
        for piece in pieces[:-1]:  # advance the state outside the tape: Keras' stateful training does the same
            stateful(piece, training=False)
        with tf.GradientTape() as tape:
            chunked_loss = loss(y, stateful(pieces[-1], training=True))
        chunked_gradients = tape.gradient(chunked_loss, stateful.trainable_weights)

        measured = {"forward_max_abs_diff": float(np.max(np.abs(full_output - chunked_output))),
                    "loss_abs_diff": float(abs(float(full_loss) - float(chunked_loss))),
                    "chunks": len(pieces), "chunk": cfg["chunk"]}
        for weight, full, chunked in zip(stateless.trainable_weights, full_gradients, chunked_gradients):
            path = weight.path if hasattr(weight, "path") else weight.name.split(":")[0]  # Keras 2: "lstm/.../kernel:0"
            name = path.replace("/lstm_cell", "").replace("/", "_")  # lstm_kernel, output_bias, ...
            full, chunked = np.asarray(full, dtype="float64").ravel(), np.asarray(chunked, dtype="float64").ravel()
            measured[f"cosine_{name}"] = float(full @ chunked / (np.linalg.norm(full) * np.linalg.norm(chunked)))
            measured[f"relative_diff_{name}"] = float(np.linalg.norm(full - chunked) / np.linalg.norm(full))
        measured["max_relative_gradient_diff"] = max(value for key, value in measured.items()
                                                     if key.startswith("relative_diff_"))
        measured["min_gradient_cosine"] = min(value for key, value in measured.items() if key.startswith("cosine_"))
        return measured

    # The worst draw is judged: the largest output and gradient differences (and the smallest cosine).
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "forward_max_abs_diff": "max", "max_relative_gradient_diff": "max", "loss_abs_diff": "max",
        "min_gradient_cosine": "min"})


# ---- the claim's own figures ----------------------------------------------------------------------
def figures(evidence):
    """Test accuracy by series length per interrupted arm; accuracy against time per epoch (L2)."""
    import matplotlib.pyplot as plt

    trials = evidence.trials
    arms = [arm for arm in INTERRUPTED_ARMS if arm in set(trials["arm"])]
    lengths = [n for n in evidence.cfg["lengths"] if f"test/accuracy_len{n}" in trials]
    if not arms or not lengths:
        return {}
    fig, (by_length, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    for i, arm in enumerate(arms):
        rows = trials[trials["arm"] == arm]
        mean_ci_band(by_length, lengths, rows[[f"test/accuracy_len{n}" for n in lengths]].to_numpy(), f"C{i}",
                     label=arm, marker="o")
        accuracy, seconds = stats.describe(rows["test/accuracy"].to_numpy()), stats.describe(rows["time/epoch_seconds"].to_numpy())
        by_time.errorbar(seconds["mean"], accuracy["mean"], xerr=seconds["std"] if len(rows) > 1 else None,
                         yerr=accuracy["std"] if len(rows) > 1 else None, fmt="o", color=f"C{i}", label=arm)
    by_length.set_xlabel("series length (steps)")
    by_length.set_ylabel("test accuracy (mean over seeds, 95% CI)")
    by_length.set_title("accuracy by series length")
    by_time.set_xlabel("training seconds per epoch (median; 1 thread)")
    by_time.set_ylabel("test accuracy (mean +- std over seeds)")
    by_time.set_title("L2: accuracy against time per epoch")
    for ax in (by_length, by_time):
        ax.grid(alpha=0.3)
    by_length.legend(fontsize=8)
    fig.tight_layout()
    return {"accuracy_by_length": fig}
