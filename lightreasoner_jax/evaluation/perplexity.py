"""Perplexity of given answers under a model (teacher-forced): of gold solutions, or of the base model's own
answers, before and after tuning. A drift check: training on softmax(log p_E - log p_A) could push the
expert toward text the amateur finds unlikely, away from fluent solutions; a perplexity of gold solutions
that rises after tuning would show it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lightreasoner_jax.data import build_prompt_ids
from lightreasoner_jax.models import Transformer
from lightreasoner_jax.models.teacher_forced import answer_log_probs


def perplexity(model: Transformer, tokenizer, pairs: Sequence[tuple[str, str]], *, system_prompt: str | None,
               template: str | None = None, eos_id: int | None = None, batch_size: int = 16,
               bucket: int = 64) -> dict:
    """pairs: (question, answer text). Token-weighted mean negative log-likelihood of the answers (each
    followed by `eos_id` when given) and its exp: {'answers', 'tokens', 'mean_nll', 'perplexity'}."""
    rows = []
    for question, answer in pairs:
        ids = list(tokenizer.encode(answer, add_special_tokens=False)) + ([eos_id] if eos_id is not None else [])
        if ids:
            rows.append((build_prompt_ids(tokenizer, question, system_prompt, template), ids))
    if not rows:
        return {'answers': 0, 'tokens': 0}
    log_probs = answer_log_probs(model, rows, batch_size=batch_size, bucket=bucket)
    tokens = sum(len(lp) for lp in log_probs)
    mean_nll = -sum(float(lp.sum()) for lp in log_probs) / tokens
    return {'answers': len(rows), 'tokens': tokens, 'mean_nll': mean_nll, 'perplexity': math.exp(mean_nll)}
