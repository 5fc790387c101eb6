"""claimlab.models.resnet_cifar: He et al.'s CIFAR ResNet, checked layer by layer and parameter by parameter."""

import numpy as np
import pytest

from claimlab import train

keras = ZeroPadShortcut = resnet_cifar = None  # set by keras_and_models


@pytest.fixture(scope="module", autouse=True)
def keras_and_models(keras):
    """claimlab.models imports Keras, so it is imported here rather than at collection, and every test of
    this module builds Keras models (the `keras` fixture marks them integration)."""
    from claimlab import models

    globals().update(keras=keras, ZeroPadShortcut=models.ZeroPadShortcut, resnet_cifar=models.resnet_cifar)


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def weighted_layers(model):
    """The layers He et al. count in "6n + 2": convolutions and the dense layer, not the shortcuts."""
    return [layer for layer in model.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
            and not layer.name.endswith("_shortcut")]


@pytest.fixture(scope="module")
def resnet20():
    train.seed_everything(0)
    return resnet_cifar(3)


def test_resnet20_maps_a_batch_of_32x32_images_to_class_probabilities(resnet20):
    assert resnet20.name == "resnet20_zero_pad"
    assert resnet20.input_shape == (None, 32, 32, 3) and resnet20.output_shape == (None, 10)
    probabilities = resnet20.predict(np.random.default_rng(0).random((4, 32, 32, 3), dtype="float32"), verbose=0)
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("n", [1, 3, 9])
def test_6n_plus_2_weighted_layers_and_2n_convolutions_per_map_size(n):
    model = resnet_cifar(n)
    assert len(weighted_layers(model)) == 6 * n + 2
    for stage in (1, 2, 3):
        convs = [layer for layer in weighted_layers(model) if layer.name.startswith(f"stage{stage}_")]
        assert len(convs) == 2 * n
    assert [type(layer).__name__ for layer in model.layers if "Pooling" in type(layer).__name__] == \
        ["GlobalAveragePooling2D"]


def test_feature_maps_are_32_16_8_with_16_32_64_filters_and_only_stage_entries_stride(resnet20):
    shapes = [tuple(resnet20.get_layer(f"stage{s}_block3_out").output.shape) for s in (1, 2, 3)]
    assert shapes == [(None, 32, 32, 16), (None, 16, 16, 32), (None, 8, 8, 64)]
    assert tuple(resnet20.get_layer("stem_relu").output.shape) == (None, 32, 32, 16)
    strided = [layer.name for layer in resnet20.layers
               if isinstance(layer, keras.layers.Conv2D) and tuple(layer.strides) != (1, 1)]
    assert strided == ["stage2_block1_conv1", "stage3_block1_conv1"]
    assert all(not layer.use_bias for layer in resnet20.layers if isinstance(layer, keras.layers.Conv2D))


def test_resnet20_parameter_count_and_where_it_differs_from_the_papers_0_27m(resnet20):
    conv_weights = 3 * 3 * 3 * 16 + 6 * 3 * 3 * 16 * 16 + (3 * 3 * 16 * 32 + 5 * 3 * 3 * 32 * 32) \
        + (3 * 3 * 32 * 64 + 5 * 3 * 3 * 64 * 64)
    dense = 64 * 10 + 10
    bn_channels = 16 + 6 * 16 + 6 * 32 + 6 * 64  # one batch norm after every convolution
    assert conv_weights == 267_696 and dense == 650 and bn_channels == 688
    # He et al. Table 6 says 0.27M: the weights of the convolutions and the dense layer (268,346), plus
    # batch norm's gamma and beta (1,376) are the 269,722 trainable parameters; Keras' count_params also
    # counts the moving mean and variance (1,376 non-trainable numbers).
    assert trainable_count(resnet20) == conv_weights + dense + 2 * bn_channels == 269_722
    assert resnet20.count_params() == conv_weights + dense + 4 * bn_channels == 271_098


@pytest.mark.parametrize("n,paper_millions,trainable", [(3, 0.27, 269_722), (5, 0.46, 464_154),
                                                         (7, 0.66, 658_586), (9, 0.85, 853_018)])
def test_trainable_counts_round_to_he_et_al_table_6(n, paper_millions, trainable):
    model = resnet_cifar(n)
    assert trainable_count(model) == trainable
    assert round(trainable / 1e6, 2) == paper_millions


def test_zero_padding_shortcut_is_free_and_projection_costs_two_1x1_convolutions():
    option_a, plain, option_b = (resnet_cifar(1, shortcut=s) for s in ("zero_pad", "none", "projection"))
    assert option_a.count_params() == plain.count_params() == 75_770
    assert not [layer for layer in plain.layers if isinstance(layer, keras.layers.Add)]
    assert len([layer for layer in option_a.layers if isinstance(layer, keras.layers.Add)]) == 3
    projection_weights = 16 * 32 + 32 * 64
    projection_bn = 4 * (32 + 64)
    assert option_b.count_params() - option_a.count_params() == projection_weights + projection_bn == 2_944
    assert option_a.get_layer("stage2_block1_shortcut").count_params() == 0


def test_zero_pad_shortcut_subsamples_and_appends_zero_channels():
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 16)).astype("float32")
    y = np.asarray(ZeroPadShortcut(32, 2)(x))
    assert y.shape == (2, 4, 4, 32)
    np.testing.assert_array_equal(y[..., :16], x[:, ::2, ::2, :])
    assert not y[..., 16:].any()


def test_config_round_trip_and_bad_arguments():
    model = resnet_cifar(1, input_shape=(16, 16, 1), num_classes=4, weight_decay=1e-4)
    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params() and clone.output_shape == (None, 4)
    assert len(model.losses) == 6 * 1 + 2  # one L2 term per weighted layer
    with pytest.raises(ValueError, match="positive integer"):
        resnet_cifar(0)
    with pytest.raises(ValueError, match="shortcut"):
        resnet_cifar(1, shortcut="identity")
