"""amateur.kind='cross_tokenizer': the estimate equals the exact contrast when the tokenizers coincide, it runs
with an amateur of another tokenizer through the sample stage, and resumes."""

import json

import numpy as np
import pytest

from lightreasoner_jax import data
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import SamplingConfig
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.pipeline import sample_stage
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.validation import ConfigError, validate
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import ContrastConfig, sample, store
from lightreasoner_jax.sampling.cross_sampler import ids_with_text, sample_cross_tokenizer
from lightreasoner_jax.sampling.cross_tokenizer import CrossTokenizerConfig, estimate_contrast
from lightreasoner_jax.toyworld.assets import AMATEUR_PATH, EXPERT_PATH
from tests.chat_tokenizer import make_chat_tokenizer
from tests.pipeline_fixtures import QUESTIONS, pipeline_config, write_pair
from tests.tiny_models import build_torch_model

TOY = dict(contrast=ContrastConfig(alpha=0.2, beta=0.4, top_k=16), sampling=SamplingConfig(max_new_tokens=48),
           batch_size=8, bucket=32, system_prompt='Please reason step by step.')


def test_with_one_tokenizer_and_every_token_the_estimate_is_the_exact_contrast():
    """The shipped clean-world pair shares a tokenizer. With top_m covering the vocabulary, q_A is the
    amateur's own p_A for every token with a text; the 128 lone-byte tokens (no text) go to the remainder,
    which is all that separates the estimate from the exact KL."""
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    tokenizer = load_tokenizer(EXPERT_PATH)
    expert, amateur = load_hf(EXPERT_PATH, mesh=mesh, dtype='float32'), load_hf(AMATEUR_PATH, mesh=mesh, dtype='float32')
    questions, _ = data.load_questions('toyworld:train', id_field='id', limit=8)
    exact = sample(expert, amateur, tokenizer, questions, mesh, **TOY)
    has_text = ids_with_text(tokenizer, expert.config.vocab_size)
    assert has_text.sum() == 384  # 512 minus the 128 bytes >= 0x80
    cross = sample_cross_tokenizer(expert, amateur, tokenizer, tokenizer, questions, mesh,
                                   cross=CrossTokenizerConfig(top_m=384, rows_per_call=8), **TOY)
    assert sum(len(r.steps) for r in exact) > 50
    for x, y in zip(exact, cross):
        assert x.completion_ids == y.completion_ids and x.steps == y.steps and x.target_ids == y.target_ids
        np.testing.assert_allclose(x.candidate_kl, y.candidate_kl, atol=1e-3)
        for a, b in zip(x.target_weights, y.target_weights):
            np.testing.assert_allclose(a, b, atol=1e-3)


def test_the_estimate_of_one_step_by_hand():
    e = np.log(np.array([[[0.6, 0.3, 0.05]]]))            # r_E = 0.05
    a = np.log(np.array([[[0.2, 0.5, 0.1]]]))             # r_A = 0.2
    result = estimate_contrast(e, np.array([[[4, 7, 9]]]), np.array([[2]]), a, np.array([[True]]),
                               ContrastConfig(alpha=0.2, beta=0.1, top_k=2), 1e-6)
    expected = 0.6 * np.log(3) + 0.3 * np.log(0.6) + 0.05 * np.log(0.5) + 0.05 * np.log(0.25)
    np.testing.assert_allclose(result.kl[0, 0], expected, rtol=1e-6)
    assert result.selected[0, 0] and result.target_ids[0, 0].tolist() == [4, 7]
    w = np.array([0.6 / 0.2, 0.3 / 0.5])
    np.testing.assert_allclose(result.target_weights[0, 0], w / w.sum(), rtol=1e-6)


@pytest.fixture(scope='module')
def other_tokenizer_pair(tmp_path_factory):
    """root/expert with the fixtures' tokenizer; root/other: an amateur with a smaller tokenizer of its own."""
    root = tmp_path_factory.mktemp('cross')
    write_pair(root)
    small = make_chat_tokenizer(QUESTIONS[:3], vocab_size=280)
    model = build_torch_model('qwen2_tied', vocab_size=len(small), seed=5, num_hidden_layers=1, bos_token_id=None,
                              eos_token_id=small.eos_token_id, pad_token_id=0)
    model.save_pretrained(root / 'other')
    small.save_pretrained(root / 'other')
    assert len(small) != len(load_tokenizer(root / 'expert'))
    return root


def cross_config(root, **overrides):
    return pipeline_config(root, **{'amateur.kind': 'cross_tokenizer', 'amateur.path': str(root / 'other'),
                                    'amateur.top_m': 8, 'contrast.beta': 0.05, **overrides})  # about the median KL estimate


def test_an_amateur_of_another_tokenizer_samples_through_the_stage_and_resumes(other_tokenizer_pair, tmp_path):
    root = other_tokenizer_pair
    with pytest.raises(Exception, match='expert and amateur tokenizers differ'):  # the id-by-id contrast refuses it
        sample_stage.run(pipeline_config(root, **{'amateur.path': str(root / 'other')}), Workdir(tmp_path / 'x'),
                         shd.make_mesh(data=1, fsdp=-1, tensor=1))
    config = cross_config(root)
    validate(config)
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    sample_stage.run(config, Workdir(tmp_path / 'w'), mesh)
    records = store.read_samples(tmp_path / 'w' / 'samples')
    assert len(records) == len(QUESTIONS) and 0 < sum(len(r.steps) for r in records) < sum(
        len(r.candidate_kl) for r in records)
    for r in records:
        for ids, weights in zip(r.target_ids, r.target_weights):
            assert abs(sum(weights) - 1) < 1e-5 and len(ids) >= 1
    stats = json.loads((tmp_path / 'w' / 'samples' / 'stats.json').read_text())
    assert 'continuation_truncations' in stats['this_run']
    path = tmp_path / 'w' / 'samples' / 'samples-00000-of-00001.jsonl'
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    path.write_bytes(b''.join(lines[:5]) + lines[5][:40])  # killed mid-batch
    sample_stage.run(config, Workdir(tmp_path / 'w'), mesh)
    assert path.read_bytes() == full
    recorded = fingerprint(config, 'sample')['amateur']
    assert recorded['kind'] == 'cross_tokenizer' and recorded['top_m'] == 8 and 'layers' not in recorded


def test_cross_tokenizer_settings_are_checked(other_tokenizer_pair):
    root = other_tokenizer_pair
    with pytest.raises(ConfigError, match=r'amateur.top_m = 4: must be >= contrast.top_k \(8\)'):
        validate(cross_config(root, **{'amateur.top_m': 4}))
    with pytest.raises(ConfigError, match='diagnose stage compares the models id by id'):
        validate(cross_config(root, stages=('sample', 'diagnose')))
