"""Zero-shot greedy pass@1: the model answers each question once; its final answer is read and graded as
the benchmark `kind` says (benchmarks.py, grading.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import jax

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.evaluation import benchmarks
from lightreasoner_jax.generation import Generator, SamplingConfig, collective_batches
from lightreasoner_jax.models import Transformer, model_eos_ids, pad_token_id
from lightreasoner_jax.progress import Progress

PAPER_SYSTEM_PROMPT = 'Please reason step by step, and put your final answer within \\boxed{}.'


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    kind: str = 'gsm8k'                 # a benchmark preset: how answers are read and graded
    system_prompt: str = PAPER_SYSTEM_PROMPT
    template: str = ''                  # plain prompt with '{question}' instead of the chat template
    max_new_tokens: int = 512
    batch_size: int = 64
    bucket: int = 64
    max_prompt_shapes: int = 2          # distinct padded prompt lengths (compiles) per call
    temperature: float = 0.0            # 0: greedy (pass@1); > 0 samples (rejection-sampling SFT)
    seed: int = 0                       # the sampling key of batch i is fold_in(key(seed), i)

    def __post_init__(self):
        if self.kind not in benchmarks.PRESETS:
            raise ValueError(f'eval.kind must be one of {tuple(benchmarks.PRESETS)}, got {self.kind!r}')


def reference_answer(kind: str, answer: str) -> str:
    """The gold final answer in a question's answer field, read as benchmark `kind` reads its gold field
    (GSM8K: after '####'); for MATH also a bare answer (MATH-500's 'answer' column has no \\boxed{})."""
    spec = benchmarks.PRESETS[kind]
    if spec.gold_kind == 'boxed' and '\\boxed' not in answer and '\\fbox' not in answer:
        return answer.strip()
    if spec.is_choice:  # a question file's answer field holds the letter
        return answer.strip().strip('()')
    try:
        return benchmarks.gold_answer(spec, {spec.gold_field: answer})
    except benchmarks.GoldError as err:
        raise data_lib.DataError(f'eval.kind {kind!r}: {err}') from None


Grader = Callable[[str, str], tuple[str | None, bool]]  # (completion, gold answer) -> (extracted, correct)


def kind_grader(kind: str) -> Grader:
    spec = benchmarks.PRESETS[kind]
    return lambda completion, gold: benchmarks.grade_item(spec, completion, gold)


def prediction_record(grader: Grader, question: data_lib.Question, completion_ids: Sequence[int], tokenizer,
                      reference: str) -> dict:
    text = tokenizer.decode(completion_ids, skip_special_tokens=True)
    predicted, correct = grader(text, reference)
    return {'id': question.id, 'correct': correct, 'predicted': predicted, 'reference': reference, 'completion': text,
            'completion_tokens': len(completion_ids)}


def evaluate(model: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh, settings: EvalSettings,
             *, eos_ids: Sequence[int] | None = None, on_batch: Callable[[list[dict]], None] | None = None,
             progress: bool = False, done: frozenset = frozenset(), grader: Grader | None = None,
             references: dict[str, str] | None = None, record_fields: dict[str, dict] | None = None) -> list[dict]:
    """Greedy (or, with settings.temperature, sampled) answers to `questions` (every one must have an
    answer) and their grading, one dict per question in batch order: id, correct, predicted, reference,
    completion, completion_tokens.

    With several processes each passes its own questions (the calls are collective, so every process
    make the call, with its share of the questions, possibly none). `eos_ids` end an answer; default:
    the model config's and the tokenizer's EOS ids. `done`: ids answered by an earlier, interrupted run;
    they get no record, and the rest are batched and padded as in an uninterrupted run. `grader` and
    `references` (gold answers by question id): how answers are graded; default: settings.kind's grading of
    each question's answer field, every gold answer read before anything is generated. `record_fields`:
    more fields for the records, by question id (a suite's benchmark name and question text).
    """
    missing = [q.id for q in questions if q.answer is None]
    if missing:
        raise data_lib.DataError(f'{len(missing)} questions have no reference answer (first: {missing[0]!r})')
    grader = grader or kind_grader(settings.kind)
    references = references or {q.id: reference_answer(settings.kind, q.answer) for q in questions}
    if eos_ids is None:
        eos_ids = model_eos_ids(tokenizer, model.config)
    generator = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=settings.max_new_tokens,
                                                                temperature=settings.temperature),
                          eos_ids=eos_ids, pad_id=pad_token_id(tokenizer, eos_ids), batch_size=settings.batch_size,
                          bucket=settings.bucket)
    prompts = [(q, data_lib.build_prompt_ids(tokenizer, q.question, system_prompt=settings.system_prompt or None,
                                             template=settings.template or None)) for q in questions]
    bar = Progress('eval', len(prompts), 'q', enabled=progress and jax.process_index() == 0,
                   initial=sum(q.id in done for q in questions))
    results, correct = [], 0
    key = jax.random.key(settings.seed)
    for index, (batch, length) in enumerate(collective_batches(prompts, generator, settings.max_prompt_shapes, done)):
        completions = generator([p for _, p in batch], jax.random.fold_in(key, index), length=length)
        records = [prediction_record(grader, q, c, tokenizer, references[q.id]) | (record_fields or {}).get(q.id, {})
                   for (q, _), c in zip(batch, completions) if q.id not in done]
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
