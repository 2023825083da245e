"""Bad checkpoints and configs fail with errors that say what is wrong and where."""

import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from lightreasoner_jax.models import CheckpointError, ModelConfig, UnsupportedModelError, load_hf
from tests.tiny_models import build_torch_model

VOCAB = 96


@pytest.fixture(scope='module')
def good_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('good')
    build_torch_model('qwen2_untied', VOCAB).save_pretrained(path)
    return path


@pytest.fixture
def checkpoint(good_checkpoint, tmp_path):
    path = tmp_path / 'ckpt'
    shutil.copytree(good_checkpoint, path)
    return path


def rewrite_tensors(path, edit):
    tensors = load_file(path / 'model.safetensors')
    edit(tensors)
    save_file(tensors, path / 'model.safetensors', metadata={'format': 'pt'})


def edit_config(path, **changes):
    config = json.loads((path / 'config.json').read_text())
    config.update(changes)
    (path / 'config.json').write_text(json.dumps(config))


def test_wrong_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'nowhere')):
        load_hf(tmp_path / 'nowhere')


def test_directory_without_weights(checkpoint):
    (checkpoint / 'model.safetensors').unlink()
    with pytest.raises(CheckpointError, match='no model.safetensors'):
        load_hf(checkpoint)


def test_missing_tensor_is_named(checkpoint):
    rewrite_tensors(checkpoint, lambda t: t.pop('model.layers.1.self_attn.k_proj.bias'))
    with pytest.raises(CheckpointError, match=r'missing tensors \(1\): model.layers.1.self_attn.k_proj.bias'):
        load_hf(checkpoint)


def test_unexpected_tensor_is_named(checkpoint):
    rewrite_tensors(checkpoint, lambda t: t.update({'model.layers.0.extra.weight': np.zeros(3, np.float32)}))
    with pytest.raises(CheckpointError, match=r'unexpected tensors \(1\): model.layers.0.extra.weight'):
        load_hf(checkpoint)


def test_shape_mismatch_is_named_with_both_shapes(checkpoint):
    def shrink(tensors):
        tensors['model.layers.0.mlp.up_proj.weight'] = tensors['model.layers.0.mlp.up_proj.weight'][:100]
    rewrite_tensors(checkpoint, shrink)
    with pytest.raises(CheckpointError,
                       match=r'model.layers.0.mlp.up_proj.weight: checkpoint has \[100, 64\], model expects \[112, 64\]'):
        load_hf(checkpoint)


def test_config_and_weights_disagree_on_layers(checkpoint):
    edit_config(checkpoint, num_hidden_layers=3, layer_types=['full_attention'] * 3)
    with pytest.raises(CheckpointError, match=r'missing tensors \(\d+\): model.layers.2.input_layernorm.weight'):
        load_hf(checkpoint)


def test_inconsistent_config_names_the_file(checkpoint):
    edit_config(checkpoint, num_hidden_layers=3)  # layer_types still lists 2 layers
    with pytest.raises(ValueError, match=r'(?s)config.json: invalid qwen2 config: .*layer_types'):
        load_hf(checkpoint)


def test_unsupported_model_type(checkpoint):
    edit_config(checkpoint, model_type='gpt2')
    with pytest.raises(UnsupportedModelError, match=r"config.json: model_type='gpt2' is not supported"):
        load_hf(checkpoint)


def test_unsupported_rope_type(checkpoint):
    edit_config(checkpoint, rope_parameters={'rope_type': 'yarn', 'factor': 4.0, 'rope_theta': 10000.0,
                                             'original_max_position_embeddings': 32})
    with pytest.raises(UnsupportedModelError, match="rope_type='yarn' is not supported"):
        ModelConfig.from_hf(checkpoint)


def test_unsupported_activation(checkpoint):
    edit_config(checkpoint, hidden_act='gelu')
    with pytest.raises(UnsupportedModelError, match="hidden_act='gelu'"):
        ModelConfig.from_hf(checkpoint)


def test_config_that_is_not_json(checkpoint):
    (checkpoint / 'config.json').write_text('{"model_type": "qwen2",\n  oops}')
    with pytest.raises(ValueError, match=r'config.json: line 2: not valid JSON'):
        load_hf(checkpoint)


def test_truncated_safetensors_file(checkpoint):
    data = (checkpoint / 'model.safetensors').read_bytes()
    (checkpoint / 'model.safetensors').write_bytes(data[:4])
    with pytest.raises(CheckpointError, match='too short to be a safetensors file'):
        load_hf(checkpoint)


def test_index_naming_a_missing_shard(checkpoint):
    (checkpoint / 'model.safetensors').rename(checkpoint / 'model-00001-of-00002.safetensors')
    weight_map = {'model.embed_tokens.weight': 'model-00002-of-00002.safetensors'}
    (checkpoint / 'model.safetensors.index.json').write_text(json.dumps({'weight_map': weight_map}))
    with pytest.raises(CheckpointError, match='model-00002-of-00002.safetensors: listed in'):
        load_hf(checkpoint)


def test_legacy_rope_fields_are_understood(checkpoint):
    # Hub configs of Qwen2.5 / Llama 3.1 still carry rope_theta and rope_scaling at the top level.
    config = json.loads((checkpoint / 'config.json').read_text())
    config.pop('rope_parameters', None)
    config.update(rope_theta=123456.0, rope_scaling={'rope_type': 'linear', 'factor': 2.0})
    (checkpoint / 'config.json').write_text(json.dumps(config))
    parsed = ModelConfig.from_hf(checkpoint)
    assert parsed.rope_theta == 123456.0
    assert parsed.rope == {'rope_type': 'linear', 'factor': 2.0}


def test_truncated_weights_name_the_file_tensor_and_sizes(checkpoint):
    weights = checkpoint / 'model.safetensors'
    size = weights.stat().st_size
    with open(weights, 'r+b') as f:
        f.truncate(size - 1000)
    with pytest.raises(CheckpointError, match=rf'model.safetensors: truncated: the file has {size - 1000} bytes, its '
                                              rf'header describes {size}; tensor \S+ needs bytes \[\d+, \d+\)'):
        load_hf(checkpoint)
