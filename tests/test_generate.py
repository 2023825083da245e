"""Generation: greedy equals transformers' generate; compiled functions are reused; sampling knobs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import Generator, SamplingConfig, bucket_length, generate, left_pad
from lightreasoner_jax.models import load_hf
from tests.tiny_models import build_torch_model

VOCAB = 96
PROMPTS = [[5, 9, 33, 12, 7, 40], [8, 3], [17, 60, 61, 62, 1, 90, 44, 23, 5], [70]]


@pytest.fixture(scope='module', params=['qwen2_tied', 'llama3'])
def models(request, tmp_path_factory):
    torch_model = build_torch_model(request.param, VOCAB, seed=4)
    path = tmp_path_factory.mktemp(request.param)
    torch_model.save_pretrained(path)
    return torch_model, load_hf(path, dtype=jnp.float32)


def hf_greedy(torch_model, prompts, max_new_tokens, eos_ids, pad_id=0):
    ids, mask = left_pad(prompts, max(map(len, prompts)), len(prompts), pad_id)
    with torch.no_grad():
        out = torch_model.generate(input_ids=torch.tensor(ids, dtype=torch.long),
                                   attention_mask=torch.tensor(mask.astype(np.int64)),
                                   max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=list(eos_ids),
                                   pad_token_id=pad_id, min_new_tokens=0)
    answers = []
    for row in out[:, ids.shape[1]:].tolist():
        answer = []
        for token in row:
            answer.append(token)
            if token in eos_ids:
                break
        answers.append(answer)
    return answers


def test_greedy_equals_transformers_generate_with_early_eos(models):
    torch_model, model = models
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    free = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=12), eos_ids=(), pad_id=0, batch_size=4)
    unconstrained = free(PROMPTS, jax.random.key(0))
    assert all(len(a) == 12 for a in unconstrained)
    eos = unconstrained[0][4]  # a token row 0 produces mid-answer becomes the EOS
    gen = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=12), eos_ids=(eos, 2), pad_id=0, batch_size=4)
    ours = gen(PROMPTS, jax.random.key(0))
    assert ours == hf_greedy(torch_model, PROMPTS, 12, (eos, 2))
    assert len(ours[0]) <= 5 and ours[0][-1] == eos
    assert any(len(a) == 12 for a in ours) or all(a[-1] in (eos, 2) for a in ours)


def test_rows_stop_independently_and_pad_after_end(models):
    _, model = models
    prompt_ids, prompt_mask = left_pad(PROMPTS, 16, 4, 0)
    free = generate(model, jnp.asarray(prompt_ids), jnp.asarray(prompt_mask), jax.random.key(0),
                    sampling=SamplingConfig(max_new_tokens=10), eos_ids=(), pad_id=0)
    eos = int(free.tokens[1, 2])
    out = generate(model, jnp.asarray(prompt_ids), jnp.asarray(prompt_mask), jax.random.key(0),
                   sampling=SamplingConfig(max_new_tokens=10), eos_ids=(eos,), pad_id=-1)
    tokens, lengths = np.asarray(out.tokens), np.asarray(out.lengths)
    for row in range(4):
        n = lengths[row]
        first = list(np.asarray(free.tokens)[row]).index(eos) + 1 if eos in free.tokens[row] else 10
        assert n == first
        np.testing.assert_array_equal(tokens[row, :n], np.asarray(free.tokens)[row, :n])
        assert (tokens[row, n:] == -1).all()


def test_bucketing_reuses_the_compiled_function(models):
    _, model = models
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    gen = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=3), eos_ids=(2,), pad_id=0,
                    batch_size=4, bucket=16)
    assert [bucket_length(n, 16) for n in (1, 3, 9, 16, 17, 40)] == [1, 4, 16, 16, 32, 48]
    gen([[5] * 9, [6] * 12], jax.random.key(0))
    gen([[7] * 16, [8] * 10, [9] * 11], jax.random.key(1))
    gen([[3] * 13], jax.random.key(2))
    assert gen.trace_count == 1
    gen([[4] * 20], jax.random.key(3))  # next bucket: one more compile
    assert gen.trace_count == 2


def test_answers_do_not_depend_on_padding_or_batch_mates(models):
    _, model = models
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    gen = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=8), eos_ids=(), pad_id=0, batch_size=4)
    together = gen(PROMPTS, jax.random.key(0))
    alone = [gen([p], jax.random.key(0), length=32)[0] for p in PROMPTS]
    assert together == alone


def test_sharded_generation_equals_single_device(models):
    _, model = models
    single = Generator(model, shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1]),
                       sampling=SamplingConfig(max_new_tokens=8), eos_ids=(2,), pad_id=0, batch_size=8)
    mesh = shd.make_mesh(data=2, fsdp=2, tensor=2)
    sharded = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=8), eos_ids=(2,), pad_id=0, batch_size=8)
    prompts = PROMPTS + [p[::-1] for p in PROMPTS]
    assert sharded(prompts, jax.random.key(0)) == single(prompts, jax.random.key(0))


def test_sampling_is_seeded_and_filters_reduce_to_greedy(models):
    _, model = models
    ids, mask = (jnp.asarray(x) for x in left_pad(PROMPTS, 16, 4, 0))

    def run(rng, **kw):
        out = generate(model, ids, mask, rng, sampling=SamplingConfig(max_new_tokens=10, **kw), eos_ids=(),
                       pad_id=0)
        return np.asarray(out.tokens)

    greedy = run(jax.random.key(0))
    hot = dict(temperature=1.5)
    np.testing.assert_array_equal(run(jax.random.key(1), **hot), run(jax.random.key(1), **hot))
    assert not np.array_equal(run(jax.random.key(1), **hot), run(jax.random.key(2), **hot))
    np.testing.assert_array_equal(run(jax.random.key(3), temperature=1.0, top_k=1), greedy)
    np.testing.assert_array_equal(run(jax.random.key(4), temperature=1.0, top_p=1e-6), greedy)


@pytest.mark.parametrize('kwargs', [dict(max_new_tokens=0), dict(temperature=-1.0), dict(top_p=0.0),
                                    dict(top_k=-2)])
def test_bad_sampling_config(kwargs):
    with pytest.raises(ValueError):
        SamplingConfig(**kwargs)
