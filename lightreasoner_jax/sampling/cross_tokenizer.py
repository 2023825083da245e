"""The cross-tokenizer contrast (experimental; amateur.kind='cross_tokenizer'): an amateur with a tokenizer of
its own, so the two models' distributions are over different vocabularies and cannot be compared id by id.

At step t of the expert's answer, with prefix text x = decode_E(answer[:t]) and the expert's top-M tokens
v_1..v_M by p_E (each with text s_v = decode_E([v])):

    q_A(v)   = P_A(s_v | x) = prod_j p_A(c_j | A(prompt) + A(x) + c_<j),  c = A(s_v)   (the amateur's own
               tokenization of the prompt, of the prefix text, and of the token's text)
    KL_est   = sum_{m<=M} p_E(v_m) (log p_E(v_m) - log q_A(v_m)) + r_E (log r_E - log r_A)
               r_E = 1 - sum_m p_E(v_m),  r_A = max(1 - sum_m q_A(v_m), floor)     (the remainder bucket)
    target   = softmax(log p_E - log q_A) over the plausible tokens (p_E >= alpha max p_E) among the top M

The approximation: A(x) + A(s_v) need not be how the amateur would tokenize x + s_v, and the q_A of different
tokens are not disjoint events (s_v may be a prefix of s_w), so sum q_A may exceed 1 (r_A is then the floor).
With identical tokenizers, M covering the vocabulary, and text that re-encodes to the same ids, every q_A is
the amateur's own p_A and the estimate is the exact contrast (tests/test_cross_tokenizer.py).

The expert's side runs in the decode loop (top-M of p_E per step, `expert_top_m`); the amateur's in batched
teacher-forced calls over (answer, step) rows: a prefill of the context, then every continuation of the row
at once from the prefill's cache (`continuation_log_probs`).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from lightreasoner_jax.generation import prefill
from lightreasoner_jax.models.transformer import KVCache, Transformer, padded_positions
from lightreasoner_jax.sampling.kernel import ContrastConfig, ContrastResult


@dataclasses.dataclass(frozen=True)
class CrossTokenizerConfig:
    top_m: int = 16              # expert tokens per step whose amateur probability is computed
    max_continuation: int = 8    # amateur tokens kept of an expert token's text (longer: cut, counted)
    rows_per_call: int = 256     # (answer, step) rows per amateur call
    remainder_floor: float = 1e-6


class ExpertTopM(NamedTuple):
    ids: jax.Array            # [B, T, M] i32 the expert's top-M token ids by p_E (ids with a text only:
                              # whose decoded text encodes back to them; a lone byte of a multi-byte character
                              # decodes to U+FFFD and has none; their mass goes to the remainder)
    log_probs: jax.Array      # [B, T, M] f32 their log p_E (normalised over the expert's full vocabulary)
    num_plausible: jax.Array  # [B, T] i32 the plausible-set size (ids with a text)
    valid: jax.Array          # [B, T] bool a candidate step


def expert_top_m(logits: jax.Array, valid: jax.Array, *, m: int, has_text: jax.Array, alpha: float) -> ExpertTopM:
    """One step: logits [B, V] -> its ExpertTopM row (the top M among ids whose `has_text` [V] is set)."""
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    with_text = jnp.where(has_text, logp, -jnp.inf)
    # counted among ids with a text (padded embedding rows past the tokenizer have none, and p_E ~ 0)
    num_plausible = jnp.sum(with_text >= jnp.log(alpha) + jnp.max(logp, axis=-1, keepdims=True), axis=-1,
                            dtype=jnp.int32)
    top_logp, top_ids = jax.lax.top_k(with_text, m)
    return ExpertTopM(top_ids.astype(jnp.int32), top_logp, num_plausible, valid)


def empty_top_m(batch: int, steps: int, m: int) -> ExpertTopM:
    return ExpertTopM(jnp.zeros((batch, steps, m), jnp.int32), jnp.zeros((batch, steps, m), jnp.float32),
                      jnp.zeros((batch, steps), jnp.int32), jnp.zeros((batch, steps), bool))


def continuation_log_probs(amateur: Transformer, context_ids: jax.Array, context_mask: jax.Array,
                           continuation_ids: jax.Array, continuation_lengths: jax.Array) -> jax.Array:
    """log P_A(continuation | context) [R, M] for contexts [R, C] (left-padded) and M continuations per row
    [R, M, L] (valid up to continuation_lengths [R, M] >= 1). Jittable.

    The context is prefilled once; its cache is repeated M times and every continuation runs from it in one
    forward over slots [C, C + L) (positions continuing the context's)."""
    R, M, L = continuation_ids.shape
    first_logits, cache = prefill(amateur, context_ids, context_mask, L)  # [R, V]: predicts c_0
    repeat = lambda x: jnp.repeat(x, M, axis=0)  # noqa: E731
    cache = KVCache(tuple(map(repeat, cache.keys)), tuple(map(repeat, cache.values)), repeat(cache.valid),
                    cache.length)
    steps = jnp.arange(L)
    mask = (steps[None, None, :] < continuation_lengths[..., None]).reshape(R * M, L)
    positions = (padded_positions(context_mask)[:, -1:] + 1 + steps[None, :])  # [R, L]
    hidden, _ = amateur(continuation_ids.reshape(R * M, L), repeat(positions), mask, cache)
    logp_next = jax.nn.log_softmax(amateur.logits(hidden), axis=-1)  # [R*M, L, V]: position j predicts c_{j+1}
    first = jnp.take_along_axis(jax.nn.log_softmax(first_logits, axis=-1), continuation_ids[..., 0], axis=-1)
    later = jnp.take_along_axis(logp_next[:, :-1], continuation_ids.reshape(R * M, L)[:, 1:, None], axis=-1)[..., 0]
    later = jnp.where(mask[:, 1:], later, 0.0).sum(axis=-1).reshape(R, M)
    return first + later


def estimate_contrast(expert_log_probs: np.ndarray, expert_ids: np.ndarray, num_plausible: np.ndarray,
                      amateur_log_probs: np.ndarray, valid: np.ndarray, config: ContrastConfig,
                      remainder_floor: float) -> ContrastResult:
    """[B, T, M] arrays (the expert's top M, descending) -> a ContrastResult of the contract's shapes (NumPy)."""
    present = np.isfinite(expert_log_probs)  # fewer than M ids with a text: the rest are -inf
    e_logp = np.where(present, expert_log_probs, 0.0).astype(np.float64)
    a_logp = np.where(present, amateur_log_probs, 0.0).astype(np.float64)
    e = np.where(present, np.exp(e_logp), 0.0)
    r_e = np.clip(1.0 - e.sum(-1), 0.0, 1.0)
    r_a = np.maximum(1.0 - np.where(present, np.exp(a_logp), 0.0).sum(-1), remainder_floor)
    remainder = np.where(r_e > 0, r_e * (np.log(np.maximum(r_e, 1e-300)) - np.log(r_a)), 0.0)
    kl = (e * (e_logp - a_logp)).sum(-1) + remainder
    e_logp = np.where(present, e_logp, -np.inf)
    plausible = e_logp >= np.log(config.alpha) + e_logp[..., :1]
    K = config.top_k
    kept = plausible[..., :K]
    pad = K - kept.shape[-1]
    kept = np.pad(kept, [(0, 0), (0, 0), (0, max(pad, 0))])

    def softmax_over_kept(scores):
        scores = np.pad(scores[..., :K], [(0, 0), (0, 0), (0, max(pad, 0))])
        scores = np.where(kept, scores, -np.inf)
        top = np.max(np.where(kept, scores, -1e300), axis=-1, keepdims=True)
        w = np.where(kept, np.exp(scores - top), 0.0)
        return (w / np.maximum(w.sum(-1, keepdims=True), 1e-300)).astype(np.float32)
    target_ids = np.where(kept, np.pad(expert_ids[..., :K], [(0, 0), (0, 0), (0, max(pad, 0))]), 0)
    return ContrastResult(kl.astype(np.float32), valid & (kl >= config.beta), target_ids.astype(np.int32),
                          softmax_over_kept(e_logp - a_logp), num_plausible.astype(np.int32),
                          softmax_over_kept(e_logp))
