"""Reads and writes the safetensors format tensor by tensor, without loading a file whole.

Reading memory-maps local files, so a tensor's slice costs only the pages it touches (each device
reads just its own shard). Paths that are not local (gs://...) are read one tensor at a time.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import ml_dtypes
import numpy as np
from etils import epath

from lightreasoner_jax.storage import writing

DTYPES = {
    'F64': np.dtype(np.float64), 'F32': np.dtype(np.float32), 'F16': np.dtype(np.float16),
    'BF16': np.dtype(ml_dtypes.bfloat16), 'I64': np.dtype(np.int64), 'I32': np.dtype(np.int32),
    'I16': np.dtype(np.int16), 'I8': np.dtype(np.int8), 'U8': np.dtype(np.uint8), 'BOOL': np.dtype(np.bool_),
}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

INDEX_FILE = 'model.safetensors.index.json'
SINGLE_FILE = 'model.safetensors'


class CheckpointError(ValueError):
    """A checkpoint file is missing, malformed, or does not match the model."""


@dataclass(frozen=True)
class TensorInfo:
    file: epath.Path
    dtype: np.dtype
    shape: tuple[int, ...]
    start: int  # absolute byte offset in the file
    end: int


def read_header(file: epath.Path) -> dict[str, TensorInfo]:
    with file.open('rb') as f:
        head = f.read(8)
        if len(head) != 8:
            raise CheckpointError(f'{file}: too short to be a safetensors file')
        (header_len,) = struct.unpack('<Q', head)
        if header_len > 100_000_000:
            raise CheckpointError(f'{file}: implausible safetensors header length {header_len}')
        try:
            header = json.loads(f.read(header_len))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointError(f'{file}: safetensors header is not valid JSON ({e})') from None
    base = 8 + header_len
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        if entry['dtype'] not in DTYPES:
            raise CheckpointError(f'{file}: tensor {name} has unsupported dtype {entry["dtype"]}')
        begin, end = entry['data_offsets']
        tensors[name] = TensorInfo(file, DTYPES[entry['dtype']], tuple(entry['shape']), base + begin, base + end)
    _check_complete(file, tensors)
    return tensors


def _check_complete(file: epath.Path, tensors: dict[str, TensorInfo]) -> None:
    """A truncated download or copy is named here, not later as an impossible reshape."""
    if not tensors:
        return
    local = _local_path(file)
    size = os.path.getsize(local) if local is not None else file.stat().length
    expected = max(info.end for info in tensors.values())
    if size < expected:
        name, info = min(((n, i) for n, i in tensors.items() if i.end > size), key=lambda item: item[1].start)
        raise CheckpointError(f'{file}: truncated: the file has {size} bytes, its header describes {expected}; '
                              f'tensor {name} needs bytes [{info.start}, {info.end})')


def checkpoint_tensors(directory) -> dict[str, TensorInfo]:
    """All tensors of an HF checkpoint directory (single file or sharded with an index)."""
    directory = epath.Path(directory)
    if not directory.exists():
        raise FileNotFoundError(f'{directory}: checkpoint directory does not exist')
    index = directory / INDEX_FILE
    if index.exists():
        try:
            weight_map = json.loads(index.read_text())['weight_map']
        except (json.JSONDecodeError, KeyError) as e:
            raise CheckpointError(f'{index}: not a valid safetensors index ({e!r})') from None
        files = sorted(set(weight_map.values()))
    elif (directory / SINGLE_FILE).exists():
        files = [SINGLE_FILE]
    else:
        found = sorted(p.name for p in directory.glob('*.safetensors'))
        if not found:
            raise CheckpointError(f'{directory}: no {SINGLE_FILE}, {INDEX_FILE} or *.safetensors file')
        files = found
    tensors: dict[str, TensorInfo] = {}
    for name in files:
        path = directory / name
        if not path.exists():
            raise CheckpointError(f'{path}: listed in {INDEX_FILE} but missing')
        tensors.update(read_header(path))
    return tensors


class TensorReader:
    """Array views of checkpoint tensors; local files are memory-mapped once."""

    def __init__(self):
        self._maps: dict[str, np.memmap] = {}

    def read(self, info: TensorInfo) -> np.ndarray:
        local = _local_path(info.file)
        if local is None:
            with info.file.open('rb') as f:
                f.seek(info.start)
                data = f.read(info.end - info.start)
            return np.frombuffer(data, info.dtype).reshape(info.shape)
        if local not in self._maps:
            self._maps[local] = np.memmap(local, dtype=np.uint8, mode='r')
        raw = self._maps[local][info.start:info.end]
        return raw.view(info.dtype).reshape(info.shape)


def _local_path(path: epath.Path) -> str | None:
    text = os.fspath(path)
    return None if '://' in text else text


def write_file(path, tensors: Iterable[tuple[str, np.ndarray]], metadata: dict[str, str] | None = None) -> None:
    """Writes (name, array) pairs; arrays are consumed one at a time after the header is written."""
    tensors = list(tensors)
    header: dict = {'__metadata__': {'format': 'pt', **(metadata or {})}}
    offset = 0
    for name, array in tensors:
        if array.dtype not in DTYPE_NAMES:
            raise CheckpointError(f'tensor {name}: dtype {array.dtype} cannot be written to safetensors')
        size = array.size * array.dtype.itemsize
        header[name] = {'dtype': DTYPE_NAMES[array.dtype], 'shape': list(array.shape),
                        'data_offsets': [offset, offset + size]}
        offset += size
    header_bytes = json.dumps(header, separators=(',', ':')).encode()
    header_bytes += b' ' * (-len(header_bytes) % 8)
    with writing(path, f'{len(tensors)} tensors ({offset} bytes)'), epath.Path(path).open('wb') as f:
        f.write(struct.pack('<Q', len(header_bytes)))
        f.write(header_bytes)
        for _, array in tensors:
            f.write(np.ascontiguousarray(array).tobytes())


def plan_shards(sizes: list[tuple[str, int]], max_shard_bytes: int) -> list[list[str]]:
    """Greedy split of named tensors (in order) into shards of at most max_shard_bytes (one tensor
    larger than that gets a shard of its own)."""
    shards: list[list[str]] = [[]]
    used = 0
    for name, size in sizes:
        if shards[-1] and used + size > max_shard_bytes:
            shards.append([])
            used = 0
        shards[-1].append(name)
        used += size
    return shards


def nbytes(shape, dtype) -> int:
    return math.prod(shape) * np.dtype(dtype).itemsize
