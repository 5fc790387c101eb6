"""Fused seeds on TensorFlow: several seeds of one arm train as the towers of one Keras model
(claimlab.train.fit_per_seed).

The stated tolerance is zero: each tower must be bit-identical to its seed trained alone (the same
initial weights, data order and dropout masks, and its own gradient), in every metric and every
per-epoch curve. Anything less would make the runner's numbers depend on how trials were grouped.
"""

import pandas as pd
import pytest
from mlflow import MlflowClient

from claimlab import config, registry, train
from claimlab.execute import Trial, batches
from conftest import untimed

# One arm per fusing experiment, picked for what could go wrong: a Lambda head (gap_vs_flatten's ema),
# explicitly seeded initialisers and ReLU probes around the fit (bias_init), dropout masks and several
# trainings per trial (pooling_vs_dropout).
CASES = [("gap_vs_flatten", "ema"), ("bias_init", "cnn_he_c001"), ("pooling_vs_dropout", "dropout")]


def trial_config(name, arm):
    """The arm's smoke config on TensorFlow, the backend of this process (fused seeds on JAX:
    tests/test_backends.py)."""
    experiment = registry.load(name)
    cfg = config.resolve(experiment, "smoke", {"epochs": "2", "backend": "tensorflow"})
    return experiment, config.trial_config(cfg, experiment.arms[arm])


def alone(experiment, arm, seed, cfg):
    train.seed_everything(seed)  # as the runner seeds a trial that runs by itself
    return experiment.run_trial(arm, seed, dict(cfg))


@pytest.mark.parametrize("name,arm", CASES, ids=[name for name, _ in CASES])
def test_each_tower_is_bit_identical_to_its_seed_trained_alone(keras, name, arm):
    experiment, cfg = trial_config(name, arm)
    assert experiment.fuses_seeds
    fused = experiment.run_trials(arm, [0, 1], dict(cfg))
    for seed, tower in zip([0, 1], fused):
        single = alone(experiment, arm, seed, cfg)
        assert untimed(tower.metrics) == untimed(single.metrics), f"{name}/{arm} seed {seed}: a fused metric differs"
        assert tower.history == single.history, f"{name}/{arm} seed {seed}: a fused curve differs from alone"
    # The towers are independent replicates, not copies: two seeds give two different trainings.
    assert fused[0].metrics["diverged"] == 0.0
    assert fused[0].history != fused[1].history


def test_a_tower_does_not_depend_on_its_neighbours_or_its_place(keras):
    """A partial group (what --resume runs) and a reversed group give each seed the same numbers."""
    experiment, cfg = trial_config("gap_vs_flatten", "gap")
    group = experiment.run_trials("gap", [0, 1, 2], dict(cfg))
    reversed_pair = experiment.run_trials("gap", [2, 1], dict(cfg))
    assert untimed(reversed_pair[0].metrics) == untimed(group[2].metrics)
    assert untimed(reversed_pair[1].metrics) == untimed(group[1].metrics)
    assert experiment.run_trials("gap", [1], dict(cfg))[0].history == group[1].history


def test_batches_group_an_arm_s_seeds_and_keep_every_worker_busy():
    trials = [Trial(arm, seed, {}) for seed in range(5) for arm in ("a", "b", "c", "d", "e", "f")]
    six_arms = batches(trials, jobs=2, fuses_seeds=True)
    assert [len(batch) for batch in six_arms] == [5] * 6
    assert all(len({t.arm for t in batch}) == 1 for batch in six_arms)
    assert [t.seed for t in six_arms[0]] == [0, 1, 2, 3, 4]
    two_arms = batches([t for t in trials if t.arm in "ab"], jobs=2, fuses_seeds=True)
    assert [len(batch) for batch in two_arms] == [3, 2, 3, 2]  # 4 items for 2 workers, not 2
    assert [len(batch) for batch in batches(trials, jobs=1, fuses_seeds=True)] == [5] * 6
    assert [len(batch) for batch in batches(trials, jobs=2, fuses_seeds=False)] == [1] * 30
    assert batches([], jobs=2, fuses_seeds=True) == []  # a resume with every trial finished


def test_a_batch_holds_at_most_five_seeds_so_an_interrupted_run_loses_little():
    ten_seeds = [Trial(arm, seed, {}) for arm in ("a", "b", "c", "d", "e", "f", "g") for seed in range(10)]
    for jobs in (1, 2):
        items = batches(ten_seeds, jobs=jobs, fuses_seeds=True)
        assert [len(batch) for batch in items] == [5] * 14
        assert [t.seed for t in items[1]] == [5, 6, 7, 8, 9] and {t.arm for t in items[1]} == {"a"}
    eleven = [Trial("a", seed, {}) for seed in range(11)]
    assert [len(batch) for batch in batches(eleven, jobs=1, fuses_seeds=True)] == [4, 4, 3]


def test_resume_runs_a_partial_group_and_gets_the_same_numbers(runner, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["gap_vs_flatten", "--profile", "smoke", "--epochs", "1", "--jobs", "1", "--tracking-uri", uri,
            "--results-dir", tmp_path / "results"]
    first = runner(*args)
    assert first.returncode == 0, first.stderr
    before = pd.read_csv(tmp_path / "results" / "gap_vs_flatten@epochs=1" / "trials.csv").set_index(["arm", "seed"])

    # Take one seed out of one arm's group: its run no longer counts as finished.
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.get_experiment_by_name("gap_vs_flatten").experiment_id
    [gone] = client.search_runs([experiment_id], filter_string="tags.`claimlab.arm` = 'gmp' and "
                                "tags.`claimlab.seed` = '1' and tags.`claimlab.role` = 'trial'")
    client.set_terminated(gone.info.run_id, "KILLED")

    resumed = runner(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(before) - 1} already finished in MLflow" in resumed.stdout
    after = pd.read_csv(tmp_path / "results" / "gap_vs_flatten@epochs=1" / "trials.csv").set_index(["arm", "seed"])
    numbers = [c for c in before.columns if c != "seconds" and not c.startswith("time/")]
    # Values read back from MLflow are floats (params/total 1610.0): compare the numbers, not the dtypes.
    pd.testing.assert_frame_equal(after.loc[[("gmp", 1)], numbers], before.loc[[("gmp", 1)], numbers],
                                  check_dtype=False, check_exact=True)

    # A resume with nothing left to run, on a worker pool, trains nothing and writes the same results.
    on_a_pool = args.copy()
    on_a_pool[args.index("--jobs") + 1] = "2"
    finished = runner(*on_a_pool, "--resume")
    assert finished.returncode == 0, finished.stderr
    assert f"{len(before)} already finished in MLflow" in finished.stdout
    again = pd.read_csv(tmp_path / "results" / "gap_vs_flatten@epochs=1" / "trials.csv").set_index(["arm", "seed"])
    pd.testing.assert_frame_equal(again[numbers], after[numbers], check_exact=True)


def small_classifiers(seeds, l2=0.0):
    """Tiny compiled classifiers on 6 features, one per seed; with `l2`, a kernel regulariser whose
    penalty a model's evaluated loss must include."""
    import keras

    def build(seed):
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(
            8, activation="relu", kernel_regularizer=keras.regularizers.L2(l2) if l2 else None),
            keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model
    return train.build_per_seed(seeds, build)


def test_models_evaluated_side_by_side_give_what_each_gives_alone(keras):
    import numpy as np

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(1030, 6)).astype("float32"), rng.integers(0, 3, 1030)  # a last batch of 6
    models = small_classifiers([0, 1, 2], l2=0.1)
    side_by_side = train.evaluate_per_seed(models)(x, y, "test")
    alone = [train.evaluate(model, x, y, "test") for model in models]
    assert side_by_side == alone
    assert set(alone[0]) == {"test/loss", "test/accuracy"}
    assert len({result["test/loss"] for result in alone}) == 3  # three models, three numbers
    # The loss includes each model's own L2 penalty, as model.evaluate counts it.
    unregularised = train.evaluate(small_classifiers([0])[0], x, y, "test")["test/loss"]
    assert alone[0]["test/loss"] > unregularised


def test_building_state_before_fit_creates_the_variables_and_changes_no_number(keras):
    import numpy as np

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(120, 6)).astype("float32"), rng.integers(0, 3, 120)
    [prebuilt] = small_classifiers([4])
    assert not prebuilt.optimizer.built
    train.build_state(prebuilt, x[:1], y[:1])
    assert prebuilt.optimizer.built  # the slots exist before the train step is traced
    train.seed_everything(4)
    with_state = prebuilt.fit(x, y, epochs=3, batch_size=32, verbose=0).history
    [plain] = small_classifiers([4])
    train.seed_everything(4)
    without = plain.fit(x, y, epochs=3, batch_size=32, verbose=0).history
    assert with_state == without
