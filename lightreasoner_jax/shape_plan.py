"""Few batch shapes for a whole run: every distinct shape a jitted step sees is one more compile.

The train stage plans (rows, length) over all its updates; the sample and eval stages plan prompt
lengths (rows fixed) over all their batches. Plans are pure functions of the needs, so every process
and every resumed run pads and compiles the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def plan_shapes(needs: Sequence[tuple[int, int]], max_shapes: int) -> tuple[tuple[int, int], ...]:
    """At most `max_shapes` (rows, length) shapes that fit every need with the fewest padded tokens in
    all (sum over needs of rows x length of the smallest shape that fits it).

    Each distinct shape compiles a jitted step once (seconds on CPU, minutes for a large model on an
    accelerator), and the batches of a run need a handful of them; padding some batches up to a
    shared shape costs less than compiling one more. Candidates are the grid of needed row counts x
    needed lengths; pairs are searched exhaustively, larger plans grow greedily from the best pair.
    """
    shapes_needed, counts = np.unique(np.asarray(needs, np.int64).reshape(-1, 2), axis=0, return_counts=True)
    if not len(counts):
        raise ValueError('no batches to plan shapes for')
    if len(counts) <= max_shapes:  # every need gets its own shape: no padding beyond the buckets
        return tuple((int(rows), int(length)) for rows, length in shapes_needed)
    grid = [(int(rows), int(length)) for rows in np.unique(shapes_needed[:, 0])
            for length in np.unique(shapes_needed[:, 1])]
    area = np.array([[rows * length if rows >= nr and length >= nl else np.inf for nr, nl in shapes_needed]
                     for rows, length in grid])

    def cost(subset):
        return float(np.min(area[list(subset)], axis=0) @ counts)

    best = min(((i,) for i in range(len(grid))), key=cost)  # the widest shape alone always fits
    if max_shapes >= 2 and len(grid) >= 2:
        best = min([best] + list(itertools.combinations(range(len(grid)), 2)), key=cost)
    while len(best) < min(max_shapes, len(grid)):
        grown = min((best + (i,) for i in range(len(grid)) if i not in best), key=cost)
        if cost(grown) >= cost(best):
            break
        best = grown
    return tuple(sorted(grid[i] for i in best))


def fitting_shape(need: tuple[int, int], shapes: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The smallest of `shapes` that holds `need`."""
    fits = [s for s in shapes if s[0] >= need[0] and s[1] >= need[1]]
    if not fits:
        raise ValueError(f'no planned batch shape holds {need} (planned: {list(shapes)})')
    return min(fits, key=lambda s: (s[0] * s[1], s))


def plan_lengths(lengths: Sequence[int], max_lengths: int) -> list[int]:
    """Each batch's padded length (rows fixed) mapped to one of at most `max_lengths` planned lengths."""
    planned = sorted(length for _, length in plan_shapes([(1, n) for n in lengths], max_lengths))
    return [next(p for p in planned if p >= n) for n in lengths]
