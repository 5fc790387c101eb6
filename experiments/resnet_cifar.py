"""ResNet's blocks, built and read: He et al.'s CIFAR family (X18), and ResNet50's projection shortcuts
(X19), bottleneck cost (X20) and strided first 1x1 convolutions (X30), checked against two threads of
sources/002_6725717de9344925.txt.

    X18 the tutorial quoted in "ResNet for 32x32 images" (lines 22-34) paraphrases He et al. 2015
        (section 4.2): a 3x3 convolution, then a stack of 6n layers of 3x3 convolutions on feature maps
        of {32, 16, 8} pixels with {16, 32, 64} filters, 2n convolutions per map size, downsampling by a
        stride of 2, no pooling until the global average pooling in front of the dense layer, and
        zero-padding shortcuts where the shape changes (option A). The asker was confused that the first
        stage's output has 16 channels when "the number of filters was {16, 32, 64}".
    X19 "Stuck understanding ResNet's Identity block and Convolutional blocks" (lines 93-95): the
        convolutional (projection) block is used to change the dimension, and the dimension is changed
        by the stride, so a stride > 1 is what calls for it: "if you didn't need a stride larger than
        one, you wouldn't be needing a dimension alteration in the first place and therefore would be
        using the identity block instead". Checked on keras.applications.ResNet50.
    X20 the same thread (lines 89-90): the bottleneck's first 1x1 reduces the channels so the 3x3 works
        on fewer, the last 1x1 restores them, "to save on computation/training time". Checked by counting
        the multiply-adds of ResNet50's bottleneck against the plain block of two 3x3 convolutions it
        replaces at the same width.
    X30 the same thread's question (line 78): in the convolutional block, the first component of the main
        path (conv2d -> BatchNorm -> ReLU) "is implemented with 1x1 convolution and stride > 1". Checked on
        the first convolution of every projection block of keras.applications.ResNet50.

Design choices, made before any run:
- X18: the networks come from `claimlab.models.resnet_cifar` (reusable by other experiments), built for
  n = 1 (the tutorial's ResNet-8) and n = 3, 5, 7, 9 (ResNet-20/32/44/56). Nothing trains: the check
  reads the built models' layers, shapes and parameter counts, and runs ResNet-8 forward on one image.
- The quote's "Use a stack of 6 layers" lost the "n" of He et al.'s "6n layers" (the same line says
  "The choice of will determine the size"); with the tutorial's n = 1 the two agree. We check 6n.
- "Layer 1" in the tutorial is the first stage (after the first convolution); its output is read at
  the last block of stage 1.
- "The first convolution of each layer" is strided only where the map shrinks: the first convolution
  of stages 2 and 3 (stage 1 keeps 32x32, as the quoted map sizes say).
- Parameter counts: the catalogue asks for ResNet-20/32/44/56, which the quote does not state; the
  tutorial's source (He et al., Table 6) gives 0.27M, 0.46M, 0.66M, 0.85M. We judge the trainable
  count (convolutions, dense layer, batch norm's gamma and beta) rounded to 2 decimals in millions
  against those, and record the exact counts, Keras' count_params (which adds batch norm's moving
  mean and variance) and the count with projection shortcuts (option B) beside them.
- X19: the network is keras.applications.ResNet50(weights=None, include_top=False) on 224x224x3 images
  (its standard size; nothing runs forward, so the size costs nothing, and the maps are the paper's 56,
  28, 14, 7). A block is the layers named convN_blockM_*; it has a projection shortcut when it has a
  layer convN_blockM_0_conv, else its shortcut is the identity (checked: the block's addition takes the
  block's input tensor itself). A block's stride is its input's height over its output's height, read
  off the built layers; the shortcut convolution's own `strides` are recorded beside it. The quote makes
  two assertions, both judged: a projection block is used wherever a block changes the shape of its
  input (the "whenever you need to change the dimension" part), and a projection block appears only
  where the stride is > 1 (a stride of 1 "would be using the identity block instead"). The channels in
  and out of every projection block are recorded, not judged.
- X20: the bottleneck block is read off the same real ResNet50: conv2_block2 (an identity block of the
  conv2 stage: 1x1 256->64, 3x3 64->64, 1x1 64->256 on a 56x56x256 map, He et al. Fig. 5 right). The
  block it is compared with is built as Keras Conv2D layers on the same 56x56 map: the plain block of
  the same input and output width (two 3x3 convolutions of 256 channels, padding "same"), and, for
  context, He et al.'s basic block (two 3x3 convolutions of 64 channels on a 56x56x64 map, Fig. 5 left).
  Every convolution's multiply-adds are read off the built layer: output height x width x channels
  (its output shape) times kernel height x width x input channels (its kernel shape). Only the
  convolutions are counted (He et al.'s FLOPs are multiply-adds of convolutions); biases, batch norm,
  ReLU and the shortcut's addition are a few operations per output element and are left out. All
  three blocks keep a 56x56 map (stride 1, "same"), so the ratios are per-position ratios and do not
  depend on the map size; per-position counts are recorded. Parameters are the convolutions' kernels
  and biases (ResNet50's convolutions have biases, and so do the built ones).
- X20 is judged on what the quote asserts: the first 1x1 reduces the channels, the last 1x1 restores
  the block's input width, and the bottleneck costs fewer multiply-adds than the plain 256-wide block.
  The ratio to the plain block and the comparison with the basic 64-wide block (He et al.: "similar
  time complexity") are recorded and shown, not judged. TensorFlow's profiler is not used: the counts
  come from the layers' shapes.
- X30: the asker describes the course's code, whose convolutional block takes its stride as a parameter s
  (`strides = (s,s)`); the claim is read as a statement about ResNet50's convolutional blocks and checked
  on the same real keras.applications.ResNet50 as X19 (weights=None, include_top=False, 224x224x3; built
  once in the check). Its convolutional blocks are X19's projection blocks (the blocks with a layer
  convN_blockM_0_conv, read off the model, not listed by hand: conv2_block1 to conv5_block1). The first
  layer of a block's main path is convN_blockM_1_conv, checked to read the same tensor as the shortcut's
  convolution (the block's input). Two assertions, both judged: every projection block's first
  convolution is 1x1 (its kernel_size), and it is a 1x1 with a stride > 1 (every entry of its `strides`
  above 1). One block with stride 1 refutes the second. Recorded, not judged: each first convolution's
  strides, padding and the map sizes it reads and writes, whether it is followed by the block's
  BatchNormalization and ReLU (the quote's "conv2d --> BatchNorm --> ReLu"), whether its stride is the
  block's stride (X19's), and the kernel size and strides of the block's second convolution
  (convN_blockM_2_conv, the 3x3).
- The same code runs on Keras 2 (tf-keras): keras.applications.ResNet50 names its layers the same way
  there (checked before writing the checks), so nothing branches on the Keras version.
- The verdict is what the installed Keras 3 / TensorFlow 2 build; the reason names their versions.
"""

from claimlab.checks import fresh_keras, shape_of
from claimlab.spec import Claim, Source
from claimlab.verdict import Exact

SOURCE_FILE = "002_6725717de9344925.txt"
BLOCKS_QUESTION = "Stuck understanding ResNet's Identity block and Convolutional blocks"

TITLE = ("ResNet blocks: CIFAR 6n+2 family (X18); ResNet50's projection shortcuts (X19), bottleneck cost (X20), "
         "strided 1x1 (X30)")

TUTORIAL_N = 1  # "Since we chose n=1"
PAPER_N = (3, 5, 7, 9)  # ResNet-20, 32, 44, 56
PAPER_PARAMETERS_MILLIONS = [0.27, 0.46, 0.66, 0.85]  # He et al. 2015, Table 6
ALL_N = (TUTORIAL_N, *PAPER_N)

RESNET50_INPUT = (224, 224, 3)  # keras.applications.ResNet50's standard size: maps of 56, 28, 14, 7
BOTTLENECK_BLOCK = "conv2_block2"  # an identity bottleneck of the conv2 stage: 256 -> 64 -> 64 -> 256
BOTTLENECK_MAP = 56  # the conv2 stage's map on a 224x224 image; the plain and basic blocks are built on it

CLAIMS = [
    Claim(
        id="X18",
        kind="exact",
        quote=(
            "Use a stack of 6 layers of 3x3 convolutions. The choice of will determine the size of our ResNet.\n"
            "The feature map sizes are {32, 16, 8} respectively with 2 convolutions for each feature map size. "
            "Also, the number of filters is {16, 32, 64} respectively.\n"
            "The down sampling of the volumes through the ResNet is achieved increasing the stride to 2, for the "
            "first convolution of each layer. Therefore, no pooling operations are used until right before the "
            "dense layer.\n"
            "For the bypass connections, no projections will be used. In the cases where there is a different in "
            "the shape of the volume, the input will be simply padded with zeros, so the output size matched the "
            "size of the volume before the addition.\n"
            "Since we chose n=1, 2 convolutions are applied within the layer 1.\n"
            "We still can check from Figure 2 that the output volume of Layer1 is indeed 32x32x16."
        ),
        source=Source(SOURCE_FILE, "22-34", "ResNet for 32x32 images"),
        hypothesis=(
            "For n = 1, 3, 5, 7, 9, claimlab.models.resnet_cifar(n) (He et al.'s CIFAR ResNet, option A) has a "
            "stack of 6n 3x3 convolutions after the first one (6n + 2 weighted layers), 2n per map size, stage "
            "outputs 32x32x16, 16x16x32, 8x8x64, stride 2 only in the first convolution of stages 2 and 3, one "
            "pooling layer (global average) feeding the dense layer, parameter-free zero-padding shortcuts; with "
            "n = 1, 2 convolutions in layer 1, whose output is 32x32x16; ResNet-20/32/44/56 have 0.27M, 0.46M, "
            "0.66M, 0.85M trainable parameters (He et al. Table 6; rounded to 2 decimals)."
        ),
        rule=Exact("resnet_family", expect={
            "stack_3x3_convolutions": [6 * n for n in ALL_N],
            "weighted_layers": [6 * n + 2 for n in ALL_N],
            "convolutions_per_map_size": [[2 * n] * 3 for n in ALL_N],
            "maps_32_16_8_with_16_32_64_filters": True,
            "downsampling_only_by_first_convolution_of_stages_2_and_3": True,
            "only_pooling_is_global_average_before_dense": True,
            "shortcuts_are_parameter_free_zero_padding": True,
            "tutorial_convolutions_in_layer1": 2,
            "tutorial_layer1_output_shape": [32, 32, 16],
            "trainable_parameters_millions_2dp": PAPER_PARAMETERS_MILLIONS,
        }, note="Parameter counts are compared after rounding to 2 decimals in millions, as He et al. state them; "
                "exact counts (with and without batch norm's moving statistics) are recorded."),
    ),
    Claim(
        id="X19",
        kind="exact",
        quote=(
            "The convolutional block is used whenever you need to change the dimension in order for the output and "
            "input dimensions to match. That being said, how do you change the dimension of a certain volume using "
            "convolutions? Well, you change the stride.\n"
            "Why is it >1 then? Well, if you didn't need a stride larger than one, you wouldn't be needing a "
            "dimension alteration in the first place and therefore would be using the identity block instead."
        ),
        source=Source(SOURCE_FILE, "93-95", BLOCKS_QUESTION),
        hypothesis=(
            "In keras.applications.ResNet50 (weights=None, 224x224x3 input), every residual block whose output "
            "shape differs from its input shape has a projection (convolutional) shortcut, and a projection "
            "shortcut appears only in blocks whose stride (input height over output height) is > 1: a block of "
            "stride 1 uses the identity shortcut."
        ),
        rule=Exact("resnet50_projection_blocks", expect={
            "every_shape_change_uses_a_projection_block": True,
            "projection_blocks_only_where_stride_above_1": True,
        }, note="Every block's shortcut, stride, and input and output shapes are recorded; the strides and channels "
                "of the projection blocks are shown beside the verdict, not judged.",
            context=lambda measured: projection_context(measured)),
    ),
    Claim(
        id="X20",
        kind="exact",
        quote=(
            "So, in the bottleneck architecture the first 1 x 1 layer reduces the dimensions so that the 3 x 3 layer "
            "needs to handle smaller input/output dimensions. Then the final 1 x 1 layer increases the filter "
            "dimensions again.\n"
            "It's done to save on computation/training time."
        ),
        source=Source(SOURCE_FILE, "89-90", BLOCKS_QUESTION),
        hypothesis=(
            f"ResNet50's bottleneck block (keras.applications.ResNet50's {BOTTLENECK_BLOCK}, on a "
            f"{BOTTLENECK_MAP}x{BOTTLENECK_MAP}x256 map) reduces its 256 input channels with its first 1x1 "
            "convolution, runs its 3x3 convolution on fewer channels, and restores 256 with its last 1x1; its "
            "convolutions cost fewer multiply-adds than those of the plain block it replaces at the same input "
            f"and output width (two 3x3 convolutions of 256 channels on the same {BOTTLENECK_MAP}x{BOTTLENECK_MAP}x256 "
            "map), counted from each built layer's kernel and output shapes."
        ),
        rule=Exact("bottleneck_multiply_adds", expect={
            "first_1x1_reduces_channels": True,
            "three_by_three_on_fewer_channels": True,
            "last_1x1_restores_input_channels": True,
            "bottleneck_multiply_adds_below_plain_block": True,
        }, note="Multiply-adds of the convolutions only (biases, batch norm, ReLU and the addition left out); the "
                "ratio to the plain block and the comparison with He et al.'s basic block of two 3x3x64 "
                "convolutions are shown, not judged.",
            context=lambda measured: bottleneck_context(measured)),
    ),
    Claim(
        id="X30",
        kind="exact",
        quote=(
            "Now in implementation of convolutional block (2nd image), First block (i.e. conv2d --> BatchNorm --> "
            "ReLu is implemented with 1x1 convolution and stride > 1."
        ),
        source=Source(SOURCE_FILE, "78", BLOCKS_QUESTION),
        hypothesis=(
            "In keras.applications.ResNet50 (weights=None, 224x224x3 input), the first layer of the main path of "
            "every convolutional (projection) block, convN_block1_1_conv for N = 2..5, is a 1x1 convolution, and "
            "its strides are > 1."
        ),
        rule=Exact("resnet50_projection_first_convolutions", expect={
            "every_projection_block_starts_with_a_1x1": True,
            "every_projection_block_starts_with_a_strided_1x1": True,
        }, note="A stride > 1 means every entry of the convolution's strides above 1. The first convolutions' "
                "strides and map sizes, and the strides of each block's 3x3 second convolution, are shown beside "
                "the verdict, not judged.",
            context=lambda measured: first_convolutions_context(measured)),
    ),
]


CONFIG = {}
PROFILES = {"smoke": {"seeds": 1}, "quick": {"seeds": 1}, "full": {"seeds": 1}}  # nothing is seeded per trial
ARMS = {}


def describe_resnet(model, n):
    """What the claim talks about, read off one built model."""
    import numpy as np
    from keras import layers

    convs = [layer for layer in model.layers if isinstance(layer, layers.Conv2D)]
    main_path = [layer for layer in convs if not layer.name.endswith("_shortcut")]
    stack = [layer for layer in main_path if layer.name.startswith("stage") and tuple(layer.kernel_size) == (3, 3)]
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    strided = [layer.name for layer in main_path if tuple(layer.strides) != (1, 1)]
    pooling = [type(layer).__name__ for layer in model.layers if "Pooling" in type(layer).__name__]
    shortcuts = [layer for layer in model.layers if layer.name.endswith("_shortcut")]
    classifier_input = model.get_layer("classifier").input
    return {
        "stack_3x3_convolutions": len(stack),
        "weighted_layers": len(main_path) + len(dense),
        "convolutions_per_map_size": [sum(layer.name.startswith(f"stage{s}_") for layer in stack) for s in (1, 2, 3)],
        "stage_output_shapes": [list(model.get_layer(f"stage{s}_block{n}_out").output.shape[1:]) for s in (1, 2, 3)],
        "strided_convolutions": strided,
        "pooling_layers": pooling,
        "pooling_feeds_the_dense_layer": classifier_input is model.get_layer("pool").output,
        "shortcut_layers": [type(layer).__name__ for layer in shortcuts],
        "shortcut_parameters": int(sum(layer.count_params() for layer in shortcuts)),
        "trainable_parameters": int(sum(int(np.prod(w.shape)) for w in model.trainable_weights)),
        "all_parameters": int(model.count_params()),
    }


# ---- X18: the family, n = 1, 3, 5, 7, 9 -------------------------------------------------------------
def resnet_family(cfg):
    import keras
    import numpy as np

    from claimlab.models import resnet_cifar

    family = {}
    for n in (TUTORIAL_N, *PAPER_N):
        measured = describe_resnet(resnet_cifar(n), n)
        measured["projection_shortcut_parameters"] = int(resnet_cifar(n, shortcut="projection").count_params())
        measured["plain_network_parameters"] = int(resnet_cifar(n, shortcut="none").count_params())
        family[f"resnet{6 * n + 2}"] = measured
    ns = [TUTORIAL_N, *PAPER_N]
    rows = [family[f"resnet{6 * n + 2}"] for n in ns]

    # The tutorial's network, run forward on one 32x32 image: "the output volume of Layer1".
    tutorial = resnet_cifar(TUTORIAL_N)
    probe = keras.Model(tutorial.input, [tutorial.get_layer("stem_relu").output,
                                         tutorial.get_layer(f"stage1_block{TUTORIAL_N}_out").output, tutorial.output])
    image = np.random.default_rng(cfg["data_seed"]).random((1, 32, 32, 3)).astype("float32")
    stem, layer1, probabilities = (np.asarray(t) for t in probe(image))
    expected_maps = [[32, 32, 16], [16, 16, 32], [8, 8, 64]]
    return {
        "n": ns,
        "family": family,
        "stack_3x3_convolutions": [r["stack_3x3_convolutions"] for r in rows],
        "weighted_layers": [r["weighted_layers"] for r in rows],
        "convolutions_per_map_size": [r["convolutions_per_map_size"] for r in rows],
        "stage_output_shapes": [r["stage_output_shapes"] for r in rows],
        "maps_32_16_8_with_16_32_64_filters": all(r["stage_output_shapes"] == expected_maps for r in rows),
        "downsampling_only_by_first_convolution_of_stages_2_and_3": all(
            r["strided_convolutions"] == ["stage2_block1_conv1", "stage3_block1_conv1"] for r in rows),
        "only_pooling_is_global_average_before_dense": all(
            r["pooling_layers"] == ["GlobalAveragePooling2D"] and r["pooling_feeds_the_dense_layer"] for r in rows),
        "shortcuts_are_parameter_free_zero_padding": all(
            r["shortcut_parameters"] == 0 and r["shortcut_layers"] == ["ZeroPadShortcut", "ZeroPadShortcut"]
            and r["all_parameters"] == r["plain_network_parameters"] for r in rows),
        "tutorial_stem_output_shape": list(stem.shape[1:]),
        "tutorial_layer1_output_shape": list(layer1.shape[1:]),
        "tutorial_output_shape": list(probabilities.shape),
        "tutorial_convolutions_in_layer1": family[f"resnet{6 * TUTORIAL_N + 2}"]["convolutions_per_map_size"][0],
        "trainable_parameters": [family[f"resnet{6 * n + 2}"]["trainable_parameters"] for n in PAPER_N],
        "all_parameters": [family[f"resnet{6 * n + 2}"]["all_parameters"] for n in PAPER_N],
        "trainable_parameters_millions_2dp": [round(family[f"resnet{6 * n + 2}"]["trainable_parameters"] / 1e6, 2)
                                              for n in PAPER_N],
        "paper_parameters_millions": PAPER_PARAMETERS_MILLIONS,
    }




# ---- X19: where ResNet50 puts its projection shortcuts ---------------------------------------------
def resnet50(keras):
    """keras.applications.ResNet50 without weights or top on 224x224x3 images: the network X19, X20, X30 read."""
    return keras.applications.ResNet50(weights=None, include_top=False, input_shape=RESNET50_INPUT)


def resnet50_blocks(model) -> list[dict]:
    """Every residual block of a keras.applications ResNet50, in order: its shortcut, stride and shapes."""
    import re

    names = [layer.name for layer in model.layers]
    blocks = list(dict.fromkeys(match.group(1) for match in map(re.compile(r"(conv\d+_block\d+)_").match, names)
                                if match))
    described = []
    for block in blocks:
        block_input = model.get_layer(f"{block}_1_conv").input  # the main path's first convolution reads it
        input_shape, output_shape = shape_of(block_input)[1:], shape_of(model.get_layer(f"{block}_out").output)[1:]
        projection = f"{block}_0_conv" in names
        shortcut = model.get_layer(f"{block}_0_bn").output if projection else block_input
        added = model.get_layer(f"{block}_add").input  # the two tensors the block adds: [shortcut, main path]
        described.append({
            "block": block,
            "shortcut": "projection" if projection else "identity",
            "shortcut_is_added": any(tensor is shortcut for tensor in added),
            "stride": input_shape[0] // output_shape[0],
            "shortcut_conv_strides": list(model.get_layer(f"{block}_0_conv").strides) if projection else None,
            "main_path_strides": [list(model.get_layer(f"{block}_{i}_conv").strides) for i in (1, 2, 3)],
            "input_shape": input_shape,
            "output_shape": output_shape,
        })
    return described


def resnet50_projection_blocks(cfg):
    """keras.applications.ResNet50 (no weights, no top) on 224x224x3: which blocks project, and where."""
    keras = fresh_keras()

    model = resnet50(keras)
    blocks = resnet50_blocks(model)
    projections = [b for b in blocks if b["shortcut"] == "projection"]
    identities = [b for b in blocks if b["shortcut"] == "identity"]
    changed = [b for b in blocks if b["input_shape"] != b["output_shape"]]
    return {
        "keras_version": keras.__version__,
        "input_shape": list(RESNET50_INPUT),
        "blocks": blocks,
        "block_count": len(blocks),
        "projection_blocks": [b["block"] for b in projections],
        "projection_block_strides": [b["stride"] for b in projections],
        "projection_shortcut_conv_strides": [b["shortcut_conv_strides"] for b in projections],
        "projection_block_channels": [[b["input_shape"][2], b["output_shape"][2]] for b in projections],
        "projection_block_sizes": [[b["input_shape"][0], b["output_shape"][0]] for b in projections],
        "identity_block_count": len(identities),
        "identity_block_strides": sorted({b["stride"] for b in identities}),
        "identity_blocks_keep_their_shape": all(b["input_shape"] == b["output_shape"] for b in identities),
        "every_shortcut_is_added": all(b["shortcut_is_added"] for b in blocks),
        "blocks_that_change_shape": [b["block"] for b in changed],
        "every_shape_change_uses_a_projection_block": bool(changed) and all(
            b["shortcut"] == "projection" for b in changed) and all(b["shortcut_is_added"] for b in blocks),
        "projection_blocks_with_stride_1": [b["block"] for b in projections if b["stride"] == 1],
        "every_projection_changes_channels": all(b["input_shape"][2] != b["output_shape"][2] for b in projections),
        "projection_blocks_only_where_stride_above_1": bool(projections) and all(b["stride"] > 1 for b in projections),
    }


# ---- X20: what a bottleneck costs, against the plain block it replaces -------------------------------
def convolution_cost(layer) -> dict:
    """One built Conv2D's cost, read off its kernel and output shapes: multiply-adds and parameters."""
    rows, cols, channels_in, channels_out = shape_of(layer.kernel)
    _, height, width, channels = shape_of(layer.output)
    if channels != channels_out:
        raise ValueError(f"{layer.name}: output has {channels} channels, kernel {channels_out}")
    return {
        "layer": layer.name,
        "kernel_shape": [rows, cols, channels_in, channels_out],
        "output_shape": [height, width, channels],
        "multiply_adds": height * width * channels * rows * cols * channels_in,
        "multiply_adds_per_position": channels * rows * cols * channels_in,
        "parameters": int(layer.count_params()),
    }


def block_cost(convolutions: list) -> dict:
    costs = [convolution_cost(layer) for layer in convolutions]
    return {
        "convolutions": costs,
        "channels": [costs[0]["kernel_shape"][2]] + [c["kernel_shape"][3] for c in costs],
        "kernel_sizes": [c["kernel_shape"][0] for c in costs],
        "multiply_adds": sum(c["multiply_adds"] for c in costs),
        "multiply_adds_per_position": sum(c["multiply_adds_per_position"] for c in costs),
        "parameters": sum(c["parameters"] for c in costs),
    }


def two_3x3_convolutions(keras, channels: int, size: int, name: str):
    """Two Conv2D(channels, 3x3, 'same') on a size x size x channels map, as a built Keras model."""
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(channels, 3, padding="same", activation="relu", name=f"{name}_conv1")(inputs)
    x = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv2")(x)
    return keras.Model(inputs, x, name=name)


def bottleneck_multiply_adds(cfg):
    """ResNet50's conv2_block2 (1x1 256->64, 3x3 64, 1x1 64->256 on 56x56) against two 3x3x256 and two 3x3x64."""
    keras = fresh_keras()

    model = resnet50(keras)
    bottleneck = block_cost([model.get_layer(f"{BOTTLENECK_BLOCK}_{i}_conv") for i in (1, 2, 3)])
    bottleneck_input = shape_of(model.get_layer(f"{BOTTLENECK_BLOCK}_1_conv").input)[1:]
    bottleneck_output = shape_of(model.get_layer(f"{BOTTLENECK_BLOCK}_out").output)[1:]
    width = bottleneck_input[2]
    plain_model = two_3x3_convolutions(keras, width, bottleneck_input[0], "plain")
    plain = block_cost([plain_model.get_layer("plain_conv1"), plain_model.get_layer("plain_conv2")])
    reduced = bottleneck["channels"][1]
    basic_model = two_3x3_convolutions(keras, reduced, bottleneck_input[0], "basic")
    basic = block_cost([basic_model.get_layer("basic_conv1"), basic_model.get_layer("basic_conv2")])
    first, middle, last = bottleneck["convolutions"]
    return {
        "keras_version": keras.__version__,
        "map_size": bottleneck_input[:2],
        "bottleneck_input_shape": bottleneck_input,
        "bottleneck_output_shape": bottleneck_output,
        "bottleneck": bottleneck,
        "plain": plain,
        "basic": basic,
        "first_1x1_reduces_channels": first["kernel_shape"][:2] == [1, 1] and first["kernel_shape"][3] < width,
        "three_by_three_on_fewer_channels": (middle["kernel_shape"][:2] == [3, 3]
                                             and max(middle["kernel_shape"][2:]) < width),
        "last_1x1_restores_input_channels": last["kernel_shape"][:2] == [1, 1] and last["kernel_shape"][3] == width
        and bottleneck_output == bottleneck_input,
        "plain_has_the_same_input_and_output_width": plain["channels"][0] == plain["channels"][-1] == width,
        "bottleneck_multiply_adds": bottleneck["multiply_adds"],
        "plain_multiply_adds": plain["multiply_adds"],
        "basic_multiply_adds": basic["multiply_adds"],
        "bottleneck_multiply_adds_below_plain_block": bottleneck["multiply_adds"] < plain["multiply_adds"],
        "bottleneck_over_plain_multiply_adds": bottleneck["multiply_adds"] / plain["multiply_adds"],
        "bottleneck_over_basic_multiply_adds": bottleneck["multiply_adds"] / basic["multiply_adds"],
        "bottleneck_parameters": bottleneck["parameters"],
        "plain_parameters": plain["parameters"],
        "basic_parameters": basic["parameters"],
        "bottleneck_over_plain_parameters": bottleneck["parameters"] / plain["parameters"],
    }


# ---- X30: the first convolution of ResNet50's convolutional blocks ---------------------------------
def first_convolution(model, block: str) -> dict:
    """A projection block's main path: its first convolution (kernel, strides, map sizes, what reads it and
    what it reads) and its second, the 3x3."""
    first, second = model.get_layer(f"{block}_1_conv"), model.get_layer(f"{block}_2_conv")
    shortcut = model.get_layer(f"{block}_0_conv")
    followers = [model.get_layer(f"{block}_1_{part}") for part in ("bn", "relu")]
    return {
        "block": block,
        "layer": first.name,
        "kernel_size": list(first.kernel_size),
        "strides": list(first.strides),
        "padding": first.padding,
        "sizes": [shape_of(first.input)[1], shape_of(first.output)[1]],
        "reads_the_block_input": first.input is shortcut.input,  # the tensor the shortcut convolution reads
        "followed_by": [type(layer).__name__ for layer in followers],
        "followed_by_batch_norm_then_relu": (followers[0].input is first.output
                                             and followers[1].input is followers[0].output
                                             and getattr(followers[1], "activation", None) is not None
                                             and followers[1].activation.__name__ == "relu"),
        "second_layer": second.name,
        "second_kernel_size": list(second.kernel_size),
        "second_strides": list(second.strides),
    }


def resnet50_projection_first_convolutions(cfg):
    """keras.applications.ResNet50 (no weights, no top) on 224x224x3: how each projection block's main path begins."""
    keras = fresh_keras()

    model = resnet50(keras)
    projections = [b for b in resnet50_blocks(model) if b["shortcut"] == "projection"]
    firsts = [first_convolution(model, b["block"]) for b in projections]
    one_by_one = bool(firsts) and all(f["kernel_size"] == [1, 1] and f["reads_the_block_input"] for f in firsts)
    return {
        "keras_version": keras.__version__,
        "input_shape": list(RESNET50_INPUT),
        "first_convolutions": firsts,
        "projection_blocks": [f["block"] for f in firsts],
        "first_layers": [f["layer"] for f in firsts],
        "first_kernel_sizes": [f["kernel_size"] for f in firsts],
        "first_strides": [f["strides"] for f in firsts],
        "first_paddings": [f["padding"] for f in firsts],
        "first_sizes": [f["sizes"] for f in firsts],
        "first_reads_the_block_input": all(f["reads_the_block_input"] for f in firsts),
        "first_followed_by_batch_norm_then_relu": all(f["followed_by_batch_norm_then_relu"] for f in firsts),
        "block_strides": [b["stride"] for b in projections],
        "first_stride_is_the_block_stride": all(f["strides"] == [b["stride"]] * 2 for f, b in zip(firsts, projections)),
        "second_kernel_sizes": [f["second_kernel_size"] for f in firsts],
        "second_strides": [f["second_strides"] for f in firsts],
        "blocks_whose_first_convolution_has_stride_1": [f["block"] for f in firsts if min(f["strides"]) == 1],
        "every_projection_block_starts_with_a_1x1": one_by_one,
        "every_projection_block_starts_with_a_strided_1x1": one_by_one and all(
            all(stride > 1 for stride in f["strides"]) for f in firsts),
    }


# ---- what the checks recorded beside the judged values, added to the reasons -------------------------
def projection_context(measured) -> str:
    blocks = ", ".join(f"{name} stride {stride}, {channels[0]}->{channels[1]} channels, {sizes[0]}->{sizes[1]} px"
                       for name, stride, channels, sizes in zip(measured["projection_blocks"],
                                                                measured["projection_block_strides"],
                                                                measured["projection_block_channels"],
                                                                measured["projection_block_sizes"]))
    return (f"not judged: ResNet50's projection blocks: {blocks}; every projection changes the channels: "
            f"{measured['every_projection_changes_channels']}; {measured['identity_block_count']} identity blocks, "
            f"strides {measured['identity_block_strides']}")


def bottleneck_context(measured) -> str:
    size = "x".join(str(s) for s in measured["map_size"])
    bottleneck, plain, basic = measured["bottleneck"], measured["plain"], measured["basic"]
    return (f"not judged: on a {size} map, multiply-adds per position: bottleneck "
            f"{bottleneck['multiply_adds_per_position']:,} ({'->'.join(map(str, bottleneck['channels']))}), plain "
            f"{plain['multiply_adds_per_position']:,} (two 3x3x{plain['channels'][0]}), ratio "
            f"{measured['bottleneck_over_plain_multiply_adds']:.4f}; basic block (two 3x3x{basic['channels'][0]}) "
            f"{basic['multiply_adds_per_position']:,}, bottleneck/basic {measured['bottleneck_over_basic_multiply_adds']:.4f}; "
            f"parameters {measured['bottleneck_parameters']:,} / {measured['plain_parameters']:,} / "
            f"{measured['basic_parameters']:,}")


def first_convolutions_context(measured) -> str:
    firsts = "; ".join(f"{f['layer']} {'x'.join(map(str, f['kernel_size']))} strides {f['strides']} "
                       f"({f['sizes'][0]}->{f['sizes'][1]} px)" for f in measured["first_convolutions"])
    seconds = ", ".join(f"{f['second_layer']} {'x'.join(map(str, f['second_kernel_size']))} strides "
                        f"{f['second_strides']}" for f in measured["first_convolutions"])
    return (f"not judged: first convolutions: {firsts}; each followed by batch norm then ReLU: "
            f"{measured['first_followed_by_batch_norm_then_relu']}; each one's stride is its block's (X19): "
            f"{measured['first_stride_is_the_block_stride']}; second convolutions: {seconds}")
