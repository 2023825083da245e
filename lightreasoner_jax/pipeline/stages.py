"""The pipeline's stages, and running them so that a workdir is never a silent mix of configs.

A stage name is 'name' (the main run, in the workdir) or 'name:variant' (the same stage with
`config.variants[variant]` applied, in the workdir's variants/<variant>/; its training reads the main
run's samples unless the stages also sample for that variant). Every run of a stage leaves two records
(Workdir.stage_record): the config fingerprint when it starts, and the same with its result and wall
time once finished. A finished stage with the same config is skipped (its result is reused); a stage
started or finished under a different config is an error naming the fields that differ; a stage
started under the same config resumes (every stage resumes from its own partial outputs).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import jax

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.differences import differences
from lightreasoner_jax.pipeline import (
    diagnose_stage,
    eval_stage,
    export_stage,
    model_check,
    report,
    sample_stage,
    train_stage,
)
from lightreasoner_jax.pipeline.fingerprint import fingerprint, plain
from lightreasoner_jax.pipeline.validation import ConfigError
from lightreasoner_jax.pipeline.variants import split_name, stage_context
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.storage import writing


class StageConfigMismatchError(ValueError):
    """The workdir holds a stage run under a different config."""


@dataclasses.dataclass(frozen=True)
class Stage:
    run: Callable            # (config, workdir: Workdir, mesh) -> dict
    always_rerun: bool = False  # cheap stages that read everything (the report)


STAGES: dict[str, Stage] = {
    'model_check': Stage(model_check.run),
    'eval_base': Stage(eval_stage.run_base),
    'sample': Stage(sample_stage.run),
    'diagnose': Stage(diagnose_stage.run),
    'train': Stage(train_stage.run),
    'export': Stage(export_stage.run),
    'eval': Stage(eval_stage.run_tuned),
    'report': Stage(report.run, always_rerun=True),
}


def check_stage_names(config, table: dict[str, Stage] = STAGES) -> None:
    """Raises ConfigError naming the first unknown stage or variant in config.stages."""
    unknown = [s for s in config.stages if split_name(s)[0] not in table]
    if unknown:
        raise ConfigError(f'config.stages: unknown stage(s) {unknown}; available: {sorted(table)}')
    variants = config.get('variants') or {}
    missing = [s for s in config.stages if split_name(s)[1] and split_name(s)[1] not in variants]
    if missing:
        raise ConfigError(f'config.stages: {missing} name variant(s) not in config.variants '
                         f'(defined: {sorted(variants)})')


def _check_same(path, recorded_fingerprint: dict, stage: str, state: str) -> dict | None:
    if not path.exists():
        return None
    recorded = json.loads(path.read_text())
    changed = differences(recorded['config'], recorded_fingerprint)
    if changed:
        raise StageConfigMismatchError(
            f'{path}: stage {stage!r} was {state} in this workdir with a different config '
            f'({"; ".join(changed[:8])}{"; ..." if len(changed) > 8 else ""}); use a new --workdir, '
            f'or remove its outputs and {path} to redo it')
    return recorded


def check_accepted(config, workdir: Workdir, table: dict[str, Stage] = STAGES) -> None:
    """Raises StageConfigMismatchError, before anything runs, when any configured stage was started or
    finished in this workdir under a different config (process 0 reads the records)."""
    if jax.process_index() != 0:
        return
    for stage in config.stages:
        name, _ = split_name(stage)
        if table[name].always_rerun:
            continue
        stage_fingerprint = fingerprint(stage_context(config, workdir, stage)[0], name)
        if _check_same(workdir.stage_record(stage), stage_fingerprint, stage, 'finished') is None:
            _check_same(workdir.stage_record(stage, started=True), stage_fingerprint, stage, 'started')


RUN, SKIP, MISMATCH = 0, 1, 2


def _broadcast(decision: int) -> int:
    """Process 0's decision, on every process (a workdir may be visible to process 0 only)."""
    if jax.process_count() == 1:
        return decision
    import numpy as np
    from jax.experimental import multihost_utils
    return int(multihost_utils.broadcast_one_to_all(np.int32(decision)))


def run_stage(stage: str, config, workdir: Workdir, mesh, table: dict[str, Stage] = STAGES) -> tuple[dict, bool]:
    """Runs one stage unless it already finished under the same config. Returns (result, skipped)."""
    name, _ = split_name(stage)
    spec = table[name]
    stage_config, stage_dir = stage_context(config, workdir, stage)
    stage_fingerprint = fingerprint(stage_config, name)
    done_path, started_path = workdir.stage_record(stage), workdir.stage_record(stage, started=True)
    process0 = jax.process_index() == 0
    finished, mismatch = None, None
    if process0 and not spec.always_rerun:
        try:
            finished = _check_same(done_path, stage_fingerprint, stage, 'finished')
            if finished is None:
                _check_same(started_path, stage_fingerprint, stage, 'started')
        except StageConfigMismatchError as err:
            mismatch = err
    decision = _broadcast(MISMATCH if mismatch else SKIP if finished is not None else RUN)
    if decision == MISMATCH:
        raise mismatch or StageConfigMismatchError(f'stage {stage!r}: process 0 found a config mismatch')
    if decision == SKIP:
        return (finished or {}).get('result', {}), True
    with writing(stage_dir.root, f'stage {stage!r} (its outputs or records)'):
        if process0:
            done_path.parent.mkdir(parents=True, exist_ok=True)
            stage_dir.mkdir()
            started_path.write_text(json.dumps({'config': stage_fingerprint}, indent=2))
        shd.sync(f'stage-start-{stage}')
        start = time.time()
        result = spec.run(stage_config, stage_dir, mesh) or {}
        shd.sync(f'stage-end-{stage}')
        if process0:
            done_path.write_text(json.dumps({'config': stage_fingerprint, 'result': plain(result),
                                             'seconds': time.time() - start, 'finished_at': time.time()}, indent=2))
    return result, False
