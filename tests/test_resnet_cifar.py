"""resnet_cifar: one real run of the exact check, then every measured value asserted.

If one of these assertions fails, claimlab.models.resnet_cifar or Keras changed how the network is
built or counted: the message says what the claim expects and what was measured.
"""

import pytest

from conftest import mlflow_runs


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("resnet_cifar")


def test_the_measured_values_are_metrics_of_the_checks_run(run):
    (child,) = mlflow_runs(run["uri"], "resnet_cifar")["checks"]
    metrics = child.data.metrics
    assert metrics["resnet_family/tutorial_convolutions_in_layer1"] == 2


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
