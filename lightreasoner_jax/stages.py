"""The pipeline's stages, and running them so that a workdir is never a silent mix of configs.

A stage name is 'name' (the main run, in workdir/) or 'name:variant' (the same stage with
`config.variants[variant]` applied, in workdir/variants/<variant>/; its training reads the main
run's samples unless the stages also sample for that variant). Every run of a stage leaves
  workdir/stages/<stage>.started.json   the config sections the stage depends on
  workdir/stages/<stage>.json           the same, with its result and wall time, once finished
A finished stage with the same config is skipped (its result is reused); a stage started or
finished under a different config is an error naming the fields that differ; a stage started
under the same config resumes (every stage resumes from its own partial outputs).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import jax
from etils import epath

from lightreasoner_jax import sharding as shd


class StageConfigMismatchError(ValueError):
    """The workdir holds a stage run under a different config."""


@dataclasses.dataclass(frozen=True)
class Stage:
    run: Callable            # (config, workdir, mesh) -> dict
    sections: tuple[str, ...]  # the config sections its outputs depend on


# Fields that change how a stage runs, not what it produces.
IGNORED_FIELDS = ('log_every', 'checkpoint', 'bucket', 'chunk')

_SAMPLE = ('expert', 'amateur', 'data', 'generation', 'contrast')


def stage_table() -> dict[str, Stage]:
    from lightreasoner_jax import evaluate, export, model_check, report, sampling, train
    return {
        'model_check': Stage(model_check.run, ('model_check',)),
        'eval_base': Stage(evaluate.run_base, ('expert', 'eval')),
        'sample': Stage(sampling.run, _SAMPLE),
        'train': Stage(train.run, _SAMPLE + ('train',)),
        'export': Stage(export.run, _SAMPLE + ('train', 'export')),
        'eval': Stage(evaluate.run_tuned, _SAMPLE + ('train', 'eval')),
        'report': Stage(report.run, ()),
    }


def split_name(stage: str) -> tuple[str, str | None]:
    name, _, variant = stage.partition(':')
    return name, variant or None


def check_stage_names(config, table: dict[str, Stage]) -> None:
    """Raises ValueError naming the first unknown stage or variant in config.stages."""
    unknown = [s for s in config.stages if split_name(s)[0] not in table]
    if unknown:
        raise ValueError(f'config.stages: unknown stage(s) {unknown}; available: {sorted(table)}')
    variants = config.get('variants') or {}
    missing = [s for s in config.stages if split_name(s)[1] and split_name(s)[1] not in variants]
    if missing:
        raise ValueError(f'config.stages: {missing} name variant(s) not in config.variants '
                         f'(defined: {sorted(variants)})')


def apply_overrides(config, overrides: dict):
    """A copy of config with {'a.b': v} or nested {'a': {'b': v}} overrides, each field checked to exist."""
    config = config.copy_and_resolve_references()
    flat = {}

    def flatten(prefix, value):
        if isinstance(value, dict) or hasattr(value, 'items') and not isinstance(value, (str, bytes)):
            for key, inner in value.items():
                flatten(f'{prefix}.{key}' if prefix else key, inner)
        else:
            flat[prefix] = value

    flatten('', dict(overrides))
    with config.unlocked():
        for key, value in flat.items():
            node = config
            *parents, field = key.split('.')
            for parent in parents:
                if parent not in node:
                    raise KeyError(f'override {key!r}: config has no field {parent!r}')
                node = node[parent]
            if field not in node:
                raise KeyError(f'override {key!r}: config has no field {field!r}')
            node[field] = type(node[field])(value) if isinstance(node[field], tuple) else value
    return config


def stage_context(config, workdir: epath.Path, stage: str):
    """(config, workdir) for a stage name: the variant's overrides and directory for 'name:variant'."""
    name, variant = split_name(stage)
    if variant is None:
        return config, workdir
    variant_dir = workdir / 'variants' / variant
    variant_config = apply_overrides(config, config.variants[variant].to_dict())
    if not variant_config.train.samples_dir and f'sample:{variant}' not in config.stages:
        with variant_config.unlocked():
            variant_config.train.samples_dir = str(workdir / 'samples')
    return variant_config, variant_dir


def record_path(workdir: epath.Path, stage: str, started: bool = False) -> epath.Path:
    """workdir/stages/<stage>[.started].json (':' of 'name:variant' written '@')."""
    return workdir / 'stages' / f'{stage.replace(":", "@")}{".started" if started else ""}.json'


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def stage_fingerprint(config, sections: tuple[str, ...]) -> dict:
    """The config sections a stage depends on, as plain JSON, without IGNORED_FIELDS."""
    def strip(tree):
        if isinstance(tree, dict):
            return {k: strip(v) for k, v in tree.items() if k not in IGNORED_FIELDS}
        return tree
    return {s: strip(_plain(config[s].to_dict() if hasattr(config[s], 'to_dict') else config[s]))
            for s in sections if s in config}


def differences(old, new, prefix: str = '') -> list[str]:
    """'field: old -> new' for every leaf that differs between two fingerprints."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += differences(old.get(key, '<absent>'), new.get(key, '<absent>'), f'{prefix}.{key}' if prefix else key)
        return out
    return [] if old == new else [f'{prefix}: {old!r} -> {new!r}']


def _check_same(path: epath.Path, fingerprint: dict, stage: str, state: str) -> dict | None:
    if not path.exists():
        return None
    recorded = json.loads(path.read_text())
    changed = differences(recorded['config'], fingerprint)
    if changed:
        raise StageConfigMismatchError(
            f'{path}: stage {stage!r} was {state} in this workdir with a different config '
            f'({"; ".join(changed[:8])}{"; ..." if len(changed) > 8 else ""}); use a new --workdir, '
            f'or remove its outputs and {path} to redo it')
    return recorded


RUN, SKIP, MISMATCH = 0, 1, 2


def _broadcast(decision: int) -> int:
    """Process 0's decision, on every process (a workdir may be visible to process 0 only)."""
    if jax.process_count() == 1:
        return decision
    import numpy as np
    from jax.experimental import multihost_utils
    return int(multihost_utils.broadcast_one_to_all(np.int32(decision)))


def run_stage(stage: str, config, workdir: epath.Path, mesh, table: dict[str, Stage]) -> tuple[dict, bool]:
    """Runs one stage unless it already finished under the same config. Returns (result, skipped)."""
    name, _ = split_name(stage)
    spec = table[name]
    stage_config, stage_dir = stage_context(config, workdir, stage)
    fingerprint = stage_fingerprint(stage_config, spec.sections)
    done_path, started_path = record_path(workdir, stage), record_path(workdir, stage, started=True)
    process0 = jax.process_index() == 0
    finished, mismatch = None, None
    if process0 and name != 'report':  # the report is cheap and reads everything: always redone
        try:
            finished = _check_same(done_path, fingerprint, stage, 'finished')
            if finished is None:
                _check_same(started_path, fingerprint, stage, 'started')
        except StageConfigMismatchError as err:
            mismatch = err
    decision = _broadcast(MISMATCH if mismatch else SKIP if finished is not None else RUN)
    if decision == MISMATCH:
        raise mismatch or StageConfigMismatchError(f'stage {stage!r}: process 0 found a config mismatch')
    if decision == SKIP:
        return (finished or {}).get('result', {}), True
    if process0:
        done_path.parent.mkdir(parents=True, exist_ok=True)
        stage_dir.mkdir(parents=True, exist_ok=True)
        started_path.write_text(json.dumps({'config': fingerprint}, indent=2))
    shd.sync(f'stage-start-{stage}')
    start = time.time()
    result = spec.run(stage_config, stage_dir, mesh) or {}
    shd.sync(f'stage-end-{stage}')
    if process0:
        done_path.write_text(json.dumps({'config': fingerprint, 'result': _plain(result),
                                         'seconds': time.time() - start, 'finished_at': time.time()}, indent=2))
    return result, False
