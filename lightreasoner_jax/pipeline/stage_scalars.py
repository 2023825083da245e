"""A stage's summary statistics (sampling kept rate, eval accuracy) to the same writers as the training curve."""

from __future__ import annotations

import json

from lightreasoner_jax.pipeline import settings
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.scalar_writers import ScalarWriters


def log_stage_summary(config, workdir: Workdir, tensorboard_dir, values: dict, step: int = 0) -> None:
    """Process 0 only: one TensorBoard point per value at `step` and the W&B run's summary fields."""
    numbers = {tag: float(v) for tag, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    writers = ScalarWriters(tensorboard_dir, workdir=workdir.root, wandb=settings.wandb(config),
                            run_config=json.loads(config.to_json_best_effort()))
    try:
        writers.summary(numbers, step=step)
    finally:
        writers.close()
