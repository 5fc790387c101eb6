"""Figures: per-arm means with their 95% CIs, learning curves, and the mean-and-CI band that experiments
draw their own figures with. Matplotlib is imported when a figure is drawn, on its headless backend."""

from __future__ import annotations

import math

import numpy as np

from claimlab import stats


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def per_arm_figure(trials, metrics: list[str], arms: list[str]):
    """Each metric a rule reads: per-arm mean with its 95% CI, and every seed as a dot."""
    plt = pyplot()
    panel_width = max(5.0, 0.45 * len(arms) + 2)  # many arms: wider panels, wrapped into rows
    columns = max(1, min(len(metrics), int(16 // panel_width)))
    rows = math.ceil(len(metrics) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(panel_width * columns, 4.2 * rows), squeeze=False)
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics):
        for i, arm in enumerate(arms):
            values = trials.loc[trials["arm"] == arm, metric].astype(float).to_numpy()
            summary = stats.describe(values)
            ax.scatter([i] * len(values), values, color="0.6", s=12, zorder=1)
            if summary["n"]:
                low, high = summary["ci_low"], summary["ci_high"]
                err = [[summary["mean"] - low], [high - summary["mean"]]] if math.isfinite(low) else None
                ax.errorbar([i], [summary["mean"]], yerr=err, fmt="o", color="C0", capsize=4, zorder=2)
        ax.set_xticks(range(len(arms)), arms, rotation=30 if len(arms) <= 8 else 60, ha="right",
                      fontsize=8 if len(arms) <= 12 else 6)
        ax.set_title(metric)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Per-arm mean with 95% CI (dots: seeds)")
    fig.tight_layout()
    return fig


def mean_ci_band(ax, x, per_seed_rows, colour, label=None, linestyle="-", marker=None):
    """One arm's curve: the mean over seeds of `per_seed_rows` (seeds x len(x)) as a line, with the 95%
    t interval of the mean as a band (no band where fewer than two seeds are finite)."""
    matrix = np.asarray(per_seed_rows, dtype=float).reshape(-1, len(x))
    summaries = [stats.describe(matrix[:, j]) for j in range(len(x))]
    ax.plot(x, [s["mean"] for s in summaries], color=colour, linestyle=linestyle, marker=marker, label=label)
    low = np.array([s["ci_low"] for s in summaries])
    high = np.array([s["ci_high"] for s in summaries])
    if np.isfinite(low).all():
        ax.fill_between(x, low, high, color=colour, alpha=0.15)


def learning_curves_figure(results: dict, arms: list[str]):
    """Per-epoch curves: per-arm mean over seeds with a 95% CI band."""
    plt = pyplot()
    # train/x beside val/x, one quantity a row: over-fitting shows as the two panels of a row parting.
    keys = sorted({key for result in results.values() for key in result.history},
                  key=lambda key: (key.rpartition("/")[2], key))
    if not keys:
        return None
    columns = min(2, len(keys))
    rows = -(-len(keys) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(5.5 * columns + (2.5 if len(arms) > 10 else 0), 3.6 * rows),
                             squeeze=False)
    colours = plt.get_cmap("tab10" if len(arms) <= 10 else "tab20")
    styles = ["-", "--", ":"]  # past 20 arms, colours repeat with another line style
    for ax in axes.flat[len(keys):]:
        ax.remove()
    for ax, key in zip(axes.flat, keys):
        for i, arm in enumerate(arms):
            curves = [r.history[key] for (a, _), r in results.items() if a == arm and key in r.history]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            mean_ci_band(ax, np.arange(1, length + 1), [c[:length] for c in curves], colours(i % colours.N),
                         label=arm, linestyle=styles[(i // colours.N) % 3])
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    if len(arms) <= 10:
        axes[0][columns - 1].legend(fontsize=7)
    else:
        axes[0][columns - 1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1),
                                    ncol=1 + len(arms) // 20)
    fig.suptitle("Learning curves: mean over seeds, 95% CI band")
    fig.tight_layout()
    return fig
