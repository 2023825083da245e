"""The updates of a run, planned up front: which positions each update trains on and the few batch
shapes that hold them all. A pure function of the records and settings, so a resumed run pads and
compiles exactly as the first one did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from lightreasoner_jax.sampling.records import SampleRecord
from lightreasoner_jax.shape_plan import plan_shapes
from lightreasoner_jax.training.batches import (
    BatchConfig,
    TrainBatch,
    UpdateSchedule,
    max_targets,
    training_positions,
    update_batches,
    update_shape,
)
from lightreasoner_jax.training.objectives import Objective


class UpdatePlan(NamedTuple):
    per_record: list          # training positions per record
    schedule: UpdateSchedule
    num_targets: int          # target slots K
    shapes: tuple             # the (rows, length) batch shapes the run compiles

    def batch(self, step: int, records, batching: BatchConfig) -> TrainBatch:
        return update_batches(self.schedule.positions(step), records, batching, self.num_targets,
                                         self.shapes)


def update_plan(records: Sequence[SampleRecord], objective: Objective, min_kl: float | None, batching: BatchConfig,
                num_steps: int) -> UpdatePlan:
    """What updates 0..num_steps-1 train on, and the few batch shapes that hold them all (a pure
    function of its arguments, so a resumed run pads and compiles as the first one did)."""
    per_record = training_positions(records, objective, min_kl=min_kl, seed=batching.seed)
    schedule = UpdateSchedule(per_record, batching.positions_per_update, batching.seed)
    needs = [update_shape(schedule.positions(step), records, batching) for step in range(num_steps)]
    shapes = plan_shapes(needs, batching.max_batch_shapes) if needs else ()
    return UpdatePlan(per_record, schedule, max_targets(per_record), shapes)
