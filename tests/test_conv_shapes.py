"""conv_shapes: one real run of the exact checks, then every measured value asserted.

If one of these assertions fails after a Keras/TensorFlow upgrade, the library changed how it shapes or
counts a convolution or pooling layer: the message says what the claim expects and what was measured.
"""

import pytest

from conftest import mlflow_runs
from claimlab import config, registry
from claimlab.verdict import Evidence

CLAIM_IDS = ["X1", "X2", "X4", "X8", "X9", "X10", "X11", "X21", "X22", "X28", "X32", "X33", "X39", "X40", "X41"]
EXPERIMENT = registry.load("conv_shapes")


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("conv_shapes")


def test_every_claim_is_judged_and_the_measured_values_are_metrics_of_the_checks_run(run):
    assert list(run["verdicts"]) == CLAIM_IDS
    (child,) = mlflow_runs(run["uri"], "conv_shapes")["checks"]
    metrics = child.data.metrics
    assert metrics["parameter_sharing_counts/unshared_parameters"] == 756_560
    assert metrics["parameter_sharing_counts/shared_parameters"] == 3860
    assert metrics["conv1d_parameter_count/total_parameters"] == 5
    assert metrics["conv_output_size_formula/example_formula"] == 14


def test_x1_conv_bias_is_one_per_output_channel(run):
    m = run["checks"]["conv_bias_per_output_channel"]
    assert m["bias_shape"] == [32], f"Conv2D(32, 5x5) bias shape changed: {m['bias_shape']}"
    assert m["kernel_shape"] == [5, 5, 1, 32], f"Conv2D kernel layout changed: {m['kernel_shape']}"
    assert m["output_shape"] == [None, 28, 28, 32]
    assert m["bias_constant_over_pixels"], f"the bias no longer adds one value per channel (spread {m['bias_spread_over_pixels']})"
    assert m["tf_nn_output_shape"] == [2, 28, 28, 32]
    assert run["verdicts"]["X1"].verdict == "supported"


def test_x2_rgb_kernel_is_3x3x3x32(run):
    m = run["checks"]["rgb_conv_kernel_shape"]
    assert m["weights_shape"] == [3, 3, 3, 32], f"get_weights()[0] of Conv2D(32,(3,3)) on RGB is now {m['weights_shape']}"
    assert m["filter_shape"] == [3, 3, 3]
    assert m["output_shape"] == [1, 62, 62, 32]  # 64x64 input, 'valid'
    assert m["output_is_sum_over_channels"] and m["channel_slices_differ"]
    assert run["verdicts"]["X2"].verdict == "supported"


def test_x4_conv1d_counts_and_the_locally_connected_twin(run):
    m = run["checks"]["conv1d_parameter_count"]
    assert (m["conv_parameters"], m["dense_parameters"], m["total_parameters"]) == (3, 2, 5), m
    assert m["conv_output_shape"] == [None, 2, 1], "Dense(1) after Conv1D acts on the last axis of (None, 2, 1)"
    assert m["two_filter_conv_parameters"] == 6
    assert m["locally_connected_parameters"] == 6  # 2 positions x (2 weights + 1 bias)
    assert m["locally_connected_more_than_conv"] and m["same_filter_on_both_patches"]
    assert run["verdicts"]["X4"].verdict == "supported"


def test_x8_formula_matches_real_output_sizes(run):
    m = run["checks"]["conv_output_size_formula"]
    assert m["example_formula"] == 14.0
    assert m["example_output_shape"] == [14, 14, 20], f"ZeroPadding2D(1)+Conv2D(20, 8, strides=2) gives {m['example_output_shape']}"
    assert m["tf_nn_explicit_padding_output_shape"] == [14, 14, 20]
    assert m["keras_valid_output_shape"] == [13, 13, 20], "Keras padding='valid' means no padding"
    assert m["keras_same_output_shape"] == [16, 16, 20], "padding='same' gives ceil(32 / 2)"
    # the default grid: n 4..16, f 1..5, s 1..3, p 0..2 with n + 2p >= f
    assert m["grid_points"] == 582
    assert m["whole_number_points_matching"] == 355 and m["fractional_points_floored"] == 227
    assert m["mismatches"] == [], f"real conv sizes differ from floor((n+2p-f)/s)+1 at {m['mismatches'][:5]}"
    x8 = run["verdicts"]["X8"]
    assert x8.verdict == "supported"
    assert [(c.quantity, c.match) for c in x8.measured.checked] == [
        ("example_formula", True), ("example_output_shape", True), ("tf_nn_explicit_padding_output_shape", True),
        ("mismatches", True)]
    assert "at 227 of 582 points the formula gives a fraction" in x8.reason


def test_x8_rule_names_the_grid_of_the_run_and_a_mismatch_refutes():
    x8 = next(c for c in EXPERIMENT.claims if c.id == "X8")
    default = config.resolve(EXPERIMENT, "smoke")
    other = config.resolve(EXPERIMENT, "smoke", overrides={"formula_strides": "(1, 4)", "formula_paddings": "(3,)"})
    assert "s in [1, 2, 3], p in [0, 1, 2]" in x8.rule_for(default).describe()
    assert "s in [1, 4], p in [3]" in x8.rule_for(other).describe()
    measured = {"example_formula": 14.0, "example_output_shape": [14, 14, 20],
                "tf_nn_explicit_padding_output_shape": [14, 14, 20], "keras_valid_output_shape": [13, 13, 20],
                "keras_same_output_shape": [16, 16, 20], "grid_points": 3, "whole_number_points_matching": 1,
                "fractional_points_floored": 1, "mismatches": []}
    outcome = x8.rule_for(default).evaluate(Evidence(None, {"conv_output_size_formula": measured}))
    assert outcome.verdict == "supported", outcome.reason
    wrong = {**measured, "mismatches": [[5, 2, 2, 0, 3, 2.5]]}  # a real size that is not the formula's floor
    outcome = x8.rule_for(default).evaluate(Evidence(None, {"conv_output_size_formula": wrong}))
    assert outcome.verdict == "refuted" and [c.match for c in outcome.checked] == [True, True, True, False]


def test_x9_parameter_sharing_3860_vs_756560(run):
    m = run["checks"]["parameter_sharing_counts"]
    assert m["shared_parameters"] == 3860, f"Conv2D(20, 8x8) on 3 channels now counts {m['shared_parameters']}"
    assert m["unshared_parameters"] == 756_560, f"LocallyConnected2D counts {m['unshared_parameters']}"
    assert m["ratio"] == 196.0
    assert m["shared_output_shape"] == m["unshared_output_shape"] == [14, 14, 20]
    assert m["unshared_kernel_shape"] == [196, 192, 20]
    assert run["verdicts"]["X9"].verdict == "supported"


def test_x9_the_labs_locally_connected_layer_equals_keras2s_own_on_identical_weights(run):
    compared = run["checks"]["parameter_sharing_counts"]["keras2_layer"]
    assert compared["compared"] is True and compared["tf_keras_version"].startswith("2.")
    assert compared["keras2_parameters"] == compared["lab_parameters"] == 756_560
    assert compared["keras2_output_shape"] == [14, 14, 20]
    assert compared["max_abs_output_difference"] <= 1e-5
    assert "Keras 2's own (tf-keras 2." in run["verdicts"]["X9"].reason


def test_x10_second_conv_kernel_is_64x32x5x5(run):
    m = run["checks"]["second_conv_kernel_shape"]
    assert m["pooled_shape"] == [14, 14, 32]
    assert m["keras_kernel_shape"] == [5, 5, 32, 64], f"Keras Conv2D kernel layout changed: {m['keras_kernel_shape']}"
    assert m["kernel_shape_out_in_h_w"] == [64, 32, 5, 5]
    assert m["kernel_weights"] == 64 * 32 * 5 * 5 and m["output_channels"] == 64
    assert m["channel_slices_identical"] is False  # the 32 slices are separate parameters
    assert m["per_channel_alternative_weights"] == 5 * 5 * 32 * 2 and m["per_channel_alternative_output_channels"] == 64
    assert run["verdicts"]["X10"].verdict == "supported"


def test_x11_max_pool_same_padding_keeps_2x2x5(run):
    m = run["checks"]["max_pool_same_padding"]
    for key in ("valid_shape", "same_shape", "tf_nn_valid_shape", "tf_nn_same_shape"):
        assert m[key] == [1, 2, 2, 5], f"2x2/2 max pooling of 4x4x5 ({key}) is now {m[key]}"
    assert m["same_values_equal_valid_values"]
    assert run["verdicts"]["X11"].verdict == "supported"


def test_x21_no_fresh_kernel_copies_one_slice_over_its_depth_and_a_step_separates_copies(run):
    m = run["checks"]["kernel_channel_slices"]
    assert m["kernel_depth"] == 32  # the part of the quote that holds: as deep as the input
    assert m["by_draw"]["seeds"] == [0, 1, 2, 3, 4] and m["by_draw"]["kernels_with_identical_slices"] == [0] * 5
    assert m["all_kernels_have_identical_slices"] is False
    # copied slices see different input channels, so their gradients differ and one step separates them
    assert m["copied_slices_stay_copies_after_a_step"] is False and m["copied_slices_largest_gap_after_a_step"] > 0.01
    assert run["verdicts"]["X21"].verdict == "refuted"


def test_x22_conv2d_is_not_two_kernels_per_channel_but_depthwise_is(run):
    m = run["checks"]["kernels_per_channel"]
    assert m["output_channels"] == 64
    assert m["input_channels_per_output_channel"] == m["fewest_input_channels_per_output"] == 32
    assert m["kernel_weights"] == 5 * 5 * 32 * 64
    # DepthwiseConv2D(depth_multiplier=2) is what "2 kernels per channel" describes
    assert m["per_channel_input_channels_per_output"] == 1 and m["per_channel_kernel_weights"] == 5 * 5 * 32 * 2
    assert m["per_channel_output_channels"] == 64
    assert run["verdicts"]["X22"].verdict == "refuted"
    assert "input_channels_per_output_channel: claimed 1, measured 32" in run["verdicts"]["X22"].reason


def test_x28_the_kernel_gradient_is_the_correlation_and_rotate_and_convolve_gives_it_turned(run):
    m = run["checks"]["conv_backprop_as_convolution"]
    assert m["by_draw"]["seeds"] == [0, 1, 2, 3, 4]
    assert m["correlation_is_the_kernel_gradient"] is True  # Keras' Conv2D is a cross-correlation
    assert m["rotate_and_convolve_is_the_kernel_gradient"] is False
    assert m["rotate_and_convolve_is_the_rotated_kernel_gradient"] is True  # right for a true convolution
    assert m["input_gradient_is_the_full_convolution_with_the_kernel"] is True
    assert run["verdicts"]["X28"].verdict == "refuted"


def test_x32_the_two_named_windows_pool_to_6_and_3(run):
    m = run["checks"]["max_pool_named_windows"]
    assert m["input"] == [[1, 1, 3, 2], [5, 6, 1, 2], [2, 4, 1, 0], [7, 8, 3, 4]]
    assert m["keras_output"] == m["tf_nn_output"] == [[6, 3], [8, 4]], (m["keras_output"], m["tf_nn_output"])
    assert (m["keras_top_left"], m["keras_top_right"], m["tf_nn_top_left"], m["tf_nn_top_right"]) == (6, 3, 6, 3)
    assert m["left_layout_named_windows"] == [6, 3]  # where the windows sit does not change what they pool to
    assert m["left_layout_output"] == [[6, 8], [3, 4]]
    x32 = run["verdicts"]["X32"]
    assert x32.verdict == "supported"
    assert [(c.quantity, c.claimed, c.measured, c.match) for c in x32.measured.checked] == [
        ("keras_top_left", 6, 6.0, True), ("keras_top_right", 3, 3.0, True),
        ("tf_nn_top_left", 6, 6.0, True), ("tf_nn_top_right", 3, 3.0, True)]


def test_x32_a_window_that_pools_to_another_value_refutes():
    x32 = next(c for c in EXPERIMENT.claims if c.id == "X32").rule_for(config.resolve(EXPERIMENT, "smoke"))
    measured = {"input": [], "keras_output": [], "tf_nn_output": [], "keras_top_left": 6.0, "keras_top_right": 2.0,
                "tf_nn_top_left": 6.0, "tf_nn_top_right": 3.0, "left_layout_output": [],
                "left_layout_named_windows": [6.0, 2.0]}
    outcome = x32.evaluate(Evidence(None, {"max_pool_named_windows": measured}))
    assert outcome.verdict == "refuted" and [c.match for c in outcome.checked] == [True, False, True, True]


def test_x33_every_row_but_the_flatten_matches(run):
    m = run["checks"]["described_network_shapes"]
    assert [m[row] for row in ("conv1", "pool1", "conv2", "pool2")] == [[25, 25, 12], [12, 12, 12], [12, 12, 24],
                                                                        [5, 5, 24]]
    assert m["flatten"] == [600] and m["flatten_weights"] == 0  # a Flatten reshapes 5x5x24, it cannot make 300
    assert m["fully_connected1"] == [300] and m["fully_connected1_weights"] == 600 * 300 + 300
    x33 = run["verdicts"]["X33"]
    assert x33.verdict == "refuted"
    assert [c.quantity for c in x33.measured.checked if not c.match] == ["flatten"]


def test_x33_a_flatten_of_300_would_support():
    x33 = next(c for c in EXPERIMENT.claims if c.id == "X33").rule_for(config.resolve(EXPERIMENT, "smoke"))
    measured = {"conv1": [25, 25, 12], "pool1": [12, 12, 12], "conv2": [12, 12, 24], "pool2": [5, 5, 24],
                "flatten": [300], "fully_connected1": [300], "fully_connected2": [3], "flatten_weights": 0,
                "fully_connected1_weights": 90300}
    assert x33.evaluate(Evidence(None, {"described_network_shapes": measured})).verdict == "supported"
    measured["conv2"] = [8, 8, 24]  # padding left out
    assert x33.evaluate(Evidence(None, {"described_network_shapes": measured})).verdict == "refuted"


def test_x39_a_conv2d_has_64_different_filters(run):
    m = run["checks"]["conv_filters_share_weights"]
    assert m["by_draw"]["seeds"] == [0, 1, 2, 3, 4]
    assert m["by_draw"]["filters_unlike_the_first"] == [63] * 5, "fresh Conv2D filters now start alike"
    assert (m["strides"], m["padding"], m["activation"]) == ([1, 1], "valid", "relu")
    assert run["verdicts"]["X39"].verdict == "refuted"


def test_x39_filters_alike_on_one_draw_would_support():
    x39 = next(c for c in EXPERIMENT.claims if c.id == "X39").rule_for(config.resolve(EXPERIMENT, "smoke"))
    measured = {"filters_unlike_the_first": 0, "strides": [1, 1], "padding": "valid", "activation": "relu"}
    assert x39.evaluate(Evidence(None, {"conv_filters_share_weights": measured})).verdict == "supported"
    measured["filters_unlike_the_first"] = 1
    assert x39.evaluate(Evidence(None, {"conv_filters_share_weights": measured})).verdict == "refuted"


def test_x40_the_first_examples_windows_pool_to_6_and_8(run):
    m = run["checks"]["max_pool_first_example_windows"]
    assert m["input"] == [[1, 0, 2, 3], [4, 6, 6, 8], [2, 4, 1, 0], [7, 8, 3, 4]]
    assert m["keras_output"] == m["tf_nn_output"] == [[6, 8], [8, 4]], (m["keras_output"], m["tf_nn_output"])
    assert m["left_layout_named_windows"] == [6, 8]
    x40 = run["verdicts"]["X40"]
    assert x40.verdict == "supported"
    assert [(c.quantity, c.claimed, c.measured) for c in x40.measured.checked] == [
        ("keras_top_left", 6, 6.0), ("keras_top_right", 8, 8.0), ("tf_nn_top_left", 6, 6.0), ("tf_nn_top_right", 8, 8.0)]


def test_x41_pooling_keeps_the_depth_and_pools_each_slice_alone(run):
    m = run["checks"]["pooling_depth_slices"]
    for pooling in ("max_pooling_2d", "average_pooling_2d", "tf_nn_max_pool"):
        assert m[f"{pooling}_output_depth"] == 5, (pooling, m)
        assert m[f"{pooling}_slices_unlike_pooled_alone"] == 0, (pooling, m)
    assert m["slices_compared"] == 5 * 5 * 3  # check_seeds draws x 5 channels x 3 poolings
    assert run["verdicts"]["X41"].verdict == "supported"


def test_x41_a_pooling_that_mixed_channels_would_refute():
    x41 = next(c for c in EXPERIMENT.claims if c.id == "X41").rule_for(config.resolve(EXPERIMENT, "smoke"))
    measured = {"input_depth": 5, "max_pooling_2d_output_depth": 5, "average_pooling_2d_output_depth": 5,
                "tf_nn_max_pool_output_depth": 5, "max_pooling_2d_slices_unlike_pooled_alone": 0,
                "average_pooling_2d_slices_unlike_pooled_alone": 3, "tf_nn_max_pool_slices_unlike_pooled_alone": 0,
                "slices_compared": 75}
    outcome = x41.evaluate(Evidence(None, {"pooling_depth_slices": measured}))
    assert outcome.verdict == "refuted"
    assert [c.quantity for c in outcome.checked if not c.match] == ["average_pooling_2d_slices_unlike_pooled_alone"]
