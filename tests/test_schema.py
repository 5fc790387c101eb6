"""summary.json as types (claimlab.schema): what the runner writes reads back as the same values, a file of
an older schema version loads, and a file this claimlab cannot read says so in one line."""

import dataclasses
import json
import math

import pytest

from claimlab import schema
from claimlab.errors import UsageError
from conftest import a_claim, a_comparison, a_summary


def a_run_with_nan():
    undecided = a_comparison(verdict="inconclusive", p_value=math.nan, p_refute_adjusted=None, se=0.01, family=2)
    claims = [a_claim("F1", verdict="inconclusive", comparisons=[undecided],
                      seeds_needed=(schema.SeedsNeeded("large - small", None, "no spread"),)),
              a_claim("F2", kind="exact")]
    return a_summary(claims)


def test_a_summary_round_trips_through_json_with_nan_as_null():
    summary = a_run_with_nan()
    written = json.loads(json.dumps(summary.to_json()))  # as the file holds it
    comparison = written["claims"][0]["measured"]["comparisons"][0]
    assert comparison["p_value"] is None and comparison["p_refute_adjusted"] is None
    read = schema.Summary.from_json(written)
    assert math.isnan(read.claims[0].measured.comparisons[0].p_value)  # a float field: null is NaN again
    assert read.claims[0].measured.comparisons[0].p_refute_adjusted is None  # an optional one stays None
    assert read.to_json() == written
    assert isinstance(read.trials, schema.TrialCount) and isinstance(read.claims[0].source, schema.SourceRef)


def test_an_exact_claim_has_no_seeds_needed_in_the_file_and_an_empirical_one_does():
    written = a_run_with_nan().to_json()
    assert "seeds_needed" in written["claims"][0] and "seeds_needed" not in written["claims"][1]
    assert written["schema_version"] == schema.SCHEMA_VERSION and "reproduction" not in written


def test_a_version_1_file_reads_as_the_current_version():
    written = a_run_with_nan().to_json()
    del written["schema_version"]  # every summary.json before the schema module
    assert schema.Summary.from_json(written).schema_version == schema.SCHEMA_VERSION


def test_a_newer_version_an_unknown_field_or_a_missing_one_is_refused_and_named(tmp_path):
    written = a_run_with_nan().to_json()
    with pytest.raises(UsageError, match="schema version 3; this claimlab reads up to 2: update claimlab"):
        schema.Summary.from_json({**written, "schema_version": 3})
    with pytest.raises(TypeError, match=r"summary.claims\[0\]: unknown fields \['verdcit'\]"):
        schema.Summary.from_json({**written, "claims": [{**written["claims"][0], "verdcit": "supported"}]})
    with pytest.raises(TypeError, match=r"summary: missing fields \['mlflow'\]"):
        schema.Summary.from_json({k: v for k, v in written.items() if k != "mlflow"})
    (tmp_path / "summary.json").write_text(json.dumps({**written, "trials": 60}))
    with pytest.raises(UsageError, match="is not a summary.json this claimlab can read .* rerun the experiment"):
        schema.read_summary(tmp_path)
    assert schema.read_summary(tmp_path / "absent") is None


def test_results_are_immutable_and_a_change_is_a_new_value():
    summary = a_run_with_nan()
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.claims[0].verdict = "supported"
    changed = dataclasses.replace(summary, status="interrupted")
    assert summary.status == "complete" and changed.status == "interrupted"


def test_readers_find_claims_and_judged_comparisons_by_their_types():
    judged, reported = a_comparison(), a_comparison("other", judged=False)
    summary = a_summary([a_claim("F1", comparisons=[judged, reported])])
    assert summary.claim("F1").measured.judged() == [judged] and summary.claim("F9") is None
    assert summary.backend == "tensorflow"  # a config without a backend ran on TensorFlow
    assert a_claim("F1", qualifier="negligible: within +-0.01").label() == "supported (negligible: within +-0.01)"
