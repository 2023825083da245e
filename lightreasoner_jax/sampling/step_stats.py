"""Expert vs amateur at the steps of the expert's own sampled answers (the reference's analysis of where the
two disagree): teacher-forced over sample records, the mean entropy of p_E and of p_A and how often their
top-1 tokens agree, over every answer step and over the steps with KL(p_E || p_A) >= beta."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from lightreasoner_jax.models import Transformer
from lightreasoner_jax.models.teacher_forced import forward_logits, teacher_forced_batch


def _per_step(expert_logits: jax.Array, amateur_logits: jax.Array):
    """Entropies over each model's own vocabulary; KL over the shared ids, as the kernel computes it."""
    log_e = jax.nn.log_softmax(expert_logits.astype(jnp.float32), -1)
    log_a = jax.nn.log_softmax(amateur_logits.astype(jnp.float32), -1)
    entropy_e, entropy_a = -(jnp.exp(log_e) * log_e).sum(-1), -(jnp.exp(log_a) * log_a).sum(-1)
    shared = min(log_e.shape[-1], log_a.shape[-1])
    kl = (jnp.exp(log_e[..., :shared]) * (log_e[..., :shared] - log_a[..., :shared])).sum(-1)
    agree = jnp.argmax(expert_logits, -1) == jnp.argmax(amateur_logits, -1)
    return [np.asarray(x) for x in (entropy_e, entropy_a, kl, agree)]


def step_statistics(expert: Transformer, amateur: Transformer, rows: Sequence[tuple[list[int], list[int]]], *,
                    beta: float, batch_size: int = 16, bucket: int = 64) -> dict:
    """rows: (prompt ids, completion ids) of sampled answers. Returns, for 'all_steps' and 'kl_at_least_beta':
    steps, expert_entropy, amateur_entropy (nats, mean) and top1_agreement (share)."""
    sums = {group: np.zeros(4) for group in ('all_steps', 'kl_at_least_beta')}
    for start in range(0, len(rows), batch_size):
        ids, mask, valid, _ = teacher_forced_batch(rows[start:start + batch_size], bucket)
        entropy_e, entropy_a, kl, agree = _per_step(forward_logits(expert, ids, mask), forward_logits(amateur, ids, mask))
        for group, where in (('all_steps', valid), ('kl_at_least_beta', valid & (kl >= beta))):
            sums[group] += [where.sum(), entropy_e[where].sum(), entropy_a[where].sum(), agree[where].sum()]
    out = {}
    for group, (steps, entropy_e, entropy_a, agree) in sums.items():
        out[group] = {'steps': int(steps)}
        if steps:
            out[group].update(expert_entropy=float(entropy_e / steps), amateur_entropy=float(entropy_a / steps),
                              top1_agreement=float(agree / steps))
    return out
