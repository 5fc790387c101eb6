"""Does each arm compute the same thing on JAX as on TensorFlow? A check of what "backend-neutral" promises.

    python benchmarks/backend_equivalence.py                      (every arm of every experiment on JAX)
    python benchmarks/backend_equivalence.py double_softmax ...   (some experiments)

For every arm of every experiment whose trials run on JAX, in a fresh TensorFlow process and then a fresh
JAX process: the arm's own trial starts (smoke profile, seed 0) and is stopped where it hands its first model
to claimlab.train.fit or fit_per_seed, so the model is the one the trial would train, built by the
experiment's own code. On the first training examples: its predictions, and its weights after three
train_on_batch steps (skipped for a model with a random layer: dropout draws differ between backends by
design). The JAX model first takes the TensorFlow model's initial weights, so both start from the same
numbers. Arms whose models differ only in their initial weights (bias_init's inits) are probed once.

Prints one row per probed arm: the largest difference of the predictions and of the weights after the
steps, relative to the values' size, and whether they agree within TOLERANCE. A benchmark, not a test
(all arms take minutes, most of it JAX compiling each arm's step); tests/test_backend_equivalence.py runs
it on two experiments.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = 32
STEPS = 3
TOLERANCE = 1e-4  # relative: float32 rounding, amplified a little by three optimizer steps
RANDOM_LAYERS = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
                 "AlphaDropout")


def first_model(experiment, arm: str):
    """The model the arm's own trial would train first (smoke profile, seed 0), untrained, and its data."""
    from claimlab import config, train
    from floor import FirstModel, Recorder  # benchmarks/floor.py: this script's folder is on sys.path

    cfg = config.trial_config(config.resolve(experiment, "smoke"), experiment.arms[arm])
    train.seed_everything(0)
    with Recorder(count=False, stop_at_first=True) as recorder:
        try:
            experiment.run_trial(arm, 0, cfg)
        except FirstModel:
            model, data, _, _ = recorder.trained[0]
            return model, data
    raise RuntimeError(f"{experiment.name}/{arm} trained no model through claimlab.train.fit or fit_per_seed")


def leaf_layers(layer) -> list:
    """A model's layers, with each nested model replaced by its own layers (no claimlab layer holds
    sublayers of its own, so these are all the layers that compute)."""
    children = getattr(layer, "layers", None)
    return [layer] if children is None else [leaf for child in children for leaf in leaf_layers(child)]


def layer_without_initial_values(layer) -> str:
    """A layer's type and configuration, less its name and its initializers: what two arms whose models
    differ only in their initial weights have in common."""
    try:
        kept = {key: value for key, value in layer.get_config().items()
                if key != "name" and "initializer" not in key}
    except NotImplementedError:  # a layer without a config: its type alone
        kept = {}
    return type(layer).__name__ + json.dumps(kept, sort_keys=True, default=str)


def loss_name(loss) -> str:
    if isinstance(loss, str):
        return loss
    return getattr(loss, "name", None) or getattr(loss, "__name__", type(loss).__name__)


def probe(out: str, names: list[str], weights_from: str | None) -> None:
    """In this process (one backend): every probed arm's initial weights, predictions and trained weights."""
    sys.path.insert(0, str(ROOT))
    from claimlab import registry

    saved = dict(np.load(weights_from)) if weights_from else {}
    measured, probed = {}, set()
    for name in names:
        experiment = registry.load(name)
        for arm in experiment.arms:
            model, data = first_model(experiment, arm)
            layers = leaf_layers(model)  # a nested model's own config would name its layers: left out
            same_model = (tuple(layer_without_initial_values(layer) for layer in layers),
                          tuple((tuple(variable.shape), variable.trainable) for variable in model.weights),
                          type(model.optimizer).__name__, loss_name(model.loss))
            if same_model in probed:
                continue
            probed.add(same_model)
            key = f"{name}/{arm}"
            weights = model.get_weights()
            if saved:
                weights = [saved[f"{key}/initial/{i}"] for i in range(len(weights))]
                model.set_weights(weights)
            x, y = data.x_train[:EXAMPLES], data.y_train[:EXAMPLES]
            measured.update({f"{key}/initial/{i}": np.asarray(w) for i, w in enumerate(weights)})
            measured[f"{key}/predictions"] = np.asarray(model.predict_on_batch(x))
            if not any(type(layer).__name__ in RANDOM_LAYERS for layer in layers):
                for _ in range(STEPS):
                    model.train_on_batch(x, y)
                measured.update({f"{key}/trained/{i}": np.asarray(w) for i, w in enumerate(model.get_weights())})
    np.savez(out, **measured)


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a)))) if a.size else 0.0


def compare(on_tensorflow: dict, on_jax: dict) -> list[dict]:
    """One row per probed arm: the largest relative difference of its predictions and of its trained weights
    (None where it has a random layer), and whether both are within TOLERANCE."""
    rows = []
    for key in sorted(k.rsplit("/", 1)[0] for k in on_tensorflow if k.endswith("/predictions")):
        predictions = relative_difference(on_tensorflow[f"{key}/predictions"], on_jax[f"{key}/predictions"])
        trained_keys = [k for k in on_tensorflow if k.startswith(f"{key}/trained/")]
        trained = max((relative_difference(on_tensorflow[k], on_jax[k]) for k in trained_keys), default=None)
        rows.append({"arm": key, "predictions": predictions, "trained": trained,
                     "same": predictions <= TOLERANCE and (trained is None or trained <= TOLERANCE)})
    return rows


def run(names: list[str]) -> list[dict]:
    """Probe `names` on TensorFlow, then on JAX from TensorFlow's initial weights, each in a fresh process."""
    with tempfile.TemporaryDirectory() as scratch:
        files = {backend: str(Path(scratch) / f"{backend}.npz") for backend in ("tensorflow", "jax")}
        for backend, extra in (("tensorflow", []), ("jax", ["--weights-from", files["tensorflow"]])):
            command = [sys.executable, __file__, "--probe", files[backend], *extra, *names]
            env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
            if done.returncode:
                raise RuntimeError(f"the {backend} probe failed: {done.stderr[-2000:]}")
        return compare(dict(np.load(files["tensorflow"])), dict(np.load(files["jax"])))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description="Does each arm compute the same on JAX as on TensorFlow?")
    parser.add_argument("experiments", nargs="*", help="experiment names (default: every one that runs on JAX)")
    parser.add_argument("--probe", metavar="OUT.npz", help=argparse.SUPPRESS)  # run() calls this per backend
    parser.add_argument("--weights-from", metavar="IN.npz", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        probe(args.probe, args.experiments, args.weights_from)
        return
    sys.path.insert(0, str(ROOT))
    from claimlab import registry

    names = args.experiments or [e.name for e in registry.load_all() if e.trains and e.backend == "jax"]
    rows = run(names)
    print("| arm | predictions, largest relative difference | weights after 3 steps | same |")
    print("|---|---|---|---|")
    for row in rows:
        trained = "(dropout: not compared)" if row["trained"] is None else f"{row['trained']:.1e}"
        print(f"| {row['arm']} | {row['predictions']:.1e} | {trained} | {'yes' if row['same'] else '**no**'} |")
    print(json.dumps({"arms": len(rows), "differ": [row["arm"] for row in rows if not row["same"]]}))


if __name__ == "__main__":
    main(sys.argv[1:])
