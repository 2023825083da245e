"""LoRA adapters: identity at init, merge equals adapter, sharding follows the base weight, PEFT export."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from flax import nnx
from jax.sharding import PartitionSpec as P

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_hf, save_hf
from lightreasoner_jax.models.lora import LoraConfig, add_lora, lora_targets, merge_lora, save_peft_adapter
from tests.tiny_models import build_torch_model, left_padded_batch, torch_logits

VOCAB = 96
ALL = ('q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('base')
    torch_model = build_torch_model('qwen2_untied', VOCAB)
    torch_model.save_pretrained(path)
    return torch_model, path


def logits(model, batch, dropout_rng=None):
    ids, mask, positions = batch
    hidden, _ = model(jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask), dropout_rng=dropout_rng)
    return np.asarray(model.logits(hidden))


def randomise_b(model, seed=0):
    """B starts at zero; give it values so the adapters change the output."""
    keys = iter(jax.random.split(jax.random.key(seed), 1000))
    for _, var in nnx.to_flat_state(nnx.state(model, nnx.LoRAParam)):
        var.set_value(var.get_value() + 0.05 * jax.random.normal(next(keys), var.get_value().shape))


def lora_model(path, targets=ALL, seed=0):
    model = load_hf(path, dtype=jnp.float32)
    add_lora(model, LoraConfig(targets=targets, rank=4, alpha=8.0, dropout=0.1), nnx.Rngs(seed))
    return model


def test_adapters_start_as_identity_and_only_they_are_lora_params(checkpoint):
    _, path = checkpoint
    batch = left_padded_batch(VOCAB, (9, 5))
    base = logits(load_hf(path, dtype=jnp.float32), batch)
    model = lora_model(path)
    assert lora_targets(model) == ALL
    np.testing.assert_array_equal(logits(model, batch), base)
    lora_leaves = jax.tree.leaves(nnx.state(model, nnx.LoRAParam))
    assert len(lora_leaves) == 2 * 7 * 2 and all(x.dtype == jnp.float32 for x in lora_leaves)
    b = model.layers[0].attn.q_proj.lora.b[...]
    assert b.shape == (4, 4, 16) and not b.any()


def test_merge_equals_the_adapted_model(checkpoint):
    _, path = checkpoint
    batch = left_padded_batch(VOCAB, (9, 5, 2))
    model = lora_model(path)
    randomise_b(model)
    adapted = logits(model, batch)
    assert np.abs(adapted - logits(load_hf(path, dtype=jnp.float32), batch)).max() > 1e-2
    merged = merge_lora(model)
    assert lora_targets(merged) == () and not jax.tree.leaves(nnx.state(merged, nnx.LoRAParam))
    np.testing.assert_allclose(logits(merged, batch), adapted, atol=1e-5)


def test_dropout_only_with_a_key(checkpoint):
    _, path = checkpoint
    batch = left_padded_batch(VOCAB, (6,))
    model = lora_model(path)
    randomise_b(model)
    plain = logits(model, batch)
    np.testing.assert_array_equal(logits(model, batch), plain)
    a, b = logits(model, batch, jax.random.key(1)), logits(model, batch, jax.random.key(1))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - plain).max() > 1e-4
    assert np.abs(a - logits(model, batch, jax.random.key(2))).max() > 1e-4


def test_adapter_shardings_follow_the_base_weight(checkpoint):
    _, path = checkpoint
    mesh = shd.make_mesh(data=1, fsdp=4, tensor=2)
    model = lora_model(path)
    specs = shd.state_shardings(nnx.state(model), mesh)
    attn = specs['layers'][0]['attn']
    assert attn['q_proj']['kernel'].spec == P('fsdp', 'tensor', None)
    assert attn['q_proj']['lora']['a'].spec == P('fsdp', None)          # [D, r]: D as the base's D
    assert attn['q_proj']['lora']['b'].spec == P(None, 'tensor', None)  # [r, N, H]: N as the base's N
    assert attn['o_proj']['lora']['a'].spec == P('tensor', None, None)  # [N, H, r]
    assert attn['o_proj']['lora']['b'].spec == P(None, 'fsdp')          # [r, D]
    assert specs['layers'][0]['mlp']['down_proj']['lora']['a'].spec == P('tensor', None)  # [F, r]


def test_peft_adapter_and_merged_checkpoint_reproduce_our_logits(checkpoint, tmp_path):
    import peft
    import transformers
    torch_model, path = checkpoint
    batch = left_padded_batch(VOCAB, (9, 5, 2))
    config = LoraConfig(targets=('q_proj', 'v_proj', 'o_proj', 'down_proj'), rank=4, alpha=8.0, dropout=0.05)
    model = load_hf(path, dtype=jnp.float32)
    add_lora(model, config, nnx.Rngs(0))
    randomise_b(model, seed=3)
    ours = logits(model, batch)
    save_peft_adapter(model, config, tmp_path / 'adapter', base_model_name_or_path=str(path))
    base = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    with_adapter = peft.PeftModel.from_pretrained(base, tmp_path / 'adapter').eval()
    ids, mask, positions = batch
    assert np.abs(torch_logits(with_adapter, ids, mask, positions) - ours)[mask].max() <= 1e-4

    save_hf(merge_lora(model), model.config, tmp_path / 'merged')
    merged = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / 'merged', dtype=torch.float32).eval()
    assert np.abs(torch_logits(merged, ids, mask, positions) - ours)[mask].max() <= 1e-4


@pytest.mark.parametrize('kwargs', [dict(targets=('qkv',)), dict(targets=()), dict(rank=0), dict(dropout=1.0)])
def test_bad_lora_config(kwargs):
    with pytest.raises(ValueError, match='lora'):
        LoraConfig(**kwargs)
