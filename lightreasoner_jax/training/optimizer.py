"""The optimizer: AdamW with global-norm clipping and a linear, cosine or constant learning-rate schedule
(linear decay to 0 is the HF Trainer's default, which the reference uses)."""

from __future__ import annotations

import dataclasses

import optax


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
