"""The Trainer: one model's trainable params and optimizer state, sharded on a mesh, updated by one
jitted step per batch shape (explicit shardings, donated state), saved and restored with Orbax."""

from __future__ import annotations

import jax
import orbax.checkpoint as ocp
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.training import checkpoints
from lightreasoner_jax.training.batches import TrainBatch
from lightreasoner_jax.training.loss import train_step
from lightreasoner_jax.training.optimizer import OptimConfig, learning_rate_schedule, make_optimizer

METHODS = ('lora', 'full')


def trainable_filter(method: str):
    """What `method` trains: the LoRA factors ('lora') or every parameter ('full')."""
    if method == 'lora':
        return nnx.LoRAParam
    if method == 'full':
        return nnx.Param
    raise ValueError(f"train.method must be one of {METHODS}, got {method!r}")


def load_trained_params(model, method: str, mesh, checkpoint_dir, config: checkpoints.CheckpointConfig =
                        checkpoints.CheckpointConfig()):
    """`model` (with its adapters when method is 'lora') with the trained params of the latest checkpoint
    in `checkpoint_dir`. Returns (model, step)."""
    graphdef, trainable, frozen = nnx.split(model, trainable_filter(method), ...)
    trainable = jax.device_put(trainable, shd.state_shardings(trainable, mesh))
    manager = checkpoints.checkpoint_manager(checkpoint_dir, config)
    step = manager.latest_step()
    if step is None:
        raise FileNotFoundError(f'{checkpoint_dir}: no training checkpoint; run the train stage')
    checkpoints.restore_items(manager, step, trainable)
    return nnx.merge(graphdef, trainable, frozen), step


class Trainer:
    """The jitted update of one model on a mesh: trainable params (LoRA factors or all params) and
    optimizer state live sharded on the device; `step` compiles once per batch shape."""

    def __init__(self, model, mesh: jax.sharding.Mesh, *, method: str, optim: OptimConfig, use_dropout: bool,
                 seed: int):
        self.mesh = mesh
        self.graphdef, trainable, frozen = nnx.split(model, trainable_filter(method), ...)
        self.trainable_shardings = shd.state_shardings(trainable, mesh)
        self.frozen_shardings = shd.state_shardings(frozen, mesh)
        self.trainable = jax.device_put(trainable, self.trainable_shardings)
        self.frozen = jax.device_put(frozen, self.frozen_shardings)
        self.tx, self.schedule = make_optimizer(optim), learning_rate_schedule(optim)
        with jax.set_mesh(mesh):
            self.opt_state = jax.jit(self.tx.init)(self.trainable)
        self.opt_shardings = jax.tree.map(lambda x: x.sharding, self.opt_state)
        self.use_dropout = use_dropout
        self.base_rng = jax.random.key(seed)
        self._compiled: dict = {}

    def _compiled_step(self, batch: TrainBatch):
        """The jitted step and batch shardings for this batch's shapes (rows over the batch axis; the
        few training positions replicated)."""
        key = tuple(x.shape for x in batch)
        if key not in self._compiled:
            mesh = self.mesh
            batch_shardings = TrainBatch(*(
                shd.logical_sharding(mesh, (None, 'batch' if name in TrainBatch.ROW_FIELDS else None)
                                     + (None,) * (x.ndim - 2), x.shape)
                for name, x in zip(TrainBatch._fields, batch)))
            fn = jax.jit(
                lambda t, o, f, b, s, r: train_step(self.graphdef, t, o, f, b, s, r, tx=self.tx,
                                                    schedule=self.schedule, use_dropout=self.use_dropout),
                in_shardings=(self.trainable_shardings, self.opt_shardings, self.frozen_shardings, batch_shardings,
                              shd.replicated(mesh), shd.replicated(mesh)),
                out_shardings=(self.trainable_shardings, self.opt_shardings, shd.replicated(mesh)),
                donate_argnums=(0, 1))
            self._compiled[key] = (fn, batch_shardings)
        return self._compiled[key]

    def step(self, batch: TrainBatch, step: int) -> dict:
        """One update with the batch of update number `step`; returns its metrics (device arrays)."""
        fn, shardings = self._compiled_step(batch)
        device_batch = TrainBatch(*(shd.put_global(x, s) for x, s in zip(batch, shardings)))
        with jax.set_mesh(self.mesh):
            self.trainable, self.opt_state, metrics = fn(self.trainable, self.opt_state, self.frozen, device_batch,
                                                         step, self.base_rng)
        return metrics

    @property
    def compiled_shapes(self) -> list[tuple]:
        return list(self._compiled)

    def model(self):
        """The model with the current trained params (LoRA, if any, still separate)."""
        return nnx.merge(self.graphdef, self.trainable, self.frozen)

    def save(self, manager: ocp.CheckpointManager, step: int, meta: dict, force: bool = False) -> None:
        """Checkpoint `step` (async unless the manager is synchronous): trained params, optimizer state, meta."""
        checkpoints.save(manager, step, self.trainable, self.opt_state, meta, force=force)

    def restore(self, manager: ocp.CheckpointManager, step: int, fingerprint: dict) -> None:
        """Continues from checkpoint `step`, which must have been written for the same `fingerprint`."""
        checkpoints.check_fingerprint(manager, step, fingerprint)
        self.opt_state = checkpoints.restore_items(manager, step, self.trainable, opt_state=self.opt_state)['opt_state']
