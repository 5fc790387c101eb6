"""Exact claims about recurrent layers' shapes, parameters and states (X7, X16, X16b, X17, X27), checked
by building the real Keras layers.

- X7 (sources/001_448bd649d2fb709b.txt, lines 101-124): a `SimpleRNN` after a `Dense` layer fails with
  "expected ndim=3, found ndim=2", whatever `input_dim` is; a `Reshape((TimeSteps, Features))` with
  TimeSteps * Features = 8 in between fixes it.
- X16 (sources/004_6e8709b0f2e54d47.txt, lines 102-132): `LSTM(300, input_shape=(20, 1))` has 362,400
  parameters and `predict` on (1, 20, 1) gives (1, 300); one set of weights serves every time step.
- X16b (sources/002_6725717de9344925.txt, lines 120-183): the output is (batch, steps, units) with
  `return_sequences=True` and (batch, units) without; each of the two weight groups is 4 times wider
  than the units; the states have the size of the units.
- X17 (sources/004_6e8709b0f2e54d47.txt, lines 133-144): an LSTM's outputs are its hidden states h_t;
  its states are two tensors (h and c), each (batch_size, n_hidden).
- X27 (sources/004_6e8709b0f2e54d47.txt, lines 126-130): "The weights W1 and W2 need to have one dimension
  equal to the dimensions of each timestep input", W1 being the input weight and W2 "another weight for
  the state", in the answer's basic RNN picture of the asker's LSTM(300) on (20, 1).

Design choices, made before any run:
- Nothing trains: each check builds the layers, runs them forward on fixed inputs (NumPy, seeded by
  `data_seed`) and returns what it measured; the runner seeds Keras (seed 0) before every check. The
  verdict is what the installed Keras 3 / TensorFlow 2 do, and every reason names their versions.
- Every check records the claimed value next to the measured one, and for an error the exception
  type and message actually raised (or that none was).
- The catalogue's X16 cites two threads; they make different statements, so they are two claims here:
  X16 (the LSTM(300) count and output shape) and X16b (return_sequences shapes, the formula, states).
- X7 uses the asker's code as written: a `Sequential` model whose first layer is
  `Dense(8, input_dim=2)` (Keras 3 still accepts `input_dim`, with a warning we silence).
- X16b's "each group will have a number of parameters 4 times bigger than the number of units" is read
  as the answer means it (one block of weights per gate i, f, c, o): the input kernel is
  (input_dim, 4 * units) and the recurrent kernel (units, 4 * units), so the layer has
  4 * units * (input_dim + units + 1) parameters. Read literally (a group has 4 * units parameters)
  it is false; the check records both readings, and the rule judges the first.
  The answer writes `return_states = TRUE`; Keras' argument is `return_state` (the misspelt keyword
  is rejected, which the check also records); the rule judges what `return_state=True` returns.
- X17 asks about TF 1's `tf.nn.rnn` (gone in TF 2; recorded). In Keras, `LSTM(return_sequences=True,
  return_state=True)` returns [outputs, h, c]. That the second state is the cell state is checked by
  recomputing h_T = sigmoid(o_T) * tanh(c_T) from the layer's own weights (Keras' gate order i, f, c, o).
- X27: W1 is the layer's input kernel (`cell.kernel`), W2 its recurrent kernel (`cell.recurrent_kernel`,
  the weight the state is multiplied by). The answer describes the asker's network "if it was a basic
  RNN", so the basic RNN (`SimpleRNN`) and the asker's `LSTM` are both judged: for each, on each case of
  RECURRENT_KERNEL_CASES (the thread's 300 units on (20, 1), and 64 units on (16, 16)), is the per-step
  input size one of the sizes of the input kernel, and one of the sizes of the recurrent kernel? The
  hypothesis holds if it is for both kernels in every case; refuted if a recurrent kernel has no
  input-sized dimension. Each case's input size differs from the units and from 4 * units, so a size that
  coincides cannot pass for the input's (the check raises on a case where it would). Recorded, not
  judged: the kernels' and bias' shapes, and whether the recurrent kernel's first size is the units (the
  state's size).
"""

from claimlab.checks import max_abs_difference, raised, shape_of
from claimlab.domains import Integer, Sizes, TupleOf
from claimlab.spec import Claim, Source
from claimlab.verdict import Exact

SOURCE_001 = "001_448bd649d2fb709b.txt"
SOURCE_002 = "002_6725717de9344925.txt"
SOURCE_004 = "004_6e8709b0f2e54d47.txt"

TITLE = ("Recurrent layers: SimpleRNN input rank, LSTM parameter counts, output shapes and states, the shapes of the "
         "input and recurrent kernels")


# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="X7",
        kind="exact",
        quote=(
            "ValueError: Input 0 is incompatible with layer simple_rnn_1: expected ndim=3, found ndim=2\n"
            "This error is returned regardless of input_dim value.\n"
            "That message means: the input going into the rnn has 2 dimensions, but an rnn layer expects 3 "
            "dimensions.\n"
            "If your training data is a sequence, you shape it like (NumberOfSamples, TimeSteps, Features) and "
            "pass it to your model.\n"
            "Solution 2 - You reshape the output of the first dense layer so it has the additional dimension:\n"
            "model.add(Reshape((TimeSteps,Features)))\n"
            "Make sure that the product TimeSteps*Features is equal to 8, the output of your first dense layer."
        ),
        source=Source(SOURCE_001, "101-124", "Keras SimpleRNN: expected ndim=3, found ndim=2"),
        hypothesis=(
            "The asker's Sequential [Dense(8, input_dim=d), SimpleRNN(2), Dense(1)] raises a ValueError whose "
            "message says 'expected ndim=3, found ndim=2', the same for d = 1, 2, 5; a sequence input "
            "(TimeSteps, Features) builds; Reshape((s, f)) after the Dense builds and predicts for every s*f = 8 "
            "and raises for s*f != 8."
        ),
        rule=Exact("simple_rnn_after_dense", expect={
            "raises": "ValueError",
            "message_says_expected_ndim_3_found_ndim_2": True,
            "same_error_for_every_input_dim": True,
            "sequence_input_builds": True,
            "every_reshape_with_product_8_builds": True,
            "reshape_with_other_product_raises": True,
        }),
    ),
    Claim(
        id="X16",
        kind="exact",
        quote=(
            "model.add(LSTM(300, input_shape=(20,1)))\n"
            "lstm_7 (LSTM) (None, 300) 362400\n"
            "output = model.predict(np.zeros((1, 20, 1)))\n"
            "(1, 300)\n"
            "You are training a single set of weights that are repeatedly used for each time step (t-20,...,t).\n"
            "So W1 is of size 1x300, and is multiplied 20 times, once for each timestep."
        ),
        source=Source(SOURCE_004, "102-132", "The Diagram explanation of the LSTM Network"),
        hypothesis=(
            "keras.layers.LSTM(300) on (20, 1) has 362,400 parameters, summary shape (None, 300), predict on "
            "(1, 20, 1) gives (1, 300); the count is the same on 40 steps (one set of weights for every step); "
            "the answer's 'basic RNN' (SimpleRNN(300)) has an input kernel W1 of 1x300."
        ),
        rule=Exact("lstm_300_on_20_steps", expect={
            "parameters": 362_400,
            "summary_output_shape": [None, 300],
            "predict_output_shape": [1, 300],
            "parameters_independent_of_steps": True,
            "simple_rnn_kernel_shape": [1, 300],
        }),
    ),
    Claim(
        id="X16b",
        kind="exact",
        quote=(
            "Where input_shape = (batch_size, arbitrary_steps, 3)\n"
            "(batch, arbitrary_steps, units) if return_sequences=True.\n"
            "(batch, units) if return_sequences=False.\n"
            "The memory states will have a size of units.\n"
            "Due to the internal structure, each group will have a number of parameters 4 times bigger than "
            "the number of units (this 4 is not related to the image, it's fixed).\n"
            "In case when you put return_states = TRUE , you get the last Hidden State of size = 4 and last "
            "Cell State of size 4."
        ),
        source=Source(SOURCE_002, "120-183", "How to interpret clearly the meaning of the units parameter in Keras?"),
        hypothesis=(
            "On inputs (batch, steps, 3) for steps 7 and 20: LSTM(4, return_sequences=True) outputs "
            "(batch, steps, 4), LSTM(4) outputs (batch, 4), the stack LSTM(4)-LSTM(4)-LSTM(1) outputs "
            "(batch, 1); return_state=True gives h and c of shape (batch, 4); the input and recurrent kernels "
            "are each 4*units wide (one block per gate), so an LSTM has 4*units*(input_dim + units + 1) "
            "parameters, for every (input_dim, units) in CONFIG['formula_cases']."
        ),
        rule=Exact("lstm_shapes_and_formula", expect={
            "return_sequences_true_is_batch_steps_units": True,
            "return_sequences_false_is_batch_units": True,
            "stack_output_is_batch_1": True,
            "states_are_h_and_c_of_size_units": True,
            "each_group_4_units_wide": True,
            "parameters_equal_4u_times_d_plus_u_plus_1": True,
        }, note="The literal reading (a group has 4*units parameters) and the misspelt return_states keyword "
                "are recorded in the check, not judged."),
    ),
    Claim(
        id="X17",
        kind="exact",
        quote=(
            "In my opinion, outputs correspond to the hidden state (denoted as h_t in the previous link) but I am "
            "not sure.\n"
            "They are the C_t and h_t values that move along the time axis as output/input to the unrolled LSTM "
            "layer. That is why you get 2 tensors each with size (batch_size,n_hidden)"
        ),
        source=Source(SOURCE_004, "133-144", "LSTM example with MNIST"),
        hypothesis=(
            "keras.layers.LSTM(n_hidden, return_sequences=True, return_state=True) returns the outputs and 2 "
            "states, each (batch, n_hidden); the output at every step t is the hidden state h_t (the last output "
            "equals the returned h exactly, and each earlier output equals h of the same layer run on that "
            "prefix); the other state is the cell state c (h_T = sigmoid(o_T) * tanh(c_T) within 1e-5)."
        ),
        rule=Exact("lstm_outputs_and_states", expect={
            "state_count": 2,
            "states_shaped_batch_by_n_hidden": True,
            "last_output_equals_h": True,
            "every_output_is_h_t": True,
            "second_state_is_cell_state": True,
        }),
    ),
    Claim(
        id="X27",
        kind="exact",
        quote=(
            "I'll try to describe what's happening in your network if it was a basic RNN.\n"
            "The first weight (let's say W1) is for inputs. … There's another weight for the state (W2).\n"
            "The weights W1 and W2 need to have one dimension equal to the dimensions of each timestep input "
            "x_t-20... for matrix multiplication to work. This dimension is 1 in your case, as each of the 20 inputs "
            "are a 1d vector (or number), which is multiplied by W1."
        ),
        source=Source(SOURCE_004, "126-130", "The Diagram explanation of the LSTM Network"),
        hypothesis=(
            "Both the input kernel (W1) and the recurrent kernel (W2, the state's weight) have a dimension equal "
            "to the per-step input size, in keras.layers.SimpleRNN (the answer's basic RNN) and keras.layers.LSTM "
            "(the asker's), for 300 units on (20, 1) and 64 units on (16, 16)."
        ),
        rule=Exact("recurrent_kernel_shapes", expect={
            "simple_rnn_both_kernels_have_an_input_sized_dimension": True,
            "lstm_both_kernels_have_an_input_sized_dimension": True,
        }, note="The kernels' shapes, and which size the recurrent kernel has instead, are recorded in the check.",
            context=lambda measured: recurrent_kernel_context(measured)),
    ),
]


# ---- configuration: the sizes of the inputs the checks feed (the claims' own sizes are fixed below) ----
CONFIG = {
    "batch": Integer(3, min=1),  # X16b, X17: batch of the probe input
    # X17: time steps of the probe input
    # X17 recomputes the last step from the one before it
    "steps": Integer(7, min=2),
    "features": Integer(2, min=1),  # X17: features per step
    "n_hidden": Integer(5, min=1),  # X17: LSTM units
    # X16b: (input_dim, units) pairs
    "formula_cases": TupleOf(((1, 300), (3, 4), (4, 4), (4, 1), (32, 64)), Sizes(min=1, length=2)),
}
PROFILES = {"smoke": {"seeds": 1}, "quick": {"seeds": 1}, "full": {"seeds": 1}}  # nothing is seeded per trial
ARMS = {}

# X27: (steps, input size, units); each input size differs from its units and 4 * units (see the docstring)
RECURRENT_KERNEL_CASES = ((20, 1, 300), (16, 16, 64))


# ---- X7: SimpleRNN after a 2-D Dense output --------------------------------------------------------
def simple_rnn_after_dense(cfg):
    """The asker's model, with and without the answer's Reshape((TimeSteps, Features))."""
    import warnings

    import keras
    import numpy as np
    from keras import layers

    def asker_model(input_dim, reshape=None):
        model = keras.Sequential()
        with warnings.catch_warnings():  # Keras 3 warns that input_dim is legacy; it still accepts it
            warnings.simplefilter("ignore")
            model.add(layers.Dense(8, input_dim=input_dim, activation="tanh", use_bias=False))
        if reshape:
            model.add(layers.Reshape(reshape))
        model.add(layers.SimpleRNN(2, activation="tanh", use_bias=False))
        model.add(layers.Dense(1, activation="tanh", use_bias=False))
        return model

    without_reshape = {dim: raised(lambda: asker_model(dim)) for dim in (1, 2, 5)}
    first = without_reshape[2]
    reshaped = {}
    for steps, features in ((8, 1), (4, 2), (2, 4), (1, 8)):  # every TimeSteps * Features = 8
        model = asker_model(2, (steps, features))
        reshaped[f"{steps}x{features}"] = shape_of(model(np.ones((3, 2), "float32")))
    wrong_product = raised(lambda: asker_model(2, (3, 3)))
    # Solution 1: the data is a sequence, input_shape=(TimeSteps, Features); Dense works per step.
    sequence_model = keras.Sequential([keras.Input((4, 2)), layers.Dense(8, activation="tanh", use_bias=False),
                                       layers.SimpleRNN(2, activation="tanh", use_bias=False),
                                       layers.Dense(1, activation="tanh", use_bias=False)])
    return {
        "raises": first["raises"],
        "message": first["message"],
        "claimed_message": "Input 0 is incompatible with layer simple_rnn_1: expected ndim=3, found ndim=2",
        "message_says_expected_ndim_3_found_ndim_2": "expected ndim=3, found ndim=2" in (first["message"] or ""),
        "errors_by_input_dim": {str(dim): e["raises"] for dim, e in without_reshape.items()},
        "same_error_for_every_input_dim": all(e["raises"] == "ValueError" and
                                              "expected ndim=3, found ndim=2" in e["message"]
                                              for e in without_reshape.values()),
        "reshape_predict_shapes": reshaped,
        "every_reshape_with_product_8_builds": all(s == [3, 1] for s in reshaped.values()),
        "reshape_3x3_raises": wrong_product["raises"],
        "reshape_3x3_message": wrong_product["message"],
        "reshape_with_other_product_raises": wrong_product["raises"] is not None,
        "sequence_input_output_shape": shape_of(sequence_model.output_shape),
        "sequence_input_builds": shape_of(sequence_model.output_shape) == [None, 1],
    }


# ---- X16: LSTM(300) on 20 steps of 1 feature -------------------------------------------------------
def lstm_300_on_20_steps(cfg):
    import warnings

    import keras
    import numpy as np
    from keras import layers

    model = keras.Sequential()
    with warnings.catch_warnings():  # the answer's input_shape= on the layer: legacy in Keras 3, accepted
        warnings.simplefilter("ignore")
        model.add(layers.LSTM(300, input_shape=(20, 1)))
    lstm = model.layers[0]
    kernel, recurrent, bias = (shape_of(w) for w in (lstm.cell.kernel, lstm.cell.recurrent_kernel, lstm.cell.bias))
    longer = keras.Sequential([keras.Input((40, 1)), layers.LSTM(300)])
    simple_rnn = keras.Sequential([keras.Input((20, 1)), layers.SimpleRNN(300)])
    return {
        "parameters": int(model.count_params()),
        "formula_4u_times_d_plus_u_plus_1": 4 * 300 * (1 + 300 + 1),
        "summary_output_shape": shape_of(model.output_shape),
        "predict_output_shape": shape_of(model.predict(np.zeros((1, 20, 1)), verbose=0)),
        "kernel_shape": kernel, "recurrent_kernel_shape": recurrent, "bias_shape": bias,
        "parameters_on_40_steps": int(longer.count_params()),
        "parameters_independent_of_steps": longer.count_params() == model.count_params(),
        "simple_rnn_kernel_shape": shape_of(simple_rnn.layers[0].cell.kernel),  # the answer's W1, for a plain RNN
        "simple_rnn_recurrent_kernel_shape": shape_of(simple_rnn.layers[0].cell.recurrent_kernel),
        # The question's own code, LSTM(units_size=300, ...): recorded, not judged.
        "asker_units_size_keyword": raised(lambda: layers.LSTM(units_size=300, activation="tanh")),
    }


# ---- X16b: return_sequences shapes, the formula, the states ----------------------------------------
def lstm_shapes_and_formula(cfg):
    import keras
    import numpy as np
    from keras import layers

    batch = cfg["batch"]
    rng = np.random.default_rng(cfg["data_seed"])
    # The answer's stack: LSTM(4) -> LSTM(4) -> LSTM(1) on (batch_size, arbitrary_steps, 3).
    inputs = keras.Input((None, 3))
    first = layers.LSTM(4, return_sequences=True)
    second = layers.LSTM(4, return_sequences=True)
    third = layers.LSTM(1)
    stack = keras.Model(inputs, third(second(first(inputs))))
    last_only = layers.LSTM(4)
    with_states = layers.LSTM(4, return_state=True)
    shapes = {"return_sequences_true": [], "return_sequences_false": [], "stack_output": [], "states": []}
    for steps in (7, 20):  # "arbitrary_steps": the same layers on two lengths
        x = rng.normal(size=(batch, steps, 3)).astype("float32")
        shapes["return_sequences_true"].append(shape_of(first(x)))
        shapes["return_sequences_false"].append(shape_of(last_only(x)))
        shapes["stack_output"].append(shape_of(stack(x)))
        output, h, c = with_states(x)
        shapes["states"].append([shape_of(h), shape_of(c)])

    formula = {}
    for input_dim, units in cfg["formula_cases"]:
        layer = layers.LSTM(units)
        layer.build((None, None, input_dim))
        formula[f"{input_dim}->{units}"] = {
            "parameters": int(layer.count_params()), "formula": 4 * units * (input_dim + units + 1),
            "kernel": shape_of(layer.cell.kernel), "recurrent_kernel": shape_of(layer.cell.recurrent_kernel),
            "literal_4_units": 4 * units,
        }
    wide_by_4 = all(f["kernel"][1] == 4 * int(k.split("->")[1]) == f["recurrent_kernel"][1]
                    for k, f in formula.items())
    return {
        "shapes": shapes,
        "return_sequences_true_is_batch_steps_units": shapes["return_sequences_true"] == [[batch, 7, 4], [batch, 20, 4]],
        "return_sequences_false_is_batch_units": shapes["return_sequences_false"] == [[batch, 4], [batch, 4]],
        "stack_output_is_batch_1": shapes["stack_output"] == [[batch, 1], [batch, 1]],
        "states_are_h_and_c_of_size_units": all(s == [[batch, 4], [batch, 4]] for s in shapes["states"]),
        "formula_cases": formula,
        "each_group_4_units_wide": wide_by_4,
        "parameters_equal_4u_times_d_plus_u_plus_1": all(f["parameters"] == f["formula"] for f in formula.values()),
        "literal_reading_group_has_4_units_parameters": all(
            f["kernel"][0] * f["kernel"][1] == f["literal_4_units"] for f in formula.values()),
        "return_states_keyword": raised(lambda: layers.LSTM(4, return_states=True)),
    }


# ---- X17: outputs are h_t; states are (h, c) --------------------------------------------------------
def lstm_outputs_and_states(cfg):
    import numpy as np
    import tensorflow as tf
    from keras import layers

    batch, steps, features, units = cfg["batch"], cfg["steps"], cfg["features"], cfg["n_hidden"]
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(batch, steps, features)).astype("float32")
    lstm = layers.LSTM(units, return_sequences=True, return_state=True)
    returned = lstm(x)
    outputs, h, c = (np.asarray(t, dtype="float64") for t in returned)

    # Each output step is the hidden state after that step: rerun the same layer on each prefix.
    prefix_gap = max(max_abs_difference(lstm(x[:, :t])[1], outputs[:, t - 1]) for t in range(1, steps + 1))
    # The second state is the cell state: h_T = sigmoid(o_T) * tanh(c_T), with o_T from the layer's weights.
    kernel, recurrent, bias = (np.asarray(w, dtype="float64") for w in lstm.cell.weights)
    h_before = outputs[:, -2]
    z = x[:, -1].astype("float64") @ kernel + h_before @ recurrent + bias
    output_gate = 1.0 / (1.0 + np.exp(-z[:, 3 * units:]))  # gate order i, f, c, o
    cell_gap = max_abs_difference(output_gate * np.tanh(c), h)
    return {
        "returned": len(returned),
        "outputs_shape": shape_of(outputs),
        "state_count": len(returned) - 1,
        "state_shapes": [shape_of(h), shape_of(c)],
        "states_shaped_batch_by_n_hidden": [shape_of(h), shape_of(c)] == [[batch, units], [batch, units]],
        "last_output_minus_h_max_abs": max_abs_difference(outputs[:, -1], h),
        "last_output_equals_h": bool(np.array_equal(outputs[:, -1], h)),
        "prefix_h_minus_output_max_abs": prefix_gap,
        "every_output_is_h_t": prefix_gap < 1e-6,
        "h_minus_sigmoid_o_tanh_c_max_abs": cell_gap,
        "second_state_is_cell_state": cell_gap < 1e-5,
        "cell_state_minus_h_max_abs": max_abs_difference(c, h),
        "keras_state_order": ["h", "c"] if cell_gap < 1e-5 else "unknown",
        "tf_nn_rnn_exists": hasattr(tf.nn, "rnn"),  # the question's API (TF 1): gone in TF 2
    }


# ---- X27: which sizes the input kernel (W1) and the recurrent kernel (W2) have -------------------------
def recurrent_kernel_shapes(cfg):
    import keras
    from keras import layers

    cases = {}
    for steps, input_dim, units in RECURRENT_KERNEL_CASES:
        for name, layer_class, blocks in (("simple_rnn", layers.SimpleRNN, 1), ("lstm", layers.LSTM, 4)):
            if input_dim in (units, blocks * units):  # the input size would be found in a kernel by coincidence
                raise ValueError(f"case {(steps, input_dim, units)}: the input size equals a size of {name}'s kernels")
            model = keras.Sequential([keras.Input((steps, input_dim)), layer_class(units)])
            cell = model.layers[0].cell
            kernel, recurrent, bias = (shape_of(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
            cases[f"{name} {units} units on ({steps}, {input_dim})"] = {
                "layer": name, "input_dim": input_dim, "units": units,
                "kernel_shape": kernel, "recurrent_kernel_shape": recurrent, "bias_shape": bias,
                "kernel_has_input_sized_dimension": input_dim in kernel,
                "recurrent_kernel_has_input_sized_dimension": input_dim in recurrent,
                "recurrent_kernel_rows_are_units": recurrent[0] == units,
            }

    def both_kernels(layer):
        return all(c["kernel_has_input_sized_dimension"] and c["recurrent_kernel_has_input_sized_dimension"]
                   for c in cases.values() if c["layer"] == layer)

    return {
        "cases": cases,
        "every_kernel_has_an_input_sized_dimension": all(c["kernel_has_input_sized_dimension"] for c in cases.values()),
        "layers_checked": len(cases),
        "recurrent_kernels_with_an_input_sized_dimension": sum(
            c["recurrent_kernel_has_input_sized_dimension"] for c in cases.values()),
        "any_recurrent_kernel_has_an_input_sized_dimension": any(
            c["recurrent_kernel_has_input_sized_dimension"] for c in cases.values()),
        "every_recurrent_kernel_has_units_rows": all(c["recurrent_kernel_rows_are_units"] for c in cases.values()),
        "simple_rnn_both_kernels_have_an_input_sized_dimension": both_kernels("simple_rnn"),
        "lstm_both_kernels_have_an_input_sized_dimension": both_kernels("lstm"),
    }


def recurrent_kernel_context(measured):
    shapes = "; ".join(f"{name}: kernel {c['kernel_shape']}, recurrent kernel {c['recurrent_kernel_shape']}"
                       for name, c in measured["cases"].items())
    return (f"not judged: every input kernel has an input-sized dimension: "
            f"{measured['every_kernel_has_an_input_sized_dimension']}; every recurrent kernel's first dimension is the "
            f"state's size (the units): {measured['every_recurrent_kernel_has_units_rows']} ({shapes})")
