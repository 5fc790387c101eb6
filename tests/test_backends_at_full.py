"""benchmarks/backends_at_full.py: the full-profile JAX / TensorFlow table the README quotes, read from the
committed results."""

import pandas as pd
import pytest

from conftest import ROOT, load_benchmark


def test_each_regenerated_pair_of_settings_is_timed_from_its_own_trials(tmp_path):
    benchmark = load_benchmark("backends_at_full")
    found = {row["experiment"]: row for row in benchmark.rows(ROOT / "results")}
    assert {"batch_size", "double_softmax", "nonlinearity"} <= set(found)
    for row in found.values():
        assert row["profile"] == "full" and 0 < row["trials"] <= min(row["jax_trials"], row["tf_trials"])
        assert row["jax"] > 0 and row["tensorflow"] > 0
    # the sums are the trials' own seconds, each setting from its own folder (pandas sums them independently)
    for setting, column in (("double_softmax", "jax"), ("double_softmax@tensorflow", "tensorflow")):
        trials = pd.read_csv(ROOT / "results" / setting / "trials.csv")
        assert found["double_softmax"][column] == pytest.approx(trials["seconds"].sum()) and len(trials) == 20
    # where two-stage seeds gave the settings different trials, only the trials both ran are summed
    jax, tensorflow = (pd.read_csv(ROOT / "results" / setting / "trials.csv")
                       for setting in ("gap_vs_flatten", "gap_vs_flatten@tensorflow"))
    both = jax.merge(tensorflow, on=["arm", "seed"], suffixes=("_jax", "_tf"))
    row = found["gap_vs_flatten"]
    assert (row["jax_trials"], row["tf_trials"]) == (len(jax), len(tensorflow)) != (len(both), len(both))
    assert row["trials"] == len(both)
    assert (row["jax"], row["tensorflow"]) == (pytest.approx(both["seconds_jax"].sum()),
                                               pytest.approx(both["seconds_tf"].sum()))
    # a results root without the pairs gives no rows
    assert benchmark.rows(tmp_path) == []


def test_each_arm_is_compared_across_the_backends_with_welch_and_holm(tmp_path):
    from scipy import stats

    arms = {(row["experiment"], row["arm"]): row for row in load_benchmark("backends_at_full").arm_differences(ROOT / "results")}
    jax, tensorflow = (pd.read_csv(ROOT / "results" / setting / "trials.csv")
                       for setting in ("gap_vs_flatten", "gap_vs_flatten@tensorflow"))
    on_jax, on_tf = (frame.loc[frame["arm"] == "gap", "test/accuracy"] for frame in (jax, tensorflow))
    gap = arms["gap_vs_flatten", "gap"]
    assert (gap["n_jax"], gap["n_tf"]) == (len(on_jax), len(on_tf))
    assert gap["difference"] == pytest.approx(on_tf.mean() - on_jax.mean())
    assert gap["p"] == pytest.approx(stats.ttest_ind(on_tf, on_jax, equal_var=False).pvalue)
    # Holm: never below the raw p, at most k times it, and the smallest p is multiplied by k exactly
    k = len(arms)
    assert all(row["p"] <= row["holm"] <= min(1.0, k * row["p"]) + 1e-12 for row in arms.values() if row["p"] == row["p"])
    smallest = min((row for row in arms.values() if row["p"] == row["p"]), key=lambda row: row["p"])
    assert smallest["holm"] == pytest.approx(min(1.0, k * smallest["p"]))
    # an arm at one value in every seed on both backends (weight_init_depth's normal_1 stays at chance) has no test
    constant = arms["weight_init_depth", "normal_1"]
    assert constant["p"] != constant["p"] and constant["holm"] == 1.0
    assert load_benchmark("backends_at_full").arm_differences(tmp_path) == []
