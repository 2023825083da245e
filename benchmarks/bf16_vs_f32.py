"""bf16 (float32 accumulation) vs float32 at the Qwen2.5-0.5B shape: forward time over one prefill batch and
the logit difference against float32, side by side in one process on the same random weights.

    python benchmarks/bf16_vs_f32.py --batch=8 --length=256
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from benchmarks.real_scale import forward_flops
from lightreasoner_jax.models import ModelConfig, Transformer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--length', type=int, default=256)
    parser.add_argument('--layers', type=int, default=24)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'bf16_vs_f32.json'))
    args = parser.parse_args()
    shape = dict(model_type='qwen2', vocab_size=151936, hidden_size=896, intermediate_size=4864,
                 num_layers=args.layers, num_heads=14, num_kv_heads=2, head_dim=64, qkv_bias=True,
                 tie_word_embeddings=True, eos_token_ids=(151643,))
    ids = jnp.asarray(np.random.RandomState(0).randint(0, 151643, (args.batch, args.length)), jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(args.length), ids.shape)
    mask = jnp.ones(ids.shape, bool)
    f32_model = Transformer(ModelConfig(**shape), rngs=nnx.Rngs(0))
    state = nnx.state(f32_model)
    result, logits = {}, {}
    for name, dtype in (('float32', jnp.float32), ('bfloat16', jnp.bfloat16)):
        model = Transformer(ModelConfig(**shape, dtype=dtype, param_dtype=dtype), rngs=nnx.Rngs(0))
        nnx.update(model, jax.tree.map(lambda x, d=dtype: x.astype(d), state))  # the same weights, rounded

        @nnx.jit
        def forward(m, ids, positions, mask):
            hidden, _ = m(ids, positions, mask)
            return m.logits(hidden[:, -16:])  # the head on the last 16 positions

        out = forward(model, ids, positions, mask).block_until_ready()
        start = time.perf_counter()
        for _ in range(args.repeats):
            out = forward(model, ids, positions, mask).block_until_ready()
        seconds = (time.perf_counter() - start) / args.repeats
        flops = forward_flops(dict(hidden_size=896, intermediate_size=4864, num_attention_heads=14,
                                   num_key_value_heads=2, num_hidden_layers=args.layers, vocab_size=151936),
                              args.batch * args.length, args.length, args.batch * 16)
        logits[name] = np.asarray(out, np.float32)
        result[name] = {'seconds': seconds, 'gflops': flops / seconds / 1e9}
    diff = np.abs(logits['bfloat16'] - logits['float32'])
    result.update({
        'shape': f'Qwen2.5-0.5B ({args.layers} layers), batch {args.batch} x {args.length} tokens, random weights',
        'machine': f'{os.cpu_count()} CPU cores, jax {jax.__version__} ({jax.default_backend()})',
        'bf16_speedup': result['float32']['seconds'] / result['bfloat16']['seconds'],
        'logit_max_abs_difference': float(diff.max()), 'logit_mean_abs_difference': float(diff.mean()),
        'logit_std_float32': float(logits['float32'].std()),
        'argmax_agreement': float((logits['bfloat16'].argmax(-1) == logits['float32'].argmax(-1)).mean()),
    })
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
