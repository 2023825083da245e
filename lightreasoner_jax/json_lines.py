"""Durable JSON Lines files that survive a killed writer: the sample store and the prediction files.

Appends write whole lines, then flush and fsync, so a killed writer leaves at most one torn last
line; `recover` drops it (truncating the file) and returns the lines before it. On object stores
(gs://, through etils.epath), which cannot append, an append rewrites the object with the new lines
added: each object write is atomic, so nothing is ever torn there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from etils import epath

from lightreasoner_jax.storage import writing


def process_file_name(prefix: str, process_index: int, process_count: int) -> str:
    """'<prefix>-00003-of-00008.jsonl': one file per process, so writers never share a file."""
    return f'{prefix}-{process_index:05d}-of-{process_count:05d}.jsonl'


def process_files(directory, prefix: str) -> list[epath.Path]:
    """Every process's `process_file_name(prefix, ...)` file in `directory`, in process order."""
    return sorted(epath.Path(directory).glob(f'{prefix}-*.jsonl'))


def is_local(path) -> bool:
    return '://' not in os.fspath(path)


def recover_lines(path) -> list[tuple[str, bytes]]:
    """(file:line, line) for every complete line of a possibly interrupted file; bytes after the last
    newline are a torn write from a killed writer and are cut off the file. A missing file has none."""
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
    return [(f'{path}:{number}', line) for number, line in enumerate(data[:complete_end].splitlines(), start=1)]


def recover(path) -> list[dict]:
    """The JSON objects of `recover_lines`; a bad complete line is a ValueError naming file:line."""
    rows = []
    for where, line in recover_lines(path):
        try:
            rows.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise ValueError(f'{where}: not valid JSON ({e})') from None
    return rows


def recover_all(paths) -> list[dict]:
    """`recover` of each file in turn (the per-process files of one output), as one list."""
    return [row for path in paths for row in recover(path)]


def append_lines(path, lines: Iterable[str]) -> None:
    """Appends whole lines (given without their newline) and makes them durable before returning."""
    text = ''.join(line + '\n' for line in lines)
    if not text:
        return
    with writing(path, f'{text.count(chr(10))} JSON lines'):
        if not is_local(path):
            path = epath.Path(path)
            path.write_bytes((path.read_bytes() if path.exists() else b'') + text.encode('utf-8'))
            return
        with open(path, 'a', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def append(path, rows: Iterable[dict]) -> None:
    """Appends JSON objects, one compact line each, durably."""
    append_lines(path, (json.dumps(row, separators=(',', ':')) for row in rows))
