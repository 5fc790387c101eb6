"""Finds the experiment modules in experiments/ and checks that each keeps the contract.

Cheap on purpose: importing an experiment module must not import TensorFlow, so `--list` stays fast.
Experiment modules import keras inside their functions.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from claimlab import backend as backend_module
from claimlab.config import BASE_DOMAINS, PROFILE_DEFAULTS, PROFILES, resolve
from claimlab.domains import UNSET, OneOf, check_value
from claimlab.errors import UsageError
from claimlab.paths import EXPERIMENTS_DIR
from claimlab.scope import check_declaration
from claimlab.spec import Advice, Claim
from claimlab.verdict import Custom, Evidence, Plateau, declared_for, paired_comparisons



@dataclass
class Experiment:
    """An experiment module seen through its contract."""

    name: str
    module: ModuleType

    @property
    def title(self) -> str:
        return self.module.TITLE

    @property
    def backend(self) -> str:
        """The Keras backend its trials run on by default (module-level BACKEND): "jax" for a backend-neutral
        experiment, "tensorflow" where a claim needs TensorFlow itself (TENSORFLOW_BECAUSE says why)."""
        return getattr(self.module, "BACKEND", backend_module.TENSORFLOW)

    @property
    def backends(self) -> tuple[str, ...]:
        """The backends its trials can run on: both for a backend-neutral experiment, else TensorFlow alone."""
        return backend_module.BACKENDS if self.backend == backend_module.JAX else (backend_module.TENSORFLOW,)

    @property
    def claims(self) -> list[Claim]:
        """CLAIMS, each rule given by name bound to the module's function of that name."""
        return [dataclasses.replace(claim, rule=self._named(claim.rule, f"claim {claim.id}'s rule"))
                if isinstance(claim.rule, str) else claim for claim in self.module.CLAIMS]

    def _named(self, name: str, what: str):
        found = getattr(self.module, name, None)
        if found is None:
            raise TypeError(f"experiments/{self.name}.py: {what} names {name!r}, which the module does not define")
        return found

    @property
    def not_judged(self) -> list[Advice]:
        """NOT_JUDGED: lines of its sources that give advice rather than a claim, each with why it is not judged."""
        return list(getattr(self.module, "NOT_JUDGED", ()))

    @property
    def arms(self) -> dict[str, dict]:
        return dict(getattr(self.module, "ARMS", {}))

    @property
    def config(self) -> dict:
        """Each CONFIG key's default: the hyperparameters and the decision thresholds, all `--set`-able."""
        return {key: domain.default for key, domain in getattr(self.module, "CONFIG", {}).items()}

    @property
    def thresholds(self) -> dict:
        """The rules' margins and tolerances, declared before any run (CONFIG keys marked threshold=True)."""
        return {key: domain.default for key, domain in getattr(self.module, "CONFIG", {}).items() if domain.threshold}

    def if_diverged(self, cfg: dict) -> dict:
        """What a diverged trial counts as on each judged metric: module-level IF_DIVERGED, a dict or a
        function of the config (chance accuracy depends on the dataset's classes)."""
        declared = getattr(self.module, "IF_DIVERGED", {})
        return dict(declared(cfg) if callable(declared) else declared)

    def evidence(self, trials, checks: dict, cfg: dict) -> Evidence:
        """What this experiment's rules judge: the trials and checks with its IF_DIVERGED, LEVELS and PLATEAU."""
        return Evidence(trials=trials, checks=checks, cfg=cfg, if_diverged=self.if_diverged(cfg),
                        levels=self.levels(cfg), plateau=self.plateau)

    @property
    def plateau(self) -> Plateau | None:
        """When a trained arm counts as under-trained: the module's PLATEAU, else the lab's default (the
        training accuracy still rising by more than half a point over the last fifth); None for an
        experiment that trains nothing."""
        return getattr(self.module, "PLATEAU", Plateau()) if self.trains else None

    def levels(self, cfg: dict) -> dict:
        """Where each judged metric stops discriminating (claimlab.verdict.Level): module-level LEVELS, a dict
        or a function of the config (chance depends on the dataset's classes)."""
        declared = getattr(self.module, "LEVELS", {})
        return dict(declared(cfg) if callable(declared) else declared)

    def judged_metrics(self, cfg: dict) -> list[str]:
        """Every metric a rule of an empirical claim reads or reports."""
        return list(dict.fromkeys(m for claim in self.claims if claim.kind == "empirical"
                                  for m in claim.rule_for(cfg).metrics))

    def undeclared_divergence(self, cfg: dict) -> list[str]:
        """Judged metrics of empirical claims with no IF_DIVERGED declaration (should be none)."""
        declared = self.if_diverged(cfg)
        return [metric for metric in self.judged_metrics(cfg) if declared_for(declared, metric) is None]

    def undeclared_levels(self, cfg: dict) -> list[str]:
        """Judged metrics of empirical claims with no LEVELS declaration (should be none)."""
        declared = self.levels(cfg)
        return [metric for metric in self.judged_metrics(cfg) if declared_for(declared, metric) is None]

    @property
    def profiles(self) -> dict[str, dict]:
        return dict(getattr(self.module, "PROFILES", {}))

    @property
    def choices(self) -> dict[str, tuple]:
        """The experiment's keys that take one of a fixed set of values, and those values."""
        return {key: domain.choices for key, domain in getattr(self.module, "CONFIG", {}).items()
                if isinstance(domain, OneOf)}

    @property
    def domains(self) -> dict:
        """The valid values of every config key: the machinery's own keys, and the module's CONFIG."""
        return {**BASE_DOMAINS, "backend": OneOf(self.backend, choices=self.backends),
                **getattr(self.module, "CONFIG", {})}

    def config_problems(self, cfg: dict) -> list[str]:
        """What the module's optional check_config(cfg) finds wrong with keys taken together."""
        check = getattr(self.module, "check_config", None)
        return list(check(dict(cfg))) if check else []

    @property
    def settings(self) -> dict:
        """The named settings the claims' scope is judged over (module-level SETTINGS, "default" first);
        {} for an experiment without any (the exact ones)."""
        return dict(getattr(self.module, "SETTINGS", {}))

    @property
    def trains(self) -> bool:
        return bool(self.arms)

    def run_trial(self, arm: str, seed: int, cfg: dict):
        """One trial: the module's run_trial, or a group of one through its run_trials."""
        if hasattr(self.module, "run_trial"):
            return self.module.run_trial(arm, seed, cfg)
        return self.module.run_trials(arm, [seed], cfg)[0]

    @property
    def fuses_seeds(self) -> bool:
        """The module trains several seeds of one arm at once: run_trials(arm, seeds, cfg)."""
        return hasattr(self.module, "run_trials")

    def run_trials(self, arm: str, seeds: list[int], cfg: dict) -> list:
        return self.module.run_trials(arm, list(seeds), cfg)

    def prepare(self, cfg: dict) -> None:
        """The module's optional `prepare(cfg)`: load the data once, so broken data fails before any trial."""
        prepare = getattr(self.module, "prepare", None)
        if prepare:
            prepare(dict(cfg))

    def checks(self, cfg: dict) -> list:
        """The exact-check functions every claim's rule needs, each once, in claim order."""
        seen, checks = set(), []
        for claim in self.claims:
            for check in claim.rule_for(cfg).checks:
                if isinstance(check, str):
                    check = self._named(check, f"claim {claim.id}'s exact check")
                if check.__name__ not in seen:
                    seen.add(check.__name__)
                    checks.append(check)
        return checks

    def figures(self, results) -> dict:
        """The claim's own plots, if the module draws any: name -> matplotlib Figure."""
        draw = getattr(self.module, "figures", None)
        return draw(results) if draw else {}


EXTRA_PATH_VARIABLE = "CLAIMLAB_EXPERIMENTS_PATH"  # more experiment folders (os.pathsep-separated)


def _folders() -> list[Path]:
    """experiments/, then any folders in $CLAIMLAB_EXPERIMENTS_PATH: the test suite's fault-probe
    experiment lives in tests/, not beside the claims (worker processes inherit the variable)."""
    extra = [Path(p) for p in os.environ.get(EXTRA_PATH_VARIABLE, "").split(os.pathsep) if p]
    return [EXPERIMENTS_DIR, *extra]


def _module_files() -> dict[str, Path]:
    files = {}
    for folder in reversed(_folders()):  # experiments/ wins a name clash
        files.update({path.stem: path for path in folder.glob("*.py") if not path.stem.startswith("_")})
    return files


def names() -> list[str]:
    return sorted(_module_files())


def _validate(name: str, module: ModuleType) -> None:
    for attribute in ("TITLE", "CLAIMS"):
        if not hasattr(module, attribute):
            raise TypeError(f"experiments/{name}.py must define {attribute}")
    if getattr(module, "ARMS", None) and not (hasattr(module, "run_trial") or hasattr(module, "run_trials")):
        raise TypeError(f"experiments/{name}.py declares ARMS but neither run_trial(arm, seed, cfg) nor "
                        "run_trials(arm, seeds, cfg)")
    backend = getattr(module, "BACKEND", backend_module.TENSORFLOW)
    if backend not in backend_module.BACKENDS:
        raise TypeError(f"experiments/{name}.py: BACKEND must be one of {backend_module.BACKENDS}, not {backend!r}")
    if backend == backend_module.TENSORFLOW and getattr(module, "ARMS", None) \
            and not getattr(module, "TENSORFLOW_BECAUSE", ""):
        raise TypeError(f"experiments/{name}.py trains on TensorFlow: say why its trials need TensorFlow itself "
                        "(TENSORFLOW_BECAUSE), or declare BACKEND = \"jax\" if they use only keras, keras.ops and "
                        "keras.random")
    repeated = [f"{profile}.{key}" for profile, values in getattr(module, "PROFILES", {}).items()
                for key, value in values.items() if PROFILE_DEFAULTS.get(profile, {}).get(key, object()) == value]
    if repeated:
        raise TypeError(f"experiments/{name}.py repeats profile defaults of claimlab.config in PROFILES: "
                        f"{', '.join(repeated)}; leave them out")
    separate = [attribute for attribute in ("DOMAINS", "CHOICES", "THRESHOLDS") if hasattr(module, attribute)]
    if separate:
        raise TypeError(f"experiments/{name}.py declares {', '.join(separate)}: declare each key once in CONFIG, its "
                        'default and domain together, e.g. "epochs": Integer(30, min=1); a threshold with threshold=True')
    for key, domain in getattr(module, "CONFIG", {}).items():
        if not hasattr(domain, "check") or getattr(domain, "default", UNSET) is UNSET:
            raise TypeError(f"experiments/{name}.py: CONFIG[{key!r}] must be a domain with its default, e.g. "
                            f"Integer(30, min=1), not {domain!r}")
        problem = check_value(key, domain.default, domain)
        if problem:
            raise TypeError(f"experiments/{name}.py: CONFIG's own default is invalid: {problem}")

    arm_keys = {tuple(sorted(overrides)) for overrides in getattr(module, "ARMS", {}).values()}
    if len(arm_keys) > 1:
        raise TypeError(f"experiments/{name}.py: every arm must set the same keys (a misspelt one would be "
                        f"ignored by the trial); they set {sorted(arm_keys)}")
    shadowed = {key for keys in arm_keys for key in keys} & set(getattr(module, "CONFIG", {}))
    if shadowed:
        raise TypeError(f"experiments/{name}.py: arms set the config keys {sorted(shadowed)}, which would silently "
                        "override `--set`; give the arm's key another name")
    check_declaration(name, module)
    for advice in getattr(module, "NOT_JUDGED", ()):
        if not isinstance(advice, Advice) or not advice.why.strip():
            raise TypeError(f"experiments/{name}.py: NOT_JUDGED lists claimlab.spec.Advice(quote, source, why) "
                            f"entries, each saying why it is not judged, not {advice!r}")
    ids = [claim.id for claim in module.CLAIMS]
    if len(ids) != len(set(ids)):
        raise TypeError(f"experiments/{name}.py declares a claim id twice: {ids}")


def load(name: str) -> Experiment:
    """The experiment called `name`, or a UsageError that lists the experiments and the closest name."""
    available = names()
    if name not in available:
        close = difflib.get_close_matches(name, available, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(f"unknown experiment {name!r}.{hint} Available: {', '.join(available)}")
    path = _module_files()[name]
    if path.parent == EXPERIMENTS_DIR:
        module = importlib.import_module(f"experiments.{name}")
    else:
        module = _import_file(f"claimlab_extra_experiments.{name}", path)
    _validate(name, module)
    experiment = Experiment(name, module)
    _check_rules(experiment)
    return experiment


def _check_rules(experiment: Experiment) -> None:
    """What every rule must be, checked as the experiment loads so that an author learns it in seconds: the
    arms it reads (Rule.reads) are arms the experiment trains (a misspelt arm is an error, not an inconclusive
    verdict after the run); every paired comparison's smallest effect is a declared THRESHOLDS value; every
    built-in empirical rule names its interval method; and under every profile, each judged metric declares
    what a diverged trial scores on it (IF_DIVERGED) and its chance and ceiling, or that it has neither (LEVELS)."""
    where = f"experiments/{experiment.name}.py"
    thresholds = set(experiment.thresholds.values())
    plateau = experiment.plateau
    if plateau is not None and plateau.until and not {"epochs", "patience"} <= set(experiment.config):
        raise TypeError(f"{where}: PLATEAU trains until {plateau.until} stops improving: CONFIG must declare "
                        "'patience' (epochs without improvement) and 'epochs' (the cap)")
    for profile in PROFILES:
        cfg = resolve(experiment, profile)
        for claim in experiment.claims:
            rule = claim.rule_for(cfg)
            unknown = sorted({arm for _, arm in rule.reads()} - set(experiment.arms))
            if unknown:
                raise TypeError(f"{where}: claim {claim.id}'s rule reads arms it does not train: {unknown}; its "
                                f"arms: {', '.join(experiment.arms)}")
            for comparison in paired_comparisons(rule):
                if comparison.smallest_effect not in thresholds:
                    raise TypeError(f"{where}: claim {claim.id}: a comparison's smallest_effect "
                                    f"{comparison.smallest_effect!r} is no THRESHOLDS value: declare it there, so "
                                    "that --set can change it and the rule text names it")
            if claim.kind == "empirical" and not isinstance(rule, Custom) and not any(
                    method in rule.describe() for method in ("paired t interval", "jackknife", "TOST")):
                raise TypeError(f"{where}: claim {claim.id}'s rule text does not name its interval method")
        experiment.checks(cfg)  # every exact check a rule names by name exists
        undeclared = experiment.undeclared_divergence(cfg)
        if undeclared:
            raise TypeError(f"{where}: IF_DIVERGED declares nothing for the judged metrics {undeclared} "
                            f"(profile {profile}): say what a diverged trial scores on each")
        undeclared = experiment.undeclared_levels(cfg)
        if undeclared:
            raise TypeError(f"{where}: LEVELS declares nothing for the judged metrics {undeclared} (profile "
                            f"{profile}): give each its chance and ceiling (claimlab.verdict.Level), or "
                            "Level.unbounded(why)")


def _import_file(module_name: str, path: Path) -> ModuleType:
    import importlib.util
    import sys

    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def load_all() -> list[Experiment]:
    return [load(name) for name in names()]
