"""The contrast kernel against a direct NumPy computation of the formulas."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.sampling import contrast


def numpy_contrast(expert_logits, amateur_logits, alpha, beta, top_k, valid):
    """One position at a time, straight from the formulas (float64)."""
    e = np.asarray(expert_logits, np.float64)
    a = np.asarray(amateur_logits, np.float64)
    V = min(e.shape[-1], a.shape[-1])
    B, T = e.shape[:2]
    kl = np.zeros((B, T))
    ids = np.zeros((B, T, top_k), np.int64)
    weights = np.zeros((B, T, top_k))
    expert_weights = np.zeros((B, T, top_k))
    num = np.zeros((B, T), np.int64)
    for b in range(B):
        for t in range(T):
            pe = np.exp(e[b, t] - e[b, t].max()); pe /= pe.sum(); pe = pe[:V]
            pa = np.exp(a[b, t] - a[b, t].max()); pa /= pa.sum(); pa = pa[:V]
            kl[b, t] = np.sum(pe * (np.log(pe) - np.log(pa)))
            plausible = np.flatnonzero(pe >= alpha * pe.max())
            num[b, t] = len(plausible)
            order = plausible[np.argsort(-pe[plausible], kind='stable')][:top_k]
            scores = np.log(pe[order]) - np.log(pa[order])
            w = np.exp(scores - scores.max()); w /= w.sum()
            ids[b, t, :len(order)] = order
            weights[b, t, :len(order)] = w
            expert_weights[b, t, :len(order)] = pe[order] / pe[order].sum()
    return kl, valid & (kl >= beta), ids, weights, num, expert_weights


def check(result, expected, kl_atol=2e-5):
    kl, selected, ids, weights, num, expert_weights = expected
    np.testing.assert_allclose(np.asarray(result.expert_weights), expert_weights, atol=1e-5)
    np.testing.assert_allclose(np.asarray(result.kl), kl, atol=kl_atol, rtol=1e-4)
    np.testing.assert_array_equal(np.asarray(result.num_plausible), num)
    np.testing.assert_array_equal(np.asarray(result.target_ids), ids)
    np.testing.assert_allclose(np.asarray(result.target_weights), weights, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(result.selected), selected)
    assert result.kl.dtype == jnp.float32 and result.target_weights.dtype == jnp.float32
    assert result.target_ids.dtype == jnp.int32 and result.num_plausible.dtype == jnp.int32
    assert result.selected.dtype == jnp.bool_


def random_logits(seed, B, T, V, scale=3.0):
    return np.random.RandomState(seed).randn(B, T, V).astype(np.float32) * scale


@pytest.mark.parametrize('V_e,V_a', [(50, 50), (56, 50), (50, 56)])
def test_matches_numpy_on_random_logits(V_e, V_a):
    e, a = random_logits(0, 3, 5, V_e), random_logits(1, 3, 5, V_a)
    valid = np.random.RandomState(2).rand(3, 5) > 0.3
    result = jax.jit(lambda e, a, v: contrast(e, a, alpha=0.2, beta=0.4, top_k=8, valid=v))(e, a, valid)
    check(result, numpy_contrast(e, a, 0.2, 0.4, 8, valid))
    assert np.asarray(result.selected).any() and not np.asarray(result.selected).all()


def test_weights_sum_to_one_and_ids_are_plausible_in_descending_p_e():
    e, a = random_logits(3, 2, 6, 40, scale=1.0), random_logits(4, 2, 6, 40)
    r = contrast(e, a, alpha=0.1, beta=0.0, top_k=40)
    w, ids, num = np.asarray(r.target_weights), np.asarray(r.target_ids), np.asarray(r.num_plausible)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    pe = np.asarray(jax.nn.softmax(e))
    for b in range(2):
        for t in range(6):
            n = num[b, t]
            assert (w[b, t, n:] == 0).all() and (w[b, t, :n] > 0).all()
            p = pe[b, t, ids[b, t, :n]]
            assert (np.diff(p) <= 0).all()
            assert (p >= 0.1 * pe[b, t].max() - 1e-7).all()


def test_ties_keep_every_tied_token_lowest_id_first():
    e = np.full((1, 1, 20), -5.0, np.float32)
    e[0, 0, [3, 7, 11]] = 2.0       # three-way tie at the top
    e[0, 0, 15] = 2.0 + np.log(0.2)  # exactly alpha * max: plausible (>=)
    a = random_logits(5, 1, 1, 20)
    r = contrast(e, a, alpha=0.2, beta=0.0, top_k=3)
    expected = numpy_contrast(e, a, 0.2, 0.0, 3, np.ones((1, 1), bool))
    check(r, expected)
    assert list(np.asarray(r.target_ids)[0, 0]) == [3, 7, 11]
    assert int(r.num_plausible[0, 0]) == expected[4][0, 0] >= 3


def test_one_token_plausible_set_gets_all_the_weight():
    e = random_logits(6, 2, 3, 30)
    e[..., 9] += 50.0  # p_E concentrated on token 9
    a = random_logits(7, 2, 3, 30)
    r = contrast(e, a, alpha=0.2, beta=0.4, top_k=4)
    check(r, numpy_contrast(e, a, 0.2, 0.4, 4, np.ones((2, 3), bool)), kl_atol=1e-3)
    np.testing.assert_array_equal(np.asarray(r.num_plausible), 1)
    np.testing.assert_array_equal(np.asarray(r.target_ids)[..., 0], 9)
    np.testing.assert_array_equal(np.asarray(r.target_weights), [[[1, 0, 0, 0]] * 3] * 2)


def test_top_k_truncation_is_visible_and_renormalised():
    e = np.zeros((1, 2, 30), np.float32)  # uniform p_E: all 30 plausible
    a = random_logits(8, 1, 2, 30)
    r = contrast(e, a, alpha=0.5, beta=0.0, top_k=5)
    check(r, numpy_contrast(e, a, 0.5, 0.0, 5, np.ones((1, 2), bool)))
    np.testing.assert_array_equal(np.asarray(r.num_plausible), 30)
    np.testing.assert_allclose(np.asarray(r.target_weights).sum(-1), 1.0, atol=1e-6)


def test_top_k_larger_than_vocabulary_pads():
    e, a = random_logits(9, 1, 2, 6, scale=0.1), random_logits(10, 1, 2, 6)
    r = contrast(e, a, alpha=0.01, beta=0.0, top_k=10)
    assert r.target_ids.shape == (1, 2, 10)
    check(r, numpy_contrast(e, a, 0.01, 0.0, 10, np.ones((1, 2), bool)))


def test_bfloat16_inputs_are_computed_in_float32():
    e = jnp.asarray(random_logits(11, 2, 4, 64)).astype(jnp.bfloat16)
    a = jnp.asarray(random_logits(12, 2, 4, 64)).astype(jnp.bfloat16)
    r = contrast(e, a, alpha=0.2, beta=0.4, top_k=6)
    valid = np.ones((2, 4), bool)
    check(r, numpy_contrast(np.asarray(e.astype(jnp.float32)), np.asarray(a.astype(jnp.float32)), 0.2, 0.4, 6, valid))


def test_kl_is_zero_for_identical_models_and_beta_selects():
    e = random_logits(13, 2, 3, 25)
    r = contrast(e, e, alpha=0.2, beta=1e-6, top_k=4)
    np.testing.assert_allclose(np.asarray(r.kl), 0.0, atol=1e-6)
    assert not np.asarray(r.selected).any()
    # equal scores on the plausible set: uniform weights over it
    w, n = np.asarray(r.target_weights), np.asarray(r.num_plausible)
    for b in range(2):
        for t in range(3):
            k = min(n[b, t], 4)
            np.testing.assert_allclose(w[b, t, :k], 1.0 / k, atol=1e-6)


def test_sharded_on_batch_equals_unsharded():
    mesh = shd.make_mesh(data=2, fsdp=4, tensor=1)
    e, a = random_logits(14, 8, 6, 48), random_logits(15, 8, 6, 40)
    valid = np.random.RandomState(16).rand(8, 6) > 0.2
    expected = contrast(e, a, alpha=0.2, beta=0.4, top_k=8, valid=valid)
    batch3 = shd.batch_sharding(mesh, 3)
    fn = jax.jit(lambda e, a, v: contrast(e, a, alpha=0.2, beta=0.4, top_k=8, valid=v),
                 in_shardings=(batch3, batch3, shd.batch_sharding(mesh, 2)), out_shardings=None)
    with jax.set_mesh(mesh):
        sharded = fn(e, a, valid)
    assert len(sharded.kl.sharding.device_set) == 8
    for got, want in zip(sharded, expected):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize('kwargs,message', [
    (dict(alpha=0.0, beta=0.4, top_k=4), 'alpha'),
    (dict(alpha=0.2, beta=0.4, top_k=0), 'top_k'),
])
def test_bad_arguments(kwargs, message):
    e = random_logits(0, 1, 2, 10)
    with pytest.raises(ValueError, match=message):
        contrast(e, e, **kwargs)


def test_mismatched_positions_are_an_error():
    with pytest.raises(ValueError, match=r'differ in their leading \[B, T\] shape'):
        contrast(random_logits(0, 1, 3, 10), random_logits(0, 1, 2, 10), alpha=0.2, beta=0.4, top_k=4)
