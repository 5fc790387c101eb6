"""Seeds side by side on JAX: the seeds of one arm train through one jitted copy of Keras' own train step.

Keras' JAX trainer is stateless: `model.train_step(state, batch)` maps the model's variables (trainable,
non-trainable, optimizer, metrics) and a batch to new variables and the step's logs; `model.fit` runs it
under `jax.jit`, one model at a time, tracing it again for every model. Here the seeds' models (one arm:
one architecture) share one traced and compiled step, scanned over an epoch's batches:

- models without a convolution train as one `jax.vmap` over their stacked variables: every seed at once,
  each with its own initial weights, its own data order and its own dropout stream (the layers' seed
  generators are non-trainable variables, so each seed keeps its own). Measured on 2 cores: five MLP
  seeds in 0.57x the time of five separate fits.
- models with a convolution train one after the other through the same compiled step: XLA on the CPU
  runs a vmap of convolutions as grouped convolutions, and five conv trunks took 2.2x the time of five
  separate fits.

Bit-identical whatever the company. XLA computes a batched program element by element the same way for
any batch of two or more (measured on this CPU: a seed's weights after 5 epochs are bit-identical alone
among 2, 3, 5 or 10 seeds, in any position), but a batch of one differently. So a lone seed of a fused
arm trains as a batch of two copies of itself, and a seed's numbers never depend on which seeds shared
its batch; a resumed run, which groups the seeds otherwise, gives the same numbers (tests/test_backends.py).

Training to a plateau (an EarlyStop rule, claimlab.verdict) follows model.fit with claimlab.train's stopping
callback: after each epoch a seed whose monitored curve improved keeps a copy of its weights; a seed
stops once it has not improved for `patience` epochs. Side by side, a stopped seed's lane runs on until
every seed has stopped (the lanes are independent, so its kept weights and its curves, cut at its stop,
are those it would have alone); then each model gets its best epoch's weights.

An epoch follows model.fit: the metrics reset, a fresh shuffle (NumPy, seeded by the seed, one
permutation per epoch), batches of `batch_size` with a smaller last one, the epoch's logs those of its
last step (Keras' running means), then the validation split with the metrics reset again; the curves get
fit's names. The trained variables are written back into each model.
"""

from __future__ import annotations

import numpy as np

from claimlab.verdict import StopWatch

MIN_WIDTH = 2  # a vmap over one seed compiles differently: a lone seed trains beside a copy of itself


def fuses(models) -> bool:
    """Whether these models train as one vmap: not when any has a convolution (measured slower)."""
    names = {type(layer).__name__ for model in models for layer in model._flatten_layers()}
    return not any("Conv" in name or "LocallyConnected" in name for name in names)


def fit_per_seed(models, seeds, data, epochs: int, batch_size: int, validation: bool = True, stop=None):
    """Train each seed's model (see the module's docstring), its optimizer and metric variables already
    built (claimlab.train.fit_per_seed builds them), for `epochs` or until `stop` (an EarlyStop) ends it;
    the per-epoch curves of each, under Keras' names."""
    steps = Steps(models[0], side_by_side=fuses(models))
    for model in models:
        model._claimlab_steps = steps  # claimlab.train.evaluate then reuses its compiled test step
    if steps.side_by_side:
        width = max(MIN_WIDTH, len(models))
        padded = [*models, *[models[0]] * (width - len(models))]
        histories = steps.fit(padded, [*seeds, *[seeds[0]] * (width - len(seeds))], data, epochs, batch_size,
                              validation, keep=len(models), stop=stop)[:len(models)]
    else:
        histories = [steps.fit([model], [seed], data, epochs, batch_size, validation, stop=stop)[0]
                     for model, seed in zip(models, seeds)]
    return histories


class Steps:
    """Keras' train and test steps of one architecture, jitted once for all the arm's models. Side by side
    (no convolution): mapped over the seeds' stacked variables and scanned over an epoch's full batches
    (XLA runs a scan of dense layers 4x faster than one call per step: measured), then the last, smaller
    batch. One model at a time (convolutions): one call per batch, as model.fit makes them (XLA on the CPU
    runs convolutions inside a scan 8x slower: measured). Training steps reuse their input buffers
    (donated), as model.fit's do."""

    def __init__(self, template, side_by_side: bool):
        import jax

        self.template, self.side_by_side = template, side_by_side
        if side_by_side:
            self.train_scan = jax.jit(jax.vmap(self._scan(template.train_step)), donate_argnums=0)
            self.test_scan = jax.jit(jax.vmap(self._scan(template.test_step)))
            self.train_one = jax.jit(jax.vmap(template.train_step), donate_argnums=0)
            self.test_one = jax.jit(jax.vmap(template.test_step))
        else:
            self.train_one = jax.jit(template.train_step, donate_argnums=0)
            self.test_one = jax.jit(template.test_step)
        self.evaluate_one = jax.jit(template.test_step)  # one model at a time: evaluate

    @staticmethod
    def _scan(step):
        import jax

        def scan(state, xs, ys):
            def body(carry, batch):
                logs, carry = step(carry, batch)
                return carry, logs
            state, logs = jax.lax.scan(body, state, (xs, ys))
            return state, jax.tree_util.tree_map(lambda values: values[-1], logs)
        return scan

    def fit(self, models, seeds, data, epochs: int, batch_size: int, validation: bool,
            keep: int | None = None, stop=None) -> list[dict]:
        """Train `models` (all of them side by side, or the one) and return each one's raw Keras curves; the
        first `keep` models (default: all; the rest are padding) get their trained variables (with `stop`,
        those of each one's best epoch)."""
        import jax
        import jax.numpy as jnp

        def joined(states):  # the seeds' states as the steps take them (copies: training donates them)
            return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *states) if self.side_by_side \
                else jax.tree_util.tree_map(lambda leaf: jnp.array(leaf, copy=True), states[0])

        def epoch_batches(x, y, orders):
            """(xs, ys) of the full batches and (x, y) of the last one, stacked over seeds when side by side."""
            full = orders.shape[1] // batch_size * batch_size
            head = orders[:, :full].reshape(len(orders), -1, batch_size)
            tail = orders[:, full:]
            pick = (lambda a: a) if self.side_by_side else (lambda a: a[0])
            return ((pick(x[head]), pick(y[head])),
                    (pick(x[tail]), pick(y[tail])) if tail.shape[1] else None)

        rngs = [np.random.default_rng(seed) for seed in seeds]
        state = joined([_state(model) for model in models])
        metrics = joined([[v.value for v in model.metrics_variables] for model in models])
        reset = lambda: jax.tree_util.tree_map(jnp.zeros_like, metrics)  # noqa: E731  (fit resets them each epoch)
        histories = [{} for _ in models]
        best = _Best(stop, len(models), self.side_by_side)
        for epoch in range(epochs):
            orders = np.stack([rng.permutation(len(data.y_train)) for rng in rngs])
            state, logs = self._epoch(True, (*state[:3], reset()), epoch_batches(data.x_train, data.y_train, orders))
            _record(histories, logs, "", self.side_by_side)
            if validation:
                orders = np.tile(np.arange(len(data.y_val)), (len(models), 1))
                _, logs = self._epoch(False, (state[0], state[1], reset()), epoch_batches(data.x_val, data.y_val, orders))
                _record(histories, logs, "val_", self.side_by_side)
            if best.after_epoch(epoch, histories, state):
                break
        for i, model in enumerate(models[:keep]):
            _assign(model, best.weights(i, jax.tree_util.tree_map(lambda leaf: leaf[i], state)
                                        if self.side_by_side else state))
        return [best.cut(i, history) for i, history in enumerate(histories)]

    def _epoch(self, training: bool, state, batches):
        """One pass over an epoch's batches: the new state and the last step's logs."""
        import jax.numpy as jnp

        (xs, ys), tail = batches
        one = self.train_one if training else self.test_one
        if self.side_by_side:
            state, logs = (self.train_scan if training else self.test_scan)(state, jnp.asarray(xs), jnp.asarray(ys))
        else:
            for x, y in zip(xs, ys):
                logs, state = one(state, (jnp.asarray(x), jnp.asarray(y)))
        if tail is not None:
            logs, state = one(state, (jnp.asarray(tail[0]), jnp.asarray(tail[1])))
        return state, logs

    def evaluate(self, model, x, y, batch_size: int) -> dict[str, float]:
        """What model.evaluate returns for a model of this architecture, through the step compiled once for
        all the arm's models (model.evaluate traces its own for every model): the metrics reset, then
        batches of `batch_size` in order, the last step's logs."""
        import jax.numpy as jnp

        state = ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
                 [v.value for v in model.metrics_variables])
        state = (*state[:2], [jnp.zeros_like(value) for value in state[2]])  # the metrics reset
        logs = {}
        for start in range(0, len(y), batch_size):
            logs, state = self.evaluate_one(state, (jnp.asarray(x[start:start + batch_size]),
                                                    jnp.asarray(y[start:start + batch_size])))
        return {key: float(value) for key, value in logs.items()}


class _Best:
    """The early-stopping bookkeeping of each model of one fit (nothing to do without a `stop` rule): its
    StopWatch (claimlab.verdict), the epoch it stopped and its best epoch's weights (trainable and
    non-trainable, as model.get_weights keeps them)."""

    def __init__(self, stop, count: int, side_by_side: bool):
        self.stop, self.side_by_side = stop, side_by_side
        self.watches = [StopWatch(stop) for _ in range(count)] if stop else []
        self.stopped: list[int | None] = [None] * count
        self.kept = [None] * count  # per model: its best weights, or None before any improvement

    def after_epoch(self, epoch: int, histories: list[dict], state) -> bool:
        """Update each running model after `epoch`; True when every model has stopped."""
        import jax
        import jax.numpy as jnp

        if self.stop is None:
            return False
        name = keras_name(self.stop.monitor)
        for i, history in enumerate(histories):
            if self.stopped[i] is not None:
                continue
            if self.watches[i].update(history[name][-1]):
                weights = state[:2]
                if self.side_by_side:
                    weights = jax.tree_util.tree_map(lambda leaf, i=i: leaf[i], weights)
                self.kept[i] = jax.tree_util.tree_map(lambda leaf: jnp.array(leaf, copy=True), weights)
            if self.watches[i].done:
                self.stopped[i] = epoch
        return all(epoch is not None for epoch in self.stopped)

    def weights(self, i: int, final_state) -> tuple:
        """Model i's state to assign: its best epoch's weights with the final optimizer state."""
        if self.kept[i] is None:
            return final_state
        return (*self.kept[i], *final_state[2:])

    def cut(self, i: int, history: dict) -> dict:
        """Model i's curves up to the epoch it stopped (a side-by-side lane may have trained on)."""
        if self.stopped[i] is None:
            return history
        return {key: values[:self.stopped[i] + 1] for key, values in history.items()}


def keras_name(name: str) -> str:
    """Our metric name as Keras' logs have it: "val/loss" -> "val_loss", "train/accuracy" -> "accuracy"."""
    return "val_" + name[4:] if name.startswith("val/") else name.removeprefix("train/")


def _state(model) -> tuple:
    return ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables],
            [v.value for v in model.optimizer.variables], [v.value for v in model.metrics_variables])


def _record(histories, logs, prefix: str, side_by_side: bool) -> None:
    for key, value in logs.items():
        column = np.asarray(value).reshape(-1) if side_by_side else [np.asarray(value)]
        for history, entry in zip(histories, column):
            history.setdefault(prefix + key, []).append(float(entry))


def _assign(model, state) -> None:
    """Write one seed's trained variables back into its model, so it evaluates and measures as trained."""
    trainable, non_trainable, optimizer_variables, _ = state
    for variables, values in ((model.trainable_variables, trainable), (model.non_trainable_variables, non_trainable),
                              (model.optimizer.variables, optimizer_variables)):
        for variable, value in zip(variables, values):
            variable.assign(value)
