"""McNemar's exact test on paired evaluations, per run and pooled."""

import pytest
from scipy import stats

from lightreasoner_jax.evaluation.paired import discordant, mcnemar_p, paired_test


def test_discordant_counts_and_exact_p():
    base = {'a': True, 'b': False, 'c': False, 'd': True}
    run = {'a': True, 'b': True, 'c': True, 'd': False}
    assert discordant(base, run) == (2, 1)
    assert mcnemar_p(2, 1) == pytest.approx(1.0)
    assert mcnemar_p(0, 0) == 1.0
    # 15 gained, 2 lost: sum of binomial tails, computed directly
    tail = sum(stats.binom.pmf(k, 17, 0.5) for k in range(0, 3))
    assert mcnemar_p(15, 2) == pytest.approx(2 * tail)


def test_pooled_sums_discordant_pairs_and_ids_must_match():
    base = {str(i): i % 2 == 0 for i in range(40)}
    better = {str(i): True for i in range(40)}
    result = paired_test(base, [better, better, base])
    assert [r['gained'] for r in result['runs']] == [20, 20, 0]
    assert result['pooled'] == {'gained': 40, 'lost': 0, 'p_value': pytest.approx(2 * 0.5 ** 40)}
    with pytest.raises(ValueError, match='different problems'):
        paired_test(base, [{'x': True}])
