"""Profiles and --set overrides: precedence, types, unknown keys."""

import re

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


# ---- declared domains (issue 9) -------------------------------------------------------------------
EXPERIMENTS = registry.load_all()


@pytest.mark.parametrize("each", EXPERIMENTS, ids=[e.name for e in EXPERIMENTS])
def test_every_key_has_a_domain_and_every_profile_is_inside_it(each):
    for profile in config.PROFILES:
        cfg = config.resolve(each, profile)  # raises if a profile value is outside its own domain
        assert set(cfg) == set(each.domains)


@pytest.mark.parametrize("key,text,says", [
    ("batch_size", "0", "batch_size=0 must be an integer >= 1"),
    ("learning_rate", "-1", "learning_rate=-1.0 must be a number > 0"),
    ("max_shift", "-1", "max_shift=-1 must be an integer >= 1"),
    ("ema_beta", "1.5", "ema_beta=1.5 must be a number in [0, 1]"),
    ("learning_rate", "1e999", "learning_rate=inf must be a number > 0"),  # literal_eval gives inf
])
def test_a_value_outside_its_domain_is_refused_with_the_valid_range(experiment, key, text, says):
    with pytest.raises(UsageError, match=re.escape(says)):
        config.resolve(experiment, "smoke", overrides={key: text})


def test_keys_that_constrain_each_other_are_checked_together(experiment):
    with pytest.raises(UsageError, match="canvas=10 must be at least 8 \\+ 2 \\* max_shift"):
        config.resolve(experiment, "quick", overrides={"canvas": "10"})


@pytest.mark.parametrize("declaration,says", [
    ("CONFIG = {'epochs': Integer(1, min=1), 'width': 3}", r"CONFIG\['width'\] must be a domain with its default"),
    ("CONFIG = {'epochs': Integer(min=1)}", r"CONFIG\['epochs'\] must be a domain with its default"),
    ("CONFIG = {'epochs': Integer(0, min=1)}", r"CONFIG's own default is invalid: epochs=0 must be an integer >= 1"),
    ("CONFIG = {'epochs': 1}\nDOMAINS = {'epochs': Integer(min=1)}", "declares DOMAINS: declare each key once in CONFIG"),
])
def test_each_key_is_declared_once_with_its_default_and_domain(tmp_path, monkeypatch, declaration, says):
    name = f"declared_{abs(hash(declaration))}"  # a module name of its own: imported modules are cached
    (tmp_path / f"{name}.py").write_text(f"from claimlab.domains import Integer\nTITLE = 't'\nCLAIMS = []\n{declaration}\n")
    monkeypatch.setenv(registry.EXTRA_PATH_VARIABLE, str(tmp_path))
    with pytest.raises(TypeError, match=says):
        registry.load(name)
