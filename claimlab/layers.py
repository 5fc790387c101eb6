"""Locally connected layers: convolutions without parameter sharing.

Keras 2 shipped `LocallyConnected1D` / `LocallyConnected2D`; Keras 3 does not. Several claims compare
a convolution (one kernel shared by every position) with a layer that has a separate kernel and bias
at every output position, so claimlab keeps its own small version here:

- 'valid' padding only (pad explicitly with ZeroPadding1D/2D in front, as the claims' formulas do);
- strides;
- channels_last;
- weights laid out like Keras 2's implementation: kernel (output positions, patch size, filters) with
  the patch flattened in (rows, columns, channels) order, bias (output positions..., filters).

It is a real `keras.layers.Layer` (any backend; trainable; serialisable through get_config). The
forward pass gathers every patch with one `ops.take` over precomputed indices, then applies each
position's own kernel with one einsum: no Python loop over positions at call time.

This module imports keras at import time, so experiment modules must import it inside functions
(`python runner.py --list` must not pay for TensorFlow).
"""

from __future__ import annotations

import numpy as np
import keras
from keras import activations, initializers, ops


def _pair(value, name: str) -> tuple[int, ...]:
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {value!r}")
    return values


def _single(value, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"{name} must be a positive int or a 1-tuple, got {value!r}")
        value = value[0]
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def valid_output_length(length: int, kernel: int, stride: int) -> int:
    """Positions a 'valid' window of `kernel` visits with stride `stride`: floor((length - kernel) / stride) + 1."""
    if length < kernel:
        raise ValueError(f"input length {length} is smaller than the kernel size {kernel} ('valid' padding)")
    return (length - kernel) // stride + 1


def patch_indices(spatial_shape: tuple[int, ...], channels: int, kernel: tuple[int, ...],
                  strides: tuple[int, ...]) -> np.ndarray:
    """Indices into the flattened (spatial..., channels) input of every patch, shape (positions, patch size).

    Positions run in row-major order over the output grid; inside a patch the order is
    (kernel rows, kernel columns, channels), which is also the kernel's layout.
    """
    grid = np.arange(int(np.prod(spatial_shape)) * channels).reshape(*spatial_shape, channels)
    outputs = [valid_output_length(n, k, s) for n, k, s in zip(spatial_shape, kernel, strides)]
    rows = []
    for position in np.ndindex(*outputs):
        window = tuple(slice(p * s, p * s + k) for p, s, k in zip(position, strides, kernel))
        rows.append(grid[window].reshape(-1))
    return np.stack(rows).astype("int32")


class _LocallyConnected(keras.layers.Layer):
    """Shared machinery of the 1D and 2D layers; `rank` is the number of spatial axes."""

    rank = 0

    def __init__(self, filters: int, kernel_size, strides, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"filters must be a positive int, got {filters!r}")
        self.filters = filters
        self.kernel_size = self._normalise(kernel_size, "kernel_size")
        self.strides = self._normalise(strides, "strides")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2)

    def _normalise(self, value, name):
        return (_single(value, name),) if self.rank == 1 else _pair(value, name)

    def _output_spatial(self, spatial_shape):
        return tuple(valid_output_length(n, k, s) for n, k, s in zip(spatial_shape, self.kernel_size, self.strides))

    def build(self, input_shape):
        spatial, channels = tuple(input_shape[1:-1]), input_shape[-1]
        if any(n is None for n in spatial) or channels is None:
            raise ValueError(f"{type(self).__name__} needs fully known spatial and channel sizes, got {input_shape}")
        self.output_spatial = self._output_spatial(spatial)
        positions = int(np.prod(self.output_spatial))
        patch_size = int(np.prod(self.kernel_size)) * channels
        # Not a weight: where each position's patch sits in the flattened input.
        self._indices = patch_indices(spatial, channels, self.kernel_size, self.strides)
        self._input_size = int(np.prod(spatial)) * channels
        # One kernel and one bias per output position: no parameter sharing.
        self.kernel = self.add_weight(name="kernel", shape=(positions, patch_size, self.filters),
                                      initializer=self.kernel_initializer, trainable=True)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(*self.output_spatial, self.filters),
                                        initializer=self.bias_initializer, trainable=True)
        self.input_spec = keras.layers.InputSpec(ndim=self.rank + 2, axes={-1: channels})

    def call(self, inputs):
        flat = ops.reshape(inputs, (-1, self._input_size))
        patches = ops.take(flat, self._indices, axis=1)  # (batch, positions, patch size)
        outputs = ops.einsum("bpk,pkf->bpf", patches, self.kernel)
        outputs = ops.reshape(outputs, (-1, *self.output_spatial, self.filters))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._output_spatial(tuple(input_shape[1:-1])), self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        }


@keras.saving.register_keras_serializable(package="claimlab")
class LocallyConnected1D(_LocallyConnected):
    """Like Conv1D with 'valid' padding, but every output position has its own kernel and bias.

    Input (batch, steps, channels) -> output (batch, new_steps, filters), new_steps =
    floor((steps - kernel_size) / strides) + 1. Parameters: new_steps * (kernel_size * channels + 1) * filters.
    """

    rank = 1

    def __init__(self, filters: int, kernel_size, strides=1, **kwargs):
        super().__init__(filters, kernel_size, strides, **kwargs)


@keras.saving.register_keras_serializable(package="claimlab")
class LocallyConnected2D(_LocallyConnected):
    """Like Conv2D with 'valid' padding, but every output position has its own kernel and bias.

    Input (batch, rows, cols, channels) -> output (batch, new_rows, new_cols, filters). Parameters:
    new_rows * new_cols * (kernel_rows * kernel_cols * channels + 1) * filters.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size, strides=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides, **kwargs)
