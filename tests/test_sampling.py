"""The sample stage: records as DESIGN.md says, stats, resume after an interruption."""

import json

import numpy as np
import pytest

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import build_prompt_ids
from lightreasoner_jax.pipeline import sample_stage
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store as samples_lib
from tests.pipeline_fixtures import QUESTIONS, pipeline_config, write_pair
from tests.reference_impl import reference_sample
from tests.tiny_models import build_torch_model  # noqa: F401  (torch imported for the reference)


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp('pair')
    tokenizer = write_pair(root)
    return root, tokenizer


@pytest.fixture(scope='module')
def full_run(pair, tmp_path_factory):
    root, _ = pair
    workdir = tmp_path_factory.mktemp('work')
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    summary = sample_stage.run(pipeline_config(root), Workdir(workdir), mesh)
    return workdir, summary


def by_id(records):
    return {r.id: r for r in records}


def test_records_follow_the_contract_and_match_the_reference(pair, full_run):
    root, tokenizer = pair
    workdir, summary = full_run
    records = samples_lib.read_samples(workdir / 'samples')
    assert sorted(r.id for r in records) == [f'toy-{i}' for i in range(len(QUESTIONS))]
    assert (workdir / 'samples' / 'samples-00000-of-00001.jsonl').exists()
    import transformers
    expert = transformers.AutoModelForCausalLM.from_pretrained(root / 'expert').eval()
    amateur = transformers.AutoModelForCausalLM.from_pretrained(root / 'amateur').eval()
    total_kept = 0
    for i in (0, 3, 7):
        record = by_id(records)[f'toy-{i}']
        assert record.prompt_ids == build_prompt_ids(tokenizer, QUESTIONS[i])
        completion, kept, _ = reference_sample(expert, amateur, record.prompt_ids, max_new_tokens=12,
                                               eos_ids=(2,), pad_id=0, alpha=0.2, beta=0.42)
        assert record.completion_ids == completion
        assert record.steps == sorted(kept)
        for j, t in enumerate(record.steps):
            assert abs(record.kl[j] - kept[t][0]) < 1e-4
            ref_ids = sorted(kept[t][1], key=lambda k: -kept[t][1][k])[:8]
            assert set(record.target_ids[j]) <= set(kept[t][1])
            assert len(record.target_ids[j]) == min(8, len(kept[t][1]))
            if len(kept[t][1]) <= 8:
                assert set(record.target_ids[j]) == set(ref_ids)
                for token, w in zip(record.target_ids[j], record.target_weights[j]):
                    assert abs(w - kept[t][1][token]) < 1e-5
        total_kept += len(kept)
    assert total_kept > 0


def test_stats_describe_the_run(full_run):
    workdir, summary = full_run
    stats = json.loads((workdir / 'samples' / 'stats.json').read_text())
    records = samples_lib.read_samples(workdir / 'samples')
    assert stats['questions'] == len(QUESTIONS) == summary['questions']
    assert stats['kept_steps'] == sum(len(r.steps) for r in records) == summary['kept_steps']
    assert stats['candidate_steps'] == sum(len(r.completion_ids) - 1 for r in records)
    assert 0 < stats['kept_rate'] < 1
    assert set(stats['kl_quantiles']) == {'0.0', '0.1', '0.25', '0.5', '0.75', '0.9', '0.99', '1.0'}
    assert sum(stats['plausible_set_size_histogram'].values()) == stats['kept_steps']
    assert stats['tokens_per_s'] > 0 and stats['data']['kept'] == len(QUESTIONS)


def test_resume_skips_done_questions_and_repairs_a_torn_line(pair, full_run, tmp_path):
    root, _ = pair
    full_workdir, _ = full_run
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    sample_stage.run(pipeline_config(root, **{'data.limit': 5}), Workdir(tmp_path), mesh)
    path = tmp_path / 'samples' / 'samples-00000-of-00001.jsonl'
    first = path.read_text().splitlines()
    assert len(first) == 5
    with open(path, 'a') as f:
        f.write(first[0][: len(first[0]) // 2])  # a write torn by a kill
    sample_stage.run(pipeline_config(root), Workdir(tmp_path), mesh)
    lines = path.read_text().splitlines()
    assert lines[:5] == first
    records = samples_lib.read_samples(tmp_path / 'samples')
    assert len(records) == len(QUESTIONS)
    assert by_id(records) == by_id(samples_lib.read_samples(full_workdir / 'samples'))


def test_resume_after_a_partial_batch_writes_the_uninterrupted_file_byte_for_byte(pair, full_run, tmp_path):
    """A kill can land in the middle of a batch's append: the rerun pads that batch and the rest exactly as
    the uninterrupted run did (the batch plan is made over every question), so the file is the same."""
    root, _ = pair
    full_workdir, _ = full_run
    full = (full_workdir / 'samples' / 'samples-00000-of-00001.jsonl').read_bytes()
    lines = full.splitlines(keepends=True)
    assert len(lines) == 10  # batches of 4, 4 and 2 questions: 5 lines end mid-way through the second
    (tmp_path / 'samples').mkdir()
    path = tmp_path / 'samples' / 'samples-00000-of-00001.jsonl'
    path.write_bytes(b''.join(lines[:5]) + lines[5][:40])  # and a torn line
    sample_stage.run(pipeline_config(root), Workdir(tmp_path), shd.make_mesh(data=1, fsdp=-1, tensor=1))
    assert path.read_bytes() == full


def test_a_finished_run_does_nothing_more(pair, full_run):
    root, _ = pair
    workdir, _ = full_run
    path = workdir / 'samples' / 'samples-00000-of-00001.jsonl'
    before = path.read_bytes()
    sample_stage.run(pipeline_config(root), Workdir(workdir), shd.make_mesh(data=1, fsdp=-1, tensor=1))
    assert path.read_bytes() == before


def test_sharded_run_gives_the_same_records(pair, full_run, tmp_path):
    root, _ = pair
    workdir, _ = full_run
    sample_stage.run(pipeline_config(root, **{"generation.batch_size": 8}), Workdir(tmp_path),
                 shd.make_mesh(data=2, fsdp=2, tensor=2))
    ours = by_id(samples_lib.read_samples(tmp_path / 'samples'))
    expected = by_id(samples_lib.read_samples(workdir / 'samples'))
    assert ours.keys() == expected.keys()
    for key in ours:
        a, b = ours[key], expected[key]
        assert a.completion_ids == b.completion_ids and a.steps == b.steps
        np.testing.assert_allclose(np.concatenate(a.target_weights or [[]]),
                                   np.concatenate(b.target_weights or [[]]), atol=1e-5)


def test_rescoring_after_decoding_gives_the_records_of_the_in_loop_contrast(pair, full_run, tmp_path):
    root, _ = pair
    workdir, _ = full_run
    sample_stage.run(pipeline_config(root, **{'contrast.rescore': True}), Workdir(tmp_path),
                     shd.make_mesh(data=1, fsdp=-1, tensor=1))
    rescored = by_id(samples_lib.read_samples(tmp_path / 'samples'))
    in_loop = by_id(samples_lib.read_samples(workdir / 'samples'))
    assert rescored.keys() == in_loop.keys() and sum(len(r.steps) for r in in_loop.values()) > 0
    for key in rescored:
        a, b = rescored[key], in_loop[key]
        assert a.completion_ids == b.completion_ids and a.steps == b.steps and a.target_ids == b.target_ids
        np.testing.assert_allclose(a.candidate_kl, b.candidate_kl, atol=1e-5)
        for field in ('kl', 'target_weights', 'expert_weights'):
            np.testing.assert_allclose(np.concatenate([np.ravel(x) for x in getattr(a, field)] or [[]]),
                                       np.concatenate([np.ravel(x) for x in getattr(b, field)] or [[]]), atol=1e-5)


def test_mismatched_tokenizers_are_refused(pair, tmp_path):
    root, _ = pair
    import shutil

    from tests.chat_tokenizer import make_chat_tokenizer
    shutil.copytree(root / 'amateur', tmp_path / 'amateur')
    make_chat_tokenizer(['completely different words for another vocabulary']).save_pretrained(tmp_path / 'amateur')
    config = pipeline_config(root)
    config.amateur.path = str(tmp_path / 'amateur')
    with pytest.raises(ValueError, match='tokenizers differ at id'):
        sample_stage.run(config, Workdir(tmp_path / 'w'), shd.make_mesh(data=1, fsdp=-1, tensor=1))
