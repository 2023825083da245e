"""Config sections -> the library's dataclasses, in one way: `from_section(cls, section, **extra)` takes
every field of `cls` from the section field of the same name (lists become tuples), `extra` wins."""

from __future__ import annotations

import dataclasses

import jax

from lightreasoner_jax import data as data_lib
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.evaluation import EvalSettings
from lightreasoner_jax.generation import SamplingConfig, checkpoint_sampling
from lightreasoner_jax.models import LoraConfig, local_dir, stop_token_ids
from lightreasoner_jax.sampling import ContrastConfig
from lightreasoner_jax.sampling.cross_tokenizer import CrossTokenizerConfig
from lightreasoner_jax.scalar_writers import WandbConfig
from lightreasoner_jax.training import BatchConfig, CheckpointConfig, OptimConfig


def from_section(cls, section, **extra):
    values = {}
    for field in dataclasses.fields(cls):
        if field.name in extra:
            values[field.name] = extra[field.name]
        elif field.name in section:
            value = section[field.name]
            values[field.name] = tuple(value) if isinstance(value, (list, tuple)) else value
    return cls(**values)


def contrast(config) -> ContrastConfig:
    return from_section(ContrastConfig, config.contrast)


def cross_tokenizer(config) -> CrossTokenizerConfig:
    """The cross-tokenizer contrast's settings (amateur.top_m, amateur.max_continuation)."""
    return from_section(CrossTokenizerConfig, config.amateur)


def sampling(config) -> SamplingConfig:
    """config.generation's sampling; with contrast.reference_compatible, what the expert's generation_config.json
    makes transformers' `generate` do, or contrast.generation_config's file where set (config.generation.
    max_new_tokens still caps the answers)."""
    if config.contrast.get('reference_compatible', False):
        return checkpoint_sampling(local_dir(config.expert.path), config.generation.max_new_tokens,
                                   config.contrast.get('generation_config') or None)
    return from_section(SamplingConfig, config.generation)


def optim(config) -> OptimConfig:
    return from_section(OptimConfig, config.train.optim)


def lora(config) -> LoraConfig | None:
    """The LoRA settings, or None when train.method is 'full'."""
    return from_section(LoraConfig, config.train.lora) if config.train.method == 'lora' else None


def batching(config, mesh: jax.sharding.Mesh) -> BatchConfig:
    return from_section(BatchConfig, config.train, row_multiple=shd.batch_axis_size(mesh))


def checkpointing(config) -> CheckpointConfig:
    return from_section(CheckpointConfig, config.train.checkpoint)


def evaluation(config) -> EvalSettings:
    return from_section(EvalSettings, config.eval)


def questions(data_section) -> tuple[list[data_lib.Question], dict[str, int]]:
    """The questions of a `data`-like section (config.data, config.eval.data) and the load counts."""
    return from_section(data_lib.QuestionSource, data_section).load()


def wandb(config) -> WandbConfig | None:
    """config.logging.wandb, or None for configs without a logging section."""
    section = config.get('logging')
    return from_section(WandbConfig, section.wandb) if section is not None and 'wandb' in section else None


def stop_tokens(config) -> tuple[str, ...]:
    """config.expert.stop_tokens (configs written before it existed have none)."""
    return tuple(config.expert.get('stop_tokens', ()))


def stop_ids(config, tokenizer, model_config) -> tuple[int, ...]:
    """Where the expert's answers end: its EOS ids and the ids of config.expert.stop_tokens."""
    return stop_token_ids(config.expert.path, tokenizer, model_config, stop_tokens(config))
