"""Evaluation answers written to files as they come: one process's answers appended per batch
(`answer_to_file`, resumable), a question set's predictions and metrics.json in a directory
(`evaluate_to_dir`), or in a workdir's eval/<name>/ (`evaluate_to_workdir`)."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence

import jax

from lightreasoner_jax import data as data_lib
from lightreasoner_jax import json_lines
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.evaluation import EvalSettings, evaluate, summarize
from lightreasoner_jax.json_lines import process_file_name
from lightreasoner_jax.models import Transformer
from lightreasoner_jax.pipeline.workdir import Workdir


def answer_to_file(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh,
                   eval_settings: EvalSettings, path, *, eos_ids: Sequence[int] | None = None,
                   **grading) -> list[dict]:
    """`evaluate` of this process's share of `questions`, each batch's records appended to `path` (this
    process's file) as they come; questions already answered there are not asked again. Collective: every
    process calls it, with or without work left. `grading`: evaluate's grader, references, record_fields.
    Returns the records of this call."""
    process, processes = jax.process_index(), jax.process_count()
    path.parent.mkdir(parents=True, exist_ok=True)
    done = frozenset(r['id'] for r in json_lines.recover(path))
    # every question of this process goes in, so a resumed run batches and pads as the first one did
    return evaluate(model, tokenizer, questions[process::processes], mesh, eval_settings, eos_ids=eos_ids,
                    done=done, on_batch=lambda rows: json_lines.append(path, rows), progress=True, **grading)


def evaluate_to_dir(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh,
                    eval_settings: EvalSettings, directory, *, eos_ids: Sequence[int] | None = None,
                    info: dict | None = None, **grading) -> dict:
    """`evaluate` with predictions appended to `directory`/predictions-*.jsonl as they come, resuming from
    those already there; writes its metrics.json (process 0) and returns it (every process: {} elsewhere)."""
    start = time.time()
    process, processes = jax.process_index(), jax.process_count()
    answered = answer_to_file(model, tokenizer, questions, mesh, eval_settings,
                              directory / process_file_name('predictions', process, processes), eos_ids=eos_ids,
                              **grading)
    shd.sync(f'eval-written-{directory}')
    metrics = {}
    if process == 0:
        metrics = summarize(json_lines.recover_all(json_lines.process_files(directory, 'predictions')))
        seconds = time.time() - start
        metrics.update(info or {}, settings=dataclasses.asdict(eval_settings), seconds_this_run=seconds,
                       questions_this_run=len(answered) * processes)
        if answered:
            metrics['questions_per_second'] = len(answered) * processes / seconds
        (directory / 'metrics.json').write_text(json.dumps(metrics, indent=2))
    shd.sync(f'eval-done-{directory}')
    return metrics


def evaluate_to_workdir(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh,
                        eval_settings: EvalSettings, workdir: Workdir, name: str, *,
                        eos_ids: Sequence[int] | None = None, info: dict | None = None, **grading) -> dict:
    """`evaluate_to_dir` into the workdir's eval/<name>/."""
    return evaluate_to_dir(model, tokenizer, questions, mesh, eval_settings, workdir.eval_dir(name),
                           eos_ids=eos_ids, info=info, **grading)
