"""The contrast inside the decode loop: the amateur decodes in lockstep with the expert (its own
prefill and KV cache, fed the expert's chosen tokens), and at every step the kernel turns the two
models' next-token logits into KL, selection and top-K targets.

This is what the reference does with `generate`'s own scores, and it needs no teacher-forced
re-scoring pass: the expert's decode logits are used once, and no [B, T, V] buffer ever exists (the
outputs are [B, T] and [B, T, K]). Step t's contrast uses the distributions that predict token t, so
the result equals `score` over the same answer up to float rounding (different matmul shapes).

An early-exit amateur (`EarlyExit` of this expert) shares the expert's pass: its logits come from the
residual stream after its k layers, and the expert's cache is the only one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from lightreasoner_jax.generation import Generation, SamplingConfig, choose_token, prefill, processed_logits
from lightreasoner_jax.generation.decode import prefill_in_groups
from lightreasoner_jax.models.early_exit import EarlyExit
from lightreasoner_jax.models.transformer import KVCache, Transformer, padded_positions
from lightreasoner_jax.sampling.kernel import ContrastConfig, ContrastResult, contrast


def empty_result(batch: int, steps: int, top_k: int) -> ContrastResult:
    """Zeros of a ContrastResult's shapes; steps after every row has stopped stay so."""
    return ContrastResult(jnp.zeros((batch, steps), jnp.float32), jnp.zeros((batch, steps), bool),
                          jnp.zeros((batch, steps, top_k), jnp.int32), jnp.zeros((batch, steps, top_k), jnp.float32),
                          jnp.zeros((batch, steps), jnp.int32), jnp.zeros((batch, steps, top_k), jnp.float32))


def _shares_pass(expert: Transformer, amateur) -> bool:
    return isinstance(amateur, EarlyExit) and amateur.expert is expert


def _prefill_both(expert: Transformer, amateur, prompt_ids, prompt_mask, new_tokens: int, row_groups=()):
    """((expert logits, amateur logits or None) [B, V] predicting the first answer token, the caches)."""
    if amateur is None:
        expert_logits, expert_cache = prefill(expert, prompt_ids, prompt_mask, new_tokens, row_groups)
        return (expert_logits, None), (expert_cache, None)
    if not _shares_pass(expert, amateur):
        expert_logits, expert_cache = prefill(expert, prompt_ids, prompt_mask, new_tokens, row_groups)
        amateur_logits, amateur_cache = prefill(amateur, prompt_ids, prompt_mask, new_tokens, row_groups)
        return (expert_logits, amateur_logits), (expert_cache, amateur_cache)

    def prefill_rows(ids, mask):
        hidden, exit_hidden, cache = expert.forward(ids, padded_positions(mask), mask,
                                                    KVCache.init(expert.config, *ids.shape), exit_layer=amateur.exit_layer)
        return (expert.logits(hidden[:, -1]), expert.logits(exit_hidden[:, -1])), cache

    logits, cache = prefill_in_groups(prefill_rows, prompt_ids, prompt_mask, row_groups)
    return logits, (cache.extended(new_tokens), None)


def _decode_both(expert: Transformer, amateur, token, position, caches):
    """One decode step of both models on the expert's chosen token [B]: (their logits [B, V], the caches)."""
    ones = jnp.ones((token.shape[0], 1), bool)
    if amateur is not None and not _shares_pass(expert, amateur):
        expert_hidden, expert_cache = expert(token[:, None], position[:, None], ones, caches[0])
        amateur_hidden, amateur_cache = amateur(token[:, None], position[:, None], ones, caches[1])
        return ((expert.logits(expert_hidden[:, 0]), amateur.logits(amateur_hidden[:, 0])),
                (expert_cache, amateur_cache))
    exit_layer = amateur.exit_layer if amateur is not None else None
    hidden, exit_hidden, cache = expert.forward(token[:, None], position[:, None], ones, caches[0],
                                                exit_layer=exit_layer)
    amateur_logits = None if amateur is None else expert.logits(exit_hidden[:, 0])
    return (expert.logits(hidden[:, 0]), amateur_logits), (cache, None)


def generate_recording(expert: Transformer, amateur: Transformer | EarlyExit | None, prompt_ids: jax.Array,
                       prompt_mask: jax.Array, rng: jax.Array, *, sampling: SamplingConfig, first_step: int,
                       eos_ids: Sequence[int], pad_id: int, record: Callable, empty,
                       row_groups: tuple[int, ...] = ()) -> tuple[Generation, Any]:
    """The expert's answers, and at every step `record(expert_logits [B, V], amateur_logits [B, V] or None,
    valid [B])` (a pytree of [B, ...] arrays) written at that step of `empty` (the same pytree, [B, N, ...]).
    Jittable. amateur None: the expert alone decodes.

    Decoding is exactly `generate`'s (same tokens, same PRNG use); a row's step t is valid when the row had not
    stopped before it and t >= first_step, as `score`'s `valid`. `row_groups`: the prefill's row blocks
    (`generation.prefill_in_groups`).
    """
    B = prompt_ids.shape[0]
    N = sampling.max_new_tokens
    logits, caches = _prefill_both(expert, amateur, prompt_ids, prompt_mask, N, row_groups)

    def cond(carry):
        step, _, done, *_ = carry
        return (step < N) & ~jnp.all(done)

    def body(carry):
        step, tokens, done, lengths, caches, logits, position, recorded = carry
        expert_logits, amateur_logits = logits
        at_step = record(expert_logits, amateur_logits, ~done & (step >= first_step))
        recorded = jax.tree.map(
            lambda buffer, x: jax.lax.dynamic_update_slice_in_dim(buffer, x[:, None], step, axis=1), recorded, at_step)
        token, tokens, done, lengths = choose_token(step, expert_logits, tokens, done, lengths, rng,
                                                    sampling=sampling, eos_ids=eos_ids, pad_id=pad_id)
        logits, caches = _decode_both(expert, amateur, token, position, caches)
        return step + 1, tokens, done, lengths, caches, logits, position + 1, recorded

    carry = (jnp.zeros((), jnp.int32), jnp.full((B, N), pad_id, jnp.int32), jnp.zeros((B,), bool),
             jnp.zeros((B,), jnp.int32), caches, logits, padded_positions(prompt_mask)[:, -1] + 1, empty)
    _, tokens, _, lengths, _, _, _, recorded = jax.lax.while_loop(cond, body, carry)
    return Generation(tokens, lengths), recorded


def generate_with_contrast(expert: Transformer, amateur: Transformer | EarlyExit, prompt_ids: jax.Array,
                           prompt_mask: jax.Array, rng: jax.Array, *, sampling: SamplingConfig,
                           contrast_config: ContrastConfig, eos_ids: Sequence[int], pad_id: int,
                           row_groups: tuple[int, ...] = ()) -> tuple[Generation, ContrastResult]:
    """prompt_ids/prompt_mask [B, P] left-padded -> (the expert's answers, their contrast). Jittable."""
    c = contrast_config

    def record(expert_logits, amateur_logits, valid):
        if c.reference_compatible:
            expert_logits = processed_logits(expert_logits, sampling)
        at_step = contrast(expert_logits[:, None], amateur_logits[:, None], alpha=c.alpha, beta=c.beta,
                           top_k=c.top_k, valid=valid[:, None], smoothing=c.smoothing)
        return jax.tree.map(lambda x: x[:, 0], at_step)

    return generate_recording(expert, amateur, prompt_ids, prompt_mask, rng, sampling=sampling,
                              first_step=c.first_step, eos_ids=eos_ids, pad_id=pad_id, record=record,
                              empty=empty_result(prompt_ids.shape[0], sampling.max_new_tokens, c.top_k),
                              row_groups=row_groups)
