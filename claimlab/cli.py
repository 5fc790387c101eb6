"""The command line: `python runner.py NAME|all [options]`, `python runner.py --list` and
`python runner.py --cite ID`.

Exit codes: 0 done (whatever the verdicts), 1 a run failed, 2 a usage error, 130 interrupted.
Errors are one line that says what to do; set CLAIMLAB_DEBUG=1 for the traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from pathlib import Path

# TensorFlow's C++ start-up chatter (oneDNN notices, tf.data attribute warnings) would bury the
# progress lines; real failures still surface as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The runner's own process runs Keras on TensorFlow (the exact checks measure TensorFlow); trials on JAX
# run in workers that choose their backend as they start (claimlab.backend, claimlab.execute).
os.environ["KERAS_BACKEND"] = "tensorflow"

from claimlab import backend as backend_module
from claimlab import config, execute, keras2, registry, report, scope, tracking
from claimlab.cite import citation
from claimlab.errors import RunFailure, UsageError
from claimlab.execute import cpu_jobs, default_jobs
from claimlab.files import check_writable, results_lock
from claimlab.paths import PUBLISHED_RESULTS
from claimlab.ray_executor import require_ray
from claimlab.run import RunOptions, run_experiment

EXIT_USAGE = 2
RUNS_FOLDER = "runs"  # a reader's own runs, beside mlflow.db in the working directory (git-ignored)


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, instead of argparse's usage block
        raise UsageError(f"{message} (see python runner.py --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="runner.py",
        description="Train the arms of a claim experiment over several seeds, log to MLflow, write a verdict.",
    )
    parser.add_argument("experiment", nargs="?", help="experiment name (see --list), or 'all'")
    parser.add_argument("--list", action="store_true",
                        help="list the experiments and their claims; with NAME, every config key of NAME with its "
                             "value under --profile and its valid values")
    parser.add_argument("--cite", metavar="ID",
                        help="print a ready-to-paste citation of one claim id (e.g. P1) from results/: its quote and "
                             "source, the verdict and effect [95%% CI] in each setting, the scope, the commit, BibTeX")
    parser.add_argument("--profile", default=config.DEFAULT_PROFILE, choices=config.PROFILES,
                        help="smoke (tests, seconds), quick (default, >= 5 seeds), full (>= 10 seeds)")
    parser.add_argument("--seeds", type=int, help="number of seeds (overrides the profile)")
    parser.add_argument("--epochs", type=int, help="training epochs (overrides the profile)")
    parser.add_argument("--until-decided", type=int, nargs="?", const=config.TWO_STAGE_CAP, metavar="CAP",
                        help="two-stage seeds: a comparison the planned seeds leave undecided gets the seeds that 80%% "
                             "power at its smallest effect of interest needs, if that is at most CAP (default "
                             f"{config.TWO_STAGE_CAP}); 0 runs one stage. The full profile runs two stages")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value (repeatable); unknown keys are rejected")
    parser.add_argument("--backend", choices=backend_module.BACKENDS,
                        help="the Keras backend the trials run on (default: each experiment's own, jax where its "
                             "trials are backend-neutral, else tensorflow); exact checks always run on tensorflow")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
                                               "else sqlite:///mlflow.db)")
    parser.add_argument("--results-dir", type=Path,
                        help=f"where <name>/ and the ledger go (default: {RUNS_FOLDER}/ in the working directory, "
                             "git-ignored; --cite reads the published results/ unless this is given)")
    parser.add_argument("--publish", action="store_true",
                        help="regenerate the published evidence: write into this repository's results/ and its "
                             "ledger (and the README's claims table) instead of runs/")
    parser.add_argument("--compare-with", type=Path, metavar="DIR",
                        help="the published results a run is set beside, claim by claim (reproduced, differs or "
                             "not comparable; default: this repository's results/)")
    parser.add_argument("--jobs", type=int, help="trials in parallel, one worker process each (default: one per GPU "
                                                 f"when TensorFlow sees GPUs, else one per core: {cpu_jobs()})")
    parser.add_argument("--executor", choices=("local", "ray"), default="local",
                        help="where trials run: local worker processes (default), or Ray tasks on a Ray cluster "
                             "(pip install -e \".[ray]\")")
    parser.add_argument("--ray-address", help="the Ray cluster to join with --executor ray (e.g. 127.0.0.1:6379); "
                                              "default: $RAY_ADDRESS, else a local Ray instance")
    parser.add_argument("--settings", metavar="NAMES",
                        help="run the experiment's declared settings, 'all' or a comma-separated list (--list NAME "
                             "shows them), each as its own run with the profile's seeds, then write the scope report "
                             "results/NAME/scope.md")
    parser.add_argument("--keras", choices=("2", "3"), default="3",
                        help="3 (default): this environment's Keras. 2: run the exact checks of NAME (or of every "
                             "experiment with exact claims, for 'all') again on Keras 2 (tf-keras: pip install -e "
                             "\".[keras2]\"), with the config of the Keras 3 results beside them, and show both verdicts")
    parser.add_argument("--resume", action="store_true",
                        help="skip (arm, seed) trials already FINISHED in MLflow for the same config")
    return parser


def results_root(args) -> Path:
    """Where a run writes: runs/ by default, so that a reader's run never overwrites the published
    evidence; the project's results/ only when asked to (--publish)."""
    if args.publish and args.results_dir is not None:
        raise UsageError("--publish writes this repository's results/; drop --results-dir (or --publish)")
    if args.publish:
        return PUBLISHED_RESULTS
    return (args.results_dir or Path.cwd() / RUNS_FOLDER).absolute()


def published_root(args) -> Path | None:
    """The published results a run is compared with: --compare-with, else the project's results/ (None
    when this installation has none)."""
    if args.compare_with is not None:
        if not args.compare_with.is_dir():
            raise UsageError(f"--compare-with {args.compare_with}: no such folder; name a results folder "
                             "(one that holds <name>/summary.json)")
        return args.compare_with
    return PUBLISHED_RESULTS if PUBLISHED_RESULTS.is_dir() else None


def parse_overrides(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set {pair}: expected KEY=VALUE, e.g. --set dataset=mnist1d")
        overrides[key.strip()] = value.strip()
    return overrides


def list_experiments(out) -> None:
    for experiment in registry.load_all():
        ids = ",".join(claim.id for claim in experiment.claims)
        runs_on = experiment.backend if experiment.trains else "checks"
        out(f"{experiment.name:<24} {ids:<24} {runs_on:<11} {experiment.title}")


def list_config(experiment, profile: str, out) -> None:
    """Every key `--set` accepts for one experiment: its value under the profile and its domain; then the
    settings `--settings` runs."""
    cfg = config.resolve(experiment, profile)
    out(f"{experiment.name} ({profile} profile): --set KEY=VALUE accepts")
    for key, value in cfg.items():
        domain = experiment.domains[key]
        threshold = "; a decision threshold, fixed before any run" if getattr(domain, "threshold", False) else ""
        out(f"  {key:<26} {value!r:<28} {domain.describe()}{threshold}")
    if experiment.settings:
        out(f"{experiment.name}: --settings NAME[,NAME...] or all runs")
        for name, setting in experiment.settings.items():
            changes = ", ".join(f"{k}={v!r}" for k, v in setting.overrides.items()) or "the config above"
            out(f"  {name:<14} {setting.label} ({changes}): {setting.reason}")


def resolve_for(experiment, args, overrides: dict[str, str], lenient: bool) -> tuple[dict, dict]:
    """The experiment's config and the overrides applied to it; with `lenient` (for `all`), overrides
    the experiment lacks are skipped."""
    if "backend" in overrides and overrides["backend"] not in experiment.backends:
        if not lenient:
            raise UsageError(f"{experiment.name} runs on {', '.join(experiment.backends)} only: "
                             f"{getattr(experiment.module, 'TENSORFLOW_BECAUSE', '') or 'it trains nothing'}")
        overrides = {k: v for k, v in overrides.items() if k != "backend"}  # `all --backend jax`: where it can
    if lenient:
        probe = config.resolve(experiment, args.profile)
        overrides = {k: v for k, v in overrides.items() if k in probe}
        epochs = args.epochs if "epochs" in probe else None
    else:
        epochs = args.epochs
    cfg = config.resolve(experiment, args.profile, overrides, seeds=args.seeds, epochs=epochs,
                         until_decided=args.until_decided)
    if epochs is not None:  # a changed budget is a variant too: its own results folder
        overrides = {**overrides, "epochs": str(epochs)}
    return cfg, overrides


def planned_runs(experiments, args, overrides: dict[str, str], lenient: bool) -> list[tuple]:
    """(experiment, setting, config, overrides) for every run of the invocation, every usage error raised
    before anything runs. A plain run of an experiment with SETTINGS is its default setting; a --set or
    --epochs run is a variant of it (no setting); --settings runs the declared settings as declared."""

    if args.settings is None:
        runs = []
        for experiment in experiments:
            cfg, applied = resolve_for(experiment, args, overrides, lenient)
            setting = scope.DEFAULT_SETTING if experiment.settings and not applied else None
            runs.append((experiment, setting, cfg, applied))
        return runs
    if overrides or args.epochs is not None:
        raise UsageError("--settings runs each declared setting as declared; drop --set/--epochs/--backend, or "
                         "run one variant without --settings")
    runs, wanted = [], {name.strip() for name in args.settings.split(",") if name.strip()}
    for experiment in experiments:
        if not experiment.settings:  # exact checks: one run, as always
            runs.append((experiment, None, *resolve_for(experiment, args, {}, lenient)))
            continue
        if lenient and args.settings != "all":
            names = [name for name in experiment.settings if name in wanted]
        else:
            names = scope.chosen(experiment, args.settings)
        runs += [(experiment, name, scope.setting_config(experiment, name, args.profile, args.seeds,
                                                         args.until_decided), {}) for name in names]
    if lenient and args.settings != "all":
        declared = set().union(*(e.settings for e in experiments))
        if wanted - declared:
            raise UsageError(f"--settings {sorted(wanted - declared)[0]}: no experiment declares this setting")
    return runs


def main(argv: list[str] | None = None, out=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = out or (lambda *a, **k: print(*a, **k))
    try:
        return _main(argv, out)
    except UsageError as error:
        print(f"runner.py: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RunFailure as error:
        print(f"runner.py: failed: {error}", file=sys.stderr)
        if os.environ.get("CLAIMLAB_DEBUG"):
            raise
        return 1
    except KeyboardInterrupt:
        print("runner.py: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # never a bare traceback for the user
        if os.environ.get("CLAIMLAB_DEBUG"):
            raise
        print(f"runner.py: failed: {type(error).__name__}: {error} (set CLAIMLAB_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1


def _main(argv: list[str], out) -> int:
    args = build_parser().parse_args(argv)
    if args.list:
        if args.experiment and args.experiment != "all":
            list_config(registry.load(args.experiment), args.profile, out)
        else:
            list_experiments(out)
        return 0
    if args.cite:
        if args.experiment:
            raise UsageError("--cite takes a claim id alone: python runner.py --cite P1")

        out(citation(args.cite, args.results_dir or PUBLISHED_RESULTS))
        return 0
    args.results_dir, args.compare_with = results_root(args), published_root(args)
    if not args.experiment:
        raise UsageError("name an experiment (python runner.py --list shows them) or 'all'")
    if args.jobs is None:
        args.jobs = default_jobs()
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if args.executor == "ray":
        require_ray()
    overrides = parse_overrides(args.overrides)
    if args.backend:
        overrides["backend"] = args.backend
    experiments = registry.load_all() if args.experiment == "all" else [registry.load(args.experiment)]
    if args.keras == "2":
        return run_on_keras2(experiments, args, overrides, argv, out)
    lenient = args.experiment == "all"
    if lenient:
        known = set().union(*(config.resolve(e, args.profile) for e in experiments))
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise UsageError(f"--set {unknown[0]}: no experiment has this key")
    runs = planned_runs(experiments, args, overrides, lenient)  # all usage errors up front

    check_writable(args.results_dir)
    uri = tracking.resolve_uri(args.tracking_uri)
    tracking.check_reachable(uri)
    options = RunOptions(profile=args.profile, tracking_uri=uri, results_root=args.results_dir, jobs=args.jobs,
                         resume=args.resume, executor=args.executor, ray_address=args.ray_address,
                         compare_with=args.compare_with,
                         command="python runner.py " + " ".join(shlex.quote(a) for a in argv))
    with execute.keep_workers():  # one worker pool for every run of this command
        return _run_all(runs, options, args, lenient, out)


def _run_all(runs, options, args, lenient: bool, out) -> int:
    """Each planned run in turn; a failure stops a single run, and is counted and passed over otherwise."""

    failures = []
    for index, (experiment, setting, cfg, applied) in enumerate(runs):
        try:
            outcome = run_experiment(experiment, cfg, dataclasses.replace(options, overrides=applied, setting=setting),
                                     out)
        except RunFailure as error:
            if not (lenient or args.settings):  # one run: its failure is the answer
                raise
            failures.append(str(error))
            print(f"runner.py: failed: {error}", file=sys.stderr)
        else:
            if outcome.exit_code:
                return outcome.exit_code  # interrupted: stop everything
        last_of_experiment = index + 1 == len(runs) or runs[index + 1][0] is not experiment
        if args.settings is not None and experiment.settings and last_of_experiment:
            report_scope(experiment, options, out)
    return 1 if failures else 0


def run_on_keras2(experiments, args, overrides: dict, argv: list[str], out) -> int:
    """`--keras 2`: each experiment's exact checks on Keras 2, judged by the same rules, beside Keras 3."""
    if (overrides or args.settings or args.epochs is not None or args.seeds is not None or args.resume
            or args.until_decided is not None):
        raise UsageError("--keras 2 reruns the exact checks in the config of the Keras 3 results; drop "
                         "--set/--backend/--settings/--epochs/--seeds/--until-decided/--resume")
    if args.executor != "local":
        raise UsageError("--keras 2 runs its checks in one local subprocess; drop --executor")
    with_exact = [e for e in experiments if keras2.has_exact_claims(e)]
    if not with_exact:
        raise UsageError(f"{experiments[0].name} has no exact claims; --keras 2 reruns exact checks only")
    keras2.require_tf_keras()
    check_writable(args.results_dir)
    uri = tracking.resolve_uri(args.tracking_uri)
    tracking.check_reachable(uri)
    command = "python runner.py " + " ".join(shlex.quote(a) for a in argv)
    failures = 0
    for experiment in with_exact:
        try:
            keras2.run_keras2(experiment, keras2.profile_of(args.results_dir / experiment.name, args.profile), uri,
                              args.results_dir, command, out)
        except RunFailure as error:
            if len(with_exact) == 1:
                raise
            failures += 1  # one experiment's failure does not stop the others'
            print(f"runner.py: failed: {error}", file=sys.stderr)
    return 1 if failures else 0


def report_scope(experiment, options, out) -> None:
    """After an experiment's settings ran: the scope report, an MLflow run for the grid, the terminal table."""
    with results_lock(options.results_root):
        scope_report = report.write_scope(experiment, options.results_root)
    run_id = scope.log_grid_run(tracking.Tracker(options.tracking_uri, experiment.name), options.results_root,
                                scope_report, options.profile, options.command)
    scope.print_table(scope_report, out)
    out(f"\nscope: {options.results_root / experiment.name / 'scope.md'}   MLflow: grid run {run_id}", flush=True)


def entry_point() -> None:  # the `claimlab` console script
    sys.exit(main())
