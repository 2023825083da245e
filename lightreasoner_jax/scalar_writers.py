"""Scalars to TensorBoard and, optionally, Weights & Biases: training curves by step, and a stage's summary
statistics (sampling kept rate, eval accuracy) as one point each. Written by process 0 only.

A W&B run's id is derived from the workdir, so every stage and every resumed start of one workdir logs
into the same W&B run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile

from etils import epath

WANDB_MODES = ('online', 'offline')


@dataclasses.dataclass(frozen=True)
class WandbConfig:
    enabled: bool = False
    project: str = 'lightreasoner_jax'
    entity: str = ''          # empty: the account's default
    mode: str = 'online'      # 'offline': files under dir only, upload later with `wandb sync`
    run_id: str = ''          # empty: derived from the workdir
    dir: str = ''             # empty: the workdir when local, else a temporary directory

    def __post_init__(self):
        if self.mode not in WANDB_MODES:
            raise ValueError(f'wandb mode must be one of {WANDB_MODES}, got {self.mode!r}')


def wandb_run_id(workdir) -> str:
    return 'lr-' + hashlib.sha256(os.fspath(workdir).encode()).hexdigest()[:16]


class ScalarWriters:
    """TensorBoard events in `tensorboard_dir` (a purge_step drops events a resumed run recomputes) and the
    W&B run of `workdir` when `wandb.enabled`."""

    def __init__(self, tensorboard_dir, *, workdir, wandb: WandbConfig | None = None, purge_step: int | None = None,
                 run_config: dict | None = None):
        from tensorboardX import SummaryWriter
        self.tensorboard = SummaryWriter(os.fspath(tensorboard_dir), purge_step=purge_step)
        self.wandb_run = None
        if wandb is not None and wandb.enabled:
            self.wandb_run = _open_wandb(wandb, workdir, run_config)

    def _tensorboard_points(self, step: int, values: dict[str, float]) -> None:
        for tag, value in values.items():
            self.tensorboard.add_scalar(tag, value, step)
        self.tensorboard.flush()

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """A point of each curve at `step` (tags like 'train/loss')."""
        self._tensorboard_points(step, values)
        if self.wandb_run is not None:
            self.wandb_run.log(dict(values), step=step)

    def summary(self, values: dict[str, float], step: int = 0) -> None:
        """A stage's totals: one TensorBoard point at `step`; W&B run summary fields (no step, so they never
        collide with the training curve's steps)."""
        self._tensorboard_points(step, values)
        if self.wandb_run is not None:
            self.wandb_run.summary.update(dict(values))

    def close(self) -> None:
        self.tensorboard.close()
        if self.wandb_run is not None:
            self.wandb_run.finish()


def _open_wandb(config: WandbConfig, workdir, run_config: dict | None):
    import wandb
    directory = config.dir or (os.fspath(workdir) if '://' not in os.fspath(workdir)
                               else os.path.join(tempfile.gettempdir(), 'lightreasoner_wandb'))
    epath.Path(directory).mkdir(parents=True, exist_ok=True)
    return wandb.init(project=config.project, entity=config.entity or None, mode=config.mode, dir=directory,
                      id=config.run_id or wandb_run_id(workdir), resume='allow', config=run_config,
                      reinit='finish_previous', settings=wandb.Settings(quiet=True))
