"""Config validation before any work: every field a stage will use is checked for type and range, and
every local path for existence, so a bad value is a one-line error naming the field, the value and what
is allowed, before a model is loaded (not minutes into sampling)."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from collections.abc import Callable

import jax.numpy as jnp

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.evaluation import KINDS, PRESETS, SUITES
from lightreasoner_jax.generation.prompt_batches import prefill_blocks_per_process
from lightreasoner_jax.models.projection import PROJECTIONS
from lightreasoner_jax.pipeline.variants import split_name
from lightreasoner_jax.training.batches import MODES
from lightreasoner_jax.training.objectives import OBJECTIVES
from lightreasoner_jax.training.trainer import METHODS

SCHEDULES = ('linear', 'cosine', 'constant')
AMATEUR_KINDS = ('model', 'early_exit', 'checkpoint', 'cross_tokenizer')  # pipeline/amateurs.py


class ConfigError(ValueError):
    """A config field has a value the run cannot use."""


@dataclasses.dataclass(frozen=True)
class Rule:
    field: str                       # dotted path under the config
    ok: Callable[[object], bool]
    allowed: str                     # what the message says is allowed


def _int(low: int) -> Callable:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _number(check: Callable[[float], bool]) -> Callable:
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and check(float(v))


def _one_of(choices) -> Callable:
    return lambda v: v in choices


def _dtype(v) -> bool:
    try:
        return bool(v) and jnp.issubdtype(jnp.dtype(v), jnp.floating)
    except TypeError:
        return False


_DTYPE = 'a float dtype name (float32, bfloat16, float16)'
RULES: dict[str, tuple[Rule, ...]] = {
    'expert': (Rule('expert.path', lambda v: isinstance(v, str) and bool(v), 'a checkpoint directory or hub id'),
               Rule('expert.dtype', _dtype, _DTYPE)),
    'amateur': (Rule('amateur.dtype', _dtype, _DTYPE),),  # amateur.path: _check_amateur (not for an early exit)
    'data': (Rule('data.source', lambda v: isinstance(v, str) and bool(v), 'a hub id, file, glob or toyworld:SPLIT'),
             Rule('data.limit', _int(0), 'an integer >= 0 (0: all)'),
             Rule('data.on_bad_row', _one_of(data_lib.ON_BAD_ROW_CHOICES), f'one of {data_lib.ON_BAD_ROW_CHOICES}')),
    'generation': (Rule('generation.max_new_tokens', _int(1), 'an integer >= 1'),
                   Rule('generation.temperature', _number(lambda v: v >= 0), 'a number >= 0 (0: greedy)'),
                   Rule('generation.top_k', _int(0), 'an integer >= 0 (0: off)'),
                   Rule('generation.top_p', _number(lambda v: 0 < v <= 1), 'a number in (0, 1]'),
                   Rule('generation.batch_size', _int(1), 'an integer >= 1'),
                   Rule('generation.bucket', _int(1), 'an integer >= 1'),
                   Rule('generation.max_prompt_shapes', _int(0), 'an integer >= 0 (0: no limit)')),
    'contrast': (Rule('contrast.alpha', _number(lambda v: 0 < v <= 1), 'a number in (0, 1]'),
                 Rule('contrast.beta', _number(lambda v: True), 'a number (-1 keeps every step)'),
                 Rule('contrast.top_k', _int(1), 'an integer >= 1'),
                 Rule('contrast.first_step', _int(0), 'an integer >= 0'),
                 Rule('contrast.chunk', _int(1), 'an integer >= 1')),
    'train': (Rule('train.objective', _one_of(tuple(OBJECTIVES)), f'one of {tuple(OBJECTIVES)}'),
              Rule('train.method', _one_of(METHODS), f'one of {METHODS}'),
              Rule('train.mode', _one_of(MODES), f'one of {MODES}'),
              Rule('train.positions_per_update', _int(1), 'an integer >= 1'),
              Rule('train.grad_accum', _int(1), 'an integer >= 1 that divides train.positions_per_update'),
              Rule('train.length_bucket', _int(1), 'an integer >= 1'),
              Rule('train.max_batch_shapes', _int(1), 'an integer >= 1'),
              Rule('train.compute_dtype', _dtype, _DTYPE),
              Rule('train.log_every', _int(1), 'an integer >= 1'),
              Rule('train.lora.targets', lambda v: bool(v) and all(t in PROJECTIONS for t in v),
                   f'a non-empty list of {PROJECTIONS}'),
              Rule('train.lora.rank', _int(1), 'an integer >= 1'),
              Rule('train.lora.alpha', _number(lambda v: v > 0), 'a number > 0'),
              Rule('train.lora.dropout', _number(lambda v: 0 <= v < 1), 'a number in [0, 1)'),
              Rule('train.optim.learning_rate', _number(lambda v: v > 0), 'a number > 0'),
              Rule('train.optim.schedule', _one_of(SCHEDULES), f'one of {SCHEDULES}'),
              Rule('train.optim.warmup_steps', _int(0), 'an integer >= 0'),
              Rule('train.optim.num_steps', _int(1), 'an integer >= 1'),
              Rule('train.optim.clip_norm', _number(lambda v: v > 0), 'a number > 0'),
              Rule('train.checkpoint.save_every', _int(1), 'an integer >= 1'),
              Rule('train.checkpoint.max_to_keep', _int(1), 'an integer >= 1')),
    'diagnose': (Rule('diagnose.limit', _int(1), 'an integer >= 1'),),
    'eval': (Rule('eval.kind', _one_of(KINDS), f'one of {KINDS}'),
             Rule('eval.max_new_tokens', _int(1), 'an integer >= 1'),
             Rule('eval.batch_size', _int(1), 'an integer >= 1'),
             Rule('eval.bucket', _int(1), 'an integer >= 1'),
             Rule('eval.max_prompt_shapes', _int(0), 'an integer >= 0 (0: no limit)'),
             Rule('eval.dtype', lambda v: v == '' or _dtype(v), f'empty (expert.dtype) or {_DTYPE}'),
             Rule('eval.data.source', lambda v: isinstance(v, str), 'a hub id, file, glob or toyworld:SPLIT'),
             Rule('eval.data.limit', _int(0), 'an integer >= 0 (0: all)')),
    'logging': (Rule('logging.wandb.enabled', lambda v: isinstance(v, bool), 'True or False'),
                Rule('logging.wandb.mode', lambda v: v in ('online', 'offline'), "'online' or 'offline'"),
                Rule('logging.wandb.project', lambda v: isinstance(v, str) and bool(v), 'a W&B project name')),
    'export': (Rule('export.dtype', lambda v: v == '' or _dtype(v), f'empty (expert.dtype) or {_DTYPE}'),
               Rule('export.shard_size', _int(1), 'a number of bytes >= 1')),
}


# The config sections each stage reads (its fingerprint may hold more: a train stage's outputs depend on
# the samples' settings, but a train-only run on given samples needs no amateur).
USED_SECTIONS: dict[str, tuple[str, ...]] = {
    'model_check': (),
    'eval_base': ('expert', 'eval', 'logging'),
    'sample': ('expert', 'amateur', 'data', 'generation', 'contrast', 'logging'),
    'diagnose': ('expert', 'amateur', 'data', 'contrast', 'diagnose'),
    'train': ('expert', 'train', 'logging'),
    'export': ('expert', 'train', 'export'),
    'eval': ('expert', 'train', 'eval', 'logging'),
    'report': (),
}


def _value(config, field: str):
    node = config
    for part in field.split('.'):
        if part not in node:
            raise ConfigError(f'config.{field} is missing (the stages {list(config.stages)} need it)')
        node = node[part]
    return node


def _check_local_path(field: str, value: str) -> None:
    """A path that looks local (absolute, ./, ~) must exist; anything else may be a hub id."""
    if value.startswith(('/', './', '../', '~')) and not os.path.exists(os.path.expanduser(value)):
        raise ConfigError(f'config.{field} = {value!r}: no such file or directory')


# Checked only when train.objective is 'rs_sft' (older configs have no train.rejection).
REJECTION_RULES = (Rule('train.rejection.samples_per_question', _int(1), 'an integer >= 1'),
                   Rule('train.rejection.temperature', _number(lambda v: v > 0), 'a number > 0'),
                   Rule('train.rejection.seed', _int(0), 'an integer >= 0'))


# Checked where present (configs written before these fields existed lack them).
OPTIONAL_RULES = (
    Rule('expert.stop_tokens', lambda v: isinstance(v, (tuple, list)) and all(isinstance(t, str) and t for t in v),
         'a tuple of token strings'),
    Rule('amateur.special_token_differences', lambda v: v in ('allow', 'refuse'), "'allow' or 'refuse'"),
    Rule('contrast.rescore', lambda v: isinstance(v, bool), 'True or False'),
    Rule('generation.prefill_groups', _int(1), 'an integer >= 1'),
    Rule('contrast.reference_compatible', lambda v: isinstance(v, bool), 'True or False'),
    Rule('contrast.generation_config', lambda v: isinstance(v, str),
         "a path to a generation_config.json, or '' for the expert's own"))


def _check_amateur(amateur) -> None:
    """amateur.kind, and what it needs: a path, or (early_exit) a layer count."""
    kind = amateur.get('kind', 'model')
    if kind not in AMATEUR_KINDS:
        raise ConfigError(f'config.amateur.kind = {kind!r}: must be one of {AMATEUR_KINDS}')
    if kind == 'early_exit':
        layers = amateur.get('layers', 0)
        if not _int(1)(layers):
            raise ConfigError(f"config.amateur.layers = {layers!r}: must be an integer >= 1 (the expert's first "
                              "layers that make the early-exit amateur)")
        return
    if not (isinstance(amateur.path, str) and amateur.path):
        raise ConfigError(f'config.amateur.path = {amateur.path!r}: must be a checkpoint directory or hub id')
    _check_local_path('amateur.path', amateur.path)
    if kind == 'cross_tokenizer':
        for field in ('top_m', 'max_continuation'):
            if not _int(1)(amateur.get(field, 0)):
                raise ConfigError(f'config.amateur.{field} = {amateur.get(field)!r}: must be an integer >= 1')


def _check_generation_config_file(contrast) -> None:
    """contrast.generation_config replaces the expert's generation_config.json, which only the reference-
    compatible mode reads: set without it, it would be silently ignored."""
    if not contrast.get('reference_compatible', False):
        raise ConfigError(f'config.contrast.generation_config = {contrast.generation_config!r}: only read with '
                          'contrast.reference_compatible=True')
    _check_local_path('contrast.generation_config', contrast.generation_config)


def used_sections(config) -> set[str]:
    """The config sections the configured stages read."""
    return {s for stage in config.stages for s in USED_SECTIONS[split_name(stage)[0]]}


def _check(config, rules) -> None:
    for rule in rules:
        value = _value(config, rule.field)
        if not rule.ok(value):
            raise ConfigError(f'config.{rule.field} = {value!r}: must be {rule.allowed}')


SUITE_RULES = (Rule('eval.samples', _int(0), 'an integer >= 0 (0: greedy pass@1 only)'),
               Rule('eval.sample_temperature', _number(lambda v: v > 0), 'a number > 0'),
               Rule('eval.limit', _int(0), 'an integer >= 0 (0: every row)'))


def _check_eval_sets(eval_config) -> None:
    """Either a question set (eval.data.source) or a suite (eval.benchmarks) whose names are presets, suites,
    or benchmarks given in eval.benchmark_options; pass@k's k within the samples taken."""
    names = tuple(eval_config.get('benchmarks') or ())
    if not names:
        if not eval_config.data.source:
            raise ConfigError("config.eval.data.source = '': must be a hub id, file, glob or toyworld:SPLIT "
                              '(or name benchmarks in config.eval.benchmarks)')
        return
    _check({'eval': eval_config}, [r for r in SUITE_RULES if r.field.split('.')[1] in eval_config])
    options = eval_config.get('benchmark_options') or {}
    for name in names:
        if name not in PRESETS and name not in SUITES and name not in options:
            raise ConfigError(f'config.eval.benchmarks: {name!r} is not a preset ({", ".join(PRESETS)}), a suite '
                              f'({", ".join(SUITES)}) or a benchmark defined in config.eval.benchmark_options')
    samples = eval_config.get('samples', 0)
    for k in eval_config.get('pass_k', ()) if samples else ():
        if not isinstance(k, int) or not 0 < k <= samples:
            raise ConfigError(f'config.eval.pass_k = {tuple(eval_config.pass_k)!r}: each k must be in 1..eval.samples '
                              f'({samples})')


def validate(config, processes: int = 1) -> None:
    """Raises ConfigError naming the first field (of the sections the configured stages use) that is wrong."""
    sections = used_sections(config)
    for section in sorted(sections & set(RULES) - ({'logging'} - set(config.keys()))):  # a config may omit logging
        _check(config, RULES[section])
    if 'train' in sections and config.train.positions_per_update % config.train.grad_accum:
        raise ConfigError(f'config.train.grad_accum = {config.train.grad_accum}: must divide '
                          f'config.train.positions_per_update ({config.train.positions_per_update})')
    if 'train' in sections and config.train.objective == 'random_steps' and config.train.min_kl < 0:
        raise ConfigError(f'config.train.min_kl = {config.train.min_kl}: must be >= 0 with objective '
                          "'random_steps' (the KL threshold whose number of steps per answer it draws)")
    if 'train' in sections and config.train.objective == 'rs_sft':
        _check(config, REJECTION_RULES)
    _check(config, [r for r in OPTIONAL_RULES if r.field.split('.')[0] in sections
                    and r.field.split('.')[1] in config[r.field.split('.')[0]]])
    if 'amateur' in sections:
        _check_amateur(config.amateur)
        if config.amateur.get('kind') == 'cross_tokenizer' and config.amateur.top_m < config.contrast.top_k:
            raise ConfigError(f'config.amateur.top_m = {config.amateur.top_m}: must be >= contrast.top_k '
                              f'({config.contrast.top_k}), the plausible tokens a record can hold')
        if config.amateur.get('kind') == 'cross_tokenizer' and 'diagnose' in {split_name(s)[0] for s in config.stages}:
            raise ConfigError("config.stages: the diagnose stage compares the models id by id; it does not run "
                              "with amateur.kind='cross_tokenizer'")
    if 'contrast' in sections and config.contrast.get('generation_config'):
        _check_generation_config_file(config.contrast)
    if 'eval' in sections:
        _check_eval_sets(config.eval)
    if not isinstance(config.get('compilation_cache_dir', ''), str):
        raise ConfigError(f'config.compilation_cache_dir = {config.compilation_cache_dir!r}: must be a path, '
                          "'' (the default) or 'off'")
    if 'generation' in sections and 'prefill_groups' in config.generation:
        try:
            prefill_blocks_per_process(config.generation.prefill_groups, config.generation.batch_size, processes)
        except ValueError as error:
            raise ConfigError(f'config.generation.prefill_groups = {config.generation.prefill_groups}: {error} '
                              f'(generation.batch_size {config.generation.batch_size})') from None
    for field in ('generation.batch_size', 'eval.batch_size'):
        if field.split('.')[0] in sections and _value(config, field) % processes:
            raise ConfigError(f'config.{field} = {_value(config, field)}: must be a multiple of the {processes} '
                              'processes')
    if 'logging' in sections and 'logging' in config and config.logging.wandb.enabled \
            and importlib.util.find_spec('wandb') is None:
        raise ConfigError('config.logging.wandb.enabled = True: needs the wandb package '
                          '(pip install "lightreasoner_jax[wandb]")')
    for field in ('expert.path', 'data.source', 'eval.data.source'):
        if field.split('.')[0] in sections:
            _check_local_path(field, str(_value(config, field)))
