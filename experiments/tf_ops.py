"""Exact claims about TensorFlow ops (X3, X12, X14, X25, X26, X31, X34), checked by running the real ops.

- X3 (sources/000_2706fe11d950e137.txt, lines 130-138): `tf.nn.max_pool` on the rank-3 output of a
  conv1d fails ("ValueError: Shape (1, 144, 512) must have rank 4"); the workaround, a singleton
  dimension (1, 1, 144, 512) then `tf.squeeze`, is 1-D max pooling.
- X12 (sources/003_8f61efd7de26bf97.txt, line 86): "Using tf.add() doesn't work when the tensors aren't
  the same shape", the reason the notes give for `tf.nn.bias_add`.
- X14 (sources/004_6e8709b0f2e54d47.txt, lines 61-75): a question, "for tf.nn.dropout(x, 0.1) on a
  2 x 10 x 10 tensor, are 10 values dropped in each channel, or 20 over the whole input?". Turned into
  statements that can be measured (below) and compared with whole-channel dropout (SpatialDropout).
- X25 (sources/003_8f61efd7de26bf97.txt, lines 75-77): the notes' `dropout = 0.75 # Dropout, probability to
  keep units`. The notes are TF 1 code, where tf.nn.dropout's second argument was keep_prob; TF 2's
  second argument is the drop rate. The copy in sources/ does not show the call that uses `dropout` (no
  line passes it to tf.nn.dropout), so the claim judged is the one a reader of today makes: that passing
  the notes' 0.75 to today's `tf.nn.dropout(x, 0.75)` keeps 75% of the units.
- X26 (sources/003_8f61efd7de26bf97.txt, lines 41 and 84): tf.nn.conv2d takes "a stride for each input
  dimension, [batch, input_height, input_width, input_channels]", which one "generally" sets to 1 for batch
  and channels, and it is better "to remove the batches or features you want to skip from the data set
  rather than use a stride to skip them": a stride above 1 on the batch or channel axis is presented as
  possible.
- X31 (sources/003_8f61efd7de26bf97.txt, line 133): "The tf.nn.bias_add() function adds a 1-d bias to the
  last dimension in a matrix."
- X34 (sources/000_2706fe11d950e137.txt, line 11): tf.nn.conv2d's filter "consists of [filter_height,
  filter_width, in_channels, out_channels]. So [5, 5, 1, 32] means that your in_channels is 1".

Design choices, made before any run:
- Nothing trains: each check runs the ops on fixed inputs (NumPy, seeded by `data_seed`); the runner
  seeds TensorFlow (seed 0) before every check, so dropout's masks are the same on every run. The
  verdict is what the installed TensorFlow 2 / Keras 3 do, and every reason names their versions.
- For an error claim the check records the exception type and message actually raised, or that none
  was. X3 asks about `tf.nn.max_pool`, which in TF 2 is the N-D op; TF 1's op survives as
  `tf.compat.v1.nn.max_pool` and is recorded too (eagerly and inside a tf.function), not judged.
- X3's conv1d output is made with `tf.nn.conv1d` (144 positions, 512 filters, as in the question). The
  workaround pools the (1, 1, 144, 512) tensor with a 1x2 window and stride, then squeezes; "equals"
  means bit-identical to `tf.nn.max_pool1d` and `keras.layers.MaxPooling1D` (max is exact in floats).
- X12: the conv2d output (2, 28, 28, 32) and a bias of shape (32,) are "not the same shape". tf.add
  broadcasting them would refute the claim. The cases where the two ops do differ (NCHW layout, a bias
  that is not 1-D, a bias that cannot broadcast) are recorded, not judged.
- X14's statements, all judged: (1) the number dropped per channel is not always 10 and (2) the total is
  not always 20 (both vary from call to call); (3) over `dropout_calls` calls the dropped fraction lies
  within 4 standard errors of the rate 0.1 (each element dropped independently with probability 0.1);
  (4) every kept value is multiplied by 1 / (1 - 0.1) (within 1e-6 relative); (5) each call draws a new
  mask (line 71: "for every iteration dropout will randomly eliminate features"); (6) whole channels are
  dropped only by `keras.layers.SpatialDropout2D` (channels first) or `noise_shape=[2, 1, 1]`: every
  channel is then dropped entirely or not at all.
- X25: the input is a fixed (100, 100) tensor with no zeros (uniform on [0.5, 1.5), seeded by `data_seed`),
  so a zero in an output is a dropped unit. Over `keep_prob_calls` calls (1,000,000 elements at the
  default 100), the kept fraction of `tf.nn.dropout(x, 0.75)` is judged: the hypothesis holds if it lies
  within 4 binomial standard errors of 0.75, the standard error being sqrt(0.75 * 0.25 / elements) (the
  spread a kept fraction of 0.75 would have); outside that, refuted. Recorded beside it, not judged, on the
  same input and number of calls: `tf.nn.dropout(x, rate=1 - 0.75)` (the TF 2 spelling of keep 0.75),
  `tf.compat.v1.nn.dropout(x, keep_prob=0.75)` and `tf.compat.v1.nn.dropout(x, 0.75)` (TF 1's op and its
  positional call, each recorded with raised() in case they are gone), `keras.layers.Dropout(0.75)` in
  training mode (also a drop rate), and the factor each scales the kept values by.
- X26: tf.nn.conv2d on a fixed (4, 8, 8, 4) input with a 3x3x4x6 filter and SAME padding, with strides
  [2, 1, 1, 1] (batch), [1, 1, 1, 2] (channels) and the control [1, 2, 2, 1] (the notes' own strides),
  each eagerly and inside a tf.function (TF 1 ran graphs); for each, the exception type and message
  raised, or the output's shape. A stride is accepted when it gives an output in either mode. Judged: the
  hypothesis holds if a batch or a channel stride is accepted; refuted if both raise in both modes. A
  control that fails is a broken check, not a verdict: the check then raises (the claim is inconclusive).
- X31: tf.nn.bias_add on fixed inputs (NumPy, seeded by `data_seed`): the notes' (2, 28, 28, 32) conv2d
  output shape with a (32,) bias, and a (4, 3) matrix (the quote's "matrix") with a (3,) bias. "Adds along
  the last dimension" is judged as bit-identical to NumPy's float32 `value + bias[None, None, None, :]`
  (`value + bias[None, :]` for the matrix), both inputs. "A 1-d bias" is judged by what bias_add refuses:
  a bias of length 28 (the length of the tensor's height and width, not of its last dimension) and a
  2-D (1, 32) bias (which tf.add would broadcast) must each raise, eagerly and inside a tf.function (TF 1
  ran graphs); the exception type and message of each are recorded. A case that gives an output in either
  mode refutes its part. Recorded, not judged: data_format="NCHW" on the (2, 32, 28, 28) transpose, run on
  this machine's CPU (the op documents NCHW for GPUs): whether it raises, and if not, whether it adds
  along dimension 1 (the channels) rather than the last.
- X34: each axis of the filter is identified by what changes when it changes, on fixed (1, 28, 28, c)
  inputs with 'VALID' padding: a [5, 3, 1, 32] filter on a greyscale 28x28 input must give 24 rows and 26
  columns (the first axis spans the height, the second the width) and 32 output channels (the last axis);
  the quote's own [5, 5, 1, 32] on a 3-channel input must raise, eagerly and inside a tf.function, and
  [5, 5, 3, 32] on it must give an output (the third axis is the input's channel count). The tutorial's
  call, [5, 5, 1, 32] with 'SAME' on 28x28x1, is recorded with its output shape. Recorded, not judged (seen
  in the first run of the check, so kept out of the rule): tf.nn.conv2d reads a third axis that divides the
  input's channels as a grouped convolution, so [5, 5, 1, 30] on the 3-channel input runs (3 groups of 1
  channel); [5, 5, 1, 32] raises there only because 32 is not a multiple of 3. "in_channels" is the input
  channels each output channel sees.
"""

import re

from claimlab.checks import max_abs_difference, raised
from claimlab.domains import Integer
from claimlab.spec import Advice, Claim, Source
from claimlab.verdict import Exact

SOURCE_000 = "000_2706fe11d950e137.txt"
SOURCE_003 = "003_8f61efd7de26bf97.txt"
SOURCE_004 = "004_6e8709b0f2e54d47.txt"

TITLE = ("TensorFlow ops: max_pool on rank-3 tensors, tf.add vs bias_add, what tf.nn.dropout drops, keep_prob vs "
         "rate, conv2d strides on batch and channels, conv2d's filter axes")

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="X3",
        kind="exact",
        quote=(
            "tf.nn.max_pool expects a rank 4 Tensor, but 1-d convnets are rank 3 in tensorflow ([batch, width, "
            "depth]), so when I pass the output of conv1d to the max pool function, this is the error:\n"
            "ValueError: Shape (1, 144, 512) must have rank 4\n"
            "A quick way would be to add an extra singleton dimension i.e. make the shape (1, 1, 144, 512), from "
            "there you can reduce it back with tf.squeeze."
        ),
        source=Source(SOURCE_000, "130-138", "How to perform max pooling on a 1-dimensional ConvNet (conv1d) in TensowFlow?"),
        hypothesis=(
            "tf.nn.conv1d gives a rank-3 (1, 144, 512) tensor; tf.nn.max_pool on it raises a ValueError; "
            "expand_dims to (1, 1, 144, 512), a 1x2 max pool and tf.squeeze give exactly tf.nn.max_pool1d and "
            "keras.layers.MaxPooling1D(2)."
        ),
        rule=Exact("max_pool_on_conv1d_output", expect={
            "conv1d_output_shape": [1, 144, 512],
            "tf_nn_max_pool_rank3_raises": "ValueError",
            "expanded_shape": [1, 1, 144, 512],
            "workaround_equals_max_pool1d": True,
            "workaround_equals_MaxPooling1D": True,
        }, note="TF 1's op (tf.compat.v1.nn.max_pool) is recorded in the check, not judged.",
            context=lambda measured: tf1_max_pool_context(measured)),
    ),
    Claim(
        id="X12",
        kind="exact",
        quote="To make life easier, the code is using tf.nn.bias_add() to add the bias. Using tf.add() doesn't "
              "work when the tensors aren't the same shape.",
        source=Source(SOURCE_003, "78-86", "Introduction to CNNs notes (Udacity DLND): Convolutional Network in TensorFlow"),
        hypothesis=(
            "tf.add(conv, b), with conv the (2, 28, 28, 32) output of tf.nn.conv2d and b a (32,) bias, raises an "
            "error (the tensors are not the same shape)."
        ),
        rule=Exact("add_vs_bias_add", expect={"tf_add_raises_when_shapes_differ": True},
                   note="Whether tf.add then equals tf.nn.bias_add, and the cases where the two ops differ, "
                        "are recorded, not judged.",
                   context=lambda measured: add_context(measured)),
    ),
    Claim(
        id="X14",
        kind="exact",
        quote=(
            "for example, for tf.nn.dropout(x, 0.1)\n"
            "if size of x is 3 dimensional of size 2 * 10 * 10\n"
            "then is dropout applied channel-wise means in each channel it ignores randomly 10 values\n"
            "applies on whole input means it ignores randomly 20 values from whole 2 * 10 * 10 features?\n"
            "So, for every iteration dropout will randomly eliminate features this makes the neuron not to rely "
            "on any one feature."
        ),
        source=Source(SOURCE_004, "61-75", "How dropout works in tensorflow"),
        hypothesis=(
            "The question's two readings are both wrong: tf.nn.dropout(x, 0.1) on a 2x10x10 tensor drops each "
            "element independently with probability 0.1, so the count per channel is not always 10 and the "
            "total not always 20; the dropped fraction over many calls is within 4 standard errors of 0.1; "
            "kept values are multiplied by 1/(1-0.1); each call draws a new mask; only SpatialDropout2D "
            "(channels first) or noise_shape=[2, 1, 1] drop whole channels."
        ),
        rule=Exact("dropout_on_2x10x10", expect={
            "dropped_per_channel_is_always_10": False,
            "dropped_in_total_is_always_20": False,
            "dropped_fraction_within_4_standard_errors_of_rate": True,
            "kept_values_scaled_by_1_over_1_minus_rate": True,
            "new_mask_each_call": True,
            "spatial_dropout_drops_whole_channels": True,
            "noise_shape_drops_whole_channels": True,
        }),
    ),
    Claim(
        id="X25",
        kind="exact",
        quote=(
            "# Network Parameters\n"
            "n_classes = 10 # MNIST total classes (0-9 digits)\n"
            "dropout = 0.75 # Dropout, probability to keep units"
        ),
        source=Source(SOURCE_003, "75-77", "Introduction to CNNs notes (Udacity DLND): Convolutional Network in TensorFlow"),
        hypothesis=(
            "Passing the notes' dropout = 0.75 to today's tf.nn.dropout, as tf.nn.dropout(x, 0.75), keeps 75% of "
            "the units: over CONFIG['keep_prob_calls'] calls on a fixed (100, 100) input, the kept fraction lies "
            "within 4 binomial standard errors of 0.75."
        ),
        rule=Exact("dropout_keep_prob_vs_rate", expect={
            "tf_nn_dropout_0_75_kept_fraction_within_4_standard_errors_of_0_75": True,
        }, note="The standard error is sqrt(0.75 * 0.25 / elements). tf.nn.dropout(x, rate=0.25), "
                "tf.compat.v1.nn.dropout(x, keep_prob=0.75) and keras.layers.Dropout(0.75) are recorded in the "
                "check, not judged.",
            context=lambda measured: keep_prob_context(measured)),
    ),
    Claim(
        id="X26",
        kind="exact",
        quote=(
            "TensorFlow uses a stride for each input dimension, [batch, input_height, input_width, input_channels]. "
            "We are generally always going to set the stride for batch and input_channels (i.e. the first and "
            "fourth element in the strides array) to be 1. … "
            "In TensorFlow, strides is an array of 4 elements; the first element in this array indicates the stride "
            "for batch and last element indicates stride for features. It's good practice to remove the batches or "
            "features you want to skip from the data set rather than use a stride to skip them."
        ),
        source=Source(SOURCE_003, "41-84", "Introduction to CNNs notes (Udacity DLND): Convolutional Network in TensorFlow"),
        hypothesis=(
            "tf.nn.conv2d accepts a stride above 1 on the batch axis or on the channel axis (it skips batches or "
            "features): strides [2, 1, 1, 1] or [1, 1, 1, 2] on a (4, 8, 8, 4) input give an output, eagerly or "
            "inside a tf.function."
        ),
        rule=Exact("conv2d_batch_and_channel_strides", expect={
            "conv2d_accepts_a_batch_or_channel_stride": True,
        }, note="A stride is accepted when it gives an output eagerly or in a tf.function; the exceptions raised, "
                "and the control strides [1, 2, 2, 1], are recorded in the check.",
            context=lambda measured: strides_context(measured)),
    ),
    Claim(
        id="X31",
        kind="exact",
        quote="The tf.nn.bias_add() function adds a 1-d bias to the last dimension in a matrix.",
        source=Source(SOURCE_003, "133", "Introduction to CNNs notes (Udacity DLND): Convolutional Network in TensorFlow"),
        hypothesis=(
            "tf.nn.bias_add(value, bias) adds a 1-D bias along value's last dimension: on a (2, 28, 28, 32) value "
            "with a (32,) bias, and on a (4, 3) matrix with a (3,) bias, it equals value + bias broadcast along the "
            "last axis exactly; a bias whose length is not the last dimension's (28), and a 2-D (1, 32) bias, "
            "raise, eagerly and inside a tf.function."
        ),
        rule=Exact("bias_add_last_dimension", expect={
            "adds_along_the_last_dimension": True,
            "bias_of_another_length_raises": True,
            "non_1d_bias_raises": True,
        }, note="Equality is bit-for-bit against NumPy's float32 sum; a case raises when it raises both eagerly and "
                "in a tf.function. data_format='NCHW' on the CPU is recorded in the check, not judged.",
            context=lambda measured: bias_add_context(measured)),
    ),
    Claim(
        id="X34",
        kind="exact",
        quote=(
            "tf.nn.conv2d() tells that the second parameter represent your filter and consists of [filter_height, "
            "filter_width, in_channels, out_channels]. So [5, 5, 1, 32] means that your in_channels is 1: you have "
            "a greyscale image, so no surprises here."
        ),
        source=Source(SOURCE_000, "11", "Tensorflow MNIST using convolution parameters"),
        hypothesis=(
            "tf.nn.conv2d's filter axes are [height, width, in_channels, out_channels]: with 'VALID' padding a "
            "[5, 3, 1, 32] filter turns a 28x28 greyscale input into 24 rows, 26 columns and 32 channels; the "
            "quote's [5, 5, 1, 32] raises on a 3-channel input, and a [5, 5, 3, 32] filter takes it."
        ),
        rule=Exact("conv2d_filter_axes", expect={
            "height_width_output_shape": [1, 24, 26, 32],
            "in_channels_mismatch_raises": True,
            "three_channel_filter_output_shape": [1, 24, 24, 32],
        }, note="A mismatch raises when it raises both eagerly and in a tf.function; the exceptions, the "
                "tutorial's [5, 5, 1, 32] with 'SAME' on 28x28x1, and a grouped [5, 5, 1, 30] on the 3-channel "
                "input are recorded in the check.",
            context=lambda measured: filter_axes_context(measured)),
    ),
]

# Lines of the same threads that advise rather than claim: the ledger's "Not judged" section lists them.
NOT_JUDGED = [
    Advice(
        quote=(
            "When applied to first layer which has 7 units, we use rate = 0.3 which means we have to drop 30% of "
            "units from 7 units randomly. For next layer which has 7 units, we add dropout rate = 0.5 because here "
            "previous layer 7 units and this layer 7 units which make this layer to overfit the data so, we are "
            "making 50% of units drop.\n"
            "If may be done then the rate to drop will be almost 0.1 and less than that."
        ),
        source=Source(SOURCE_004, "72-73", "How dropout works in tensorflow"),
        why=("a rule of thumb for choosing each layer's dropout rate on a toy [7, 7, 3, 2, 1] network, with no data "
             "or task: a rate that is better on one problem says nothing of another, and the answer states no "
             "outcome (accuracy, overfitting) that a measurement could settle. What tf.nn.dropout does with a rate "
             "is X14."),
    ),
]


# ---- configuration -------------------------------------------------------------------------------
CONFIG = {
    # X14: calls of tf.nn.dropout on the 2x10x10 tensor (200,000 elements in all)
    # X14 compares each call's mask with the previous one
    "dropout_calls": Integer(1000, min=2),
    # X14: independent samples through SpatialDropout2D / noise_shape
    "spatial_dropout_samples": Integer(1000, min=1),
    # X25: calls of each dropout op on the (100, 100) input (1,000,000 elements at 100)
    "keep_prob_calls": Integer(100, min=1),
}
PROFILES = {"smoke": {"seeds": 1}, "quick": {"seeds": 1}, "full": {"seeds": 1}}  # nothing is seeded per trial
ARMS = {}

DROPOUT_RATE = 0.1  # the question's rate and shape: part of the claim, so not configurable
DROPOUT_SHAPE = (2, 10, 10)
NOTES_DROPOUT = 0.75  # X25: the notes' `dropout = 0.75`, a probability to keep units
KEEP_PROB_SHAPE = (100, 100)


# ---- X3: max pooling a conv1d output ---------------------------------------------------------------
def max_pool_on_conv1d_output(cfg):
    import numpy as np
    import tensorflow as tf
    from keras import layers

    rng = np.random.default_rng(cfg["data_seed"])
    characters = tf.constant(rng.normal(size=(1, 144, 16)).astype("float32"))
    kernels = tf.constant(rng.normal(size=(3, 16, 512)).astype("float32"))
    conv = tf.nn.conv1d(characters, kernels, stride=1, padding="SAME")  # [batch, width, depth]

    window = {"ksize": 2, "strides": 2, "padding": "VALID"}
    direct = raised(lambda: tf.nn.max_pool(conv, **window))
    tf1_window = {"ksize": [1, 2, 1, 1], "strides": [1, 2, 1, 1], "padding": "VALID"}
    tf1_eager = raised(lambda: tf.compat.v1.nn.max_pool(conv, **tf1_window))
    tf1_traced = raised(lambda: tf.function(lambda t: tf.compat.v1.nn.max_pool(t, **tf1_window))(conv))

    expanded = tf.expand_dims(conv, 1)  # (1, 1, 144, 512): the answer's singleton dimension
    workaround = tf.squeeze(tf.nn.max_pool(expanded, ksize=[1, 1, 2, 1], strides=[1, 1, 2, 1], padding="VALID"), 1)
    pool1d = tf.nn.max_pool1d(conv, **window)
    keras_pool = layers.MaxPooling1D(2)(conv)
    measured = {
        "conv1d_output_shape": list(conv.shape),
        "claimed_message": "Shape (1, 144, 512) must have rank 4",
        "tf_nn_max_pool_rank3_raises": direct["raises"],
        "tf_nn_max_pool_rank3_message": direct["message"],
        "tf_compat_v1_max_pool_eager": tf1_eager,
        "tf_compat_v1_max_pool_in_tf_function": tf1_traced,
        "expanded_shape": list(expanded.shape),
        "workaround_shape": list(workaround.shape),
        "workaround_minus_max_pool1d_max_abs": max_abs_difference(workaround, pool1d),
        "workaround_equals_max_pool1d": bool(np.array_equal(workaround, pool1d)),
        "workaround_equals_MaxPooling1D": bool(np.array_equal(workaround, keras_pool)),
    }
    if direct["raises"] is None:  # TF 2's tf.nn.max_pool takes rank N+2 inputs: what does it compute?
        measured["tf_nn_max_pool_rank3_equals_max_pool1d"] = bool(np.array_equal(tf.nn.max_pool(conv, **window), pool1d))
    return measured


# ---- X12: tf.add vs tf.nn.bias_add -----------------------------------------------------------------
def add_vs_bias_add(cfg):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(cfg["data_seed"])
    images = tf.constant(rng.random((2, 28, 28, 1)).astype("float32"))
    weights = tf.constant(rng.normal(size=(3, 3, 1, 32)).astype("float32"))
    bias = tf.constant(rng.normal(size=(32,)).astype("float32"))
    conv = tf.nn.conv2d(images, weights, strides=[1, 1, 1, 1], padding="SAME")  # the notes' conv2d

    added = raised(lambda: tf.add(conv, bias))
    traced = raised(lambda: tf.function(tf.add)(conv, bias))  # TF 1 ran graphs: same answer there?
    measured = {
        "conv_shape": list(conv.shape),
        "bias_shape": list(bias.shape),
        "shapes_differ": list(conv.shape) != list(bias.shape),
        "tf_add_raises": added["raises"],
        "tf_add_message": added["message"],
        "tf_add_raises_when_shapes_differ": added["raises"] is not None,
        "tf_add_in_tf_function_raises": traced["raises"],
    }
    if added["raises"] is None:
        difference = max_abs_difference(tf.add(conv, bias), tf.nn.bias_add(conv, bias))
        measured.update({"tf_add_output_shape": list(tf.add(conv, bias).shape),
                         "tf_add_minus_bias_add_max_abs": difference, "tf_add_equals_bias_add": difference == 0.0})
    # Where the two ops do differ: recorded, not judged.
    channels_first = tf.transpose(conv, [0, 3, 1, 2])
    measured["where_they_differ"] = {
        "NCHW tensor, bias (32,)": {"tf.add": raised(lambda: tf.add(channels_first, bias)),
                                    "tf.nn.bias_add(data_format='NCHW')": raised(
                                        lambda: tf.nn.bias_add(channels_first, bias, data_format="NCHW"))},
        "bias of shape (1, 32)": {"tf.add": raised(lambda: tf.add(conv, tf.reshape(bias, (1, 32)))),
                                  "tf.nn.bias_add": raised(lambda: tf.nn.bias_add(conv, tf.reshape(bias, (1, 32))))},
        "bias of shape (28,)": {"tf.add": raised(lambda: tf.add(conv, bias[:28])),
                                "tf.nn.bias_add": raised(lambda: tf.nn.bias_add(conv, bias[:28]))},
    }
    return measured


# ---- X31: the dimension tf.nn.bias_add adds its bias to --------------------------------------------
BIAS_ADD_SHAPE = (2, 28, 28, 32)  # the notes' conv2d output: height and width 28, 32 channels last
BIAS_ADD_MATRIX = (4, 3)


def bias_add_last_dimension(cfg):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(cfg["data_seed"])
    value = rng.normal(size=BIAS_ADD_SHAPE).astype("float32")
    bias = rng.normal(size=BIAS_ADD_SHAPE[-1:]).astype("float32")
    matrix = rng.normal(size=BIAS_ADD_MATRIX).astype("float32")
    matrix_bias = rng.normal(size=BIAS_ADD_MATRIX[-1:]).astype("float32")

    added = tf.nn.bias_add(tf.constant(value), tf.constant(bias)).numpy()
    added_matrix = tf.nn.bias_add(tf.constant(matrix), tf.constant(matrix_bias)).numpy()
    expected, expected_matrix = value + bias[None, None, None, :], matrix + matrix_bias[None, :]

    def both_modes(bias_of_case):
        """bias_add(value, bias_of_case) eagerly and inside a tf.function: what each raised, or nothing."""
        case = tf.constant(bias_of_case)
        return {"bias_shape": list(case.shape),
                "eager": raised(lambda: tf.nn.bias_add(tf.constant(value), case)),
                "tf_function": raised(lambda: tf.function(tf.nn.bias_add)(tf.constant(value), case))}

    another_length = both_modes(bias[:BIAS_ADD_SHAPE[1]])  # 28: the height's and width's length, not the last
    two_dimensional = both_modes(bias.reshape(1, -1))  # (1, 32): tf.add would broadcast it

    def refused(case):
        return all(case[mode]["raises"] is not None for mode in ("eager", "tf_function"))

    channels_first = np.ascontiguousarray(value.transpose(0, 3, 1, 2))  # (2, 32, 28, 28)
    nchw_outputs = []
    nchw = raised(lambda: nchw_outputs.append(
        tf.nn.bias_add(tf.constant(channels_first), tf.constant(bias), data_format="NCHW").numpy()))
    if nchw_outputs:
        nchw["output_shape"] = list(nchw_outputs[0].shape)
        nchw["adds_along_dimension_1"] = bool(np.array_equal(nchw_outputs[0], channels_first + bias[None, :, None, None]))
    return {
        "value_shape": list(BIAS_ADD_SHAPE),
        "bias_shape": list(bias.shape),
        "output_shape": list(added.shape),
        "minus_value_plus_bias_max_abs": max_abs_difference(added, expected),
        "equals_value_plus_bias_on_the_last_axis": bool(np.array_equal(added, expected)),
        "matrix_shape": list(BIAS_ADD_MATRIX),
        "matrix_minus_value_plus_bias_max_abs": max_abs_difference(added_matrix, expected_matrix),
        "matrix_equals_value_plus_bias_on_the_last_axis": bool(np.array_equal(added_matrix, expected_matrix)),
        "adds_along_the_last_dimension": bool(np.array_equal(added, expected)
                                              and np.array_equal(added_matrix, expected_matrix)),
        "bias_of_another_length": another_length,
        "bias_of_another_length_raises": refused(another_length),
        "non_1d_bias": two_dimensional,
        "non_1d_bias_raises": refused(two_dimensional),
        "nchw_on_cpu": nchw,
        "nchw_on_cpu_raises": nchw["raises"],
    }


# ---- X34: what each axis of tf.nn.conv2d's filter is ---------------------------------------------
def conv2d_filter_axes(cfg):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(cfg["data_seed"])
    greyscale = tf.constant(rng.normal(size=(1, 28, 28, 1)).astype("float32"))
    colour = tf.constant(rng.normal(size=(1, 28, 28, 3)).astype("float32"))

    def conv(x, filter_shape, padding="VALID"):
        return tf.nn.conv2d(x, tf.constant(rng.normal(size=filter_shape).astype("float32")), strides=1,
                            padding=padding)

    # A non-square filter tells the height axis from the width axis: 28-5+1 rows, 28-3+1 columns.
    eager = raised(lambda: conv(colour, (5, 5, 1, 32)))
    in_graph = raised(lambda: tf.function(conv)(colour, (5, 5, 1, 32)))
    # 3 groups of 1 input channel: TF accepts it when the output channels divide by 3
    grouped_outputs = []
    grouped = raised(lambda: grouped_outputs.append(conv(colour, (5, 5, 1, 30))))
    if grouped_outputs:
        grouped["output_shape"] = list(grouped_outputs[0].shape)
    return {
        "height_width_output_shape": list(conv(greyscale, (5, 3, 1, 32)).shape),
        "in_channels_mismatch": {"eager": eager, "tf_function": in_graph},
        "in_channels_mismatch_raises": eager["raises"] is not None and in_graph["raises"] is not None,
        "three_channel_filter_output_shape": list(conv(colour, (5, 5, 3, 32)).shape),
        "tutorial_output_shape": list(conv(greyscale, (5, 5, 1, 32), padding="SAME").shape),
        "grouped_filter_on_three_channels": grouped,
    }


# ---- X14: what tf.nn.dropout drops, and what it does to the rest -----------------------------------
def dropout_on_2x10x10(cfg):
    import keras
    import numpy as np
    import tensorflow as tf

    rate, calls = DROPOUT_RATE, cfg["dropout_calls"]
    x = tf.constant(np.random.default_rng(cfg["data_seed"]).uniform(0.5, 1.5, DROPOUT_SHAPE).astype("float32"))
    outputs = np.stack([tf.nn.dropout(x, rate).numpy() for _ in range(calls)])  # one call per iteration
    dropped = outputs == 0  # x has no zeros, so a zero is a dropped element
    per_channel = dropped.reshape(calls, DROPOUT_SHAPE[0], -1).sum(axis=2)  # (calls, 2 channels)
    total = per_channel.sum(axis=1)
    fraction = float(dropped.mean())
    standard_error = float(np.sqrt(rate * (1 - rate) / dropped.size))
    kept_ratio = (outputs / x.numpy())[~dropped]
    masks = dropped.reshape(calls, -1)

    # Whole-channel dropout: SpatialDropout2D on channels-first maps, and tf.nn.dropout with noise_shape.
    samples = cfg["spatial_dropout_samples"]
    batch = tf.repeat(x[None], samples, axis=0)  # (samples, 2, 10, 10): each sample gets its own mask
    spatial = keras.layers.SpatialDropout2D(rate, data_format="channels_first")(batch, training=True).numpy()
    spatial_counts = (spatial == 0).reshape(samples, DROPOUT_SHAPE[0], -1).sum(axis=2)
    noise_counts = np.stack([(tf.nn.dropout(x, rate, noise_shape=[DROPOUT_SHAPE[0], 1, 1]).numpy() == 0)
                             .reshape(DROPOUT_SHAPE[0], -1).sum(axis=1) for _ in range(samples)])
    channel_size = DROPOUT_SHAPE[1] * DROPOUT_SHAPE[2]
    keras_dropout = keras.layers.Dropout(rate)(batch, training=True).numpy()
    return {
        "calls": calls,
        "dropped_per_channel_min": int(per_channel.min()),
        "dropped_per_channel_max": int(per_channel.max()),
        "dropped_per_channel_mean": float(per_channel.mean()),
        "dropped_per_channel_variance": float(per_channel.var()),
        "binomial_variance_100_draws": 100 * rate * (1 - rate),
        "share_of_channels_with_exactly_10_dropped": float((per_channel == 10).mean()),
        "dropped_per_channel_is_always_10": bool((per_channel == 10).all()),
        "dropped_total_min": int(total.min()),
        "dropped_total_max": int(total.max()),
        "share_of_calls_with_exactly_20_dropped": float((total == 20).mean()),
        "dropped_in_total_is_always_20": bool((total == 20).all()),
        "dropped_fraction": fraction,
        "dropped_fraction_standard_error": standard_error,
        "dropped_fraction_within_4_standard_errors_of_rate": abs(fraction - rate) <= 4 * standard_error,
        "kept_value_scale_min": float(kept_ratio.min()),
        "kept_value_scale_max": float(kept_ratio.max()),
        "claimed_scale_1_over_1_minus_rate": 1 / (1 - rate),
        "kept_values_scaled_by_1_over_1_minus_rate": bool(np.allclose(kept_ratio, 1 / (1 - rate), rtol=1e-6, atol=0)),
        "share_of_consecutive_calls_with_the_same_mask": float((masks[1:] == masks[:-1]).all(axis=1).mean()),
        "new_mask_each_call": bool(not (masks[1:] == masks[:-1]).all(axis=1).any()),
        "spatial_dropout_channel_counts_seen": sorted({int(c) for c in np.unique(spatial_counts)}),
        "spatial_dropout_dropped_channel_fraction": float((spatial_counts == channel_size).mean()),
        "spatial_dropout_drops_whole_channels": bool(np.isin(spatial_counts, [0, channel_size]).all()
                                                     and (spatial_counts == channel_size).any()),
        "noise_shape_channel_counts_seen": sorted({int(c) for c in np.unique(noise_counts)}),
        "noise_shape_drops_whole_channels": bool(np.isin(noise_counts, [0, channel_size]).all()
                                                 and (noise_counts == channel_size).any()),
        "keras_dropout_dropped_fraction": float((keras_dropout == 0).mean()),
        "keras_dropout_kept_scale_max_abs_error": float(np.abs(
            (keras_dropout / batch.numpy())[keras_dropout != 0] - 1 / (1 - rate)).max()),
    }


# ---- X25: the notes' keep probability passed to today's tf.nn.dropout ----------------------------------
def dropout_keep_prob_vs_rate(cfg):
    import keras
    import numpy as np
    import tensorflow as tf

    keep, calls = NOTES_DROPOUT, cfg["keep_prob_calls"]
    x = tf.constant(np.random.default_rng(cfg["data_seed"]).uniform(0.5, 1.5, KEEP_PROB_SHAPE).astype("float32"))
    elements = calls * x.shape.num_elements()

    def kept(op):
        """The kept fraction over `calls` calls of op(x) (x has no zeros: a zero is a dropped unit) and the
        smallest and largest factor a kept value was multiplied by; or the exception op raised."""
        error = raised(lambda: op(x))
        if error["raises"] is not None:
            return {**error, "kept_fraction": None}
        outputs = np.stack([np.asarray(op(x)) for _ in range(calls)])
        scale = (outputs / x.numpy())[outputs != 0]
        return {**error, "kept_fraction": float((outputs != 0).mean()),
                "kept_scale_min": float(scale.min()), "kept_scale_max": float(scale.max())}

    dropout_layer = keras.layers.Dropout(keep)
    ops = {
        "tf.nn.dropout(x, 0.75)": lambda t: tf.nn.dropout(t, keep),  # the notes' value as today's second argument
        "tf.nn.dropout(x, rate=1 - 0.75)": lambda t: tf.nn.dropout(t, rate=1 - keep),
        "tf.compat.v1.nn.dropout(x, keep_prob=0.75)": lambda t: tf.compat.v1.nn.dropout(t, keep_prob=keep),
        "tf.compat.v1.nn.dropout(x, 0.75)": lambda t: tf.compat.v1.nn.dropout(t, keep),  # as TF 1 code called it
        "keras.layers.Dropout(0.75), training=True": lambda t: dropout_layer(t, training=True),
    }
    results = {name: kept(op) for name, op in ops.items()}
    fraction = results["tf.nn.dropout(x, 0.75)"]["kept_fraction"]
    standard_error = float(np.sqrt(keep * (1 - keep) / elements))
    return {
        "calls": calls,
        "elements": elements,
        "claimed_kept_fraction": keep,
        "by_op": results,
        "tf_nn_dropout_0_75_kept_fraction": fraction,
        "tf_nn_dropout_0_75_kept_scale": results["tf.nn.dropout(x, 0.75)"]["kept_scale_max"],
        "standard_error_at_0_75": standard_error,
        "tf_nn_dropout_0_75_minus_0_75_in_standard_errors": (fraction - keep) / standard_error,
        "tf_nn_dropout_0_75_kept_fraction_within_4_standard_errors_of_0_75": abs(fraction - keep) <= 4 * standard_error,
    }


# ---- X26: conv2d strides on the batch and channel axes ---------------------------------------------
CONV2D_STRIDES = {"batch": [2, 1, 1, 1], "channels": [1, 1, 1, 2], "control": [1, 2, 2, 1]}
GRAPH_TRACEBACK = re.compile(r"^Graph execution error: Detected at node .*, line \d+, in \S+ ")


def conv2d_batch_and_channel_strides(cfg):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(cfg["data_seed"])
    images = tf.constant(rng.random((4, 8, 8, 4)).astype("float32"))  # [batch, height, width, channels]
    weights = tf.constant(rng.normal(size=(3, 3, 4, 6)).astype("float32"))

    def attempt(conv):
        outputs = []
        outcome = raised(lambda: outputs.append(conv(images)), limit=100_000)
        if outcome["message"]:  # a graph error lists where the op was defined (paths on this machine), then its
            outcome["message"] = GRAPH_TRACEBACK.sub("", outcome["message"])[:400]  # message: keep the message
        outcome["output_shape"] = list(outputs[0].shape) if outputs else None
        return outcome

    by_stride = {}
    for axis, strides in CONV2D_STRIDES.items():
        def conv(t, strides=strides):
            return tf.nn.conv2d(t, weights, strides=strides, padding="SAME")

        by_stride[axis] = {"strides": strides, "eager": attempt(conv), "tf_function": attempt(tf.function(conv))}
    if any(by_stride["control"][mode]["raises"] for mode in ("eager", "tf_function")):  # a broken check, no verdict
        raise RuntimeError(f"the control strides [1, 2, 2, 1] failed: {by_stride['control']}")

    def accepted(axis):
        return any(by_stride[axis][mode]["raises"] is None for mode in ("eager", "tf_function"))

    return {
        "by_stride": by_stride,
        "control_output_shape": by_stride["control"]["eager"]["output_shape"],
        "batch_stride_accepted": accepted("batch"),
        "channel_stride_accepted": accepted("channels"),
        "conv2d_accepts_a_batch_or_channel_stride": accepted("batch") or accepted("channels"),
    }


# ---- what the checks recorded beside the judged values, added to the reasons -------------------------
def tf1_max_pool_context(measured):
    traced = measured["tf_compat_v1_max_pool_in_tf_function"]
    return (f"not judged, TF 1 behaviour: TF 1's op, tf.compat.v1.nn.max_pool, raises {traced['raises']} on it in a "
            "graph, as TF 1 ran it (the asker's error); Keras plays no part, so Keras 2 and 3 agree")


def add_context(measured):
    return f"not judged: tf.add equals tf.nn.bias_add here: {measured.get('tf_add_equals_bias_add')}"




def keep_prob_context(measured):
    fractions = ", ".join(f"{name}: {result['kept_fraction']:.4f}" if result["raises"] is None
                          else f"{name}: raises {result['raises']}" for name, result in measured["by_op"].items())
    return f"not judged, kept fractions over {measured['elements']:,} elements: {fractions}"


def strides_context(measured):
    def outcome(axis):
        modes = measured["by_stride"][axis]
        return ", ".join(f"{mode} {modes[mode]['raises'] or 'gives ' + str(modes[mode]['output_shape'])}"
                         for mode in ("eager", "tf_function"))

    return (f"batch stride [2, 1, 1, 1]: {outcome('batch')}; channel stride [1, 1, 1, 2]: {outcome('channels')}; "
            f"control [1, 2, 2, 1]: {outcome('control')}")


def bias_add_context(measured):
    def outcome(case):
        return ", ".join(f"{mode} raises {case[mode]['raises']}" if case[mode]["raises"] else f"{mode} gives an output"
                         for mode in ("eager", "tf_function"))

    nchw = measured["nchw_on_cpu"]
    nchw_text = (f"raises {nchw['raises']}" if nchw["raises"] else
                 f"gives {nchw['output_shape']}, adding along dimension 1 (the channels): {nchw['adds_along_dimension_1']}")
    return (f"bias of length 28: {outcome(measured['bias_of_another_length'])}; bias (1, 32): "
            f"{outcome(measured['non_1d_bias'])}; not judged: data_format='NCHW' on the CPU {nchw_text}")


def filter_axes_context(measured):
    mismatch = measured["in_channels_mismatch"]
    grouped = measured["grouped_filter_on_three_channels"]
    grouped_text = (f"raises {grouped['raises']}" if grouped["raises"] else
                    f"runs as a grouped convolution, giving {grouped['output_shape']}")
    return (f"[5, 5, 1, 32] on 28x28x3: eager raises {mismatch['eager']['raises']}, tf.function raises "
            f"{mismatch['tf_function']['raises']}; the tutorial's [5, 5, 1, 32] with 'SAME' on 28x28x1 gives "
            f"{measured['tutorial_output_shape']}; not judged: [5, 5, 1, 30] on 28x28x3 {grouped_text}")
