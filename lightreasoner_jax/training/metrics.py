"""Training metrics: JSON Lines, TensorBoard and optionally W&B, written by process 0."""

from __future__ import annotations

import json

from etils import epath

from lightreasoner_jax import json_lines
from lightreasoner_jax.scalar_writers import ScalarWriters, WandbConfig


class MetricsLog:
    """Rows of {'step', scalars...} appended to `path` (JSON Lines) and to TensorBoard events in
    `tensorboard_dir` (and the W&B run of `workdir` when `wandb.enabled`). On resume, lines past the restored
    step (recomputed after a kill) are dropped first. Disabled (every call a no-op) on processes other than 0."""

    def __init__(self, path, tensorboard_dir, resume_step: int, enabled: bool, *, wandb: WandbConfig | None = None,
                 workdir=None, run_config: dict | None = None):
        self.enabled = enabled
        if not enabled:
            return
        self.path = epath.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
        self.writers = ScalarWriters(tensorboard_dir, workdir=workdir if workdir is not None else self.path.parent,
                                     wandb=wandb, purge_step=resume_step + 1, run_config=run_config)

    def write(self, rows: list[dict]):
        if not self.enabled or not rows:
            return
        json_lines.append_lines(self.path, (json.dumps(row) for row in rows))  # object stores cannot append
        for row in rows:
            self.writers.scalars(row['step'], {f'train/{k}': v for k, v in row.items() if k != 'step'})

    def close(self):
        if self.enabled:
            self.writers.close()
