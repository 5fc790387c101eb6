"""An experiment's compute floor on this machine: its FLOPs over what this machine's cores can do.

    python benchmarks/floor.py gap_vs_flatten --profile quick --jobs 2
    python benchmarks/floor.py all --profile quick --jobs 2    (each experiment, then the suite's sum)

1. FLOPs. Each arm runs one trial for one epoch, with train.fit, fit_per_seed and evaluate wrapped
   to record every model they train or evaluate. A model's forward FLOPs per example come from
   TensorFlow's graph profiler; training costs 3x forward per example (the backward pass is about
   twice the forward), validation and evaluation 1x. The trial's FLOPs are its per-epoch FLOPs times
   the profile's epochs plus its evaluations, times the profile's seeds.
2. FLOP/s of one core: the same arms trained further, single-threaded, in the steady state: one
   untimed epoch first (a model trained as a tower of fused seeds has not traced its own step yet;
   timing that trace made gap_vs_flatten's floor 1.8x to 2.7x too high), then timed fit calls of the
   profile's epochs (at most 10), as a trial's fit call spreads Keras' per-call set-up over its epochs.
3. Scaling of the cores: that steady-state training run in `jobs` processes at once against one
   alone; scaling = jobs x (time alone / time side by side).

floor = FLOPs / (FLOP/s of one core x scaling): the wall time no runner can beat with these kernels
on this machine. Prints one JSON line per experiment (and with `all`, one for the suite: the sum).
Experiments with their own training loop or nothing to train (no train.fit) have no floor here, so the
suite's sum is a lower bound. A benchmark, not a test.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def forward_flops_per_example(model) -> float:
    """Forward-pass FLOPs of one example, from TensorFlow's profiler on the model's traced graph."""
    from claimlab import train

    tf = train.import_tensorflow()
    from tensorflow.python.profiler import model_analyzer, option_builder

    spec = tf.TensorSpec([1, *model.inputs[0].shape[1:]], model.inputs[0].dtype)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = option_builder.ProfileOptionBuilder(option_builder.ProfileOptionBuilder.float_operation())
    options = options.with_empty_output().build()
    return float(model_analyzer.profile(graph, options=options).total_float_ops)


class Recorder:
    """Wraps claimlab.train's fit, fit_per_seed and evaluate to count FLOPs and keep what was trained."""

    def __init__(self):
        from claimlab import train

        self.train = train
        self.originals = {name: getattr(train, name) for name in ("fit", "fit_per_seed", "evaluate")}
        self.flops_per_epoch = self.flops_once = 0.0
        self.trained = []  # (model, data, batch_size, forward flops per example)

    def __enter__(self):
        train, original = self.train, self.originals

        def fit(model, data, epochs, batch_size, validation=True):
            self._count_fit([model], data, batch_size, validation)
            return original["fit"](model, data, epochs, batch_size, validation)

        def fit_per_seed(models, seeds, data, epochs, batch_size, validation=True):
            self._count_fit(models, data, batch_size, validation)
            saved, train.fit = train.fit, original["fit"]  # fit_per_seed may call fit: count once
            try:
                return original["fit_per_seed"](models, seeds, data, epochs, batch_size, validation)
            finally:
                train.fit = saved

        def evaluate(model, x, y, prefix, batch_size=512):
            self.flops_once += forward_flops_per_example(model) * len(x)
            return original["evaluate"](model, x, y, prefix, batch_size)

        train.fit, train.fit_per_seed, train.evaluate = fit, fit_per_seed, evaluate
        return self

    def _count_fit(self, models, data, batch_size, validation):
        for model in models:
            forward = forward_flops_per_example(model)
            self.flops_per_epoch += forward * (3 * len(data.y_train) + (len(data.y_val) if validation else 0))
            self.trained.append((model, data, batch_size, forward))

    def __exit__(self, *exc):
        for name, function in self.originals.items():
            setattr(self.train, name, function)


def arm_flops(experiment, cfg, arm):
    """(FLOPs of one trial of `arm` at the profile's epochs, what one 1-epoch trial trained)."""
    from claimlab import config, train

    one_epoch = config.trial_config({**cfg, "epochs": 1}, experiment.arms[arm])
    with Recorder() as recorder:
        train.seed_everything(0)
        experiment.run_trial(arm, 0, one_epoch)
    return recorder.flops_per_epoch * cfg["epochs"] + recorder.flops_once, recorder.trained


def steady_flops_per_second(trained, epochs: int, at_least: float = 3.0) -> float:
    """Training FLOPs per second on this thread, in the steady state: each recorded training first fits
    one untimed epoch (a model that trained as a tower of fused seeds has never traced its own step),
    then fits are timed at `epochs` epochs a call (at most 10), as a trial's one fit call amortises
    Keras' per-call set-up over its epochs, until `at_least` seconds are timed in all."""
    for model, data, batch_size, _ in trained:
        model.fit(data.x_train, data.y_train, epochs=1, batch_size=batch_size, shuffle=True, verbose=0)
    per_call = max(1, min(epochs, 10))
    flops = seconds = 0.0
    while seconds < at_least:
        for model, data, batch_size, forward in trained:
            started = time.perf_counter()
            model.fit(data.x_train, data.y_train, epochs=per_call, batch_size=batch_size, shuffle=True, verbose=0)
            seconds += time.perf_counter() - started
            flops += 3 * forward * len(data.y_train) * per_call
    return flops / seconds


def _steady_rate_in_worker(args) -> float:
    """In a fresh single-threaded process: the steady-state FLOP/s of one arm's trainings, timed once every
    process of the pool is ready (the barrier), so that side-by-side processes really overlap."""
    name, profile, arm, barrier = args
    from claimlab import config, registry, train

    train.limit_threads(1)
    experiment = registry.load(name)
    cfg = config.resolve(experiment, profile)
    _, trained = arm_flops(experiment, cfg, arm)
    barrier.wait()
    return steady_flops_per_second(trained, cfg["epochs"], at_least=10.0)


def experiment_flops(name: str, profile: str):
    """(FLOPs of the experiment's trials at the profile, each arm's 1-epoch trainings, the profile's epochs)."""
    from claimlab import config, registry

    experiment = registry.load(name)
    cfg = config.resolve(experiment, profile)
    total, trained = 0.0, []
    for arm in experiment.arms:
        flops, arm_trained = arm_flops(experiment, cfg, arm)
        total += flops * cfg["seeds"]
        trained += arm_trained
    return total, trained, cfg.get("epochs", 1)


def cores_scaling(name: str, profile: str, jobs: int) -> float:
    """The cores' scaling, on the experiment's first arm: one process alone, then `jobs` side by side."""
    from claimlab import registry

    probe = (name, profile, next(iter(registry.load(name).arms)))
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        with context.Pool(1) as pool:
            alone = pool.map(_steady_rate_in_worker, [(*probe, manager.Barrier(1))])[0]
        barrier = manager.Barrier(jobs)
        with context.Pool(jobs) as pool:
            side_by_side = pool.map(_steady_rate_in_worker, [(*probe, barrier)] * jobs)
    return sum(side_by_side) / alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="an experiment, or all: one line each, then the suite's total")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    from claimlab import registry, train

    train.limit_threads(1)
    names = registry.names() if args.experiment == "all" else [args.experiment]
    suite = {"experiment": "all", "flops": 0.0, "floor": 0.0, "no_floor": []}
    for name in names:
        total, trained, epochs = experiment_flops(name, args.profile)
        if not trained:
            print(json.dumps({"experiment": name, "floor": None,
                              "why": "no train.fit to count: its own training loop, or nothing to train"}), flush=True)
            suite["no_floor"].append(name)
            continue
        one_core = steady_flops_per_second(trained, epochs)
        scaling = cores_scaling(name, args.profile, args.jobs)  # per experiment: 1.3x to 1.8x on 2 cores
        floor = total / (one_core * scaling)
        print(json.dumps({"experiment": name, "flops": total, "one_core_flops_per_s": one_core,
                          "scaling": scaling, "jobs": args.jobs, "floor": floor}), flush=True)
        suite["flops"] += total
        suite["floor"] += floor
        del trained
        import keras

        keras.backend.clear_session()  # the next experiment starts from an empty Keras state
    if args.experiment == "all":
        print(json.dumps(suite))


if __name__ == "__main__":
    main()
