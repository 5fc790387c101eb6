"""An experiment's compute floor on this machine: its FLOPs over what this machine's cores can do.

    python benchmarks/floor.py gap_vs_flatten --profile quick --jobs 2
    python benchmarks/floor.py all --profile quick --jobs 2    (each experiment, then the suite's sum)
    python benchmarks/floor.py all --profile quick --jobs 2 --backend tensorflow   (TensorFlow's floor)

1. FLOPs. Each arm runs one trial for one epoch, with train.fit, fit_per_seed and evaluate wrapped
   to record every model they train or evaluate. A model's forward FLOPs per example come from
   TensorFlow's graph profiler; training costs 3x forward per example (the backward pass is about
   twice the forward), validation and evaluation 1x. The trial's FLOPs are its per-epoch FLOPs times
   the profile's epochs plus its evaluations, times the profile's seeds.
2. FLOP/s of one core, on the backend the experiment runs on (--backend to choose): the same arms
   trained in a fresh single-threaded process of that backend, then trained further with model.fit in
   the steady state: one untimed epoch first (a model trained as a tower of fused seeds has not traced
   its own step yet; timing that trace made gap_vs_flatten's floor 1.8x to 2.7x too high), then timed
   fit calls of the profile's epochs (at most 10), as a trial's fit call spreads Keras' per-call set-up
   over its epochs. The FLOPs are counted on TensorFlow, whose profiler reads them off the graph: a
   model's FLOPs are the same on either backend.
3. Scaling of the cores: that steady-state training of the first arm run in `jobs` processes at once
   against one alone; scaling = jobs x (time alone / time side by side).

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


class FirstModel(Exception):
    """Raised by a Recorder with stop_at_first=True where the trial hands its first model to be trained."""


class Recorder:
    """Wraps claimlab.train's fit, fit_per_seed and evaluate to count FLOPs and keep what was trained.
    With `count=False` (a process on JAX, where TensorFlow's profiler cannot read the models) it only
    keeps what was trained, with no FLOPs. With `stop_at_first=True` the trial stops, untrained, where
    it hands its first model to fit or fit_per_seed (FirstModel is raised; recorder.trained holds it)."""

    def __init__(self, count: bool = True, stop_at_first: bool = False):
        from claimlab import train

        self.train, self.count, self.stop_at_first = train, count, stop_at_first
        self.originals = {name: getattr(train, name) for name in ("fit", "fit_per_seed", "evaluate")}
        self.flops_per_epoch = self.flops_once = 0.0
        self.trained = []  # (model, data, batch_size, forward flops per example)

    def __enter__(self):
        train, original = self.train, self.originals

        def fit(model, data, epochs, batch_size, validation=True, stop=None):
            self._count_fit([model], data, batch_size, validation)
            return original["fit"](model, data, epochs, batch_size, validation, stop)

        def fit_per_seed(models, seeds, data, epochs, batch_size, validation=True, stop=None):
            self._count_fit(models, data, batch_size, validation)
            saved, train.fit = train.fit, original["fit"]  # fit_per_seed may call fit: count once
            try:
                return original["fit_per_seed"](models, seeds, data, epochs, batch_size, validation, stop)
            finally:
                train.fit = saved

        def evaluate(model, x, y, prefix, batch_size=512):
            if self.count:
                self.flops_once += forward_flops_per_example(model) * len(x)
            return original["evaluate"](model, x, y, prefix, batch_size)

        train.fit, train.fit_per_seed, train.evaluate = fit, fit_per_seed, evaluate
        return self

    def _count_fit(self, models, data, batch_size, validation):
        for model in models:
            forward = forward_flops_per_example(model) if self.count else None
            if self.count:
                self.flops_per_epoch += forward * (3 * len(data.y_train) + (len(data.y_val) if validation else 0))
            self.trained.append((model, data, batch_size, forward))
            if self.stop_at_first:
                raise FirstModel()

    def __exit__(self, *exc):
        for name, function in self.originals.items():
            setattr(self.train, name, function)


def arm_flops(experiment, cfg, arm, count: bool = True):
    """(FLOPs of one trial of `arm` at the profile's epochs, what one 1-epoch trial trained)."""
    from claimlab import config, train

    one_epoch = config.trial_config({**cfg, "epochs": 1}, experiment.arms[arm])
    with Recorder(count) as recorder:
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
    """In a fresh single-threaded process on `backend`: the steady-state FLOP/s of the trainings of `arms`
    (each training's forward FLOPs per example counted by the parent, in the order the trials train),
    timed once every process of the pool is ready (the barrier), so that side-by-side processes overlap."""
    name, profile, backend, arms, forwards, barrier, at_least = args
    from claimlab import backend as backend_module

    backend_module.use(backend)  # before Keras is imported
    from claimlab import config, registry, train

    train.prepare_process(1)
    experiment = registry.load(name)
    cfg = config.resolve(experiment, profile, {"backend": backend})
    trained = [record for arm in arms for record in arm_flops(experiment, cfg, arm, count=False)[1]]
    trained = [(model, data, batch_size, forward) for (model, data, batch_size, _), forward in zip(trained, forwards)]
    barrier.wait()
    return steady_flops_per_second(trained, cfg["epochs"], at_least)


def experiment_flops(name: str, profile: str):
    """(FLOPs of the experiment's trials at the profile, each arm's forward FLOPs per example of each of its
    1-epoch trainings, the profile's epochs). Counted on TensorFlow: the FLOPs of a model are the same on
    either backend, and TensorFlow's profiler reads them off the graph."""
    from claimlab import config, registry

    experiment = registry.load(name)
    cfg = config.resolve(experiment, profile, {"backend": "tensorflow"} if "tensorflow" in experiment.backends else None)
    total, forwards = 0.0, {}
    for arm in experiment.arms:
        flops, arm_trained = arm_flops(experiment, cfg, arm)
        total += flops * cfg["seeds"]
        forwards[arm] = [forward for *_, forward in arm_trained]
    return total, forwards, cfg.get("epochs", 1)


def in_workers(name: str, profile: str, backend: str, arms, forwards, jobs: int, at_least: float) -> list[float]:
    """The steady-state FLOP/s of `jobs` single-threaded processes on `backend` training `arms` at once."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(jobs)
        with context.Pool(jobs) as pool:
            return pool.map(_steady_rate_in_worker, [(name, profile, backend, arms, forwards, barrier, at_least)] * jobs)


def one_core_and_scaling(name: str, profile: str, backend: str, forwards: dict, jobs: int) -> tuple[float, float]:
    """One core's steady-state FLOP/s over all the experiment's trainings, and the cores' scaling on its
    first arm: `jobs` processes side by side against one alone (jobs x time alone / time side by side)."""
    every = [forward for arm in forwards for forward in forwards[arm]]
    one_core = in_workers(name, profile, backend, list(forwards), every, 1, 3.0)[0]
    first = next(iter(forwards))
    alone = in_workers(name, profile, backend, [first], forwards[first], 1, 10.0)[0]
    side_by_side = in_workers(name, profile, backend, [first], forwards[first], jobs, 10.0)
    return one_core, sum(side_by_side) / alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="an experiment, or all: one line each, then the suite's total")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--backend", choices=("jax", "tensorflow"),
                        help="time the kernels of this backend (default: each experiment's own; one that runs on "
                             "TensorFlow only stays there)")
    args = parser.parse_args()
    from claimlab import registry, train

    train.limit_threads(1)  # this process counts FLOPs on TensorFlow; the rates are timed in worker processes
    names = registry.names() if args.experiment == "all" else [args.experiment]
    suite = {"experiment": "all", "flops": 0.0, "floor": 0.0, "no_floor": []}
    for name in names:
        experiment = registry.load(name)
        backend = args.backend if args.backend in experiment.backends else experiment.backend
        total, forwards, _ = experiment_flops(name, args.profile)
        if not any(forwards.values()):
            print(json.dumps({"experiment": name, "backend": backend, "floor": None,
                              "why": "no train.fit to count: its own training loop, or nothing to train"}), flush=True)
            suite["no_floor"].append(name)
            continue
        forwards = {arm: values for arm, values in forwards.items() if values}
        one_core, scaling = one_core_and_scaling(name, args.profile, backend, forwards, args.jobs)
        floor = total / (one_core * scaling)
        print(json.dumps({"experiment": name, "backend": backend, "flops": total, "one_core_flops_per_s": one_core,
                          "scaling": scaling, "jobs": args.jobs, "floor": floor}), flush=True)
        suite["flops"] += total
        suite["floor"] += floor
        import keras

        keras.backend.clear_session()  # the next experiment starts from an empty Keras state
    if args.experiment == "all":
        print(json.dumps(suite))


if __name__ == "__main__":
    main()
