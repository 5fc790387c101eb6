"""resnet_cifar: one real run of the exact check, then every measured value asserted.

If one of these assertions fails, claimlab.models.resnet_cifar or Keras changed how the network is
built or counted: the message says what the claim expects and what was measured.
"""

import json

import pytest
from mlflow import MlflowClient

from claimlab import cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("resnet_cifar")
    uri = f"sqlite:///{base / 'mlflow.db'}"
    lines = []
    code = cli.main(["resnet_cifar", "--profile", "smoke", "--tracking-uri", uri, "--results-dir", str(base / "results")],
                    out=lambda *a, **k: lines.append(" ".join(map(str, a))))
    assert code == 0, "\n".join(lines)
    summary = json.loads((base / "results" / "resnet_cifar" / "summary.json").read_text())
    return {"uri": uri, "summary": summary, "checks": summary["checks"],
            "verdicts": {c["id"]: c for c in summary["claims"]}, "output": "\n".join(lines)}


def test_the_claim_gets_a_verdict_and_the_check_is_one_child_run(run):
    assert list(run["verdicts"]) == ["X18"]
    assert "error" not in run["checks"]["resnet_family"], run["checks"]["resnet_family"].get("error")
    versions, reason = run["summary"]["versions"], run["verdicts"]["X18"]["reason"]
    assert reason.endswith(f" (measured on TensorFlow {versions['tensorflow']}, Keras {versions['keras']})"), reason
    assert reason.count("measured on") == 1, reason
    assert any(line.startswith("X18 ") for line in run["output"].splitlines())
    client = MlflowClient(tracking_uri=run["uri"])
    experiment = client.get_experiment_by_name("resnet_cifar")
    runs = client.search_runs([experiment.experiment_id])
    (child,) = [r for r in runs if r.data.tags.get("claimlab.role") == "checks"]
    assert child.info.run_name == "exact-checks" and child.info.status == "FINISHED"
    assert child.data.metrics["resnet_family/tutorial_convolutions_in_layer1"] == 2
    parent = next(r for r in runs if r.data.tags.get("claimlab.role") == "parent")
    assert parent.data.tags["verdict.X18"] == run["verdicts"]["X18"]["verdict"]


def test_x18_layers_maps_and_shortcuts(run):
    m = run["checks"]["resnet_family"]
    assert m["n"] == [1, 3, 5, 7, 9]
    assert m["stack_3x3_convolutions"] == [6, 18, 30, 42, 54]
    assert m["weighted_layers"] == [8, 20, 32, 44, 56]
    assert m["convolutions_per_map_size"] == [[2 * n] * 3 for n in (1, 3, 5, 7, 9)]
    assert all(shapes == [[32, 32, 16], [16, 16, 32], [8, 8, 64]] for shapes in m["stage_output_shapes"])
    assert m["tutorial_stem_output_shape"] == [32, 32, 16] and m["tutorial_layer1_output_shape"] == [32, 32, 16]
    assert m["tutorial_output_shape"] == [1, 10]
    resnet8 = m["family"]["resnet8"]
    assert resnet8["strided_convolutions"] == ["stage2_block1_conv1", "stage3_block1_conv1"]
    assert resnet8["pooling_layers"] == ["GlobalAveragePooling2D"] and resnet8["pooling_feeds_the_dense_layer"]
    assert resnet8["shortcut_layers"] == ["ZeroPadShortcut", "ZeroPadShortcut"] and resnet8["shortcut_parameters"] == 0
    assert run["verdicts"]["X18"]["verdict"] == "supported"


def test_x18_parameter_counts_against_he_et_al_table_6(run):
    m = run["checks"]["resnet_family"]
    assert m["trainable_parameters"] == [269_722, 464_154, 658_586, 853_018]
    assert m["all_parameters"] == [271_098, 466_426, 661_754, 857_082]  # + batch norm's moving mean, variance
    assert m["trainable_parameters_millions_2dp"] == m["paper_parameters_millions"] == [0.27, 0.46, 0.66, 0.85]
    resnet20 = m["family"]["resnet20"]
    assert resnet20["projection_shortcut_parameters"] - resnet20["all_parameters"] == 16 * 32 + 32 * 64 + 4 * (32 + 64)
    assert resnet20["plain_network_parameters"] == resnet20["all_parameters"]
