"""The sample store: JSON Lines of `SampleRecord`s, one file per process,
`samples-{i:05d}-of-{n:05d}.jsonl`, appended durably batch by batch (json_lines.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from etils import epath

from lightreasoner_jax import json_lines
from lightreasoner_jax.sampling.records import SampleFileError, SampleRecord

FILE_PATTERN = re.compile(r'samples-(\d{5})-of-(\d{5})\.jsonl$')


def sample_file_name(process_index: int, process_count: int) -> str:
    return json_lines.process_file_name('samples', process_index, process_count)


def recover(path) -> list[SampleRecord]:
    """The records of a (possibly interrupted) sample file, validated; a torn last line is cut off the
    file (a killed writer), a bad complete line is an error naming file:line."""
    return [SampleRecord.from_json(line, where) for where, line in json_lines.recover_lines(path)]


def append_records(path, records: Iterable[SampleRecord]) -> None:
    """Appends whole records and makes them durable before returning."""
    json_lines.append_lines(path, (r.to_json() for r in records))


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


def read_samples(directory) -> list[SampleRecord]:
    """Every record of every process's file, validated; a torn line or a duplicate id is an error."""
    records, seen = [], {}
    for path in sample_files(directory):
        data = path.read_bytes()
        if data and not data.endswith(b'\n'):
            last_line = data.count(b'\n') + 1
            raise SampleFileError(f'{path}:{last_line}: unterminated last line (an interrupted write; '
                                  'rerun the sample stage to repair it)')
        for number, line in enumerate(data.splitlines(), start=1):
            where = f'{path}:{number}'
            record = SampleRecord.from_json(line, where)
            if record.id in seen:
                raise SampleFileError(f'{where}: id {record.id!r} already at {seen[record.id]}')
            seen[record.id] = where
            records.append(record)
    return records
