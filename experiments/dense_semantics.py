"""What a Dense layer is and when Keras complains, measured on real Keras 3 models.

Eleven exact claims from three Q&A documents (the catalogue's X5, X6, X13, X15; X23 and X24 from issue 28's
reading of the sources; X29 from a later reading of the same thread; X35, X36, X37 and X38 from a further
reading of the threads X5 and X13 come from):

    X5  Dense(6, input_dim=3) followed by another Dense(6, input_dim=3): "The Keras model you have written
        is not valid, and it will produce an error".                       sources/001, lines 43-52
    X6  Dense(1, input_dim=3, activation='linear') "is actually just linear regression"; "The bias does
        have a weight" (its input is always 1 and its coefficient is learned). sources/001, lines 56-64
    X13 an input layer of shape (None, 5) fed 10 features: "tensorflow will raise an exception".
                                                                            sources/004, line 12
    X15 Dense(32) on 784 inputs: "[BATCHSIZE, 784] * [784, 32]", "785 x 32 … with 1 extra neuron for the
        bias unit"; and Dense(64, input_dim=20), more units than inputs.    sources/004, lines 92-97
    X23 "tf.layers.dense function … uses zero_initializer by default".      sources/000, line 113
    X24 zero biases are fine "since the symmetry breaking is provided by the small random numbers in the
        weights".                                                           sources/000, lines 104-106
    X29 "Bias (in any layer) is usually initialized with zeros": every Keras layer with a bias starts at 0.
                                                                            sources/000, line 103
    X35 "for Conv2D, you flatten the training data sets so it becomes a 1D vector and so a 28x28 image would
        mean having an input conv2d layer of 724 neurons".                  sources/004, line 7
    X36 "The shape of the output again must match (this time) the shape of your label data": Keras refuses
        to fit a model whose output shape differs from its labels'.         sources/004, line 14
    X37 "Normally you have an input layer as first layer, which does not contain any weights."
                                                                            sources/004, line 10
    X38 the Sequential API hides "an implicit input layer, and the number of its nodes is the
        dimensionality of the input".                                       sources/001, line 54

The verdict is what the installed Keras 3 / TF 2 do. Claims about errors record the exception type and
message actually raised, or that none was.

Design choices, made before any run:
- X5 builds the asker's Sequential model exactly (input_dim on both Dense layers), then predicts and
  fits on 3-feature data. Supported if any of these steps raises; refuted if none does. (Keras 2
  checked input_dim on later layers; Keras 3 reads input_dim only on a Sequential model's first layer and
  only warns about it. Whatever it does today is the verdict.)
- X6: "is linear regression" is tested by fitting: data y = x @ w + b + noise are generated with NumPy
  from data_seed (3 standard-normal features), Dense(1) is trained by full-batch gradient descent on
  the mean squared error (claimlab.train.fit), and its kernel and bias are compared with ordinary least
  squares (numpy.linalg.lstsq on [x, 1]) on the same data. Full-batch SGD on standardised features
  converges geometrically to the least-squares solution, so the numbers should agree to float32
  precision; the rule allows ols_tolerance (THRESHOLDS, 1e-3) in every coefficient and the intercept,
  from each of `check_seeds` (5) draws of the initial weights (the worst draw is judged).
  (The first run used learning rate 0.1 for 300 epochs, 28 s on a loaded machine, and was also within
  5e-7 of OLS; the defaults were changed to 0.3 for 60 epochs, which converges faster, only to save
  time. The rule did not change.) The bias's "weight" is the layer's trainable bias variable; the rule
  also asks for 4 parameters (3 weights + 1 bias).
- X13 uses the functional API (keras.Input(shape=(5,)) -> Dense(1, sigmoid)) as the answer describes
  ("an input layer of shape (None,5)"), and calls model.fit on 10-feature data; predict is recorded
  too. Supported if fit raises (any exception: the claim names none); refuted if it trains.
- X15 reads the real kernel and bias shapes, counts the parameters, and checks that the output equals
  [x, 1] @ [[kernel], [bias]], the (784+1) x 32 matrix of the "extra neuron" reading.
- X23: tf.layers.dense is TF 1's functional layer; in TF 2 it survives as tf.compat.v1.layers.dense, which
  Keras 3 removed. The rule judges keras.layers.Dense, the layer tf.layers.dense was a short-cut for (its
  bias initializer's class and a built layer's bias), and records what tf.compat.v1.layers.dense does
  (Keras 2 builds it in a TF 1 graph; Keras 3 raises).
- X24 reads "symmetry breaking" as: units of one layer that start identical receive identical gradients
  and stay identical, so something must make them differ. A 8 -> 16 -> 16 -> 4 ReLU MLP with zero biases
  is trained by full-batch SGD (50 epochs at 0.5, no shuffling) on generated data, from small random
  kernels N(0, 0.1^2) (the standard deviation of the thread's snippet; each of `check_seeds` draws, the
  worst judged) and, as the control that shows what is broken, from kernels whose every entry is 0.1.
  (The first smoke run used CS231n's 0.01 * randn: through three layers that start barely trains, 0.32
  training accuracy on 4 classes with the biases moved by 3e-4, which would make "identical after
  training" vacuous; the scale was raised to the snippet's so that training moves the weights.) Judged: the random
  start's units differ before and after training, and the equal start's units are identical before and
  after (within symmetry_tolerance, 1e-6, float32 rounding of the same arithmetic), though its biases
  trained. Both must hold: if equal units came apart on their own, the weights would not be what breaks
  the symmetry. Every layer gets the start, the output layer too: the first smoke run left the output
  layer at Keras' random default in the equal start, and that alone made the second hidden layer's units
  differ (0.39 apart after training) while the first's stayed identical. That was a control that did
  not match the hypothesis ("equal weights"), fixed before any published run; the rule did not change.
- X29 reads "Bias (in any layer)" as its scope: the claim is about every layer that has a bias, so the
  hypothesis is that every such Keras layer, created and built with its defaults, starts with every bias
  value at exactly 0. Measured on 11 layers built on small inputs (4 units or filters): Dense, Conv1D,
  Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, SimpleRNN, GRU, LSTM (the bias lives on
  layer.cell.bias), BatchNormalization and LayerNormalization (their additive offset, beta; gamma is
  recorded too, not judged). For each: the bias initializer's class name (bias_initializer, of the cell for
  the recurrent layers; beta_initializer for the normalizations), whether every bias value is 0, and which
  flat indices and values are not. Judged: every_default_bias_is_zero, True only if all 11 layers' biases
  are all exactly 0; one layer with a non-zero bias value refutes it ("usually" hedges what people choose,
  not what a default gives). Expected before any run: refuted by LSTM, whose unit_forget_bias=True default
  sets the forget gate's quarter of the bias (Keras' gate order i, f, c, o) to 1 although its
  bias_initializer is Zeros; the rule was written before the run and is not tuned to it. Also recorded:
  how many of the 11 start all-zero, and which LSTM gates are non-zero. The default bias initializers are
  constants, so no draw of the weights changes them: one build is measured, not `check_seeds` draws.
  Keras 2 (tf-keras) exposes the same attributes (layer.bias, layer.cell.bias, layer.beta, the
  initializers); only the kernels are named differently (DepthwiseConv2D's is depthwise_kernel there),
  and the check reads no kernel, so it needs no keras_major() branch.
- X35 is two statements, both judged: that a Conv2D takes the flattened image (a 1-D vector per example) as
  its input, and that a 28x28 image flattened has 724 values. The first is measured by building the model
  the sentence describes, keras.Input(shape=(784,)) -> Conv2D(64, 3) (the asker's 64-filter layer, 3x3):
  conv2d_accepts_flattened_image is True if that builds, False if it raises (the exception's class and
  message recorded). The second is measured, not computed: keras.layers.Flatten on a (2, 28, 28, 1) batch of
  the asker's greyscale images, flattened_length being its last dimension. Recorded, not judged: the same
  Conv2D on keras.Input(shape=(28, 28, 1)) (the input it does take; its output shape), and the input rank the
  layer declares (input_spec.min_ndim). Both APIs exist in Keras 2 (tf-keras), so no keras_major() branch.
- X36 reads "must match" as a rule Keras enforces: the hypothesis is that model.fit refuses (raises) whenever
  the model's output shape differs from the labels' shape. A model keras.Input(shape=(4,)) -> Dense(k) is
  fitted for one epoch (SGD, verbose 0) on 8 examples of 4 standard-normal features (data_seed), in four
  cases, each from fresh_keras(): (1) Dense(1) on (8, 3) labels, loss "mse"; (2) Dense(3) on (8, 1) labels,
  "mse"; (3) Dense(3, softmax) on (8, 5) one-hot labels, "categorical_crossentropy"; (4) Dense(10, softmax) on
  integer labels of shape (8,), "sparse_categorical_crossentropy". Case 4 is the standard use of that loss,
  where the shapes differ by design; the claim says without exception that they must match, so under it
  case 4 is a mismatch like the others, and the claim expects it to raise too. Judged: all four "..._raises"
  values True; any case that fits without raising refutes it. Recorded for each case: the output and label
  shapes, the exception's class and message or None, the final training loss of a case that trained, and for
  the MSE cases whether Keras' loss equals NumPy's mean of (prediction - label)^2 with the two broadcast
  against each other (what a mismatched MSE computes if it does not raise).
- X37 and X38 share one check: the asker's Sequential model of sources/001, Dense(6, input_dim=4) then
  Dense(3) (4 features: the iris data the answer names). The input layer is the functional graph's first
  layer, keras.Model(model.inputs, model.outputs).layers[0], which is how Keras 2 and Keras 3 both expose it.
  X37: it is an InputLayer with no weights (count_params 0, an empty weight list) while every Dense layer
  has some. X38: model.layers lists no InputLayer (hidden), the graph holds one all the same (implicit), and
  its shape is (None, 4), the input's dimensionality. The input layer's own shape is read off the layer,
  not off the data.
- Every check starts from keras.backend.clear_session(), so layer names (and so error messages) do not
  depend on which check ran before. Error messages are recorded as one plain line (no colour codes).
"""

from claimlab import checks, train
from claimlab.checks import fresh_keras, max_abs_difference, raised, shape_of
from claimlab.data import Dataset
from claimlab.domains import Integer, Real, TupleOf
from claimlab.spec import Advice, Claim, Source
from claimlab.verdict import AtMost, Exact, Raised

TITLE = ("Dense layer semantics, default biases, symmetry and input- and output-shape errors "
         "(X5 X6 X13 X15 X23 X24 X29 X35 X36 X37 X38), measured in Keras")


SOURCE_000 = "000_2706fe11d950e137.txt"
SOURCE_001 = "001_448bd649d2fb709b.txt"
SOURCE_004 = "004_6e8709b0f2e54d47.txt"
NODES_QUESTION = ("(untitled) I'm trying to teach myself machine learning … you should select the number of nodes "
                  "in your network to be a multiple of the number of features")
HIDDEN_QUESTION = "Neural network hidden layer vs. Convolutional hidden layer intuition"
UNITS_QUESTION = "Units in Dense layer in Keras"
BIAS_QUESTION = "Why are different bias values used in different types of layers"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="X5",
        kind="exact",
        quote=(
            "model.add(Dense(6,input_dim=3,activation='relu'))\n"
            "model.add(Dense(6,input_dim=3,activation='relu'))\n"
            "The Keras model you have written is not valid, and it will produce an error, since for your 2nd "
            "layer you ask for input_dim=3, while the previous one has clearly 6 outputs (nodes)."
        ),
        source=Source(SOURCE_001, "43-52", NODES_QUESTION),
        hypothesis=(
            "Sequential([Dense(6, input_dim=3), Dense(6, input_dim=3), Dense(3)]) raises an exception when it is "
            "built, used for prediction or fitted on 3-feature data."
        ),
        rule=Exact("second_layer_input_dim", expect={"raises": Raised()},
                   note="The model is built layer by layer, then predict and fit run on 8 samples of 3 features; "
                        "raises is the first exception any step raised (type, step and message recorded), None if "
                        "all three complete.",
                   context=lambda measured: second_layer_context(measured)),
    ),
    Claim(
        id="X6",
        kind="exact",
        quote=(
            "model.add(Dense(1,input_dim=3,activation='linear'))\n"
            "and that's all, i.e. it is actually just linear regression.\n"
            "The bias does have a weight. Again, the useful analogy is with the constant term of linear (or "
            "logistic) regression: the bias \"input\" itself is always 1, and its corresponding coefficient "
            "(weight) is learned through the fitting process."
        ),
        source=Source(SOURCE_001, "56-64", NODES_QUESTION),
        hypothesis=(
            "Dense(1, input_dim=3, activation='linear') has 4 trainable parameters (3 weights and a bias weight), "
            "and fitted by gradient descent on the mean squared error it reaches the ordinary-least-squares "
            "coefficients and intercept of the same data."
        ),
        rule="x6_rule",
    ),
    Claim(
        id="X13",
        kind="exact",
        quote=(
            "So basically when you train a model with 10 features, but only have a input layer of shape (None,5) "
            "(where none stands for the batch_size), tensorflow will raise an exception, because it needs data "
            "for all inputs in the correct shape."
        ),
        source=Source(SOURCE_004, "12", HIDDEN_QUESTION),
        hypothesis="model.fit of a model whose input is keras.Input(shape=(5,)) on data with 10 features raises.",
        rule="x13_rule",
    ),
    Claim(
        id="X15",
        kind="exact",
        quote=(
            "It would be 785 x 32 in that case with 1 extra neuron for the bias unit.\n"
            "so -> [BATCHSIZE, 784] * [784, 32] = [BATCHSIZE, 32] -> output dimension\n"
            "-> [BATCHSIZE, 20] * [20, 64] = [BATCHSIZE, 64] -> output dimension"
        ),
        source=Source(SOURCE_004, "92-97", UNITS_QUESTION),
        hypothesis=(
            "Dense(32) on 784 inputs has a 784 x 32 kernel and a 32-bias, 785 x 32 = 25,120 parameters, and its "
            "output equals [x, 1] times the 785 x 32 matrix of kernel and bias; Dense(64, input_dim=20) has a "
            "20 x 64 kernel and 64 outputs (more units than inputs)."
        ),
        rule=Exact("dense_kernel_shapes",
                   expect={"kernel_shape": [784, 32], "bias_shape": [32], "parameters": 785 * 32,
                           "augmented_matrix_gives_output": True, "wide_kernel_shape": [20, 64],
                           "wide_output_units": 64},
                   note="Keras keeps the bias as a separate vector; the '785 x 32' reading is checked as the "
                        "parameter count and as the augmented matrix reproducing the output."),
    ),
    Claim(
        id="X23",
        kind="exact",
        quote=(
            "Other examples: tf.layers.dense function, which is a short-cut for creating FC layers, uses "
            "zero_initializer by default"
        ),
        source=Source(SOURCE_000, "113", BIAS_QUESTION),
        hypothesis=(
            "A dense layer created without a bias initializer starts with every bias at 0: keras.layers.Dense "
            "(what tf.layers.dense became) has the Zeros bias initializer, and a built layer's bias is all 0."
        ),
        rule=Exact("dense_default_bias",
                   expect={"bias_initializer": "Zeros", "bias_all_zero": True},
                   note="tf.layers.dense itself (tf.compat.v1.layers.dense) is measured too where it exists: Keras 3 "
                        "removed it (what it raises is recorded), Keras 2 still builds it in a TF 1 graph.",
                   context=lambda measured: dense_default_bias_context(measured)),
    ),
    Claim(
        id="X24",
        kind="exact",
        quote=(
            "It is possible and common to initialize the\n"
            "biases to be zero, since the symmetry breaking is provided by the\n"
            "small random numbers in the weights."
        ),
        source=Source(SOURCE_000, "104-106", BIAS_QUESTION),
        hypothesis=(
            "With zero biases, small random weights alone make the units of a layer differ, and they stay "
            "different through training; with the same zero biases but equal weights, the units of a layer "
            "stay identical through training (the symmetry that the random weights break)."
        ),
        rule="x24_rule",
    ),
    Claim(
        id="X29",
        kind="exact",
        quote=("Bias (in any layer) is usually initialized with zeros, but random or specific small values are "
               "also possible."),
        source=Source(SOURCE_000, "103", BIAS_QUESTION),
        hypothesis=(
            "Every Keras layer with a bias, created and built with its defaults, starts with all of its biases at 0: "
            "Dense, Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, SimpleRNN, GRU, LSTM, and "
            "the offsets (beta) of BatchNormalization and LayerNormalization."
        ),
        rule=Exact("default_biases_of_layers",
                   expect={"every_default_bias_is_zero": True},
                   note="Each layer is built with its defaults on a small input; its bias is layer.bias "
                        "(layer.cell.bias for SimpleRNN, GRU and LSTM; beta for the normalizations), and "
                        "every_default_bias_is_zero holds when every value of every one of the 11 biases is exactly "
                        "0. The initializer's class, the count of all-zero layers and any non-zero indices are "
                        "recorded.",
                   context=lambda measured: default_biases_context(measured)),
    ),
    Claim(
        id="X35",
        kind="exact",
        quote=("EDIT: I just realized for Conv2D, you flatten the training data sets so it becomes a 1D vector and "
               "so a 28x28 image would mean having an input conv2d layer of 724 neurons."),
        source=Source(SOURCE_004, "7", HIDDEN_QUESTION),
        hypothesis=(
            "A Keras Conv2D layer takes a flattened image, a 1-D vector per example, as its input, and a 28x28 "
            "image flattened is a vector of 724 values."
        ),
        rule=Exact("conv2d_on_flattened_image",
                   expect={"conv2d_accepts_flattened_image": True, "flattened_length": 724},
                   note="conv2d_accepts_flattened_image: whether keras.Input(shape=(784,)) -> Conv2D(64, 3) builds "
                        "(the exception's class and message recorded if it raises); flattened_length: the last "
                        "dimension of keras.layers.Flatten on a (2, 28, 28, 1) batch of images.",
                   context=lambda measured: flattened_image_context(measured)),
    ),
    Claim(
        id="X36",
        kind="exact",
        quote="The shape of the output again must match (this time) the shape of your label data.",
        source=Source(SOURCE_004, "14", HIDDEN_QUESTION),
        hypothesis=(
            "Keras refuses to fit a model whose output shape differs from the shape of its label data: model.fit "
            "raises whenever the two differ."
        ),
        rule=Exact("output_shape_against_labels",
                   expect={"mse_fewer_outputs_than_labels_raises": True, "mse_more_outputs_than_labels_raises": True,
                           "categorical_mismatch_raises": True, "sparse_labels_of_another_shape_raise": True},
                   note="One epoch of model.fit of keras.Input(shape=(4,)) -> Dense(k) on 8 examples: output (None, 1) "
                        "on (8, 3) labels and (None, 3) on (8, 1) labels with 'mse', (None, 3) softmax on (8, 5) "
                        "one-hot labels with 'categorical_crossentropy', and (None, 10) softmax on integer labels "
                        "of shape (8,) with 'sparse_categorical_crossentropy' (the standard use of that loss: the "
                        "claim, read without exception, expects it to raise too). Each value is True if fit raised; "
                        "the exception's class, or the final loss of a case that trained, is recorded.",
                   context=lambda measured: output_shape_context(measured)),
    ),
    Claim(
        id="X37",
        kind="exact",
        quote="Normally you have an input layer as first layer, which does not contain any weights.",
        source=Source(SOURCE_004, "10", HIDDEN_QUESTION),
        hypothesis="A Keras model's input layer holds no weights.",
        rule=Exact("implicit_input_layer",
                   expect={"input_layer_class": "InputLayer", "input_layer_parameters": 0,
                           "input_layer_weight_count": 0},
                   note="The input layer of Sequential([Dense(6, input_dim=4), Dense(3)]) is the first layer of "
                        "keras.Model(model.inputs, model.outputs); its count_params() and its weight list.",
                   context=lambda measured: input_layer_context(measured)),
    ),
    Claim(
        id="X38",
        kind="exact",
        quote=("What is somewhat hidden in the Keras sequential API (which you use here) is that there is in fact "
               "an implicit input layer, and the number of its nodes is the dimensionality of the input; see own "
               "answer in Keras Sequential model input layer for details."),
        source=Source(SOURCE_001, "54", NODES_QUESTION),
        hypothesis=("A Sequential model whose first layer is Dense(6, input_dim=4) has an input layer that "
                    "model.layers does not list, and its shape is (None, 4), the input's dimensionality."),
        rule=Exact("implicit_input_layer",
                   expect={"listed_in_model_layers": False, "input_layer_class": "InputLayer",
                           "input_layer_shape": [None, 4]},
                   note="model.layers of Sequential([Dense(6, input_dim=4), Dense(3)]) against the layers of its "
                        "functional graph, keras.Model(model.inputs, model.outputs); the input layer's own shape.",
                   context=lambda measured: input_layer_context(measured)),
    ),
]

# Lines of the same threads that the lab lists without a verdict: the ledger's "Not judged" section.
NOT_JUDGED = [
    Advice(
        quote=(
            "If you only have 5 features, the next 5 features wont be fit into the net in the next iteration "
            "but, the next sample will be send to the model instead.\n"
            "(Lets say no exception is thrown) So of the next sample also only the first 5 features would be "
            "used."
        ),
        source=Source(SOURCE_004, "13", HIDDEN_QUESTION),
        why=(
            "a counterfactual, what would happen if Keras did not raise; X13 measures that it raises (a "
            "ValueError on fit), so there is no run in which only the first 5 features are used to observe."
        ),
    ),
    Advice(
        quote=("We all did; no excuse though to not benefit from Andrew Ng's free & excellent Machine Learning MOOC "
               "at Coursera."),
        source=Source(SOURCE_001, "68", NODES_QUESTION),
        why="a recommendation of a course to the asker: it says nothing about networks that a run could measure.",
    ),
]


# ---- configuration: every value the checks use, in one place ---------------------------------------
CONFIG = {
    # X6: the generated regression problem and the fit
    "regression_samples": Integer(256, min=4),  # 3 coefficients + the intercept: fewer leave OLS underdetermined
    "regression_coefficients": TupleOf((1.5, -2.0, 0.5), Real(), length=3),  # X6's model is Dense(1, input_dim=3)
    "regression_intercept": Real(3.0),
    "regression_noise": Real(0.1, min=0),
    # Plain SGD, full batch. On standardised features the MSE Hessian has eigenvalues near 2, so each step
    # shrinks the distance to the least-squares solution by about |1 - 2 * 0.3 * (0.8..1.2)| <= 0.52.
    # Below 1 or full-batch gradient descent diverges: the MSE's curvature along the intercept is 2.
    "regression_learning_rate": Real(0.3, min=0, max=1, min_open=True, max_open=True),
    "regression_epochs": Integer(60, min=1),
    "check_seeds": Integer(5, min=5),  # X6: the initial weights drawn under seeds 0..check_seeds-1
    # X13
    "input_features": Integer(5, min=1),
    "fed_features": Integer(10, min=1),
    # X24: a small MLP trained by full-batch SGD on generated data, from zero biases
    "symmetry_hidden_units": Integer(16, min=2),  # two units at least, or there is no symmetry to break
    "symmetry_weight_stddev": Real(0.1, min=0, min_open=True),  # "small random numbers", as the thread's snippet
    "symmetry_equal_weight": Real(0.1),  # the equal-weights control: every kernel entry this value
    "symmetry_epochs": Integer(50, min=1),
    "symmetry_learning_rate": Real(0.5, min=0, min_open=True),
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # X6: max |Keras - OLS| over the 3 coefficients and the intercept
    "ols_tolerance": Real(1e-3, min=0, min_open=True, threshold=True),
    # X24: two units are "identical" when no weight of theirs differs by more than this (float32 rounding of
    # the same arithmetic), "different" when some weight differs by more
    "symmetry_tolerance": Real(1e-6, min=0, min_open=True, threshold=True),
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    problems = []
    # X13 asks whether feeding a different number of features raises; the same number would just train.
    if cfg["fed_features"] == cfg["input_features"]:
        problems.append(f"fed_features={cfg['fed_features']} must differ from input_features={cfg['input_features']}")
    return problems


ARMS = {}  # exact checks only: nothing to train


def caught_warnings(action) -> list[str]:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [str(w.message) for w in caught]


# ---- X5: input_dim on the second layer --------------------------------------------------------------
def second_layer_input_dim(cfg):
    """The asker's model, built, predicted and fitted: does Keras raise anywhere?"""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    model = keras.Sequential()
    steps = {}

    def build():
        model.add(layers.Dense(6, input_dim=3, activation="relu"))
        model.add(layers.Dense(6, input_dim=3, activation="relu"))
        model.add(layers.Dense(3, activation="softmax"))

    build_warnings = []
    steps["build"] = raised(lambda: build_warnings.extend(caught_warnings(build)))
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(8, 3)).astype("float32")
    y = np.arange(8) % 3
    steps["predict"] = raised(lambda: model.predict(x, verbose=0))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    steps["fit"] = raised(lambda: model.fit(x, y, epochs=1, verbose=0))
    first_error = next((step for step in ("build", "predict", "fit") if steps[step]["raises"]), None)
    built = len(model.layers) == 3 and model.layers[1].built
    return {
        "raises": steps[first_error]["raises"] if first_error else None,
        "message": steps[first_error]["message"] if first_error else None,
        "failing_step": first_error or "none",
        "steps": steps,
        "warnings": sorted(set(build_warnings)),
        "second_layer_kernel_shape": list(model.layers[1].kernel.shape) if built else None,
        "parameters": int(model.count_params()) if built else None,
    }


# ---- X6: Dense(1) is linear regression ------------------------------------------------------------
def regression_data(cfg):
    """y = x @ w + b + noise, 3 standard-normal features, fixed by data_seed."""
    import numpy as np

    rng = np.random.default_rng(cfg["data_seed"])
    coefficients = np.asarray(cfg["regression_coefficients"], "float64")
    x = rng.normal(size=(cfg["regression_samples"], len(coefficients)))
    y = x @ coefficients + cfg["regression_intercept"] + cfg["regression_noise"] * rng.normal(size=len(x))
    return x.astype("float32"), y.astype("float32").reshape(-1, 1)


def dense_linear_regression(cfg):
    """Dense(1, input_dim=3, activation='linear') fitted by gradient descent vs numpy.linalg.lstsq, from
    check_seeds draws of its initial weights: the claim holds for any start, so the worst draw is judged."""
    import warnings

    import numpy as np

    import keras
    from keras import layers

    x, y = regression_data(cfg)
    design = np.hstack([x.astype("float64"), np.ones((len(x), 1))])  # the bias "input" is always 1
    solution, *_ = np.linalg.lstsq(design, y.astype("float64")[:, 0], rcond=None)
    empty = np.zeros((0, 3), "float32")
    data = Dataset("linear_regression", x, y, empty, empty[:, :1], empty, empty[:, :1], num_classes=0,
                   source="numpy, seeded by data_seed")

    def one_draw(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Keras 3 prefers keras.Input over input_dim=; it still accepts it
            model = keras.Sequential()
            model.add(layers.Dense(1, input_dim=3, activation="linear"))
        dense = model.layers[0]
        kernel_before = dense.kernel.numpy()[:, 0].astype("float64")
        bias_before = float(dense.bias.numpy()[0])
        model.compile(optimizer=keras.optimizers.SGD(cfg["regression_learning_rate"]), loss="mse")
        history = train.fit(model, data, cfg["regression_epochs"], batch_size=len(x), validation=False)
        keras_coefficients = dense.kernel.numpy()[:, 0].astype("float64")
        keras_intercept = float(dense.bias.numpy()[0])
        return {
            "parameters": int(model.count_params()),
            "kernel_shape": list(dense.kernel.shape),
            "bias_is_trainable_weight": any(w is dense.bias for w in dense.trainable_weights),
            "kernel_before_fit": kernel_before.tolist(),
            "bias_before_fit": bias_before,
            "keras_coefficients": keras_coefficients.tolist(),
            "keras_intercept": keras_intercept,
            "ols_coefficients": solution[:3].tolist(),
            "ols_intercept": float(solution[3]),
            "max_abs_difference_from_ols": max_abs_difference(np.append(keras_coefficients, keras_intercept), solution),
            "final_train_loss": history["train/loss"][-1],
        }

    return checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "parameters": "max", "bias_is_trainable_weight": "all", "max_abs_difference_from_ols": "max"})


# ---- X13: 10 features into a 5-feature input --------------------------------------------------------
def too_many_features(cfg):
    """keras.Input(shape=(5,)) -> Dense(1, sigmoid), fitted on 10 features (and predicted on them)."""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    inputs = keras.Input(shape=(cfg["input_features"],))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(inputs))
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(cfg["data_seed"])
    x = rng.normal(size=(32, cfg["fed_features"])).astype("float32")
    y = rng.uniform(size=(32, 1)).astype("float32")
    fit = raised(lambda: model.fit(x, y, epochs=1, verbose=0))
    predict = raised(lambda: model.predict(x, verbose=0))
    return {
        "input_shape": [None, cfg["input_features"]],
        "fed_shape": list(x.shape),
        "raises": fit["raises"],
        "message": fit["message"],
        "predict_raises": predict["raises"],
        "predict_message": predict["message"],
    }


# ---- X15: the Dense kernel --------------------------------------------------------------------------
def dense_kernel_shapes(cfg):
    """Dense(32, input_shape=(784,)) and Dense(64, activation='relu', input_dim=20), as in the question."""
    import warnings

    import numpy as np

    keras = fresh_keras()
    from keras import layers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # input_shape= / input_dim= on a first layer: Keras 3 warns, accepts
        model = keras.Sequential([layers.Dense(32, input_shape=(784,))])
        wide = keras.Sequential()
        wide.add(layers.Dense(64, activation="relu", input_dim=20))
    dense = model.layers[0]
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(4, 784)).astype("float32")
    augmented = np.vstack([dense.kernel.numpy(), dense.bias.numpy()[None, :]])  # (785, 32)
    with_ones = np.hstack([x, np.ones((len(x), 1), "float32")])
    output = np.asarray(model(x))
    return {
        "kernel_shape": list(dense.kernel.shape),
        "bias_shape": list(dense.bias.shape),
        "parameters": int(dense.count_params()),
        "augmented_matrix_shape": list(augmented.shape),
        "augmented_matrix_gives_output": bool(np.allclose(output, with_ones @ augmented, atol=1e-4)),
        "output_shape": list(output.shape),
        "wide_kernel_shape": list(wide.layers[0].kernel.shape),
        "wide_output_units": int(wide.output_shape[-1]),
        "wide_parameters": int(wide.count_params()),
    }


# ---- X23: a dense layer's default bias ----------------------------------------------------------------
def dense_default_bias(cfg):
    """keras.layers.Dense(8) built on 3 inputs, and tf.layers.dense (tf.compat.v1.layers.dense) where it exists."""
    import numpy as np

    keras = fresh_keras()
    tf = train.import_tensorflow()
    dense = keras.layers.Dense(8)
    dense.build((None, 3))
    measured = {"bias_initializer": type(dense.bias_initializer).__name__,
                "bias_all_zero": bool(np.all(np.asarray(dense.bias) == 0)), "bias_shape": list(dense.bias.shape)}

    def tf_layers_dense():  # TF 1's functional layer, in a TF 1 graph as it was used
        with tf.Graph().as_default():
            output = tf.compat.v1.layers.dense(tf.compat.v1.placeholder(tf.float32, (None, 3)), 8)
            (bias,) = [v for v in tf.compat.v1.global_variables() if "bias" in v.name]
            with tf.compat.v1.Session() as session:
                session.run(tf.compat.v1.global_variables_initializer())
                measured["tf_layers_dense_bias_all_zero"] = bool(np.all(session.run(bias) == 0))
                measured["tf_layers_dense_output_shape"] = shape_of(output)

    failure = raised(tf_layers_dense)
    measured["tf_layers_dense_raises"], measured["tf_layers_dense_message"] = failure["raises"], failure["message"]
    return measured


def dense_default_bias_context(measured):
    """X23: what tf.layers.dense itself does on the installed version."""
    if measured["tf_layers_dense_raises"]:
        return (f"tf.layers.dense itself (tf.compat.v1.layers.dense) raises {measured['tf_layers_dense_raises']}: "
                f"{measured['tf_layers_dense_message'][:160]}")
    return f"tf.layers.dense itself: bias all 0 = {measured['tf_layers_dense_bias_all_zero']}"


# ---- X24: random weights break the symmetry between units ---------------------------------------------
def symmetry_data(cfg):
    """256 examples of 8 standard-normal features, 4 classes from a fixed random linear map (data_seed)."""
    import numpy as np

    rng = np.random.default_rng(cfg["data_seed"])
    x = rng.normal(size=(256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 4))).argmax(axis=1)
    return x, y


def unit_spread(kernel, bias):
    """For a Dense layer's units (the kernel's columns, with their bias): the largest and the smallest
    difference between two units, each the largest |difference| over their incoming weights and bias."""
    import itertools

    import numpy as np

    units = np.vstack([kernel, bias[None, :]]).astype("float64").T  # one row per unit
    distances = [float(np.abs(a - b).max()) for a, b in itertools.combinations(units, 2)]
    return max(distances), min(distances)


def random_weights_break_symmetry(cfg):
    """Dense(h, relu) -> Dense(h, relu) -> Dense(4, softmax) from zero biases, trained by full-batch SGD: once
    with small random kernels in every layer (each of check_seeds draws) and once with every kernel entry of
    every layer equal. For each hidden layer, how far apart its units are before and after training."""
    import warnings

    keras = fresh_keras()
    x, y = symmetry_data(cfg)

    def trained(kernel_initializer, seed):
        keras.utils.set_random_seed(seed)
        hidden = [keras.layers.Dense(cfg["symmetry_hidden_units"], activation="relu",
                                     kernel_initializer=kernel_initializer, bias_initializer="zeros")
                  for _ in range(2)]
        output = keras.layers.Dense(4, activation="softmax", kernel_initializer=kernel_initializer,
                                    bias_initializer="zeros")
        model = keras.Sequential([keras.Input((x.shape[1],)), *hidden, output])
        before = [unit_spread(layer.kernel.numpy(), layer.bias.numpy()) for layer in hidden]
        model.compile(optimizer=keras.optimizers.SGD(cfg["symmetry_learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = model.fit(x, y, epochs=cfg["symmetry_epochs"], batch_size=len(x), shuffle=False, verbose=0)
        after = [unit_spread(layer.kernel.numpy(), layer.bias.numpy()) for layer in hidden]
        moved = max(float(abs(layer.bias.numpy()).max()) for layer in hidden)
        return before, after, moved, float(history.history["accuracy"][-1])

    tolerance = cfg["symmetry_tolerance"]
    equal_before, equal_after, equal_moved, equal_accuracy = trained(
        keras.initializers.Constant(cfg["symmetry_equal_weight"]), 0)

    def one_draw(seed):
        before, after, moved, accuracy = trained(keras.initializers.RandomNormal(stddev=cfg["symmetry_weight_stddev"]),
                                                 seed)
        return {
            "random_units_differ_before_training": all(closest > tolerance for _, closest in before),
            "random_units_differ_after_training": all(closest > tolerance for _, closest in after),
            "random_closest_units_after_training": min(closest for _, closest in after),
            "random_biases_moved": moved,
            "random_train_accuracy": accuracy,
        }

    measured = checks.over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "random_units_differ_before_training": "all", "random_units_differ_after_training": "all",
        "random_closest_units_after_training": "min"})
    measured.update({
        "equal_units_identical_before_training": all(farthest <= tolerance for farthest, _ in equal_before),
        "equal_units_identical_after_training": all(farthest <= tolerance for farthest, _ in equal_after),
        "equal_farthest_units_after_training": max(farthest for farthest, _ in equal_after),
        "equal_biases_moved": equal_moved,  # the biases did train, identically in every unit
        "equal_train_accuracy": equal_accuracy,
    })
    return measured


def symmetry_context(measured):
    """X24: how far apart the units ended, in both starts."""
    return (f"after training, the closest two units of a hidden layer differ by "
            f"{measured['random_closest_units_after_training']:.2g} from small random weights (worst draw), and the "
            f"farthest two by {measured['equal_farthest_units_after_training']:.2g} from equal weights, whose "
            f"biases moved by up to {measured['equal_biases_moved']:.2g}; training accuracy "
            f"{measured['random_train_accuracy']:.2f} (random, draw 0) vs {measured['equal_train_accuracy']:.2f} (equal)")


# ---- X29: the default bias of every layer that has one -----------------------------------------------
LSTM_GATES = ("input", "forget", "cell", "output")  # the order of the LSTM bias's four quarters, Keras 2 and 3


def default_biases_of_layers(cfg):
    """Eleven layers with a bias, each created with its defaults and built on a small input: the bias
    initializer's class, whether every bias value is 0, and where it is not."""
    import numpy as np

    fresh_keras()
    from keras import layers

    units = 4
    built = {  # name: (layer, the input shape it is built on)
        "Dense": (layers.Dense(units), (None, 3)),
        "Conv1D": (layers.Conv1D(units, 3), (None, 8, 2)),
        "Conv2D": (layers.Conv2D(units, 3), (None, 8, 8, 2)),
        "Conv2DTranspose": (layers.Conv2DTranspose(units, 3), (None, 8, 8, 2)),
        "DepthwiseConv2D": (layers.DepthwiseConv2D(3), (None, 8, 8, 2)),
        "SeparableConv2D": (layers.SeparableConv2D(units, 3), (None, 8, 8, 2)),
        "SimpleRNN": (layers.SimpleRNN(units), (None, 5, 2)),
        "GRU": (layers.GRU(units), (None, 5, 2)),
        "LSTM": (layers.LSTM(units), (None, 5, 2)),
        "BatchNormalization": (layers.BatchNormalization(), (None, 3)),
        "LayerNormalization": (layers.LayerNormalization(), (None, 3)),
    }
    per_layer = {}
    for name, (layer, input_shape) in built.items():
        layer.build(input_shape)
        if hasattr(layer, "beta"):  # the normalizations: beta is the offset added after scaling
            bias, attribute, initializer = layer.beta, "beta", layer.beta_initializer
        elif hasattr(layer, "cell"):  # the recurrent layers keep their weights on the cell
            bias, attribute, initializer = layer.cell.bias, "cell.bias", layer.cell.bias_initializer
        else:
            bias, attribute, initializer = layer.bias, "bias", layer.bias_initializer
        values = np.asarray(bias).reshape(-1)
        nonzero = np.flatnonzero(values)
        per_layer[name] = {
            "bias_attribute": attribute,
            "bias_initializer": type(initializer).__name__,
            "bias_shape": shape_of(bias),
            "bias_all_zero": bool(nonzero.size == 0),
            "nonzero_count": int(nonzero.size),
            "nonzero_first_last_index": [int(nonzero.min()), int(nonzero.max())] if nonzero.size else None,
            "nonzero_values": sorted({float(v) for v in values[nonzero]}),
        }
    lstm = built["LSTM"][0].cell
    lstm_bias = np.asarray(lstm.bias).reshape(len(LSTM_GATES), -1)  # one row per gate, units wide
    gammas = {name: bool(np.all(np.asarray(built[name][0].gamma) == 1))
              for name in ("BatchNormalization", "LayerNormalization")}
    return {
        "every_default_bias_is_zero": all(layer["bias_all_zero"] for layer in per_layer.values()),
        "layers_measured": len(per_layer),
        "layers_with_zero_bias": sum(layer["bias_all_zero"] for layer in per_layer.values()),
        "layers_with_nonzero_bias": [name for name, layer in per_layer.items() if not layer["bias_all_zero"]],
        "bias_initializers": {name: layer["bias_initializer"] for name, layer in per_layer.items()},
        "per_layer": per_layer,
        "lstm_unit_forget_bias": bool(lstm.unit_forget_bias),
        "lstm_nonzero_gates": [gate for gate, row in zip(LSTM_GATES, lstm_bias) if np.any(row != 0)],
        "batch_norm_gamma_all_one": gammas["BatchNormalization"],
        "layer_norm_gamma_all_one": gammas["LayerNormalization"],
    }


def default_biases_context(measured):
    """X29: how many layers start at 0, and what the others start at."""
    parts = [f"{measured['layers_with_zero_bias']} of {measured['layers_measured']} layers start with an all-zero bias"]
    for name in measured["layers_with_nonzero_bias"]:
        layer = measured["per_layer"][name]
        first, last = layer["nonzero_first_last_index"]
        parts.append(f"{name}'s {layer['bias_attribute']} (initializer {layer['bias_initializer']}) holds "
                     f"{layer['nonzero_values']} at {layer['nonzero_count']} of its {layer['bias_shape']} values, "
                     f"flat indices {first}-{last}")
    if "LSTM" in measured["layers_with_nonzero_bias"]:
        parts.append(f"LSTM unit_forget_bias={measured['lstm_unit_forget_bias']}, non-zero gates: "
                     f"{', '.join(measured['lstm_nonzero_gates'])}")
    parts.append(f"gamma starts at 1: BatchNormalization {measured['batch_norm_gamma_all_one']}, LayerNormalization "
                 f"{measured['layer_norm_gamma_all_one']}")
    return "; ".join(parts)


# ---- X35: a flattened image into Conv2D ----------------------------------------------------------------
def conv2d_on_flattened_image(cfg):
    """Conv2D(64, 3) on a flattened 28x28 image (784 values per example) and on the image itself, and the
    length Flatten gives a 28x28x1 image."""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    def on_flattened():  # the model the sentence describes: the flattened vector as the conv layer's input
        inputs = keras.Input(shape=(28 * 28,))
        keras.Model(inputs, layers.Conv2D(64, 3)(inputs))

    flattened = raised(on_flattened)
    image_inputs = keras.Input(shape=(28, 28, 1))  # the asker's (100, 28, 28, 1) data, one example's shape
    image_output = layers.Conv2D(64, 3)(image_inputs)
    images = np.random.default_rng(cfg["data_seed"]).normal(size=(2, 28, 28, 1)).astype("float32")
    flat = layers.Flatten()(images)  # measured, so the length is Keras' and not our arithmetic
    return {
        "conv2d_accepts_flattened_image": flattened["raises"] is None,
        "flattened_input_raises": flattened["raises"],
        "flattened_input_message": flattened["message"],
        "conv2d_input_min_ndim": int(layers.Conv2D(64, 3).input_spec.min_ndim),  # batch, rows, cols, channels
        "image_output_shape": shape_of(image_output),
        "flattened_shape": shape_of(flat),
        "flattened_length": int(flat.shape[-1]),
    }


def flattened_image_context(measured):
    """X35: what Conv2D did with the flattened input, and what it does with the image."""
    if measured["flattened_input_raises"]:
        flattened = (f"Conv2D(64, 3) on keras.Input(shape=(784,)) raised {measured['flattened_input_raises']}: "
                     f"{measured['flattened_input_message'][:200]}")
    else:
        flattened = "Conv2D(64, 3) on keras.Input(shape=(784,)) built without raising"
    return (f"{flattened}; on keras.Input(shape=(28, 28, 1)) its output shape is {measured['image_output_shape']}; "
            f"Flatten turns a (2, 28, 28, 1) batch into {measured['flattened_shape']}")


# ---- X36: an output shape other than the labels' ---------------------------------------------------------
OUTPUT_LABEL_CASES = {  # name: (Dense units, its activation, loss); the labels are made in the check
    "mse_fewer_outputs_than_labels": (1, None, "mse"),
    "mse_more_outputs_than_labels": (3, None, "mse"),
    "categorical_mismatch": (3, "softmax", "categorical_crossentropy"),
    "sparse_labels_of_another_shape": (10, "softmax", "sparse_categorical_crossentropy"),
}


def output_shape_against_labels(cfg):
    """keras.Input(shape=(4,)) -> Dense(k) fitted one epoch on labels of another shape, in four cases: which
    fits raise, with what, and the loss of those that train."""
    import numpy as np

    rng = np.random.default_rng(cfg["data_seed"])
    examples = 8
    x = rng.normal(size=(examples, 4)).astype("float32")
    labels = {
        "mse_fewer_outputs_than_labels": rng.normal(size=(examples, 3)).astype("float32"),
        "mse_more_outputs_than_labels": rng.normal(size=(examples, 1)).astype("float32"),
        "categorical_mismatch": np.eye(5, dtype="float32")[rng.integers(0, 5, size=examples)],  # one-hot, 5 classes
        "sparse_labels_of_another_shape": rng.integers(0, 10, size=examples),  # class indices, shape (8,)
    }
    cases = {}
    for name, (units, activation, loss) in OUTPUT_LABEL_CASES.items():
        keras = fresh_keras()  # each case from the same start, whatever ran before it
        inputs = keras.Input(shape=(x.shape[1],))
        model = keras.Model(inputs, keras.layers.Dense(units, activation=activation)(inputs))
        model.compile(optimizer="sgd", loss=loss)
        y, history = labels[name], {}
        fit = raised(lambda: history.update(model.fit(x, y, epochs=1, verbose=0).history))
        case = {"output_shape": shape_of(model.output), "label_shape": list(y.shape), "loss": loss,
                "raises": fit["raises"], "message": fit["message"],
                "final_loss": float(history["loss"][-1]) if history else None}
        if loss == "mse" and not fit["raises"]:  # what a mismatched MSE computes: the two shapes broadcast
            broadcast = np.mean((np.asarray(model.predict(x, verbose=0)) - y) ** 2)
            case["loss_is_broadcast_mse"] = bool(np.isclose(model.evaluate(x, y, verbose=0), broadcast, rtol=1e-5))
        cases[name] = case
    return {
        "mse_fewer_outputs_than_labels_raises": cases["mse_fewer_outputs_than_labels"]["raises"] is not None,
        "mse_more_outputs_than_labels_raises": cases["mse_more_outputs_than_labels"]["raises"] is not None,
        "categorical_mismatch_raises": cases["categorical_mismatch"]["raises"] is not None,
        "sparse_labels_of_another_shape_raise": cases["sparse_labels_of_another_shape"]["raises"] is not None,
        "cases_that_trained": [name for name, case in cases.items() if case["raises"] is None],
        "cases": cases,
    }


def output_shape_context(measured):
    """X36: what each case did: the exception, or the loss it trained to."""
    parts = []
    for name, case in measured["cases"].items():
        shapes = f"output {case['output_shape']} vs labels {case['label_shape']} ({case['loss']})"
        if case["raises"]:
            parts.append(f"{shapes}: fit raised {case['raises']}: {case['message'][:120]}")
            continue
        broadcast = {True: ", the MSE of the two broadcast against each other",
                     False: ", not the broadcast MSE"}.get(case.get("loss_is_broadcast_mse"), "")
        parts.append(f"{shapes}: trained without error, final loss {case['final_loss']:.4g}{broadcast}")
    return "; ".join(parts)


# ---- X37, X38: the input layer ---------------------------------------------------------------------
def implicit_input_layer(cfg):
    """The asker's Sequential model (sources/001): which layers it lists, and the input layer its graph holds."""
    import warnings

    keras = fresh_keras()
    from keras import layers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3 prefers keras.Input over input_dim=; it still accepts it
        model = keras.Sequential([layers.Dense(6, input_dim=4, activation="relu"), layers.Dense(3)])
    graph_layers = keras.Model(model.inputs, model.outputs).layers
    input_layer = graph_layers[0]
    # Keras 3 keeps the shape as batch_shape, Keras 2 as the layer's output shape
    shape = getattr(input_layer, "batch_shape", None) or input_layer.output_shape
    shape = shape[0] if isinstance(shape, list) else shape
    return {
        "listed_in_model_layers": any(type(layer).__name__ == "InputLayer" for layer in model.layers),
        "model_layers": [type(layer).__name__ for layer in model.layers],
        "graph_layers": [type(layer).__name__ for layer in graph_layers],
        "input_layer_class": type(input_layer).__name__,
        "input_layer_shape": list(shape),
        "input_layer_parameters": int(input_layer.count_params()),
        "input_layer_weight_count": len(input_layer.weights),
        "dense_parameters": [int(layer.count_params()) for layer in model.layers],
    }


def input_layer_context(measured):
    """X37, X38: the layers listed and the layers of the graph, with their parameters."""
    return (f"model.layers lists {measured['model_layers']} ({measured['dense_parameters']} parameters); its graph "
            f"holds {measured['graph_layers']}, the {measured['input_layer_class']} of shape "
            f"{measured['input_layer_shape']} with {measured['input_layer_parameters']} parameters")


# ---- rule factories (cfg -> rule: the text names the config it runs with) and reason contexts -----
def second_layer_context(measured):
    """X5: where the error came from, or what Keras did instead of raising."""
    if measured["raises"]:
        return f"at {measured['failing_step']}: {measured['message'][:200]}"
    warned = "; ".join(w.split(". ")[0] for w in measured["warnings"])
    return ("Keras builds, predicts and fits the model, ignoring input_dim=3 on the second layer (its kernel is "
            f"{measured['second_layer_kernel_shape']}, {measured['parameters']} parameters); "
            + (f"it only warns: {warned}" if warned else "it does not even warn"))


def linear_regression_context(measured):
    """X6: the fitted and the least-squares coefficients side by side."""
    keras_w, ols_w = ([round(v, 4) for v in measured[key]] for key in ("keras_coefficients", "ols_coefficients"))
    return (f"kernel {measured['kernel_shape']} + bias; Keras w={keras_w} b={measured['keras_intercept']:.4f} vs OLS "
            f"w={ols_w} b={measured['ols_intercept']:.4f}")


def too_many_features_context(measured):
    """X13: what model.fit raised, or that it trained."""
    if measured["raises"]:
        return f"model.fit raised {measured['raises']}: {measured['message'][:200]}"
    return f"model.fit on {measured['fed_shape'][-1]} features trained without raising"


def x6_rule(cfg):
    return Exact(
        dense_linear_regression,
        expect={"parameters": 4, "bias_is_trainable_weight": True,
                "max_abs_difference_from_ols": AtMost(cfg["ols_tolerance"])},
        note=(f"After {cfg['regression_epochs']} epochs of full-batch SGD at learning rate "
              f"{cfg['regression_learning_rate']:g} on {cfg['regression_samples']} samples, from "
              f"{checks.weight_draws_text(cfg)}, "
              "max_abs_difference_from_ols is the largest |Keras - numpy.linalg.lstsq on [x, 1]| over the 3 "
              "coefficients, the intercept (and the draws: gradient descent on this convex loss reaches OLS "
              "from any start)."),
        context=linear_regression_context,
    )


def x13_rule(cfg):
    return Exact(
        too_many_features, expect={"raises": Raised()},
        note=(f"raises: what model.fit raised on 32 samples of {cfg['fed_features']} features fed into "
              f"keras.Input(shape=({cfg['input_features']},)) -> Dense(1), any type (the claim names none; type "
              "and message recorded), None if it trained."),
        context=too_many_features_context,
    )


def x24_rule(cfg):
    return Exact(
        random_weights_break_symmetry,
        expect={"random_units_differ_before_training": True, "random_units_differ_after_training": True,
                "equal_units_identical_before_training": True, "equal_units_identical_after_training": True},
        note=(f"Two hidden layers of {cfg['symmetry_hidden_units']} ReLU units, biases 0, {cfg['symmetry_epochs']} "
              f"epochs of full-batch SGD at {cfg['symmetry_learning_rate']:g}; kernels N(0, "
              f"{cfg['symmetry_weight_stddev']:g}^2) from {checks.weight_draws_text(cfg)}, or every entry "
              f"{cfg['symmetry_equal_weight']:g}. Units differ when some incoming weight or bias differs by more "
              f"than {cfg['symmetry_tolerance']:g}, and are identical when none does."),
        context=symmetry_context,
    )
