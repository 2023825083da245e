"""Stage `model_check`: the foundation end to end on one model.

Builds (or loads) a decoder, writes it as an HF checkpoint, loads it back sharded on the mesh,
and checks that the sharded jitted forward and a KV-cache decode agree with the in-memory model.
Writes the workdir's model_check.json.
"""

from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import KVCache, ModelConfig, Transformer, load_hf, padded_positions, save_hf
from lightreasoner_jax.models.apply import jit_forward_logits
from lightreasoner_jax.pipeline.workdir import Workdir


def _random_batch(vocab_size: int, batch_size: int, length: int, seed: int):
    rng = np.random.RandomState(seed)
    lengths = rng.randint(1, length + 1, batch_size)
    mask = np.arange(length)[None, :] >= (length - lengths)[:, None]  # left padding
    ids = np.where(mask, rng.randint(0, vocab_size, (batch_size, length)), 0).astype(np.int32)
    return ids, mask, np.asarray(padded_positions(jnp.asarray(mask)))


def run(config, workdir: Workdir, mesh: jax.sharding.Mesh) -> dict:
    cfg = config.model_check
    start = time.time()
    if cfg.checkpoint:
        model = load_hf(cfg.checkpoint, dtype=jnp.float32)
        model_config = model.config
    else:
        model_config = ModelConfig(**cfg.random_model.to_dict())
        model = Transformer(model_config, rngs=nnx.Rngs(cfg.seed))
    checkpoint_dir = workdir.model_check_hf
    save_hf(model, model_config, checkpoint_dir)
    reloaded = load_hf(checkpoint_dir, mesh=mesh, dtype=jnp.float32)

    ids, mask, positions = _random_batch(model_config.vocab_size, cfg.batch_size, cfg.length, cfg.seed)

    @nnx.jit
    def logits_of(model, ids, positions, mask, cache=None):
        hidden, cache = model(ids, positions, mask, cache)
        return model.logits(hidden), cache

    expected = np.asarray(logits_of(model, jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask))[0])
    forward, state = jit_forward_logits(reloaded, mesh)
    sharded = shd.to_host(forward(state, ids, positions, mask))
    forward_diff = float(np.abs(sharded - expected)[mask].max())

    # KV cache: prefill all but the last token, decode the last; compare with the full forward.
    cache = KVCache.init(model_config, cfg.batch_size, cfg.length)
    _, cache = logits_of(model, jnp.asarray(ids[:, :-1]), jnp.asarray(positions[:, :-1]), jnp.asarray(mask[:, :-1]),
                         cache)
    last, _ = logits_of(model, jnp.asarray(ids[:, -1:]), jnp.asarray(positions[:, -1:]), jnp.asarray(mask[:, -1:]),
                        cache)
    decode_diff = float(np.abs(np.asarray(last)[:, 0] - expected[:, -1]).max())

    result = {
        'model_type': model_config.model_type,
        'parameters': int(sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))),
        'mesh': dict(mesh.shape),
        'checkpoint_files': sorted(p.name for p in checkpoint_dir.iterdir()),
        'sharded_vs_unsharded_max_abs_diff': forward_diff,
        'kv_cache_vs_full_max_abs_diff': decode_diff,
        'seconds': round(time.time() - start, 2),
    }
    result['ok'] = forward_diff <= cfg.tolerance and decode_diff <= cfg.tolerance
    if jax.process_index() == 0:
        workdir.model_check.write_text(json.dumps(result, indent=2))
    logging.info('model_check: %s', result)
    if not result['ok']:
        raise RuntimeError(f'model_check failed: {result}')
    return result
