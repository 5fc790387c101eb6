"""An experiment's compute floor on this machine: its FLOPs over what this machine's cores can do.

    python benchmarks/floor.py gap_vs_flatten --profile quick --jobs 2

1. FLOPs. Each arm runs one trial for one epoch, with train.fit, fit_per_seed and evaluate wrapped
   to record every model they train or evaluate. A model's forward FLOPs per example come from
   TensorFlow's graph profiler; training costs 3x forward per example (the backward pass is about
   twice the forward), validation and evaluation 1x. The trial's FLOPs are its per-epoch FLOPs times
   the profile's epochs plus its evaluations, times the profile's seeds.
2. FLOP/s of one core: the same arms trained for one more epoch, single-threaded and already traced
   (steady state), FLOPs over seconds.
3. Scaling of the cores: that steady-state epoch run in `jobs` processes at once against one alone;
   scaling = jobs x (time alone / time side by side).

floor = FLOPs / (FLOP/s of one core x scaling): the wall time no runner can beat with these kernels
on this machine. Prints one JSON line. Experiments with their own training loop (no train.fit) have
no floor here. A benchmark, not a test.
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


def steady_flops_per_second(trained, at_least: float = 3.0) -> float:
    """More epochs of each recorded training, traced already, for at least `at_least` seconds in all:
    training FLOPs per second on this thread."""
    flops = seconds = 0.0
    while seconds < at_least:
        for model, data, batch_size, forward in trained:
            started = time.perf_counter()
            model.fit(data.x_train, data.y_train, epochs=1, batch_size=batch_size, shuffle=True, verbose=0)
            seconds += time.perf_counter() - started
            flops += 3 * forward * len(data.y_train)
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
    return steady_flops_per_second(trained, at_least=10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    from claimlab import config, registry, train

    train.limit_threads(1)
    experiment = registry.load(args.experiment)
    cfg = config.resolve(experiment, args.profile)
    total, trained = 0.0, []
    for arm in experiment.arms:
        flops, arm_trained = arm_flops(experiment, cfg, arm)
        total += flops * cfg["seeds"]
        trained += arm_trained
    if not trained:
        print(json.dumps({"experiment": args.experiment, "floor": None,
                          "why": "its own training loop: no train.fit to count"}))
        return
    one_core = steady_flops_per_second(trained)

    # The cores' scaling, on the first arm: one process alone, then `jobs` processes side by side.
    probe = (args.experiment, args.profile, next(iter(experiment.arms)))
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        with context.Pool(1) as pool:
            alone = pool.map(_steady_rate_in_worker, [(*probe, manager.Barrier(1))])[0]
        barrier = manager.Barrier(args.jobs)
        with context.Pool(args.jobs) as pool:
            side_by_side = pool.map(_steady_rate_in_worker, [(*probe, barrier)] * args.jobs)
    scaling = sum(side_by_side) / alone
    print(json.dumps({"experiment": args.experiment, "flops": total, "one_core_flops_per_s": one_core,
                      "scaling": scaling, "jobs": args.jobs, "floor": total / (one_core * scaling)}))


if __name__ == "__main__":
    main()
