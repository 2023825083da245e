"""Sample records -> training batches.

A training *position* is one kept step: the prefix prompt + completion[:t] and a sparse target over
the vocabulary. An update consumes exactly `positions_per_update` positions (the reference's
effective batch: 8 x 2 gradient accumulation = 16), in a seeded order that reshuffles answers every
epoch, so the batch of update u is a pure function of (records, seed, u): resuming needs only u.

Two layouts of the same positions:
  packed        one row per run of consecutive steps of one answer: prompt + completion[:t_last],
                logits taken at every step of the run (trajectory packing);
  per_position  one row per step, prompt + completion[:t], right-padded, logits at the last real token
                (the reference's batching, without its pad-position bug).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from lightreasoner_jax.generation.prompt_batches import bucket_length
from lightreasoner_jax.sampling.records import SampleRecord
from lightreasoner_jax.shape_plan import fitting_shape
from lightreasoner_jax.training.objectives import Objective

MODES = ('packed', 'per_position')


class Position(NamedTuple):
    record: int        # index into the records
    step: int          # t: the target describes completion_ids[t]
    target_ids: tuple
    target_weights: tuple


class TrainBatch(NamedTuple):
    """One microbatch: R rows of L tokens, and P training positions (a fixed number, so the
    compiled step depends only on R and L), each with K target slots."""
    input_ids: np.ndarray       # [R, L] int32
    positions: np.ndarray       # [R, L] int32
    attention_mask: np.ndarray  # [R, L] bool
    position_row: np.ndarray    # [P] int32 the row of each training position
    position_index: np.ndarray  # [P] int32 the sequence index whose logits predict its target
    target_ids: np.ndarray      # [P, K] int32
    target_weights: np.ndarray  # [P, K] float32 (0 = padding)
    position_mask: np.ndarray   # [P] bool

    ROW_FIELDS = ('input_ids', 'positions', 'attention_mask')


@dataclasses.dataclass(frozen=True)
class BatchConfig:
    mode: str = 'packed'
    positions_per_update: int = 16
    grad_accum: int = 1            # microbatches per update (positions split evenly)
    length_bucket: int = 64        # row lengths padded to multiples of this (fewer compiles)
    seed: int = 0
    row_multiple: int = 1          # row counts are multiples of this (the mesh's batch-axis size)
    max_batch_shapes: int = 2      # distinct (rows, length) batch shapes per run: each costs a compile

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f'train.mode must be one of {MODES}, got {self.mode!r}')
        if self.max_batch_shapes < 1:
            raise ValueError(f'train.max_batch_shapes must be >= 1, got {self.max_batch_shapes}')
        if self.positions_per_update % self.grad_accum:
            raise ValueError(f'positions_per_update={self.positions_per_update} must be a multiple of '
                             f'grad_accum={self.grad_accum}')


def training_positions(records: Sequence[SampleRecord], objective: Objective, *,
                       min_kl: float | None = None, seed: int = 0) -> list[list[Position]]:
    """Per record, its positions in step order, with the objective's targets. `min_kl` (for an
    objective that reselects) picks the stored steps through the objective's `select` (by default those
    with KL >= min_kl); `seed` drives a random selection."""
    if not objective.reselects:
        min_kl = None
    out = []
    for index, record in enumerate(records):
        weights = objective.targets(record)
        chosen = objective.select(record, min_kl, seed)  # every stored step when min_kl is None
        out.append([Position(index, record.steps[j], tuple(record.target_ids[j]), tuple(weights[j]))
                    for j in chosen])
    return out


class UpdateSchedule:
    """The positions of every update: answers shuffled per epoch, their steps kept in order, cut
    into consecutive groups of positions_per_update."""

    def __init__(self, per_record: list[list[Position]], positions_per_update: int, seed: int):
        self.per_record = per_record
        self.size = positions_per_update
        self.seed = seed
        self.total = sum(len(p) for p in per_record)
        if self.total == 0:
            raise ValueError('no training positions: the samples hold no kept steps')
        self._epoch, self._stream = None, None

    def _epoch_stream(self, epoch: int) -> list[Position]:
        if self._epoch != epoch:
            order = np.random.RandomState([self.seed, epoch]).permutation(len(self.per_record))
            self._stream = [p for i in order for p in self.per_record[i]]
            self._epoch = epoch
        return self._stream

    def positions(self, update: int) -> list[Position]:
        start = update * self.size
        out = []
        while len(out) < self.size:
            epoch, offset = divmod(start + len(out), self.total)
            stream = self._epoch_stream(epoch)
            out.extend(stream[offset:offset + self.size - len(out)])
        return out

    @property
    def updates_per_epoch(self) -> float:
        return self.total / self.size


def _rows(positions: Sequence[Position], mode: str) -> list[list[Position]]:
    if mode == 'per_position':
        return [[p] for p in positions]
    rows: list[list[Position]] = []
    for p in positions:  # consecutive steps of one answer share a row
        if rows and rows[-1][-1].record == p.record and rows[-1][-1].step < p.step:
            rows[-1].append(p)
        else:
            rows.append([p])
    return rows


def row_bucket(n: int, multiple: int = 1) -> int:
    """n rows rounded up to a quarter-octave step (8, 10, 12, 14, 16, 20, 24, ...: at most 25% padding
    and four shapes per doubling) that is also a multiple of `multiple` (the devices rows shard over)."""
    octave = 1 << max(n - 1, 0).bit_length()
    granule = max(octave // 8, 1)
    granule = -(-granule // multiple) * multiple
    return max(-(-n // granule) * granule, multiple)


def make_batch(positions: Sequence[Position], records: Sequence[SampleRecord], mode: str, *, num_rows: int,
               length: int, num_positions: int, num_targets: int) -> TrainBatch:
    rows = _rows(positions, mode)
    R, L, P, K = num_rows, length, num_positions, num_targets
    batch = TrainBatch(np.zeros((R, L), np.int32), np.zeros((R, L), np.int32), np.zeros((R, L), bool),
                       np.zeros((P,), np.int32), np.zeros((P,), np.int32), np.zeros((P, K), np.int32),
                       np.zeros((P, K), np.float32), np.zeros((P,), bool))
    n = 0
    for r, row in enumerate(rows):
        record = records[row[0].record]
        prompt = record.prompt_ids
        tokens = prompt + record.completion_ids[:row[-1].step]  # everything the last step conditions on
        batch.input_ids[r, :len(tokens)] = tokens
        batch.attention_mask[r, :len(tokens)] = True
        batch.positions[r, :len(tokens)] = np.arange(len(tokens))
        for p in row:
            batch.position_row[n] = r
            batch.position_index[n] = len(prompt) - 1 + p.step
            batch.target_ids[n, :len(p.target_ids)] = p.target_ids
            batch.target_weights[n, :len(p.target_weights)] = p.target_weights
            batch.position_mask[n] = True
            n += 1
    return batch


def _microbatches(positions: Sequence[Position], grad_accum: int) -> list[Sequence[Position]]:
    n = len(positions)
    return [positions[i * n // grad_accum:(i + 1) * n // grad_accum] for i in range(grad_accum)]


def update_shape(positions: Sequence[Position], records: Sequence[SampleRecord], config: BatchConfig) -> tuple[int, int]:
    """(rows, length) an update needs: its rows to a row_bucket, its longest row to config.length_bucket."""
    rows = [_rows(m, config.mode) for m in _microbatches(positions, config.grad_accum)]
    num_rows = row_bucket(max(len(r) for r in rows), config.row_multiple)
    longest = max(len(records[row[0].record].prompt_ids) + row[-1].step for r in rows for row in r)
    return num_rows, bucket_length(longest, config.length_bucket)


def update_batches(positions: Sequence[Position], records: Sequence[SampleRecord], config: BatchConfig,
                   num_targets: int, shapes: Sequence[tuple[int, int]] | None = None) -> TrainBatch:
    """The update's microbatches stacked on a leading [A] axis, padded to the smallest of `shapes`
    (from plan_shapes) that fits, or, without a plan, to the update's own bucketed shape."""
    need = update_shape(positions, records, config)
    num_rows, length = need if shapes is None else fitting_shape(need, shapes)
    batches = [make_batch(m, records, config.mode, num_rows=num_rows, length=length,
                          num_positions=config.positions_per_update // config.grad_accum, num_targets=num_targets)
               for m in _microbatches(positions, config.grad_accum)]
    return TrainBatch(*(np.stack(x) for x in zip(*batches)))


def max_targets(per_record: Sequence[Sequence[Position]]) -> int:
    """The most target tokens any position has (the K of every batch)."""
    return max((len(p.target_ids) for positions in per_record for p in positions), default=1)
