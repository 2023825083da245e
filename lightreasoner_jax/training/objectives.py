"""The training objectives: what each sample record's steps are trained towards.

    contrast     the kept steps, the contrastive soft target softmax(log p_E - log p_A) (LightReasoner)
    expert_only  the kept steps, the expert's own p_E over the same tokens (the paper's "w/o contrast")
    all_steps    every stored step, the contrastive target ("w/o selection": sample with beta = -1)
    all_steps_expert  every stored step, the expert's own p_E ("w/o both")
    random_steps every stored step's record, as many steps as have KL >= min_kl, chosen uniformly at random,
                 the contrastive target (the control that tells KL selection from extra training; sample
                 with beta = -1 so every step is stored, and set min_kl to the beta it stands in for)
    sft          every answer token of the ground-truth solutions, one-hot (the SFT baseline; sft.py)
    rs_sft       every answer token of the expert's own sampled answers that reach the gold final answer
                 (rejection-sampling SFT, the paper's "SFT" rows; rejection.py)

An objective with `reselects` honours `min_kl` through its `select`: by default only stored steps with
KL >= min_kl are trained on.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable

import numpy as np

from lightreasoner_jax.sampling.records import SampleFileError, SampleRecord


def contrastive_targets(record: SampleRecord) -> list[list[float]]:
    return record.target_weights


def expert_targets(record: SampleRecord) -> list[list[float]]:
    if record.expert_weights is None:
        raise SampleFileError(f'record {record.id!r} has no expert_weights (the expert_only objective needs them); '
                              'sample again with this version, which stores them')
    return record.expert_weights


def kl_selection(record: SampleRecord, min_kl: float | None, seed: int) -> list[int]:
    """The stored steps (indices into record.steps) with KL >= min_kl; all of them for None."""
    return [j for j, kl in enumerate(record.kl) if min_kl is None or kl >= min_kl]


def random_selection(record: SampleRecord, min_kl: float | None, seed: int) -> list[int]:
    """As many stored steps as have KL >= min_kl, drawn uniformly (seeded by `seed` and the record id)."""
    if min_kl is None:
        raise ValueError('the random_steps objective needs train.min_kl >= 0: the KL threshold whose number of '
                         'steps per answer it draws at random')
    count = sum(kl >= min_kl for kl in record.kl)
    rng = np.random.RandomState([seed, zlib.crc32(record.id.encode())])
    return sorted(int(j) for j in rng.choice(len(record.steps), size=count, replace=False))


@dataclasses.dataclass(frozen=True)
class Objective:
    name: str
    targets: Callable[[SampleRecord], list[list[float]]]  # per stored step: weights over its target_ids
    reselects: bool           # min_kl applies
    uses_samples: bool        # False: trains on ground-truth answers, not on sample records
    select: Callable[[SampleRecord, float | None, int], list[int]] = kl_selection  # which stored steps


OBJECTIVES: dict[str, Objective] = {o.name: o for o in (
    Objective('contrast', contrastive_targets, reselects=True, uses_samples=True),
    Objective('expert_only', expert_targets, reselects=True, uses_samples=True),
    Objective('all_steps', contrastive_targets, reselects=False, uses_samples=True),
    Objective('all_steps_expert', expert_targets, reselects=False, uses_samples=True),
    Objective('random_steps', contrastive_targets, reselects=True, uses_samples=True, select=random_selection),
    Objective('sft', contrastive_targets, reselects=False, uses_samples=False),
    Objective('rs_sft', contrastive_targets, reselects=False, uses_samples=False),
)}


def objective(name: str) -> Objective:
    if name not in OBJECTIVES:
        raise ValueError(f'train.objective must be one of {tuple(OBJECTIVES)}, got {name!r}')
    return OBJECTIVES[name]
