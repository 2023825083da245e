"""Zero-shot greedy pass@1: the model answers each question once; its final answer is compared with
the reference (GSM8K '####' / last number, or MATH \\boxed{}; see answers.py).

Stages `eval_base` (the expert as loaded) and `eval` (the tuned expert: the exported merged model, or
the latest checkpoint with its LoRA applied when nothing was exported) write
  workdir/eval/<name>/predictions-XXXXX-of-YYYYY.jsonl   one line per question, appended per batch
  workdir/eval/<name>/metrics.json                       accuracy, counts, tokens, wall time
A killed evaluation resumes: questions already in the predictions files are not asked again.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence

import jax
from etils import epath

from lightreasoner_jax import answers, samples as samples_lib
from lightreasoner_jax import data as data_lib
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.callable_module import make_callable
from lightreasoner_jax.export import load_trained
from lightreasoner_jax.generate import Generator, SamplingConfig
from lightreasoner_jax.models import Transformer, load_hf
from lightreasoner_jax.progress import Progress
from lightreasoner_jax.sampling import (collective_batches, eos_token_ids, load_tokenizer, model_eos_ids,
                                        pad_token_id)

PAPER_SYSTEM_PROMPT = 'Please reason step by step, and put your final answer within \\boxed{}.'


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    kind: str = 'gsm8k'                 # 'gsm8k' | 'math': how answers are read and compared
    system_prompt: str = PAPER_SYSTEM_PROMPT
    template: str = ''                  # plain prompt with '{question}' instead of the chat template
    max_new_tokens: int = 512
    batch_size: int = 64
    bucket: int = 64
    max_prompt_shapes: int = 2          # distinct padded prompt lengths (compiles) per call

    def __post_init__(self):
        if self.kind not in answers.KINDS:
            raise ValueError(f'eval.kind must be one of {answers.KINDS}, got {self.kind!r}')


def prediction_record(kind: str, question: data_lib.Question, completion_ids: Sequence[int], tokenizer) -> dict:
    text = tokenizer.decode(completion_ids, skip_special_tokens=True)
    reference = answers.reference_answer(kind, question.answer)
    predicted = answers.predicted_answer(kind, text)
    return {'id': question.id, 'correct': answers.is_correct(kind, predicted, reference), 'predicted': predicted,
            'reference': reference, 'completion': text, 'completion_tokens': len(completion_ids)}


def evaluate(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh, settings: EvalSettings,
             *, eos_ids: Sequence[int] | None = None, on_batch: Callable[[list[dict]], None] | None = None,
             progress: bool = False) -> list[dict]:
    """Greedy answers to `questions` (every one must have an answer) and their grading, one dict per
    question in batch order: id, correct, predicted, reference, completion, completion_tokens.

    With several processes each passes its own questions (the calls are collective, so every process
    make the call, with its share of the questions, possibly none). `eos_ids` end an answer; default:
    the model config's and the tokenizer's EOS ids.
    """
    missing = [q.id for q in questions if q.answer is None]
    if missing:
        raise data_lib.DataError(f'{len(missing)} questions have no reference answer (first: {missing[0]!r})')
    if eos_ids is None:
        eos_ids = model_eos_ids(tokenizer, model.config)
    generator = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=settings.max_new_tokens),
                          eos_ids=eos_ids, pad_id=pad_token_id(tokenizer, eos_ids), batch_size=settings.batch_size,
                          bucket=settings.bucket)
    prompts = [(q, data_lib.build_prompt_ids(tokenizer, q.question, system_prompt=settings.system_prompt or None,
                                             template=settings.template or None)) for q in questions]
    bar = Progress('eval', len(prompts), 'q', enabled=progress and jax.process_index() == 0)
    results, correct = [], 0
    for batch, length in collective_batches(prompts, generator, settings.max_prompt_shapes):
        completions = generator([p for _, p in batch], jax.random.key(0), length=length)
        records = [prediction_record(settings.kind, q, c, tokenizer) for (q, _), c in zip(batch, completions)]
        if on_batch is not None:
            on_batch(records)
        results.extend(records)
        correct += sum(r['correct'] for r in records)
        bar.update(len(records), acc=correct / max(len(results), 1))
    bar.close()
    return results


def summarize(records: Sequence[dict]) -> dict:
    total = len(records)
    right = sum(bool(r['correct']) for r in records)
    return {'accuracy': right / total if total else 0.0, 'correct': right, 'total': total,
            'answered': sum(r['predicted'] is not None for r in records),
            'mean_completion_tokens': sum(r['completion_tokens'] for r in records) / total if total else 0.0}


def evaluate_to_dir(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh,
                    settings: EvalSettings, out_dir: epath.Path, *, eos_ids: Sequence[int] | None = None,
                    info: dict | None = None) -> dict:
    """`evaluate` with predictions appended to out_dir as they come, resuming from those already
    there; writes out_dir/metrics.json and returns it."""
    start = time.time()
    process, processes = jax.process_index(), jax.process_count()
    out_dir = epath.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f'predictions-{process:05d}-of-{processes:05d}.jsonl'
    done = {r['id'] for r in samples_lib.recover(path, validate=None)}
    mine = [q for q in questions[process::processes] if q.id not in done]
    evaluate(model, tokenizer, mine, mesh, settings, eos_ids=eos_ids,
             on_batch=lambda rows: samples_lib.append_records(path, rows), progress=True)
    shd.sync(f'eval-written-{out_dir.name}')
    metrics = {}
    if process == 0:
        records = [r for f in sorted(out_dir.glob('predictions-*.jsonl')) for r in samples_lib.recover(f, validate=None)]
        metrics = summarize(records)
        metrics.update(info or {}, settings=dataclasses.asdict(settings), seconds_this_run=time.time() - start,
                       questions_this_run=len(mine) * processes)
        (out_dir / 'metrics.json').write_text(json.dumps(metrics, indent=2))
    shd.sync(f'eval-done-{out_dir.name}')
    return metrics


def evaluate_checkpoint(model_path, source, mesh, *, out_dir, limit: int | None = None, dtype: str = 'float32',
                        **settings) -> dict:
    """Evaluates the HF checkpoint at model_path on a question file or hub id (fields question/answer/id)."""
    tokenizer = load_tokenizer(model_path)
    model = load_hf(model_path, mesh=mesh, dtype=dtype)
    questions, _ = data_lib.load_questions(source, split='test', id_field=None, limit=limit)
    return evaluate_to_dir(model, tokenizer, questions, mesh, EvalSettings(**settings), out_dir,
                           eos_ids=eos_token_ids(model_path, tokenizer, model.config), info={'model': str(model_path)})


# ---- stages ------------------------------------------------------------------------------------------------

def settings_from_config(config) -> EvalSettings:
    cfg = config.eval
    return EvalSettings(kind=cfg.kind, system_prompt=cfg.system_prompt, template=cfg.template,
                        max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size, bucket=cfg.bucket,
                        max_prompt_shapes=cfg.max_prompt_shapes)


def _evaluate_stage(config, model: Transformer, mesh, workdir: epath.Path, name: str, where: str) -> dict:
    """The eval stages' common part: config.eval's questions and settings, the expert's tokenizer and EOS
    ids, outputs in workdir/eval/<name>/; returns accuracy, correct, total."""
    tokenizer = load_tokenizer(config.expert.path)
    questions, _ = data_lib.questions_from_config(config.eval.data)
    metrics = evaluate_to_dir(model, tokenizer, questions, mesh, settings_from_config(config),
                              workdir / 'eval' / name, info={'model': where},
                              eos_ids=eos_token_ids(config.expert.path, tokenizer, model.config))
    return {k: metrics[k] for k in ('accuracy', 'correct', 'total')} if metrics else {}


def run_base(config, workdir: epath.Path, mesh) -> dict:
    """Stage `eval_base`: the expert before tuning."""
    model = load_hf(config.expert.path, mesh=mesh, dtype=config.eval.dtype or config.expert.dtype)
    return _evaluate_stage(config, model, mesh, workdir, 'base', str(config.expert.path))


def tuned_model(config, workdir: epath.Path, mesh) -> tuple[Transformer, str]:
    """The tuned expert: workdir/export/merged when exported, else the latest checkpoint (LoRA unmerged)."""
    merged = workdir / 'export' / 'merged'
    if (merged / 'config.json').exists():
        return load_hf(merged, mesh=mesh, dtype=config.eval.dtype or config.expert.dtype), str(merged)
    model, step = load_trained(config, workdir, mesh)
    return model, f'{workdir / "checkpoints"}@{step}'


def run_tuned(config, workdir: epath.Path, mesh) -> dict:
    """Stage `eval`: the expert after tuning."""
    model, where = tuned_model(config, workdir, mesh)
    return _evaluate_stage(config, model, mesh, workdir, 'tuned', where)


make_callable(__name__)  # lightreasoner_jax.evaluate(...) calls evaluate() (callable_module.py)
