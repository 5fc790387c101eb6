"""Shapes and parameter counts of convolution and pooling layers, measured on real Keras/TF objects.

Fifteen exact claims from all five Q&A documents (the catalogue's X1, X2, X4, X8, X9, X10, X11; X21, X22 and X28
from issue 28's reading of the sources; X32, X33, X39, X40 and X41 from later readings of sources/003, 002 and
004):

    X1  "in convolutions you commonly use a bias for every output channel … that gives you 32 biases"
        (not one per pixel, as the asker thought: 28).                        sources/000, lines 5-9
    X2  Conv2D(32, (3,3)) on an RGB input: "It returns an array of 3x3x3x32."   sources/000, lines 59-69
    X4  Conv1D(1 filter, width 2) on 3 inputs + Dense(1): "Conv1D has 3 parameters … the dense layer has
        2 parameters"; with 2 filters "the layer will have 6 parameters"; the same filter on every
        patch (a layer with separate parameters per patch would have more).   sources/001, lines 3-7
    X8  output size (W−F+2P)/S+1; 32x32x3, 20 filters 8x8x3, stride 2, padding 1 -> 14x14x20.
                                                                              sources/003, lines 9-15
        (sources/002 line 94 states the same formula as (n+2p-f)/s +1.)
    X9  "There are 756560 total parameters" without parameter sharing, "3860" with it.
                                                                              sources/003, lines 17-22
    X10 the second conv layer (32 input channels, 64 kernels of 5x5): "a kernel with this size
        (64 x 32 x 5 x 5)".                                                   sources/002, lines 106-108
    X11 2x2/stride-2 max pooling of 4x4x5: "[1, 2, 2, 5], even if padding is changed to 'SAME'".
                                                                              sources/003, lines 59-60
    X21 a kernel's depth matches the input's, "but values are all the same" over its channel slices.
                                                                              sources/002, lines 107-108
    X22 after 32 channels, "the hidden layer has 2 kernels per channel, and the output would be 64
        channels".                                                            sources/002, line 110
    X28 backpropagation: "rotate your stored channel matrix by 180 degrees and then convolve it with the
        gradient", or "apply “correlation”" between them.                    sources/002, lines 112-114
    X32 2x2/stride-2 max pooling: "[[1, 1], [5, 6]] becomes 6 and [[3, 2], [1, 2]] becomes 3".
                                                                              sources/003, line 88
    X33 the asker's network: 100x100x3 -> 25x25x12 -> 12x12x12 -> 12x12x24 -> 5x5x24 -> "300x1x1 Flatten
        layer: 600 -> 300" -> 300 -> 3.                                       sources/002, lines 3-12
    X39 "When you define a Conv2D layer...the parameters of each neuron are the same" (its 64 filters
        hold one set of weights).                                             sources/004, line 5
    X40 2x2/stride-2 max pooling: "[[1, 0], [4, 6]] becomes 6 ... Similarly, [[2, 3], [6, 8]] becomes 8".
                                                                              sources/003, lines 44-45
    X41 "the output depth is the same as the input depth ... the pooling operation is applied
        individually for each depth slice".                                   sources/003, line 57

Every check builds the real layer (or calls the real TF op) and reads the shape or count off it; no
number below is computed by a formula alone. The verdict is what the installed Keras 3 / TF 2 do.

Design choices, made before any run:
- Keras stores a Conv2D kernel as (rows, cols, in_channels, out_channels). X10's "(64 x 32 x 5 x 5)" is
  written out-channels first (PyTorch / the answer's order); the check reports both the Keras shape and
  the same array transposed to (out, in, rows, cols), and the rule compares the latter: the claim is
  about which sizes the kernel has, not about a memory layout.
- X9 needs a layer without parameter sharing. Keras 3 no longer ships LocallyConnected2D, so the check
  uses claimlab.layers.LocallyConnected2D (a separate kernel and bias per output position, tested in
  tests/test_layers.py against a per-patch NumPy computation), and compares it with Keras 2's own
  LocallyConnected2D (tf-keras) on identical weights: the same parameter count, outputs equal to float
  tolerance (reported, not judged). X4 uses its 1-D sibling. Under `--keras 2` both checks use Keras 2's
  own layers.
- X8's "padding of size 1" is applied explicitly (ZeroPadding2D(1), and tf.nn.conv2d's explicit
  padding list): Keras' padding="valid" means no padding at all (the check also reports what "valid"
  and "same" give, 13x13 and 16x16). The formula is then compared with the output sizes of a real
  convolution over a grid of input sizes n, filter sizes f, strides s and paddings p. Where (n+2p-f) is
  not a multiple of s the formula as written gives a fraction; the rule judges the formula where it
  gives a whole number and reports how many grid points need a floor (what Keras and TF do).
- X11: the 4x4x5 input is the catalogue's reading of the source's figure (the text gives only the
  answer); pooled with keras MaxPooling2D and with tf.nn.max_pool, padding "valid" and "same".
- X10 also measures, for the record, two things the same answers say around the quoted lines: whether
  the 32 channel slices of one kernel hold the same values, and what line 110's "2 kernels per channel"
  would cost (a depthwise convolution with depth multiplier 2). Neither enters X10's rule; X21 and X22
  judge them, on `check_seeds` (5) draws of the fresh kernels, the worst draw judged.
- X21: "values are all the same" is read both ways it could be meant. As initialised: how many of the
  second layer's 64 fresh kernels have 32 bit-equal channel slices (the claim: all). As trained: from
  kernels whose slices are made copies, one gradient step of a loss on the output, and whether they are
  still copies (they stay copies only if every input channel carried the same values).
- X22: "2 kernels per channel" is what keras.layers.DepthwiseConv2D(depth_multiplier=2) computes: each
  output channel from one input channel. Which input channels an output channel depends on is found by
  adding 1 to one input channel at a time and seeing which output channels change; the rule claims 1
  input channel per output channel and 32 x 2 x 5 x 5 kernel weights for the Conv2D, and the depthwise
  layer is measured beside it.
- X28: the answer's two ways of backpropagating use the stored input and the gradient from the layer below,
  so they compute the kernel's gradient; the answer offers them as two ways to the same thing. Measured on
  a Keras Conv2D (1 channel in and out, 3x3, 'valid', no bias) on an 8x8 input, with a fixed random output
  gradient G: tf.GradientTape's kernel gradient against scipy.signal.convolve2d(rot180(input), G) and
  scipy.signal.correlate2d(input, G), both 'valid'. Keras' Conv2D is a cross-correlation, so which of the
  two holds depends on that convention: the rule judges Keras' layer, and records whether the other is
  the gradient turned by 180 degrees (the gradient of a layer whose forward pass flips the kernel), and
  that the gradient passed up is G fully convolved with the kernel. On `check_seeds` draws of the kernel.
- X32: the text gives two of the figure's four 2x2 windows and what they pool to, not the figure. The
  check assumes the order of the sentence: [[1, 1], [5, 6]] is the input's top-left quadrant and
  [[3, 2], [1, 2]] its top-right one; the bottom two quadrants, which the text does not give, are filled
  with arbitrary fixed values ([[2, 4], [7, 8]] and [[1, 0], [3, 4]]). With non-overlapping 2x2 windows a
  quadrant's maximum does not depend on where it sits, so the assumption cannot change the verdict; the
  check also pools the layout with the two named quadrants on the left (top-left, bottom-left), recorded,
  not judged. The 1x4x4x1 float32 input is pooled by keras.layers.MaxPooling2D(2, strides=2) and by
  tf.nn.max_pool(ksize 2, strides 2, 'VALID'); judged: the two named quadrants pool to 6 and 3 in both.
- X33: the question lists each layer's output shape in front of its row. The check builds the layers as
  described (padding = 2 as an explicit ZeroPadding2D(2), since Keras' 'same' is not defined as a number)
  and compares every row. A Flatten layer only reshapes (no weights), so its output is whatever the 5x5x24
  map holds; the row's "600 -> 300" is read with its first column, as on the other rows: a Flatten that
  outputs 300. The weights a 600 -> 300 step would need (a Dense layer) are recorded.
- X39: the asker's layer, Conv2D(64, 3) on 28x28x1 greyscale images, fresh from each of `check_seeds`
  draws: how many of its 64 filters (3x3x1 weights and a bias each) differ from the first one. The claim:
  none (the worst draw, the one with most alike filters, judged). Recorded beside it: the filters' shared
  settings (strides, padding, activation), which the question lists as the same, and are.
- X40: the notes' earlier pooling figure (lines 44-45), read as X32 reads its own: the two named windows
  are the input's top quadrants in the sentence's order, the bottom two are X32's fixed fillers.
- X41: "applied individually for each depth slice" is read as: each output channel is what pooling that
  input channel alone gives, bit for bit. Measured on a 1x8x8x5 input of random values (a fresh draw per
  check seed), for MaxPooling2D and AveragePooling2D (2x2, stride 2) and tf.nn.max_pool; the claim holds
  when every output channel of every draw equals the pooling of its slice alone and the depth is 5.
- Every check starts from keras.backend.clear_session(), so layer names (and so error messages) do not
  depend on which check ran before.
"""

from claimlab.checks import (fresh_keras, keras_major, locally_connected, max_abs_difference,
                             over_weight_draws, shape_of, weight_draws_text)
from claimlab.domains import Integer, Sizes
from claimlab.spec import Advice, Claim, Source
from claimlab.train import import_tensorflow
from claimlab.verdict import Exact

TITLE = ("Convolution and pooling shapes, parameter counts and kernels (X1 X2 X4 X8 X9 X10 X11 X21 X22 X28 X32 X33 "
         "X39 X40 X41), measured in Keras")

SOURCE_000 = "000_2706fe11d950e137.txt"
SOURCE_001 = "001_448bd649d2fb709b.txt"
SOURCE_002 = "002_6725717de9344925.txt"
SOURCE_003 = "003_8f61efd7de26bf97.txt"
SOURCE_004 = "004_6e8709b0f2e54d47.txt"
MNIST_QUESTION = "Tensorflow MNIST using convolution parameters"
FILTER_QUESTION = "Conv2D: How can I get the values of each filter"
KERNEL_QUESTION = "Kernel size change in convolutional neural networks"
HUGE_NUMBERS_QUESTION = "How to combat huge numbers produced by relu-oriented CNN"
CNN_NOTES = "Introduction to CNNs notes (Udacity DLND): Feature Map Sizes, Pooling Mechanics"

# ---- the claims -----------------------------------------------------------------------------------
CLAIMS = [
    Claim(
        id="X1",
        kind="exact",
        quote=(
            "in convolutions you commonly use a bias for every output channel, and this example uses 32 output "
            "channels in the first convolution layer and that gives you 32 biases.\n"
            "W_conv1 = weight_variable([5, 5, 1, 32])\n"
            "b_conv1 = bias_variable([32])"
        ),
        source=Source(SOURCE_000, "5-9", MNIST_QUESTION),
        hypothesis=(
            "Conv2D(32, 5x5, padding='same') on a 28x28x1 image has a bias of shape (32,) (one per output "
            "channel, not one per pixel), added unchanged at every pixel of its channel; its kernel is 5x5x1x32."
        ),
        rule=Exact("conv_bias_per_output_channel",
                   expect={"bias_shape": [32], "kernel_shape": [5, 5, 1, 32], "bias_constant_over_pixels": True},
                   note="bias_constant_over_pixels: output minus the same convolution without bias varies by less "
                        "than 1e-4 over the pixels of each channel and equals that channel's bias."),
    ),
    Claim(
        id="X2",
        kind="exact",
        quote=(
            "classifier.add(Conv2D(32, (3,3), input_shape = (IMAGE_SIZE, IMAGE_SIZE, 3)))\n"
            "It returns an array of 3x3x3x32.\n"
            "Hence the result shape is 3x3x3x32 and shape of each filter is 3x3x3."
        ),
        source=Source(SOURCE_000, "59-69", FILTER_QUESTION),
        hypothesis=(
            "classifier.layers[0].get_weights()[0] of Conv2D(32, (3,3)) on a 3-channel input has shape "
            "(3, 3, 3, 32); each filter is 3x3x3 and one output value sums its three channel slices."
        ),
        rule=Exact("rgb_conv_kernel_shape", expect={"weights_shape": [3, 3, 3, 32], "filter_shape": [3, 3, 3],
                                                  "output_is_sum_over_channels": True}),
    ),
    Claim(
        id="X4",
        kind="exact",
        quote=(
            "I only get 5 parameters when I check it in model.summary():\n"
            "Precisely, the convolutional filter of length 2 is applied twice to inputs (x[0], x[1]) and "
            "(x[1], x[2]), but it's the same filter in both cases and correspondingly the trainable parameters "
            "are the same too.\n"
            "Conv1D has 3 parameters (weight (2) and bias (1)), the dense layer has 2 parameters because the "
            "output of Conv1D is (?, 2, 1).\n"
            "Probably they mean 2 filters (but then the layer will have 6 parameters)... But I'm not aware of any "
            "implementation, in which the convolutional layer has separate parameters for each patch."
        ),
        source=Source(SOURCE_001, "3-7", "(untitled) I am trying to recreate the following tutorial CNN with 3 "
                                         "inputs and sigmoid activation functions in keras"),
        hypothesis=(
            "Input (3, 1) -> Conv1D(1, 2) -> Dense(1): the conv has 3 parameters, its output is (None, 2, 1), the "
            "Dense has 2 (it acts on the last axis), 5 in all; Conv1D(2, 2) has 6; one filter is applied to "
            "both patches; a locally connected layer (separate parameters per patch) has more than the conv."
        ),
        rule=Exact("conv1d_parameter_count",
                   expect={"conv_parameters": 3, "dense_parameters": 2, "total_parameters": 5,
                           "conv_output_shape": [None, 2, 1], "two_filter_conv_parameters": 6,
                           "same_filter_on_both_patches": True, "locally_connected_more_than_conv": True},
                   note="The locally connected layer is claimlab.layers.LocallyConnected1D (Keras 3 has none); "
                        "under --keras 2, Keras 2's own LocallyConnected1D."),
    ),
    Claim(
        id="X8",
        kind="exact",
        quote=(
            "the following formula gives us the volume of the next layer: (W−F+2P)/S+1.\n"
            "An input of shape 32x32x3 (HxWxD)\n"
            "20 filters of shape 8x8x3 (HxWxD)\n"
            "A stride of 2 for both the height and width (S)\n"
            "Valid padding of size 1 (P)\n"
            "An output of shape 14x14x20 (HxWxD)"
        ),
        source=Source(SOURCE_003, "9-15", CNN_NOTES),
        hypothesis=(
            "A real convolution of a 32x32x3 input zero-padded by 1 with 20 8x8 filters at stride 2 outputs "
            "14x14x20, and the output size equals (n+2p-f)/s+1 wherever that is a whole number."
        ),
        rule="x8_rule",
    ),
    Claim(
        id="X9",
        kind="exact",
        quote=(
            "There are 756560 total parameters. That's a HUGE amount! Here's how we calculate it:\n"
            "(8 * 8 * 3 + 1) * (14 * 14 * 20) = 756560\n"
            "There are 3860 total parameters. That's 196 times fewer parameters! Here's how the answer is "
            "calculated:\n"
            "(8 * 8 * 3 + 1) * 20 = 3840 + 20 = 3860"
        ),
        source=Source(SOURCE_003, "17-22", CNN_NOTES),
        hypothesis=(
            "On the X8 example (32x32x3 padded by 1, 20 filters 8x8x3, stride 2, output 14x14x20), Conv2D has "
            "3,860 parameters and a locally connected layer with the same output has 756,560, 196 times more."
        ),
        rule=Exact("parameter_sharing_counts",
                   expect={"shared_parameters": 3860, "unshared_parameters": 756_560, "ratio": 196.0,
                           "shared_output_shape": [14, 14, 20], "unshared_output_shape": [14, 14, 20]},
                   note="The layer without sharing is claimlab.layers.LocallyConnected2D (Keras 3 dropped the "
                        "layer), compared with Keras 2's own LocallyConnected2D on identical weights, not judged; "
                        "under --keras 2 it is Keras 2's own layer.",
                   context=lambda measured: keras2_layer_context(measured)),
    ),
    Claim(
        id="X10",
        kind="exact",
        quote=(
            "you need 64 kernel, each with the size of (32,5,5) .\n"
            "hence in your case it would be a kernel with this size (64 x 32 x 5 x 5) which is actually 64 "
            "kernels with 32 channels for each"
        ),
        source=Source(SOURCE_002, "106-108", KERNEL_QUESTION),
        hypothesis=(
            "After Conv2D(32, 5x5) and 2x2 max pooling of a 28x28 image (14x14x32), Conv2D(64, 5x5) has a "
            "kernel with sizes 64 x 32 x 5 x 5 (Keras stores it as 5x5x32x64) and outputs 64 channels."
        ),
        rule=Exact("second_conv_kernel_shape",
                   expect={"pooled_shape": [14, 14, 32], "kernel_shape_out_in_h_w": [64, 32, 5, 5],
                           "output_channels": 64},
                   note="kernel_shape_out_in_h_w is the Keras kernel transposed to (out, in, rows, cols)."),
    ),
    Claim(
        id="X11",
        kind="exact",
        quote=(
            "The answer is 2x2x5.\n"
            "The output shape of pooling will be [1, 2, 2, 5], even if padding is changed to 'SAME'."
        ),
        source=Source(SOURCE_003, "59-60", CNN_NOTES),
        hypothesis=(
            "2x2 max pooling with stride 2 of a 1x4x4x5 input gives 1x2x2x5 with padding 'valid' and with "
            "'same', in keras.layers.MaxPooling2D and in tf.nn.max_pool."
        ),
        rule=Exact("max_pool_same_padding",
                   expect={"valid_shape": [1, 2, 2, 5], "same_shape": [1, 2, 2, 5],
                           "tf_nn_valid_shape": [1, 2, 2, 5], "tf_nn_same_shape": [1, 2, 2, 5]}),
    ),
    Claim(
        id="X21",
        kind="exact",
        quote=(
            "depth(#channels) of kernels, 32 in this case, or 3 for a RGB image, 1 for gray scale etc, should always "
            "match the input depth, but values are all the same.\n"
            "you just copy this 3x3 kernel N times in 3rd dimension"
        ),
        source=Source(SOURCE_002, "107-108", KERNEL_QUESTION),
        hypothesis=(
            "A Conv2D(64, 5x5) on 32 channels has kernels as deep as its input (32), and each kernel's 32 channel "
            "slices hold the same 5x5 values (one 2-D kernel copied over the depth), as initialised and as "
            "trained: a gradient step keeps copied slices equal."
        ),
        rule="x21_rule",
    ),
    Claim(
        id="X22",
        kind="exact",
        quote=(
            "In the next layer you specify two kernels per channel. In your example there would be 32 input "
            "channels, the hidden layer has 2 kernels per channel, and the output would be 64 channels."
        ),
        source=Source(SOURCE_002, "110", KERNEL_QUESTION),
        hypothesis=(
            "The second layer, Conv2D(64, 5x5) on 32 channels, is 2 kernels per input channel: each of its 64 "
            "output channels comes from one input channel, and its kernels hold 32 x 2 x 5 x 5 = 1,600 weights."
        ),
        rule="x22_rule",
    ),
    Claim(
        id="X28",
        kind="exact",
        quote=(
            "you will come to a place where you have the stored input matrix (one channel), you have a gradient "
            "from a lower layer in the form of a matrix\n"
            "The simple approach is to rotate your stored channel matrix by 180 degrees and then convolve it with "
            "the gradient.\n"
            "A more sophisticated approach is to apply “correlation” between the input gradient and the stored "
            "channel matrix."
        ),
        source=Source(SOURCE_002, "112-114", KERNEL_QUESTION),
        hypothesis=(
            "For a Keras Conv2D (one channel in and out, 'valid'), the gradient of the loss with respect to the "
            "kernel is both (a) the stored input rotated by 180 degrees, convolved with the output gradient, and "
            "(b) the correlation of the stored input with the output gradient: two ways to the same result."
        ),
        rule="x28_rule",
    ),
    Claim(
        id="X32",
        kind="exact",
        quote=(
            "The above is an example of max pooling with a 2x2 filter and stride of 2. The left square is the input "
            "and the right square is the output. The four 2x2 colors in input represents each time the filter was "
            "applied to create the max on the right side. For example, [[1, 1], [5, 6]] becomes 6 and [[3, 2], "
            "[1, 2]] becomes 3."
        ),
        source=Source(SOURCE_003, "88", CNN_NOTES),
        hypothesis=(
            "2x2 max pooling with stride 2 of a 4x4 input whose top-left 2x2 window is [[1, 1], [5, 6]] and whose "
            "top-right one is [[3, 2], [1, 2]] outputs 6 and 3 for those windows, in keras.layers.MaxPooling2D and "
            "in tf.nn.max_pool."
        ),
        rule=Exact("max_pool_named_windows",
                   expect={"keras_top_left": 6, "keras_top_right": 3, "tf_nn_top_left": 6, "tf_nn_top_right": 3},
                   note="The input is 1x4x4x1: the two named windows on top, in the sentence's order (the text "
                        "gives no figure), and fixed values below; MaxPooling2D(2, strides=2) and "
                        "tf.nn.max_pool(ksize 2, strides 2, 'VALID'). The whole 2x2 outputs are recorded.",
                   context=lambda measured: named_windows_context(measured)),
    ),
    Claim(
        id="X33",
        kind="exact",
        quote=(
            "I have a CNN with a structure loosely close to AlexNet, see below: Convolutional Neural Network "
            "structure: 100x100x3 Input image 25x25x12 Convolutional layer: 4x4x12, stride = 4, padding = 0 "
            "12x12x12 Max pooling layer: 3x3, stride = 2 12x12x24 Convolutional layer: 5x5x24, stride = 1, "
            "padding = 2 5x5x24 Max pooling layer: 4x4, stride = 2 300x1x1 Flatten layer: 600 -> 300 300x1x1 "
            "Fully connected layer: 300 3x1x1 Fully connected layer: 3"
        ),
        source=Source(SOURCE_002, "3-12", HUGE_NUMBERS_QUESTION),
        hypothesis=(
            "The layers as described, built in Keras on a 100x100x3 input, output the shape at the start of each "
            "row: 25x25x12, 12x12x12, 12x12x24, 5x5x24, then 300 values out of the Flatten layer, 300 and 3."
        ),
        rule=Exact("described_network_shapes",
                   expect={"conv1": [25, 25, 12], "pool1": [12, 12, 12], "conv2": [12, 12, 24], "pool2": [5, 5, 24],
                           "flatten": [300], "fully_connected1": [300], "fully_connected2": [3]},
                   note="Conv2D(12, 4, strides=4, 'valid'); MaxPooling2D(3, strides=2); ZeroPadding2D(2) + "
                        "Conv2D(24, 5); MaxPooling2D(4, strides=2); Flatten; Dense(300); Dense(3). Each row's "
                        "first column is read as that layer's output shape, as it is on every other row.",
                   context=lambda measured: described_network_context(measured)),
    ),
    Claim(
        id="X39",
        kind="exact",
        quote=("Why would you want that since each neuron in that layer has the same filter, stride, padding and "
               "activation function? When you define a Conv2D layer...the parameters of each neuron are the same."),
        source=Source(SOURCE_004, "5", "Neural network hidden layer vs. Convolutional hidden layer intuition"),
        hypothesis="The 64 filters of a freshly built Keras Conv2D(64, 3) hold the same weights.",
        rule=Exact("conv_filters_share_weights", expect={"filters_unlike_the_first": 0},
                   note="Conv2D(64, 3) on 28x28x1, on each of the check's draws of the weights: the number of the "
                        "other 63 filters whose 3x3x1 kernel differs from the first filter's; the fewest over the "
                        "draws is judged.",
                   context=lambda m: (f"{m['filters_unlike_the_first']} of 63 filters differ from the first on the "
                                      f"draw with the fewest; the shared settings: strides {m['strides']}, padding "
                                      f"'{m['padding']}', activation '{m['activation']}'")),
    ),
    Claim(
        id="X40",
        kind="exact",
        quote=(
            "The image above is an example of max pooling with a 2x2 filter and stride of 2. The four 2x2 colors "
            "represent each time the filter was applied to find the maximum value.\n"
            "For example, [[1, 0], [4, 6]] becomes 6, because 6 is the maximum value in this set. Similarly, "
            "[[2, 3], [6, 8]] becomes 8."
        ),
        source=Source(SOURCE_003, "44-45", CNN_NOTES),
        hypothesis=(
            "2x2 max pooling with stride 2 of a 4x4 input whose top-left 2x2 window is [[1, 0], [4, 6]] and whose "
            "top-right one is [[2, 3], [6, 8]] outputs 6 and 8 for those windows, in keras.layers.MaxPooling2D and "
            "in tf.nn.max_pool."
        ),
        rule=Exact("max_pool_first_example_windows",
                   expect={"keras_top_left": 6, "keras_top_right": 8, "tf_nn_top_left": 6, "tf_nn_top_right": 8},
                   note="As X32: the input is 1x4x4x1, the two named windows on top in the sentence's order and "
                        "X32's fixed fillers below; MaxPooling2D(2, strides=2) and tf.nn.max_pool(ksize 2, "
                        "strides 2, 'VALID'). The whole 2x2 outputs are recorded.",
                   context=lambda measured: named_windows_context(measured)),
    ),
    Claim(
        id="X41",
        kind="exact",
        quote=("For a pooling layer the output depth is the same as the input depth. Additionally, the pooling "
               "operation is applied individually for each depth slice."),
        source=Source(SOURCE_003, "57", CNN_NOTES),
        hypothesis=(
            "2x2 / stride-2 pooling of a 1x8x8x5 input (MaxPooling2D, AveragePooling2D, tf.nn.max_pool) outputs 5 "
            "channels, and each output channel equals that input channel pooled alone, bit for bit."
        ),
        rule="x41_rule",
    ),
]

# Lines of the same sources that describe rather than claim: the ledger's "Not judged" section lists them.
NOT_JUDGED = [
    Advice(
        quote=(
            "The tf.nn.max_pool() function performs max pooling with the ksize parameter as the size of the filter "
            "and the strides parameter as the length of the stride. 2x2 filters with a stride of 2x2 are common in "
            "practice.\n"
            "The ksize and strides parameters are structured as 4-element lists, with each element corresponding to "
            "a dimension of the input tensor ([batch, height, width, channels]). For both ksize and strides, the "
            "batch and channel dimensions are typically set to 1."
        ),
        source=Source(SOURCE_003, "48-49", CNN_NOTES),
        why=("a description of tf.nn.max_pool's arguments, which X11 uses as written (ksize and strides [1, 2, 2, 1] "
             "on an NHWC input); \"common in practice\" and \"typically set to 1\" are conventions. What a stride "
             "other than 1 on the batch or channel axis does is X26."),
    ),
    Advice(
        quote=(
            "The CNN we will look at is trained on ImageNet as described in this paper by Zeiler and Fergus. In the "
            "images below (from the same paper), we'll see what each layer in this network detects and see how each "
            "layer detects more and more complex ideas.\n"
            "Layer 1\n"
            "Each image in the above grid represents a pattern that causes the neurons in the first layer to "
            "activate - in other words, they are patterns that the first layer recognizes. The top left image shows "
            "a -45 degree line, while the middle top square shows a +45 degree line.\n"
            "Let's now see some example images that cause such activations. The below grid of images all activated "
            "the -45 degree line. Notice how they are all selected despite the fact that they have different "
            "colors, gradients, and patterns."
        ),
        source=Source(SOURCE_003, "25-28", "Introduction to CNNs notes (Udacity DLND): Visualizing CNNs"),
        why=("a description of figures from Zeiler and Fergus' paper, which the copy in sources/ does not hold, of a "
             "network trained on ImageNet, which is not offline; and \"more and more complex\" names no measure a run "
             "could compare layers by."),
    ),
]


# ---- configuration: every value the checks use, in one place ---------------------------------------
CONFIG = {
    "mnist_size": Integer(28, min=1),  # X1: the TF MNIST tutorial's 28x28 greyscale input
    # X2: the asker's IMAGE_SIZE is not given; any size gives the same kernel
    # a 3x3 kernel without padding
    "rgb_image_size": Integer(64, min=3),
    "formula_input_sizes": Sizes(tuple(range(4, 17)), min=1),  # X8 grid: n
    "formula_filter_sizes": Sizes((1, 2, 3, 4, 5), min=1),  # f
    "formula_strides": Sizes((1, 2, 3), min=1),  # s
    "formula_paddings": Sizes((0, 1, 2), min=0),  # p
    "check_seeds": Integer(5, min=5),  # X21, X22: the fresh kernels drawn under seeds 0..check_seeds-1
}


def check_config(cfg):
    """Keys that constrain each other: each problem as one line that says the valid values."""
    problems = []
    # X8 skips the grid points where the filter is larger than the padded input: some point must remain.
    largest_input = max(cfg["formula_input_sizes"]) + 2 * max(cfg["formula_paddings"])
    if largest_input < min(cfg["formula_filter_sizes"]):
        problems.append(f"the X8 grid has no point with n + 2p >= f: the smallest filter "
                        f"{min(cfg['formula_filter_sizes'])} must be at most the largest n + 2p = {largest_input}")
    return problems


ARMS = {}  # exact checks only: nothing to train

CONV1D_QUESTION = "(untitled) I am trying to recreate the following tutorial CNN with 3 inputs … in keras"


# ---- X1: one bias per output channel ----------------------------------------------------------------
def conv_bias_per_output_channel(cfg):
    """The tutorial's first layer, Conv2D(32, 5x5, 'same') on 28x28x1, and its TF form tf.nn.conv2d + bias_add."""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    tf = import_tensorflow()
    size = cfg["mnist_size"]
    image = keras.Input((size, size, 1))
    conv = layers.Conv2D(32, (5, 5), padding="same")
    output = conv(image)

    # Put random values in the bias, then take the output without the bias away (same kernel): what is
    # left must be the same number at every pixel of a channel if the bias is per channel.
    rng = np.random.default_rng(cfg["data_seed"])
    x = rng.normal(size=(2, size, size, 1)).astype("float32")
    bias = rng.normal(size=32).astype("float32")
    conv.bias.assign(bias)
    without_bias = layers.Conv2D(32, (5, 5), padding="same", use_bias=False)
    without_bias.build((None, size, size, 1))
    without_bias.kernel.assign(conv.kernel)
    added = np.asarray(conv(x)) - np.asarray(without_bias(x))  # (2, size, size, 32)
    spread_over_pixels = float(np.max(added.max(axis=(0, 1, 2)) - added.min(axis=(0, 1, 2))))
    bias_error = float(np.max(np.abs(added.mean(axis=(0, 1, 2)) - bias)))

    # The tutorial's own ops: W [5, 5, 1, 32], b [32], tf.nn.conv2d(..., padding='SAME') then bias_add.
    weights = tf.random.normal([5, 5, 1, 32])
    tf_output = tf.nn.bias_add(tf.nn.conv2d(x, weights, strides=[1, 1, 1, 1], padding="SAME"), tf.zeros([32]))
    return {
        "bias_shape": shape_of(conv.bias),
        "kernel_shape": shape_of(conv.kernel),
        "output_shape": shape_of(output),
        "bias_count": int(np.prod(conv.bias.shape)),
        "bias_constant_over_pixels": spread_over_pixels < 1e-4 and bias_error < 1e-4,
        "bias_spread_over_pixels": spread_over_pixels,
        "tf_nn_output_shape": shape_of(tf_output),
    }


# ---- X2: a filter spans all input channels ----------------------------------------------------------
def rgb_conv_kernel_shape(cfg):
    """The asker's model: Conv2D(32, (3,3), input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3)); get_weights()[0].shape."""
    import warnings

    import numpy as np

    keras = fresh_keras()
    from keras import layers

    size = cfg["rgb_image_size"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3 prefers keras.Input over input_shape=; it still accepts it
        classifier = keras.Sequential()
        classifier.add(layers.Conv2D(32, (3, 3), input_shape=(size, size, 3)))
    kernel, bias = classifier.layers[0].get_weights()

    # "the parameters in each channel are different": one output value is the sum over the three input
    # channels of each channel's own 3x3 slice times the input patch.
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(1, size, size, 3)).astype("float32")
    output = np.asarray(classifier(x))
    by_channel = [float(np.sum(x[0, :3, :3, c] * kernel[:, :, c, 0])) for c in range(3)]
    explicit = sum(by_channel) + float(bias[0])
    return {
        "weights_shape": list(kernel.shape),
        "filter_shape": list(kernel[..., 0].shape),
        "output_shape": list(output.shape),
        "output_is_sum_over_channels": bool(abs(output[0, 0, 0, 0] - explicit) < 1e-4),
        "channel_slices_differ": bool(not np.allclose(kernel[:, :, 0, 0], kernel[:, :, 1, 0])),
    }


# ---- X4: Conv1D on 3 inputs, shared filter vs separate parameters per patch --------------------------
def conv1d_parameter_count(cfg):
    """Input (3, 1) -> Conv1D(1, 2) -> Dense(1): the counts the answer explains, and a locally connected twin."""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    model = keras.Sequential([
        keras.Input((3, 1)),
        layers.Conv1D(1, 2, activation="sigmoid"),
        layers.Dense(1, activation="sigmoid"),
    ])
    conv, dense = model.layers
    two_filters = layers.Conv1D(2, 2)
    two_filters.build((None, 3, 1))
    unshared = locally_connected(1)(1, 2)  # claimlab.layers' twin; Keras 2's own layer under --keras 2
    unshared.build((None, 3, 1))

    # "the same filter in both cases": the pre-activation at both positions uses one (w0, w1, b).
    x = np.array([[[0.3], [-1.2], [2.0]]], "float32")
    linear_conv = layers.Conv1D(1, 2)
    linear_conv.build((None, 3, 1))
    (w0, w1), b = linear_conv.kernel.numpy()[:, 0, 0], float(linear_conv.bias.numpy()[0])
    expected = [w0 * x[0, 0, 0] + w1 * x[0, 1, 0] + b, w0 * x[0, 1, 0] + w1 * x[0, 2, 0] + b]
    measured = np.asarray(linear_conv(x))[0, :, 0]
    return {
        "conv_parameters": int(conv.count_params()),
        "dense_parameters": int(dense.count_params()),
        "total_parameters": int(model.count_params()),
        "conv_output_shape": shape_of(conv.output),
        "two_filter_conv_parameters": int(two_filters.count_params()),
        "locally_connected_parameters": int(unshared.count_params()),
        "locally_connected_more_than_conv": int(unshared.count_params()) > int(conv.count_params()),
        "same_filter_on_both_patches": bool(np.allclose(measured, expected, atol=1e-5)),
    }


# ---- X8: the output-size formula --------------------------------------------------------------------
def formula_output_size(n, f, s, p):
    """(n + 2p - f) / s + 1, exactly as written in the sources (a float where it is not whole)."""
    return (n + 2 * p - f) / s + 1


def conv_output_size_formula(cfg):
    """The CS231n-style example built three ways, and the formula against real convolutions on a grid."""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    tf = import_tensorflow()
    if keras_major() == 3:
        from keras.ops import conv
    else:  # Keras 2 branch (--keras 2): it has no keras.ops; TensorFlow's own convolution
        def conv(x, kernel, strides, padding):
            return tf.nn.convolution(x, kernel, strides=strides, padding=padding.upper())
    image = np.random.default_rng(cfg["data_seed"]).normal(size=(1, 32, 32, 3)).astype("float32")
    padded_conv = keras.Sequential([keras.Input((32, 32, 3)), layers.ZeroPadding2D(1),
                                    layers.Conv2D(20, (8, 8), strides=2, padding="valid")])
    explicit_padding = tf.nn.conv2d(image, tf.random.normal([8, 8, 3, 20]), strides=[1, 2, 2, 1],
                                    padding=[[0, 0], [1, 1], [1, 1], [0, 0]])
    keras_valid = layers.Conv2D(20, (8, 8), strides=2, padding="valid")(image)
    keras_same = layers.Conv2D(20, (8, 8), strides=2, padding="same")(image)

    agree, disagree, fractional, points = 0, [], 0, 0
    for n in cfg["formula_input_sizes"]:
        for f in cfg["formula_filter_sizes"]:
            for s in cfg["formula_strides"]:
                for p in cfg["formula_paddings"]:
                    if n + 2 * p < f:
                        continue
                    points += 1
                    x = np.zeros((1, n + 2 * p, n + 2 * p, 1), "float32")  # zero padding p on each side
                    kernel = np.ones((f, f, 1, 1), "float32")
                    measured = int(conv(x, kernel, strides=s, padding="valid").shape[1])
                    predicted = formula_output_size(n, f, s, p)
                    if predicted != int(predicted):
                        fractional += 1
                        if measured != int(np.floor(predicted)):
                            disagree.append([n, f, s, p, measured, predicted])
                    elif measured == predicted:
                        agree += 1
                    else:
                        disagree.append([n, f, s, p, measured, predicted])
    return {
        "example_formula": formula_output_size(32, 8, 2, 1),
        "example_output_shape": shape_of(padded_conv(image))[1:],
        "tf_nn_explicit_padding_output_shape": shape_of(explicit_padding)[1:],
        "keras_valid_output_shape": shape_of(keras_valid)[1:],
        "keras_same_output_shape": shape_of(keras_same)[1:],
        "grid_points": points,
        "whole_number_points_matching": agree,
        "fractional_points_floored": fractional,
        "mismatches": disagree,  # [n, f, s, p, measured, formula]
    }


# ---- X9: parameter sharing ---------------------------------------------------------------------------
def parameter_sharing_counts(cfg):
    """The same 14x14x20 output from a shared-kernel Conv2D and from a locally connected layer; on Keras 3
    the lab's layer is also compared with Keras 2's own LocallyConnected2D on identical weights."""
    keras = fresh_keras()
    from keras import layers

    padded = layers.ZeroPadding2D(1)(keras.Input((32, 32, 3)))
    shared = layers.Conv2D(20, (8, 8), strides=2)
    unshared = locally_connected(2)(20, (8, 8), strides=2)  # Keras 2's own layer under --keras 2
    shared_output, unshared_output = shared(padded), unshared(padded)
    return {
        "shared_parameters": int(shared.count_params()),
        "unshared_parameters": int(unshared.count_params()),
        "ratio": unshared.count_params() / shared.count_params(),
        "shared_output_shape": shape_of(shared_output)[1:],
        "unshared_output_shape": shape_of(unshared_output)[1:],
        "unshared_kernel_shape": shape_of(unshared.kernel),
        "keras2_layer": against_keras2_locally_connected(unshared, (34, 34, 3), cfg["data_seed"]),
    }


def against_keras2_locally_connected(ours, input_shape, seed) -> dict:
    """claimlab.layers.LocallyConnected2D against Keras 2's real layer (tf-keras, importable beside Keras 3):
    parameter counts, and outputs on one random batch with our kernel and a random bias copied into it.
    The two store the kernel alike: (positions, patch rows x cols x channels, filters)."""
    import importlib.util

    import numpy as np

    if keras_major() == 2:
        return {"compared": False, "why": "this run is Keras 2: the layer above is Keras 2's own"}
    if importlib.util.find_spec("tf_keras") is None:
        return {"compared": False, "why": 'tf-keras is not installed (pip install -e ".[keras2]")'}
    import tf_keras

    rng = np.random.default_rng(seed)
    ours.bias.assign(rng.normal(size=tuple(ours.bias.shape)).astype("float32"))  # zeros would hide a bias mix-up
    real = tf_keras.layers.LocallyConnected2D(ours.filters, ours.kernel_size, strides=ours.strides)
    real.build((None, *input_shape))
    real.set_weights([np.asarray(ours.kernel), np.asarray(ours.bias)])
    x = rng.normal(size=(2, *input_shape)).astype("float32")
    return {
        "compared": True, "tf_keras_version": tf_keras.__version__,
        "keras2_parameters": int(real.count_params()), "lab_parameters": int(ours.count_params()),
        "keras2_output_shape": shape_of(real.compute_output_shape((None, *input_shape)))[1:],
        "max_abs_output_difference": max_abs_difference(real(x), ours(x)),
    }


def keras2_layer_context(measured) -> str:
    """X9's unjudged comparison of the lab's LocallyConnected2D with Keras 2's own layer."""
    compared = measured.get("keras2_layer", {})
    if not compared.get("compared"):
        return f"Keras 2's LocallyConnected2D: not compared ({compared.get('why', 'not recorded')})"
    return (f"the lab's LocallyConnected2D against Keras 2's own (tf-keras {compared['tf_keras_version']}) on "
            f"identical weights: {compared['lab_parameters']:,} vs {compared['keras2_parameters']:,} parameters, "
            f"outputs differ by at most {compared['max_abs_output_difference']:.3g}")


# ---- X10: the second layer's kernels ---------------------------------------------------------------
def second_conv_kernel_shape(cfg):
    """MNIST -> Conv2D(32, 5x5) -> MaxPooling 2x2 -> Conv2D(64, 5x5): the second layer's kernel."""
    import numpy as np

    keras = fresh_keras()
    from keras import layers

    first, second = layers.Conv2D(32, (5, 5), padding="same"), layers.Conv2D(64, (5, 5), padding="same")
    pooled = layers.MaxPooling2D((2, 2), strides=(2, 2))(first(keras.Input((28, 28, 1))))
    second(pooled)
    kernel = second.kernel.numpy()  # Keras layout: (rows, cols, in_channels, out_channels)
    # Line 110's alternative, "2 kernels per channel": a depthwise convolution with depth multiplier 2.
    per_channel = layers.DepthwiseConv2D((5, 5), depth_multiplier=2, padding="same", use_bias=False)
    per_channel_output = per_channel(pooled)
    first_kernel = kernel[..., 0]  # (5, 5, 32): one of the 64 kernels
    return {
        "pooled_shape": shape_of(pooled)[1:],
        "keras_kernel_shape": list(kernel.shape),
        "kernel_shape_out_in_h_w": list(np.transpose(kernel, (3, 2, 0, 1)).shape),
        "kernel_weights": int(kernel.size),
        "output_channels": int(second.output.shape[-1]),
        "channel_slices_identical": bool(all(np.allclose(first_kernel[..., 0], first_kernel[..., c])
                                             for c in range(1, 32))),
        "per_channel_alternative_weights": int(per_channel.count_params()),
        "per_channel_alternative_output_channels": int(per_channel_output.shape[-1]),
    }


# ---- X21: are a kernel's channel slices copies? -------------------------------------------------------
def second_layer(keras):
    """The thread's second layer: Conv2D(64, 5x5, 'same') on the 14x14x32 map the first layer and pooling give."""
    conv = keras.layers.Conv2D(64, (5, 5), padding="same")
    conv.build((None, 14, 14, 32))
    return conv


def kernel_channel_slices(cfg):
    """The second layer's 64 kernels, fresh from each of check_seeds draws: how many have 32 identical channel
    slices; then one SGD step from a kernel whose slices are made copies, on random 32-channel input."""
    import numpy as np

    keras = fresh_keras()
    tf = import_tensorflow()
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(4, 14, 14, 32)).astype("float32")

    def one_draw(seed):
        kernel = second_layer(keras).kernel.numpy()  # (rows, cols, in, out)
        copies = [bool(np.all(kernel[:, :, :, k] == kernel[:, :, :1, k])) for k in range(kernel.shape[-1])]
        return {"kernel_depth": int(kernel.shape[2]), "kernels_with_identical_slices": int(sum(copies)),
                "all_kernels_have_identical_slices": all(copies)}

    measured = over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "kernel_depth": "min", "kernels_with_identical_slices": "min", "all_kernels_have_identical_slices": "all"})
    # The reading "copied as trained": start every kernel from one 5x5 slice copied 32 times, take one
    # gradient step of a loss on the output, and see whether the slices are still copies.
    conv = second_layer(keras)
    conv.kernel.assign(np.repeat(conv.kernel.numpy()[:, :, :1, :], 32, axis=2))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(conv(x)))
    gradient = tape.gradient(loss, conv.kernel).numpy()
    stepped = conv.kernel.numpy() - 0.01 * gradient
    measured["copied_slices_stay_copies_after_a_step"] = bool(all(
        np.all(stepped[:, :, :, k] == stepped[:, :, :1, k]) for k in range(stepped.shape[-1])))
    measured["copied_slices_largest_gap_after_a_step"] = float(np.abs(stepped - stepped[:, :, :1, :]).max())
    return measured


# ---- X22: "2 kernels per channel" ------------------------------------------------------------------------
def kernels_per_channel(cfg):
    """The second layer against line 110's "2 kernels per channel" (DepthwiseConv2D, depth multiplier 2): how many
    input channels each output channel depends on (found by changing one input channel at a time), and
    the weights each holds; on each of check_seeds draws of the kernels."""
    import numpy as np

    keras = fresh_keras()
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(1, 14, 14, 32)).astype("float32")

    def inputs_per_output(layer):
        """For each output channel, the input channels whose change changes it: the largest count."""
        base = np.asarray(layer(x))
        depends = np.zeros((32, base.shape[-1]), dtype=bool)
        for channel in range(32):
            changed = x.copy()
            changed[..., channel] += 1.0
            depends[channel] = np.abs(np.asarray(layer(changed)) - base).max(axis=(0, 1, 2)) > 0
        return int(depends.sum(axis=0).max()), int(depends.sum(axis=0).min())

    def one_draw(seed):
        conv = second_layer(keras)
        per_channel = keras.layers.DepthwiseConv2D((5, 5), depth_multiplier=2, padding="same")
        per_channel.build((None, 14, 14, 32))
        conv_most, conv_fewest = inputs_per_output(conv)
        per_channel_most, _ = inputs_per_output(per_channel)
        return {"output_channels": int(conv.compute_output_shape((None, 14, 14, 32))[-1]),
                "input_channels_per_output_channel": conv_most, "fewest_input_channels_per_output": conv_fewest,
                "kernel_weights": int(np.prod(conv.kernel.shape)),
                "per_channel_input_channels_per_output": per_channel_most,
                # weights[0] is the kernel in both Keras versions (Keras 2 names it depthwise_kernel)
                "per_channel_kernel_weights": int(np.prod(per_channel.weights[0].shape)),
                "per_channel_output_channels": int(per_channel.compute_output_shape((None, 14, 14, 32))[-1])}

    return over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "input_channels_per_output_channel": "max", "fewest_input_channels_per_output": "min"})


# ---- X28: backpropagation through a convolution ------------------------------------------------------
def conv_backprop_as_convolution(cfg):
    """Conv2D(1, 3x3, 'valid') on an 8x8 one-channel input, on each of check_seeds draws of its kernel: the
    kernel's and the input's gradients (tf.GradientTape) of sum(output * G), G a fixed random output
    gradient, against what scipy.signal computes from the stored input, G and the kernel."""
    import numpy as np
    from scipy import signal

    keras = fresh_keras()
    tf = import_tensorflow()
    rng = np.random.default_rng(cfg["data_seed"])
    x = rng.normal(size=(8, 8)).astype("float32")
    output_gradient = rng.normal(size=(6, 6)).astype("float32")
    exact = 1e-5  # float32 sums of 36 products: what "equal" allows

    def one_draw(seed):
        conv = keras.layers.Conv2D(1, (3, 3), padding="valid", use_bias=False)
        conv.build((None, 8, 8, 1))
        image = tf.constant(x[None, :, :, None])
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = tf.reduce_sum(conv(image) * output_gradient[None, :, :, None])
        kernel_gradient, input_gradient = (g.numpy() for g in tape.gradient(loss, [conv.kernel, image]))
        kernel_gradient, input_gradient = kernel_gradient[:, :, 0, 0], input_gradient[0, :, :, 0]
        rotated_then_convolved = signal.convolve2d(np.rot90(x, 2), output_gradient, mode="valid")
        correlated = signal.correlate2d(x, output_gradient, mode="valid")
        kernel = conv.kernel.numpy()[:, :, 0, 0]
        return {
            "rotate_and_convolve_is_the_kernel_gradient": max_abs_difference(rotated_then_convolved,
                                                                             kernel_gradient) < exact,
            "correlation_is_the_kernel_gradient": max_abs_difference(correlated, kernel_gradient) < exact,
            # what the rotate-and-convolve result is instead: the same gradient turned by 180 degrees, which is
            # the kernel gradient of a layer whose forward pass is a true convolution (kernel flipped)
            "rotate_and_convolve_is_the_rotated_kernel_gradient": max_abs_difference(
                rotated_then_convolved, np.rot90(kernel_gradient, 2)) < exact,
            # the gradient passed up to the layer below: the output gradient, fully convolved with the kernel
            "input_gradient_is_the_full_convolution_with_the_kernel": max_abs_difference(
                signal.convolve2d(output_gradient, kernel, mode="full"), input_gradient) < exact,
        }

    return over_weight_draws(one_draw, cfg["check_seeds"], worst={
        "rotate_and_convolve_is_the_kernel_gradient": "all", "correlation_is_the_kernel_gradient": "all",
        "rotate_and_convolve_is_the_rotated_kernel_gradient": "all",
        "input_gradient_is_the_full_convolution_with_the_kernel": "all"})


# ---- X11: max pooling with 'SAME' ------------------------------------------------------------------
def max_pool_same_padding(cfg):
    """2x2 / stride-2 max pooling of a 4x4x5 input, 'valid' and 'same', in Keras and in tf.nn.max_pool."""
    import numpy as np

    fresh_keras()
    from keras import layers

    tf = import_tensorflow()
    x = np.random.default_rng(cfg["data_seed"]).normal(size=(1, 4, 4, 5)).astype("float32")
    pooled = {padding: np.asarray(layers.MaxPooling2D((2, 2), strides=(2, 2), padding=padding)(x))
              for padding in ("valid", "same")}
    tf_pooled = {padding: np.asarray(tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding=padding))
                 for padding in ("VALID", "SAME")}
    return {
        "valid_shape": list(pooled["valid"].shape),
        "same_shape": list(pooled["same"].shape),
        "tf_nn_valid_shape": list(tf_pooled["VALID"].shape),
        "tf_nn_same_shape": list(tf_pooled["SAME"].shape),
        "same_values_equal_valid_values": bool(np.array_equal(pooled["same"], pooled["valid"])),
    }


# ---- X32: what two named windows pool to ----------------------------------------------------------
NAMED_WINDOWS = ([[1, 1], [5, 6]], [[3, 2], [1, 2]])  # sources/003, line 88: they "become" 6 and 3
FIRST_EXAMPLE_WINDOWS = ([[1, 0], [4, 6]], [[2, 3], [6, 8]])  # sources/003, line 45: "6" and "8"
FILLER_WINDOWS = ([[2, 4], [7, 8]], [[1, 0], [3, 4]])  # the two windows the text does not give: arbitrary, fixed


def four_windows(top_left, top_right, bottom_left, bottom_right):
    """A 1x4x4x1 float32 input made of four 2x2 windows."""
    import numpy as np

    return np.block([[np.array(top_left), np.array(top_right)],
                     [np.array(bottom_left), np.array(bottom_right)]]).astype("float32")[None, :, :, None]


def max_pool_named_windows(cfg):
    """X32: the windows of line 88."""
    return pool_two_named_windows(NAMED_WINDOWS)


def max_pool_first_example_windows(cfg):
    """X40: the windows of line 45."""
    return pool_two_named_windows(FIRST_EXAMPLE_WINDOWS)


def pool_two_named_windows(named_windows):
    """The named windows on top of a 4x4 input, pooled 2x2 / stride 2 by keras MaxPooling2D and tf.nn.max_pool;
    and, unjudged, the same windows placed on the left instead."""
    import numpy as np

    fresh_keras()
    from keras import layers

    tf = import_tensorflow()
    first, second = named_windows
    x = four_windows(first, second, *FILLER_WINDOWS)
    keras_pooled = np.asarray(layers.MaxPooling2D(2, strides=2)(x))[0, :, :, 0]
    tf_pooled = np.asarray(tf.nn.max_pool(x, ksize=2, strides=2, padding="VALID"))[0, :, :, 0]
    on_the_left = four_windows(first, FILLER_WINDOWS[0], second, FILLER_WINDOWS[1])
    left_pooled = np.asarray(layers.MaxPooling2D(2, strides=2)(on_the_left))[0, :, :, 0]
    return {
        "input": x[0, :, :, 0].tolist(),
        "keras_output": keras_pooled.tolist(),
        "tf_nn_output": tf_pooled.tolist(),
        "keras_top_left": float(keras_pooled[0, 0]),
        "keras_top_right": float(keras_pooled[0, 1]),
        "tf_nn_top_left": float(tf_pooled[0, 0]),
        "tf_nn_top_right": float(tf_pooled[0, 1]),
        "left_layout_output": left_pooled.tolist(),
        "left_layout_named_windows": [float(left_pooled[0, 0]), float(left_pooled[1, 0])],
    }


def named_windows_context(measured):
    """X32, X40: the whole pooled outputs, and the other layout."""
    return (f"input {measured['input']} pools to {measured['keras_output']} (Keras) and {measured['tf_nn_output']} "
            f"(tf.nn.max_pool); with the named windows on the left instead, they pool to "
            f"{measured['left_layout_named_windows']}")


# ---- X33: the asker's shape chain ------------------------------------------------------------------
def described_network_shapes(cfg):
    """The question's network, layer by layer, on a 100x100x3 input: each layer's output shape (batch left out)."""
    import numpy as np

    fresh_keras()
    from keras import layers

    described = [("conv1", [layers.Conv2D(12, 4, strides=4, padding="valid")]),
                 ("pool1", [layers.MaxPooling2D(3, strides=2)]),
                 ("conv2", [layers.ZeroPadding2D(2), layers.Conv2D(24, 5, strides=1, padding="valid")]),
                 ("pool2", [layers.MaxPooling2D(4, strides=2)]),
                 ("flatten", [layers.Flatten()]),
                 ("fully_connected1", [layers.Dense(300)]),
                 ("fully_connected2", [layers.Dense(3)])]
    x = np.zeros((1, 100, 100, 3), dtype="float32")
    measured, weights = {}, {}
    for name, row in described:
        for layer in row:
            x = layer(x)
        measured[name] = shape_of(x)[1:]
        weights[name] = sum(layer.count_params() for layer in row)
    return {**measured, "flatten_weights": weights["flatten"], "fully_connected1_weights": weights["fully_connected1"]}


def described_network_context(measured):
    """X33: what each row gives, and what the 600 -> 300 step costs."""
    return (f"Keras gives {measured['conv1']}, {measured['pool1']}, {measured['conv2']}, {measured['pool2']}, then "
            f"Flatten outputs {measured['flatten'][0]} values with {measured['flatten_weights']} weights; the "
            f"600 -> 300 step is the Dense(300) layer after it ({measured['fully_connected1_weights']:,} weights)")


# ---- X39: are a Conv2D's filters one set of weights? ------------------------------------------------
def conv_filters_share_weights(cfg):
    """The asker's Conv2D(64, 3) on greyscale 28x28 images, fresh from each draw: how many filters differ from
    the first."""
    fresh_keras()
    from keras import layers

    def one_draw(seed):
        conv = layers.Conv2D(64, 3, activation="relu")
        conv.build((None, 28, 28, 1))
        kernel = conv.get_weights()[0]  # (3, 3, 1, 64): one 3x3x1 filter per output channel
        unlike = sum(bool((kernel[..., k] != kernel[..., 0]).any()) for k in range(1, kernel.shape[-1]))
        return {"filters_unlike_the_first": int(unlike), "strides": list(conv.strides), "padding": conv.padding,
                "activation": conv.activation.__name__}

    return over_weight_draws(one_draw, cfg["check_seeds"], worst={"filters_unlike_the_first": "min"})


# ---- X41: pooling keeps the depth and pools each slice alone -----------------------------------------
POOLED_DEPTH = 5  # channels of X41's input: any depth > 1 shows whether pooling mixes them


def pooling_depth_slices(cfg):
    """A 1x8x8xPOOLED_DEPTH input, fresh on each draw, pooled 2x2 / stride 2 whole and one channel at a time: the output
    depth, and how many (draw, pooling, channel) outputs differ from the slice pooled alone."""
    import numpy as np

    fresh_keras()
    from keras import layers

    tf = import_tensorflow()
    poolings = {
        "max_pooling_2d": layers.MaxPooling2D(2, strides=2),
        "average_pooling_2d": layers.AveragePooling2D(2, strides=2),
        "tf_nn_max_pool": lambda x: tf.nn.max_pool(x, ksize=2, strides=2, padding="VALID"),
    }
    depths, unequal = {}, {name: 0 for name in poolings}
    for seed in range(cfg["check_seeds"]):
        x = np.random.default_rng([cfg["data_seed"], seed]).normal(size=(1, 8, 8, POOLED_DEPTH)).astype("float32")
        for name, pool in poolings.items():
            whole = np.asarray(pool(x))
            depths[name] = int(whole.shape[-1])
            for channel in range(x.shape[-1]):
                alone = np.asarray(pool(x[..., channel : channel + 1]))[..., 0]
                unequal[name] += int(not np.array_equal(whole[..., channel], alone))
    return {"input_depth": POOLED_DEPTH, **{f"{name}_output_depth": depth for name, depth in depths.items()},
            **{f"{name}_slices_unlike_pooled_alone": count for name, count in unequal.items()},
            "slices_compared": cfg["check_seeds"] * POOLED_DEPTH * len(poolings)}


def x41_rule(cfg):
    return Exact(
        pooling_depth_slices,
        expect={"max_pooling_2d_output_depth": POOLED_DEPTH, "average_pooling_2d_output_depth": POOLED_DEPTH,
                "tf_nn_max_pool_output_depth": POOLED_DEPTH,
                "max_pooling_2d_slices_unlike_pooled_alone": 0, "average_pooling_2d_slices_unlike_pooled_alone": 0,
                "tf_nn_max_pool_slices_unlike_pooled_alone": 0},
        note=(f"On {cfg['check_seeds']} draws of a 1x8x8x{POOLED_DEPTH} normal input: each pooling's output depth, and the number of "
              "output channels (over draws) not bit-equal to that input channel pooled alone, as a 1x8x8x1 input."),
        context=lambda m: f"{m['slices_compared']} (draw, pooling, channel) outputs compared with the slice pooled alone",
    )


# ---- rule factories (cfg -> rule: the text names the config it runs with) and reason contexts -----
def output_size_context(measured):
    """X8: what else the check measured, unjudged: Keras' own padding modes and the grid's tally."""
    return (f"Keras padding='valid' gives {measured['keras_valid_output_shape']}, 'same' "
            f"{measured['keras_same_output_shape']}; grid: formula = real size at "
            f"{measured['whole_number_points_matching']} whole-number points; at "
            f"{measured['fractional_points_floored']} of {measured['grid_points']} points the formula gives a "
            "fraction and Keras/TF take its floor")


def x8_rule(cfg):
    return Exact(
        conv_output_size_formula,
        expect={"example_formula": 14, "example_output_shape": [14, 14, 20],
                "tf_nn_explicit_padding_output_shape": [14, 14, 20], "mismatches": []},
        note=("The example: 32x32x3, 20 filters 8x8, stride 2, padding 1; example_formula is (n+2p-f)/s+1, the "
              "output shapes are ZeroPadding2D(1)+Conv2D and tf.nn.conv2d with explicit padding 1. mismatches: "
              f"the grid points (n in {list(cfg['formula_input_sizes'])}, f in {list(cfg['formula_filter_sizes'])}, "
              f"s in {list(cfg['formula_strides'])}, p in {list(cfg['formula_paddings'])}, n+2p >= f; a real "
              "convolution of an input zero-padded by p) where the real output size differs from the formula "
              "where that is a whole number, or from its floor elsewhere, each as [n, f, s, p, measured, "
              "formula]. The number of grid points where the formula as written gives a fraction is reported."),
        context=output_size_context,
    )


def x21_rule(cfg):
    return Exact(
        kernel_channel_slices,
        expect={"kernel_depth": 32, "all_kernels_have_identical_slices": True,
                "copied_slices_stay_copies_after_a_step": True},
        note=(f"On {weight_draws_text(cfg)}: a kernel's slices are identical when its 32 (5x5) channel slices are "
              "bit-equal. The step: one SGD step (0.01) on sum(output^2) over 4 random 14x14x32 inputs, from "
              "kernels whose slices were made copies of their first."),
        context=lambda m: (f"{m['kernels_with_identical_slices']} of 64 fresh kernels have identical slices; from "
                           f"copied slices, one step leaves them up to {m['copied_slices_largest_gap_after_a_step']:.3g} "
                           "apart"),
    )


def x22_rule(cfg):
    return Exact(
        kernels_per_channel,
        expect={"output_channels": 64, "input_channels_per_output_channel": 1, "kernel_weights": 32 * 2 * 5 * 5},
        note=(f"On {weight_draws_text(cfg)}: an output channel depends on an input channel when adding 1 to that "
              "channel alone changes it; the largest count over the 64 output channels, worst draw. The same is "
              "measured on DepthwiseConv2D(5x5, depth_multiplier=2), which is 2 kernels per channel."),
        context=lambda m: (f"Conv2D(64): every output channel depends on {m['fewest_input_channels_per_output']}-"
                           f"{m['input_channels_per_output_channel']} input channels, {m['kernel_weights']} kernel "
                           f"weights; DepthwiseConv2D(depth_multiplier=2): "
                           f"{m['per_channel_input_channels_per_output']} input channel per output, "
                           f"{m['per_channel_kernel_weights']} weights, {m['per_channel_output_channels']} channels"),
    )


def x28_rule(cfg):
    return Exact(
        conv_backprop_as_convolution,
        expect={"rotate_and_convolve_is_the_kernel_gradient": True, "correlation_is_the_kernel_gradient": True},
        note=(f"On {weight_draws_text(cfg)}: tf.GradientTape's kernel gradient of sum(output * G) against "
              "scipy.signal.convolve2d(rot180(input), G, 'valid') and scipy.signal.correlate2d(input, G, 'valid'), "
              "equal within 1e-5 (float32)."),
        context=lambda m: ("not judged: the rotate-and-convolve result is the kernel gradient turned by 180 degrees "
                           f"(the gradient of a true-convolution layer): {m['rotate_and_convolve_is_the_rotated_kernel_gradient']}; "
                           "the gradient passed up is the output gradient fully convolved with the kernel: "
                           f"{m['input_gradient_is_the_full_convolution_with_the_kernel']}"),
    )
