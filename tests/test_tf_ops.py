"""tf_ops: one real run of the exact checks, then every measured value asserted.

If one of these assertions fails after a TensorFlow/Keras upgrade, the op changed (which ranks
max_pool takes, how tf.add broadcasts, how dropout draws and scales): the message says what changed.
"""

import pytest

from conftest import mlflow_runs

CLAIM_IDS = ["X3", "X12", "X14", "X25", "X26", "X31", "X34"]


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("tf_ops")


def test_every_claim_is_judged_and_the_measured_values_are_metrics_of_the_checks_run(run):
    assert list(run["verdicts"]) == CLAIM_IDS
    (child,) = mlflow_runs(run["uri"], "tf_ops")["checks"]
    metrics = child.data.metrics
    assert metrics["dropout_on_2x10x10/calls"] == 1000
    assert metrics["dropout_on_2x10x10/dropped_fraction"] == pytest.approx(0.1, abs=0.003)
    assert metrics["add_vs_bias_add/tf_add_minus_bias_add_max_abs"] == 0.0
    assert metrics["dropout_keep_prob_vs_rate/elements"] == 1_000_000
    assert metrics["dropout_keep_prob_vs_rate/tf_nn_dropout_0_75_kept_fraction"] == pytest.approx(0.25, abs=0.003)
    assert metrics["bias_add_last_dimension/minus_value_plus_bias_max_abs"] == 0.0


def test_x3_tf2_max_pool_takes_rank_3_and_the_workaround_is_1d_pooling(run):
    m = run["checks"]["max_pool_on_conv1d_output"]
    assert m["conv1d_output_shape"] == [1, 144, 512]
    assert m["tf_nn_max_pool_rank3_raises"] is None, (
        f"tf.nn.max_pool now rejects a rank-3 tensor ({m['tf_nn_max_pool_rank3_message']}): X3 may now hold")
    assert m["tf_nn_max_pool_rank3_equals_max_pool1d"] is True
    # TF 1's op still insists on rank 4: an op error when eager, a ValueError when traced.
    assert m["tf_compat_v1_max_pool_eager"]["raises"] == "InvalidArgumentError"
    # The eager message depends on the CPU's MaxPool kernel: oneDNN's (seen on Intel machines) or Eigen's (AMD).
    assert any(text in m["tf_compat_v1_max_pool_eager"]["message"]
               for text in ("Input must be 4 or 5-dimensional", "tensor_in_shape must have 2 spatial dimensions"))
    assert m["tf_compat_v1_max_pool_in_tf_function"]["raises"] == "ValueError"
    assert "Shape must be rank 4 but is rank 3" in m["tf_compat_v1_max_pool_in_tf_function"]["message"]
    assert m["expanded_shape"] == [1, 1, 144, 512] and m["workaround_shape"] == [1, 72, 512]
    assert m["workaround_minus_max_pool1d_max_abs"] == 0.0
    assert m["workaround_equals_max_pool1d"] and m["workaround_equals_MaxPooling1D"]
    assert run["verdicts"]["X3"].verdict == "refuted"
    assert "tf.compat.v1.nn.max_pool, raises ValueError" in run["verdicts"]["X3"].reason


def test_x12_tf_add_broadcasts_a_bias_and_equals_bias_add(run):
    m = run["checks"]["add_vs_bias_add"]
    assert m["conv_shape"] == [2, 28, 28, 32] and m["bias_shape"] == [32] and m["shapes_differ"]
    assert m["tf_add_raises"] is None, f"tf.add no longer broadcasts a (32,) bias: {m['tf_add_message']}"
    assert m["tf_add_in_tf_function_raises"] is None
    assert m["tf_add_output_shape"] == [2, 28, 28, 32] and m["tf_add_equals_bias_add"]
    differ = m["where_they_differ"]
    assert differ["NCHW tensor, bias (32,)"]["tf.add"]["raises"] == "InvalidArgumentError"
    assert differ["NCHW tensor, bias (32,)"]["tf.nn.bias_add(data_format='NCHW')"]["raises"] is None
    assert differ["bias of shape (1, 32)"]["tf.add"]["raises"] is None
    assert "Biases must be 1D" in differ["bias of shape (1, 32)"]["tf.nn.bias_add"]["message"]
    assert differ["bias of shape (28,)"]["tf.add"]["raises"] == "InvalidArgumentError"
    assert run["verdicts"]["X12"].verdict == "refuted"


def test_x14_dropout_drops_elements_independently_and_scales_the_rest(run):
    m = run["checks"]["dropout_on_2x10x10"]
    assert m["dropped_per_channel_min"] < 10 < m["dropped_per_channel_max"], "the per-channel count no longer varies"
    assert m["dropped_total_min"] < 20 < m["dropped_total_max"], "the total count no longer varies"
    assert not m["dropped_per_channel_is_always_10"] and not m["dropped_in_total_is_always_20"]
    assert abs(m["dropped_fraction"] - 0.1) <= 4 * m["dropped_fraction_standard_error"]
    assert m["dropped_per_channel_variance"] == pytest.approx(m["binomial_variance_100_draws"], rel=0.2)
    assert m["kept_value_scale_min"] == pytest.approx(1 / 0.9, rel=1e-6)
    assert m["kept_value_scale_max"] == pytest.approx(1 / 0.9, rel=1e-6)
    assert m["share_of_consecutive_calls_with_the_same_mask"] == 0.0
    assert m["spatial_dropout_channel_counts_seen"] == [0, 100]
    assert m["noise_shape_channel_counts_seen"] == [0, 100]
    assert m["spatial_dropout_dropped_channel_fraction"] == pytest.approx(0.1, abs=0.03)
    assert m["keras_dropout_dropped_fraction"] == pytest.approx(0.1, abs=0.01)
    assert m["keras_dropout_kept_scale_max_abs_error"] < 1e-6
    assert run["verdicts"]["X14"].verdict == "supported"


def test_x25_tf2_dropout_takes_a_drop_rate_so_the_notes_keep_prob_keeps_a_quarter(run):
    m = run["checks"]["dropout_keep_prob_vs_rate"]
    assert (m["calls"], m["elements"], m["claimed_kept_fraction"]) == (100, 1_000_000, 0.75)
    assert m["standard_error_at_0_75"] == pytest.approx((0.75 * 0.25 / 1_000_000) ** 0.5)
    by_op = m["by_op"]
    assert all(result["raises"] is None for result in by_op.values()), by_op
    # TF 2's second argument is the rate: 0.75 drops three quarters and scales the rest by 1 / 0.25
    assert m["tf_nn_dropout_0_75_kept_fraction"] == by_op["tf.nn.dropout(x, 0.75)"]["kept_fraction"]
    assert m["tf_nn_dropout_0_75_kept_fraction"] == pytest.approx(0.25, abs=0.003), (
        "tf.nn.dropout(x, 0.75) no longer keeps about a quarter: is its second argument keep_prob again?")
    assert m["tf_nn_dropout_0_75_kept_scale"] == pytest.approx(4.0, rel=1e-6)
    assert m["tf_nn_dropout_0_75_minus_0_75_in_standard_errors"] < -1000
    assert m["tf_nn_dropout_0_75_kept_fraction_within_4_standard_errors_of_0_75"] is False
    # keep 0.75 as TF 2 spells it (rate=0.25), and TF 1's op, keyword or positional: a quarter dropped
    for name in ("tf.nn.dropout(x, rate=1 - 0.75)", "tf.compat.v1.nn.dropout(x, keep_prob=0.75)",
                 "tf.compat.v1.nn.dropout(x, 0.75)"):
        assert by_op[name]["kept_fraction"] == pytest.approx(0.75, abs=0.003), name
        assert by_op[name]["kept_scale_max"] == pytest.approx(1 / 0.75, rel=1e-6), name
    # Keras' Dropout(0.75) is a drop rate too
    assert by_op["keras.layers.Dropout(0.75), training=True"]["kept_fraction"] == pytest.approx(0.25, abs=0.003)
    assert by_op["keras.layers.Dropout(0.75), training=True"]["kept_scale_max"] == pytest.approx(4.0, rel=1e-6)
    assert run["verdicts"]["X25"].verdict == "refuted"
    assert "tf.compat.v1.nn.dropout(x, keep_prob=0.75): 0.75" in run["verdicts"]["X25"].reason


def test_x26_conv2d_rejects_strides_on_the_batch_and_channel_axes(run):
    m = run["checks"]["conv2d_batch_and_channel_strides"]
    by_stride = m["by_stride"]
    assert by_stride["control"]["eager"] == {"raises": None, "message": None, "output_shape": [4, 4, 4, 6]}
    assert by_stride["control"]["tf_function"]["output_shape"] == [4, 4, 4, 6]
    for axis, strides in (("batch", [2, 1, 1, 1]), ("channels", [1, 1, 1, 2])):
        assert by_stride[axis]["strides"] == strides
        for mode in ("eager", "tf_function"):
            outcome = by_stride[axis][mode]
            assert outcome["raises"] == "UnimplementedError", f"conv2d with strides {strides} ({mode}): {outcome}"
            assert "does not yet support strides in the batch and depth dimensions" in outcome["message"]
            assert outcome["output_shape"] is None
        # the recorded graph error is the op's message, without the traceback of where the op was defined
        assert by_stride[axis]["tf_function"]["message"].startswith("Current implementation")
    assert m["batch_stride_accepted"] is False and m["channel_stride_accepted"] is False
    assert m["conv2d_accepts_a_batch_or_channel_stride"] is False
    assert run["verdicts"]["X26"].verdict == "refuted"
    assert "control [1, 2, 2, 1]: eager gives [4, 4, 4, 6]" in run["verdicts"]["X26"].reason


def test_x31_bias_add_adds_a_1d_bias_along_the_last_dimension_and_refuses_others(run):
    m = run["checks"]["bias_add_last_dimension"]
    assert (m["value_shape"], m["bias_shape"], m["output_shape"]) == ([2, 28, 28, 32], [32], [2, 28, 28, 32])
    assert m["minus_value_plus_bias_max_abs"] == 0.0 and m["equals_value_plus_bias_on_the_last_axis"] is True
    assert m["matrix_shape"] == [4, 3] and m["matrix_minus_value_plus_bias_max_abs"] == 0.0
    assert m["matrix_equals_value_plus_bias_on_the_last_axis"] is True
    assert m["adds_along_the_last_dimension"] is True
    # a bias of the height's length (28), not the last dimension's: refused eagerly and when traced
    another = m["bias_of_another_length"]
    assert another["bias_shape"] == [28]
    assert another["eager"]["raises"] == "InvalidArgumentError", another
    assert "Must provide as many biases as the last dimension of the input tensor" in another["eager"]["message"]
    assert another["tf_function"]["raises"] == "ValueError", another
    assert "Dimensions must be equal, but are 32 and 28" in another["tf_function"]["message"]
    assert m["bias_of_another_length_raises"] is True
    # a 2-D (1, 32) bias, which tf.add would broadcast: refused too
    two_d = m["non_1d_bias"]
    assert two_d["bias_shape"] == [1, 32]
    assert two_d["eager"]["raises"] == "InvalidArgumentError" and "Biases must be 1D" in two_d["eager"]["message"]
    assert two_d["tf_function"]["raises"] == "ValueError" and "must be rank 1" in two_d["tf_function"]["message"]
    assert m["non_1d_bias_raises"] is True
    # not judged: NCHW on the CPU runs and adds along the channels (dimension 1), not the last dimension
    assert m["nchw_on_cpu_raises"] is None
    assert m["nchw_on_cpu"]["output_shape"] == [2, 32, 28, 28] and m["nchw_on_cpu"]["adds_along_dimension_1"] is True
    x31 = run["verdicts"]["X31"]
    assert x31.verdict == "supported"
    assert "bias of length 28: eager raises InvalidArgumentError, tf_function raises ValueError" in x31.reason
    assert "data_format='NCHW' on the CPU gives [2, 32, 28, 28]" in x31.reason


def test_x34_conv2d_filter_axes_are_height_width_in_out(run):
    m = run["checks"]["conv2d_filter_axes"]
    assert m["height_width_output_shape"] == [1, 24, 26, 32], "a [5, 3, 1, 32] filter no longer spans 5 rows, 3 columns"
    assert m["three_channel_filter_output_shape"] == [1, 24, 24, 32]
    assert m["in_channels_mismatch_raises"], m["in_channels_mismatch"]
    assert "groups" in m["in_channels_mismatch"]["eager"]["message"]  # TF reads a smaller in_channels as groups
    assert m["grouped_filter_on_three_channels"] == {"output_shape": [1, 24, 24, 30], "raises": None, "message": None}
    assert m["tutorial_output_shape"] == [1, 28, 28, 32]
    x34 = run["verdicts"]["X34"]
    assert x34.verdict == "supported"
    assert "grouped convolution" in x34.reason


def test_x34_a_filter_read_width_first_refutes():
    from claimlab import config, registry
    from claimlab.verdict import Evidence

    experiment = registry.load("tf_ops")
    x34 = next(c for c in experiment.claims if c.id == "X34").rule_for(config.resolve(experiment, "smoke"))
    mismatch = {"raises": "ValueError", "message": "m"}
    measured = {"height_width_output_shape": [1, 26, 24, 32], "in_channels_mismatch_raises": True,
                "in_channels_mismatch": {"eager": mismatch, "tf_function": mismatch},
                "three_channel_filter_output_shape": [1, 24, 24, 32], "tutorial_output_shape": [1, 28, 28, 32],
                "grouped_filter_on_three_channels": {"output_shape": [1, 24, 24, 30], "raises": None, "message": None}}
    outcome = x34.evaluate(Evidence(None, {"conv2d_filter_axes": measured}))
    assert outcome.verdict == "refuted" and [c.match for c in outcome.checked] == [False, True, True]
