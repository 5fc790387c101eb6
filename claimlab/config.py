"""Profiles and `--set key=value` overrides (nanoGPT-style: literal values, unknown keys rejected).

The resolved config is, in order of precedence:
  CLI (--set, --seeds, --epochs, --until-decided, --backend)  >  the experiment's PROFILES[profile]  >  the profile defaults
  below  >  the experiment's CONFIG  >  the machinery's keys (BASE_CONFIG, and `backend`: the experiment's
  BACKEND).
"""

from __future__ import annotations

import ast
import hashlib
import json

from claimlab.domains import Integer, check_value
from claimlab.errors import UsageError

PROFILES = ("smoke", "quick", "full")
DEFAULT_PROFILE = "quick"

TWO_STAGE_CAP = 30  # --until-decided without a number, and the full profile's

# What every experiment gets per profile unless it says otherwise. smoke is for tests (seconds);
# quick is the default (>= 5 seeds, minutes); full is what results/ is generated with when time allows.
PROFILE_DEFAULTS = {
    "smoke": {"seeds": 2},
    "quick": {"seeds": 5},
    "full": {"seeds": 10, "until_decided": TWO_STAGE_CAP},
}

# Keys the machinery itself understands, present in every experiment's config, and their domains. Every
# config also has `backend`, the Keras backend its trials run on (claimlab.backend): its default is the
# experiment's BACKEND, its domain the backends the experiment can run on (registry.Experiment.domains).
# until_decided: two-stage seeds (claimlab.verdict.staged_test): the most seeds a second stage may bring an
# undecided comparison to; 0 is one stage. The full profile, which results/ is generated with, runs two stages.
BASE_CONFIG = {"seeds": 5, "data_seed": 0, "until_decided": 0}
BASE_DOMAINS = {"seeds": Integer(min=1), "data_seed": Integer(min=0), "until_decided": Integer(min=0)}

# Keys that identify how trials were run, not what they computed: left out of the trial's identity.
NOT_TRIAL_IDENTITY = ("seeds", "until_decided")

# Keys that change how the trials run and never the exact checks, which run in the runner's own process on
# TensorFlow: a published exact verdict stays comparable across them.
TRIALS_ONLY = ("backend",)

# Keys added to every config after results were written, with the value those results ran under: a
# summary.json whose config has no `backend` was written when every trial ran on TensorFlow, one without
# `until_decided` with one stage of seeds.
FORMER_DEFAULTS = {"backend": "tensorflow", "until_decided": 0}


def as_recorded(cfg: dict) -> dict:
    """A config read from a results file, with the keys it predates at the values it ran under."""
    return {**FORMER_DEFAULTS, **cfg}


def parse_value(key: str, text: str, default):
    """Parse the text of `--set key=text` to the type of the default value, or raise UsageError."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text  # a bare word: a string
    expected = type(default)
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise UsageError(f"--set {key}={text}: expected true or false")
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, tuple) and isinstance(value, list):
        value = tuple(value)
    if isinstance(default, list) and isinstance(value, tuple):
        value = list(value)
    if default is None:
        return value
    if isinstance(value, bool) or not isinstance(value, expected):  # True is an int to Python, not to us
        raise UsageError(f"--set {key}={text}: expected a value of type {expected.__name__}, got {type(value).__name__}")
    return value


def resolve(experiment, profile: str = DEFAULT_PROFILE, overrides: dict[str, str] | None = None,
            seeds: int | None = None, epochs: int | None = None, until_decided: int | None = None) -> dict:
    """The full config for one run of `experiment` (a registry.Experiment)."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    cfg = {**BASE_CONFIG, "backend": experiment.backend, **experiment.config}
    cfg.update(PROFILE_DEFAULTS[profile])
    cfg.update(experiment.profiles.get(profile, {}))
    for key, text in (overrides or {}).items():
        if key not in cfg:
            valid = ", ".join(sorted(cfg))
            raise UsageError(f"--set {key}: unknown key for {experiment.name}; valid keys: {valid}")
        cfg[key] = parse_value(key, text, cfg[key])
    if seeds is not None:
        cfg["seeds"] = seeds
    if until_decided is not None:
        cfg["until_decided"] = until_decided
    if epochs is not None:
        if "epochs" not in cfg:
            raise UsageError(f"--epochs: {experiment.name} has no epochs (it trains nothing)")
        cfg["epochs"] = epochs
    check_domains(experiment, cfg)
    return cfg


def check_domains(experiment, cfg: dict) -> None:
    """Every key inside its declared domain, then the module's cross-key checks; else a UsageError (exit 2)
    naming the valid values. Runs before any MLflow run, data load or training."""
    domains = experiment.domains
    for key, value in cfg.items():
        problem = check_value(key, value, domains[key])
        if problem:
            raise UsageError(f"--set {problem} (python runner.py --list {experiment.name} shows every key)")
    if 0 < cfg["until_decided"] <= cfg["seeds"]:
        raise UsageError(f"--set until_decided={cfg['until_decided']}: a second stage needs room above the "
                         f"{cfg['seeds']} planned seeds; give more than {cfg['seeds']}, or 0 for one stage")
    problems = experiment.config_problems(cfg)
    if problems:
        raise UsageError(f"{experiment.name}: {problems[0]}")


def trial_config(cfg: dict, arm_overrides: dict) -> dict:
    """The config one trial sees: the run's config with its arm's overrides."""
    return {**cfg, **arm_overrides}


def config_hash(cfg: dict) -> str:
    """A short stable fingerprint of everything that determines a trial's numbers (not the seed count)."""
    identity = {key: value for key, value in cfg.items() if key not in NOT_TRIAL_IDENTITY}
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
