"""Reusable model builders. No claim-specific code: experiments build on these and measure.

`resnet_cifar(n)` is the ResNet He et al. (2015, "Deep Residual Learning for Image Recognition",
section 4.2) use for 32x32 CIFAR-10 images:

    stem      3x3 conv, 16 filters                                   -> 32x32x16
    stage 1   n blocks of [3x3 conv -> BN -> ReLU -> 3x3 conv -> BN], 16 filters on 32x32
    stage 2   n blocks, 32 filters on 16x16 (the first conv of the stage has stride 2)
    stage 3   n blocks, 64 filters on 8x8   (likewise)
    head      global average pooling -> Dense(num_classes)

Each block adds its input (the shortcut) before its last ReLU. That is 6n + 2 weighted layers: the
stem, 2 convolutions x n blocks x 3 stages, and the dense layer (ResNet-20/32/44/56/110 for n =
3/5/7/9/18). No pooling is used until the global average pooling in front of the dense layer.

Where a block changes the shape (the first block of stages 2 and 3), the shortcut is one of:
- "zero_pad" (the paper's option A, the default for CIFAR): take every second pixel and append zero
  channels; no parameters, so the network has exactly as many parameters as its plain counterpart;
- "projection" (option B): a strided 1x1 convolution and batch norm;
- "none": no shortcut anywhere, the "plain" network of the paper's comparison.

As in the paper, every convolution is followed by batch normalisation and so has no bias; the
convolutions are initialised with He normal. Batch norm adds 2 trainable (gamma, beta) and 2
non-trainable (moving mean, variance) numbers per channel: ResNet-20 has 269,722 trainable
parameters (the paper's "0.27M") and 271,098 in all.

This module imports keras at import time, so experiment modules import it inside their functions
(`python runner.py --list` must not pay for TensorFlow).
"""

from __future__ import annotations

import keras
from keras import layers

try:
    from keras.ops import pad
except ImportError:  # Keras 2 (tf-keras, for `runner.py resnet_cifar --keras 2`) has no keras.ops
    from tensorflow import pad

SHORTCUTS = ("zero_pad", "projection", "none")


@keras.saving.register_keras_serializable(package="claimlab")
class ZeroPadShortcut(layers.Layer):
    """Option A shortcut: subsample by `stride` (every stride-th pixel, from the first) and append
    zero channels up to `channels`. No weights."""

    def __init__(self, channels: int, stride: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.channels, self.stride = int(channels), int(stride)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        shrink = lambda size: None if size is None else -(-size // self.stride)  # ceil, like x[::stride]
        return (batch, shrink(height), shrink(width), self.channels)

    def call(self, x):
        x = x[:, :: self.stride, :: self.stride, :]
        extra = self.channels - x.shape[-1]
        if extra < 0:
            raise ValueError(f"ZeroPadShortcut cannot shrink {x.shape[-1]} channels to {self.channels}")
        return pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "stride": self.stride}


def resnet_cifar(n: int, input_shape=(32, 32, 3), num_classes: int = 10, filters=(16, 32, 64),
                 shortcut: str = "zero_pad", weight_decay: float = 0.0, classifier_activation="softmax",
                 name: str | None = None, include_top: bool = True) -> keras.Model:
    """He et al.'s CIFAR ResNet with 6n + 2 weighted layers (n = 3 is ResNet-20), uncompiled.

    `filters` sets the stages: one stage per entry (the paper's three by default). With
    `include_top=False` the model ends at the last stage's output, a trunk for other heads.

    Layer names, for experiments that read intermediate outputs: "stem_conv", "stem_relu",
    "stage{s}_block{b}_conv{1,2}" / "_bn{1,2}" / "_shortcut" / "_add" / "_out" (s, b from 1), "pool",
    "classifier". The output of stage s is the layer "stage{s}_block{n}_out".
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer (6n + 2 layers), got {n!r}")
    if shortcut not in SHORTCUTS:
        raise ValueError(f"shortcut must be one of {SHORTCUTS}, got {shortcut!r}")
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None

    def conv(x, channels, kernel, stride, label):
        return layers.Conv2D(channels, kernel, strides=stride, padding="same", use_bias=False,
                             kernel_initializer="he_normal", kernel_regularizer=regularizer, name=label)(x)

    def batch_norm(x, label):
        return layers.BatchNormalization(name=label)(x)

    inputs = keras.Input(shape=input_shape, name="image")
    x = conv(inputs, filters[0], 3, 1, "stem_conv")
    x = layers.ReLU(name="stem_relu")(batch_norm(x, "stem_bn"))
    for stage, channels in enumerate(filters, start=1):
        for block in range(1, n + 1):
            label = f"stage{stage}_block{block}"
            stride = 2 if stage > 1 and block == 1 else 1  # downsample with the first conv of a stage
            y = conv(x, channels, 3, stride, f"{label}_conv1")
            y = layers.ReLU(name=f"{label}_relu1")(batch_norm(y, f"{label}_bn1"))
            y = batch_norm(conv(y, channels, 3, 1, f"{label}_conv2"), f"{label}_bn2")
            if shortcut != "none":
                skip = x
                if stride != 1 or x.shape[-1] != channels:
                    if shortcut == "zero_pad":
                        skip = ZeroPadShortcut(channels, stride, name=f"{label}_shortcut")(x)
                    else:
                        skip = batch_norm(conv(x, channels, 1, stride, f"{label}_shortcut"),
                                          f"{label}_shortcut_bn")
                y = layers.Add(name=f"{label}_add")([y, skip])
            x = layers.ReLU(name=f"{label}_out")(y)
    if not include_top:
        return keras.Model(inputs, x, name=name or f"resnet_trunk{2 * n * len(filters) + 1}_{shortcut}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(num_classes, activation=classifier_activation, kernel_initializer="he_normal",
                           kernel_regularizer=regularizer, name="classifier")(x)
    return keras.Model(inputs, outputs, name=name or f"resnet{6 * n + 2}_{shortcut}")
