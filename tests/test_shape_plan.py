"""Few batch shapes per run: the plan fits every batch with the fewest padded tokens."""

import itertools

import numpy as np
import pytest

from lightreasoner_jax.generation import collective_batches
from lightreasoner_jax.shape_plan import plan_lengths, plan_shapes
from lightreasoner_jax.training import BatchConfig


def _padded_tokens(needs, shapes):
    return sum(min(r * l for r, l in shapes if r >= nr and l >= nl) for nr, nl in needs)


def test_planned_shapes_fit_every_update_with_the_fewest_padded_tokens():
    rng = np.random.RandomState(0)
    needs = [(int(rng.choice([1, 2, 3, 4])), int(rng.choice([128, 192, 256, 320, 384]))) for _ in range(200)]
    grid = sorted({(r, l) for r, _ in needs for _, l in needs})
    widest = (max(r for r, _ in needs), max(l for _, l in needs))
    assert plan_shapes(needs, 1) == (widest,)
    best_pair = min(_padded_tokens(needs, pair) for pair in itertools.combinations(grid, 2)
                    if all(any(a >= r and b >= l for a, b in pair) for r, l in needs))
    for max_shapes in (2, 3, 5):
        shapes = plan_shapes(needs, max_shapes)
        assert len(shapes) <= max_shapes
        assert _padded_tokens(needs, shapes) <= best_pair  # every need fits (else min() raises)
    assert _padded_tokens(needs, plan_shapes(needs, 2)) == best_pair
    assert _padded_tokens(needs, plan_shapes(needs, 3)) < best_pair
    few = [(1, 64), (2, 128), (1, 64)]
    assert plan_shapes(few, 2) == ((1, 64), (2, 128))  # no padding when every need has a shape
    with pytest.raises(ValueError, match='max_batch_shapes'):
        BatchConfig(max_batch_shapes=0)


def test_planned_prompt_lengths_hold_each_batch():
    lengths = [448, 384, 320, 320, 256, 256, 256, 192, 192, 128, 128, 64]
    planned = plan_lengths(lengths, 2)
    assert len(set(planned)) == 2 and all(p >= n for p, n in zip(planned, lengths))
    assert sum(planned) == min(sum(max(n, a if n <= a else b) for n in lengths)
                               for a in set(lengths) for b in [448] if a <= b)  # the best split point
    assert plan_lengths(lengths, 100) == lengths and set(plan_lengths(lengths, 1)) == {448}


class _FakeGenerator:
    local_batch_size = 2

    @staticmethod
    def padded_length(prompts):
        return -(-max(map(len, prompts)) // 8) * 8


def test_collective_batches_use_at_most_the_planned_lengths():
    items = [(f'q{i}', [1] * n) for i, n in enumerate([3, 9, 17, 25, 33, 41, 49, 57])]
    free = list(collective_batches(items, _FakeGenerator))
    planned = list(collective_batches(items, _FakeGenerator, max_lengths=2))
    assert [b for b, _ in free] == [b for b, _ in planned]  # the same batches, fewer lengths
    assert len({n for _, n in free}) == 4 and len({n for _, n in planned}) == 2
    for (batch, length), (_, own) in zip(planned, free):
        assert length >= own >= max(len(p) for _, p in batch)
