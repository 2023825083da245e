"""The training objectives: what each sample record's steps are trained towards.

    contrast     the kept steps, the contrastive soft target softmax(log p_E - log p_A) (LightReasoner)
    expert_only  the kept steps, the expert's own p_E over the same tokens (the paper's "w/o contrast")
    all_steps    every stored step, the contrastive target ("w/o selection": sample with beta = -1)
    sft          every answer token of the ground-truth solutions, one-hot (the SFT baseline; sft.py)

An objective with `reselects` honours `min_kl`: only stored steps with KL >= min_kl are trained on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from lightreasoner_jax.sampling.records import SampleFileError, SampleRecord


def contrastive_targets(record: SampleRecord) -> list[list[float]]:
    return record.target_weights


def expert_targets(record: SampleRecord) -> list[list[float]]:
    if record.expert_weights is None:
        raise SampleFileError(f'record {record.id!r} has no expert_weights (the expert_only objective needs them); '
                              'sample again with this version, which stores them')
    return record.expert_weights


@dataclasses.dataclass(frozen=True)
class Objective:
    name: str
    targets: Callable[[SampleRecord], list[list[float]]]  # per stored step: weights over its target_ids
    reselects: bool           # min_kl applies
    uses_samples: bool        # False: trains on ground-truth answers, not on sample records


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective('contrast', contrastive_targets, reselects=True, uses_samples=True),
    Objective('expert_only', expert_targets, reselects=True, uses_samples=True),
    Objective('all_steps', contrastive_targets, reselects=False, uses_samples=True),
    Objective('sft', contrastive_targets, reselects=False, uses_samples=False),
)}


def objective(name: str) -> Objective:
    if name not in OBJECTIVES:
        raise ValueError(f'train.objective must be one of {tuple(OBJECTIVES)}, got {name!r}')
    return OBJECTIVES[name]
