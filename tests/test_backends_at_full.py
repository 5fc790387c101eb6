"""benchmarks/backends_at_full.py: the full-profile JAX / TensorFlow table the README quotes, read from the
committed results."""

import importlib.util

from conftest import ROOT


def load_benchmark():
    spec = importlib.util.spec_from_file_location("backends_at_full", ROOT / "benchmarks" / "backends_at_full.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_regenerated_pair_of_settings_is_timed_from_its_own_trials(tmp_path):
    benchmark = load_benchmark()
    found = {row["experiment"]: row for row in benchmark.rows(ROOT / "results")}
    assert {"batch_size", "double_softmax", "nonlinearity"} <= set(found)
    for row in found.values():
        assert row["profile"] == "full" and row["trials"] == row["tf_trials"] > 0 and row["jax"] > 0
    # the sums are the trials' own seconds, each setting from its own folder
    seconds, count = benchmark.trial_seconds(ROOT / "results" / "double_softmax@tensorflow")
    assert (seconds, count) == (found["double_softmax"]["tensorflow"], 20)
    # a results root without the pairs gives no rows
    assert benchmark.rows(tmp_path) == []
