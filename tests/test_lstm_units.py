"""lstm_units: one real smoke run (verdicts, trials, exact parameter counts) and the module's helpers on
real Keras objects."""

import numpy as np
import pandas as pd
import pytest

from claimlab import config, registry

UNITS = [4, 16, 32, 64, 128, 256]
ARMS = [f"units_{u}" for u in UNITS]


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("lstm_units", "--jobs", "1")


@pytest.fixture(scope="module")
def experiment():
    return registry.load("lstm_units")


def test_every_claim_gets_a_verdict(run):
    assert set(run["verdicts"]) == {"E10a", "E10b"}
    for claim in run["verdicts"].values():
        assert claim.verdict in ("supported", "refuted", "inconclusive")
    assert run["verdicts"]["E10a"].verdict == "supported"
    for claim in ("E10a", "E10b"):
        assert any(line.startswith(claim) for line in run["output"].splitlines())


def test_trials_cover_every_arm_and_seed_with_the_metrics(run):
    trials = pd.read_csv(run["folder"] / "trials.csv")
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, s) for arm in ARMS for s in (0, 1))
    for metric in ("test/accuracy", "test/loss", "time/train_seconds", "params/total", "params/lstm", "diverged"):
        assert metric in trials, metric
    assert trials["test/accuracy"].between(0, 1).all()
    assert (trials["time/train_seconds"] > 0).all()


def test_parameter_counts_by_hand(run):
    trials = pd.read_csv(run["folder"] / "trials.csv").set_index(["arm", "seed"])
    # 3 symbols + 1 marker = 4 features; 3**2 = 9 classes.
    # LSTM(4): kernel 4x16 + recurrent 4x16 + bias 16 = 64 + 64 + 16 = 144; Dense 4*9 + 9 = 45.
    assert trials.loc[("units_4", 0), "params/lstm"] == 144
    assert trials.loc[("units_4", 0), "params/total"] == 144 + 45
    # LSTM(256): 4*256*4 + 4*256*256 + 4*256 = 4,096 + 262,144 + 1,024 = 267,264; Dense 256*9 + 9 = 2,313.
    assert trials.loc[("units_256", 1), "params/lstm"] == 267_264
    assert trials.loc[("units_256", 1), "params/total"] == 267_264 + 2_313
    checks = run["checks"]["lstm_parameter_counts"]
    assert checks["params_units_64_in_32"] == 24_832  # the other answer's LSTM(64) on 32 features
    assert checks["params_units_128_in_4"] == 4 * 128 * (4 + 128 + 1) == 68_096
    assert checks["weight_shapes_units_16"] == [[4, 64], [16, 64], [64]]


def test_e10b_compares_128_and_256_with_the_askers_4(run):
    comparisons = run["verdicts"]["E10b"].measured.comparisons
    names = [c.name for c in comparisons]
    assert names[:2] == ["units_128 - units_4", "units_256 - units_4"]
    assert "units_128 - units_32" in names and "units_256 - units_32" in names
    trials = pd.read_csv(run["folder"] / "trials.csv")
    acc = trials.pivot(index="seed", columns="arm", values="test/accuracy")
    assert comparisons[0].mean == pytest.approx((acc["units_128"] - acc["units_4"]).mean(), rel=1e-12)


def test_marked_recall_labels_are_the_marked_symbols(experiment):
    module = experiment.module
    cfg = {"length": 7, "symbols": 3, "marks": 2}
    x, y = module.marked_recall(50, cfg, np.random.default_rng(0))
    assert x.shape == (50, 7, 4) and y.shape == (50,)
    assert (x[:, :, :3].sum(axis=2) == 1).all()  # one symbol per step
    assert (x[:, :, 3].sum(axis=1) == 2).all()  # two distinct marked steps
    for row, label in zip(x, y):
        marked = np.flatnonzero(row[:, 3])
        first, second = (int(np.argmax(row[t, :3])) for t in marked)
        assert label == first * 3 + second
    assert set(y) <= set(range(9)) and len(set(y)) > 5


def test_task_is_fixed_by_data_seed(experiment):
    cfg = config.resolve(experiment, "smoke")
    a, b = experiment.module.load_task(cfg), experiment.module.load_task(cfg)
    c = experiment.module.load_task({**cfg, "data_seed": cfg["data_seed"] + 1})
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.num_classes == 9 and len(a.y_train) == cfg["train_size"]


def test_formula_and_model_on_real_keras(keras, experiment):
    module = experiment.module
    assert module.lstm_parameter_formula(7, 5) == 4 * (7 * 12 + 7) == 364
    model = module.build_model(7, 10, 5, 27, 1e-3)
    assert model.get_layer("lstm").count_params() == 364
    assert model.count_params() == 364 + 7 * 27 + 27
    assert model.output_shape == (None, 27)


def test_if_diverged_scores_chance_of_the_setting(experiment):
    default = config.resolve(experiment, "quick")
    assert experiment.if_diverged(default)["test/accuracy"].value == pytest.approx(1 / 9)
    harder = {**default, "length": 40, "marks": 3}
    assert experiment.if_diverged(harder)["test/accuracy"].value == pytest.approx(1 / 27)
