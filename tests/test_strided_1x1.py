"""strided_1x1: one real smoke run (verdicts, trials, hand-counted parameters and multiply-adds, E8a's
exact values), the gradient maps and FLOP counts on real Keras layers, and the E8b rule on hand-made
evidence."""

import numpy as np
import pandas as pd
import pytest

from conftest import assert_every_claim_judged

from claimlab import config, registry
from claimlab.verdict import Evidence

NAME = "strided_1x1"
EXPERIMENT = registry.load(NAME)
MODULE = EXPERIMENT.module
CLAIM_IDS = ["E8a", "E8b"]
ARMS = ["stride_on_1x1", "stride_on_3x3"]

# The default net on 16x16x1 shifted digits, counted by hand (kernel weights + biases).
STEM_PARAMS = 3 * 3 * 1 * 16 + 16  # 160
BLOCK1_PARAMS = (16 * 8 + 8) + (9 * 8 * 8 + 8) + (8 * 32 + 32) + (16 * 32 + 32)  # 1,552: in 16, width 8, out 32
BLOCK2_PARAMS = (32 * 16 + 16) + (9 * 16 * 16 + 16) + (16 * 64 + 64) + (32 * 64 + 64)  # 6,048
HEAD_PARAMS = 64 * 10 + 10
DEFAULT_PARAMS = STEM_PARAMS + BLOCK1_PARAMS + BLOCK2_PARAMS + HEAD_PARAMS  # 8,410, the same in both arms

# Multiply-adds per example, H_out*W_out*k*k*C_in*C_out. Stride on the 1x1: every block conv works at the
# block's output size (8x8 in block 1, 4x4 in block 2).
STEM_FLOPS = 16 * 16 * 9 * 1 * 16
BLOCK1_1X1 = 8 * 8 * (16 * 8 + 9 * 8 * 8 + 8 * 32 + 16 * 32)  # 94,208
BLOCK2_1X1 = 4 * 4 * (32 * 16 + 9 * 16 * 16 + 16 * 64 + 32 * 64)  # 94,208
FLOPS_1X1 = STEM_FLOPS + BLOCK1_1X1 + BLOCK2_1X1 + 64 * 10  # 225,920
# Stride on the 3x3: the first 1x1 of each block runs at the block's input size, 4x its strided cost.
FLOPS_3X3 = FLOPS_1X1 + 3 * 8 * 8 * 16 * 8 + 3 * 4 * 4 * 32 * 16  # 275,072

# ResNet50's conv3_1 block (56x56x256 in, width 128, 512 out, stride 2), the asker's block.
RESNET50_1X1 = 28 * 28 * (256 * 128 + 9 * 128 * 128 + 128 * 512 + 256 * 512)
RESNET50_3X3 = RESNET50_1X1 + 3 * 28 * 28 * 256 * 128


@pytest.fixture(scope="module")
def smoke(smoke_runs):
    run = smoke_runs(NAME, "--jobs", "1")
    return {**run, "trials": pd.read_csv(run["folder"] / "trials.csv")}


# ---- the smoke run ---------------------------------------------------------------------------------
def test_every_claim_gets_a_verdict(smoke):
    assert_every_claim_judged(smoke, CLAIM_IDS, trials=4, source_file="002_6725717de9344925.txt")
    assert smoke["verdicts"]["E8b"].verdict == "inconclusive"  # 2 seeds are below the evidence floor


def test_trials_hold_the_hand_counted_parameters_and_flops(smoke):
    trials = smoke["trials"]
    assert sorted(zip(trials["arm"], trials["seed"])) == sorted((arm, seed) for arm in ARMS for seed in (0, 1))
    assert (trials["params/total"] == DEFAULT_PARAMS).all()
    by_arm = trials.groupby("arm")
    assert list(by_arm.get_group("stride_on_1x1")["flops/per_example"].unique()) == [FLOPS_1X1]
    assert list(by_arm.get_group("stride_on_3x3")["flops/per_example"].unique()) == [FLOPS_3X3]
    assert list(by_arm.get_group("stride_on_1x1")["flops/block1_reduce"].unique()) == [8 * 8 * 16 * 8]
    assert list(by_arm.get_group("stride_on_3x3")["flops/block1_reduce"].unique()) == [16 * 16 * 16 * 8]
    for key in ("test/accuracy", "train_eval/accuracy"):
        assert trials[key].between(0, 1).all(), key
    assert (trials["time/train_seconds"] > 0).all()
    assert (trials["diverged"] == 0).all()


def test_e8a_exact_values(smoke):
    e8a = smoke["verdicts"]["E8a"]
    assert e8a.verdict == "supported"
    measured = smoke["checks"]["strided_1x1_reads_alternate_pixels"]
    assert measured["share_reached_1x1_stride"] == 0.25 and measured["share_reached_3x3_stride"] == 1.0
    assert measured["resnet50_block/total_stride_on_1x1"] == RESNET50_1X1  # 295,436,288
    assert measured["resnet50_block/total_stride_on_3x3"] == RESNET50_3X3  # 372,506,624
    assert measured["trial_block/total_stride_on_1x1"] == BLOCK1_1X1
    assert measured["first_1x1_flops_ratio"] == 4.0


def test_e8b_comparison_agrees_with_trials_csv(smoke):
    comparisons = smoke["verdicts"]["E8b"].measured.comparisons
    judged = [c for c in comparisons if c.judged]
    assert [c.name for c in judged] == ["stride_on_3x3 - stride_on_1x1"] and judged[0].margin == 0.01
    accuracy = smoke["trials"].pivot(index="seed", columns="arm", values="test/accuracy")
    expected = (accuracy["stride_on_3x3"] - accuracy["stride_on_1x1"]).mean()
    assert judged[0].mean == pytest.approx(expected, rel=1e-12, abs=1e-15)


# ---- helpers on real Keras layers -----------------------------------------------------------------
def test_gradient_maps_by_hand_on_a_6x6_map(keras):
    reached = MODULE.reached_positions(1, 2, 6, 3)
    expected = np.zeros((6, 6), dtype=bool)
    expected[0::2, 0::2] = True  # rows and columns 0, 2, 4: 9 of 36 positions
    np.testing.assert_array_equal(reached, expected)
    assert MODULE.reached_positions(3, 2, 6, 3).all()
    assert MODULE.reached_positions(1, 1, 6, 3).all()  # stride 1: nothing skipped


def test_block_flops_by_hand_and_only_the_first_1x1_differs(keras):
    blocks = MODULE.compare_blocks((8, 8, 4), 8, 2, 4)  # width 2, 4x4 output
    assert blocks["stride_on_1x1"] == {"reduce": 16 * 4 * 2, "3x3": 16 * 9 * 2 * 2, "expand": 16 * 2 * 8,
                                       "shortcut": 16 * 4 * 8}
    assert blocks["stride_on_3x3"]["reduce"] == 64 * 4 * 2 and blocks["reduce_ratio"] == 4.0
    assert blocks["other_layers_equal"] is True


def test_arms_put_the_stride_where_declared_in_2d_and_1d(keras):
    cfg = config.resolve(EXPERIMENT, "smoke")
    for shape, first_block_out in (((16, 16, 1), (8, 8)), ((40, 1), (20,))):
        for stride_on, main in (("1x1", "reduce"), ("3x3", "3x3")):
            model = MODULE.build_model(stride_on, shape, 10, cfg)
            strides = {layer.name: tuple(layer.strides) for layer in model.layers if hasattr(layer, "strides")}
            assert {name for name, s in strides.items() if max(s) == 2} == {
                f"block{i}_{role}" for i in (1, 2) for role in (main, "shortcut")}
            assert tuple(model.get_layer("block1_out").output.shape[1:-1]) == first_block_out
            assert model.output.shape[1:] == (10,)
    with pytest.raises(ValueError, match="unknown stride_on"):
        MODULE.build_model("5x5", (16, 16, 1), 10, cfg)


# ---- the E8b rule on hand-made evidence --------------------------------------------------------------
def _evidence(means, seeds=6):
    rows = [{"arm": arm, "seed": seed, "test/accuracy": means[arm] + 0.003 * ((seed * 7) % 5 - 2)
             + (0.001 * (seed % 2) if arm == "stride_on_3x3" else 0.0),
             "train_eval/accuracy": 0.9, "time/train_seconds": 10.0, "flops/per_example": 1.0, "diverged": 0.0}
            for arm in ARMS for seed in range(seeds)]
    cfg = config.resolve(EXPERIMENT, "quick")
    return Evidence(pd.DataFrame(rows), {}, cfg, EXPERIMENT.if_diverged(cfg)), cfg


def test_e8b_supported_when_the_3x3_stride_is_clearly_better_and_refuted_when_equivalent():
    evidence, cfg = _evidence({"stride_on_1x1": 0.90, "stride_on_3x3": 0.93})
    assert MODULE.e8b_rule(cfg).evaluate(evidence).verdict == "supported"
    evidence, cfg = _evidence({"stride_on_1x1": 0.93, "stride_on_3x3": 0.93})
    outcome = MODULE.e8b_rule(cfg).evaluate(evidence)
    assert outcome.verdict == "refuted", outcome.reason
    evidence, cfg = _evidence({"stride_on_1x1": 0.95, "stride_on_3x3": 0.90})
    assert MODULE.e8b_rule(cfg).evaluate(evidence).verdict == "refuted"
