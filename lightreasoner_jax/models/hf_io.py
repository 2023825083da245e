"""HF checkpoints in and out: the name/layout mapping next to `load_hf` and `save_hf`.

HF stores linear weights as [out, in]; our einsum kernels keep named axes ([D, N, H] for q_proj).
Each mapping is a pair of *views* (reshape/transpose), so loading slices a memory-mapped tensor
straight into each device's shard without materialising the full tensor on the host.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from etils import epath
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import hub
from lightreasoner_jax.models import safetensors_io as st
from lightreasoner_jax.models.config import ModelConfig
from lightreasoner_jax.models.transformer import Transformer

# Buffers some checkpoints carry that are recomputed, never loaded.
_IGNORED_SUFFIXES = ('rotary_emb.inv_freq',)


@dataclass(frozen=True)
class TensorMapping:
    hf_name: str
    path: tuple  # path of the Variable in the model's nnx.State
    to_ours: Callable[[np.ndarray], np.ndarray]
    to_hf: Callable[[np.ndarray], np.ndarray]


def _identity(x):
    return x


def _transpose(x):
    return x.T


def hf_mappings(config: ModelConfig) -> list[TensorMapping]:
    """Every tensor of the HF checkpoint, in HF order, with the view functions both ways."""
    c = config
    N, K, H, D = c.num_heads, c.num_kv_heads, c.head_dim, c.hidden_size

    def in_heads(n):  # HF [n*H, D] -> ours [D, n, H]
        return (lambda x: x.reshape(n, H, D).transpose(2, 0, 1),
                lambda x: x.transpose(1, 2, 0).reshape(n * H, D))

    def bias_heads(n):  # HF [n*H] -> ours [n, H]
        return (lambda x: x.reshape(n, H), lambda x: x.reshape(n * H))

    out_heads = (lambda x: x.reshape(D, N, H).transpose(1, 2, 0),  # HF [D, N*H] -> ours [N, H, D]
                 lambda x: x.transpose(2, 0, 1).reshape(D, N * H))
    same, linear = (_identity, _identity), (_transpose, _transpose)

    def m(hf_name, path, fns):
        return TensorMapping(hf_name, path, *fns)

    mappings = [m('model.embed_tokens.weight', ('embedding',), same)]
    for i in range(c.num_layers):
        hf, ours = f'model.layers.{i}', ('layers', i)
        mappings += [
            m(f'{hf}.input_layernorm.weight', ours + ('input_norm', 'scale'), same),
            m(f'{hf}.self_attn.q_proj.weight', ours + ('attn', 'q_proj', 'kernel'), in_heads(N)),
            m(f'{hf}.self_attn.k_proj.weight', ours + ('attn', 'k_proj', 'kernel'), in_heads(K)),
            m(f'{hf}.self_attn.v_proj.weight', ours + ('attn', 'v_proj', 'kernel'), in_heads(K)),
            m(f'{hf}.self_attn.o_proj.weight', ours + ('attn', 'o_proj', 'kernel'), out_heads),
        ]
        if c.qkv_bias:
            mappings += [
                m(f'{hf}.self_attn.q_proj.bias', ours + ('attn', 'q_proj', 'bias'), bias_heads(N)),
                m(f'{hf}.self_attn.k_proj.bias', ours + ('attn', 'k_proj', 'bias'), bias_heads(K)),
                m(f'{hf}.self_attn.v_proj.bias', ours + ('attn', 'v_proj', 'bias'), bias_heads(K)),
            ]
        if c.o_bias:
            mappings.append(m(f'{hf}.self_attn.o_proj.bias', ours + ('attn', 'o_proj', 'bias'), same))
        mappings += [
            m(f'{hf}.post_attention_layernorm.weight', ours + ('post_attention_norm', 'scale'), same),
            m(f'{hf}.mlp.gate_proj.weight', ours + ('mlp', 'gate_proj', 'kernel'), linear),
            m(f'{hf}.mlp.up_proj.weight', ours + ('mlp', 'up_proj', 'kernel'), linear),
            m(f'{hf}.mlp.down_proj.weight', ours + ('mlp', 'down_proj', 'kernel'), linear),
        ]
        if c.mlp_bias:
            mappings += [m(f'{hf}.mlp.{p}_proj.bias', ours + ('mlp', f'{p}_proj', 'bias'), same)
                         for p in ('gate', 'up', 'down')]
    mappings.append(m('model.norm.weight', ('final_norm', 'scale'), same))
    if not c.tie_word_embeddings:
        mappings.append(m('lm_head.weight', ('lm_head',), same))
    return mappings


def abstract_model(config: ModelConfig) -> Transformer:
    """The model with ShapeDtypeStruct leaves: no memory allocated."""
    return nnx.eval_shape(lambda: Transformer(config, rngs=nnx.Rngs(0)))


def _flat_variables(state) -> dict[tuple, nnx.Variable]:
    return {tuple(path): var for path, var in nnx.to_flat_state(state)}


def _shardings_for(state, mesh):
    if mesh is None:
        device = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])
        return jax.tree.map(lambda _: device, state, is_leaf=lambda x: isinstance(x, nnx.Variable))
    return shd.state_shardings(state, mesh)


def load_hf(path, *, mesh: jax.sharding.Mesh | None = None, dtype=jnp.bfloat16, param_dtype=None,
            config: ModelConfig | None = None) -> Transformer:
    """Loads an HF checkpoint directory into a Transformer whose params are placed with their
    target shardings on `mesh` (one device if None), one tensor and one shard at a time.

    dtype: activation/compute dtype; param_dtype: stored weight dtype (defaults to dtype).
    The ModelConfig is `model.config`.
    """
    directory = hub.local_dir(path)
    dtype = jnp.dtype(dtype)
    param_dtype = dtype if param_dtype is None else jnp.dtype(param_dtype)
    if config is None:
        config = ModelConfig.from_hf(os.fspath(directory), dtype=dtype, param_dtype=param_dtype)
    graphdef, state = nnx.split(abstract_model(config))
    variables = _flat_variables(state)
    shardings = {tuple(p): s for p, s in nnx.to_flat_state(_shardings_for(state, mesh))}
    tensors = st.checkpoint_tensors(directory)
    mappings = hf_mappings(config)

    expected = {m.hf_name for m in mappings}
    missing = [m.hf_name for m in mappings if m.hf_name not in tensors]
    unexpected = sorted(n for n in tensors if n not in expected and not n.endswith(_IGNORED_SUFFIXES)
                        and not (config.tie_word_embeddings and n == 'lm_head.weight'))
    mismatched = []
    for mapping in mappings:
        if mapping.hf_name in tensors:
            want = variables[mapping.path].get_value().shape
            have = tensors[mapping.hf_name].shape
            got = _mapped_shape(mapping, have)
            if got != want:
                hf_want = _mapped_shape(mapping, want, to_hf=True)
                mismatched.append(f'{mapping.hf_name}: checkpoint has {list(have)}, model expects {list(hf_want)}')
    if missing or unexpected or mismatched:
        problems = []
        if missing:
            problems.append(f'missing tensors ({len(missing)}): {", ".join(missing[:20])}'
                            + (' ...' if len(missing) > 20 else ''))
        if unexpected:
            problems.append(f'unexpected tensors ({len(unexpected)}): {", ".join(unexpected[:20])}'
                            + (' ...' if len(unexpected) > 20 else ''))
        if mismatched:
            problems.append('shape mismatches: ' + '; '.join(mismatched))
        raise st.CheckpointError(f'{directory}: checkpoint does not match its config '
                                 f'({config.model_type}, {config.num_layers} layers):\n  ' + '\n  '.join(problems))

    reader = st.TensorReader()
    for mapping in mappings:
        var = variables[mapping.path]
        view = mapping.to_ours(reader.read(tensors[mapping.hf_name]))
        target_dtype = var.get_value().dtype
        var.set_value(jax.make_array_from_callback(
            view.shape, shardings[mapping.path],
            lambda index, view=view, dt=target_dtype: np.asarray(view[index]).astype(dt, copy=False)))
    return nnx.merge(graphdef, state)


def _mapped_shape(mapping: TensorMapping, shape, to_hf: bool = False):
    # Traced abstractly: a 7B-sized shape allocates nothing.
    fn = mapping.to_hf if to_hf else mapping.to_ours
    try:
        return tuple(jax.eval_shape(fn, jax.ShapeDtypeStruct(tuple(shape), jnp.int8)).shape)
    except (TypeError, ValueError):
        return None


def save_hf(model_state, config: ModelConfig, path, *, tokenizer=None, shard_size: int = 5 * 2**30,
            dtype=None) -> None:
    """Writes an HF checkpoint: safetensors (sharded with an index above `shard_size` bytes),
    config.json, and tokenizer files if `tokenizer` (a transformers tokenizer or a directory) is given.

    model_state: a Transformer or its nnx.State. dtype: the saved weight dtype (default: the
    config's param_dtype). Tensors are gathered one at a time; only process 0 writes. Every
    process must call this (gathering a sharded tensor is collective).
    """
    if isinstance(model_state, nnx.Module):
        model_state = nnx.state(model_state, nnx.Param)
    variables = _flat_variables(model_state)
    save_dtype = np.dtype(config.param_dtype if dtype is None else dtype)
    mappings = hf_mappings(config)
    missing = [m.path for m in mappings if m.path not in variables]
    if missing:
        raise st.CheckpointError(f'model state lacks {len(missing)} parameters the config needs, '
                                 f'e.g. {missing[:5]}')
    directory = epath.Path(path)
    writer = jax.process_index() == 0
    if writer:
        directory.mkdir(parents=True, exist_ok=True)

    sizes = [(m.hf_name, st.nbytes(variables[m.path].get_value().shape, save_dtype)) for m in mappings]
    shards = st.plan_shards(sizes, shard_size)
    by_name = {m.hf_name: m for m in mappings}
    single = len(shards) == 1
    weight_map = {}
    for number, names in enumerate(shards, start=1):
        file_name = st.SINGLE_FILE if single else f'model-{number:05d}-of-{len(shards):05d}.safetensors'
        arrays = []
        for name in names:
            mapping = by_name[name]
            host = shd.to_host(variables[mapping.path].get_value())  # collective: every process
            arrays.append((name, np.ascontiguousarray(mapping.to_hf(host.astype(save_dtype)))))
            weight_map[name] = file_name
        if writer:
            st.write_file(directory / file_name, arrays)
    if not writer:
        return
    if not single:
        index = {'metadata': {'total_size': sum(size for _, size in sizes)}, 'weight_map': weight_map}
        (directory / st.INDEX_FILE).write_text(json.dumps(index, indent=2))
    hf_config = config.to_hf()
    hf_config.dtype = save_dtype.name
    (directory / 'config.json').write_text(hf_config.to_json_string())
    if tokenizer is not None:
        _save_tokenizer(tokenizer, directory)


def _save_tokenizer(tokenizer, directory: epath.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(tokenizer, (str, os.PathLike, epath.Path)):
            from transformers import AutoTokenizer
            tokenizer = AutoTokenizer.from_pretrained(os.fspath(hub.local_dir(tokenizer)))
        tokenizer.save_pretrained(tmp)
        for file in epath.Path(tmp).iterdir():  # via epath so the target may be gs://
            (directory / file.name).write_bytes(file.read_bytes())
