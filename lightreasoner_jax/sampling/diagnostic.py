"""Does the contrast know better than the expert? Teacher-forced on gold solutions, at every answer token:
is the expert's argmax the gold token, and is the contrast's argmax (the largest soft-target weight,
softmax(log p_E - log p_A) over the plausible set) the gold token? Counted over every step and over the
steps KL selection keeps, with the plausible-set sizes of the kept steps.

`fixed` counts steps where the contrast is right and the expert wrong, `broken` the reverse: where the
contrast's targets teach the expert something, and where they teach it a mistake. Comparing them shows
whether an amateur's distribution holds anything worth subtracting (in the clean toy world it does not).
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import jax.numpy as jnp
import numpy as np

from lightreasoner_jax.data import Question, build_prompt_ids
from lightreasoner_jax.models import Transformer
from lightreasoner_jax.models.teacher_forced import forward_logits, teacher_forced_batch
from lightreasoner_jax.sampling.kernel import ContrastConfig, contrast

COUNTS = ('steps', 'expert_right', 'contrast_right', 'fixed', 'broken',
          'kept', 'kept_expert_right', 'kept_contrast_right', 'kept_fixed', 'kept_broken')


def contrast_diagnostic(expert: Transformer, amateur: Transformer, tokenizer, questions: Sequence[Question], *,
                        config: ContrastConfig, eos_id: int, system_prompt: str | None,
                        template: str | None = None, batch_size: int = 32) -> dict:
    """Counts (COUNTS), step accuracies, and the kept steps' plausible-set sizes ({size: steps}) over the
    gold answers of `questions` (each must have one), each followed by `eos_id`."""
    missing = [q.id for q in questions if not q.answer]
    if missing:
        raise ValueError(f'the contrast diagnostic needs gold answers; question {missing[0]!r} has none')
    counts = dict.fromkeys(COUNTS, 0)
    sizes: collections.Counter[int] = collections.Counter()
    for start in range(0, len(questions), batch_size):
        rows = [(build_prompt_ids(tokenizer, q.question, system_prompt, template),
                 list(tokenizer.encode(q.answer, add_special_tokens=False)) + [eos_id])
                for q in questions[start:start + batch_size]]
        ids, mask, valid, gold = teacher_forced_batch(rows)
        expert_logits, amateur_logits = forward_logits(expert, ids, mask), forward_logits(amateur, ids, mask)
        result = contrast(expert_logits, amateur_logits, alpha=config.alpha, beta=config.beta,
                          top_k=config.top_k, valid=jnp.asarray(valid))
        weights = np.asarray(result.target_weights)
        contrast_pick = np.take_along_axis(np.asarray(result.target_ids), weights.argmax(-1)[..., None], -1)[..., 0]
        expert_right = valid & (np.asarray(jnp.argmax(expert_logits, -1)) == gold)
        contrast_right = valid & (contrast_pick == gold)
        kept = np.asarray(result.selected)
        for prefix, where in (('', valid), ('kept_', kept)):
            counts['steps' if not prefix else 'kept'] += int(where.sum())
            counts[prefix + 'expert_right'] += int((expert_right & where).sum())
            counts[prefix + 'contrast_right'] += int((contrast_right & where).sum())
            counts[prefix + 'fixed'] += int((contrast_right & ~expert_right & where).sum())
            counts[prefix + 'broken'] += int((expert_right & ~contrast_right & where).sum())
        sizes.update(np.asarray(result.num_plausible)[kept].tolist())
    return {'problems': len(questions), **counts,
            'expert_step_accuracy': counts['expert_right'] / max(counts['steps'], 1),
            'contrast_step_accuracy': counts['contrast_right'] / max(counts['steps'], 1),
            'kept_rate': counts['kept'] / max(counts['steps'], 1),
            'kept_plausible_sizes': {str(k): v for k, v in sorted(sizes.items())}}
