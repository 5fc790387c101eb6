"""benchmarks/backend_equivalence.py on two experiments: what "backend-neutral" promises, arm by arm, and the
one difference the lab knows of (README, Performance)."""

import pytest

from conftest import load_benchmark


def test_the_arms_compute_the_same_on_both_backends_except_adam_on_tensorflows_sparse_embedding_gradient(process):
    benchmark = load_benchmark("backend_equivalence")
    rows = {row["arm"]: row for row in benchmark.run(["learned_kernels", "double_softmax"])}
    # fixed_random's model is fixed_designed's but for its kernel's values: probed once
    assert set(rows) == {"learned_kernels/learned", "learned_kernels/fixed_designed",
                         "double_softmax/logits", "double_softmax/double_softmax"}
    for arm in ("learned_kernels/learned", "learned_kernels/fixed_designed"):
        assert rows[arm]["same"] and rows[arm]["trained"] < 1e-6, rows[arm]
    # Keras 3.15's Adam on TensorFlow applies an Embedding's sparse gradient row by row, duplicates apart, so
    # an embedding row moves further than Adam's dense step; on JAX the step is Adam's. The predictions from
    # the same weights agree, the weights after three steps do not. If this fails, a Keras release has made
    # the two agree: update the README's Performance section.
    for arm in ("double_softmax/logits", "double_softmax/double_softmax"):
        assert rows[arm]["predictions"] < 1e-6 and rows[arm]["trained"] > 1e-3 and not rows[arm]["same"], rows[arm]


def test_differences_are_relative_to_the_values_size():
    import numpy as np

    compare = load_benchmark("backend_equivalence").compare
    on_tf = {"e/a/predictions": np.array([1e4, 0.5]), "e/a/trained/0": np.array([2.0]),
             "e/b/predictions": np.array([0.1]), "e/c/predictions": np.array([0.1]), "e/c/trained/0": np.array([0.1])}
    on_jax = {"e/a/predictions": np.array([1e4 + 0.5, 0.5]), "e/a/trained/0": np.array([2.0 + 2e-5]),
              "e/b/predictions": np.array([0.1]), "e/c/predictions": np.array([0.1]), "e/c/trained/0": np.array([0.1002])}
    rows = {row["arm"]: row for row in compare(on_tf, on_jax)}
    assert rows["e/a"]["predictions"] == pytest.approx(0.5 / 1e4) and rows["e/a"]["trained"] == pytest.approx(1e-5)
    assert rows["e/a"]["same"] and rows["e/b"]["trained"] is None and rows["e/b"]["same"]
    assert rows["e/c"]["trained"] == pytest.approx(2e-4) and not rows["e/c"]["same"]  # 0.1 is below 1: absolute


def test_the_floors_recorder_stands_in_for_train_fit_with_every_argument():
    """benchmarks/floor.py's Recorder (which this benchmark stops at a trial's first model) replaces train.fit
    and fit_per_seed; a parameter train gains and the Recorder lacks breaks every floor (it once lacked
    `stop`, the plateau rule, and benchmarks/floor.py failed on every experiment)."""
    import inspect

    from claimlab import train

    recorder = load_benchmark("floor").Recorder(count=False)
    with recorder:
        stand_ins = {name: inspect.signature(getattr(train, name)) for name in recorder.originals}
    for name, original in recorder.originals.items():
        assert list(stand_ins[name].parameters) == list(inspect.signature(original).parameters), name
