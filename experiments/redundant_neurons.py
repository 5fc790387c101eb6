"""Redundant neurons: correlated weights in a 16-unit layer, a regulariser that decorrelates them, and
post-training quantization. From an untitled question in sources/001_448bd649d2fb709b.txt, lines 82-100.

The asker trains a head of "fully-connected layer with 64 neurons + ELU activation, fully-connected layer
with 16 neurons + ELU activation, output logistic regression layer" (lines 83-85), with Adam, Xavier
initialisation and "weight decay 1e-5/batch" (line 94), then plots the Pearson correlation (and the mean
absolute difference, MAD) between the 16 neurons' weight vectors (lines 86-89) and asks (lines 91-93):
"Can we say that there are redundant features? ... is it bad ? if so, is there any regularizer, that
penalizes redundant neuron weights, and makes neurons develop uncorrelated weights?" The one reply
(lines 96-98): "Are you using Tensorflow ? if yes, is post training quantization an option ? ... This has
some similar effect to what you need but also makes other improvements."

Six ids, the questions read as testable hypotheses and the reply as three:

    E7a (exact)      TensorFlow's post-training (dynamic range) quantization of the asker's head stores the
                     weights of its 64- and 16-neuron layers as 8-bit integers (one byte a weight instead
                     of four), each weight its float value rounded to the nearest of the 8-bit steps, and
                     the converted file is smaller than the float one ("other improvements").
    E7b (empirical)  "Can we say that there are redundant features?": training makes the 16 neurons'
                     weight vectors more correlated than they were at initialisation (same seed).
    E7c (empirical)  "is there any regularizer ... that makes neurons develop uncorrelated weights?": a
                     decorrelating kernel regulariser (below) gives a trained 16-unit layer whose neurons'
                     weights are less correlated than the asker's (baseline) layer.
    E7d (empirical)  "is it bad ?": removing the redundancy helps; the decorrelated network reaches a
                     higher test accuracy than the baseline.
    E7e (empirical)  "is post training quantization an option ?": the baseline after real post-training
                     quantization (tf.lite.TFLiteConverter, Optimize.DEFAULT) is as accurate on the test
                     set as the float baseline.
    E7f (empirical)  "This has some similar effect to what you need": quantization lowers the correlation of
                     the 16 neurons' weights, as the decorrelating regulariser does.

Task and model. scikit-learn's digits by default: 64 inputs (8x8 pixels), like the 64 ELU outputs that feed
the asker's 16-unit layer. The asker's head: Flatten -> Dense(64, elu) -> Dense(16, elu) -> output, Glorot
(Xavier) uniform kernels, Adam (1e-3), batch 32, an L2 penalty of weight_decay = 1e-5 on every kernel added
to every batch's loss (Keras' L2 regulariser: the asker's "weight decay 1e-5/batch"), trained as the
asker did, to convergence: until the validation loss has not improved for `patience` (10) epochs, at most
`epochs` (200), keeping the weights of the best epoch (PLATEAU; the validation split, never the test
split). Why not a fixed budget: at the former 30 epochs every arm was still improving (the quick run of
2026-12-05: training accuracy up 0.8-1.2 points over the last fifth of the epochs). The output is a 10-way softmax, not the asker's single logistic unit: digits
is a 10-class task with a published reference accuracy, and the layer the question is about (16 ELU units
fed by 64) is the same either way; E7a converts the asker's exact head (one logistic output).

Arms (every one is the same network but for what its name says; a seed fixes the initial weights and the
batch order of every arm alike):
    baseline        the asker's head (16 units, L2 on every kernel)
    decorrelated    the same, with the decorrelating regulariser on the 16-unit kernel (plus its L2)
    narrow          the same as baseline with 8 units instead of 16 (reported: if half of the 16 neurons
                    were redundant copies, half of them should cost no accuracy)
    baseline_int8   the baseline trained again with the same seed (TensorFlow's op determinism makes it
                    the same float model, bit for bit: its `float/...` metrics equal baseline's), then
                    converted by tf.lite.TFLiteConverter.from_keras_model with optimizations =
                    [tf.lite.Optimize.DEFAULT] (dynamic range quantization: int8 weights, float
                    activations) and evaluated by the TFLite interpreter; its test accuracy, loss and
                    redundancy are those of the quantized model (the redundancy on its int8 weights,
                    dequantized with their own scales).

The redundancy measure (the asker's figure, as numbers): the 16-unit kernel is 64 x 16, one column of 64
incoming weights per neuron. For the 120 pairs of columns: the mean |Pearson r| (`redundancy/mean_abs_r`,
the judged measure), the largest |r|, the number of pairs with |r| > redundant_pair_r = 0.5 (a strong
correlation, four standard deviations of r between two independent random 64-vectors, whose sd is
1/sqrt(63) = 0.126), and the asker's MAD (mean over the 64 inputs of |w_i - w_j|; its mean and its
smallest over the pairs). Each is measured on the trained kernel and on the same seed's initial kernel
(`..._init`); a random Glorot kernel has E|r| = sqrt(2/pi)/sqrt(63), about 0.10.

The decorrelating regulariser (`DecorrelateColumns`): strength x the mean over the 120 pairs of r_ij^2,
the squared Pearson correlations of the kernel's columns (computed in the graph: columns centred, scaled
to unit norm, their Gram matrix's off-diagonal), plus the same L2 as every other kernel. Its strength,
decorrelation = 1.0, is set before any run: at initialisation the term is about 1/63 = 0.016, and a layer
as correlated as the asker's (|r| ~ 0.5 in several pairs, mean r^2 ~ 0.1) would pay ~0.1, as much as the
cross-entropy of a net near 97% accuracy: enough to act, while 16 columns in 64 dimensions can be made
exactly uncorrelated (16 <= 63), so the penalty need not fight the data.

Design choices, made before any run:
- One smallest effect for the redundancy measure, redundancy_effect = 0.05 in mean |r|: half the mean |r|
  of random vectors (0.10); a change in mean |r| smaller than that leaves a layer as (un)correlated as a
  random one. E7b: baseline's trained minus initial mean |r| (a paired Contrast of two metrics of the same
  trial), supported if its 95% CI lies above 0, refuted if below (no equivalence path in Contrast: a flat
  measure stays inconclusive). E7c: Better on mean |r|, lower is better, decorrelated vs baseline, with
  redundancy_effect as smallest effect and equivalence margin (a regulariser that changes mean |r| by
  less than 0.05 does not "make neurons develop uncorrelated weights").
- E7d reads "is it bad ?" as "removing the redundancy raises test accuracy": Better on test accuracy,
  decorrelated vs baseline, smallest effect and equivalence margin accuracy_margin = 1 point (the lab's
  usual margin: 5 of digits' 540 test images); equivalent within +-1 point refutes "it is bad". E7d is
  read with E7c: if the regulariser did not decorrelate (E7c not supported), E7d says nothing about
  redundancy. Reported: baseline vs narrow (do the 8 extra neurons buy accuracy?), every arm's test
  and training accuracy.
- E7e reads "an option" as "costs less than 1 accuracy point": Equivalent (TOST) on test accuracy,
  baseline_int8 vs baseline, margin accuracy_margin; refuted if the difference is clear of 0 and not
  inside +-1 point (verdict.decide). A quantized model that changes no test prediction on any seed gives
  the same difference in every seed, a measured constant decided by its value: the share of test predictions unchanged by
  quantization (`quantization/agreement`) is reported beside it. Also reported: each arm's .tflite
  file size (float for the float arms, int8 for baseline_int8).
- E7f reads "similar effect to what you need" literally: quantization lowers the mean |r| of the 16-unit
  layer (on the dequantized int8 weights) below the float model's, by more than redundancy_effect: Better,
  lower is better, baseline_int8 vs baseline, smallest effect and equivalence margin redundancy_effect;
  equivalence refutes. (The charitable reading, a smaller model as dropping redundant neurons would give,
  is E7a's and E7e's file sizes.)
- E7a converts the asker's exact head (64 -> Dense 64 elu -> Dense 16 elu -> Dense 1 sigmoid) with every
  weight and bias drawn N(0, 0.1) from data_seed (non-zero like a trained net's), once without and once
  with Optimize.DEFAULT, and reads the quantized file with the TFLite interpreter. Judged: both hidden
  kernels stored as int8, 64*64 + 64*16 = 5,120 bytes for them, every dequantized weight within half a
  quantization step of its float value, the quantized file smaller. Recorded: the scales per kernel (one
  per neuron: a neuron's weights are scaled as a whole), the output kernel's type (16 weights: the
  converter leaves small tensors in float32), both file sizes.

What a verdict here covers: a small MLP head on small data, trained on CPU. The SETTINGS add a 5x more patient
stop (redundancy may grow, or shrink, with training) and MNIST-1D (40 features, a harder task where 16 units are
scarcer); the scope report (results/redundant_neurons/scope.md) says in which of them each verdict holds.
"""

import numpy as np

from claimlab import data as datasets
from claimlab import checks, train
from claimlab.domains import Integer, OneOf, Real
from claimlab.spec import Advice, Claim, Setting, Source, Times, TrialResult
from claimlab.verdict import (AllOf, AtMost, Better, Contrast, Equivalent, Exact, IfDiverged, Level, Plateau,
                              Summarize)

SOURCE_FILE = "001_448bd649d2fb709b.txt"
QUESTION = ("(untitled) I trained a network on a real-value labels … Can we say that there are redundant "
            "features? … is there any regularizer, that penalizes redundant neuron weights")

TITLE = "Redundant neurons: correlated weights, a decorrelating regulariser, and post-training quantization"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="E7a",
        kind="exact",
        quote=(
            "Are you using Tensorflow ? if yes, is post training quantization an option ?\n"
            "tensorflow.org/lite/performance/post_training_quantization\n"
            "This has some similar effect to what you need but also makes other improvements."
        ),
        source=Source(SOURCE_FILE, "96-98", QUESTION),
        hypothesis=(
            "TensorFlow's post-training (dynamic range) quantization of the asker's head stores the kernels of its "
            "64- and 16-neuron layers as int8 (5,120 bytes instead of 20,480), each weight within half a "
            "quantization step of its float value, and writes a smaller file than the float conversion."
        ),
        rule="e7a_rule",
    ),
    Claim(
        id="E7b",
        kind="empirical",
        quote=(
            "After training, I visualised weights of the layer with 16 neurons:\n"
            "UPD: figure shows neurons weights correlation (Pearson);\n"
            "Can we say that there are redundant features? I see several redundant groups of neurons: 0,4; 1,6,7 "
            "(maybe 8,11,15 too); 2,14; 12,13 (maybe) ."
        ),
        source=Source(SOURCE_FILE, "86-91", QUESTION),
        hypothesis=(
            "Training makes the weight vectors of the asker's 16-unit ELU layer more correlated: their mean |Pearson "
            "r| over the 120 neuron pairs is higher after training than at initialisation (same seed)."
        ),
        rule="e7b_rule",
    ),
    Claim(
        id="E7c",
        kind="empirical",
        quote=(
            "if so, is there any regularizer, that penalizes redundant neuron weights, and makes neurons develop "
            "uncorrelated weights?"
        ),
        source=Source(SOURCE_FILE, "93", QUESTION),
        hypothesis=(
            "A kernel regulariser that penalises the mean squared Pearson correlation between the 16 neurons' "
            "weight vectors (strength 1, on top of the asker's L2) lowers their mean |r| after training below "
            "the baseline's by more than 0.05."
        ),
        rule="e7c_rule",
    ),
    Claim(
        id="E7d",
        kind="empirical",
        quote=(
            "Can we say that there are redundant features? I see several redundant groups of neurons: 0,4; 1,6,7 "
            "(maybe 8,11,15 too); 2,14; 12,13 (maybe) .\n"
            "is it bad ?"
        ),
        source=Source(SOURCE_FILE, "91-92", QUESTION),
        hypothesis=(
            "Redundancy is bad: the network whose 16-unit layer is decorrelated by the regulariser reaches a higher "
            "test accuracy than the asker's baseline; equivalence within +-1 point counts against it."
        ),
        rule="e7d_rule",
    ),
    Claim(
        id="E7e",
        kind="empirical",
        quote="Are you using Tensorflow ? if yes, is post training quantization an option ?",
        source=Source(SOURCE_FILE, "96", QUESTION),
        hypothesis=(
            "The baseline after TFLite dynamic range quantization (int8 weights) has the float baseline's test "
            "accuracy within +-1 point (TOST, paired by seed: the same trained weights before and after)."
        ),
        rule="e7e_rule",
    ),
    Claim(
        id="E7f",
        kind="empirical",
        quote=(
            "makes neurons develop uncorrelated weights? … "
            "This has some similar effect to what you need but also makes other improvements."
        ),
        source=Source(SOURCE_FILE, "93-98", QUESTION),
        hypothesis=(
            "Post-training quantization has an effect like the decorrelating regulariser's: the mean |Pearson r| "
            "between the 16 neurons' dequantized int8 weight vectors is lower than between their float weights by "
            "more than 0.05; a change within +-0.05 counts against it."
        ),
        rule="e7f_rule",
    ),
]

# Lines of the same threads that the lab lists without a verdict: the ledger's "Not judged" section.
NOT_JUDGED = [
    Advice(
        quote=(
            "I use adam regularizer, Xavier initialization (the best of the tested), weight decay 1e-5/batch (the "
            "best of the tested), other output layers did not work as well as logistic regression (by means of "
            "precison & recall & lack of overfitting).\n"
            "I use only 10 filters in each resnet blocks (which are 10, too) to address overfitting."
        ),
        source=Source(SOURCE_FILE, "94-95", QUESTION),
        why=(
            "the asker's report of tuning on their own data, which the thread does not give: \"best of the "
            "tested\" ranks candidates it does not list, so no run could repeat the comparison."
        ),
    ),
    Advice(
        quote=(
            "Alternatively maybe you can also try to use Quantization-aware training"
        ),
        source=Source(SOURCE_FILE, "99", QUESTION),
        why=(
            "a suggestion of another tool to try, with no outcome stated; what quantizing the trained head "
            "does is measured in E7e and E7f."
        ),
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("digits", choices=("digits", "mnist1d")),
    "first_units": Integer(64, min=2),  # the asker's "fully-connected layer with 64 neurons + ELU"
    "weight_decay": Real(1e-5, min=0),  # L2 on every kernel, added to every batch's loss: the asker's "1e-5/batch"
    # the decorrelated arm: strength x mean r_ij^2 over the 16-unit kernel's column pairs
    "decorrelation": Real(1.0, min=0),
    # reported: pairs of neurons with |r| above this count as redundant
    "redundant_pair_r": Real(0.5, min=0, max=1, min_open=True, max_open=True),
    "epochs": Integer(200, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(32, min=1),
    "learning_rate": Real(1e-3, min=0, min_open=True),
    "check_seeds": Integer(5, min=5),  # E7a: the head's weights drawn under 5 seeds, the worst draw judged
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E7b, E7c, E7f: the smallest change in the mean |Pearson r| of the 16 neurons' weights that counts
    # (half the mean |r| of random 64-vectors, 0.10); also E7c's and E7f's equivalence margin.
    "redundancy_effect": Real(0.05, min=0, min_open=True, threshold=True),
    # E7d, E7e: one test-accuracy point; smallest effect and equivalence margin of E7d, E7e's margin.
    "accuracy_margin": Real(0.01, min=0, min_open=True, threshold=True),
}

CHANCE = 0.1  # both dataset choices have 10 balanced classes
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(CHANCE, "chance: both dataset choices have 10 balanced classes"),
    "train_eval/accuracy": IfDiverged.scores(CHANCE, "chance: both dataset choices have 10 balanced classes"),
    "test/loss": IfDiverged.excluded("a diverged net's loss is not finite (reported only)"),
    "redundancy/*_init": IfDiverged.kept("measured on the initial weights, before training"),
    "redundancy/*": IfDiverged.excluded("a diverged net's weights are not finite: no correlation to measure"),
    "quantization/*": IfDiverged.excluded("a diverged net's predictions are not finite"),
    "model/*": IfDiverged.kept("fixed by the architecture, reported only"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "*accuracy": Level(CHANCE, 1.0, "both dataset choices have 10 balanced classes"),
    "*": Level.unbounded("correlations, shares of agreeing predictions, sizes in bytes and a loss"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The asker's question is about a trained layer in general: the scope varies the training budget (the
# asker trained to convergence; redundancy may grow or shrink with training) and the data.
DIGITS_REFERENCE = datasets.reference("baseline", datasets.DIGITS_PUBLISHED, "an MLP")
MNIST1D_REFERENCE = datasets.reference("baseline", datasets.MNIST1D_MLP_PUBLISHED, "an MLP")
# Its trials convert each trained model with TensorFlow Lite and evaluate it in the TFLite interpreter (E7a,
# E7e, E7f): they need TensorFlow itself (claimlab.backend).
BACKEND = "tensorflow"
TENSORFLOW_BECAUSE = "its trials quantize each trained model with TensorFlow Lite and run the TFLite interpreter"
SETTINGS = {
    "default": Setting("digits (64 inputs), the asker's head 64-16 ELU, to a val/loss plateau (patience 10, at "
                       "most 200 epochs)", "the lab's reference setting: the asker's layer sizes on 64 inputs, over many seeds on "
                       "2 cores", reference=DIGITS_REFERENCE),
    "long_budget": Setting("digits, the asker's head 64-16 ELU, to a val/loss plateau (patience 50, at most 1000 "
                           "epochs)", "a 5x more patient stop: the asker looked at a trained layer; correlations between "
                           "neurons may grow (or fade) as training goes on, and so may their cost",
                           {"epochs": Times(5), "patience": Times(5)}, DIGITS_REFERENCE),
    "mnist1d": Setting("MNIST-1D (40 inputs), the asker's head 64-16 ELU, to a val/loss plateau",
                       "a second dataset, harder (an MLP reaches ~68%), where 16 units are scarcer and "
                       "duplicated neurons would cost more", {"dataset": "mnist1d"}, MNIST1D_REFERENCE),
}

UNITS = 16  # the asker's layer with 16 neurons
NARROW_UNITS = 8
ARMS = {
    "baseline": {"units": UNITS, "decorrelate": False, "quantize": False},
    "decorrelated": {"units": UNITS, "decorrelate": True, "quantize": False},
    "narrow": {"units": NARROW_UNITS, "decorrelate": False, "quantize": False},
    "baseline_int8": {"units": UNITS, "decorrelate": False, "quantize": True},
}
STUDIED_LAYER = "hidden_2"  # the 16-unit layer (8 in the narrow arm)


# ---- the redundancy measure -----------------------------------------------------------------------
def redundancy(kernel, threshold: float) -> dict:
    """The asker's figures as numbers, for a kernel of shape (inputs, units): each column is one neuron's
    incoming weights. Over the units*(units-1)/2 pairs of columns: mean and max |Pearson r|, the pairs with
    |r| > threshold, and the mean and smallest mean absolute difference (MAD) between the two columns."""
    kernel = np.asarray(kernel, dtype="float64")
    units = kernel.shape[1]
    pairs = np.triu_indices(units, 1)
    r = np.abs(np.corrcoef(kernel.T)[pairs])
    mad = np.abs(kernel[:, :, None] - kernel[:, None, :]).mean(axis=0)[pairs]
    return {"mean_abs_r": float(r.mean()), "max_abs_r": float(r.max()), "pairs_above": float((r > threshold).sum()),
            "mean_mad": float(mad.mean()), "min_mad": float(mad.min())}


def decorrelate_columns_class():
    """The Keras regulariser class, made on first use so that importing this module needs no Keras."""
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="claimlab_redundant_neurons")
    class DecorrelateColumns(keras.regularizers.Regularizer):
        """strength x the mean over column pairs (i < j) of r_ij^2, the squared Pearson correlation of
        columns i and j of the kernel (one column per neuron), plus l2 x the sum of squared weights."""

        def __init__(self, strength: float, l2: float = 0.0, epsilon: float = 1e-12):
            self.strength, self.l2, self.epsilon = float(strength), float(l2), float(epsilon)

        def __call__(self, kernel):
            units = kernel.shape[-1]
            centred = kernel - ops.mean(kernel, axis=0, keepdims=True)
            unit = centred / ops.sqrt(ops.sum(ops.square(centred), axis=0, keepdims=True) + self.epsilon)
            r = ops.matmul(ops.transpose(unit), unit)  # (units, units): Pearson r of every pair of columns
            off_diagonal = 1.0 - ops.eye(units, dtype=kernel.dtype)
            mean_r2 = ops.sum(ops.square(r) * off_diagonal) / (units * (units - 1))
            return self.strength * mean_r2 + self.l2 * ops.sum(ops.square(kernel))

        def get_config(self):
            return {"strength": self.strength, "l2": self.l2, "epsilon": self.epsilon}

    return DecorrelateColumns


# ---- model ----------------------------------------------------------------------------------------
def build_model(units, decorrelate, input_shape, num_classes, cfg, output_activation="softmax"):
    """The asker's head: Dense(first_units, elu) -> Dense(units, elu) -> output, Glorot (Xavier) kernels,
    L2 weight decay on every kernel; the decorrelating regulariser on the second kernel when asked."""
    import keras
    from keras import layers

    decay = cfg["weight_decay"]
    studied = (decorrelate_columns_class()(cfg["decorrelation"], decay) if decorrelate
               else keras.regularizers.L2(decay))
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(inputs)
    x = layers.Dense(cfg["first_units"], activation="elu", kernel_initializer="glorot_uniform",
                     kernel_regularizer=keras.regularizers.L2(decay), name="hidden_1")(x)
    x = layers.Dense(units, activation="elu", kernel_initializer="glorot_uniform", kernel_regularizer=studied,
                     name=STUDIED_LAYER)(x)
    outputs = layers.Dense(num_classes, activation=output_activation, kernel_initializer="glorot_uniform",
                           kernel_regularizer=keras.regularizers.L2(decay), name="output")(x)
    model = keras.Model(inputs, outputs, name=f"head_{units}" + ("_decorrelated" if decorrelate else ""))
    loss = "sparse_categorical_crossentropy" if output_activation == "softmax" else "binary_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(cfg["learning_rate"]), loss=loss, metrics=["accuracy"])
    return model


def studied_kernel(model) -> np.ndarray:
    return np.asarray(model.get_layer(STUDIED_LAYER).kernel)


# ---- TensorFlow Lite: convert, run, read the int8 weights --------------------------------------------
# Silenced: the converter prints 'Saved artifact at ...' and the SavedModel's signature, the interpreter a
# deprecation warning and a delegate notice, all straight to the file descriptors.
def to_tflite(model, quantize: bool) -> bytes:
    """The model as a .tflite file: float32, or with dynamic range quantization (Optimize.DEFAULT)."""
    tf = train.import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    with train.silenced(python_warnings=True):
        return converter.convert()


def interpreter_for(content: bytes):
    tf = train.import_tensorflow()
    with train.silenced(python_warnings=True):
        interpreter = tf.lite.Interpreter(model_content=content)
        interpreter.allocate_tensors()
    return interpreter


def tflite_predict(content: bytes, x) -> np.ndarray:
    """The .tflite model's outputs on all of x at once (its input resized to x's batch, one invoke)."""
    interpreter = interpreter_for(content)
    index = interpreter.get_input_details()[0]["index"]
    with train.silenced(python_warnings=True):
        interpreter.resize_tensor_input(index, list(x.shape))
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, np.ascontiguousarray(x, dtype="float32"))
        interpreter.invoke()
    return np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


def stored_weights(content: bytes, model) -> dict:
    """{layer name: (dtype name, values, scales)} of the kernel of each of the model's Dense layers as the
    .tflite file stores it: (units, inputs), found by its layer's name and that shape; dequantized
    (values x the scale of their channel) when stored as int8."""
    kernels = {layer.name: tuple(int(s) for s in reversed(layer.kernel.shape)) for layer in model.layers
               if layer.__class__.__name__ == "Dense"}
    interpreter = interpreter_for(content)
    found = {}
    for detail in interpreter.get_tensor_details():
        layer = next((name for name, shape in kernels.items() if f"/{name}" in detail["name"]
                      and tuple(int(s) for s in detail["shape"]) == shape), None)
        if layer is None or layer in found:
            continue
        values = np.array(interpreter.get_tensor(detail["index"]), dtype="float64")
        quantization = detail["quantization_parameters"]
        scales = np.asarray(quantization["scales"], dtype="float64")
        if detail["dtype"] == np.int8:
            shape = [1, 1]
            shape[quantization["quantized_dimension"]] = -1
            zero = np.asarray(quantization["zero_points"], dtype="float64").reshape(shape)
            values = (values - zero) * scales.reshape(shape)
        found[layer] = (np.dtype(detail["dtype"]).name, values, scales)
    return found


def sparse_cross_entropy(probabilities, y) -> float:
    """Keras' sparse categorical cross-entropy on probabilities (clipped to [1e-7, 1 - 1e-7] as Keras does)."""
    p = np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1 - 1e-7)
    return float(-np.log(p).mean())


# ---- E7a: the exact check -------------------------------------------------------------------------
def quantized_head_storage(cfg):
    """E7a: the asker's head (64 inputs -> 64 elu -> 16 elu -> 1 sigmoid) with N(0, 0.1) weights and biases,
    converted without and with Optimize.DEFAULT: how the quantized file stores each kernel, and the sizes."""

    head = {**cfg, "first_units": 64}

    def one_draw(seed):
        model = build_model(UNITS, False, (64,), 1, head, output_activation="sigmoid")
        rng = np.random.default_rng([cfg["data_seed"], 7, seed])
        model.set_weights([rng.normal(0, 0.1, size=w.shape).astype("float32") for w in model.get_weights()])
        float_file, int8_file = to_tflite(model, quantize=False), to_tflite(model, quantize=True)
        stored = stored_weights(int8_file, model)
        hidden = ("hidden_1", STUDIED_LAYER)
        steps = []  # per hidden kernel: max |dequantized - float| in units of that neuron's quantization step
        for name in hidden:
            dequantized, scales = stored[name][1], stored[name][2]
            kernel = np.asarray(model.get_layer(name).kernel, dtype="float64").T  # (units, inputs), as TFLite stores
            steps.append(float((np.abs(dequantized - kernel) / scales.reshape(-1, 1)).max()))
        return {
            "hidden_kernel_dtypes": [stored[name][0] for name in hidden],
            "hidden_kernel_bytes": int(sum(stored[name][1].size for name in hidden if stored[name][0] == "int8")),
            "hidden_kernel_float32_bytes": int(sum(4 * stored[name][1].size for name in hidden)),
            "max_rounding_error_in_steps": max(steps),
            "scales_per_hidden_kernel": [int(stored[name][2].size) for name in hidden],
            "output_kernel_dtype": stored["output"][0],
            "float_file_bytes": len(float_file),
            "int8_file_bytes": len(int8_file),
            "file_size_ratio": len(float_file) / len(int8_file),
            "quantized_file_smaller": len(int8_file) < len(float_file),
        }

    # Round to nearest bounds the error for any weights: the worst draw is judged (the largest rounding
    # error, the fewest int8 bytes, a quantized file smaller in every draw).
    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "max_rounding_error_in_steps": "max", "hidden_kernel_bytes": "min", "quantized_file_smaller": "all"})


def e7a_context(measured):
    return (f"file: {measured['float_file_bytes']:,} bytes float32, {measured['int8_file_bytes']:,} quantized "
            f"({measured['file_size_ratio']:.2f}x smaller); scales per hidden kernel "
            f"{measured['scales_per_hidden_kernel']} (one per neuron); output kernel (16 weights) stored as "
            f"{measured['output_kernel_dtype']}")


def e7a_rule(cfg):
    return Exact(quantized_head_storage,
                 expect={"hidden_kernel_dtypes": ["int8", "int8"], "hidden_kernel_bytes": 64 * 64 + 64 * 16,
                         "max_rounding_error_in_steps": AtMost(0.5 + 1e-6), "quantized_file_smaller": True},
                 note="The asker's head (64 inputs -> Dense 64 elu -> Dense 16 elu -> Dense 1 sigmoid), every weight "
                      f"and bias N(0, 0.1) from data_seed and each draw, {checks.weight_draws_text(cfg)}, converted by tf.lite.TFLiteConverter.from_keras_model "
                      "without and with optimizations=[tf.lite.Optimize.DEFAULT]; the quantized file read by "
                      "tf.lite.Interpreter. max_rounding_error_in_steps: the largest |dequantized - float| weight "
                      "of the two hidden kernels divided by its channel's scale (round to nearest: at most 0.5).",
                 context=e7a_context)


# ---- E7b-E7f: the empirical rules -------------------------------------------------------------------
MEAN_R = "redundancy/mean_abs_r"


def e7b_rule(cfg):
    effect = cfg["redundancy_effect"]
    return AllOf(
        Contrast("trained - init", [(1.0, MEAN_R, "baseline"), (-1.0, f"{MEAN_R}_init", "baseline")],
                 "baseline's mean |Pearson r| between the 16-unit layer's neuron weight vectors after training minus "
                 "the same seed's at initialisation", smallest_effect=effect),
        also_report=[Summarize(MEAN_R, ["baseline"]), Summarize(f"{MEAN_R}_init", ["baseline"]),
                     Summarize("redundancy/pairs_above", ["baseline"]),
                     Summarize("redundancy/pairs_above_init", ["baseline"]),
                     Summarize("redundancy/max_abs_r", ["baseline"]),
                     Summarize("redundancy/min_mad", ["baseline"]), Summarize("redundancy/min_mad_init", ["baseline"])],
    )


def e7c_rule(cfg):
    effect = cfg["redundancy_effect"]
    return AllOf(
        Better(MEAN_R, "decorrelated", than="baseline", higher_is_better=False, smallest_effect=effect,
               equivalence_margin=effect),
        also_report=[Summarize(MEAN_R, ["baseline", "decorrelated"]),
                     Summarize("redundancy/pairs_above", ["baseline", "decorrelated"]),
                     Summarize("redundancy/mean_mad", ["baseline", "decorrelated"])],
    )


def e7d_rule(cfg):
    margin = cfg["accuracy_margin"]
    return AllOf(
        Better("test/accuracy", "decorrelated", than="baseline", smallest_effect=margin, equivalence_margin=margin),
        also_report=[Better("test/accuracy", "baseline", than="narrow", smallest_effect=margin,
                            equivalence_margin=margin),
                     Summarize("test/accuracy", list(ARMS)),
                     Summarize("train_eval/accuracy", list(ARMS)),
                     Summarize(MEAN_R, list(ARMS))],
    )


def e7e_rule(cfg):
    return AllOf(
        Equivalent("test/accuracy", "baseline_int8", to="baseline", margin=cfg["accuracy_margin"]),
        also_report=[Summarize("quantization/agreement", ["baseline_int8"]),
                     Summarize("model/tflite_bytes", ["baseline", "baseline_int8"]),
                     Summarize("test/loss", ["baseline", "baseline_int8"])],
    )


def e7f_rule(cfg):
    effect = cfg["redundancy_effect"]
    return AllOf(
        Better(MEAN_R, "baseline_int8", than="baseline", higher_is_better=False, smallest_effect=effect,
               equivalence_margin=effect),
        also_report=[Better(MEAN_R, "decorrelated", than="baseline_int8", higher_is_better=False,
                            smallest_effect=effect),
                     Summarize(MEAN_R, ["baseline", "baseline_int8", "decorrelated"])],
    )


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    return datasets.load(cfg["dataset"], cfg["data_seed"])


def prepare(cfg):
    """Called once by the runner before any trial: bad or unreachable data fails here, fast."""
    load_data(cfg)


# ---- one trial ------------------------------------------------------------------------------------
def run_trial(arm, seed, cfg):
    dataset = load_data(cfg)
    model = build_model(cfg["units"], cfg["decorrelate"], dataset.input_shape, dataset.num_classes, cfg)
    threshold = cfg["redundant_pair_r"]
    at_init = redundancy(studied_kernel(model), threshold)
    history = train.fit(model, dataset, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    diverged = train.diverged(history)
    trained_float = {k: np.nan for k in at_init} if diverged else redundancy(studied_kernel(model), threshold)
    float_metrics = {**train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
                     **train.evaluate(model, dataset.x_train, dataset.y_train, "train_eval")}
    metrics = {
        **{f"redundancy/{k}_init": v for k, v in at_init.items()},
        "params/total": float(model.count_params()),
        "diverged": float(diverged),
    }
    if not cfg["quantize"]:
        metrics.update(float_metrics)
        metrics.update({f"redundancy/{k}": v for k, v in trained_float.items()})
        metrics["model/tflite_bytes"] = float(len(to_tflite(model, quantize=False)))
        return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])

    # baseline_int8: the same trained float model, measured again after post-training quantization.
    metrics.update({f"float/{k}": v for k, v in float_metrics.items()})
    metrics.update({f"float/redundancy/{k}": v for k, v in trained_float.items()})
    content = to_tflite(model, quantize=True)
    metrics["model/tflite_bytes"] = float(len(content))
    if diverged:  # nothing finite to quantize: every measured value is nan (IF_DIVERGED says what they count as)
        names = ["test/accuracy", "test/loss", "train_eval/accuracy", "train_eval/loss", "quantization/agreement"]
        metrics.update({name: np.nan for name in names + [f"redundancy/{k}" for k in at_init]})
        return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])
    float_predictions = np.argmax(np.asarray(model(dataset.x_test, training=False)), axis=1)  # eager: no retracing
    for split, x, y in (("test", dataset.x_test, dataset.y_test), ("train_eval", dataset.x_train, dataset.y_train)):
        probabilities = tflite_predict(content, x)
        metrics[f"{split}/accuracy"] = float((np.argmax(probabilities, axis=1) == y).mean())
        metrics[f"{split}/loss"] = sparse_cross_entropy(probabilities, y)
        if split == "test":
            metrics["quantization/agreement"] = float((np.argmax(probabilities, axis=1) == float_predictions).mean())
    dtype, dequantized, _ = stored_weights(content, model)[STUDIED_LAYER]
    metrics["quantization/studied_kernel_is_int8"] = float(dtype == "int8")
    metrics.update({f"redundancy/{k}": v for k, v in redundancy(dequantized.T, threshold).items()})
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])
