"""Prompts -> left-padded device batches of a fixed global size, and answers back: the host side of
every jitted step that takes a batch of prompts (generation, the sample step).

Batches group prompts of similar length; every process gets the same number of batches and the same
padded lengths, because the jitted calls they feed are collective; `max_lengths` plans the lengths up
front (shape_plan.py), so a run compiles few shapes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import jax
import numpy as np

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.shape_plan import plan_lengths


def bucket_length(length: int, bucket: int) -> int:
    """Prompt length rounded up to a multiple of `bucket` (powers of two below it), so a run
    compiles one function per bucket instead of one per prompt length."""
    if length <= bucket:
        return max(1, 1 << (max(length, 1) - 1).bit_length())
    return -(-length // bucket) * bucket


def left_pad(prompts: Sequence[Sequence[int]], length: int, batch_size: int, pad_id: int):
    """ids [batch_size, length] int32 and mask; rows past len(prompts) are 1-token dummies."""
    ids = np.full((batch_size, length), pad_id, np.int32)
    mask = np.zeros((batch_size, length), bool)
    for row, prompt in enumerate(prompts):
        if len(prompt) > length:
            raise ValueError(f'prompt of {len(prompt)} tokens does not fit in length {length}')
        if len(prompt):
            ids[row, length - len(prompt):] = prompt
            mask[row, length - len(prompt):] = True
    mask[len(prompts):, -1] = True  # dummy rows: one pad token, so nothing is fully masked
    return ids, mask


class PromptBatcher:
    """The host side shared by the jitted prompt-batch steps (Generator, sample_step.SampleStep): prompts
    left-padded to their length bucket into this process's rows of a global batch, answers back.

    `batch_size` is global; with several processes each passes its own batch_size/process_count
    prompts and gets its own rows back.
    """

    def __init__(self, mesh: jax.sharding.Mesh, *, batch_size: int, bucket: int, pad_id: int, prefill_groups: int = 1):
        self.mesh, self.batch_size, self.bucket, self.pad_id = mesh, batch_size, bucket, int(pad_id)
        self.blocks_per_process = prefill_blocks_per_process(prefill_groups, batch_size, jax.process_count())
        self.batch_devices = shd.batch_axis_size(mesh)
        self.batch_sharding = shd.logical_sharding(mesh, ('batch', None), (batch_size, 1))
        self.rows_sharding = shd.logical_sharding(mesh, ('batch',), (batch_size,))
        self.trace_count = 0

    def padded_length(self, prompts: Sequence[Sequence[int]]) -> int:
        return bucket_length(max(len(p) for p in prompts), self.bucket)

    @property
    def local_batch_size(self) -> int:
        return self.batch_size // jax.process_count()

    def device_prompts(self, prompts: Sequence[Sequence[int]], length: int | None) -> tuple[jax.Array, jax.Array]:
        """Global (ids, mask) [batch_size, length] holding this process's prompts. `length`: the padded
        prompt length, which multi-host callers must agree on; None: the bucket of the longest prompt."""
        if len(prompts) > self.local_batch_size:
            raise ValueError(f'got {len(prompts)} prompts for a per-process batch of {self.local_batch_size}')
        length = self.padded_length(prompts or [[0]]) if length is None else length
        ids, mask = left_pad(prompts, length, self.local_batch_size, self.pad_id)
        return (shd.from_process_local(ids, self.batch_sharding),
                shd.from_process_local(mask, self.batch_sharding))

    def row_groups(self, prompts: Sequence[Sequence[int]], length: int) -> tuple[int, ...]:
        """The prefill's row blocks (`prefill_in_groups`) for this batch padded to `length`: () with one group,
        or when the batch's rows divide over the mesh's batch devices and a block's do not (one prefill); else
        each block's longest prompt rounded up to the bucket (at most `length`), agreed by every process (each
        measures its own blocks; the global batch holds the processes' rows in order, as `process_rows`)."""
        per_process, processes = self.blocks_per_process, jax.process_count()
        rows_per_block, devices = self.batch_size // (per_process * processes), self.batch_devices
        if per_process * processes == 1 or (self.batch_size % devices == 0 and rows_per_block % devices):
            return ()  # a batch split over its devices, but blocks that are not, would be computed whole on each
        rows = self.local_batch_size // per_process
        mine = [bucket_length(max([len(p) for p in prompts[g * rows:(g + 1) * rows]] or [1]), self.bucket)
                for g in range(per_process)]
        lengths = [0] * (per_process * processes)
        lengths[jax.process_index() * per_process:(jax.process_index() + 1) * per_process] = mine
        groups = tuple(min(n, length) for n in shd.agree_max_each(lengths))
        return () if all(n == length for n in groups) else groups

    def answers(self, generation, count: int) -> list[list[int]]:
        """The first `count` of this process's generated ids (up to and including EOS)."""
        rows = shd.process_rows(self.batch_size)
        tokens, lengths = shd.to_host(generation.tokens)[rows], shd.to_host(generation.lengths)[rows]
        return [tokens[row, :lengths[row]].tolist() for row in range(count)]


def prefill_blocks_per_process(prefill_groups: int, batch_size: int, processes: int) -> int:
    """Blocks of prefill rows per process for `prefill_groups` over the global batch: each process prefills its
    own rows, so a pod of more processes than groups gets one block per process."""
    per_process = -(-prefill_groups // processes) if prefill_groups >= 1 else 0
    if per_process < 1 or (batch_size // processes) % per_process:
        raise ValueError(f'prefill_groups ({prefill_groups}) must be >= 1 and split the {batch_size // processes} '
                         f'rows of each of the {processes} processes into equal blocks')
    return per_process


def batches_by_length(items, batch_size: int):
    """Batches of similar prompt length (longest first), so padding waste and buckets stay small."""
    ordered = sorted(items, key=lambda item: -len(item[1]))
    return [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]


def collective_batches(items, batcher: PromptBatcher, max_lengths: int = 0, done: frozenset = frozenset()
                       ) -> Iterator[tuple[list, int]]:
    """(batch, padded prompt length) over this process's (question, prompt_ids) items, batched by
    length. Every process gets the same number of batches and the same lengths (empty batches pad the
    shorter lists), because the jitted calls they feed are collective. max_lengths > 0: the lengths
    are planned up front, at most that many distinct ones (each is one compile; shape_plan.py).

    `done`: ids of questions already answered (a resumed run). Batches and lengths are still planned over
    every item, so each batch is padded exactly as in an uninterrupted run; a batch whose questions are
    done on every process is skipped, one with some left is run whole (the caller keeps the new answers).
    """
    batches = batches_by_length(items, batcher.local_batch_size)
    count = shd.agree_max(len(batches))
    batches += [[] for _ in range(count - len(batches))]
    lengths = shd.agree_max_each([batcher.padded_length([p for _, p in b]) if b else 1 for b in batches])
    if max_lengths and lengths:
        lengths = plan_lengths(lengths, max_lengths)
    needed = shd.agree_max_each([int(not done or any(q.id not in done for q, _ in b)) for b in batches])
    yield from ((b, n) for b, n, need in zip(batches, lengths, needed) if need)
