"""Questions -> sample records: the expert answers, both models score the answer, the contrast keeps
the steps with KL >= beta and their soft targets (one jitted `SampleStep` per batch)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import jax
import numpy as np

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.generation import SamplingConfig, collective_batches
from lightreasoner_jax.models import Transformer, model_eos_ids, pad_token_id
from lightreasoner_jax.progress import Progress
from lightreasoner_jax.sampling.kernel import ContrastConfig, ContrastResult
from lightreasoner_jax.sampling.records import SampleRecord
from lightreasoner_jax.sampling.step import SampleStep


def make_records(batch, completions: Sequence[Sequence[int]], result: ContrastResult, config: ContrastConfig,
                 tokenizer) -> list[SampleRecord]:
    """One record per answer; targets trimmed to their plausible tokens."""
    records = []
    for row, (question, prompt_ids) in enumerate(batch):
        completion = list(map(int, completions[row]))
        steps = [int(t) for t in np.flatnonzero(result.selected[row])]
        kept = [min(int(result.num_plausible[row, t]), config.top_k) for t in steps]
        records.append(SampleRecord(
            id=question.id,
            prompt_ids=list(map(int, prompt_ids)),
            completion_ids=completion,
            steps=steps,
            kl=[float(result.kl[row, t]) for t in steps],
            target_ids=[result.target_ids[row, t, :k].tolist() for t, k in zip(steps, kept)],
            target_weights=[result.target_weights[row, t, :k].tolist() for t, k in zip(steps, kept)],
            expert_weights=[result.expert_weights[row, t, :k].tolist() for t, k in zip(steps, kept)],
            num_plausible=[int(result.num_plausible[row, t]) for t in steps],
            candidate_kl=[round(float(x), 6) for x in result.kl[row, config.first_step:len(completion)]],
            completion_text=tokenizer.decode(completion),
        ))
    return records


def batch_seed(batch) -> int:
    """A batch's PRNG stream: its first question's id hash, so a resumed run samples each batch as before."""
    if not batch:
        return 0
    return int(data_lib.question_id(batch[0][0].id)[1:9], 16)


def sample(expert: Transformer, amateur: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh, *,
           contrast: ContrastConfig = ContrastConfig(), sampling: SamplingConfig = SamplingConfig(),
           batch_size: int = 64, bucket: int = 64, system_prompt: str | None = data_lib.DEFAULT_SYSTEM_PROMPT,
           eos_ids: Sequence[int] | None = None, seed: int = 0, max_prompt_shapes: int = 2, prefill_groups: int = 1,
           on_batch: Callable[[list[SampleRecord]], None] | None = None, progress: bool = False,
           done: frozenset = frozenset()) -> list[SampleRecord]:
    """Questions -> sample records: the expert answers each question, both models score the answer
    teacher-forced, and the contrast keeps the steps with KL >= beta and their soft targets.

    One `SampleRecord` per question, in batch order. `batch_size` is global; with several processes
    each passes its own questions (possibly none) and every process must call. `on_batch` sees each
    batch's records as they are made (the sample stage appends them to its file). `done`: ids already
    answered by an earlier, interrupted run; they get no record, and the rest are batched and padded as
    in an uninterrupted run, so they get the same records bit for bit. `prefill_groups` > 1 prefills each
    batch in that many blocks of rows, each at its own longest prompt's length (less padding; the records
    agree with one prefill to float rounding).
    """
    if eos_ids is None:
        eos_ids = model_eos_ids(tokenizer, expert.config)
    todo = [(q, data_lib.build_prompt_ids(tokenizer, q.question, system_prompt=system_prompt or None))
            for q in questions]
    step = SampleStep(expert, amateur, mesh, sampling=sampling, contrast=contrast, eos_ids=eos_ids,
                      pad_id=pad_token_id(tokenizer, eos_ids), batch_size=batch_size, bucket=bucket,
                      prefill_groups=prefill_groups)
    rng = jax.random.key(seed)
    bar = Progress('sample', len(todo), 'q', enabled=progress and jax.process_index() == 0,
                   initial=sum(q.id in done for q in questions))
    start, generated_tokens, kept_steps, out = time.time(), 0, 0, []
    for batch, length in collective_batches(todo, step, max_prompt_shapes, done):
        completions, result = step([p for _, p in batch], jax.random.fold_in(rng, batch_seed(batch)), length=length)
        records = [r for r in make_records(batch, completions, result, contrast, tokenizer) if r.id not in done]
        if on_batch is not None:
            on_batch(records)
        out.extend(records)
        generated_tokens += sum(len(r.completion_ids) for r in records)
        kept_steps += sum(len(r.steps) for r in records)
        bar.update(len(records), kept=kept_steps, tokens_per_s=generated_tokens / max(time.time() - start, 1e-9))
    bar.close()
    return out


def sample_stats(records: Sequence[SampleRecord], config: ContrastConfig) -> dict:
    """Kept rate, KL quantiles, plausible-set sizes and top-k truncations of a set of records."""
    candidate_kl = np.array([x for r in records for x in r.candidate_kl or []], np.float64)
    plausible = np.array([x for r in records for x in r.num_plausible or []], np.int64)
    kept = sum(len(r.steps) for r in records)
    candidates = sum(max(len(r.completion_ids) - config.first_step, 0) for r in records)
    quantiles = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
    sizes, counts = np.unique(plausible, return_counts=True) if plausible.size else ([], [])
    return {
        'questions': len(records),
        'answers': len(records),
        'completion_tokens': sum(len(r.completion_ids) for r in records),
        'candidate_steps': candidates,
        'kept_steps': kept,
        'kept_rate': kept / candidates if candidates else 0.0,
        'answers_without_kept_steps': sum(not r.steps for r in records),
        'kl_quantiles': ({str(q): float(np.quantile(candidate_kl, q)) for q in quantiles}
                         if candidate_kl.size else {}),
        'plausible_set_size_histogram': {str(int(s)): int(c) for s, c in zip(sizes, counts)},
        'top_k_truncations': int((plausible > config.top_k).sum()),
        'alpha': config.alpha, 'beta': config.beta, 'top_k': config.top_k, 'first_step': config.first_step,
    }
