"""Scoring with one teacher-forced forward per model equals the reference's one forward per prefix."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import Generator, SamplingConfig, left_pad
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.sampling import ContrastConfig, SampleStep, Scorer
from lightreasoner_jax.sampling import score as eager_score
from tests.reference_impl import reference_sample
from tests.tiny_models import build_torch_model

score = nnx.jit(eager_score, static_argnums=6)
PROMPTS = [[5, 9, 33, 12, 7, 40], [8, 3], [17, 60, 61, 62, 1, 90, 44, 23, 5], [70, 71, 72]]
MAX_NEW = 10


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    # Vocabularies differ (as Qwen2.5-Math-7B vs Qwen2.5-0.5B). The amateur's is the larger one
    # here only because a random expert would generate ids past the amateur's rows.
    expert_torch = build_torch_model('qwen2_untied', vocab_size=96, seed=1)
    amateur_torch = build_torch_model('qwen2_tied', vocab_size=104, seed=2, num_hidden_layers=1)
    root = tmp_path_factory.mktemp('pair')
    expert_torch.save_pretrained(root / 'expert')
    amateur_torch.save_pretrained(root / 'amateur')
    return (expert_torch, amateur_torch, load_hf(root / 'expert', dtype=jnp.float32),
            load_hf(root / 'amateur', dtype=jnp.float32))


def test_kept_steps_and_targets_equal_the_reference_procedure(pair):
    expert_torch, amateur_torch, expert, amateur = pair
    config = ContrastConfig(alpha=0.2, beta=0.5, top_k=96, chunk=4)
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    eos = (7,)
    completions = Generator(expert, mesh, sampling=SamplingConfig(max_new_tokens=MAX_NEW), eos_ids=eos, pad_id=0,
                            batch_size=4)(PROMPTS, jax.random.key(0))
    prompt_ids, prompt_mask = left_pad(PROMPTS, 16, 4, 0)
    completion_ids = np.zeros((4, MAX_NEW), np.int32)
    for row, c in enumerate(completions):
        completion_ids[row, :len(c)] = c
    lengths = np.array([len(c) for c in completions], np.int32)
    result = Scorer(expert, amateur, mesh, config, batch_size=4)(prompt_ids, prompt_mask, completion_ids, lengths)

    total_kept = 0
    for row, prompt in enumerate(PROMPTS):
        ref_completion, ref_kept, ref_candidates = reference_sample(
            expert_torch, amateur_torch, prompt, max_new_tokens=MAX_NEW, eos_ids=eos, pad_id=0, alpha=0.2, beta=0.5)
        assert completions[row] == ref_completion
        for step, kl in ref_candidates.items():
            assert abs(result.kl[row, step] - kl) < 1e-4 * max(1.0, kl)
        ours = {int(t) for t in np.flatnonzero(result.selected[row])}
        assert ours == set(ref_kept), row
        for step, (_kl, weights) in ref_kept.items():
            n = result.num_plausible[row, step]
            got = dict(zip(result.target_ids[row, step, :n].tolist(), result.target_weights[row, step, :n].tolist()))
            assert got.keys() == weights.keys()
            for token, w in weights.items():
                assert abs(got[token] - w) < 1e-5
        assert not result.selected[row, 0] and not result.selected[row, len(ref_completion):].any()
        total_kept += len(ref_kept)
    candidates = int(sum(max(len(c) - 1, 0) for c in completions))
    assert 0 < total_kept < candidates  # beta splits the steps: the comparison means something


def test_chunking_does_not_change_the_result(pair):
    _, _, expert, amateur = pair
    prompt_ids, prompt_mask = (jnp.asarray(x) for x in left_pad(PROMPTS, 12, 4, 0))
    completion = jnp.asarray(np.random.RandomState(0).randint(3, 96, (4, 9)), jnp.int32)
    lengths = jnp.asarray([9, 4, 1, 7], jnp.int32)
    results = [score(expert, amateur, prompt_ids, prompt_mask, completion, lengths,
                     ContrastConfig(beta=0.5, chunk=c)) for c in (1, 4, 9, 32)]
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_first_step_zero_makes_the_first_token_a_candidate(pair):
    _, _, expert, amateur = pair
    prompt_ids, prompt_mask = (jnp.asarray(x) for x in left_pad(PROMPTS, 12, 4, 0))
    completion = jnp.asarray(np.random.RandomState(1).randint(3, 96, (4, 5)), jnp.int32)
    lengths = jnp.asarray([5, 5, 5, 5], jnp.int32)
    default = score(expert, amateur, prompt_ids, prompt_mask, completion, lengths, ContrastConfig(beta=0.0))
    all_steps = score(expert, amateur, prompt_ids, prompt_mask, completion, lengths,
                      ContrastConfig(beta=0.0, first_step=0))
    assert not np.asarray(default.selected)[:, 0].any() and np.asarray(all_steps.selected)[:, 0].all()
    np.testing.assert_array_equal(np.asarray(default.selected)[:, 1:], np.asarray(all_steps.selected)[:, 1:])


def test_scorer_sharded_equals_single_device(pair):
    _, _, expert, amateur = pair
    rng = np.random.RandomState(2)
    prompt_ids, prompt_mask = left_pad(PROMPTS * 2, 12, 8, 0)
    completion = rng.randint(3, 96, (8, 6)).astype(np.int32)
    lengths = rng.randint(1, 7, 8).astype(np.int32)
    config = ContrastConfig(beta=0.8, top_k=8, chunk=4)
    single = Scorer(expert, amateur, shd.make_mesh(1, 1, 1, devices=jax.devices()[:1]), config, 8)
    sharded = Scorer(expert, amateur, shd.make_mesh(data=2, fsdp=2, tensor=2), config, 8)
    a = single(prompt_ids, prompt_mask, completion, lengths)
    b = sharded(prompt_ids, prompt_mask, completion, lengths)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-5)


@pytest.mark.parametrize('rescore', [False, True], ids=['in_decode_loop', 'rescore_from_prompt_cache'])
@pytest.mark.parametrize('first_step', [0, 1])
def test_sample_step_equals_generate_then_score(pair, first_step, rescore):
    _, _, expert, amateur = pair
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    config = ContrastConfig(alpha=0.2, beta=0.5, top_k=16, chunk=4, first_step=first_step, rescore=rescore)
    sampling = SamplingConfig(max_new_tokens=MAX_NEW)
    prompts = PROMPTS[:3]  # and one dummy row
    step = SampleStep(expert, amateur, mesh, sampling=sampling, contrast=config, eos_ids=(7,), pad_id=0,
                      batch_size=4, bucket=8)
    answers, fused = step(prompts, jax.random.key(0), length=16)
    separate_answers = Generator(expert, mesh, sampling=sampling, eos_ids=(7,), pad_id=0, batch_size=4)(
        prompts, jax.random.key(0), length=16)
    assert answers == separate_answers and len({len(a) for a in answers}) > 1  # some stop early
    prompt_ids, prompt_mask = left_pad(prompts, 16, 4, 0)
    completion_ids = np.zeros((4, MAX_NEW), np.int32)
    for row, c in enumerate(answers):
        completion_ids[row, :len(c)] = c
    lengths = np.array([len(c) for c in answers] + [0], np.int32)
    separate = Scorer(expert, amateur, mesh, config, batch_size=4)(prompt_ids, prompt_mask, completion_ids, lengths)
    rows = slice(0, len(prompts))
    np.testing.assert_array_equal(fused.selected[rows], separate.selected[rows])
    answered = np.arange(MAX_NEW)[None, :] < lengths[rows, None]  # steps past an answer's end are not used
    np.testing.assert_allclose(fused.kl[rows][answered], separate.kl[rows][answered], atol=1e-5)
    valid = separate.selected[rows]
    assert valid.any() and not valid.all()
    np.testing.assert_array_equal(fused.target_ids[rows][valid], separate.target_ids[rows][valid])
    np.testing.assert_allclose(fused.target_weights[rows][valid], separate.target_weights[rows][valid], atol=1e-5)
    np.testing.assert_allclose(fused.expert_weights[rows][valid], separate.expert_weights[rows][valid], atol=1e-5)
    assert step.trace_count == 1
    step(PROMPTS[1:2], jax.random.key(1), length=16)
    assert step.trace_count == 1  # the same bucket reuses the compiled step


@pytest.mark.parametrize('rescore', [False, True], ids=['in_decode_loop', 'rescore'])
def test_sample_step_sharded_equals_single_device(pair, rescore):
    _, _, expert, amateur = pair
    config = ContrastConfig(beta=0.8, top_k=8, chunk=4, rescore=rescore)
    kwargs = dict(sampling=SamplingConfig(max_new_tokens=6), contrast=config, eos_ids=(7,), pad_id=0, batch_size=8)
    single = SampleStep(expert, amateur, shd.make_mesh(1, 1, 1, devices=jax.devices()[:1]), **kwargs)
    sharded = SampleStep(expert, amateur, shd.make_mesh(data=2, fsdp=2, tensor=2), **kwargs)
    a_answers, a = single(PROMPTS * 2, jax.random.key(0))
    b_answers, b = sharded(PROMPTS * 2, jax.random.key(0))
    assert a_answers == b_answers
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-5)


def test_the_in_loop_contrast_never_holds_a_batch_by_steps_by_vocab_buffer():
    # Compiled temporaries at V=4096, 8 rows x 64 steps: a [B, T, V] float32 buffer alone is 8 MiB.
    from lightreasoner_jax.models import ModelConfig, Transformer
    from lightreasoner_jax.sampling import sample_step

    def model(seed, layers):
        return Transformer(ModelConfig(model_type='qwen2', vocab_size=4096, hidden_size=32, intermediate_size=64,
                                       num_layers=layers, num_heads=4, num_kv_heads=2, head_dim=8, qkv_bias=True,
                                       tie_word_embeddings=True, eos_token_ids=(2,)), rngs=nnx.Rngs(seed))
    expert, amateur = model(0, 2), model(1, 1)
    ids, mask = jnp.ones((8, 16), jnp.int32), jnp.ones((8, 16), bool)
    sampling = SamplingConfig(max_new_tokens=64)

    def temp_bytes(config):
        step = nnx.jit(lambda e, a, i, m: sample_step(e, a, i, m, jax.random.key(0), sampling=sampling,
                                                      contrast=config, eos_ids=(2,), pad_id=0))
        return step.lower(expert, amateur, ids, mask).compile().memory_analysis().temp_size_in_bytes
    full = 8 * 64 * 4096 * 4
    in_loop = temp_bytes(ContrastConfig(top_k=8))
    rescored_whole = temp_bytes(ContrastConfig(top_k=8, chunk=64, rescore=True))
    assert in_loop < full / 4 < full <= rescored_whole  # the measure can see such a buffer when there is one
