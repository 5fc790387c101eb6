"""How many LSTM units? A sweep of one LSTM layer's size, from "How to interpret clearly the meaning of the
units parameter in Keras?" (sources/002_6725717de9344925.txt, lines 120-180).

The asker copies `model.add(LSTM(4, input_shape=(1, look_back)))` from a tutorial (line 123) and asks
what the 4 means. One answer explains the units and ends (line 177): "I would recommend using a much
higher latent dimension, perhaps 128 or 256 for most problems." Another (line 157) says each of the two
groups of weights (on the inputs, on the previous step's output) has "a number of parameters 4 times
bigger than the number of units".

Two ids:

    E10a (exact)      a real keras.layers.LSTM(units) on `input_dim` features, for every swept size, has
                      a kernel of input_dim x 4*units, a recurrent kernel of units x 4*units, and
                      4*(units*(input_dim + units) + units) parameters in all (the bias is 4*units).
    E10b (empirical)  on a generated sequence task that needs memory, LSTM(128) and LSTM(256) each reach a
                      higher test accuracy than the asker's LSTM(4).

Task (NumPy, seeded by data_seed only, so every arm and seed sees the same sequences): "marked recall".
Each sequence has `length` steps; a step is one of `symbols` symbols (one-hot) plus a marker channel.
`marks` distinct steps, at random positions, carry marker 1; the label is the tuple of the marked
steps' symbols in order, one class of symbols**marks (9 classes by default: 3 symbols, 2 marks). The
network must hold the first marked symbol while reading the rest of the sequence, and a state of a few
units must encode several symbols at once, so capacity can matter. Classes are balanced in expectation
(symbols are uniform); chance accuracy is 1 / symbols**marks.

Arms: Input(length, symbols + 1) -> LSTM(units) -> Dense(classes, softmax), Adam, sparse categorical
cross-entropy; units in 4 (the asker's), 16, 32, 64, 128, 256 (the answer's two sizes). Nothing else
differs between arms; for a seed, every arm sees the same batch order (Keras' fit shuffles with the
seed the runner sets before each trial).

Design choices, made before any run:
- "much higher latent dimension ... 128 or 256 for most problems" is a recommendation over the asker's
  4: we read it as "each of LSTM(128) and LSTM(256) has a higher test accuracy than LSTM(4)", paired by
  seed (Better), by more than the smallest effect of interest `smallest_effect` = 2 accuracy points:
  a recommendation to multiply the units by 32-64 (and the parameters by over 1,000) is only worth
  following for a gain a practitioner would notice; 2 points is the smallest such gain on a 9-class task
  and the lab's usual accuracy margin. A gain equivalent to 0 within +-2 points (TOST, Better's
  equivalence_margin) counts against the claim, so "no better" refutes rather than stays inconclusive.
  Both sizes must win (AllOf, Holm over the two comparisons). A significant gain whose 90% CI lies inside
  +-2 points is negligible and refutes too: equivalence is tested first (verdict.decide, issue 27).
- Reported, not judged: 128 and 256 against a moderate LSTM(32) (whether "much higher" than a usual
  size helps too), every arm's test accuracy, training seconds (the wall time of model.fit, validation
  included) and parameter count: the price of the recommendation.
- Training: Adam (learning rate 3e-3), batch 64, 1,024 training sequences, Keras' default
  initialisation, no regularisation. Every arm trains until its validation loss has not improved for
  `patience` (10) epochs, at most `epochs` (400), and keeps the weights of its best epoch (PLATEAU; the
  validation split, never the test split). Why not a fixed budget: at the former 15 epochs every size was
  still improving fast (the quick run of 2026-12-05: training accuracy up 5-23 points over the last fifth
  of the epochs), so E10b would have said which size learns fastest, not which one the task needs.
- E10a builds each swept size on the task's input_dim (symbols + 1 = 4 features) and a second input
  size (32 features, as in the Keras docs' examples): real keras LSTM layers, counts read from Keras.

What a verdict here covers: one small generated task on CPU. The SETTINGS below add a 5x more
patient stop (bigger LSTMs may need longer, or over-fit with longer) and a harder memory task (40 steps, 3 marks, 27
classes), where capacity should matter more; the scope report (results/lstm_units/scope.md) says in
which of them each verdict holds.
"""

import time
from types import SimpleNamespace

import numpy as np

from claimlab import train
from claimlab.checks import fresh_keras
from claimlab.data import digest_of
from claimlab.domains import Integer, Real
from claimlab.spec import Claim, DatasetInfo, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, Better, Exact, IfDiverged, Level, Plateau, Summarize

SOURCE_FILE = "002_6725717de9344925.txt"
QUESTION = "How to interpret clearly the meaning of the units parameter in Keras?"

TITLE = "LSTM units: the parameter count, and whether 128 or 256 units beat the asker's 4"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="E10a",
        kind="exact",
        quote=(
            "To be really precise, there will be two groups of units, one working on the raw inputs, the other "
            "working on already processed inputs coming from the last step. Due to the internal structure, each "
            "group will have a number of parameters 4 times bigger than the number of units (this 4 is not "
            "related to the image, it's fixed)."
        ),
        source=Source(SOURCE_FILE, "157", QUESTION),
        hypothesis=(
            "For every swept size (4 to 256 units) and two input sizes, a keras LSTM(units) has an input kernel of "
            "input_dim x 4*units, a recurrent kernel of units x 4*units, a bias of 4*units, and "
            "4*(units*(input_dim + units) + units) parameters."
        ),
        rule="e10a_rule",
    ),
    Claim(
        id="E10b",
        kind="empirical",
        quote=(
            "if return_sequences is true, otherwise only the last h will be emmited making it (batch_size, 4). "
            "I would recommend using a much higher latent dimension, perhaps 128 or 256 for most problems."
        ),
        source=Source(SOURCE_FILE, "177", QUESTION),
        hypothesis=(
            "On a generated sequence task that needs memory, a single LSTM layer of 128 units and one of 256 units "
            "each reach a higher test accuracy than the asker's LSTM(4), by more than the smallest effect; "
            "training time and parameters are reported."
        ),
        rule="e10b_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "length": Integer(16, min=2),  # steps per sequence
    "symbols": Integer(3, min=2),  # one-hot symbols per step (plus one marker channel)
    "marks": Integer(2, min=1),  # marked steps; the label is their symbols in order: symbols**marks classes
    "train_size": Integer(1024, min=1),
    "val_size": Integer(256, min=1),
    "test_size": Integer(512, min=1),
    "epochs": Integer(400, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(64, min=1),
    "learning_rate": Real(3e-3, min=0, min_open=True),
    "check_input_dim": Integer(32, min=1),  # E10a's second input size
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E10b: the smallest test-accuracy gain of 128 or 256 units over 4 worth the recommendation (2 points);
    # a gain equivalent to 0 within +-2 points refutes (see the module docstring).
    "smallest_effect": Real(0.02, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    if cfg["marks"] > cfg["length"]:
        return [f"marks={cfg['marks']} must be at most length={cfg['length']}: the marked steps are distinct"]
    return []


def chance(cfg) -> float:
    return 1.0 / cfg["symbols"] ** cfg["marks"]


def IF_DIVERGED(cfg):  # noqa: N802 (the registry reads IF_DIVERGED; chance depends on the task's classes)
    return {
        "test/accuracy": IfDiverged.scores(chance(cfg), "chance: 1 / symbols**marks balanced classes"),
        "time/train_seconds": IfDiverged.kept("a timing, reported only: divergence does not change it"),
        "params/total": IfDiverged.kept("fixed by the architecture, reported only"),
    }


PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)


def LEVELS(cfg):  # noqa: N802 (the registry reads LEVELS; chance depends on the task's classes)
    return {"test/accuracy": Level(chance(cfg), 1.0, "1 / symbols**marks balanced classes"),
            "*": Level.unbounded("a timing and a parameter count")}


PROFILES = {
    "smoke": {"epochs": 2, "patience": 1, "train_size": 128, "val_size": 64, "test_size": 64},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The answer recommends 128-256 units "for most problems": the scope varies the training budget and how
# much the task asks the state to remember. The task is generated: there is no published accuracy.
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("marked recall, 16 steps, 2 marks of 3 symbols (9 classes), to a val/loss plateau "
                       "(patience 10, at most 400 epochs)",
                       "the lab's reference setting: six LSTM sizes over many seeds on 2 cores"),
    "long_budget": Setting("marked recall, 16 steps, 2 marks (9 classes), to a val/loss plateau (patience 50, at "
                           "most 2000 epochs)", "a 5x more patient stop: a small LSTM may only need longer, and a big one may over-fit "
                           "1,024 sequences with longer", {"epochs": Times(5), "patience": Times(5)}),
    "long_memory": Setting("marked recall, 40 steps, 3 marks of 3 symbols (27 classes), to a val/loss plateau",
                           "a harder memory task: three symbols held over longer sequences, where the size of the "
                           "state should matter more", {"length": 40, "marks": 3}),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ASKER_UNITS = 4  # line 123: model.add(LSTM(4, input_shape=(1, look_back)))
UNITS = (4, 16, 32, 64, 128, 256)
ARMS = {f"units_{u}": {"units": u} for u in UNITS}


# ---- E10a: the exact count ------------------------------------------------------------------------
def lstm_parameter_formula(units: int, input_dim: int) -> int:
    """Two groups of weights of 4*units columns (on the inputs, on the previous h) and a 4*units bias."""
    return 4 * (units * (input_dim + units) + units)


def lstm_parameter_counts(cfg):
    """E10a: a real keras LSTM(units) for every swept size, on the task's features and on check_input_dim:
    its parameter count, and on the task's features its weight shapes (kernel, recurrent kernel, bias)."""

    keras = fresh_keras()
    task_input_dim = cfg["symbols"] + 1
    measured = {}
    for input_dim in (task_input_dim, cfg["check_input_dim"]):
        for units in UNITS:
            inputs = keras.Input(shape=(None, input_dim))
            lstm = keras.layers.LSTM(units)
            keras.Model(inputs, lstm(inputs))
            measured[f"params_units_{units}_in_{input_dim}"] = int(lstm.count_params())
            if input_dim == task_input_dim:
                cell = lstm.cell
                measured[f"weight_shapes_units_{units}"] = [[int(n) for n in w.shape] for w in
                                                           (cell.kernel, cell.recurrent_kernel, cell.bias)]
    return measured


def e10a_rule(cfg):
    task_input_dim = cfg["symbols"] + 1
    expect = {f"params_units_{units}_in_{input_dim}": lstm_parameter_formula(units, input_dim)
              for input_dim in (task_input_dim, cfg["check_input_dim"]) for units in UNITS}
    expect.update({f"weight_shapes_units_{units}": [[task_input_dim, 4 * units], [units, 4 * units], [4 * units]]
                   for units in UNITS})
    return Exact(lstm_parameter_counts, expect=expect,
                 note="Each swept size on the task's symbols + 1 features and on check_input_dim features: Keras' "
                      "parameter count against 4*(units*(input_dim + units) + units); on the task's features the "
                      "weight shapes [kernel, recurrent kernel, bias] against [[input_dim, 4*units], "
                      "[units, 4*units], [4*units]]: the answer's two groups, each 4 times the units wide.")


# ---- E10b: the empirical rule ---------------------------------------------------------------------
def e10b_rule(cfg):
    effect = cfg["smallest_effect"]
    asker = f"units_{ASKER_UNITS}"
    return AllOf(
        Better("test/accuracy", "units_128", than=asker, smallest_effect=effect, equivalence_margin=effect),
        Better("test/accuracy", "units_256", than=asker, smallest_effect=effect, equivalence_margin=effect),
        also_report=[Better("test/accuracy", "units_128", than="units_32", smallest_effect=effect),
                     Better("test/accuracy", "units_256", than="units_32", smallest_effect=effect),
                     Summarize("test/accuracy", list(ARMS)),
                     Summarize("time/train_seconds", list(ARMS)),
                     Summarize("params/total", list(ARMS))],
    )


# ---- data -----------------------------------------------------------------------------------------
def marked_recall(n: int, cfg: dict, rng) -> tuple:
    """n sequences (n, length, symbols + 1) and labels: the marked steps' symbols, in order, as one class."""
    length, symbols, marks = cfg["length"], cfg["symbols"], cfg["marks"]
    sequence = rng.integers(0, symbols, size=(n, length))
    x = np.zeros((n, length, symbols + 1), dtype="float32")
    x[np.arange(n)[:, None], np.arange(length)[None, :], sequence] = 1.0
    positions = np.sort(np.argsort(rng.random((n, length)), axis=1)[:, :marks], axis=1)  # distinct, in order
    x[np.arange(n)[:, None], positions, symbols] = 1.0
    marked = np.take_along_axis(sequence, positions, axis=1)
    y = (marked * symbols ** np.arange(marks - 1, -1, -1)).sum(axis=1)  # base-`symbols` digits, first mark first
    return x, y.astype("int64")


def load_task(cfg) -> SimpleNamespace:
    """train / val / test splits, drawn from one generator seeded by data_seed."""
    rng = np.random.default_rng([cfg["data_seed"], 10])
    data = {}
    for split in ("train", "val", "test"):
        data[f"x_{split}"], data[f"y_{split}"] = marked_recall(cfg[f"{split}_size"], cfg, rng)
    return SimpleNamespace(**data, num_classes=cfg["symbols"] ** cfg["marks"])


def dataset_info(cfg, data) -> DatasetInfo:
    digest = digest_of([getattr(data, f"{part}_{split}") for split in ("train", "val", "test") for part in ("x", "y")])
    profile = {split: len(getattr(data, f"y_{split}")) for split in ("train", "val", "test")}
    profile.update(length=cfg["length"], features=cfg["symbols"] + 1, classes=data.num_classes)
    return DatasetInfo(name="marked_recall", digest=digest, source="numpy: experiments/lstm_units.py",
                       profile=profile)


def prepare(cfg):
    """Called once by the runner before any trial: a task that cannot be generated fails here, fast."""
    load_task(cfg)


# ---- model ----------------------------------------------------------------------------------------
def build_model(units, length, features, num_classes, learning_rate):
    import keras
    from keras import layers

    inputs = keras.Input(shape=(length, features))
    x = layers.LSTM(units, name="lstm")(inputs)
    outputs = layers.Dense(num_classes, activation="softmax", name="softmax")(x)
    model = keras.Model(inputs, outputs, name=f"lstm_{units}")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


# ---- one trial ------------------------------------------------------------------------------------
def run_trial(arm, seed, cfg):
    data = load_task(cfg)
    model = build_model(cfg["units"], cfg["length"], cfg["symbols"] + 1, data.num_classes, cfg["learning_rate"])
    started = time.perf_counter()
    history = train.fit(model, data, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    seconds = time.perf_counter() - started
    metrics = {
        **train.evaluate(model, data.x_test, data.y_test, "test"),
        "time/train_seconds": float(seconds),
        "params/total": float(model.count_params()),
        "params/lstm": float(model.get_layer("lstm").count_params()),
        "diverged": float(train.diverged(history)),
    }
    return TrialResult(metrics=metrics, history=history, datasets=[dataset_info(cfg, data)])
