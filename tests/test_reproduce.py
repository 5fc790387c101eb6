"""A reader's run reproduces the published results instead of overwriting them (claimlab.reproduce, the
CLI's runs/ default and --publish)."""

import copy
import hashlib
import json
from pathlib import Path

import pytest

from claimlab import cli, reproduce
from conftest import ROOT

PROBE_FOLDER = Path(__file__).resolve().parent / "fault_experiments"


def published_summary():
    """A summary.json as the runner writes it, cut to what the reproduction reads: one empirical and one
    exact claim, 10 seeds."""
    comparison = {"name": "large - small", "metric": "accuracy", "mean": 0.125, "ci_low": 0.05, "ci_high": 0.2,
                  "judged": True}
    return {
        "experiment": "probe", "profile": "full", "commit": "0123456789abcdef0123", "seeds": list(range(10)),
        "config": {"seeds": 10, "epochs": 30, "widths": [4, 8], "smallest_effect": 0.01},
        "claims": [
            {"id": "F1", "kind": "empirical", "verdict": "supported", "qualifier": "",
             "measured": {"comparisons": [comparison, {**comparison, "name": "reported", "judged": False}]}},
            {"id": "F2", "kind": "exact", "verdict": "refuted", "qualifier": "", "measured": {"comparisons": []}},
        ],
    }


def rerun(seeds=10, **config):
    run = copy.deepcopy(published_summary())
    run["seeds"] = list(range(seeds))
    run["config"].update(seeds=seeds, **config)
    return run


def test_a_rerun_of_the_same_config_is_reproduced_claim_by_claim():
    record = reproduce.compare(published_summary(), rerun(), "results/probe")
    assert record["comparable"] and record["differing_keys"] == []
    assert [(row["id"], row["word"]) for row in record["claims"]] == [("F1", "reproduced"), ("F2", "reproduced")]
    f1 = record["claims"][0]
    assert f1["effect"] == f1["published_effect"] == "+0.1250 [+0.0500, +0.2000]"  # the judged comparison only
    assert record["claims"][1]["effect"] == "exact check"


def test_fewer_seeds_are_comparable_and_the_report_says_only_the_seed_count_differs():
    record = reproduce.compare(published_summary(), rerun(seeds=5), "results/probe")
    assert record["comparable"] and {row["word"] for row in record["claims"]} == {"reproduced"}
    assert "only the seed count differs (5 here, 10 published)" in record["note"]
    assert "5 here, 10 published" in reproduce.heading(record)


def test_another_verdict_differs():
    run = rerun()
    run["claims"][0]["verdict"] = "inconclusive"
    record = reproduce.compare(published_summary(), run, "results/probe")
    assert [row["word"] for row in record["claims"]] == ["differs", "reproduced"]
    assert record["claims"][0]["verdict"] == "inconclusive" and record["claims"][0]["published_verdict"] == "supported"


def test_another_config_is_not_comparable_and_names_the_keys_that_differ():
    run = rerun(epochs=2, widths=(4, 16))  # a tuple in the config equals the list summary.json holds, except by value
    record = reproduce.compare(published_summary(), run, "results/probe")
    assert not record["comparable"] and record["differing_keys"] == ["epochs", "widths"]
    assert {row["word"] for row in record["claims"]} == {"not comparable"}
    assert "epochs (30 published, 2 here)" in record["note"] and "widths ([4, 8] published, [4, 16] here)" in record["note"]
    assert reproduce.compare(published_summary(), rerun(widths=(4, 8)), "x")["comparable"]  # tuple == list


def test_the_summary_markdown_the_terminal_and_the_tags_carry_the_words():
    run = rerun(seeds=5)
    run["claims"][1]["verdict"] = "supported"
    record = reproduce.compare(published_summary(), run, "results/probe")
    markdown = "\n".join(reproduce.markdown_lines(record))
    assert "| F1 | supported | +0.1250 [+0.0500, +0.2000] | supported | +0.1250 [+0.0500, +0.2000] | **reproduced** |" \
        in markdown
    assert "| F2 | supported | exact check | refuted | exact check | **differs** |" in markdown
    terminal = reproduce.terminal_lines(record)
    assert terminal[-1].startswith("F2 ") and terminal[-1].endswith(" differs")
    assert reproduce.tags(record) == {"claimlab.reproduction.against": "results/probe@0123456789ab",
                                      "claimlab.reproduction.F1": "reproduced", "claimlab.reproduction.F2": "differs"}
    assert reproduce.markdown_lines(None) == [] and reproduce.tags(None) == {}


def write_summary(folder: Path, summary: dict) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary))


def test_a_variant_is_set_beside_a_published_run_of_its_config_else_the_default_run(tmp_path):
    default = published_summary()
    setting = {**published_summary(), "config": {**default["config"], "epochs": 150}}
    write_summary(tmp_path / "probe", default)
    write_summary(tmp_path / "probe@long_budget", setting)
    write_summary(tmp_path / "probe_other", {**default, "experiment": "probe_other"})
    # the same folder: the same experiment and setting
    assert reproduce.counterpart(tmp_path, "probe@long_budget", "probe", {})[0] == "probe@long_budget"
    # a --set variant whose config is a published setting's
    assert reproduce.counterpart(tmp_path, "probe@epochs=150", "probe", setting["config"])[0] == "probe@long_budget"
    # a variant nothing published matches: the default run, which the report calls not comparable
    name, published = reproduce.counterpart(tmp_path, "probe@epochs=3", "probe", {**default["config"], "epochs": 3})
    assert name == "probe" and published == default
    assert reproduce.counterpart(tmp_path, "absent", "absent", {}) is None
    record = reproduce.against_published(tmp_path, "probe@epochs=3", rerun(epochs=3))
    assert record["differing_keys"] == ["epochs"] and record["against"].endswith("/probe")
    assert reproduce.against_published(None, "probe", rerun()) is None


def test_a_run_writes_to_runs_by_default_and_to_results_only_with_publish(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parse = cli.build_parser().parse_args
    assert cli.results_root(parse(["x"])) == tmp_path / "runs"
    assert cli.results_root(parse(["x", "--publish"])) == ROOT / "results"
    assert cli.results_root(parse(["x", "--results-dir", "elsewhere"])) == tmp_path / "elsewhere"
    assert cli.published_root(parse(["x"])) == ROOT / "results"
    assert (ROOT / ".gitignore").read_text().splitlines().count("/runs/") == 1


@pytest.mark.parametrize("args, says", [
    (["--publish", "--results-dir", "x"], "--publish writes this repository's results/"),
    (["--compare-with", "no/such/folder"], "--compare-with no/such/folder: no such folder"),
])
def test_conflicting_or_missing_folders_are_usage_errors(args, says, capsys):
    assert cli.main(["gap_vs_flatten", *args]) == 2
    assert says in capsys.readouterr().err


# ---- real runs --------------------------------------------------------------------------------------
def checksums(folder: Path) -> dict:
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_run_with_the_default_results_folder_leaves_the_published_results_byte_identical(runner, tmp_path):
    published, readme = checksums(ROOT / "results"), checksums(ROOT)["README.md"]
    done = runner("gap_vs_flatten", "--profile", "smoke", "--seeds", "1", "--jobs", "1", cwd=tmp_path,
                  env={"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"})
    assert done.returncode == 0, done.stderr
    assert checksums(ROOT / "results") == published and checksums(ROOT)["README.md"] == readme
    run = json.loads((tmp_path / "runs" / "gap_vs_flatten" / "summary.json").read_text())
    assert (tmp_path / "runs" / "README.md").exists()  # runs/ has its own ledger
    # set beside the published full run: the smoke profile trains fewer epochs, so not comparable, and why
    record = run["reproduction"]
    assert record["against"].endswith("results/gap_vs_flatten") and record["profile"] == "full"
    assert {"epochs", "max_shift"} <= set(record["differing_keys"])
    assert [row["word"] for row in record["claims"]] == ["not comparable"] * 4
    table = done.stdout[done.stdout.index("Reproduction of the published results in"):]
    assert len([line for line in table.splitlines() if line.endswith(" not comparable")]) == 4


def probe_run(tmp_path: Path, results: str, *extra: str) -> tuple[dict, str]:
    lines = []
    code = cli.main(["fault_probe", "--profile", "smoke", "--jobs", "1", "--tracking-uri",
                     f"sqlite:///{tmp_path / 'mlflow.db'}", "--results-dir", str(tmp_path / results), *extra],
                    out=lambda *a, **k: lines.append(" ".join(map(str, a))))
    assert code == 0, lines
    folder = next((tmp_path / results).glob("fault_probe*"))
    return json.loads((folder / "summary.json").read_text()), "\n".join(lines)


def test_reruns_say_reproduced_differs_and_not_comparable_in_the_terminal_files_and_mlflow(keras, tmp_path,
                                                                                            monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("CLAIMLAB_EXPERIMENTS_PATH", str(PROBE_FOLDER))
    published = tmp_path / "published"
    summary, _ = probe_run(tmp_path, "published", "--compare-with", str(tmp_path))
    assert summary["reproduction"] is None  # nothing of fault_probe there to compare with

    # the same config with fewer seeds (runs are bit-identical for a seed): reproduced, and comparable
    summary, output = probe_run(tmp_path, "mine", "--seeds", "2", "--compare-with", str(published))
    assert summary["reproduction"]["claims"][0]["word"] == "reproduced", summary["reproduction"]
    assert "only the seed count differs (2 here, 3 published)" in output
    assert any(line.startswith("F1 ") and line.endswith("reproduced") for line in output.splitlines())
    assert "**reproduced**" in (tmp_path / "mine" / "fault_probe" / "summary.md").read_text()
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    parent = client.get_run(summary["mlflow"]["parent_run_id"])
    assert parent.data.tags["claimlab.reproduction.F1"] == "reproduced"

    # the published verdict crafted to another one: the same trials (--resume) now differ from it
    crafted = json.loads((published / "fault_probe" / "summary.json").read_text())
    crafted["claims"][0]["verdict"] = "refuted" if summary["claims"][0]["verdict"] != "refuted" else "supported"
    (published / "fault_probe" / "summary.json").write_text(json.dumps(crafted))
    summary, output = probe_run(tmp_path, "mine", "--seeds", "2", "--resume", "--compare-with", str(published))
    assert summary["reproduction"]["claims"][0]["word"] == "differs"
    assert client.get_run(summary["mlflow"]["parent_run_id"]).data.tags["claimlab.reproduction.F1"] == "differs"

    # another config: not comparable, and the key is named
    summary, output = probe_run(tmp_path, "variant", "--seeds", "2", "--epochs", "2", "--compare-with", str(published))
    assert summary["reproduction"]["claims"][0]["word"] == "not comparable"
    assert summary["reproduction"]["differing_keys"] == ["epochs"] and "epochs (1 published, 2 here)" in output



def test_another_backend_leaves_the_exact_checks_comparable():
    # the exact checks run in the runner on TensorFlow whatever backend the trials train on
    record = reproduce.compare(published_summary(), rerun(backend="jax"), "results/probe")
    assert record["differing_keys"] == ["backend"]
    assert [(row["id"], row["word"]) for row in record["claims"]] == [("F1", "not comparable"), ("F2", "reproduced")]
    assert "backend ('tensorflow' published, 'jax' here); the exact checks are comparable" in record["note"]
    assert [row["word"] for row in reproduce.compare(published_summary(), rerun(epochs=2), "x")["claims"]] == \
        ["not comparable", "not comparable"]
