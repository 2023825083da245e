"""load_hf never holds the model twice in host memory: measured in a fresh process.

Weights are memory-mapped (file pages, not anonymous memory) and sliced per device shard, so the
anonymous memory a load adds is the placed arrays themselves (on CPU devices, host memory) plus
transfer buffers the allocator keeps after use. Measured: 4 layers (224 MB) -> peak +376 MB,
16 layers (495 MB) -> +651 MB: a fixed ~150 MB over the model, bounded by the largest tensor
(67 MB here), not by the model. A loader that held the model twice would add >= 2x.
"""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

from lightreasoner_jax.models import ModelConfig, Transformer, save_hf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MEASURE = textwrap.dedent('''
    import json, sys, threading, time
    import jax, jax.numpy as jnp
    from lightreasoner_jax import sharding
    from lightreasoner_jax.models import load_hf

    def rss_anon():
        for line in open('/proc/self/status'):
            if line.startswith('RssAnon:'):
                return int(line.split()[1]) * 1024

    mesh = sharding.make_mesh(data=1, fsdp=8, tensor=1)
    jax.numpy.zeros(1).block_until_ready()  # backend up before the baseline
    baseline, peak, done = rss_anon(), [0], [False]
    def sample():
        while not done[0]:
            peak[0] = max(peak[0], rss_anon()); time.sleep(0.001)
    thread = threading.Thread(target=sample); thread.start()
    model = load_hf(sys.argv[1], mesh=mesh, dtype=jnp.bfloat16)
    jax.block_until_ready(jax.tree.leaves(model))
    done[0] = True; thread.join()
    print(json.dumps({'peak_increase': peak[0] - baseline}))
''')


@pytest.mark.slow
def test_sharded_bf16_load_adds_about_one_model_of_host_memory(tmp_path):
    config = ModelConfig(model_type='qwen2', vocab_size=32768, hidden_size=1024, intermediate_size=2816,
                         num_layers=4, num_heads=16, num_kv_heads=4, head_dim=64, qkv_bias=True,
                         tie_word_embeddings=False, param_dtype=jnp.bfloat16, dtype=jnp.bfloat16)
    model = Transformer(config, rngs=nnx.Rngs(0))
    model_bytes = sum(v.nbytes for v in jax_leaves(model))
    save_hf(model, config, tmp_path)
    del model
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=8')
    result = subprocess.run([sys.executable, '-c', MEASURE, str(tmp_path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    increase = json.loads(result.stdout.strip().splitlines()[-1])['peak_increase']
    largest = config.vocab_size * config.hidden_size * 2
    assert 3 * largest < model_bytes  # so the bound below fails for a loader that holds 2 copies
    assert increase < model_bytes + 3 * largest, (increase, model_bytes)


def jax_leaves(model):
    return jax.tree.leaves(nnx.state(model, nnx.Param))
