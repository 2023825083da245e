"""Stage `train`: contrastive fine-tuning of the expert on the sample records.

Loss at each training position: KL(v || softmax(logits)), v the sparse soft target, logits over the
model's full vocabulary at the position that predicts completion[t]; an update's loss is the mean over
its positions (the reference's per-position `batchmean`). One jitted step per update with explicit
shardings and donated state; gradient accumulation is a scan over microbatches inside it. Orbax keeps
the trained params and optimizer state; the data position is the step (batches are a pure function
of it), and the PRNG is derived from (seed, step), so a restarted run continues exactly.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
import orbax.checkpoint as ocp
from absl import logging
from etils import epath
from flax import nnx

from lightreasoner_jax import samples as samples_lib
from lightreasoner_jax import sharding as shd
from lightreasoner_jax import train_data
from lightreasoner_jax.callable_module import make_callable
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.models.lora import LoraConfig, add_lora
from lightreasoner_jax.progress import Progress
from lightreasoner_jax.shape_plan import plan_shapes

OBJECTIVES = ('contrast', 'expert_only', 'all_steps', 'sft')


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    learning_rate: float = 5e-5
    schedule: str = 'linear'   # 'linear' (to 0, as HF Trainer), 'cosine' (to 0), 'constant'
    warmup_steps: int = 0
    num_steps: int = 1000
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    weight_decay: float = 0.0
    clip_norm: float = 1.0


def learning_rate_schedule(cfg: OptimConfig) -> optax.Schedule:
    decay_steps = max(cfg.num_steps - cfg.warmup_steps, 1)
    if cfg.schedule == 'linear':
        decay = optax.linear_schedule(cfg.learning_rate, 0.0, decay_steps)
    elif cfg.schedule == 'cosine':
        decay = optax.cosine_decay_schedule(cfg.learning_rate, decay_steps)
    elif cfg.schedule == 'constant':
        decay = optax.constant_schedule(cfg.learning_rate)
    else:
        raise ValueError(f"train.optim.schedule must be 'linear', 'cosine' or 'constant', got {cfg.schedule!r}")
    if not cfg.warmup_steps:
        return decay
    warmup = optax.linear_schedule(0.0, cfg.learning_rate, cfg.warmup_steps)
    return optax.join_schedules([warmup, decay], [cfg.warmup_steps])


def make_optimizer(cfg: OptimConfig) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(cfg.clip_norm),
                       optax.adamw(learning_rate_schedule(cfg), b1=cfg.b1, b2=cfg.b2, eps=cfg.eps,
                                   weight_decay=cfg.weight_decay))


def kl_to_targets(logits: jax.Array, target_ids: jax.Array, target_weights: jax.Array,
                  position_mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(sum over valid positions of KL(v || softmax(logits)), number of valid positions).

    logits [..., V] over the full vocabulary; v given sparsely by target_ids/target_weights [..., K].
    """
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    target_log_probs = jnp.take_along_axis(log_probs, target_ids, axis=-1)
    w = target_weights.astype(jnp.float32)
    kl = jnp.sum(jax.scipy.special.xlogy(w, w) - w * target_log_probs, axis=-1)
    mask = position_mask.astype(jnp.float32)
    return jnp.sum(kl * mask), jnp.sum(mask)


def batch_kl(model, batch: train_data.TrainBatch, dropout_rng) -> tuple[jax.Array, jax.Array]:
    """One microbatch: the forward, logits only at the training positions."""
    hidden, _ = model(batch.input_ids, batch.positions, batch.attention_mask, dropout_rng=dropout_rng)
    logits = model.logits(hidden[batch.position_row, batch.position_index])  # [P, V]: the head at P rows only
    return kl_to_targets(logits, batch.target_ids, batch.target_weights, batch.position_mask)


def train_step(graphdef, trainable, opt_state, frozen, batch: train_data.TrainBatch, step, base_rng, *,
               tx: optax.GradientTransformation, schedule: optax.Schedule, use_dropout: bool):
    """One update over batch's [A] microbatches; pure, jittable. Returns (trainable, opt_state, metrics)."""
    step_rng = jax.random.fold_in(base_rng, step)

    def microbatch_grads(carry, inputs):
        micro, index = inputs
        rng = jax.random.fold_in(step_rng, index) if use_dropout else None

        def total_kl(params):
            return batch_kl(nnx.merge(graphdef, params, frozen), micro, rng)

        (kl_sum, count), grads = jax.value_and_grad(total_kl, has_aux=True)(trainable)
        acc_kl, acc_count, acc_grads = carry
        return (acc_kl + kl_sum, acc_count + count, jax.tree.map(jnp.add, acc_grads, grads)), None

    zeros = jax.tree.map(jnp.zeros_like, trainable)
    num_micro = batch.input_ids.shape[0]
    (kl_sum, count, grads), _ = jax.lax.scan(microbatch_grads, (jnp.zeros(()), jnp.zeros(()), zeros),
                                             (batch, jnp.arange(num_micro)))
    denominator = jnp.maximum(count, 1.0)
    grads = jax.tree.map(lambda g: g / denominator, grads)
    updates, opt_state = tx.update(grads, opt_state, trainable)
    trainable = optax.apply_updates(trainable, updates)
    metrics = {'loss': kl_sum / denominator, 'grad_norm': optax.global_norm(grads), 'lr': schedule(step),
               'positions': count}
    return trainable, opt_state, metrics


# ---- the model to train ------------------------------------------------------------------------------

def trainable_filter(method: str):
    if method == 'lora':
        return nnx.LoRAParam
    if method == 'full':
        return nnx.Param
    raise ValueError(f"train.method must be 'lora' or 'full', got {method!r}")


def load_model_to_train(config, mesh):
    """The expert (params in param_dtype) with LoRA adapters when train.method is 'lora'."""
    model = load_hf(config.expert.path, mesh=mesh, dtype=config.train.compute_dtype,
                    param_dtype=config.expert.dtype)
    if config.train.method == 'lora':
        add_lora(model, lora_config(config), nnx.Rngs(config.train.seed))
    return model


def lora_config(config) -> LoraConfig:
    lora = config.train.lora
    return LoraConfig(targets=tuple(lora.targets), rank=lora.rank, alpha=lora.alpha, dropout=lora.dropout)


# ---- checkpoints -----------------------------------------------------------------------------------

class CheckpointMismatchError(ValueError):
    """The checkpoint directory holds a run of a different configuration or model."""


def checkpoint_manager(directory, cfg) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=cfg.max_to_keep, save_interval_steps=cfg.save_every,
                                           enable_async_checkpointing=cfg.async_save, create=True)
    return ocp.CheckpointManager(epath.Path(directory), options=options,
                                 item_names=('trainable', 'opt_state', 'meta'))


def _abstract(tree):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), tree)


def restore(manager: ocp.CheckpointManager, step: int, trainable, opt_state, fingerprint: dict):
    """(trainable, opt_state) of checkpoint `step`, placed as the live ones; clear errors on mismatch."""
    where = f'{manager.directory}/{step}'
    try:
        meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))['meta']
    except Exception as e:  # noqa: BLE001 - orbax raises many types for unreadable checkpoints
        raise CheckpointMismatchError(f'{where}: cannot read the checkpoint metadata ({e})') from e
    differing = {k: (meta.get('fingerprint', {}).get(k), v) for k, v in fingerprint.items()
                 if meta.get('fingerprint', {}).get(k) != v}
    if differing:
        details = '; '.join(f'{k}: checkpoint {a!r}, now {b!r}' for k, (a, b) in differing.items())
        raise CheckpointMismatchError(f'{where}: written by a different training configuration ({details}); '
                                      'use a new workdir or the original settings')
    restored = restore_items(manager, step, trainable, opt_state=opt_state)
    return trainable, restored['opt_state']


def restore_items(manager: ocp.CheckpointManager, step: int, trainable, **others) -> dict:
    """Restores `trainable` in place (placed as the live one) and the named `others` pytrees."""
    args = {'trainable': ocp.args.StandardRestore(_abstract(nnx.to_pure_dict(trainable)))}
    args.update({name: ocp.args.StandardRestore(_abstract(tree)) for name, tree in others.items()})
    try:
        restored = manager.restore(step, args=ocp.args.Composite(**args))
    except Exception as e:  # noqa: BLE001 - orbax raises many types for unreadable checkpoints
        raise CheckpointMismatchError(f'{manager.directory}/{step}: checkpoint does not match the model being '
                                      f'trained ({e})') from e
    nnx.replace_by_pure_dict(trainable, restored['trainable'])
    return restored


def save(manager: ocp.CheckpointManager, step: int, trainable, opt_state, meta: dict, force: bool = False):
    manager.save(step, args=ocp.args.Composite(trainable=ocp.args.StandardSave(nnx.to_pure_dict(trainable)),
                                               opt_state=ocp.args.StandardSave(opt_state),
                                               meta=ocp.args.JsonSave(meta)), force=force)


# ---- metrics ---------------------------------------------------------------------------------------

class MetricsLog:
    """JSON Lines (workdir/train/metrics.jsonl) and TensorBoard (workdir/train/tensorboard), process 0.
    On resume, lines past the restored step (recomputed after a kill) are dropped first."""

    def __init__(self, directory: epath.Path, resume_step: int, enabled: bool):
        self.enabled = enabled
        if not enabled:
            return
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / 'metrics.jsonl'
        kept = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    break  # a torn last line
                if row['step'] <= resume_step:
                    kept.append(line)
        self.path.write_text(''.join(line + '\n' for line in kept))
        from tensorboardX import SummaryWriter
        self.tensorboard = SummaryWriter(str(directory / 'tensorboard'), purge_step=resume_step + 1)

    def write(self, rows: list[dict]):
        if not self.enabled or not rows:
            return
        with self.path.open('a') as f:
            f.write(''.join(json.dumps(row) + '\n' for row in rows))
        for row in rows:
            for key, value in row.items():
                if key != 'step':
                    self.tensorboard.add_scalar(f'train/{key}', value, row['step'])
        self.tensorboard.flush()

    def close(self):
        if self.enabled:
            self.tensorboard.close()


# ---- the stage -------------------------------------------------------------------------------------

def load_training_records(config, workdir: epath.Path):
    """(records, weights_field, min_kl) for the configured objective."""
    cfg = config.train
    if cfg.objective not in OBJECTIVES:
        raise ValueError(f'train.objective must be one of {OBJECTIVES}, got {cfg.objective!r}')
    if cfg.objective == 'sft':
        from lightreasoner_jax import sft
        return sft.sft_records(config), 'target_weights', None
    records = samples_lib.read_samples(epath.Path(cfg.samples_dir) if cfg.samples_dir else workdir / 'samples')
    if cfg.objective == 'expert_only':
        return records, 'expert_weights', cfg.min_kl if cfg.min_kl >= 0 else None
    if cfg.objective == 'all_steps':
        return records, 'target_weights', None
    return records, 'target_weights', cfg.min_kl if cfg.min_kl >= 0 else None


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

    def _compiled_step(self, batch: train_data.TrainBatch):
        """The jitted step and batch shardings for this batch's shapes (rows over the batch axis; the
        few training positions replicated)."""
        key = tuple(x.shape for x in batch)
        if key not in self._compiled:
            mesh = self.mesh
            batch_shardings = train_data.TrainBatch(*(
                shd.logical_sharding(mesh, (None, 'batch' if name in train_data.TrainBatch.ROW_FIELDS else None)
                                     + (None,) * (x.ndim - 2), x.shape)
                for name, x in zip(train_data.TrainBatch._fields, batch)))
            fn = jax.jit(
                lambda t, o, f, b, s, r: train_step(self.graphdef, t, o, f, b, s, r, tx=self.tx,
                                                    schedule=self.schedule, use_dropout=self.use_dropout),
                in_shardings=(self.trainable_shardings, self.opt_shardings, self.frozen_shardings, batch_shardings,
                              shd.replicated(mesh), shd.replicated(mesh)),
                out_shardings=(self.trainable_shardings, self.opt_shardings, shd.replicated(mesh)),
                donate_argnums=(0, 1))
            self._compiled[key] = (fn, batch_shardings)
        return self._compiled[key]

    def step(self, batch: train_data.TrainBatch, step: int) -> dict:
        """One update with the batch of update number `step`; returns its metrics (device arrays)."""
        fn, shardings = self._compiled_step(batch)
        device_batch = train_data.TrainBatch(*(shd.put_global(x, s) for x, s in zip(batch, shardings)))
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


class UpdatePlan(NamedTuple):
    per_record: list          # training positions per record
    schedule: train_data.UpdateSchedule
    num_targets: int          # target slots K
    shapes: tuple             # the (rows, length) batch shapes the run compiles

    def batch(self, step: int, records, batching: train_data.BatchConfig) -> train_data.TrainBatch:
        return train_data.update_batches(self.schedule.positions(step), records, batching, self.num_targets,
                                         self.shapes)


def update_plan(records, weights_field: str, min_kl: float | None, batching: train_data.BatchConfig,
                num_steps: int) -> UpdatePlan:
    """What updates 0..num_steps-1 train on, and the few batch shapes that hold them all (a pure
    function of its arguments, so a resumed run pads and compiles as the first one did)."""
    per_record = train_data.training_positions(records, weights_field=weights_field, min_kl=min_kl)
    schedule = train_data.UpdateSchedule(per_record, batching.positions_per_update, batching.seed)
    needs = [train_data.update_shape(schedule.positions(step), records, batching) for step in range(num_steps)]
    shapes = plan_shapes(needs, batching.max_shapes) if needs else ()
    return UpdatePlan(per_record, schedule, train_data.max_targets(records, weights_field), shapes)


def train(model, records, mesh: jax.sharding.Mesh, *, method: str = 'lora', lora: LoraConfig | None = None,
          optim: OptimConfig = OptimConfig(), batching: train_data.BatchConfig = train_data.BatchConfig(),
          weights_field: str = 'target_weights', min_kl: float | None = None, seed: int = 0):
    """Fine-tunes `model` (a Transformer) on sample records in memory: no checkpoints, no files.

    records: sample records (see samples.py; `sft.sft_records` for ground-truth answers).
    method 'lora' adds `lora` adapters (default LoraConfig()) unless the model has some already;
    'full' trains every param. weights_field 'target_weights' is the contrastive target, 'expert_weights'
    the expert's own (w/o contrast); min_kl re-selects stored steps. Returns (model, metrics per update:
    dicts of floats loss, grad_norm, lr, positions). The trained model keeps LoRA separate
    (`models.lora.merge_lora` folds it in).
    """
    if method == 'lora' and not jax.tree.leaves(nnx.state(model, nnx.LoRAParam)):
        add_lora(model, lora or LoraConfig(), nnx.Rngs(seed))
    batching = dataclasses.replace(batching, row_multiple=shd.batch_axis_size(mesh))
    plan = update_plan(records, weights_field, min_kl, batching, optim.num_steps)
    dropout = method == 'lora' and (lora or LoraConfig()).dropout > 0
    trainer = Trainer(model, mesh, method=method, optim=optim, use_dropout=dropout, seed=seed)
    history = []
    for step in range(optim.num_steps):
        history.append(trainer.step(plan.batch(step, records, batching), step))
    return trainer.model(), [{k: float(v) for k, v in jax.device_get(m).items()} for m in history]


def run(config, workdir: epath.Path, mesh: jax.sharding.Mesh) -> dict:
    run_start = time.time()
    cfg = config.train
    optim = OptimConfig(**cfg.optim.to_dict())
    batching = train_data.BatchConfig(mode=cfg.mode, positions_per_update=cfg.positions_per_update,
                                      grad_accum=cfg.grad_accum, length_bucket=cfg.length_bucket, seed=cfg.seed,
                                      row_multiple=shd.batch_axis_size(mesh), max_shapes=cfg.max_batch_shapes)
    records, weights_field, min_kl = load_training_records(config, workdir)
    plan = update_plan(records, weights_field, min_kl, batching, optim.num_steps)
    per_record, schedule_of_updates = plan.per_record, plan.schedule
    logging.info('train: batch shapes (rows, length) %s', list(plan.shapes))

    model = load_model_to_train(config, mesh)
    trainer = Trainer(model, mesh, method=cfg.method, optim=optim, seed=cfg.seed,
                      use_dropout=cfg.method == 'lora' and cfg.lora.dropout > 0)

    fingerprint = {'expert': str(config.expert.path), 'method': cfg.method, 'objective': cfg.objective,
                   'mode': cfg.mode, 'seed': cfg.seed, 'positions_per_update': cfg.positions_per_update,
                   'lora': cfg.lora.to_dict() if cfg.method == 'lora' else None, 'training_positions':
                   schedule_of_updates.total}
    manager = checkpoint_manager(workdir / 'checkpoints', cfg.checkpoint)
    start = 0
    if manager.latest_step() is not None:
        start = manager.latest_step()
        trainer.trainable, trainer.opt_state = restore(manager, start, trainer.trainable, trainer.opt_state,
                                                       json.loads(json.dumps(fingerprint)))
        logging.info('train: resumed from step %d', start)
    process0 = jax.process_index() == 0
    log = MetricsLog(workdir / 'train', start, enabled=process0)

    stop = {'requested': False}
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: stop.update(requested=True))
    pending, last_log, tokens = [], time.time(), 0
    progress = Progress('train', optim.num_steps, 'step', enabled=process0, initial=start)
    step = start
    try:
        while step < optim.num_steps:
            batch = plan.batch(step, records, batching)
            metrics = trainer.step(batch, step)
            tokens += int(batch.attention_mask.sum())
            step += 1
            pending.append((step, metrics))
            if step % cfg.log_every == 0 or step == optim.num_steps or stop['requested']:
                now = time.time()
                rows = [{'step': s, **{k: float(v) for k, v in jax.device_get(m).items()}} for s, m in pending]
                for row in rows:
                    row['tokens_per_s'] = tokens / max(now - last_log, 1e-9)
                log.write(rows)
                progress.update(len(rows), loss=rows[-1]['loss'])
                pending, last_log, tokens = [], now, 0
            meta = {'step': step, 'seed': cfg.seed, 'fingerprint': fingerprint}
            preempted = manager.reached_preemption(step)
            if stop['requested'] or preempted:
                save(manager, step, trainer.trainable, trainer.opt_state, meta, force=True)
                manager.wait_until_finished()
                logging.warning('train: stopped at step %d by %s; checkpoint saved', step,
                                'SIGTERM' if stop['requested'] else 'preemption')
                raise SystemExit(143 if stop['requested'] else 0)
            save(manager, step, trainer.trainable, trainer.opt_state, meta, force=step == optim.num_steps)
        manager.wait_until_finished()
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        progress.close()
        log.close()
    return {'steps': step, 'resumed_from': start, 'training_positions': schedule_of_updates.total,
            'records_with_positions': sum(bool(p) for p in per_record),
            'positions_trained': step * batching.positions_per_update,  # every update has exactly that many
            'epochs': step / schedule_of_updates.updates_per_epoch, 'seconds_this_run': time.time() - run_start,
            'compiled_batch_shapes': len(trainer.compiled_shapes), 'batch_shapes': [list(x) for x in plan.shapes]}



make_callable(__name__)  # lightreasoner_jax.train(...) calls train() (callable_module.py)
