"""Offline datasets: shapes, fixed splits, digests, and translations that move pixels exactly."""

import numpy as np
import pytest

from claimlab import data


def test_digits_split_is_stratified_fixed_by_data_seed_and_scaled():
    a, b, c = data.digits(0), data.digits(0), data.digits(1)
    assert a.x_train.shape[1:] == (8, 8, 1) and 0.0 <= a.x_train.min() and a.x_train.max() <= 1.0
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797
    assert a.digest == b.digest and a.digest != c.digest
    assert set(np.unique(a.y_test)) == set(range(10))


def test_shifted_digits_centres_the_digit_on_the_canvas():
    base, canvas = data.digits(0), data.shifted_digits(0, canvas=16)
    assert canvas.x_train.shape[1:] == (16, 16, 1)
    np.testing.assert_array_equal(canvas.x_train[:, 4:12, 4:12], base.x_train)
    assert canvas.x_train[:, :4].sum() == 0 and canvas.x_train[:, 12:].sum() == 0


def test_translate_moves_each_image_by_exactly_the_shift():
    images = np.zeros((50, 16, 16, 1), dtype="float32")
    images[:, 8, 8, 0] = 1.0
    for shift in (0, 1, 3):
        moved = data.translate(images, shift, seed=0)
        for image in moved:
            (y,), (x,) = np.nonzero(image[..., 0])
            assert max(abs(y - 8), abs(x - 8)) == shift
    # The directions come from the seed: the same seed, the same shifted set for every arm.
    np.testing.assert_array_equal(data.translate(images, 2, seed=5), data.translate(images, 2, seed=5))


def test_translate_sequences_moves_left_or_right_and_fills_with_zeros():
    seqs = np.arange(1, 11, dtype="float32").reshape(1, 10, 1).repeat(20, axis=0)
    moved = data.translate(seqs, 3, seed=0)
    for row in moved[..., 0]:
        assert row.tolist() in ([0, 0, 0, 1, 2, 3, 4, 5, 6, 7], [4, 5, 6, 7, 8, 9, 10, 0, 0, 0])


def test_mnist1d_is_generated_offline_with_its_default_sizes():
    d = data.mnist1d(0)
    assert d.x_train.shape[1:] == (40, 1)
    assert len(d.y_train) + len(d.y_val) == 4000 and len(d.y_test) == 1000
    assert d.digest == data.mnist1d(0).digest != data.mnist1d(1).digest


def test_unknown_dataset_is_a_usage_error():
    from claimlab.errors import UsageError

    with pytest.raises(UsageError, match="shifted_digits"):
        data.load("imagenet")


def test_the_training_splits_references_declare_are_the_loaders_own():
    """claimlab.data.TRAIN_EXAMPLES is what a Reference compares with a published split size: it must be
    the number of training examples each loader gives at its defaults."""
    from claimlab import data

    assert {name: len(data.load(name, 0).x_train) for name in data.TRAIN_EXAMPLES} == data.TRAIN_EXAMPLES
