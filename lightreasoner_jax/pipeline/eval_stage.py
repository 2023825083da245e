"""Stages `eval_base` (the expert as loaded) and `eval` (the tuned expert: the exported merged model, or
the latest checkpoint with its LoRA applied when nothing was exported): greedy pass@1 on config.eval's
questions, predictions appended per batch to per-process files and metrics.json in the workdir's
eval/<name>/. A killed evaluation resumes: questions already answered are not asked again.
"""

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
from lightreasoner_jax.models import Transformer, eos_token_ids, load_hf, load_tokenizer
from lightreasoner_jax.pipeline import loading, settings
from lightreasoner_jax.pipeline.stage_scalars import log_stage_summary
from lightreasoner_jax.pipeline.workdir import Workdir


def answer_to_file(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh,
                   eval_settings: EvalSettings, path, *, eos_ids: Sequence[int] | None = None) -> list[dict]:
    """`evaluate` of this process's share of `questions`, each batch's records appended to `path` (this
    process's file) as they come; questions already answered there are not asked again. Collective: every
    process calls it, with or without work left. Returns the records of this call."""
    process, processes = jax.process_index(), jax.process_count()
    path.parent.mkdir(parents=True, exist_ok=True)
    done = frozenset(r['id'] for r in json_lines.recover(path))
    # every question of this process goes in, so a resumed run batches and pads as the first one did
    return evaluate(model, tokenizer, questions[process::processes], mesh, eval_settings, eos_ids=eos_ids,
                    done=done, on_batch=lambda rows: json_lines.append(path, rows), progress=True)


def evaluate_to_workdir(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh,
                        eval_settings: EvalSettings, workdir: Workdir, name: str, *,
                        eos_ids: Sequence[int] | None = None, info: dict | None = None) -> dict:
    """`evaluate` with predictions appended to the workdir's eval/<name>/ as they come, resuming from
    those already there; writes its metrics.json (process 0) and returns it."""
    start = time.time()
    process, processes = jax.process_index(), jax.process_count()
    answered = answer_to_file(model, tokenizer, questions, mesh, eval_settings,
                              workdir.eval_predictions(name, process, processes), eos_ids=eos_ids)
    shd.sync(f'eval-written-{name}')
    metrics = {}
    if process == 0:
        metrics = summarize(json_lines.recover_all(workdir.all_eval_predictions(name)))
        metrics.update(info or {}, settings=dataclasses.asdict(eval_settings), seconds_this_run=time.time() - start,
                       questions_this_run=len(answered) * processes)
        workdir.eval_metrics(name).write_text(json.dumps(metrics, indent=2))
    shd.sync(f'eval-done-{name}')
    return metrics


def evaluate_checkpoint(model_path, source, mesh, workdir: Workdir, name: str, *, limit: int | None = None,
                        dtype: str = 'float32', id_field: str | None = None, **eval_settings) -> dict:
    """Evaluates the HF checkpoint at model_path on a question file or hub id (fields question/answer)."""
    tokenizer = load_tokenizer(model_path)
    model = load_hf(model_path, mesh=mesh, dtype=dtype)
    questions, _ = data_lib.load_questions(source, split='test', id_field=id_field, limit=limit)
    return evaluate_to_workdir(model, tokenizer, questions, mesh, EvalSettings(**eval_settings), workdir, name,
                               eos_ids=eos_token_ids(model_path, tokenizer, model.config),
                               info={'model': str(model_path)})


def _evaluate_stage(config, model: Transformer, mesh, workdir: Workdir, name: str, where: str) -> dict:
    """The eval stages' common part: config.eval's questions and settings, the expert's tokenizer and EOS
    ids; returns accuracy, correct, total."""
    tokenizer = load_tokenizer(config.expert.path)
    questions, _ = settings.questions(config.eval.data)
    metrics = evaluate_to_workdir(model, tokenizer, questions, mesh, settings.evaluation(config), workdir, name,
                                  info={'model': where},
                                  eos_ids=eos_token_ids(config.expert.path, tokenizer, model.config))
    result = {k: metrics[k] for k in ('accuracy', 'correct', 'total')} if metrics else {}
    if result:
        step = config.train.optim.num_steps if name != 'base' and 'train' in config else 0
        log_stage_summary(config, workdir, workdir.eval_tensorboard(name),
                          {f'eval/{name}/{key}': value for key, value in result.items()}, step=step)
    return result


def run_base(config, workdir: Workdir, mesh) -> dict:
    """Stage `eval_base`: the expert before tuning."""
    model = load_hf(config.expert.path, mesh=mesh, dtype=config.eval.dtype or config.expert.dtype)
    return _evaluate_stage(config, model, mesh, workdir, 'base', str(config.expert.path))


def run_tuned(config, workdir: Workdir, mesh) -> dict:
    """Stage `eval`: the expert after tuning."""
    model, where = loading.tuned_model(config, workdir, mesh)
    return _evaluate_stage(config, model, mesh, workdir, 'tuned', where)
