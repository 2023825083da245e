"""The sample record: one expert answer, its kept steps and their soft targets.

JSON form (one object per line): {"id", "prompt_ids", "completion_ids", "steps", "kl", "target_ids",
"target_weights"}, then the optional fields this project writes (expert_weights, num_plausible,
candidate_kl, completion_text) and any other fields a producer added, kept as they were read.
`steps[j]` = t means the target describes completion_ids[t] given prompt_ids + completion_ids[:t].
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

REQUIRED_FIELDS = ('id', 'prompt_ids', 'completion_ids', 'steps', 'kl', 'target_ids', 'target_weights')
OPTIONAL_FIELDS = ('expert_weights', 'num_plausible', 'candidate_kl', 'completion_text')


class SampleFileError(ValueError):
    """A sample file or record is malformed."""


@dataclasses.dataclass
class SampleRecord:
    id: str
    prompt_ids: list[int]
    completion_ids: list[int]
    steps: list[int]                  # indices t into completion_ids, ascending
    kl: list[float]                   # KL(p_E || p_A) per step
    target_ids: list[list[int]]       # per step: the plausible tokens, by descending p_E
    target_weights: list[list[float]]  # per step: the contrastive soft target over target_ids (sums to 1)
    expert_weights: list[list[float]] | None = None  # per step: p_E renormalised over target_ids
    num_plausible: list[int] | None = None           # per step: plausible-set size before the top_k cap
    candidate_kl: list[float] | None = None          # KL at every candidate step, kept or not
    completion_text: str | None = None               # the decoded answer, for people reading the file
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # other fields, as read

    def to_dict(self) -> dict:
        """The JSON object: required fields, the optional ones present, then the extra ones."""
        out = {name: getattr(self, name) for name in REQUIRED_FIELDS}
        out.update({name: getattr(self, name) for name in OPTIONAL_FIELDS if getattr(self, name) is not None})
        out.update(self.extra)
        return out

    def to_json(self) -> str:
        """One compact JSON line, without the newline."""
        return json.dumps(self.to_dict(), separators=(',', ':'))

    @classmethod
    def from_dict(cls, record: Any, where: str = 'record') -> SampleRecord:
        """Validated; raises SampleFileError naming `where` (file:line) and the field."""
        validate_record(record, where)
        known = REQUIRED_FIELDS + OPTIONAL_FIELDS
        return cls(**{k: record[k] for k in known if k in record},
                   extra={k: v for k, v in record.items() if k not in known})

    @classmethod
    def from_json(cls, line: str | bytes, where: str = 'record') -> SampleRecord:
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SampleFileError(f'{where}: not valid JSON ({e})') from None
        return cls.from_dict(record, where)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def validate_record(record, where: str) -> None:
    """Raises SampleFileError naming `where` (file:line) and the field when the record breaks the contract."""
    if not isinstance(record, dict):
        raise SampleFileError(f'{where}: a record must be a JSON object, got {type(record).__name__}')
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        raise SampleFileError(f'{where}: record lacks field(s) {missing}')
    for field in ('prompt_ids', 'completion_ids', 'steps'):
        value = record[field]
        if not isinstance(value, list) or not all(_is_int(x) for x in value):
            raise SampleFileError(f'{where}: field {field!r} must be a list of integers')
    steps, n = record['steps'], len(record['completion_ids'])
    for field in ('kl', 'target_ids', 'target_weights'):
        if not isinstance(record[field], list) or len(record[field]) != len(steps):
            raise SampleFileError(f'{where}: field {field!r} must be a list with one entry per step '
                                  f'({len(steps)} steps)')
    for j, t in enumerate(steps):
        if not 0 <= t < n:
            raise SampleFileError(f'{where}: steps[{j}] = {t} is outside completion_ids (length {n})')
        ids, weights = record['target_ids'][j], record['target_weights'][j]
        if not isinstance(ids, list) or not isinstance(weights, list) or len(ids) != len(weights) or not ids:
            raise SampleFileError(f'{where}: target_ids[{j}] and target_weights[{j}] must be non-empty lists '
                                  'of equal length')
        if any(not _is_int(i) or i < 0 for i in ids):
            raise SampleFileError(f'{where}: target_ids[{j}] must hold non-negative integers')
        total = sum(weights)
        if any(not isinstance(w, (int, float)) or w < 0 for w in weights) or not math.isclose(total, 1.0, abs_tol=1e-3):
            raise SampleFileError(f'{where}: target_weights[{j}] must be non-negative and sum to 1 (sum {total:.6f})')
