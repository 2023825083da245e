"""Paired comparisons of two evaluations of the same problems: McNemar's exact test on the discordant
answers (problems one run gets right and the other wrong), per run and pooled over runs (seeds)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scipy import stats


def discordant(base: Mapping[str, bool], run: Mapping[str, bool]) -> tuple[int, int]:
    """(gained, lost): problems `run` gets right and `base` wrong, and the reverse; ids must agree."""
    if base.keys() != run.keys():
        missing = sorted(set(base) ^ set(run))[:3]
        raise ValueError(f'the evaluations cover different problems (e.g. {missing})')
    gained = sum(run[i] and not base[i] for i in base)
    lost = sum(base[i] and not run[i] for i in base)
    return gained, lost


def mcnemar_p(gained: int, lost: int) -> float:
    """Two-sided exact McNemar p-value (a binomial test of gained vs lost at 1/2)."""
    n = gained + lost
    return 1.0 if n == 0 else float(stats.binomtest(gained, n, 0.5).pvalue)


def paired_test(base: Mapping[str, bool], runs: Iterable[Mapping[str, bool]]) -> dict:
    """Each run against `base`, and pooled (the discordant counts summed over runs, a stratified McNemar)."""
    per_run = [discordant(base, run) for run in runs]
    gained, lost = sum(g for g, _ in per_run), sum(ell for _, ell in per_run)
    return {'runs': [{'gained': g, 'lost': ell, 'p_value': mcnemar_p(g, ell)} for g, ell in per_run],
            'pooled': {'gained': gained, 'lost': lost, 'p_value': mcnemar_p(gained, lost)}}


def correctness(predictions: Iterable[dict]) -> dict[str, bool]:
    """id -> correct, from prediction records."""
    return {p['id']: bool(p['correct']) for p in predictions}
