"""Parity of our Flax models with transformers' PyTorch models: load, forward, export, reload."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers

from lightreasoner_jax.models import KVCache, ModelConfig, load_hf, save_hf
from tests.tiny_models import FAMILIES, build_torch_model, left_padded_batch, torch_logits

VOCAB = 96
LENGTHS = (11, 7, 3, 11)  # left-padded batch: full, padded, mostly padding, full


@pytest.fixture(scope='module', params=sorted(FAMILIES))
def checkpoint(request, tmp_path_factory):
    family = request.param
    torch_model = build_torch_model(family, VOCAB)
    path = tmp_path_factory.mktemp(family)
    torch_model.save_pretrained(path)
    return family, torch_model, path


def our_logits(model, ids, mask, positions):
    hidden, _ = model(jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask))
    return np.asarray(model.logits(hidden))


def test_config_maps_family_options(checkpoint):
    family, torch_model, path = checkpoint
    config = ModelConfig.from_hf(path)
    assert config.tie_word_embeddings == torch_model.config.tie_word_embeddings
    assert config.head_dim == 16 and config.num_kv_heads == 2
    if family.startswith('qwen2'):
        assert config.qkv_bias and not config.o_bias
    if family == 'llama3':
        assert config.qkv_bias and config.o_bias and config.mlp_bias
        assert config.rope['rope_type'] == 'llama3' and config.rope_theta == 500000.0
    if family == 'mistral_window':
        assert config.sliding_windows == (5, 5)


def test_logits_match_transformers_on_left_padded_batch(checkpoint):
    family, torch_model, path = checkpoint
    model = load_hf(path, dtype=jnp.float32)
    ids, mask, positions = left_padded_batch(VOCAB, LENGTHS)
    ours = our_logits(model, ids, mask, positions)
    ref = torch_logits(torch_model, ids, mask, positions)
    assert ours.shape == ref.shape == (len(LENGTHS), max(LENGTHS), VOCAB)
    assert np.abs(ours - ref)[mask].max() <= 1e-4
    assert np.isfinite(ours).all()  # pad rows too


def test_save_hf_reloads_in_transformers_and_ours(checkpoint, tmp_path):
    family, torch_model, path = checkpoint
    model = load_hf(path, dtype=jnp.float32)
    ids, mask, positions = left_padded_batch(VOCAB, LENGTHS, seed=1)
    ours = our_logits(model, ids, mask, positions)
    # A small shard size forces several files plus model.safetensors.index.json.
    save_hf(model, model.config, tmp_path / 'out', shard_size=60_000)
    files = os.listdir(tmp_path / 'out')
    assert 'config.json' in files and 'model.safetensors.index.json' in files
    assert sum(f.endswith('.safetensors') for f in files) > 1
    reloaded = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / 'out', dtype=torch.float32).eval()
    assert type(reloaded) is type(torch_model)
    ref = torch_logits(reloaded, ids, mask, positions)
    assert np.abs(ours - ref)[mask].max() <= 1e-4
    again = our_logits(load_hf(tmp_path / 'out', dtype=jnp.float32), ids, mask, positions)
    np.testing.assert_array_equal(again, ours)


def test_save_hf_single_file_in_bfloat16(checkpoint, tmp_path):
    family, torch_model, path = checkpoint
    model = load_hf(path, dtype=jnp.float32)
    save_hf(model, model.config, tmp_path / 'bf16', dtype=jnp.bfloat16)
    assert 'model.safetensors' in os.listdir(tmp_path / 'bf16')
    config = json.loads((tmp_path / 'bf16' / 'config.json').read_text())
    assert config['dtype'] == 'bfloat16' and config['model_type'] == torch_model.config.model_type
    reloaded = load_hf(tmp_path / 'bf16', dtype=jnp.bfloat16)
    assert reloaded.embedding[...].dtype == jnp.bfloat16
    expected = np.asarray(model.embedding[...]).astype(jnp.bfloat16)
    np.testing.assert_array_equal(np.asarray(reloaded.embedding[...]), expected)


def test_bfloat16_forward_is_close_to_float32(checkpoint):
    family, torch_model, path = checkpoint
    ids, mask, positions = left_padded_batch(VOCAB, LENGTHS)
    full = our_logits(load_hf(path, dtype=jnp.float32), ids, mask, positions)
    half = our_logits(load_hf(path, dtype=jnp.bfloat16), ids, mask, positions)
    assert half.dtype == np.float32  # logits always come out in float32
    assert np.abs(half - full)[mask].max() < 0.1 * np.abs(full).max()


def test_kv_cache_decode_equals_full_forward(checkpoint):
    family, torch_model, path = checkpoint
    model = load_hf(path, dtype=jnp.float32)
    prompt_lengths, new_tokens = (6, 3, 8), 5
    ids, mask, positions = left_padded_batch(VOCAB, prompt_lengths, seed=2)
    B, P = ids.shape
    generated = np.random.RandomState(3).randint(3, VOCAB, (B, new_tokens)).astype(np.int32)
    full_ids = np.concatenate([ids, generated], axis=1)
    full_mask = np.concatenate([mask, np.ones_like(generated, bool)], axis=1)
    full_positions = np.maximum(np.cumsum(full_mask, axis=1) - 1, 0).astype(np.int32)
    expected = our_logits(model, full_ids, full_mask, full_positions)

    prefill = jax.jit(lambda m, i, p, a, c: m(i, p, a, c))
    cache = KVCache.init(model.config, B, P + new_tokens + 2)  # spare slots stay invalid
    hidden, cache = prefill(model, jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask), cache)
    steps = [np.asarray(model.logits(hidden))[:, -1]]
    for t in range(new_tokens - 1):
        hidden, cache = prefill(model, jnp.asarray(generated[:, t:t + 1]), jnp.asarray(full_positions[:, P + t:P + t + 1]),
                                jnp.ones((B, 1), bool), cache)
        steps.append(np.asarray(model.logits(hidden))[:, 0])
    decoded = np.stack(steps, axis=1)
    np.testing.assert_allclose(decoded, expected[:, P - 1:P + new_tokens - 1], atol=1e-4)
    assert int(cache.length) == P + new_tokens - 1


def test_logits_at_chosen_positions_equal_full_logits(checkpoint):
    family, torch_model, path = checkpoint
    model = load_hf(path, dtype=jnp.float32)
    ids, mask, positions = left_padded_batch(VOCAB, LENGTHS)
    hidden, _ = model(jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask))
    index = np.array([[10, 4], [5, 10], [9, 8], [0, 3]], np.int32)
    chosen = np.asarray(model.logits_at(hidden, jnp.asarray(index)))
    full = np.asarray(model.logits(hidden))
    np.testing.assert_allclose(chosen, np.take_along_axis(full, index[..., None], axis=1), atol=1e-6)


def test_vocab_sizes_may_differ_between_models(tmp_path):
    # Qwen2.5-Math-7B (152064) vs Qwen2.5-0.5B (151936): same code path, own head size.
    for vocab in (96, 104):
        path = tmp_path / str(vocab)
        build_torch_model('qwen2_tied', vocab).save_pretrained(path)
        model = load_hf(path, dtype=jnp.float32)
        ids, mask, positions = left_padded_batch(96, (4,))
        assert our_logits(model, ids, mask, positions).shape == (1, 4, vocab)


def test_sliding_window_changes_logits_beyond_the_window(tmp_path):
    # Guards the Mistral parity above against both sides silently ignoring the window.
    path = tmp_path / 'mistral'
    build_torch_model('mistral_window', VOCAB).save_pretrained(path)
    windowed = load_hf(path, dtype=jnp.float32)
    config = windowed.config.replace(sliding_windows=(None, None))
    full = load_hf(path, dtype=jnp.float32, config=config)
    ids, mask, positions = left_padded_batch(VOCAB, (11,))
    a, b = our_logits(windowed, ids, mask, positions), our_logits(full, ids, mask, positions)
    np.testing.assert_allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert np.abs(a[:, 5:] - b[:, 5:]).max() > 1e-3
