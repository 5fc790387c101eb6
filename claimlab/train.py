"""One trial's training: seed everything, fit with Keras, evaluate. No claim-specific code.

Speed on a laptop CPU: no per-batch Python callbacks (Keras' History already records per-epoch
metrics), verbose=0, and data held in memory as NumPy arrays.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import random
import sys
import warnings

import numpy as np

from claimlab import backend, jax_seeds
from claimlab.verdict import StopWatch

# Quiet TensorFlow's C++ banner before it is imported anywhere in this process.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Keras History names -> the metric names we log ("val_loss" -> "val/loss").
def history_name(keras_name: str) -> str:
    if keras_name.startswith("val_"):
        return "val/" + keras_name[4:]
    return "train/" + keras_name


@contextlib.contextmanager
def silenced(*fds: int, python_warnings: bool = False):
    """The given file descriptors (default: 1 and 2) to /dev/null for the block, and Python warnings off
    with `python_warnings=True`: TensorFlow's C++ code writes its notices straight to the descriptors,
    where no log level reaches them. Python errors still raise as usual."""
    fds = fds or (1, 2)
    sys.stdout.flush()
    sys.stderr.flush()
    saved, devnull = [os.dup(fd) for fd in fds], os.open(os.devnull, os.O_WRONLY)
    for fd in fds:
        os.dup2(devnull, fd)
    try:
        with warnings.catch_warnings():
            if python_warnings:
                warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, copy in zip(fds, saved):
            os.dup2(copy, fd)
        for fd in (*saved, devnull):
            os.close(fd)


def import_tensorflow():
    """Import TensorFlow with its C++ start-up notices (absl, oneDNN) kept off the terminal: they are
    written to file descriptor 2 before any log level applies."""
    if "tensorflow" not in sys.modules:
        with silenced(2):
            importlib.import_module("tensorflow")
    return sys.modules["tensorflow"]


def on_tensorflow() -> bool:
    """Whether this process's Keras runs on TensorFlow (else JAX: claimlab.backend)."""
    return backend.keras_backend_of_process() == backend.TENSORFLOW


def seed_everything(seed: int) -> None:
    """Same seed, same machine -> same numbers: Python, NumPy and Keras seeds; on TensorFlow also TF's seed
    and deterministic TF ops (XLA on the CPU, JAX's compiler, is deterministic as it is)."""
    import keras

    if on_tensorflow():
        import_tensorflow().config.experimental.enable_op_determinism()
        keras.utils.set_random_seed(seed)
        return
    # keras.utils.set_random_seed also seeds TensorFlow, importing it (seconds, and half a gigabyte in every
    # JAX worker) where it is installed; on JAX, everything else it does, through the same Keras internals.
    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError:  # a Keras that moved them: its own function, TensorFlow import and all
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)


def prepare_process(threads: int) -> None:
    """Before this process trains anything: TensorFlow on `threads` threads and GPU memory growth, or
    JAX's compilation cache (JAX got its one thread from claimlab.backend.use, before it was imported)."""
    if on_tensorflow():
        limit_threads(threads)
        use_gpu_memory_growth()
    else:
        backend.configure_jax()


def limit_threads(threads: int) -> None:
    """Run this process's TensorFlow ops on `threads` threads. Must come before TF starts its runtime;
    afterwards TF refuses, and the process keeps what it has."""
    tf = import_tensorflow()

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass


def build_per_seed(seeds, build) -> list:
    """`build(seed)` for each seed, each right after seeding everything with that seed: the models (and
    whatever else `build` returns) that the seeds' trials would each build alone."""
    built = []
    for seed in seeds:
        seed_everything(seed)
        built.append(build(seed))
    return built


def use_gpu_memory_growth() -> list:
    """The GPUs TensorFlow sees, each set to take memory as it needs it rather than all at start, so that
    several workers (and the runner) can share a GPU. Must come before TF starts its runtime."""
    tf = import_tensorflow()
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # the runtime already started: the process keeps what it has
            pass
    return gpus


def fit(model, data, epochs: int, batch_size: int, validation: bool = True,
        stop=None) -> dict[str, list[float]]:
    """model.fit on the dataset's training split for `epochs`, or until `stop` (a claimlab.verdict.EarlyStop)
    ends it with the weights of the best epoch; returns per-epoch curves under our metric names."""
    build_state(model, data.x_train[:1], data.y_train[:1])
    history = model.fit(
        data.x_train, data.y_train,
        validation_data=(data.x_val, data.y_val) if validation else None,
        epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
        callbacks=[stop_callback(stop)] if stop else None,
    )
    return {history_name(k): [float(v) for v in values] for k, values in history.history.items()}


def stop_callback(stop):
    """A Keras callback (once per epoch, never per batch) that applies the EarlyStop rule `stop` as
    claimlab.jax_seeds applies it to seeds side by side: stop after `patience` epochs without improvement,
    then restore the weights kept at the best epoch."""
    import keras

    monitor = jax_seeds.keras_name(stop.monitor)

    class StopAtPlateau(keras.callbacks.Callback):
        watch, kept = StopWatch(stop), None

        def on_epoch_end(self, epoch, logs=None):
            if self.watch.update(float(logs[monitor])):
                self.kept = self.model.get_weights()
            self.model.stop_training = self.watch.done

        def on_train_end(self, logs=None):
            if self.kept is not None:
                self.model.set_weights(self.kept)

    return StopAtPlateau()


def evaluate(model, x, y, prefix: str, batch_size: int = 512) -> dict[str, float]:
    """Loss and compiled metrics on (x, y), named prefix/loss, prefix/accuracy, ...; a model its arm's seeds
    trained on JAX (claimlab.jax_seeds) evaluates through their shared compiled test step."""
    steps = getattr(model, "_claimlab_steps", None)
    if steps is not None:
        return {f"{prefix}/{name}": value for name, value in steps.evaluate(model, x, y, batch_size).items()}
    build_state(model, x[:1], y[:1])
    results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {f"{prefix}/{name}": float(value) for name, value in results.items()}


def build_state(model, x, y) -> None:
    """Create a compiled model's optimizer and metric variables now, from one batch's shapes (x, y).

    Keras on TensorFlow defers them to the first traced train or test step, and TensorFlow traces a
    step that creates variables twice: once to create them, once to run. Built first, each step traces
    once, which halves what is most of a small trial's overhead on this CPU. The variables start as
    they would (zeros), so the numbers do not change. Keras' own build step is internal: a Keras without
    it keeps the double trace."""
    build = getattr(model, "_symbolic_build", None)
    if build is not None:
        build(data_batch=(x, y))


def chain_gradients(model, x, loss_of_output, weights: bool = False) -> dict:
    """One forward and one backward pass, in inference mode, through a model whose layers form one chain
    (input -> layer -> ... -> output), on this process's backend (TensorFlow's GradientTape, or JAX's
    autodiff: each backend's own numbers). Returns the loss, each layer's output (`outputs`, by layer name),
    d loss / d that output (`output_gradients`), and with `weights` d loss / d each trainable weight
    (`weight_gradients`, in model.trainable_weights order). For probes of gradient scale in trials that
    run on either backend."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]

    def forward(offsets):
        outputs, h = [], x
        for layer, offset in zip(layers, offsets):
            h = layer(h, training=False) + offset  # the offsets are zeros: d loss / d offset = d loss / d output
            outputs.append(h)
        return loss_of_output(h), outputs

    if on_tensorflow():
        tf = import_tensorflow()
        # tf.zeros_like rather than keras.ops: Keras 2 (tf-keras, `--keras 2`) has no keras.ops
        zeros = [tf.zeros_like(output) for output in forward([0.0] * len(layers))[1]]
        with tf.GradientTape() as tape:
            tape.watch(zeros)
            loss, outputs = forward(zeros)
        gradients = tape.gradient(loss, [*zeros, *(model.trainable_weights if weights else [])])
        # an embedding's gradient is sparse (IndexedSlices); JAX's is dense: make them alike
        gradients = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in gradients]
    else:
        import jax

        zeros = [keras.ops.zeros_like(output) for output in forward([0.0] * len(layers))[1]]
        variables = model.trainable_variables

        def loss_and_outputs(offsets, values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                return forward(offsets)

        (loss, outputs), (offset_grads, weight_grads) = jax.value_and_grad(loss_and_outputs, argnums=(0, 1),
                                                                           has_aux=True)(zeros, [v.value for v in variables])
        gradients = [*offset_grads, *(weight_grads if weights else [])]
    names = [layer.name for layer in layers]
    result = {"loss": float(loss), "outputs": dict(zip(names, outputs)),
              "output_gradients": dict(zip(names, gradients[:len(layers)]))}
    if weights:
        result["weight_gradients"] = gradients[len(layers):]
    return result


def diverged(history: dict[str, list[float]]) -> bool:
    """A NaN or infinite training loss: recorded as a result, not raised as a crash."""
    return any(not math.isfinite(v) for v in history.get("train/loss", []))


def count_params(model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# ---- seeds side by side ---------------------------------------------------------------------------
# Fused seeds: the models of one arm's seeds train as the towers of one Keras model, with one optimizer
# step for all of them per batch. Nothing is shared between towers but the step: each tower keeps its own
# initial weights, its own data order (Keras' own shuffle, seeded by the tower's seed exactly as
# model.fit seeds it) and its own dropout masks (each layer's seed generator, made when the seed's model
# was built). The summed loss gives each tower exactly its own gradient (d sum / d loss_i = 1), and Adam
# updates each variable alone, so a tower is bit-identical to its seed trained alone:
# tests/test_fused_seeds.py checks every metric and per-epoch curve for equality. On this 2-core CPU
# 5 fused towers take 0.90-0.97x the time of 5 separate fits: these models are compute-bound, and only
# the per-step dispatch is shared (a fused graph traces as long as its towers would one by one).

def fit_per_seed(models, seeds, data, epochs: int, batch_size: int,
                 validation: bool = True, stop=None) -> list[dict[str, list[float]]]:
    """Train each seed's model (built with `build_per_seed`) for `epochs` or until `stop` (an EarlyStop)
    ends it, side by side as the towers of one Keras model; the per-epoch curves of each, under the same
    names `fit` gives them.

    One model trains alone with `fit`. Models that cannot be fused (several inputs or outputs, or
    Keras internals this code does not know) train one after the other, each as `fit` trains it, and so
    do models that stop at a plateau on TensorFlow (towers stop together; fusing them saved under 10%)."""
    if not on_tensorflow():
        for model in models:
            build_state(model, data.x_train[:1], data.y_train[:1])
        return [{history_name(key): values for key, values in history.items()}
                for history in jax_seeds.fit_per_seed(models, seeds, data, epochs, batch_size, validation, stop)]
    tf = import_tensorflow()
    fused = _fuse(models, seeds, data, batch_size) if len(models) > 1 and stop is None else None
    if fused is None:
        histories = []
        for model, seed in zip(models, seeds):
            tf.random.set_seed(seed)  # the data order fit would have after seeding with `seed`
            histories.append(fit(model, data, epochs, batch_size, validation, stop))
        return histories
    towers, batches = fused
    k = len(models)
    history = towers.fit(batches, epochs=epochs, verbose=0, shuffle=False,  # the batches come shuffled
                         validation_data=(tuple([data.x_val] * k), tuple([data.y_val] * k)) if validation else None)
    return [_tower_history(history.history, i) for i in range(k)]


def _fuse(models, seeds, data, batch_size: int):
    """The towers model and its training batches, or None when these models cannot be fused."""
    tf = import_tensorflow()
    try:  # Keras' own shuffling of NumPy arrays, so each tower sees the order fit would give its seed
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
    except ImportError:  # a Keras that moved it: train one after the other, still exact
        return None
    batches = []
    for seed in seeds:
        tf.random.set_seed(seed)  # model.fit builds its shuffled dataset under the trial's seed
        batches.append(ArrayDataAdapter(data.x_train, data.y_train, batch_size=batch_size,
                                        shuffle=True).get_tf_dataset())
    steps = -(-len(data.y_train) // batch_size)
    batches = (tf.data.Dataset.zip(tuple(batches))
               .map(lambda *pairs: (tuple(x for x, _ in pairs), tuple(y for _, y in pairs)))
               .apply(tf.data.experimental.assert_cardinality(steps)))

    towers = _towers(models)
    if towers is None:
        return None
    build_state(towers, tuple([data.x_train[:1]] * len(models)), tuple([data.y_train[:1]] * len(models)))
    return towers, batches


def _towers(models):
    """One Keras model whose towers are `models` (the same layers and weights), compiled as they are, each
    tower with its own loss and metrics; None when these models cannot be fused."""
    import keras

    if any(len(m.inputs) != 1 or len(m.outputs) != 1 for m in models):
        return None
    compiled = models[0].get_compile_config()
    if not isinstance(compiled.get("loss"), (str, dict)):
        return None  # several losses, or none: not a model this code fuses
    deserialize = lambda spec, kind: kind.deserialize(spec) if isinstance(spec, dict) else spec
    inputs = [keras.Input(shape=m.inputs[0].shape[1:], dtype=m.inputs[0].dtype) for m in models]
    # A plain functional copy of each model (the same layers and weights) under a unique name; the
    # identity layer names the output, and so the metrics: tower0_accuracy, val_tower0_loss, ...
    outputs = [keras.layers.Identity(name=f"tower{i}")(keras.Model(m.inputs, m.outputs, name=f"seed_{i}")(x))
               for i, (m, x) in enumerate(zip(models, inputs))]
    towers = keras.Model(inputs, outputs, name="fused_seeds")
    towers.compile(
        optimizer=keras.optimizers.deserialize(compiled["optimizer"]),
        loss=[deserialize(compiled["loss"], keras.losses) for _ in models],
        metrics=[[*(deserialize(spec, keras.metrics) for spec in compiled.get("metrics") or []),
                  _tower_loss_metric(m)] for m in models],
        jit_compile=compiled.get("jit_compile", "auto"),
    )
    return towers


def evaluate_per_seed(models, batch_size: int = 512):
    """A function (x, y, prefix) -> [evaluate(model, x, y, prefix) for each model], bit-identical to those
    calls, that runs the models side by side as the towers of one Keras model: one call of evaluate and
    one traced test step for all of them instead of one of each per model (on this CPU, tracing and a
    call's set-up cost a small model more than its evaluation). Models that cannot be fused are
    evaluated one by one."""
    towers = _towers(models) if len(models) > 1 and on_tensorflow() else None
    if towers is None:
        return lambda x, y, prefix: [evaluate(model, x, y, prefix, batch_size) for model in models]

    def evaluate_all(x, y, prefix):
        k = len(models)
        build_state(towers, tuple([x[:1]] * k), tuple([y[:1]] * k))
        results = towers.evaluate(tuple([x] * k), tuple([y] * k), batch_size=batch_size, verbose=0, return_dict=True)
        return [{f"{prefix}/{key[len(f'tower{i}_'):]}": float(value)  # tower3_accuracy -> prefix/accuracy
                 for key, value in results.items() if key.startswith(f"tower{i}_")} for i in range(k)]
    return evaluate_all


def _tower_history(history: dict, index: int) -> dict[str, list[float]]:
    """Tower `index`'s curves out of the fused model's history, renamed as `fit` names them."""
    prefix, curves = f"tower{index}_", {}
    for key, values in history.items():
        validation = key.startswith("val_")
        name = key[4:] if validation else key
        if name.startswith(prefix):
            curves[history_name(("val_" if validation else "") + name[len(prefix):])] = [float(v) for v in values]
    return curves


def _tower_loss_metric(model):
    """A tower's loss as model.fit reports a single model's "loss": the model's own compute_loss (its
    compiled loss plus its regularisation), averaged over the epoch weighted by each batch's size."""
    import keras

    tf = import_tensorflow()

    class TowerLoss(keras.metrics.Mean):
        def update_state(self, y_true, y_pred, sample_weight=None):
            loss = compute_loss(y=y_true, y_pred=y_pred)
            return super().update_state(loss, sample_weight=tf.shape(y_pred)[0])

    # A closure, not an attribute: a metric tracks the variables of what it holds, and resets them.
    compute_loss = model.compute_loss
    return TowerLoss(name="loss")
