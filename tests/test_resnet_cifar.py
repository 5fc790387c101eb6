"""resnet_cifar: one real run of the exact checks, then every measured value asserted.

If one of these assertions fails, claimlab.models.resnet_cifar, keras.applications.ResNet50 or Keras
changed how the network is built or counted: the message says what the claim expects and what was measured.
"""


import pytest

from claimlab import registry
from conftest import load_benchmark, mlflow_runs

CLAIM_IDS = ["X18", "X19", "X20", "X30"]


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("resnet_cifar")


def test_every_claim_is_judged_and_the_measured_values_are_metrics_of_the_checks_run(run):
    assert [c.id for c in registry.load("resnet_cifar").claims] == CLAIM_IDS
    assert list(run["verdicts"]) == CLAIM_IDS
    (child,) = mlflow_runs(run["uri"], "resnet_cifar")["checks"]
    metrics = child.data.metrics
    assert metrics["resnet_family/tutorial_convolutions_in_layer1"] == 2
    assert metrics["resnet50_projection_blocks/identity_block_count"] == 12
    assert metrics["bottleneck_multiply_adds/bottleneck_multiply_adds"] == 218_365_952


def test_x18_layers_maps_and_shortcuts(run):
    m = run["checks"]["resnet_family"]
    assert m["n"] == [1, 3, 5, 7, 9]
    assert m["stack_3x3_convolutions"] == [6, 18, 30, 42, 54]
    assert m["weighted_layers"] == [8, 20, 32, 44, 56]
    assert m["convolutions_per_map_size"] == [[2 * n] * 3 for n in (1, 3, 5, 7, 9)]
    assert all(shapes == [[32, 32, 16], [16, 16, 32], [8, 8, 64]] for shapes in m["stage_output_shapes"])
    assert m["tutorial_stem_output_shape"] == [32, 32, 16] and m["tutorial_layer1_output_shape"] == [32, 32, 16]
    assert m["tutorial_output_shape"] == [1, 10]
    resnet8 = m["family"]["resnet8"]
    assert resnet8["strided_convolutions"] == ["stage2_block1_conv1", "stage3_block1_conv1"]
    assert resnet8["pooling_layers"] == ["GlobalAveragePooling2D"] and resnet8["pooling_feeds_the_dense_layer"]
    assert resnet8["shortcut_layers"] == ["ZeroPadShortcut", "ZeroPadShortcut"] and resnet8["shortcut_parameters"] == 0
    assert run["verdicts"]["X18"].verdict == "supported"


def test_x18_parameter_counts_against_he_et_al_table_6(run):
    m = run["checks"]["resnet_family"]
    assert m["trainable_parameters"] == [269_722, 464_154, 658_586, 853_018]
    assert m["all_parameters"] == [271_098, 466_426, 661_754, 857_082]  # + batch norm's moving mean, variance
    assert m["trainable_parameters_millions_2dp"] == m["paper_parameters_millions"] == [0.27, 0.46, 0.66, 0.85]
    resnet20 = m["family"]["resnet20"]
    assert resnet20["projection_shortcut_parameters"] - resnet20["all_parameters"] == 16 * 32 + 32 * 64 + 4 * (32 + 64)
    assert resnet20["plain_network_parameters"] == resnet20["all_parameters"]


def test_x19_resnet50_projects_at_every_shape_change_but_once_with_stride_1(run):
    m = run["checks"]["resnet50_projection_blocks"]
    assert m["input_shape"] == [224, 224, 3] and m["block_count"] == 16 and m["identity_block_count"] == 12
    assert m["projection_blocks"] == ["conv2_block1", "conv3_block1", "conv4_block1", "conv5_block1"]
    assert m["projection_block_strides"] == [1, 2, 2, 2], m["projection_block_strides"]
    assert m["projection_shortcut_conv_strides"] == [[1, 1], [2, 2], [2, 2], [2, 2]]
    assert m["projection_block_channels"] == [[64, 256], [256, 512], [512, 1024], [1024, 2048]]
    assert m["projection_block_sizes"] == [[56, 56], [56, 28], [28, 14], [14, 7]]
    assert m["identity_block_strides"] == [1] and m["identity_blocks_keep_their_shape"]
    assert m["every_shortcut_is_added"], [b["block"] for b in m["blocks"] if not b["shortcut_is_added"]]
    first = m["blocks"][0]
    assert first["block"] == "conv2_block1" and first["input_shape"] == [56, 56, 64]
    assert first["output_shape"] == [56, 56, 256] and first["main_path_strides"] == [[1, 1]] * 3
    assert m["blocks_that_change_shape"] == m["projection_blocks"]
    assert m["every_shape_change_uses_a_projection_block"] is True
    assert m["projection_blocks_with_stride_1"] == ["conv2_block1"]
    assert m["every_projection_changes_channels"] is True
    assert m["projection_blocks_only_where_stride_above_1"] is False
    assert run["verdicts"]["X19"].verdict == "refuted"
    assert "conv2_block1 stride 1, 64->256 channels" in run["verdicts"]["X19"].reason


def test_x20_bottleneck_costs_a_seventeenth_of_the_plain_block_and_about_the_basic_one(run):
    m = run["checks"]["bottleneck_multiply_adds"]
    assert m["map_size"] == [56, 56] and m["bottleneck_input_shape"] == m["bottleneck_output_shape"] == [56, 56, 256]
    bottleneck = m["bottleneck"]
    assert [c["layer"] for c in bottleneck["convolutions"]] == [f"conv2_block2_{i}_conv" for i in (1, 2, 3)]
    assert [c["kernel_shape"] for c in bottleneck["convolutions"]] == [[1, 1, 256, 64], [3, 3, 64, 64], [1, 1, 64, 256]]
    assert bottleneck["channels"] == [256, 64, 64, 256] and bottleneck["kernel_sizes"] == [1, 3, 1]
    # per position: 256*64 + 9*64*64 + 64*256 = 69,632; two 3x3x256: 2*9*256*256; two 3x3x64: 2*9*64*64
    assert bottleneck["multiply_adds_per_position"] == 69_632
    assert m["plain"]["multiply_adds_per_position"] == 1_179_648 and m["plain"]["channels"] == [256, 256, 256]
    assert m["basic"]["multiply_adds_per_position"] == 73_728 and m["basic"]["channels"] == [64, 64, 64]
    assert m["bottleneck_multiply_adds"] == 56 * 56 * 69_632
    assert m["plain_multiply_adds"] == 56 * 56 * 1_179_648 and m["basic_multiply_adds"] == 56 * 56 * 73_728
    assert m["bottleneck_over_plain_multiply_adds"] == pytest.approx(69_632 / 1_179_648)
    assert m["bottleneck_over_basic_multiply_adds"] == pytest.approx(69_632 / 73_728)
    assert (m["bottleneck_parameters"], m["plain_parameters"], m["basic_parameters"]) == (70_016, 1_180_160, 73_856)
    assert m["first_1x1_reduces_channels"] and m["three_by_three_on_fewer_channels"]
    assert m["last_1x1_restores_input_channels"] and m["plain_has_the_same_input_and_output_width"]
    assert m["bottleneck_multiply_adds_below_plain_block"] is True
    assert run["verdicts"]["X20"].verdict == "supported"
    assert "ratio 0.0590" in run["verdicts"]["X20"].reason


def test_x30_every_projection_block_starts_with_a_1x1_but_conv2_block1s_has_stride_1(run):
    m = run["checks"]["resnet50_projection_first_convolutions"]
    assert m["input_shape"] == [224, 224, 3]
    assert m["projection_blocks"] == ["conv2_block1", "conv3_block1", "conv4_block1", "conv5_block1"]
    assert m["first_layers"] == [f"conv{n}_block1_1_conv" for n in (2, 3, 4, 5)]
    assert m["first_kernel_sizes"] == [[1, 1]] * 4
    assert m["first_strides"] == [[1, 1], [2, 2], [2, 2], [2, 2]], m["first_strides"]
    assert m["first_sizes"] == [[56, 56], [56, 28], [28, 14], [14, 7]]
    assert m["first_paddings"] == ["valid"] * 4
    assert m["first_reads_the_block_input"] is True  # the same tensor as the shortcut convolution's
    assert m["first_followed_by_batch_norm_then_relu"] is True
    assert [f["followed_by"] for f in m["first_convolutions"]] == [["BatchNormalization", "Activation"]] * 4
    # consistent with X19: the first convolution carries the block's stride, the 3x3 keeps stride 1
    assert m["block_strides"] == [1, 2, 2, 2] and m["first_stride_is_the_block_stride"] is True
    assert m["second_kernel_sizes"] == [[3, 3]] * 4 and m["second_strides"] == [[1, 1]] * 4
    assert m["blocks_whose_first_convolution_has_stride_1"] == ["conv2_block1"]
    assert m["every_projection_block_starts_with_a_1x1"] is True
    assert m["every_projection_block_starts_with_a_strided_1x1"] is False
    x30 = run["verdicts"]["X30"]
    assert x30.verdict == "refuted"
    assert "conv2_block1_1_conv 1x1 strides [1, 1] (56->56 px)" in x30.reason
    assert "every_projection_block_starts_with_a_1x1: claimed True, measured True" in x30.reason


def test_x20_multiply_adds_agree_with_tensorflow_s_profiler(keras):
    """An independent count of what X20 compares: benchmarks/floor.py reads a model's forward FLOPs off its
    traced graph with TensorFlow's profiler, two per multiply-add of a convolution plus one per output value
    for its bias (ReLU counts none). If the two disagree, either the claim's hand count or the floors are wrong."""
    floor = load_benchmark("floor")
    module = registry.load("resnet_cifar").module
    for channels in (256, 64):  # X20's plain and basic blocks, on conv2's 56x56 maps
        model = module.two_3x3_convolutions(keras, channels, 56, "probe")
        cost = module.block_cost([model.get_layer("probe_conv1"), model.get_layer("probe_conv2")])
        bias_adds = 2 * 56 * 56 * channels
        assert floor.forward_flops_per_example(model) == 2 * cost["multiply_adds"] + bias_adds
        assert cost["multiply_adds"] == 56 * 56 * {256: 1_179_648, 64: 73_728}[channels]
