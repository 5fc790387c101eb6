"""One matrix multiplication per batch, and full-batch vs per-sample vs mini-batch updates. From the
question "Can an entire series of inputs be computed at the same time with a single matrix
multiplication?" and its self-answer (sources/001_448bd649d2fb709b.txt, lines 14-28).

The asker computes a Dense layer as output = matmul(input, weights) and asks whether 100 inputs (100x10)
can go through one matmul (weights 10x2, output 100x2). The self-answer (lines 27-28): yes for prediction
("an entire matrix multiplication of num_inputs by input_size can be run to compute all inputs in
parallel"), but training on all inputs at once "is like running a network with a batch size equal to
the number of inputs. The weights do not get updated between inputs"; "with a reasonable batch size, you
can do 2d matrix multiplications ... in order to speed up training."

Two ids:

    E4a (exact)      a real keras Dense layer applied to a batch of N inputs gives the same outputs as
                     applying it to each input alone (and as numpy's x @ W + b in float64), and its output
                     shape is (N, units); the asker's back-propagation formula weights_err =
                     matmul(transpose(input), output_err) is the gradient TensorFlow computes for the batch.
    E4b (empirical)  with the same number of epochs, mini-batch updates (batch 32) reach a higher test
                     accuracy than full-batch updates (one update per epoch), and they train faster per
                     example than per-sample updates (batch 1).

Arms (every arm: the same MLP, Flatten -> Dense(64, relu) -> Dense(classes, softmax); Adam with learning
rate 1e-3, sparse categorical cross-entropy, the same number of epochs, shuffled every epoch):
    full_batch   batch size = the whole training split (one update per epoch)
    per_sample   batch size 1 (one update per example)
    minibatch    batch size 32

Design choices, made before any run:
- One optimiser and learning rate for all arms: Adam at Keras' default 1e-3, fixed before any run, no
  tuning per arm. This is the practitioner's setting the answer speaks to ("a reasonable batch size"),
  not a test of the best possible full-batch rate; that full batch with a tuned rate might do better is a
  limit of this reading, stated in the results.
- The budget is epochs (passes over the data), the same for every arm: the answer contrasts how often
  the weights are updated for the same data seen. Default 10 epochs on scikit-learn's digits (1,068
  training images): 10 updates for full batch, 340 for batch 32, 10,680 for batch 1.
- "speed up training" is read as throughput, examples trained per second. Wall time depends on the load
  of the machine, so the judged speed metric is a ratio measured inside one trial, back to back on the
  same machine state: after training, a copy of the trained model (same weights, a fresh Adam) trains one
  pass over `probe_examples` training examples at batch 1 and one at the arm's batch size (capped at
  probe_examples), each after a warm-up call that traces the step; `speed/throughput_ratio` = examples/s
  at the arm's batch / examples/s at batch 1 (exactly 1 for per_sample, by construction). The whole
  training's wall seconds and examples/second (including Keras' tracing) are reported, not judged.
  The probe passes over 512 examples so that model.fit's constant per-call cost does not hide the per-step
  cost: the first smoke run (64 examples: 2 steps at batch 32) gave a ratio near 1 for mini-batch, a
  measurement dominated by that overhead; probe_examples was raised before any quick or full run.
- E4b's rule (AllOf, Holm over the two refute paths):
  (1) Better("test/accuracy", minibatch, than full_batch), smallest effect 2 accuracy points (the
      smallest difference that would make a practitioner pick one batch size over another); a difference
      equivalent to 0 within +-2 points refutes (the answer says full batch "does not in fact work").
  (2) Better("speed/throughput_ratio", minibatch, than per_sample), smallest effect 1.0 (mini-batch at
      least twice the examples/second of batch 1; a smaller speed-up would not "speed up training" in any
      way that matters); a ratio difference equivalent to 0 within +-1.0 refutes.
  Reported, not judged: per_sample vs minibatch test accuracy (the answer's "step by step" updates may
  well match mini-batch per epoch: it only says mini-batch is faster), test accuracy per arm, validation
  accuracy per epoch (history), train seconds, examples/second, test accuracy per training second.
- E4a: the question's own sizes (100 inputs of 10 features, Dense(2)) and the run's test split through a
  Dense(units) layer of the trial's MLP width, with random non-zero biases. Tolerance `batch_tolerance`
  = 1e-5 on outputs of order 1: float32 (machine epsilon 1.2e-7) sums of at most 64 products may be
  accumulated in another order by the batched kernel than by the one-row kernel, an error around 1e-6;
  1e-5 leaves ten times that. The gradient check uses the same tolerance relative to the gradient's size.

What a verdict here covers: a small MLP on small data on a CPU. The SETTINGS add 5x the epochs (full
batch gets 50 updates: does it catch up?), a wider and deeper MLP, and MNIST-1D as a second dataset.
"""

from claimlab import data as datasets
from claimlab import checks, train
from claimlab.checks import max_abs_difference, shape_of
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.spec import Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, AtMost, Better, Exact, IfDiverged, Level, Summarize

SOURCE_FILE = "001_448bd649d2fb709b.txt"
QUESTION = "(untitled) Can an entire series of inputs be computed at the same time with a single matrix multiplication?"

TITLE = "One matmul per batch; full-batch vs per-sample vs mini-batch updates at the same number of epochs"

CLAIMS = [
    Claim(
        id="E4a",
        kind="exact",
        quote=(
            "My question is this: Can an entire series of inputs be computed at the same time with a single matrix "
            "multiplication? It seems like you could compute\n"
            "output = matmul(input, weights)\n"
            "Where there are 100 inputs total, and input is 100x10, weights is 10x2, and output is 100x2.\n"
            "weights_err = matmul(transpose(input), output_err)"
        ),
        source=Source(SOURCE_FILE, "17-22", QUESTION),
        hypothesis=(
            "A keras Dense layer applied to a batch of N inputs gives, up to float32 round-off, the same outputs as "
            "applied to each input alone (and as x @ W + b in float64), with output shape (N, units): (100, 2) for "
            "the question's 100x10 inputs and 10x2 weights; and matmul(transpose(input), output_err) is the "
            "batch's kernel gradient."
        ),
        rule="e4a_rule",
    ),
    Claim(
        id="E4b",
        kind="empirical",
        quote=(
            "Essentially, computing all inputs in this way is like running a network with a batch size equal to the "
            "number of inputs. The weights do not get updated between inputs, but rather all at once. And so while "
            "it seems that calculating together would be valid, it makes it so that each input does not "
            "individually influence the training step by step. However, with a reasonable batch size, you can do 2d "
            "matrix multiplications, where the input is batch_size by input_size in order to speed up training."
        ),
        source=Source(SOURCE_FILE, "27", QUESTION),
        hypothesis=(
            "With the same number of epochs and the same optimiser (Adam 1e-3), a small MLP trained with mini-batches "
            "of 32 reaches a higher test accuracy than trained full-batch (one update per epoch), and trains more "
            "examples per second than with per-sample updates (batch 1), measured as a ratio inside each trial."
        ),
        rule="e4b_rule",
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("digits", choices=("digits", "mnist1d")),
    "hidden_units": Sizes((64,), min=1),
    "epochs": Integer(10, min=1),
    "learning_rate": Real(1e-3, min=0, min_open=True),  # Adam, the same for every arm, fixed before any run
    "minibatch_size": Integer(32, min=2),
    "probe_examples": Integer(512, min=2),  # E4b's in-trial throughput probe: one timed pass over this many examples
    "check_batch": Integer(100, min=2),  # E4a: the question's 100 inputs of 10 features through Dense(2)
    "check_bias_stddev": Real(0.5, min=0, min_open=True),
    "check_seeds": Integer(5, min=5),  # E4a: the layer's weights drawn under seeds 0..check_seeds-1
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E4a: max |batch output - per-row output| (and vs float64 numpy): float32 round-off, see the docstring.
    "batch_tolerance": Real(1e-5, min=0, min_open=True, threshold=True),
    # E4b (1): 2 test-accuracy points, the smallest gap that would change the batch size a practitioner picks.
    "smallest_effect": Real(0.02, min=0, min_open=True, threshold=True),
    # E4b (2): the throughput ratio (examples/s at the arm's batch over batch 1) must differ by at least 1.0
    # (mini-batch at least twice as fast per example as per-sample).
    "smallest_speedup": Real(1.0, min=0, min_open=True, threshold=True),
}
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: both dataset choices have 10 balanced classes"),
    "speed/throughput_ratio": IfDiverged.kept("a timing of training steps: it does not depend on the loss"),
    "train/seconds": IfDiverged.kept("a timing, reported only: divergence does not change it"),
    "train/examples_per_second": IfDiverged.kept("a timing, reported only: divergence does not change it"),
    "test/accuracy_per_train_second": IfDiverged.kept("reported only: the trial's own accuracy over its own seconds"),
}
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "test/accuracy": Level(0.1, 1.0, "both dataset choices have 10 balanced classes"),
    "*": Level.unbounded("timings, and an accuracy per second of training"),
}
PROFILES = {
    "smoke": {"epochs": 1, "probe_examples": 128},
}

# ---- scope ------------------------------------------------------------------------------------------
DIGITS_REFERENCE = datasets.reference("minibatch", datasets.DIGITS_PUBLISHED, "an MLP")
MNIST1D_REFERENCE = datasets.reference("minibatch", datasets.MNIST1D_MLP_PUBLISHED, "an MLP")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("digits, MLP 64 hidden units, 10 epochs of Adam 1e-3",
                       "the lab's reference setting: small enough to train per-sample over several seeds",
                       reference=DIGITS_REFERENCE),
    "long_budget": Setting("digits, MLP 64 hidden units, 50 epochs of Adam 1e-3",
                           "5x the training budget: full batch gets 50 updates and may catch up with mini-batch",
                           {"epochs": Times(5)}, DIGITS_REFERENCE),
    "wide_deep": Setting("digits, MLP 2 hidden layers of 256 units, 10 epochs of Adam 1e-3",
                         "more capacity and larger matmuls: the per-step cost and what each update achieves change",
                         {"hidden_units": (256, 256)}, DIGITS_REFERENCE),
    "mnist1d": Setting("MNIST-1D (3,400 training sequences), MLP 64 hidden units, 10 epochs of Adam 1e-3",
                       "the answer speaks of training in general: a second, harder dataset with more examples "
                       "per epoch", {"dataset": "mnist1d"}, MNIST1D_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ARMS = {
    "full_batch": {"batching": "full_batch"},
    "per_sample": {"batching": "per_sample"},
    "minibatch": {"batching": "minibatch"},
}


def batch_size_for(batching, num_train, cfg):
    """The arm's batch size: the whole training split, 1, or the configured mini-batch."""
    sizes = {"full_batch": num_train, "per_sample": 1, "minibatch": cfg["minibatch_size"]}
    if batching not in sizes:
        raise ValueError(f"unknown batching {batching!r}; choose one of {', '.join(sizes)}")
    return sizes[batching]


# ---- E4a: one matmul over a batch equals per-row matmuls ----------------------------------------------
def dense_batch_against_rows(x, units, cfg):
    """A keras Dense(units) with N(0, check_bias_stddev) biases on a batch x (N, features): the max |diff|
    between the batch output and each row's own output, and against numpy x @ W + b in float64; the
    output shape; and the asker's weights_err = transpose(input) @ output_err against TF's gradient."""
    import numpy as np
    import tensorflow as tf
    from keras import initializers, layers

    x = np.asarray(x, dtype="float32").reshape(len(x), -1)
    layer = layers.Dense(units, bias_initializer=initializers.RandomNormal(stddev=cfg["check_bias_stddev"]))
    batch_out = layer(x)
    rows_out = np.concatenate([np.asarray(layer(x[i:i + 1])) for i in range(len(x))])
    kernel, bias = (np.asarray(w, dtype="float64") for w in layer.get_weights())
    numpy_out = x.astype("float64") @ kernel + bias

    output_err = np.random.default_rng(0).normal(size=(len(x), units)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * output_err)  # d loss / d output = output_err
    gradient = np.asarray(tape.gradient(loss, layer.kernel), dtype="float64")
    formula = x.T.astype("float64") @ output_err.astype("float64")  # the asker's line 22
    return {
        "output_shape": shape_of(batch_out),
        "kernel_shape": shape_of(layer.kernel),
        "batch_vs_rows_max_abs_diff": max_abs_difference(batch_out, rows_out),
        "batch_vs_numpy_max_abs_diff": max_abs_difference(batch_out, numpy_out),
        "gradient_vs_formula_max_rel_diff": max_abs_difference(gradient, formula) / float(np.abs(formula).max()),
        "output_max_abs": float(np.abs(numpy_out).max()),
    }


def batch_matmul_matches_rows(cfg):
    """E4a: the question's sizes (check_batch inputs of 10 features, Dense(2)) and the run's test split
    through Dense(first hidden width)."""
    import numpy as np

    question_x = np.random.default_rng(cfg["data_seed"]).normal(size=(cfg["check_batch"], 10))
    test_x = load_data(cfg).x_test
    units = cfg["hidden_units"][0]
    differences = ("batch_vs_rows_max_abs_diff", "batch_vs_numpy_max_abs_diff", "gradient_vs_formula_max_rel_diff")

    def one_draw(seed):
        measured = {}
        for name, x, width in (("question", question_x, 2), ("test_split", test_x, units)):
            measured.update({f"{name}/{k}": v for k, v in dense_batch_against_rows(x, width, cfg).items()})
        measured["test_split/inputs"] = int(len(test_x))
        for key in differences:
            measured[key] = max(measured[f"question/{key}"], measured[f"test_split/{key}"])
        return measured

    # An identity of linear algebra holds for any weights: the largest difference over the draws is judged.
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={key: "max" for key in differences})


def e4a_rule(cfg):
    tolerance = cfg["batch_tolerance"]
    return Exact(batch_matmul_matches_rows,
                 expect={"question/output_shape": [cfg["check_batch"], 2],
                         "question/kernel_shape": [10, 2],
                         "batch_vs_rows_max_abs_diff": AtMost(tolerance),
                         "batch_vs_numpy_max_abs_diff": AtMost(tolerance),
                         "gradient_vs_formula_max_rel_diff": AtMost(tolerance)},
                 note="A keras Dense layer (Glorot kernel; N(0, check_bias_stddev) biases) on the question's "
                      "100x10 inputs with 2 units, and on the run's whole test split with the MLP's hidden width, "
                      f"from {checks.weight_draws_text(cfg)}. "
                      "Each *_diff is the largest over the two and the draws: the batch output against each row computed alone "
                      "and against numpy x @ W + b in float64; and TF's gradient of sum(output * output_err) "
                      "with respect to the kernel against the asker's matmul(transpose(input), output_err), "
                      "relative to its largest entry. The bound is float32 round-off.")


# ---- E4b ----------------------------------------------------------------------------------------------
def e4b_rule(cfg):
    """A claim about what the same number of epochs gives each batch size: an arm still improving when the
    budget ends is the measurement, not an under-trained arm (about the budget)."""
    effect, speedup = cfg["smallest_effect"], cfg["smallest_speedup"]
    return AllOf(
        Better("test/accuracy", "minibatch", than="full_batch", smallest_effect=effect, equivalence_margin=effect,
               about=["budget"]),
        Better("speed/throughput_ratio", "minibatch", than="per_sample", smallest_effect=speedup,
               equivalence_margin=speedup, about=["budget"]),
        also_report=[Better("test/accuracy", "minibatch", than="per_sample", smallest_effect=effect),
                     Summarize("test/accuracy", list(ARMS)),
                     Summarize("train/seconds", list(ARMS)),
                     Summarize("train/examples_per_second", list(ARMS)),
                     Summarize("test/accuracy_per_train_second", list(ARMS))],
    )


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    return datasets.load(cfg["dataset"], cfg["data_seed"])


def prepare(cfg):
    load_data(cfg)


# ---- model ----------------------------------------------------------------------------------------
def build_model(input_shape, num_classes, hidden_units, learning_rate):
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(inputs)
    for units in hidden_units:
        x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="mlp")
    compile_model(model, learning_rate)
    return model


def compile_model(model, learning_rate):
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])


def examples_per_second(model, x, y, batch_size, learning_rate):
    """One timed training pass over (x, y) at batch_size, on a copy of `model` (same weights, fresh Adam),
    after a warm-up call that traces the train step for this batch size."""
    import time

    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    compile_model(copy, learning_rate)
    copy.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    start = time.perf_counter()
    copy.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    return len(x) / (time.perf_counter() - start)


# ---- the trial ------------------------------------------------------------------------------------
def run_trial(arm, seed, cfg):
    """One arm, one seed, trained alone (not fused with other seeds), so its wall time is its own."""
    import time

    dataset = load_data(cfg)
    num_train = len(dataset.y_train)
    batch_size = batch_size_for(cfg["batching"], num_train, cfg)
    model = build_model(dataset.input_shape, dataset.num_classes, cfg["hidden_units"], cfg["learning_rate"])
    start = time.perf_counter()
    history = train.fit(model, dataset, cfg["epochs"], batch_size)
    seconds = time.perf_counter() - start

    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        "batch_size": batch_size,
        "updates": cfg["epochs"] * -(-num_train // batch_size),
        "params/total": model.count_params(),
        "train/seconds": seconds,
        "train/examples_per_second": cfg["epochs"] * num_train / seconds,
        "diverged": float(train.diverged(history)),
    }
    metrics["test/accuracy_per_train_second"] = metrics["test/accuracy"] / seconds

    # In-trial throughput ratio: arm's batch vs batch 1 on the same examples, back to back.
    n = min(cfg["probe_examples"], num_train)
    x, y = dataset.x_train[:n], dataset.y_train[:n]
    probe_batch = min(batch_size, n)
    one = examples_per_second(model, x, y, 1, cfg["learning_rate"])
    arm_rate = one if probe_batch == 1 else examples_per_second(model, x, y, probe_batch, cfg["learning_rate"])
    metrics.update({"speed/probe_batch_size": probe_batch, "speed/examples_per_second_batch1": one,
                    "speed/examples_per_second_arm": arm_rate, "speed/throughput_ratio": arm_rate / one})
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])
