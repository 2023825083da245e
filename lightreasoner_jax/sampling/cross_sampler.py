"""Questions -> sample records with an amateur of another tokenizer (sampling/cross_tokenizer.py): per batch
of questions, the expert answers and keeps its top-M tokens per step (one jitted call), the amateur scores
every (answer, step) row's M continuations in batched calls, and the host turns both into the records of
`sample` (same SampleRecord contract, same resume: a rerun skips answered questions and pads as before)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from lightreasoner_jax import data as data_lib
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import (
    Generation,
    PromptBatcher,
    SamplingConfig,
    bucket_length,
    collective_batches,
    left_pad,
)
from lightreasoner_jax.models import Transformer, model_eos_ids, pad_token_id
from lightreasoner_jax.models.apply import split_on_mesh
from lightreasoner_jax.progress import Progress
from lightreasoner_jax.sampling.cross_tokenizer import (
    CrossTokenizerConfig,
    ExpertTopM,
    continuation_log_probs,
    empty_top_m,
    estimate_contrast,
    expert_top_m,
)
from lightreasoner_jax.sampling.decode_contrast import generate_recording
from lightreasoner_jax.sampling.kernel import ContrastConfig
from lightreasoner_jax.sampling.records import SampleRecord
from lightreasoner_jax.sampling.sampler import batch_seed, make_records


class ExpertTopMStep(PromptBatcher):
    """The expert answers a batch of prompts and keeps its top-M tokens at every step (one compile per length)."""

    def __init__(self, expert: Transformer, mesh, *, sampling: SamplingConfig, contrast: ContrastConfig,
                 top_m: int, has_text: np.ndarray, eos_ids: Sequence[int], pad_id: int, batch_size: int, bucket: int,
                 prefill_groups: int = 1):
        super().__init__(mesh, batch_size=batch_size, bucket=bucket, pad_id=pad_id, prefill_groups=prefill_groups)
        graph, self.state, shardings = split_on_mesh(expert, mesh)
        eos_ids = tuple(eos_ids)

        def record(expert_logits, _, valid):
            return expert_top_m(expert_logits, valid, m=top_m, has_text=jnp.asarray(has_text), alpha=contrast.alpha)

        def run(state, ids, mask, rng, row_groups):
            self.trace_count += 1
            return generate_recording(nnx.merge(graph, state), None, ids, mask, rng, sampling=sampling,
                                      first_step=contrast.first_step, eos_ids=eos_ids, pad_id=self.pad_id,
                                      record=record, empty=empty_top_m(ids.shape[0], sampling.max_new_tokens, top_m),
                                      row_groups=row_groups)

        batch = self.batch_sharding
        self._run = jax.jit(run, in_shardings=(shardings, batch, batch, shd.replicated(mesh)),
                            out_shardings=(Generation(batch, self.rows_sharding), None), static_argnums=(4,))

    def __call__(self, prompts, rng, length=None) -> tuple[list[list[int]], ExpertTopM]:
        ids, mask = self.device_prompts(prompts, length)
        with jax.set_mesh(self.mesh):
            generation, top = self._run(self.state, ids, mask, rng, self.row_groups(prompts, ids.shape[1]))
        rows = shd.process_rows(self.batch_size)
        return self.answers(generation, len(prompts)), ExpertTopM(*(shd.to_host(x)[rows] for x in top))


class ContinuationScorer:
    """log P_A of each row's continuations, `rows` (answer, step) rows per jitted call."""

    def __init__(self, amateur: Transformer, mesh, rows: int):
        graph, self.state, shardings = split_on_mesh(amateur, mesh)
        self.mesh, self.rows = mesh, rows
        two, three = (shd.logical_sharding(mesh, ('batch',) + (None,) * k, (rows,) + (1,) * k) for k in (1, 2))
        self._run = jax.jit(lambda state, *args: continuation_log_probs(nnx.merge(graph, state), *args),
                            in_shardings=(shardings, two, two, three, two), out_shardings=two)

    def __call__(self, contexts: list[list[int]], continuations: np.ndarray, lengths: np.ndarray, *, bucket: int,
                 pad_id: int) -> np.ndarray:
        """contexts (<= rows of them), continuations [n, M, L], lengths [n, M] -> log-probs [n, M]."""
        n = len(contexts)
        ids, mask = left_pad(contexts, bucket_length(max(map(len, contexts)), bucket), self.rows, pad_id)
        pad = ((0, self.rows - n),) + ((0, 0),) * 2
        with jax.set_mesh(self.mesh):
            out = self._run(self.state, ids, mask, np.pad(continuations, pad), np.pad(lengths, pad[:2], constant_values=1))
        return shd.to_host(out)[:n]


def ids_with_text(tokenizer, vocab_size: int) -> np.ndarray:
    """[vocab_size] bool: ids whose decoded text encodes back to exactly them (the expert's own tokenizer), so
    the text stands for the token; padded rows past the tokenizer and lone bytes of multi-byte characters
    have none."""
    out = np.zeros(vocab_size, bool)
    for i in range(min(len(tokenizer), vocab_size)):
        out[i] = list(tokenizer.encode(tokenizer.decode([i]), add_special_tokens=False)) == [i]
    return out


class AmateurTexts:
    """The amateur's token ids of prompts, prefix texts and expert tokens' texts (cached per expert id)."""

    def __init__(self, expert_tokenizer, amateur_tokenizer, system_prompt: str | None, max_continuation: int):
        self.expert, self.amateur = expert_tokenizer, amateur_tokenizer
        self.system_prompt, self.max_continuation = system_prompt, max_continuation
        self._tokens: dict[int, list[int]] = {}
        self.truncated = 0  # expert tokens whose text took more than max_continuation amateur tokens

    def token(self, expert_id: int) -> list[int]:
        if expert_id not in self._tokens:
            ids = self.amateur.encode(self.expert.decode([expert_id]), add_special_tokens=False)
            self.truncated += len(ids) > self.max_continuation
            self._tokens[expert_id] = list(ids[:self.max_continuation]) or [self.amateur.pad_token_id or 0]
        return self._tokens[expert_id]

    def context(self, question: str, completion: Sequence[int], step: int) -> list[int]:
        prefix = self.expert.decode(list(completion[:step])) if step else ''
        return (data_lib.build_prompt_ids(self.amateur, question, system_prompt=self.system_prompt)
                + list(self.amateur.encode(prefix, add_special_tokens=False)))


def amateur_log_probs(batch, completions, top: ExpertTopM, texts: AmateurTexts, scorer: ContinuationScorer, *,
                      bucket: int, pad_id: int) -> np.ndarray:
    """[B, T, M] log q_A of the expert's top-M tokens at every valid step of the batch's answers (0 elsewhere)."""
    B, T, M = top.ids.shape
    out = np.zeros((B, T, M), np.float32)
    rows = [(b, t) for b in range(len(batch)) for t in range(T) if top.valid[b, t]]
    contexts = {(b, t): texts.context(batch[b][0].question, completions[b], t) for b, t in rows}
    rows.sort(key=lambda r: len(contexts[r]))  # similar lengths per call: less padding
    for i in range(0, len(rows), scorer.rows):
        chunk = rows[i:i + scorer.rows]
        conts = [[texts.token(int(v)) for v in top.ids[b, t]] for b, t in chunk]
        L = bucket_length(max(len(c) for row in conts for c in row), texts.max_continuation)
        ids = np.zeros((len(chunk), M, L), np.int32)
        lengths = np.zeros((len(chunk), M), np.int32)
        for r, row in enumerate(conts):
            for m, c in enumerate(row):
                ids[r, m, :len(c)], lengths[r, m] = c, len(c)
        scores = scorer([contexts[r] for r in chunk], ids, lengths, bucket=bucket, pad_id=pad_id)
        for (b, t), s in zip(chunk, scores):
            out[b, t] = s
    return out


def sample_cross_tokenizer(expert: Transformer, amateur: Transformer, expert_tokenizer, amateur_tokenizer,
                           questions: Sequence[data_lib.Question], mesh, *, contrast: ContrastConfig = ContrastConfig(),
                           cross: CrossTokenizerConfig = CrossTokenizerConfig(), sampling: SamplingConfig = SamplingConfig(),
                           batch_size: int = 64, bucket: int = 64,
                           system_prompt: str | None = data_lib.DEFAULT_SYSTEM_PROMPT, eos_ids: Sequence[int] | None = None,
                           seed: int = 0, max_prompt_shapes: int = 2, prefill_groups: int = 1,
                           on_batch: Callable[[list[SampleRecord]], None] | None = None, progress: bool = False,
                           done: frozenset = frozenset(), stats: dict | None = None) -> list[SampleRecord]:
    """As `sampling.sample`, with an amateur of its own tokenizer (single process). `stats`, if given, gets
    'continuation_truncations'."""
    if jax.process_count() > 1:
        raise ValueError('the cross-tokenizer contrast runs on one process (experimental)')
    if cross.top_m < contrast.top_k:
        raise ValueError(f'top_m ({cross.top_m}) must be >= contrast.top_k ({contrast.top_k})')
    if eos_ids is None:
        eos_ids = model_eos_ids(expert_tokenizer, expert.config)
    pad_id = pad_token_id(expert_tokenizer, eos_ids)
    todo = [(q, data_lib.build_prompt_ids(expert_tokenizer, q.question, system_prompt=system_prompt or None))
            for q in questions]
    step = ExpertTopMStep(expert, mesh, sampling=sampling, contrast=contrast, top_m=cross.top_m,
                          has_text=ids_with_text(expert_tokenizer, expert.config.vocab_size), eos_ids=eos_ids,
                          pad_id=pad_id, batch_size=batch_size, bucket=bucket, prefill_groups=prefill_groups)
    texts = AmateurTexts(expert_tokenizer, amateur_tokenizer, system_prompt or None, cross.max_continuation)
    scorer = ContinuationScorer(amateur, mesh, cross.rows_per_call)
    amateur_pad = pad_token_id(amateur_tokenizer, model_eos_ids(amateur_tokenizer, amateur.config))
    rng = jax.random.key(seed)
    bar = Progress('sample', len(todo), 'q', enabled=progress, initial=sum(q.id in done for q in questions))
    start, kept_steps, out = time.time(), 0, []
    for batch, length in collective_batches(todo, step, max_prompt_shapes, done):
        completions, top = step([p for _, p in batch], jax.random.fold_in(rng, batch_seed(batch)), length=length)
        amateur_logp = amateur_log_probs(batch, completions, top, texts, scorer, bucket=bucket, pad_id=amateur_pad)
        result = estimate_contrast(top.log_probs, top.ids, top.num_plausible, amateur_logp, top.valid, contrast,
                                   cross.remainder_floor)
        records = [r for r in make_records(batch, completions, result, contrast, expert_tokenizer) if r.id not in done]
        if on_batch is not None:
            on_batch(records)
        out.extend(records)
        kept_steps += sum(len(r.steps) for r in records)
        bar.update(len(records), kept=kept_steps, seconds=round(time.time() - start))
    bar.close()
    if stats is not None:
        stats['continuation_truncations'] = texts.truncated
    return out
