"""Readers for what the scalar writers leave on disk: TensorBoard event files (TFRecord framing of Event
protos) and W&B offline run files (LevelDB-style log framing of Record protos)."""

import struct
import time
from pathlib import Path


def tensorboard_scalars(directory) -> dict[str, list[tuple[int, float]]]:
    from tensorboardX.proto import event_pb2
    scalars: dict[str, list[tuple[int, float]]] = {}
    for path in sorted(Path(directory).glob('events.out.tfevents*')):
        data, pos = path.read_bytes(), 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack('<Q', data[pos:pos + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def wandb_records(directory):
    """(kind, {key: json value}) for every history and summary record of every offline run under `directory`."""
    from wandb.proto import wandb_internal_pb2 as pb
    block = 32768
    for path in sorted(Path(directory).rglob('offline-run-*/run-*.wandb')):
        data = path.read_bytes()
        assert data[:4] == b':W&B', path
        pos, pending = 7, b''
        while pos + 7 <= len(data):
            if block - pos % block < 7:  # the rest of a block too short for a header is padding
                pos += block - pos % block
                continue
            _, length, kind = struct.unpack('<IHB', data[pos:pos + 7])
            pending += data[pos + 7:pos + 7 + length]
            pos += 7 + length
            if kind in (1, 4):  # a full record, or the last piece of one
                record = pb.Record()
                record.ParseFromString(pending)
                pending = b''
                which = record.WhichOneof('record_type')
                if which == 'history':
                    yield which, {_key(i): i.value_json for i in record.history.item}
                elif which == 'summary':
                    yield which, {_key(i): i.value_json for i in record.summary.update}


def _key(item) -> str:
    return item.key or '/'.join(item.nested_key)


def settled_wandb_records(directory, history_rows: int, timeout: float = 30.0) -> list:
    """wandb_records once `history_rows` history records are on disk: W&B's service process may still be
    flushing the run file for a moment after `finish()` returns."""
    deadline = time.time() + timeout
    while True:
        records = list(wandb_records(directory))
        if sum(kind == 'history' for kind, _ in records) >= history_rows or time.time() > deadline:
            return records
        time.sleep(0.5)
