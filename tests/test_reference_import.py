"""Importing the reference's per-step sample files into our records."""

import json

import jax
import pytest

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import Question, load_questions
from lightreasoner_jax.pipeline import sample_stage
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store as samples_lib
from lightreasoner_jax.sampling.records import SampleFileError
from lightreasoner_jax.sampling.reference_import import import_reference
from tests.pipeline_fixtures import pipeline_config, write_pair


@pytest.fixture(scope='module')
def sampled(tmp_path_factory):
    root = tmp_path_factory.mktemp('pair')
    tokenizer = write_pair(root)
    sample_stage.run(pipeline_config(root), Workdir(root / 'w'), shd.make_mesh(data=1, fsdp=-1, tensor=1,
                                                                    devices=jax.devices()[:1]))
    return root, tokenizer, samples_lib.read_samples(root / 'w' / 'samples')


def to_reference_format(records, tokenizer, path):
    """What the reference would have written for the same kept steps (prefix as decoded text,
    plausible ids ascending)."""
    with open(path, 'w') as f:
        for r in records:
            for j, t in enumerate(r.steps):
                pairs = sorted(zip(r.target_ids[j], r.target_weights[j]))
                f.write(json.dumps({'prompt_id': r.id, 'step': t,
                                    'prefix': tokenizer.decode(r.completion_ids[:t]),
                                    'tokens': [tokenizer.decode([i]) for i, _ in pairs],
                                    'token_ids': [i for i, _ in pairs], 'weights': [w for _, w in pairs],
                                    'kl_divergence': r.kl[j]}) + '\n')


def test_import_round_trips_aligned_steps_and_counts_the_rest(sampled, tmp_path):
    root, tokenizer, records = sampled
    to_reference_format(records, tokenizer, tmp_path / 'cd_samples.jsonl')
    questions, _ = load_questions(root / 'questions.jsonl', id_field='id')
    report = import_reference(tmp_path / 'cd_samples.jsonl', questions, tokenizer, tmp_path / 'samples')
    imported = {r.id: r for r in samples_lib.read_samples(tmp_path / 'samples')}
    total = sum(len(r.steps) for r in records)
    assert report['reference_steps'] == total > 0
    assert report['imported_steps'] + report['unaligned_steps'] == total
    assert report['imported_steps'] > 0
    exact = 0
    for original in records:
        if original.id not in imported:
            continue
        got = imported[original.id]
        assert got.prompt_ids == original.prompt_ids
        assert set(got.steps) <= set(original.steps)
        for j, t in enumerate(got.steps):
            assert got.completion_ids[:t] == original.completion_ids[:t]
            k = original.steps.index(t)
            assert dict(zip(got.target_ids[j], got.target_weights[j])) == pytest.approx(
                dict(zip(original.target_ids[k], original.target_weights[k])), abs=1e-6)
            assert got.kl[j] == pytest.approx(original.kl[k])
            exact += 1
    assert exact == report['imported_steps']


def test_misaligned_prefix_and_unknown_question_are_reported(tmp_path):
    from tests.chat_tokenizer import make_chat_tokenizer
    tokenizer = make_chat_tokenizer()
    text = 'Natalia sold 48 clips'
    ids = tokenizer.encode(text, add_special_tokens=False)
    rows = [
        {'prompt_id': 'a', 'step': len(ids), 'prefix': text, 'token_ids': [5, 6], 'weights': [0.25, 0.75],
         'kl_divergence': 0.9},
        {'prompt_id': 'a', 'step': len(ids) + 3, 'prefix': text, 'token_ids': [5], 'weights': [1.0],
         'kl_divergence': 0.5},  # claims more tokens than its text encodes to: unaligned
        {'prompt_id': 'zzz', 'step': 1, 'prefix': 'x', 'token_ids': [5], 'weights': [1.0], 'kl_divergence': 0.5},
    ]
    with open(tmp_path / 'ref.jsonl', 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in rows)
    report = import_reference(tmp_path / 'ref.jsonl', [Question('a', 'How many clips?')], tokenizer,
                              tmp_path / 'samples')
    assert report['unaligned_steps'] == 1 and report['imported_steps'] == 1
    assert report['questions_not_in_question_source'] == 1 and report['steps_of_unknown_questions'] == 1
    (record,) = samples_lib.read_samples(tmp_path / 'samples')
    assert record.completion_ids[:len(ids)] == ids and record.steps == [len(ids)]
    assert record.completion_ids[len(ids)] == 6  # the highest-weight target stands in


def test_bad_reference_rows_name_the_line(tmp_path):
    (tmp_path / 'ref.jsonl').write_text('{"prompt_id": "a", "step": 1}\n')
    with pytest.raises(SampleFileError, match=r'ref.jsonl:1: reference sample lacks field'):
        import_reference(tmp_path / 'ref.jsonl', [], None, tmp_path / 'samples')
