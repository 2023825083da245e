"""pass@k and maj@k over n sampled answers per question.

pass@k: the chance that at least one of k answers drawn without replacement from the n is right, the
unbiased estimator 1 - C(n-c, k) / C(n, k) of Chen et al. (2021), averaged over questions. maj@k: whether the
most frequent extracted answer among the first k samples is right (ties go to the answer seen first);
answers count as the same when their normalised text is equal.
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import Sequence


def pass_at_k(n: int, correct: int, k: int) -> float:
    if not 0 < k <= n:
        raise ValueError(f'pass@k needs 0 < k <= n samples, got k={k}, n={n}')
    if n - correct < k:
        return 1.0
    return 1.0 - math.comb(n - correct, k) / math.comb(n, k)


def _key(answer: str | None) -> str | None:
    return None if answer is None else re.sub(r'\s+', '', answer).rstrip('.').lower()


def majority_correct(samples: Sequence[dict], k: int) -> bool:
    """samples: records with 'predicted' and 'correct', in sample order; the first k vote."""
    votes = collections.Counter()
    first: dict[str | None, dict] = {}
    for sample in samples[:k]:
        key = _key(sample['predicted'])
        if key is None:
            continue  # no answer is no vote
        votes[key] += 1
        first.setdefault(key, sample)
    if not votes:
        return False
    top = max(votes.values())
    winner = next(key for key in first if votes[key] == top)  # first seen among the most voted
    return bool(first[winner]['correct'])


def sampled_metrics(samples_by_question: dict[str, Sequence[dict]], ks: Sequence[int]) -> dict:
    """{'pass@k': ..., 'maj@k': ...} for each k, over questions each with its n samples (in order)."""
    if not samples_by_question:
        return {}
    out = {}
    for k in ks:
        out[f'pass@{k}'] = sum(pass_at_k(len(s), sum(bool(x['correct']) for x in s), k)
                               for s in samples_by_question.values()) / len(samples_by_question)
        out[f'maj@{k}'] = sum(majority_correct(s, k) for s in samples_by_question.values()) / len(samples_by_question)
    return out
