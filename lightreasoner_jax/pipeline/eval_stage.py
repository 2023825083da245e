"""Stages `eval_base` (the expert as loaded) and `eval` (the tuned expert: the exported merged model, or
the latest checkpoint with its LoRA applied when nothing was exported): greedy pass@1 on config.eval's
questions (eval.data graded as eval.kind) or on a suite of benchmarks (eval.benchmarks; eval_suite.py),
predictions appended per batch to per-process files and metrics.json in the workdir's eval/<name>/. The
questions and gold answers are read before the model is loaded. A killed evaluation resumes: questions
already answered are not asked again.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.evaluation import EvalSettings
from lightreasoner_jax.evaluation.loop import reference_answer
from lightreasoner_jax.models import Transformer, eos_token_ids, load_hf, load_tokenizer
from lightreasoner_jax.pipeline import eval_suite, loading, settings
from lightreasoner_jax.pipeline.eval_drift import drift
from lightreasoner_jax.pipeline.eval_files import evaluate_to_workdir
from lightreasoner_jax.pipeline.stage_scalars import log_stage_summary
from lightreasoner_jax.pipeline.workdir import Workdir


def evaluate_checkpoint(model_path, source, mesh, workdir: Workdir, name: str, *, limit: int | None = None,
                        dtype: str = 'float32', id_field: str | None = None, **eval_settings) -> dict:
    """Evaluates the HF checkpoint at model_path on a question file or hub id (fields question/answer)."""
    tokenizer = load_tokenizer(model_path)
    model = load_hf(model_path, mesh=mesh, dtype=dtype)
    questions, _ = data_lib.load_questions(source, split='test', id_field=id_field, limit=limit)
    return evaluate_to_workdir(model, tokenizer, questions, mesh, EvalSettings(**eval_settings), workdir, name,
                               eos_ids=eos_token_ids(model_path, tokenizer, model.config),
                               info={'model': str(model_path)})


def sampled_eval(config) -> eval_suite.SampledEval:
    return eval_suite.SampledEval(samples=config.eval.get('samples', 0),
                                  temperature=config.eval.get('sample_temperature', 0.6),
                                  ks=tuple(config.eval.get('pass_k', (1,))))


def _evaluate_stage(config, load_model: Callable[[], tuple[Transformer, str]], mesh, workdir: Workdir,
                    name: str) -> dict:
    """The eval stages' common part: config.eval's questions (read first) and settings, the expert's tokenizer
    and EOS ids; returns accuracy, correct, total (a suite's: its average, pooled counts, 'benchmarks')."""
    eval_settings = settings.evaluation(config)
    if config.eval.get('benchmarks'):
        specs = eval_suite.suite_specs(config.eval)
        suite = eval_suite.load_suite(specs)
    else:
        questions, _ = settings.questions(config.eval.data)
        for question in questions:  # every gold answer is read before the model is loaded
            try:
                if question.answer is None:
                    raise data_lib.DataError(f'no answer to grade against (field {config.eval.data.answer_field!r})')
                reference_answer(eval_settings.kind, question.answer)
            except data_lib.DataError as err:
                raise data_lib.DataError(f'{config.eval.data.source}, question {question.id!r}: {err}') from None
    model, where = load_model()
    tokenizer = load_tokenizer(config.expert.path)
    eos_ids = settings.stop_ids(config, tokenizer, model.config)
    if config.eval.get('benchmarks'):
        metrics = eval_suite.evaluate_suite(model, tokenizer, suite, specs, mesh, eval_settings, workdir, name,
                                            eos_ids=eos_ids, sampled=sampled_eval(config), info={'model': where})
        asked = [(item.id, item.prompt, item.solution) for spec in specs for item in suite[spec.name]]
    else:
        metrics = evaluate_to_workdir(model, tokenizer, questions, mesh, eval_settings, workdir, name,
                                      info={'model': where}, eos_ids=eos_ids,
                                      record_fields={q.id: {'question': q.question} for q in questions})
        asked = [(q.id, q.question, q.answer) for q in questions]
    drift_metrics = drift(config, model, tokenizer, workdir, asked, eos_ids[0] if eos_ids else None)
    if drift_metrics and metrics:
        metrics['drift'] = drift_metrics
        workdir.eval_metrics(name).write_text(json.dumps(metrics, indent=2))
    result = {k: metrics[k] for k in ('accuracy', 'correct', 'total')} if metrics else {}
    if result:
        step = config.train.optim.num_steps if name != 'base' and 'train' in config else 0
        scalars = {f'eval/{name}/{key}': value for key, value in result.items()}
        scalars.update({f'eval/{name}/{bench}/accuracy': m['accuracy']
                        for bench, m in metrics.get('benchmarks', {}).items()})
        log_stage_summary(config, workdir, workdir.eval_tensorboard(name), scalars, step=step)
        if 'benchmarks' in metrics:
            result['benchmarks'] = {bench: m['accuracy'] for bench, m in metrics['benchmarks'].items()}
    return result


def run_base(config, workdir: Workdir, mesh) -> dict:
    """Stage `eval_base`: the expert before tuning."""
    def load():
        return load_hf(config.expert.path, mesh=mesh, dtype=config.eval.dtype or config.expert.dtype), \
            str(config.expert.path)
    return _evaluate_stage(config, load, mesh, workdir, 'base')


def run_tuned(config, workdir: Workdir, mesh) -> dict:
    """Stage `eval`: the expert after tuning."""
    return _evaluate_stage(config, lambda: loading.tuned_model(config, workdir, mesh), mesh, workdir, 'tuned')
