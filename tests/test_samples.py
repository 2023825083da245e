"""The sample record and store: validation with file:line errors, the typed record's JSON form, torn-line
recovery, per-process files."""

import json

import pytest

from lightreasoner_jax import json_lines
from lightreasoner_jax.sampling import store as samples_lib
from lightreasoner_jax.sampling.records import SampleFileError, SampleRecord, validate_record

GOOD = {'id': 'q1', 'prompt_ids': [1, 2, 3], 'completion_ids': [7, 8, 9], 'steps': [1, 2], 'kl': [0.5, 0.7],
        'target_ids': [[8, 4], [9]], 'target_weights': [[0.75, 0.25], [1.0]]}


def write(path, *lines):
    path.write_text(''.join(lines))


@pytest.mark.parametrize('change,message', [
    (dict(steps=[1, 3]), r'steps\[1\] = 3 is outside completion_ids \(length 3\)'),
    (dict(kl=[0.5]), "field 'kl' must be a list with one entry per step"),
    (dict(target_weights=[[0.5, 0.25], [1.0]]), r'target_weights\[0\] must be non-negative and sum to 1'),
    (dict(target_ids=[[8], [9]]), r'target_ids\[0\] and target_weights\[0\] must be non-empty lists'),
    (dict(prompt_ids=[1, 'x']), "field 'prompt_ids' must be a list of integers"),
    (dict(id=None, steps=None), None),
])
def test_validate_record_names_the_problem(change, message):
    record = {**GOOD, **change}
    if message is None:  # a missing field
        record = {k: v for k, v in GOOD.items() if k != 'steps'}
        message = r"record lacks field\(s\) \['steps'\]"
    with pytest.raises(SampleFileError, match='f.jsonl:7: ' + message):
        validate_record(record, 'f.jsonl:7')
    validate_record(GOOD, 'ok')


def test_record_json_round_trip_keeps_field_order_and_extra_fields():
    line = json.dumps({**GOOD, 'num_plausible': [2, 1], 'imported_from': 'reference'}, separators=(',', ':'))
    record = SampleRecord.from_json(line)
    assert record.num_plausible == [2, 1] and record.expert_weights is None
    assert record.extra == {'imported_from': 'reference'}
    assert record.to_json() == line
    with pytest.raises(SampleFileError, match=r"x.jsonl:3: field 'kl' must be a list"):
        SampleRecord.from_json(json.dumps({**GOOD, 'kl': 1.0}), 'x.jsonl:3')


def test_recover_truncates_only_a_torn_tail(tmp_path):
    path = tmp_path / samples_lib.sample_file_name(0, 1)
    line = json.dumps(GOOD) + '\n'
    write(path, line, line.replace('q1', 'q2'), line[:17])
    records = samples_lib.recover(path)
    assert [r.id for r in records] == ['q1', 'q2']
    assert path.read_text() == line + line.replace('q1', 'q2')
    assert samples_lib.recover(tmp_path / 'absent.jsonl') == []


def test_recover_refuses_a_corrupt_middle_line(tmp_path):
    path = tmp_path / 'samples-00000-of-00001.jsonl'
    line = json.dumps(GOOD) + '\n'
    write(path, line, '{"broken\n', line)
    with pytest.raises(SampleFileError, match=r'samples-00000-of-00001.jsonl:2: not valid JSON'):
        samples_lib.recover(path)


def test_read_samples_merges_processes_and_rejects_duplicates(tmp_path):
    line = json.dumps(GOOD) + '\n'
    write(tmp_path / 'samples-00000-of-00002.jsonl', line)
    write(tmp_path / 'samples-00001-of-00002.jsonl', line.replace('q1', 'q2'))
    assert [r.id for r in samples_lib.read_samples(tmp_path)] == ['q1', 'q2']
    write(tmp_path / 'samples-00001-of-00002.jsonl', line)
    with pytest.raises(SampleFileError, match=r"00001-of-00002.jsonl:1: id 'q1' already at .*00000"):
        samples_lib.read_samples(tmp_path)


def test_read_samples_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='no samples directory'):
        samples_lib.read_samples(tmp_path / 'nope')
    with pytest.raises(FileNotFoundError, match='no samples-XXXXX-of-XXXXX.jsonl'):
        samples_lib.read_samples(tmp_path)
    line = json.dumps(GOOD) + '\n'
    write(tmp_path / 'samples-00000-of-00001.jsonl', line, line[:10])
    with pytest.raises(SampleFileError, match='unterminated last line'):
        samples_lib.read_samples(tmp_path)
    write(tmp_path / 'samples-00000-of-00001.jsonl', line)
    write(tmp_path / 'samples-00001-of-00002.jsonl', line.replace('q1', 'q3'))
    with pytest.raises(SampleFileError, match='different process counts'):
        samples_lib.read_samples(tmp_path)


def test_object_store_paths_rewrite_instead_of_appending(tmp_path, monkeypatch):
    """gs:// cannot append: the object is rewritten with the new lines (exercised on a local path)."""
    monkeypatch.setattr(json_lines, 'is_local', lambda path: False)
    path = tmp_path / 'samples-00000-of-00001.jsonl'
    first = {'id': 'a', 'prompt_ids': [1], 'completion_ids': [2], 'steps': [0], 'kl': [1.0],
             'target_ids': [[2]], 'target_weights': [[1.0]]}
    second = dict(first, id='b')
    samples_lib.append_records(path, [SampleRecord.from_dict(first)])
    samples_lib.append_records(path, [SampleRecord.from_dict(second)])
    assert [r.id for r in samples_lib.recover(path)] == ['a', 'b']
    path.write_bytes(path.read_bytes() + b'{"id": "c", "prom')  # a torn object left by another writer
    assert [r.id for r in samples_lib.recover(path)] == ['a', 'b']
    assert path.read_bytes().endswith(b'\n')
