"""Batched generation with a fixed-size KV cache: left-padded prefill, then a `lax.while_loop`
decode that stops when every row has produced an EOS or `max_new_tokens` tokens.

Returns token ids and lengths only; no [B, T, V] logits are kept (scoring recomputes them).
`Generator` is the host-side driver: prompts in, answers out, one compile per padded prompt length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation.prompt_batches import PromptBatcher
from lightreasoner_jax.models.apply import split_on_mesh
from lightreasoner_jax.models.transformer import KVCache, Transformer, padded_positions


@dataclasses.dataclass(frozen=True)
class SamplingConfig:
    max_new_tokens: int = 128
    temperature: float = 0.0  # 0: greedy (argmax, lowest id on ties, as torch)
    top_k: int = 0            # 0: no top-k filter
    top_p: float = 1.0        # 1: no nucleus filter

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise ValueError(f'max_new_tokens must be >= 1, got {self.max_new_tokens}')
        if self.temperature < 0:
            raise ValueError(f'temperature must be >= 0, got {self.temperature}')
        if not 0 < self.top_p <= 1:
            raise ValueError(f'top_p must be in (0, 1], got {self.top_p}')
        if self.top_k < 0:
            raise ValueError(f'top_k must be >= 0, got {self.top_k}')


class Generation(NamedTuple):
    tokens: jax.Array   # [B, N] int32; pad_id after each row's end
    lengths: jax.Array  # [B] int32; generated tokens including the EOS, if one was produced


def processed_logits(logits: jax.Array, sampling: SamplingConfig) -> jax.Array:
    """The logits sampling draws from, as transformers' warpers leave them (its `output_scores`): divided by
    the temperature, then -inf outside the top_k and outside the top_p nucleus. Greedy: unchanged."""
    if sampling.temperature == 0.0:
        return logits
    logits = logits / sampling.temperature
    if sampling.top_k:
        kth = jax.lax.top_k(logits, sampling.top_k)[0][..., -1:]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    if sampling.top_p < 1.0:
        sorted_logits = jnp.sort(logits, axis=-1)[..., ::-1]
        cumulative = jnp.cumsum(jax.nn.softmax(sorted_logits, axis=-1), axis=-1)
        # the smallest set whose mass reaches top_p: keep a token if the mass before it is < top_p
        keep_sorted = (cumulative - jax.nn.softmax(sorted_logits, axis=-1)) < sampling.top_p
        threshold = jnp.min(jnp.where(keep_sorted, sorted_logits, jnp.inf), axis=-1, keepdims=True)
        logits = jnp.where(logits < threshold, -jnp.inf, logits)
    return logits


def next_token(logits: jax.Array, rng: jax.Array, sampling: SamplingConfig) -> jax.Array:
    """[B, V] float32 logits -> [B] int32 token ids."""
    if sampling.temperature == 0.0:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    return jax.random.categorical(rng, processed_logits(logits, sampling), axis=-1).astype(jnp.int32)


def generate(model: Transformer, prompt_ids: jax.Array, prompt_mask: jax.Array, rng: jax.Array, *,
             sampling: SamplingConfig, eos_ids: Sequence[int], pad_id: int, row_groups: tuple[int, ...] = ()
             ) -> Generation:
    """prompt_ids/prompt_mask [B, P], left-padded. Jittable; `sampling`, `eos_ids`, `pad_id`, `row_groups`
    (`prefill_in_groups`) static."""
    return generate_with_cache(model, prompt_ids, prompt_mask, rng, sampling=sampling, eos_ids=eos_ids,
                               pad_id=pad_id, row_groups=row_groups)[0]


def generate_with_cache(model: Transformer, prompt_ids: jax.Array, prompt_mask: jax.Array, rng: jax.Array, *,
                        sampling: SamplingConfig, eos_ids: Sequence[int], pad_id: int,
                        row_groups: tuple[int, ...] = ()) -> tuple[Generation, KVCache]:
    """As `generate`, and the final KV cache [B, ., P + max_new_tokens, .]: slots [0, P) still hold the
    prompt's keys and values from prefill (decode writes only after them), so scoring can reuse them."""
    B = prompt_ids.shape[0]
    N = sampling.max_new_tokens
    logits, cache = prefill(model, prompt_ids, prompt_mask, N, row_groups)

    def cond(carry):
        step, _, done, *_ = carry
        return (step < N) & ~jnp.all(done)

    def body(carry):
        step, tokens, done, lengths, cache, logits, next_position = carry
        token, tokens, done, lengths = choose_token(step, logits, tokens, done, lengths, rng, sampling=sampling,
                                                    eos_ids=eos_ids, pad_id=pad_id)
        hidden, cache = model(token[:, None], next_position[:, None], jnp.ones((B, 1), bool), cache)
        return step + 1, tokens, done, lengths, cache, model.logits(hidden[:, 0]), next_position + 1

    carry = (jnp.zeros((), jnp.int32), jnp.full((B, N), pad_id, jnp.int32), jnp.zeros((B,), bool),
             jnp.zeros((B,), jnp.int32), cache, logits, padded_positions(prompt_mask)[:, -1] + 1)
    _, tokens, _, lengths, cache, *_ = jax.lax.while_loop(cond, body, carry)
    return Generation(tokens, lengths), cache


def prefill(model: Transformer, prompt_ids: jax.Array, prompt_mask: jax.Array, new_tokens: int,
            row_groups: tuple[int, ...] = ()) -> tuple[jax.Array, KVCache]:
    """(logits [B, V] f32 predicting the first answer token, a cache of P + new_tokens slots). The prefill
    runs in a cache of exactly P slots (its attention spans the prompt, not the empty slots after it);
    the cache then grows for decoding, which writes after the prompt. `row_groups`: as `prefill_in_groups`."""
    def prefill_rows(ids, mask):
        hidden, cache = model(ids, padded_positions(mask), mask, KVCache.init(model.config, *ids.shape))
        return model.logits(hidden[:, -1]), cache

    logits, cache = prefill_in_groups(prefill_rows, prompt_ids, prompt_mask, row_groups)
    return logits, cache.extended(new_tokens)


def prefill_in_groups(prefill_rows: Callable, prompt_ids: jax.Array, prompt_mask: jax.Array,
                      row_groups: tuple[int, ...] = ()) -> tuple[Any, KVCache]:
    """`prefill_rows(ids [R, L], mask [R, L]) -> (outputs [R, ...], a cache of L slots)` over the left-padded
    batch [B, P], whole (`row_groups` empty) or in len(row_groups) equal blocks of rows, block g cut to its
    last row_groups[g] columns (every column it drops must be padding). One batch pads every prompt to its
    longest; a block of shorter prompts then runs at its own length instead (the sample stage's batches are
    sorted longest first). Each block's cache gets empty slots in front, so decoding sees a cache of P slots
    whose valid slots hold what one prefill over [B, P] computes, up to float rounding."""
    B, P = prompt_ids.shape
    if not row_groups:
        return prefill_rows(prompt_ids, prompt_mask)
    if B % len(row_groups) or not all(1 <= length <= P for length in row_groups):
        raise ValueError(f'row_groups {row_groups}: the {B} rows must split into {len(row_groups)} equal blocks '
                         f'of 1..{P} columns each')
    R = B // len(row_groups)
    outputs, caches = [], []
    for g, length in enumerate(row_groups):
        output, cache = prefill_rows(prompt_ids[g * R:(g + 1) * R, P - length:],
                                     prompt_mask[g * R:(g + 1) * R, P - length:])
        outputs.append(output)
        caches.append(cache.padded(before=P - length))
    concat = lambda *xs: jnp.concatenate(xs, axis=0)  # noqa: E731
    cache = KVCache(tuple(concat(*layer) for layer in zip(*(c.keys for c in caches))),
                    tuple(concat(*layer) for layer in zip(*(c.values for c in caches))),
                    concat(*(c.valid for c in caches)), jnp.asarray(P, jnp.int32))
    return jax.tree.map(concat, *outputs), cache


def choose_token(step: jax.Array, logits: jax.Array, tokens: jax.Array, done: jax.Array, lengths: jax.Array,
                 rng: jax.Array, *, sampling: SamplingConfig, eos_ids: Sequence[int], pad_id: int
                 ) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """One decode step's bookkeeping: (token [B], tokens [B, N] with it written at `step`, done, lengths).
    Rows already done get `pad_id`; a row is done once it has produced an EOS id."""
    token = jnp.where(done, pad_id, next_token(logits, jax.random.fold_in(rng, step), sampling))
    tokens = jax.lax.dynamic_update_slice_in_dim(tokens, token[:, None], step, axis=1)
    lengths = lengths + (~done).astype(jnp.int32)
    done = done | jnp.isin(token, jnp.asarray(list(eos_ids) or [-1], jnp.int32))
    return token, tokens, done, lengths


class Generator(PromptBatcher):
    """Runs one jitted `generate` per (batch, length) shape with explicit shardings on `mesh`.
    `trace_count` counts compilations (tests check reuse)."""

    def __init__(self, model: Transformer, mesh: jax.sharding.Mesh, *, sampling: SamplingConfig,
                 eos_ids: Sequence[int], pad_id: int, batch_size: int, bucket: int = 64):
        super().__init__(mesh, batch_size=batch_size, bucket=bucket, pad_id=pad_id)
        self.sampling, self.eos_ids = sampling, tuple(eos_ids)
        graphdef, self.state, state_shardings = split_on_mesh(model, mesh)

        def run(state, ids, mask, rng):
            self.trace_count += 1
            return generate(nnx.merge(graphdef, state), ids, mask, rng, sampling=self.sampling,
                            eos_ids=self.eos_ids, pad_id=self.pad_id)

        batch = self.batch_sharding
        self._run = jax.jit(run, in_shardings=(state_shardings, batch, batch, shd.replicated(mesh)),
                            out_shardings=Generation(batch, self.rows_sharding))

    def __call__(self, prompts: Sequence[Sequence[int]], rng: jax.Array, length: int | None = None
                 ) -> list[list[int]]:
        """Generated ids per prompt (up to and including EOS); `length` as in `device_prompts`."""
        ids, mask = self.device_prompts(prompts, length)
        with jax.set_mesh(self.mesh):
            generation = self._run(self.state, ids, mask, rng)
        return self.answers(generation, len(prompts))

