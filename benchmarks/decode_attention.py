"""Decode attention on CPU: the key cache stored [B, K, H, S] (the current layout) against [B, K, S, H] (the
layout before 2026-12-07), side by side in one process on the same arrays, at the Qwen2.5-0.5B attention shape
(14 query heads over 2 kv heads of 64) and batch 64; then one whole decode step of the 24-layer model with the
current code, for the share attention takes of it.

    python benchmarks/decode_attention.py [--batch=64] [--slots=256,512,1024]

The grouped-query products are the model's own (`dot_product_attention`); the baseline contracts H against
an [S, H] key cache, as the model did before. A multiply-reduce formulation is measured too (the session that
filed issue 15 found it faster at 1,024 slots).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from lightreasoner_jax.models import KVCache, ModelConfig, Transformer
from lightreasoner_jax.models.transformer import dot_product_attention

SHAPE = dict(model_type='qwen2', vocab_size=151936, hidden_size=896, intermediate_size=4864, num_layers=24,
             num_heads=14, num_kv_heads=2, head_dim=64, qkv_bias=True, tie_word_embeddings=True,
             eos_token_ids=(151643,))


def keys_last_attention(q, k_bksh, v, mask, scale):
    """The layout before: keys [B, K, S, H], H contracted against the cache's minor axis."""
    B, T, N, H = q.shape
    K = k_bksh.shape[1]
    grouped = jnp.swapaxes(q.reshape(B, T, K, N // K, H), 1, 2).reshape(B, K, T * (N // K), H)
    logits = jnp.einsum('BKQH,BKSH->BKQS', grouped, k_bksh, preferred_element_type=jnp.float32) * scale
    logits = logits.reshape(B, K, T, N // K, -1)
    logits = jnp.where(mask[:, :, :, None], logits, jnp.finfo(jnp.float32).min)
    probs = jax.nn.softmax(logits, axis=-1).astype(v.dtype).reshape(B, K, T * (N // K), -1)
    out = jnp.einsum('BKQS,BKSH->BKQH', probs, v, preferred_element_type=jnp.float32).astype(v.dtype)
    return jnp.swapaxes(out.reshape(B, K, T, N // K, H), 1, 2).reshape(B, T, N, H)


def multiply_reduce_attention(q, k_bksh, v, mask, scale):
    """Elementwise products and sums instead of batched matmuls (float32 throughout)."""
    B, T, N, H = q.shape
    K = k_bksh.shape[1]
    grouped = jnp.swapaxes(q.reshape(B, T, K, N // K, H), 1, 2).reshape(B, K, T * (N // K), H)
    f32 = jnp.float32
    logits = jnp.sum(grouped[:, :, :, None, :].astype(f32) * k_bksh[:, :, None].astype(f32), -1) * scale
    logits = logits.reshape(B, K, T, N // K, -1)
    logits = jnp.where(mask[:, :, :, None], logits, jnp.finfo(f32).min)
    probs = jax.nn.softmax(logits, axis=-1).reshape(B, K, T * (N // K), -1)
    out = jnp.sum(probs[..., None] * v[:, :, None].astype(f32), -2).astype(v.dtype)
    return jnp.swapaxes(out.reshape(B, K, T, N // K, H), 1, 2).reshape(B, T, N, H)


def median_ms(fns: dict, args: dict, repeats: int) -> dict:
    """Interleaved timings (one call of each per round), so load on the machine hits every arm alike."""
    for name, fn in fns.items():
        jax.block_until_ready(fn(*args[name]))
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(*args[name]))
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t) * 1e3) for name, t in times.items()}


def attention_rows(batch: int, slots: list[int], repeats: int) -> list[dict]:
    N, K, H = SHAPE['num_heads'], SHAPE['num_kv_heads'], SHAPE['head_dim']
    rows = []
    for dtype in (jnp.float32, jnp.bfloat16):
        for S in slots:
            rng = np.random.default_rng(0)
            q = jnp.asarray(rng.normal(size=(batch, 1, N, H)), dtype)
            k = jnp.asarray(rng.normal(size=(batch, K, S, H)), dtype)
            v = jnp.asarray(rng.normal(size=(batch, K, S, H)), dtype)
            mask = jnp.broadcast_to(jnp.arange(S) < S - 7, (batch, 1, 1, S))
            k_t = jnp.swapaxes(k, 2, 3)
            fns = {'keys [B,K,H,S] (current)': jax.jit(lambda q, k, v, m: dot_product_attention(q, k, v, m, H ** -0.5,
                                                                                                'xla')),
                   'keys [B,K,S,H] (before)': jax.jit(lambda q, k, v, m: keys_last_attention(q, k, v, m, H ** -0.5)),
                   'multiply-reduce': jax.jit(lambda q, k, v, m: multiply_reduce_attention(q, k, v, m, H ** -0.5))}
            args = {'keys [B,K,H,S] (current)': (q, k_t, v, mask)}
            args.update({name: (q, k, v, mask) for name in list(fns)[1:]})
            outs = {name: np.asarray(fn(*args[name]), np.float32) for name, fn in fns.items()}
            ms = median_ms(fns, args, repeats)
            base = outs['keys [B,K,S,H] (before)']
            rows.append({'dtype': jnp.dtype(dtype).name, 'slots': S, 'ms_per_layer_step': ms,
                         'speedup_current_vs_before': ms['keys [B,K,S,H] (before)'] / ms['keys [B,K,H,S] (current)'],
                         'max_abs_difference_vs_before': {n: float(np.abs(o - base).max()) for n, o in outs.items()}})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def decode_step_ms(batch: int, slots: int, repeats: int) -> float:
    """One decode step of the whole 24-layer model (float32, random weights) over a cache of `slots` slots."""
    config = ModelConfig(**SHAPE, dtype=jnp.float32, param_dtype=jnp.float32)
    model = Transformer(config, rngs=nnx.Rngs(0))
    graph, state = nnx.split(model)
    cache = KVCache.init(config, batch, slots)._replace(valid=jnp.ones((batch, slots), bool),
                                                        length=jnp.asarray(slots - 1, jnp.int32))

    @jax.jit
    def step(state, token, cache):
        hidden, cache = nnx.merge(graph, state)(token, jnp.full_like(token, slots - 1), jnp.ones_like(token, bool),
                                                cache)
        return nnx.merge(graph, state).logits(hidden[:, 0]), cache
    token = jnp.zeros((batch, 1), jnp.int32)
    return median_ms({'step': step}, {'step': (state, token, cache)}, repeats)['step']


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--slots', default='256,512,1024')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--step_slots', type=int, default=512, help='cache slots of the whole-model decode step')
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'decode_attention.json'))
    args = parser.parse_args()
    rows = attention_rows(args.batch, [int(s) for s in args.slots.split(',')], args.repeats)
    step_ms = decode_step_ms(args.batch, args.step_slots, max(3, args.repeats // 4))
    f32_row = next(r for r in rows if r['dtype'] == 'float32' and r['slots'] == args.step_slots)
    share = SHAPE['num_layers'] * f32_row['ms_per_layer_step']['keys [B,K,H,S] (current)'] / step_ms
    result = {'batch': args.batch, 'shape': SHAPE, 'attention': rows,
              'whole_decode_step_ms_float32': {'slots': args.step_slots, 'ms': step_ms,
                                               'attention_share_current': share},
              'devices': str(jax.devices())}
    print(json.dumps(result['whole_decode_step_ms_float32']))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + '\n')


if __name__ == '__main__':
    main()
