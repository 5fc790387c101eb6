"""claimlab.layers: locally connected layers checked against an explicit per-patch NumPy computation."""

import numpy as np
import pytest

keras = LocallyConnected1D = LocallyConnected2D = patch_indices = None  # set by keras_and_layers


@pytest.fixture(scope="module", autouse=True)
def keras_and_layers(keras):
    """claimlab.layers imports Keras, so it is imported here rather than at collection, and every test of
    this module builds Keras layers (the `keras` fixture marks them integration)."""
    from claimlab import layers

    globals().update(keras=keras, LocallyConnected1D=layers.LocallyConnected1D,
                     LocallyConnected2D=layers.LocallyConnected2D, patch_indices=layers.patch_indices)


def numpy_locally_connected_2d(x, kernel, bias, kernel_size, strides):
    """The definition, one patch at a time: out[b, i, j, f] = sum(patch(i, j) * kernel[i, j][:, f]) + bias[i, j, f]."""
    batch, rows, cols, channels = x.shape
    kr, kc = kernel_size
    sr, sc = strides
    out_rows, out_cols = (rows - kr) // sr + 1, (cols - kc) // sc + 1
    filters = kernel.shape[-1]
    out = np.zeros((batch, out_rows, out_cols, filters))
    for i in range(out_rows):
        for j in range(out_cols):
            patch = x[:, i * sr:i * sr + kr, j * sc:j * sc + kc, :].reshape(batch, -1)  # (rows, cols, channels) order
            out[:, i, j, :] = patch @ kernel[i * out_cols + j] + bias[i, j]
    return out


def numpy_locally_connected_1d(x, kernel, bias, kernel_size, stride):
    batch, steps, channels = x.shape
    out_steps = (steps - kernel_size) // stride + 1
    out = np.zeros((batch, out_steps, kernel.shape[-1]))
    for i in range(out_steps):
        patch = x[:, i * stride:i * stride + kernel_size, :].reshape(batch, -1)
        out[:, i, :] = patch @ kernel[i] + bias[i]
    return out


def randomise(layer, seed):
    """Random values in every weight, bias included, so a mix-up of positions or of the bias shows."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()])


def test_2d_output_shape_and_parameter_count_with_strides():
    layer = LocallyConnected2D(4, (3, 2), strides=(2, 3))
    output = layer(keras.Input((9, 11, 5)))
    # rows: (9 - 3) // 2 + 1 = 4; cols: (11 - 2) // 3 + 1 = 4
    assert tuple(output.shape) == (None, 4, 4, 4)
    assert layer.kernel.shape == (16, 3 * 2 * 5, 4) and layer.bias.shape == (4, 4, 4)
    assert layer.count_params() == 4 * 4 * (3 * 2 * 5 + 1) * 4
    assert layer.compute_output_shape((None, 9, 11, 5)) == (None, 4, 4, 4)


def test_2d_has_the_unshared_parameter_count_of_the_cs231n_example():
    """32x32x3 padded by 1, 20 filters of 8x8x3, stride 2 -> 14x14x20 with (8*8*3+1)*14*14*20 parameters."""
    inputs = keras.Input((32, 32, 3))
    layer = LocallyConnected2D(20, 8, strides=2)
    output = layer(keras.layers.ZeroPadding2D(1)(inputs))
    assert tuple(output.shape) == (None, 14, 14, 20)
    assert layer.count_params() == 756_560


def test_1d_output_shape_and_parameter_count():
    layer = LocallyConnected1D(3, 4, strides=2)
    output = layer(keras.Input((11, 2)))
    assert tuple(output.shape) == (None, 4, 3)  # (11 - 4) // 2 + 1
    assert layer.count_params() == 4 * (4 * 2 + 1) * 3


@pytest.mark.parametrize("kernel_size,strides", [((2, 2), (1, 1)), ((3, 2), (2, 3)), ((1, 1), (2, 2))])
def test_2d_output_equals_the_per_patch_numpy_computation(kernel_size, strides):
    layer = LocallyConnected2D(3, kernel_size, strides=strides)
    layer.build((None, 7, 8, 2))
    randomise(layer, seed=1)
    x = np.random.default_rng(2).normal(size=(4, 7, 8, 2)).astype("float32")
    kernel, bias = layer.get_weights()
    expected = numpy_locally_connected_2d(x.astype("float64"), kernel, bias, kernel_size, strides)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel_size,stride", [(2, 1), (3, 2)])
def test_1d_output_equals_the_per_patch_numpy_computation(kernel_size, stride):
    layer = LocallyConnected1D(2, kernel_size, strides=stride)
    layer.build((None, 9, 3))
    randomise(layer, seed=3)
    x = np.random.default_rng(4).normal(size=(5, 9, 3)).astype("float32")
    kernel, bias = layer.get_weights()
    expected = numpy_locally_connected_1d(x.astype("float64"), kernel, bias, kernel_size, stride)
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=1e-4, atol=1e-4)


def test_positions_really_have_separate_parameters():
    """Changing one position's kernel changes that position's output only (a convolution would change all)."""
    layer = LocallyConnected1D(1, 2)
    layer.build((None, 3, 1))
    layer.set_weights([np.ones((2, 2, 1), "float32"), np.zeros((2, 1), "float32")])
    x = np.array([[[1.0], [2.0], [3.0]]], "float32")
    before = np.asarray(layer(x))[0, :, 0]
    kernel = layer.get_weights()[0]
    kernel[1] *= 10.0
    layer.set_weights([kernel, layer.get_weights()[1]])
    after = np.asarray(layer(x))[0, :, 0]
    np.testing.assert_allclose(before, [3.0, 5.0])
    np.testing.assert_allclose(after, [3.0, 50.0])


def test_activation_is_applied_after_the_bias():
    layer = LocallyConnected1D(1, 1, activation="relu")
    layer.build((None, 2, 1))
    layer.set_weights([np.ones((2, 1, 1), "float32"), np.array([[-5.0], [0.0]], "float32")])
    np.testing.assert_allclose(np.asarray(layer(np.array([[[1.0], [1.0]]], "float32")))[0, :, 0], [0.0, 1.0])


def test_patch_indices_follow_rows_columns_channels_order():
    # a 3x3 input with 2 channels, 2x2 patches, stride 1: the first patch is pixels (0,0),(0,1),(1,0),(1,1)
    indices = patch_indices((3, 3), 2, (2, 2), (1, 1))
    assert indices.shape == (4, 8)
    assert indices[0].tolist() == [0, 1, 2, 3, 6, 7, 8, 9]
    assert indices[3].tolist() == [8, 9, 10, 11, 14, 15, 16, 17]


def test_trains_in_a_model_and_survives_save_and_load(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 5, 2)), LocallyConnected2D(3, (2, 3), strides=(2, 1), activation="tanh"),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 6, 5, 2)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    before = [w.copy() for w in model.layers[0].get_weights()]
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    after = model.layers[0].get_weights()
    assert len(model.layers[0].trainable_weights) == 2
    assert all(not np.allclose(b, a) for b, a in zip(before, after)), "kernel and bias must both be trained"
    assert history.history["loss"][-1] < history.history["loss"][0]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x[:4], verbose=0), model.predict(x[:4], verbose=0), rtol=1e-5)


def test_rejects_inputs_smaller_than_the_kernel_and_bad_arguments():
    with pytest.raises(ValueError, match="smaller than the kernel"):
        LocallyConnected2D(2, 5)(keras.Input((4, 8, 1)))
    with pytest.raises(ValueError, match="kernel_size"):
        LocallyConnected2D(2, (1, 2, 3))
    with pytest.raises(ValueError, match="filters"):
        LocallyConnected1D(0, 2)
