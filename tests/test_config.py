"""Profiles and --set overrides: precedence, types, unknown keys."""

import pytest

from claimlab import config, registry
from claimlab.errors import UsageError


@pytest.fixture(scope="module")
def experiment():
    return registry.load("gap_vs_flatten")


def test_profiles_set_the_seed_count_and_quick_is_the_default(experiment):
    assert config.resolve(experiment, "smoke")["seeds"] == 2
    assert config.resolve(experiment)["seeds"] >= 5
    assert config.resolve(experiment, "full")["seeds"] >= 10


def test_cli_beats_profile_beats_module_config(experiment):
    cfg = config.resolve(experiment, "smoke", {"learning_rate": "0.01"}, seeds=3, epochs=7)
    assert cfg["learning_rate"] == 0.01 and cfg["seeds"] == 3 and cfg["epochs"] == 7
    assert config.resolve(experiment, "smoke")["epochs"] == 2  # the smoke profile's, not CONFIG's 30


@pytest.mark.parametrize("key,text,expected", [
    ("epochs", "12", 12), ("learning_rate", "3e-4", 3e-4), ("learning_rate", "1", 1.0),
    ("trunk_filters", "[8, 16]", (8, 16)), ("dataset", "mnist1d", "mnist1d"),
])
def test_values_are_parsed_to_the_default_type(experiment, key, text, expected):
    value = config.resolve(experiment, "smoke", {key: text})[key]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("key,text", [("epochs", "1.5"), ("epochs", "True"), ("batch_size", "'32'"),
                                      ("nonexistent", "1"), ("epochs", "0")])
def test_bad_overrides_are_usage_errors(experiment, key, text):
    with pytest.raises(UsageError):
        config.resolve(experiment, "smoke", {key: text})


def test_config_hash_ignores_the_seed_count_but_not_the_epochs(experiment):
    a = config.resolve(experiment, "smoke")
    assert config.config_hash(a) == config.config_hash({**a, "seeds": 9})
    assert config.config_hash(a) != config.config_hash({**a, "epochs": 3})
