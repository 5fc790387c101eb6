"""The learning-curves figure: train/x beside val/x, one quantity a row, a band only where seeds vary."""

import numpy as np

from claimlab import plots
from claimlab.spec import TrialResult


def curves(arms, keys, seeds=3, epochs=6):
    rng = np.random.default_rng(0)
    return {(arm, seed): TrialResult(metrics={}, history={key: list(rng.random(epochs)) for key in keys})
            for arm in arms for seed in range(seeds)}


def test_train_and_val_of_one_quantity_share_a_row():
    keys = ["val/loss", "train/accuracy", "val/accuracy", "train/loss"]
    figure = plots.learning_curves_figure(curves(["gap", "flatten"], keys), ["gap", "flatten"])
    rows = {ax.get_subplotspec().rowspan.start: [] for ax in figure.axes}
    for ax in figure.axes:
        rows[ax.get_subplotspec().rowspan.start].append(ax.get_title())
    assert list(rows.values()) == [["train/accuracy", "val/accuracy"], ["train/loss", "val/loss"]]
    # Each panel's mean line for an arm is the mean over its seeds, epoch by epoch.
    results = curves(["gap", "flatten"], keys)
    expected = np.mean([results[("gap", seed)].history["train/accuracy"] for seed in range(3)], axis=0)
    (line,) = [l for l in figure.axes[0].get_lines() if l.get_label() == "gap"]
    np.testing.assert_allclose(line.get_ydata(), expected)


def test_an_odd_number_of_panels_leaves_no_empty_axes():
    keys = ["train/accuracy", "train/loss", "val/accuracy"]
    figure = plots.learning_curves_figure(curves(["a"], keys), ["a"])
    assert sorted(ax.get_title() for ax in figure.axes) == sorted(keys)
