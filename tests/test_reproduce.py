"""A reader's run reproduces the published results instead of overwriting them (claimlab.reproduce, the
CLI's runs/ default and --publish)."""

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from claimlab import cli, registry, reproduce
from claimlab.schema import read_summary
from conftest import ROOT, a_claim, a_comparison, a_summary

PROBE_FOLDER = Path(__file__).resolve().parent / "fault_experiments"


def published_summary(seeds: int = 10, **config):
    """A published run: one empirical claim with a judged and a reported-only comparison, one exact claim."""
    judged = a_comparison()
    claims = [a_claim("F1", comparisons=[judged, replace(judged, name="reported", judged=False)]),
              a_claim("F2", kind="exact", verdict="refuted")]
    return a_summary(claims, seeds=seeds,
                     config={"seeds": seeds, "epochs": 30, "widths": [4, 8], "smallest_effect": 0.01, **config})


def rerun(seeds=10, **config):
    return published_summary(seeds, **config)


def with_verdict(summary, claim_id: str, verdict: str):
    return replace(summary, claims=tuple(replace(c, verdict=verdict) if c.id == claim_id else c
                                         for c in summary.claims))


def words(record) -> list[str]:
    return [row.word for row in record.claims]


def test_a_rerun_of_the_same_config_is_reproduced_claim_by_claim():
    record = reproduce.compare(published_summary(), rerun(), "results/probe")
    assert record.comparable and record.differing_keys == ()
    assert [(row.id, row.word) for row in record.claims] == [("F1", "reproduced"), ("F2", "reproduced")]
    f1 = record.claims[0]
    assert f1.effect == f1.published_effect == "+0.1250 [+0.0500, +0.2000]"  # the judged comparison only
    assert record.claims[1].effect == "exact check"


def test_fewer_seeds_are_comparable_and_the_report_says_only_the_seed_count_differs():
    record = reproduce.compare(published_summary(), rerun(seeds=5), "results/probe")
    assert record.comparable and set(words(record)) == {"reproduced"}
    assert "only the seed count differs (5 here, 10 published)" in record.note
    assert "5 here, 10 published" in reproduce.heading(record)


def test_another_verdict_differs():
    record = reproduce.compare(published_summary(), with_verdict(rerun(), "F1", "inconclusive"), "results/probe")
    assert words(record) == ["differs", "reproduced"]
    assert record.claims[0].verdict == "inconclusive" and record.claims[0].published_verdict == "supported"


def test_another_config_is_not_comparable_and_names_the_keys_that_differ():
    run = rerun(epochs=2, widths=(4, 16))  # a tuple in the config equals the list summary.json holds, except by value
    record = reproduce.compare(published_summary(), run, "results/probe")
    assert not record.comparable and record.differing_keys == ("epochs", "widths")
    assert set(words(record)) == {"not comparable"}
    assert "epochs (30 published, 2 here)" in record.note and "widths ([4, 8] published, [4, 16] here)" in record.note
    assert reproduce.compare(published_summary(), rerun(widths=(4, 8)), "x").comparable  # tuple == list


def test_the_summary_markdown_the_terminal_and_the_tags_carry_the_words():
    record = reproduce.compare(published_summary(), with_verdict(rerun(seeds=5), "F2", "supported"), "results/probe")
    markdown = "\n".join(reproduce.markdown_lines(record))
    assert "| F1 | supported | +0.1250 [+0.0500, +0.2000] | supported | +0.1250 [+0.0500, +0.2000] | **reproduced** |" \
        in markdown
    assert "| F2 | supported | exact check | refuted | exact check | **differs** |" in markdown
    terminal = reproduce.terminal_lines(record)
    assert terminal[-1].startswith("F2 ") and terminal[-1].endswith(" differs")
    assert reproduce.tags(record) == {"claimlab.reproduction.against": "results/probe@0123456789ab",
                                      "claimlab.reproduction.F1": "reproduced", "claimlab.reproduction.F2": "differs"}
    assert reproduce.markdown_lines(None) == [] and reproduce.tags(None) == {}


def write_summary(folder: Path, summary) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary.to_json()))


def test_a_variant_is_set_beside_a_published_run_of_its_config_else_the_default_run(tmp_path):
    default = published_summary()
    setting = published_summary(epochs=150)
    write_summary(tmp_path / "probe", default)
    write_summary(tmp_path / "probe@long_budget", setting)
    write_summary(tmp_path / "probe_other", replace(default, experiment="probe_other"))
    # the same folder: the same experiment and setting
    assert reproduce.counterpart(tmp_path, "probe@long_budget", "probe", {})[0] == "probe@long_budget"
    # a --set variant whose config is a published setting's
    assert reproduce.counterpart(tmp_path, "probe@epochs=150", "probe", setting.config)[0] == "probe@long_budget"
    # a variant nothing published matches: the default run, which the report calls not comparable
    name, published = reproduce.counterpart(tmp_path, "probe@epochs=3", "probe", {**default.config, "epochs": 3})
    assert name == "probe" and published.to_json() == default.to_json()
    assert reproduce.counterpart(tmp_path, "absent", "absent", {}) is None
    record = reproduce.against_published(tmp_path, "probe@epochs=3", rerun(epochs=3))
    assert record.differing_keys == ("epochs",) and record.against.endswith("/probe")
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
    record = read_summary(tmp_path / "runs" / "gap_vs_flatten").reproduction
    assert (tmp_path / "runs" / "README.md").exists()  # runs/ has its own ledger
    # set beside the published full run: the smoke profile trains fewer epochs, so not comparable, and why
    assert record.against.endswith("results/gap_vs_flatten") and record.profile == "full"
    assert {"epochs", "max_shift"} <= set(record.differing_keys)
    claims = len(registry.load("gap_vs_flatten").claims)
    assert words(record) == ["not comparable"] * claims
    table = done.stdout[done.stdout.index("Reproduction of the published results in"):]
    assert len([line for line in table.splitlines() if line.endswith(" not comparable")]) == claims


def probe_run(tmp_path: Path, results: str, *extra: str):
    lines = []
    code = cli.main(["fault_probe", "--profile", "smoke", "--jobs", "1", "--tracking-uri",
                     f"sqlite:///{tmp_path / 'mlflow.db'}", "--results-dir", str(tmp_path / results), *extra],
                    out=lambda *a, **k: lines.append(" ".join(map(str, a))))
    assert code == 0, lines
    folder = next((tmp_path / results).glob("fault_probe*"))
    return read_summary(folder), "\n".join(lines)


def test_reruns_say_reproduced_differs_and_not_comparable_in_the_terminal_files_and_mlflow(keras, tmp_path,
                                                                                            monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("CLAIMLAB_EXPERIMENTS_PATH", str(PROBE_FOLDER))
    published = tmp_path / "published"
    summary, _ = probe_run(tmp_path, "published", "--compare-with", str(tmp_path))
    assert summary.reproduction is None  # nothing of fault_probe there to compare with

    # the same config with fewer seeds (runs are bit-identical for a seed): reproduced, and comparable
    summary, output = probe_run(tmp_path, "mine", "--seeds", "2", "--compare-with", str(published))
    assert summary.reproduction.claims[0].word == "reproduced", summary.reproduction
    assert "only the seed count differs (2 here, 3 published)" in output
    assert any(line.startswith("F1 ") and line.endswith("reproduced") for line in output.splitlines())
    assert "**reproduced**" in (tmp_path / "mine" / "fault_probe" / "summary.md").read_text()
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    parent = client.get_run(summary.mlflow.parent_run_id)
    assert parent.data.tags["claimlab.reproduction.F1"] == "reproduced"

    # the published verdict crafted to another one: the same trials (--resume) now differ from it
    crafted = with_verdict(read_summary(published / "fault_probe"), "F1",
                           "refuted" if summary.claims[0].verdict != "refuted" else "supported")
    (published / "fault_probe" / "summary.json").write_text(json.dumps(crafted.to_json()))
    summary, output = probe_run(tmp_path, "mine", "--seeds", "2", "--resume", "--compare-with", str(published))
    assert summary.reproduction.claims[0].word == "differs"
    assert client.get_run(summary.mlflow.parent_run_id).data.tags["claimlab.reproduction.F1"] == "differs"

    # another config: not comparable, and the key is named
    summary, output = probe_run(tmp_path, "variant", "--seeds", "2", "--epochs", "2", "--compare-with", str(published))
    assert summary.reproduction.claims[0].word == "not comparable"
    assert summary.reproduction.differing_keys == ("epochs",) and "epochs (1 published, 2 here)" in output



def test_another_backend_leaves_the_exact_checks_comparable():
    # the exact checks run in the runner on TensorFlow whatever backend the trials train on
    record = reproduce.compare(published_summary(), rerun(backend="jax"), "results/probe")
    assert record.differing_keys == ("backend",)
    assert [(row.id, row.word) for row in record.claims] == [("F1", "not comparable"), ("F2", "reproduced")]
    assert "backend ('tensorflow' published, 'jax' here); the exact checks are comparable" in record.note
    assert words(reproduce.compare(published_summary(), rerun(epochs=2), "x")) == ["not comparable", "not comparable"]
