"""The contrast kernel: which steps to keep and their soft targets.

For each position, with p_E and p_A each normalised over its model's full vocabulary and then
restricted to the shared ids [0, min(V_e, V_a)) (as the reference does, without renormalising):

    kl        = sum_i p_E[i] (log p_E[i] - log p_A[i])          over the shared vocabulary
    plausible = {i : p_E[i] >= alpha * max_j p_E[j]}
    target    = softmax(log p_E - log p_A) over the plausible set (its top_k by p_E)

With `smoothing` (the reference-compatible mode: 1e-12), p + smoothing replaces p in every log and in
the KL's weights, as the reference computes them; it also makes p_E = 0 (tokens a top-k/top-p filter removed)
finite.

Everything is float32, jittable, free of host syncs, and elementwise in [B, T], so it shards on B.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp


@dataclasses.dataclass(frozen=True)
class ContrastConfig:
    alpha: float = 0.2      # plausible set: p_E >= alpha * max p_E
    beta: float = 0.4       # keep a step when KL(p_E || p_A) >= beta
    top_k: int = 32         # cap on the plausible tokens stored per step
    first_step: int = 1     # first candidate step; 1 as the reference (the first token is not a candidate)
    chunk: int = 32         # completion steps whose logits are materialised at once (rescore only)
    rescore: bool = False   # score the answer teacher-forced after decoding, not inside the decode loop
    # the reference's own procedure: p_E from the processed scores sampling draws from (temperature, top-k,
    # top-p), and 1e-12 smoothing (the sampling itself follows the expert's generation_config.json)
    reference_compatible: bool = False

    @property
    def smoothing(self) -> float:
        return REFERENCE_SMOOTHING if self.reference_compatible else 0.0


REFERENCE_SMOOTHING = 1e-12  # LightR_sampling.py's epsilon


class ContrastResult(NamedTuple):
    kl: jax.Array              # [B, T] f32  KL(p_E || p_A)
    selected: jax.Array        # [B, T] bool valid & kl >= beta
    target_ids: jax.Array      # [B, T, K] i32 plausible tokens by descending p_E (0 where padded)
    target_weights: jax.Array  # [B, T, K] f32 contrastive weights, sum 1 over the kept tokens, 0 padded
    num_plausible: jax.Array   # [B, T] i32 plausible-set size before the top_k cap
    expert_weights: jax.Array  # [B, T, K] f32 p_E renormalised over the same tokens (the "w/o contrast" target)


def shared_log_probs(logits: jax.Array, shared_vocab: int) -> jax.Array:
    """log_softmax over the model's own full vocabulary, then the first `shared_vocab` ids."""
    return jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)[..., :shared_vocab]


def contrast(expert_logits: jax.Array, amateur_logits: jax.Array, *, alpha: float, beta: float, top_k: int,
             valid: jax.Array | None = None, smoothing: float = 0.0) -> ContrastResult:
    """expert_logits [B,T,V_e], amateur_logits [B,T,V_a] (any float dtype), valid [B,T] bool."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f'alpha must be in (0, 1], got {alpha}')
    if top_k < 1:
        raise ValueError(f'top_k must be >= 1, got {top_k}')
    if expert_logits.shape[:-1] != amateur_logits.shape[:-1]:
        raise ValueError(f'expert logits {expert_logits.shape} and amateur logits {amateur_logits.shape} '
                         'differ in their leading [B, T] shape')
    shared_vocab = min(expert_logits.shape[-1], amateur_logits.shape[-1])
    k = min(top_k, shared_vocab)
    expert_logp = shared_log_probs(expert_logits, shared_vocab)
    amateur_logp = shared_log_probs(amateur_logits, shared_vocab)
    expert_p = jnp.exp(expert_logp)
    kl_weights = expert_p
    if smoothing:
        expert_logp = jnp.log(expert_p + smoothing)
        amateur_logp = jnp.log(jnp.exp(amateur_logp) + smoothing)
        kl_weights = expert_p + smoothing

    kl = jnp.sum(kl_weights * (expert_logp - amateur_logp), axis=-1)
    plausible = expert_p >= alpha * jnp.max(expert_p, axis=-1, keepdims=True)
    num_plausible = jnp.sum(plausible, axis=-1, dtype=jnp.int32)

    # top_k by p_E among plausible tokens; lax.top_k puts the lower id first on ties.
    ranked_p, target_ids = jax.lax.top_k(jnp.where(plausible, expert_p, -1.0), k)
    kept = ranked_p >= 0.0
    scores = jnp.take_along_axis(expert_logp - amateur_logp, target_ids, axis=-1)
    scores = jnp.where(kept, scores, -jnp.inf)
    weights = jnp.where(kept, jax.nn.softmax(scores, axis=-1), 0.0)
    expert_scores = jnp.where(kept, jnp.take_along_axis(expert_logp, target_ids, axis=-1), -jnp.inf)
    expert_weights = jnp.where(kept, jax.nn.softmax(expert_scores, axis=-1), 0.0)
    if k < top_k:  # keep the contract's K even when the vocabulary is smaller
        pad = [(0, 0)] * (weights.ndim - 1) + [(0, top_k - k)]
        weights, target_ids, kept = jnp.pad(weights, pad), jnp.pad(target_ids, pad), jnp.pad(kept, pad)
        expert_weights = jnp.pad(expert_weights, pad)
    target_ids = jnp.where(kept, target_ids, 0).astype(jnp.int32)

    if valid is None:
        valid = jnp.ones(kl.shape, bool)
    selected = valid.astype(bool) & (kl >= beta)
    return ContrastResult(kl, selected, target_ids, weights, num_plausible, expert_weights)

