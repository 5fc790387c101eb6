"""The command-line contract: listing, usage errors with exit code 2 and one-line messages."""

import subprocess
import sys
import time

from conftest import ROOT

from claimlab import config, registry


def test_list_is_fast_names_every_claim_and_imports_no_tensorflow(runner):
    started = time.perf_counter()
    result = runner("--list")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 3.0, f"--list took {elapsed:.1f} s"
    line = next(l for l in result.stdout.splitlines() if l.startswith("gap_vs_flatten"))
    assert "G1,G2,G3,G4" in line
    # Importing every experiment module (what --list does) must not pull in TensorFlow or MLflow.
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys; from claimlab import registry; registry.load_all(); "
         "print(sorted(m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"


def test_unknown_experiment_exits_2_and_suggests_the_closest_name(runner):
    result = runner("gap_vs_flaten")
    assert result.returncode == 2
    assert "Did you mean gap_vs_flatten?" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_set_key_exits_2_and_lists_the_valid_keys(runner):
    result = runner("gap_vs_flatten", "--set", "learning_rat=0.1")
    assert result.returncode == 2
    assert "unknown key" in result.stderr and "learning_rate" in result.stderr and "epochs" in result.stderr


def test_set_value_of_the_wrong_type_exits_2_and_says_so(runner):
    result = runner("gap_vs_flatten", "--set", "epochs=many")
    assert result.returncode == 2
    assert "expected a value of type int" in result.stderr


def test_set_value_outside_the_choices_exits_2(runner):
    result = runner("gap_vs_flatten", "--set", "dataset=imagenet")
    assert result.returncode == 2
    assert "shifted_digits" in result.stderr and "mnist1d" in result.stderr


def test_bad_option_and_bad_profile_exit_2_with_one_line(runner):
    for args in (["gap_vs_flatten", "--profile", "huge"], ["gap_vs_flatten", "--jobs", "0"], ["--bogus"],
                 ["gap_vs_flatten", "--set", "epochs"]):
        result = runner(*args)
        assert result.returncode == 2, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unreachable_tracking_server_exits_2_before_training(runner, tmp_path):
    started = time.perf_counter()
    result = runner("gap_vs_flatten", "--profile", "smoke", "--tracking-uri", "http://127.0.0.1:9",
                    "--results-dir", tmp_path)
    assert result.returncode == 2
    assert "cannot reach the MLflow tracking server" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "gap_vs_flatten").exists()


def test_a_set_variant_gets_its_own_results_folder_and_ledger_rows(runner, tmp_path):
    from claimlab import report

    assert report.results_folder("gap_vs_flatten", {}) == "gap_vs_flatten"
    assert report.results_folder("gap_vs_flatten", {"dataset": "mnist1d", "epochs": "3"}) == \
        "gap_vs_flatten@dataset=mnist1d,epochs=3"
    assert report.results_folder("x", {"trunk_filters": "(8, 16)"}) == "x@trunk_filters=_8,_16_"
    result = runner("gap_vs_flatten", "--profile", "smoke", "--seeds", "1", "--epochs", "1",
                    "--set", "dataset=mnist1d", "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}",
                    "--results-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    # --epochs changes the budget, so it names the variant too: the default results are never overwritten.
    assert (tmp_path / "gap_vs_flatten@dataset=mnist1d,epochs=1" / "summary.json").exists()
    assert not (tmp_path / "gap_vs_flatten").exists()
    ledger = (tmp_path / "README.md").read_text()
    assert "| G1 | gap_vs_flatten | empirical | not run yet |" in ledger
    assert ("[gap_vs_flatten (dataset=mnist1d,epochs=1)](gap_vs_flatten@dataset=mnist1d,epochs=1/summary.md#g4) | "
            "empirical |") in ledger


def test_a_config_the_trials_cannot_run_is_a_usage_error_before_any_training(runner, tmp_path):
    # lstm_variable_length cuts every series into chunks: a chunk that does not divide the lengths cannot run.
    result = runner("lstm_variable_length", "--profile", "smoke", "--set", "chunk=7",
                    "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--results-dir", tmp_path)
    assert result.returncode == 2, result.stderr
    assert "multiple of chunk=7" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "lstm_variable_length").exists()


def test_list_name_shows_every_key_with_its_value_and_domain(runner):
    result = runner("--list", "gap_vs_flatten", "--profile", "smoke")
    assert result.returncode == 0, result.stderr
    keys, _, settings = result.stdout.partition("gap_vs_flatten: --settings NAME[,NAME...] or all runs")
    lines = {line.split()[0]: line for line in keys.splitlines()[1:]}
    assert set(lines) == set(config.resolve(registry.load("gap_vs_flatten"), "smoke"))
    assert [line.split()[0] for line in settings.strip().splitlines()] == ["default", "mnist1d", "long_budget",
                                                                          "resnet_trunk", "tensorflow"]
    assert "(epochs=5x the profile's, patience=5x the profile's)" in settings
    assert "2" in lines["epochs"] and "an integer >= 1" in lines["epochs"]  # the smoke value, and the domain
    assert "one of shifted_digits, mnist1d" in lines["dataset"]
    assert "a decision threshold" in lines["smallest_effect"] and "threshold" not in lines["epochs"]
