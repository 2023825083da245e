"""The sample store: JSON Lines, one record per answer, one file per process.

Record (DESIGN.md): {"id", "prompt_ids", "completion_ids", "steps", "kl", "target_ids",
"target_weights"}; `steps[j]` = t means the target describes completion_ids[t] given
prompt_ids + completion_ids[:t]. Extra fields are allowed.

Appends write whole lines, then flush and fsync, so a killed writer leaves at most one torn last
line; `recover` drops it (truncating the file) and returns the records before it. On object stores
(gs://, through etils.epath), which cannot append, an append rewrites the object with the new lines
added: each object write is atomic, so nothing is ever torn there.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable

from etils import epath

REQUIRED_FIELDS = ('id', 'prompt_ids', 'completion_ids', 'steps', 'kl', 'target_ids', 'target_weights')
FILE_PATTERN = re.compile(r'samples-(\d{5})-of-(\d{5})\.jsonl$')


class SampleFileError(ValueError):
    """A sample file or record is malformed."""


def sample_file_name(process_index: int, process_count: int) -> str:
    return f'samples-{process_index:05d}-of-{process_count:05d}.jsonl'


def validate_record(record, where: str) -> None:
    """Raises SampleFileError naming `where` (file:line) and the field when the record breaks the contract."""
    if not isinstance(record, dict):
        raise SampleFileError(f'{where}: a record must be a JSON object, got {type(record).__name__}')
    missing = [f for f in REQUIRED_FIELDS if f not in record]
    if missing:
        raise SampleFileError(f'{where}: record lacks field(s) {missing}')
    for field in ('prompt_ids', 'completion_ids', 'steps'):
        value = record[field]
        if not isinstance(value, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in value):
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
        if any(not isinstance(i, int) or i < 0 for i in ids):
            raise SampleFileError(f'{where}: target_ids[{j}] must hold non-negative integers')
        total = sum(weights)
        if any(not isinstance(w, (int, float)) or w < 0 for w in weights) or not math.isclose(total, 1.0, abs_tol=1e-3):
            raise SampleFileError(f'{where}: target_weights[{j}] must be non-negative and sum to 1 (sum {total:.6f})')


def is_local(path) -> bool:
    return '://' not in os.fspath(path)


def recover(path, validate: Callable[[dict, str], None] | None = validate_record) -> list[dict]:
    """Records of a (possibly interrupted) JSON Lines file (samples by default; `validate` checks each
    record, given its file:line). Bytes after the last newline are a torn write from a killed writer:
    they are cut off the file. A bad complete line is an error."""
    path = epath.Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    complete_end = data.rfind(b'\n') + 1
    if complete_end < len(data):
        if is_local(path):
            with open(path, 'r+b') as f:
                f.truncate(complete_end)
        else:
            path.write_bytes(data[:complete_end])
    records = []
    for number, line in enumerate(data[:complete_end].splitlines(), start=1):
        where = f'{path}:{number}'
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SampleFileError(f'{where}: not valid JSON ({e})') from None
        if validate is not None:
            validate(record, where)
        records.append(record)
    return records


def append_records(path, records: Iterable[dict]) -> None:
    """Appends whole records and makes them durable before returning."""
    text = ''.join(json.dumps(r, separators=(',', ':')) + '\n' for r in records)
    if not text:
        return
    if not is_local(path):
        path = epath.Path(path)
        path.write_bytes((path.read_bytes() if path.exists() else b'') + text.encode('utf-8'))
        return
    with open(path, 'a', encoding='utf-8') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def sample_files(directory) -> list[epath.Path]:
    directory = epath.Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f'{directory}: no samples directory')
    files = sorted(p for p in directory.iterdir() if FILE_PATTERN.search(p.name))
    if not files:
        raise FileNotFoundError(f'{directory}: no samples-XXXXX-of-XXXXX.jsonl files')
    counts = {int(FILE_PATTERN.search(p.name).group(2)) for p in files}
    if len(counts) > 1:
        raise SampleFileError(f'{directory}: sample files from runs with different process counts {sorted(counts)}')
    return files


def read_samples(directory) -> list[dict]:
    """Every record of every process's file, validated; duplicate ids are an error."""
    records, seen = [], {}
    for path in sample_files(directory):
        with path.open(encoding='utf-8') as f:
            for number, line in enumerate(f, start=1):
                where = f'{path}:{number}'
                if not line.endswith('\n'):
                    raise SampleFileError(f'{where}: unterminated last line (an interrupted write; '
                                          'rerun the sample stage to repair it)')
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    raise SampleFileError(f'{where}: not valid JSON ({e.msg})') from None
                validate_record(record, where)
                if record['id'] in seen:
                    raise SampleFileError(f'{where}: id {record["id"]!r} already at {seen[record["id"]]}')
                seen[record['id']] = where
                records.append(record)
    return records
