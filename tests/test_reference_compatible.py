"""contrast.reference_compatible: the reference's procedure with a sampling generation config (the expert's
generation_config.json decides, p_E from the processed scores, 1e-12 smoothing, every plausible token)."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import GenerationConfigError, SamplingConfig, checkpoint_sampling, left_pad
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.pipeline import sample_stage, settings
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.model_pairs import check_before_stages
from lightreasoner_jax.pipeline.validation import ConfigError, validate
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import ContrastConfig, store
from lightreasoner_jax.sampling import score as eager_score
from tests.pipeline_fixtures import pipeline_config, write_pair
from tests.reference_impl import reference_sample
from tests.test_score import MAX_NEW, PROMPTS
from tests.tiny_models import build_torch_model

score = nnx.jit(eager_score, static_argnums=(6, 8))
SAMPLING = dict(do_sample=True, temperature=0.7, top_p=0.9)  # top_k unset: transformers' default 50 applies


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    expert_torch = build_torch_model('qwen2_untied', vocab_size=96, seed=1)
    expert_torch.generation_config = transformers.GenerationConfig(**SAMPLING, eos_token_id=7, pad_token_id=0)
    amateur_torch = build_torch_model('qwen2_tied', vocab_size=104, seed=2, num_hidden_layers=1)
    root = tmp_path_factory.mktemp('pair')
    expert_torch.save_pretrained(root / 'expert')
    amateur_torch.save_pretrained(root / 'amateur')
    return root, expert_torch, amateur_torch


def test_the_experts_generation_config_decides_as_in_transformers(pair, tmp_path):
    root, _, _ = pair
    assert checkpoint_sampling(root / 'expert', 12) == SamplingConfig(12, temperature=0.7, top_k=50, top_p=0.9)
    assert checkpoint_sampling(tmp_path, 12) == SamplingConfig(12)  # no file: greedy, as generate
    (tmp_path / 'generation_config.json').write_text(json.dumps({'do_sample': True, 'repetition_penalty': 1.1}))
    with pytest.raises(GenerationConfigError, match=r'generation_config.json: repetition_penalty=1.1 is not supported'):
        checkpoint_sampling(tmp_path, 12)


def test_records_equal_the_reference_procedure_run_with_a_sampling_generation_config(pair):
    """The reference samples with torch's generator, we with JAX's, so the answers differ draw by draw; on the
    reference's own (seeded) answers our contrast gives its records: same kept steps, plausible tokens, weights."""
    root, expert_torch, amateur_torch = pair
    expert, amateur = load_hf(root / 'expert', dtype=jnp.float32), load_hf(root / 'amateur', dtype=jnp.float32)
    sampling = checkpoint_sampling(root / 'expert', MAX_NEW)
    references = []
    for row, prompt in enumerate(PROMPTS):
        torch.manual_seed(100 + row)
        references.append(reference_sample(expert_torch, amateur_torch, prompt, max_new_tokens=MAX_NEW, eos_ids=(7,),
                                           pad_id=0, alpha=0.2, beta=0.5, follow_generation_config=True))
    greedy = [reference_sample(expert_torch, amateur_torch, p, max_new_tokens=MAX_NEW, eos_ids=(7,), pad_id=0,
                               alpha=0.2, beta=0.5)[0] for p in PROMPTS]
    assert [r[0] for r in references] != greedy  # the generation config made it sample
    prompt_ids, prompt_mask = left_pad(PROMPTS, 16, 4, 0)
    completion_ids = np.zeros((4, MAX_NEW), np.int32)
    for row, (completion, _, _) in enumerate(references):
        completion_ids[row, :len(completion)] = completion
    lengths = np.array([len(r[0]) for r in references], np.int32)
    config = ContrastConfig(alpha=0.2, beta=0.5, top_k=96, reference_compatible=True)
    result = score(expert, amateur, jnp.asarray(prompt_ids), jnp.asarray(prompt_mask), jnp.asarray(completion_ids),
                   jnp.asarray(lengths), config, None, sampling)
    plain = score(expert, amateur, jnp.asarray(prompt_ids), jnp.asarray(prompt_mask), jnp.asarray(completion_ids),
                  jnp.asarray(lengths), ContrastConfig(alpha=0.2, beta=0.5, top_k=96), None, sampling)
    total_kept = 0
    for row, (_, kept, candidates) in enumerate(references):
        for step, kl in candidates.items():
            assert abs(float(result.kl[row, step]) - kl) < 1e-4 * max(1.0, kl), (row, step)
        assert {int(t) for t in np.flatnonzero(result.selected[row])} == set(kept), row
        for step, (_kl, weights) in kept.items():
            n = int(result.num_plausible[row, step])
            got = dict(zip(result.target_ids[row, step, :n].tolist(), result.target_weights[row, step, :n].tolist()))
            assert got.keys() == weights.keys()
            for token, w in weights.items():
                assert abs(got[token] - w) < 1e-5
        total_kept += len(kept)
    assert total_kept > 0
    # the processed scores matter: raw logits give other plausible sets or KLs
    assert not np.allclose(np.asarray(plain.kl), np.asarray(result.kl), atol=1e-3)


def test_the_sample_stage_samples_as_the_generation_config_says_and_resumes(tmp_path):
    root = tmp_path / 'pair'
    root.mkdir()
    write_pair(root)
    (root / 'expert' / 'generation_config.json').write_text(json.dumps({**SAMPLING, 'eos_token_id': 2}))
    config = pipeline_config(root, **{'contrast.reference_compatible': True, 'contrast.top_k': 64})
    assert settings.sampling(config).temperature == 0.7
    assert fingerprint(config, 'sample')['contrast']['reference_compatible'] is True
    assert 'reference_compatible' not in fingerprint(pipeline_config(root), 'sample')['contrast']
    check_before_stages(config, Workdir(tmp_path / 'w'))
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    sample_stage.run(config, Workdir(tmp_path / 'w'), mesh)
    sample_stage.run(pipeline_config(root), Workdir(tmp_path / 'g'), mesh)
    path = tmp_path / 'w' / 'samples' / 'samples-00000-of-00001.jsonl'
    full = path.read_bytes()
    sampled = {r.id: r.completion_ids for r in store.read_samples(tmp_path / 'w' / 'samples')}
    greedy = {r.id: r.completion_ids for r in store.read_samples(tmp_path / 'g' / 'samples')}
    assert sampled != greedy
    rescored = pipeline_config(root, **{'contrast.reference_compatible': True, 'contrast.top_k': 64,
                                        'contrast.rescore': True})
    sample_stage.run(rescored, Workdir(tmp_path / 'r'), mesh)
    in_loop = {r.id: r for r in store.read_samples(tmp_path / 'w' / 'samples')}
    assert sum(len(r.steps) for r in in_loop.values()) > 0
    for r in store.read_samples(tmp_path / 'r' / 'samples'):  # the teacher-forced path processes p_E the same way
        assert (r.completion_ids, r.steps, r.target_ids) == (in_loop[r.id].completion_ids, in_loop[r.id].steps,
                                                             in_loop[r.id].target_ids)
        np.testing.assert_allclose(r.kl, in_loop[r.id].kl, atol=1e-5)
    lines = full.splitlines(keepends=True)
    path.write_bytes(b''.join(lines[:5]) + lines[5][:40])  # killed mid-batch
    sample_stage.run(config, Workdir(tmp_path / 'w'), mesh)
    assert path.read_bytes() == full  # each batch's PRNG stream is its own: the rerun samples it again the same
    (root / 'expert' / 'generation_config.json').write_text(json.dumps({'do_sample': True, 'num_beams': 4}))
    with pytest.raises(GenerationConfigError, match='num_beams=4 is not supported'):
        check_before_stages(config, Workdir(tmp_path / 'w2'))


def test_a_generation_config_file_can_stand_in_for_the_experts(tmp_path):
    """contrast.generation_config: sample as another checkpoint's generation_config.json says (the toy experts
    ship none); counted in the fingerprint only where it is read; bad files and misuse named before any work."""
    root = tmp_path / 'pair'
    root.mkdir()
    write_pair(root)
    file = tmp_path / 'deepseek_generation_config.json'
    file.write_text(json.dumps({'do_sample': True, 'temperature': 0.6, 'top_p': 0.95}))
    assert checkpoint_sampling(root / 'expert', 12, file) == SamplingConfig(12, temperature=0.6, top_k=50, top_p=0.95)
    config = pipeline_config(root, **{'contrast.reference_compatible': True, 'contrast.generation_config': str(file)})
    assert settings.sampling(config) == SamplingConfig(12, temperature=0.6, top_k=50, top_p=0.95)
    assert fingerprint(config, 'sample')['contrast']['generation_config'] == str(file)
    assert 'generation_config' not in fingerprint(pipeline_config(root, **{'contrast.reference_compatible': True}),
                                                  'sample')['contrast']  # workdirs from before the field resume
    validate(config)
    check_before_stages(config, Workdir(tmp_path / 'w'))
    ignored = pipeline_config(root, **{'contrast.generation_config': str(file)})
    with pytest.raises(ConfigError, match=r'^config.contrast.generation_config = .*only read with contrast.'
                                          r'reference_compatible=True$'):
        validate(ignored)
    missing = pipeline_config(root, **{'contrast.reference_compatible': True,
                                       'contrast.generation_config': str(tmp_path / 'none.json')})
    with pytest.raises(ConfigError, match=r'config.contrast.generation_config = .*none.json.*no such file'):
        validate(missing)
    file.write_text('{"do_sample": true,')
    with pytest.raises(GenerationConfigError, match=r'deepseek_generation_config.json: not a JSON generation config'):
        check_before_stages(config, Workdir(tmp_path / 'w'))
