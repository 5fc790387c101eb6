"""The ResNet for 32x32 images (X18): build He et al.'s CIFAR family and check what the tutorial quoted
in "ResNet for 32x32 images" (sources/002_6725717de9344925.txt, lines 22-34) says about it.

The tutorial paraphrases He et al. 2015 (section 4.2): a 3x3 convolution, then a stack of 6n layers of
3x3 convolutions on feature maps of {32, 16, 8} pixels with {16, 32, 64} filters, 2n convolutions per
map size, downsampling by a stride of 2, no pooling until the global average pooling in front of the
dense layer, and zero-padding shortcuts where the shape changes (option A). The asker was confused
that the first stage's output has 16 channels when "the number of filters was {16, 32, 64}".

Design choices, made before any run:
- The networks come from `claimlab.models.resnet_cifar` (reusable by other experiments), built for
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
- The verdict is what the installed Keras 3 / TensorFlow 2 build; the reason names their versions.
"""

from claimlab.spec import Claim, Source
from claimlab.verdict import Exact

SOURCE_FILE = "002_6725717de9344925.txt"

TITLE = "ResNet for 32x32 images: 6n+2 layers, {16, 32, 64} filters on {32, 16, 8} maps, zero-padding shortcuts"

TUTORIAL_N = 1  # "Since we chose n=1"
PAPER_N = (3, 5, 7, 9)  # ResNet-20, 32, 44, 56
PAPER_PARAMETERS_MILLIONS = [0.27, 0.46, 0.66, 0.85]  # He et al. 2015, Table 6
ALL_N = (TUTORIAL_N, *PAPER_N)

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


