"""residual_depth: one real smoke run (verdicts, trials, the identity check), parameter counts computed by
hand on real Keras models, and the rules' reading of "does not hurt" on hand-made trials."""

import numpy as np
import pandas as pd
import pytest

from claimlab import config, registry, verdict
from conftest import assert_every_claim_judged

ROLES = ["shallow", "middle", "deep"]
ARMS = [f"{kind}_{role}" for kind in ("plain", "residual") for role in ROLES]


@pytest.fixture(scope="module")
def run(smoke_runs):
    return smoke_runs("residual_depth", "--jobs", "1")


@pytest.fixture(scope="module")
def experiment():
    return registry.load("residual_depth")


def test_every_claim_gets_a_verdict(run):
    assert_every_claim_judged(run, ["E9a", "E9b", "E9c"], trials=12, source_file="002_6725717de9344925.txt")
    assert run["verdicts"]["E9a"].verdict == "supported"


def test_trials_cover_every_arm_and_seed_with_hand_counted_parameters(run):
    trials = pd.read_csv(run["folder"] / "trials.csv")
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, s) for arm in ARMS for s in (0, 1))
    for metric in ("test/accuracy", "train_eval/accuracy", "train_eval/loss", "train/final_loss", "params/total",
                   "layers/weighted", "diverged"):
        assert metric in trials, metric
    assert trials["test/accuracy"].between(0, 1).all() and trials["train_eval/accuracy"].between(0, 1).all()
    assert (trials["train/final_loss"] > 0).all()
    # Smoke: one stage of 4 filters on 8x8x1 digits, n = 1, 2, 3 blocks -> 2n + 2 = 4, 6, 8 weighted layers.
    # stem 3*3*1*4 = 36 + batch norm 4*4 = 16; each block 2 * (3*3*4*4 = 144) + 2 * 16 = 320; dense 4*10 + 10 = 50.
    by_arm = trials.groupby("arm").first()
    for role, n in zip(ROLES, (1, 2, 3)):
        for kind in ("plain", "residual"):  # the identity shortcut has no parameters: the same count
            assert by_arm.loc[f"{kind}_{role}", "params/total"] == 36 + 16 + 320 * n + 50
            assert by_arm.loc[f"{kind}_{role}", "layers/weighted"] == 2 * n + 2
    assert by_arm.loc["residual_shallow", "params/total"] == 422


def test_e9a_added_blocks_are_the_identity_in_the_residual_net_only(run):
    m = run["checks"]["deeper_resnet_contains_shallower"]
    assert m["weighted_layers"] == [4, 8] and m["added_blocks"] == 2  # blocks 2 and 3 of the one smoke stage
    assert m["residual_zeroed/max_abs_diff_inference"] == 0.0
    assert m["residual_zeroed/max_abs_diff_training"] == 0.0
    assert m["plain_zeroed/output_spread"] == 0.0  # the signal is cut: every input gives the same output
    assert m["plain_zeroed/max_abs_diff_inference"] > 1e-2 and m["plain_zeroed/shallow_output_spread"] > 1e-3
    assert m["plain_identity/max_abs_diff_inference"] <= 1e-5
    assert m["plain_identity/max_abs_diff_training"] > 1e-2  # batch statistics: not the identity while training


def test_e9b_and_e9c_statistics_from_the_trials(run):
    trials = pd.read_csv(run["folder"] / "trials.csv")
    acc = trials.pivot(index="seed", columns="arm", values="test/accuracy")
    e9b = run["verdicts"]["E9b"].measured.comparisons
    assert [c.name for c in e9b][:3] == ["residual_middle - residual_shallow + 0.01",
                                            "residual_deep - residual_shallow + 0.01",
                                            "residual_deep - residual_middle + 0.01"]
    assert e9b[1].mean == pytest.approx((acc["residual_deep"] - acc["residual_shallow"]).mean() + 0.01, abs=1e-12)
    e9c = run["verdicts"]["E9c"].measured.comparisons
    assert [c.name for c in e9c if c.judged] == ["plain_shallow - plain_deep", "residual_deep - plain_deep"]
    assert e9c[1].mean == pytest.approx((acc["residual_deep"] - acc["plain_deep"]).mean(), abs=1e-12)
    assert e9c[0].margin == 0.01


def test_default_nets_parameter_counts_by_hand(keras, experiment):
    module = experiment.module
    cfg = config.resolve(experiment, "quick")
    assert cfg["depths"] == (1, 3, 5) and cfg["filters"] == (8, 16, 32)
    # n = 1 on 8x8x1: stem 72 + bn 32; stage 1: 2 * 576 + 2 * 32 = 1,216; stage 2: 3*3*8*16 = 1,152 + 3*3*16*16 =
    # 2,304 + 2 * 64 = 3,584; stage 3: 4,608 + 9,216 + 2 * 128 = 14,080; dense 32*10 + 10 = 330: 19,314 in all.
    # Each further n adds a block per stage: 1,216 + (2 * 2,304 + 128) + (2 * 9,216 + 256) = 24,640.
    for n, params, layers in ((1, 19_314, 8), (5, 19_314 + 4 * 24_640, 32)):
        plain = module.build_model("plain", n, (8, 8, 1), 10, cfg)
        residual = module.build_model("residual", n, (8, 8, 1), 10, cfg)
        assert plain.count_params() == residual.count_params() == params
        assert module.weighted_layers(plain) == module.weighted_layers(residual) == module.layer_count(n, cfg) == layers
        assert residual.get_layer("stage3_block1_shortcut").output.shape[1:] == (2, 2, 32)
    assert 19_314 + 4 * 24_640 == 117_874


def test_a_zeroed_residual_block_is_the_identity(keras, experiment):
    """One residual block on real Keras: with its last batch norm's scale and shift at 0 the net of n = 2 equals
    the net of n = 1 whose weights it holds; with a scale of 1e-3 it does not."""
    module = experiment.module
    from claimlab.models import resnet_cifar

    x = np.random.default_rng(1).random((8, 8, 8, 1)).astype("float32")
    shallow, deep = resnet_cifar(1, (8, 8, 1), 10, (4,)), resnet_cifar(2, (8, 8, 1), 10, (4,))
    module.copy_weights(shallow, deep)
    module.zero_branch(deep, "stage1_block2")
    assert module.max_abs_diff(module.outputs(shallow, x), module.outputs(deep, x)) == 0.0
    bn = deep.get_layer("stage1_block2_bn2")
    gamma, beta, mean, variance = bn.get_weights()
    bn.set_weights([gamma + 1e-3, beta, mean, variance])
    assert module.max_abs_diff(module.outputs(shallow, x), module.outputs(deep, x)) > 0
    assert module.added_blocks(1, 3, 2) == ["stage1_block2", "stage1_block3", "stage2_block2", "stage2_block3"]


def evidence_of(accuracies, experiment):
    """Hand-made trials: {arm: per-seed test accuracies} -> Evidence with the module's IF_DIVERGED."""
    rows = [{"arm": arm, "seed": seed, "test/accuracy": value, "train_eval/accuracy": 1.0, "train_eval/loss": 0.01,
             "train/final_loss": 0.02, "params/total": 1.0, "diverged": 0.0}
            for arm, values in accuracies.items() for seed, value in enumerate(values)]
    cfg = config.resolve(experiment, "quick")
    return verdict.Evidence(trials=pd.DataFrame(rows), cfg=cfg, if_diverged=experiment.if_diverged(cfg)), cfg


def test_e9b_reads_does_not_hurt_one_sided(experiment):
    """Non-inferiority: a deeper net 0.3 points worse is "not hurt" (margin 1 point), one 5 points worse is hurt,
    and one 5 points better is not hurt either (an equivalence test would refute it)."""
    module = experiment.module
    noise = np.random.default_rng(0).normal(0, 0.002, size=(3, 10))
    shallow = 0.95 + noise[0]
    for shift, expected in ((-0.003, "supported"), (-0.05, "refuted"), (+0.03, "supported")):
        evidence, cfg = evidence_of({"residual_shallow": shallow, "residual_middle": shallow + shift / 2 + noise[1],
                                     "residual_deep": shallow + shift + noise[2]}, experiment)
        assert module.e9b_rule(cfg).evaluate(evidence).verdict == expected, shift


def test_e9c_refutes_when_depth_does_not_hurt_the_plain_net(experiment):
    module = experiment.module
    noise = np.random.default_rng(1).normal(0, 0.002, size=(3, 10))
    equal = {"plain_shallow": 0.95 + noise[0], "plain_deep": 0.95 + noise[1], "residual_deep": 0.97 + noise[2]}
    evidence, cfg = evidence_of(equal, experiment)
    outcome = module.e9c_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "refuted" and outcome.comparisons[0].state == "negligible"
    degraded = {**equal, "plain_deep": 0.80 + noise[1]}
    evidence, cfg = evidence_of(degraded, experiment)
    assert module.e9c_rule(cfg).evaluate(evidence).verdict == "supported"


def test_config_checks_and_data(experiment):
    module = experiment.module
    cfg = config.resolve(experiment, "quick")
    assert module.check_config(cfg) == []
    assert module.check_config({**cfg, "depths": (1, 5, 3)})
    assert module.check_config({**cfg, "canvas": 8, "filters": (4, 4, 4, 4, 4)})
    assert module.load_data(cfg).input_shape == (8, 8, 1)
    assert module.load_data({**cfg, "canvas": 16}).input_shape == (16, 16, 1)
    assert experiment.if_diverged(cfg)["test/accuracy"].value == 0.1
