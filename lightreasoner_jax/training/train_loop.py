"""`train`: fine-tuning in memory, for researchers' own scripts (the train stage adds checkpoints,
metrics files and preemption handling around the same Trainer and update plan)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models.lora import LoraConfig, add_lora
from lightreasoner_jax.sampling.records import SampleRecord
from lightreasoner_jax.training.batches import BatchConfig
from lightreasoner_jax.training.objectives import objective as objective_named
from lightreasoner_jax.training.optimizer import OptimConfig
from lightreasoner_jax.training.plan import update_plan
from lightreasoner_jax.training.trainer import Trainer


def train(model, records: Sequence[SampleRecord], mesh: jax.sharding.Mesh, *, method: str = 'lora',
          lora: LoraConfig | None = None, optim: OptimConfig = OptimConfig(), batching: BatchConfig = BatchConfig(),
          objective: str = 'contrast', min_kl: float | None = None, seed: int = 0):
    """Fine-tunes `model` (a Transformer) on sample records in memory: no checkpoints, no files.

    records: `SampleRecord`s (from `sample`, `read_samples`, or `training.sft.sft_records` for
    ground-truth answers). method 'lora' adds `lora` adapters (default LoraConfig()) unless the model
    has some already; 'full' trains every param. objective: a name in `training.OBJECTIVES` ('contrast',
    'expert_only' for the expert's own target, 'all_steps', 'sft'); min_kl re-selects stored steps.
    Returns (model, metrics per update: dicts of floats loss, grad_norm, lr, positions). The trained
    model keeps LoRA separate (`models.lora.merge_lora` folds it in).
    """
    if method == 'lora' and not jax.tree.leaves(nnx.state(model, nnx.LoRAParam)):
        add_lora(model, lora or LoraConfig(), nnx.Rngs(seed))
    batching = dataclasses.replace(batching, row_multiple=shd.batch_axis_size(mesh))
    plan = update_plan(records, objective_named(objective), min_kl, batching, optim.num_steps)
    dropout = method == 'lora' and (lora or LoraConfig()).dropout > 0
    trainer = Trainer(model, mesh, method=method, optim=optim, use_dropout=dropout, seed=seed)
    history = []
    for step in range(optim.num_steps):
        history.append(trainer.step(plan.batch(step, records, batching), step))
    return trainer.model(), [{k: float(v) for k, v in jax.device_get(m).items()} for m in history]
