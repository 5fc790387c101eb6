"""Why every hidden layer needs a non-linear activation: a stack of Dense layers without one is a single
linear layer. From the answers to "why the keras model has an activation function in each layer of the
network and not just at the end" (sources/001_448bd649d2fb709b.txt, lines 29-80).

The asker draws a network whose only activation is at the output and asks why Keras puts one in every
layer. The answer (lines 69-79):

    "if there are no non-linear activations in the middle, no matter how deep your network is, it can
    be boiled down to a single linear equation"
    h1 = W1.x + b1,  h2 = W2.h1 + b2,  h3 = Softmax(W3.h2 + b3)
    h3 = Softmax((W3.W2.W1) x + (W3.W2.b1 + W3.b2 + b3)) = Softmax(W.x + b)

The claim has an exact part and an empirical part, so it is two ids:

    E1a (exact)      a real Keras stack of Dense layers with no activation in the middle and a softmax at
                     the end computes, on real inputs, what the single layer Softmax(W.x + b) computes,
                     with W and b built from the layers' weights by the answer's formula (numpy, float64);
                     and a one-layer keras Dense given that W and b reproduces the stack's outputs.
    E1b (empirical)  trained on a task a linear model cannot solve, the deep stack without activations
                     does no better than one Dense softmax layer, while the same stack with ReLU does.

Arms (every arm: Flatten -> [hidden Dense layers] -> Dense(classes) "logits" -> Softmax; Adam, sparse
categorical cross-entropy, the same budget and batch order for a seed):
    linear       no hidden layer: one Dense softmax layer (multinomial logistic regression)
    deep_linear  hidden Dense layers of `hidden_units` with no activation (Keras' activation=None)
    deep_relu    the same widths with ReLU

Design choices, made before any run:
- Data: MNIST-1D (claimlab.data.mnist1d at its standard size: 4,000 training sequences, 15% of them held
  out for validation, 1,000 test sequences, 40 steps flattened to 40 inputs). It was built so that a
  linear model is clearly limited: its README reports logistic regression at about 32% and an MLP at
  about 68%. The deep arms have two hidden layers of 100 units, the answer's 3-layer network and the
  width of MNIST-1D's own MLP baseline.
- Training: Adam (learning rate 2e-3), batch 64, Keras' default initialisation (Glorot-uniform
  kernels, zero biases), no regularisation. Every arm trains until its validation loss has not improved
  for `patience` (10) epochs, at most `epochs` (300), and keeps the weights of its best epoch (PLATEAU;
  the validation split, never the test split). Why not a fixed budget: at the former 40 epochs the ReLU
  net was still improving (the quick run of 2026-12-05: training accuracy up 4.2 points over the last
  fifth of the epochs), and E1b is about what each stack can reach, not how fast. The softmax is a separate layer after the last Dense, so the pre-softmax logits the
  formula speaks of can be read from the model (the same function as Dense(activation="softmax")).
- E1a's stacks get random non-zero biases (N(0, check_bias_stddev)): with Keras' zero biases the bias part
  of the formula, W3.W2.b1 + W3.b2 + b3, would be 0 = 0 and go untested. Two stacks are checked: the
  trial's deep arm (`hidden_units`, 3 Dense layers by default) and a deeper one (`check_deep_units`,
  6 Dense layers: "no matter how deep"). Inputs: the whole test split of the run's dataset. The
  weights are drawn `check_seeds` (5) times (seeds 0-4); the formula is an identity, so it must hold for
  every draw and the worst draw is judged (the largest difference; the ReLU control must differ in all).
  The tolerance `collapse_tolerance` (1e-4, on logits and probabilities) is float32 round-off: the
  Keras stack computes in float32 (machine epsilon 1.2e-7) through products of at most 100 terms per
  layer, on logits of order 1-10, an error around 1e-6 to 1e-5; 1e-4 leaves ten times that, and is
  four orders of magnitude below what a single ReLU changes. As a control that the check can fail, the
  same weights with ReLU in the middle are compared with the same collapsed layer: they must differ by
  more than the tolerance (a check that every stack passes would show nothing).
- E1b reads "does no better than" / "can be boiled down to a single linear equation" as an
  equivalence: the deep linear stack is the same family of functions as one Dense layer (its W has rank
  at most 10 either way), so after the same training its test accuracy should equal the linear
  model's. Equivalent within +-equivalence_margin = 2 accuracy points (TOST on the per-seed differences):
  the answer's point is a 30-odd-point gap between linear and non-linear models on this task (32% vs
  68% in the MNIST-1D README), and 2 points is the smallest difference that would make a practitioner
  prefer one of the two linear models. A deep linear net that trains slower and ends below the linear
  model is not equivalent either: then the verdict is not supported, and the direction is in the numbers.
- E1b's second part: deep_relu beats deep_linear on test accuracy (paired by seed), with the smallest
  effect of interest `smallest_effect` = 2 points; a ReLU gain equivalent to 0 within +-2 points refutes
  as negligible, and so does a significant gain whose 90% CI lies inside +-2 points: the lab's one decision
  (verdict.decide) tests equivalence first, then the side of 0 (issue 27; it used to check significance
  first, which let a negligible gain support).
  Both parts must hold (AllOf, Holm over the two refute paths).
- Reported, not judged: deep_relu vs linear, training accuracy per arm (evaluated after training), and
  per trial the collapse of the *trained* stack (collapse/logits_max_abs_diff, collapse/test_accuracy,
  collapse/prediction_agreement: the answer's W, b built from the trained weights, activations ignored).
  For deep_linear the collapse must agree with the model after training too; for deep_relu it shows
  how far the ReLU net is from the linear map its weights would give without the ReLUs.

What a verdict here covers: small fully connected nets on small data. The SETTINGS below add a 3x
more patient stop (a product of matrices can train slower than one matrix), a deeper and wider stack (6 Dense
layers of 256: the answer's "no matter how deep"), and scikit-learn's digits, where a linear model is
already good (a dataset on which the non-linear arm has little to win), and the scope report
(results/nonlinearity/scope.md) says in which of them each verdict holds.
"""

from claimlab import data as datasets
from claimlab import checks, train
from claimlab.domains import Integer, OneOf, Real, Sizes
from claimlab.spec import Advice, Claim, Setting, Source, Times, TrialResult, on_tensorflow
from claimlab.verdict import AllOf, AtMost, Better, Equivalent, Exact, IfDiverged, Level, Plateau, Summarize

SOURCE_FILE = "001_448bd649d2fb709b.txt"
QUESTION = ("(untitled) I'm trying to teach myself machine learning … why the keras model has an activation "
            "function in each layer of the network and not just at the end")

TITLE = "Dense stacks without activations collapse to one linear layer: the formula, and training vs ReLU"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="E1a",
        kind="exact",
        quote=(
            "Take the following example, say you have 3 layer neural network without any non-linear activations "
            "in the middle, but a final softmax layer. The weights and biases for these layers are (W1, b1), "
            "(W2, b2) and (W3, b3).\n"
            "h1 = W1.x + b1\n"
            "h2 = W2.h1 + b2\n"
            "h3 = Softmax(W3.h2 + b3)\n"
            "h3 = Softmax((W3.W2.W1) x + (W3.W2.b1 + W3.b2 + b3))\n"
            "h3 = Softmax(W.x + b)\n"
            "So, without the non-linear activations, our 3-layer networks has been squashed to a single layer "
            "network."
        ),
        source=Source(SOURCE_FILE, "70-79", QUESTION),
        hypothesis=(
            "A Keras stack of Dense layers with no activation in the middle and a softmax at the end (3 layers, "
            "and 6) gives, on real inputs, the same logits and softmax outputs as Softmax(W.x + b) with "
            "W = W3.W2.W1 and b = W3.W2.b1 + W3.b2 + b3 built from its weights, up to float32 round-off; a "
            "single keras Dense layer holding that W and b gives the same outputs as the stack."
        ),
        rule="e1a_rule",
    ),
    Claim(
        id="E1b",
        kind="empirical",
        quote=(
            "if there are no non-linear activations in the middle, no matter how deep your network is, it can be "
            "boiled down to a single linear equation. Therefore, non-linear activation is one of the big enablers "
            "that enable deep networks to be actually \"deep\" and learn high-level features."
        ),
        source=Source(SOURCE_FILE, "69", QUESTION),
        hypothesis=(
            "On MNIST-1D, where a linear model is clearly limited, a stack of Dense layers without activations "
            "(softmax at the end) trained like a single Dense softmax layer reaches the same test accuracy "
            "(within the equivalence margin), while the same stack with ReLU between its layers reaches a higher "
            "test accuracy than the stack without."
        ),
        rule="e1b_rule",
    ),
]


# A line of the same answer that the lab lists without a verdict of its own: the ledger's "Not judged" section.
NOT_JUDGED = [
    Advice(
        quote=("Without the activation (say ReLu, tanh etc.), what you get is a linear function. And how many ever, "
               "hidden layers you have, you still end up with a linear function. And finally, you convert this into "
               "a nonlinear function in the last layer. This might work in some simple nonlinear problems, but will "
               "not be able to capture a complex nonlinear function."),
        source=Source(SOURCE_FILE, "80", QUESTION),
        why=("the argument of the answer's lines 69-79 once more, and judged there: E1a measures that the stack "
             "without hidden activations is one linear map, E1b that it reaches what a single softmax layer reaches "
             "and less than the same stack with ReLU. 'Might work in some simple nonlinear problems' names no "
             "problem a run could pick, and 'a complex nonlinear function' names none either."),
    ),
]


# ---- configuration: every hyperparameter in one place ----------------------------------------------
CONFIG = {
    "dataset": OneOf("mnist1d", choices=("mnist1d", "digits")),
    # deep arms: 2 hidden Dense layers + the output layer = the answer's 3 layers
    "hidden_units": Sizes((100, 100), min=1),
    "epochs": Integer(300, min=1),  # the cap: each arm stops earlier, at its plateau (PLATEAU)
    "patience": Integer(10, min=1),  # epochs without a better validation loss before an arm stops
    "batch_size": Integer(64, min=1),
    "learning_rate": Real(2e-3, min=0, min_open=True),
    # E1a's second stack: 5 hidden layers + output = 6 Dense layers
    "check_deep_units": Sizes((64, 64, 64, 64, 64), min=1),
    # E1a: biases drawn from N(0, this), so the formula's bias terms are not 0
    # 0 would leave the formula's bias part untested
    "check_bias_stddev": Real(0.5, min=0, min_open=True),
    # E1a: every stack's weights drawn under seeds 0..check_seeds-1; no verdict hinges on one draw
    "check_seeds": Integer(5, min=5),
    # Decision thresholds (threshold=True), declared before any run and `--set`-able like the rest;
    # a setting never changes one: a setting changes what is trained, never the rule.
    # E1a: max |difference| between the Keras stack and the collapsed single layer, on logits and on
    # softmax probabilities: float32 round-off (see the module docstring for the size of it).
    "collapse_tolerance": Real(1e-4, min=0, min_open=True, threshold=True),
    # E1b (1): deep_linear - linear test accuracy inside +-2 points counts as "no better" (equivalent).
    "equivalence_margin": Real(0.02, min=0, min_open=True, threshold=True),
    # E1b (2): the smallest ReLU gain over deep_linear of interest, 2 test-accuracy points; a gain
    # equivalent to 0 within it refutes, a significant gain whose CI lies inside it is negligible.
    "smallest_effect": Real(0.02, min=0, min_open=True, threshold=True),
}
# What a diverged trial (non-finite training loss) counts as on each metric a rule reads.
IF_DIVERGED = {
    "test/accuracy": IfDiverged.scores(0.1, "chance: both dataset choices have 10 balanced classes"),
    "train_eval/accuracy": IfDiverged.scores(0.1, "chance: both dataset choices have 10 balanced classes"),
    "collapse/prediction_agreement": IfDiverged.excluded("the weights of a diverged net are not finite: "
                                                         "there is no linear map to collapse them to"),
}
PLATEAU = Plateau.validation_loss()  # each arm to its plateau (claimlab.verdict.Plateau says how)
LEVELS = {  # where a judged metric stops telling arms apart (claimlab.verdict.Level)
    "*accuracy": Level(0.1, 1.0, "both dataset choices have 10 balanced classes"),
    "collapse/prediction_agreement": Level.unbounded("how alike two nets' predictions are: how high it gets is "
                                                     "the claim's question, not a ceiling that hides a difference"),
}
PROFILES = {
    "smoke": {"epochs": 2, "patience": 1},
}

# ---- scope: the settings the claims are judged in (claimlab.scope), chosen before any run ------------
# The answer speaks of networks "no matter how deep", trained on anything; the scope varies the training
# budget, the depth and width, and the data. The baseline of MNIST-1D is the linear arm (its README's
# logistic regression); on digits the published number is a non-linear classifier's, so deep_relu's.
# The linear arm, Dense(10) with a softmax on the flattened series, is multinomial logistic regression.
MNIST1D_REFERENCE = datasets.reference("linear", datasets.MNIST1D_LOGISTIC_PUBLISHED, "logistic regression")
DIGITS_REFERENCE = datasets.reference("deep_relu", datasets.DIGITS_PUBLISHED, "an MLP")
# Trials use keras, keras.ops and keras.random only, so they run on JAX (claimlab.backend); the
# `tensorflow` setting runs the default config on TensorFlow, the backend the sources ran.
BACKEND = "jax"
SETTINGS = {
    "default": Setting("MNIST-1D, 3 Dense layers (100, 100 hidden units), Adam to a val/loss plateau (patience 10, "
                       "at most 300 epochs)",
                       "the lab's reference setting: a task built so that a linear model is clearly limited",
                       reference=MNIST1D_REFERENCE),
    "long_budget": Setting("MNIST-1D, 3 Dense layers (100, 100 hidden units), Adam to a val/loss plateau (patience "
                           "50, at most 1500 epochs)", "a 5x more patient stop: a product of matrices may train slower "
                           "than one matrix, so the deep linear stack may need longer to reach the linear model",
                           {"epochs": Times(5), "patience": Times(5)}, MNIST1D_REFERENCE),
    "deep_wide": Setting("MNIST-1D, 6 Dense layers (5 hidden layers of 256 units), Adam to a val/loss plateau",
                         "'no matter how deep your network is': more and wider layers in the product, and more "
                         "capacity for the ReLU net", {"hidden_units": (256,) * 5}, MNIST1D_REFERENCE),
    "digits": Setting("scikit-learn digits (64 pixels), 3 Dense layers (100, 100 hidden units), Adam to a plateau",
                      "the claim is about networks on any data: a second dataset, one on which a linear model is "
                      "already good, so the ReLU net has little to win", {"dataset": "digits"}, DIGITS_REFERENCE),
}
SETTINGS["tensorflow"] = on_tensorflow(SETTINGS["default"])

ARMS = {
    "linear": {"stack": "linear"},
    "deep_linear": {"stack": "deep_linear"},
    "deep_relu": {"stack": "deep_relu"},
}
STACKS = tuple(ARMS)


# ---- the answer's formula -------------------------------------------------------------------------
def answer_formula_3_layers(W1, b1, W2, b2, W3, b3):
    """The answer's line 76 as written: W = W3.W2.W1 and b = W3.W2.b1 + W3.b2 + b3 (W_i is out x in)."""
    return W3 @ W2 @ W1, W3 @ W2 @ b1 + W3 @ b2 + b3


def collapse(kernels, biases):
    """The answer's manipulation for any number of layers, in float64: h_i = W_i.h_(i-1) + b_i composed
    into W.x + b, with W = W_n...W_1 and b = sum_i W_n...W_(i+1).b_i. Keras stores a Dense kernel as
    in x out (it computes x @ kernel + bias), so W_i = kernel_i transposed. Returns W (out x in), b."""
    import numpy as np

    W, b = None, None
    for kernel, bias in zip(kernels, biases):
        W_i, b_i = np.asarray(kernel, dtype="float64").T, np.asarray(bias, dtype="float64")
        W, b = (W_i, b_i) if W is None else (W_i @ W, W_i @ b + b_i)
    return W, b


def softmax(logits):
    import numpy as np

    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def flat(x):
    """Inputs as the vectors x of the formula: (N, features) in float64."""
    import numpy as np

    return np.asarray(x, dtype="float64").reshape(len(x), -1)


# ---- model ----------------------------------------------------------------------------------------
def build_model(stack, input_shape, num_classes, hidden_units, learning_rate=1e-3, bias_initializer="zeros"):
    """Flatten -> [Dense(u) per hidden layer, no activation (deep_linear) or ReLU (deep_relu)] ->
    Dense(classes) named "logits" -> Softmax. `linear` has no hidden layer."""
    import keras
    from keras import layers

    if stack not in STACKS:
        raise ValueError(f"unknown stack {stack!r}; choose one of {', '.join(STACKS)}")
    inputs = keras.Input(shape=input_shape)
    x = layers.Flatten()(inputs)
    if stack != "linear":
        activation = "relu" if stack == "deep_relu" else None
        for i, units in enumerate(hidden_units, 1):
            x = layers.Dense(units, activation=activation, bias_initializer=bias_initializer, name=f"hidden{i}")(x)
    logits = layers.Dense(num_classes, bias_initializer=bias_initializer, name="logits")(x)
    outputs = layers.Softmax(name="softmax")(logits)
    model = keras.Model(inputs, outputs, name=stack)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def dense_layers(model):
    """The model's Dense layers, input to output: (W1, b1), (W2, b2), ... of the answer."""
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def logits_and_probabilities(model, x):
    """The pre-softmax logits (the output of the layer named "logits") and the model's softmax output."""
    import keras
    import numpy as np

    both = keras.Model(model.input, [model.get_layer("logits").output, model.output])
    logits, probabilities = both(x, training=False)  # one eager call: no tf.function traced per model
    return np.asarray(logits, dtype="float64"), np.asarray(probabilities, dtype="float64")


def collapse_model(model):
    """The answer's W, b from a Keras stack's Dense layers (its activations, if any, ignored)."""
    layers = dense_layers(model)
    return collapse([layer.kernel.numpy() for layer in layers], [layer.bias.numpy() for layer in layers])


# ---- E1a: the exact check -------------------------------------------------------------------------
def max_abs(a, b):
    import numpy as np

    return float(np.max(np.abs(np.asarray(a, dtype="float64") - np.asarray(b, dtype="float64"))))


def stack_against_its_collapse(units, x, num_classes, cfg):
    """One stack with random non-zero biases: Keras' outputs vs the collapsed layer (numpy) vs a one-layer
    keras Dense given the collapsed W, b; and the same weights with ReLU in the middle, as a control."""
    import keras
    import numpy as np

    biases = keras.initializers.RandomNormal(stddev=cfg["check_bias_stddev"])
    model = build_model("deep_linear", x.shape[1:], num_classes, units, bias_initializer=biases)
    logits, probabilities = logits_and_probabilities(model, x)
    W, b = collapse_model(model)
    collapsed_logits = flat(x) @ W.T + b
    collapsed_probabilities = softmax(collapsed_logits)

    single = build_model("linear", x.shape[1:], num_classes, units)
    single.get_layer("logits").set_weights([W.T.astype("float32"), b.astype("float32")])
    single_logits, single_probabilities = logits_and_probabilities(single, x)

    relu = build_model("deep_relu", x.shape[1:], num_classes, units)
    relu.set_weights(model.get_weights())
    relu_logits, relu_probabilities = logits_and_probabilities(relu, x)

    return {
        "dense_layers": len(dense_layers(model)),
        "hidden_units": list(units),
        "collapsed_W_shape": list(W.shape),
        "stack_parameters": int(model.count_params()),
        "single_layer_parameters": int(single.count_params()),
        "logits_max_abs": float(np.max(np.abs(logits))),
        "bias_part_max_abs": float(np.max(np.abs(b - np.asarray(dense_layers(model)[-1].bias.numpy())))),
        "logits_max_abs_diff": max_abs(logits, collapsed_logits),
        "probabilities_max_abs_diff": max_abs(probabilities, collapsed_probabilities),
        "single_dense_logits_max_abs_diff": max_abs(single_logits, logits),
        "single_dense_probabilities_max_abs_diff": max_abs(single_probabilities, probabilities),
        "same_predictions": bool((logits.argmax(1) == collapsed_logits.argmax(1)).all()),
        "relu_logits_max_abs_diff": max_abs(relu_logits, collapsed_logits),
        "relu_probabilities_max_abs_diff": max_abs(relu_probabilities, collapsed_probabilities),
    }


def collapsed_layer_matches_keras_stack(cfg):
    """E1a on the whole test split of the run's dataset: the trial's deep stack and a deeper one, each with
    the weights of check_seeds draws; every judged difference is the worst over the draws."""

    dataset = load_data(cfg)
    x = dataset.x_test
    stacks = {"trial_stack": cfg["hidden_units"], "deep_stack": cfg["check_deep_units"]}
    differences = ("logits_max_abs_diff", "probabilities_max_abs_diff", "single_dense_logits_max_abs_diff",
                   "single_dense_probabilities_max_abs_diff")

    def one_draw(seed):
        measured = {"inputs": [len(x), int(flat(x[:1]).shape[1])]}
        for name, units in stacks.items():
            measured.update({f"{name}/{key}": value
                             for key, value in stack_against_its_collapse(units, x, dataset.num_classes, cfg).items()})
        for key in differences:
            measured[key] = max(measured[f"{name}/{key}"] for name in stacks)
        smallest_relu_difference = min(measured[f"{name}/relu_logits_max_abs_diff"] for name in stacks)
        measured["relu_stack_differs_from_its_collapse"] = bool(smallest_relu_difference > cfg["collapse_tolerance"])
        return measured

    return checks.over_weight_draws(one_draw, cfg["check_seeds"],
                                    worst={**{key: "max" for key in differences},
                                           "relu_stack_differs_from_its_collapse": "all"})


def collapse_context(measured):
    """What E1a's reason adds, unjudged: the stacks' depths, the logit scale, the ReLU control's difference."""
    return "; ".join(
        f"{name}: {measured[f'{name}/dense_layers']} Dense layers, logits up to {measured[f'{name}/logits_max_abs']:.3g}, "
        f"bias part up to {measured[f'{name}/bias_part_max_abs']:.3g}, with ReLU in the middle the logits differ by "
        f"{measured[f'{name}/relu_logits_max_abs_diff']:.3g}"
        for name in ("trial_stack", "deep_stack"))


def e1a_rule(cfg):
    tolerance = cfg["collapse_tolerance"]
    return Exact(collapsed_layer_matches_keras_stack,
                 expect={"logits_max_abs_diff": AtMost(tolerance),
                         "probabilities_max_abs_diff": AtMost(tolerance),
                         "single_dense_logits_max_abs_diff": AtMost(tolerance),
                         "single_dense_probabilities_max_abs_diff": AtMost(tolerance),
                         "relu_stack_differs_from_its_collapse": True},
                 note=f"Two stacks with Keras' Glorot kernels and N(0, check_bias_stddev) biases, from "
                      f"{checks.weight_draws_text(cfg)}, on every "
                      "test input of the run's dataset: the trial's deep stack and a 6-layer one. Each *_max_abs_diff "
                      "is the largest over the two stacks and the draws (the claim is an identity: it must hold for "
                      "every draw, so the worst one is judged): the stack against Softmax(W.x + b) computed in float64 "
                      "from the answer's formula, and a one-layer keras Dense holding that W, b against the stack. "
                      "The bound is float32 round-off. Control: the same weights with ReLU in the middle must "
                      "differ from the collapsed layer by more than the bound, in every draw.",
                 context=collapse_context)


# ---- E1b: the empirical rule ----------------------------------------------------------------------
def e1b_rule(cfg):
    """(1) deep_linear equivalent to linear; (2) deep_relu better than deep_linear."""
    effect = cfg["smallest_effect"]
    return AllOf(
        Equivalent("test/accuracy", "deep_linear", to="linear", margin=cfg["equivalence_margin"]),
        Better("test/accuracy", "deep_relu", than="deep_linear", smallest_effect=effect, equivalence_margin=effect),
        also_report=[Better("test/accuracy", "deep_relu", than="linear", smallest_effect=effect),
                     Summarize("train_eval/accuracy", list(ARMS)),
                     Summarize("collapse/prediction_agreement", ["deep_linear", "deep_relu"])],
    )


# ---- data -----------------------------------------------------------------------------------------
def load_data(cfg):
    return datasets.load(cfg["dataset"], cfg["data_seed"])


def prepare(cfg):
    """Called once by the runner before any trial: bad or unreachable data fails here, fast."""
    load_data(cfg)


# ---- the trials ----------------------------------------------------------------------------------
def run_trials(arm, seeds, cfg):
    """Several seeds of one arm at once, trained side by side as one Keras model
    (claimlab.train.fit_per_seed, bit-identical to training each alone)."""
    dataset = load_data(cfg)
    models = train.build_per_seed(seeds, lambda seed: build_model(cfg["stack"], dataset.input_shape,
                                                                  dataset.num_classes, cfg["hidden_units"],
                                                                  cfg["learning_rate"]))
    histories = train.fit_per_seed(models, seeds, dataset, cfg["epochs"], cfg["batch_size"], stop=PLATEAU.stop(cfg))
    return [measure(model, history, dataset) for model, history in zip(models, histories)]


def measure(model, history, dataset):
    """Test and training accuracy, and the answer's collapse of the trained weights on the test inputs."""
    import numpy as np

    metrics = {
        **train.evaluate(model, dataset.x_test, dataset.y_test, "test"),
        **train.evaluate(model, dataset.x_train, dataset.y_train, "train_eval"),
        "params/total": model.count_params(),
        "dense_layers": len(dense_layers(model)),
        "diverged": float(train.diverged(history)),
    }
    logits, _ = logits_and_probabilities(model, dataset.x_test)
    with np.errstate(all="ignore"):  # a diverged net's weights may be NaN: the metrics are NaN then
        W, b = collapse_model(model)
        collapsed = flat(dataset.x_test) @ W.T + b
    metrics["collapse/logits_max_abs_diff"] = max_abs(logits, collapsed)
    metrics["collapse/test_accuracy"] = float(np.mean(collapsed.argmax(1) == dataset.y_test))
    metrics["collapse/prediction_agreement"] = float(np.mean(collapsed.argmax(1) == logits.argmax(1)))
    return TrialResult(metrics=metrics, history=history, datasets=[dataset.info()])
