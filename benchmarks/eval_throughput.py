"""Evaluation throughput at a real model shape: a random-weight Qwen2.5-Math-1.5B-shaped expert (hidden 1,536,
28 layers, 12/2 heads, MLP 8,960, vocab 151,936, tied) answering batches of prompts greedily through the
evaluation's generator, with no EOS (every answer runs to max_new_tokens, the worst case of a padded batch).
Measures questions/s and decode tokens/s after compilation, and the compile time. The per-benchmark time of
the paper's suite follows from the benchmarks' sizes (rows) and the toolkit's 2,048-token budget.

python benchmarks/eval_throughput.py [--questions 16] [--batch 8] [--prompt 128] [--new_tokens 64]
    [--dtype float32] [--out benchmarks/results/eval_throughput.json]
"""

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import Generator, SamplingConfig
from lightreasoner_jax.models import Transformer
from lightreasoner_jax.models.config import ModelConfig

ROWS = {'gsm8k': 1319, 'math': 5000, 'svamp': 1000, 'asdiv': 2215, 'minerva_math': 272, 'olympiadbench': 675,
        'mmlu_stem': 3018}  # the toolkit's test files
QWEN25_MATH_1P5B = dict(model_type='qwen2', vocab_size=151936, hidden_size=1536, intermediate_size=8960,
                        num_layers=28, num_heads=12, num_kv_heads=2, head_dim=128, tie_word_embeddings=True,
                        qkv_bias=True, rope_theta=10000.0, rms_norm_eps=1e-6)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--questions', type=int, default=16)
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--prompt', type=int, default=128)
    parser.add_argument('--new_tokens', type=int, default=64)
    parser.add_argument('--dtype', default='float32')
    parser.add_argument('--out', default=os.path.join(os.path.dirname(__file__), 'results', 'eval_throughput.json'))
    args = parser.parse_args()
    dtype = jnp.dtype(args.dtype)
    config = ModelConfig(**QWEN25_MATH_1P5B, dtype=dtype, param_dtype=dtype)
    mesh = shd.make_mesh(data=1, fsdp=-1)
    with jax.set_mesh(mesh):
        model = Transformer(config, rngs=nnx.Rngs(0))
    generator = Generator(model, mesh, sampling=SamplingConfig(max_new_tokens=args.new_tokens, temperature=0.0),
                          eos_ids=(config.vocab_size - 1,), pad_id=0, batch_size=args.batch, bucket=args.prompt)
    rng = np.random.default_rng(0)
    prompts = [list(rng.integers(1, 150000, args.prompt)) for _ in range(args.questions)]
    start = time.time()
    generator(prompts[:args.batch], jax.random.key(0))  # compile + first batch
    first = time.time() - start
    start = time.time()
    answered = 0
    for i in range(0, args.questions, args.batch):
        answers = generator(prompts[i:i + args.batch], jax.random.key(i))
        answered += len(answers)
        assert all(len(a) == args.new_tokens for a in answers)  # no EOS: every answer is full length
    seconds = time.time() - start
    per_question = seconds / answered
    result = {
        'device': str(jax.devices()[0].platform), 'devices': jax.device_count(), 'dtype': args.dtype,
        'shape': 'Qwen2.5-Math-1.5B (random weights)', 'batch': args.batch, 'prompt_tokens': args.prompt,
        'new_tokens': args.new_tokens, 'questions': answered, 'seconds': seconds,
        'first_batch_seconds_with_compile': first, 'questions_per_second': answered / seconds,
        'decode_tokens_per_second': answered * args.new_tokens / seconds,
        # the paper's suite at this throughput, every answer 2,048 tokens long (an upper bound: real answers
        # stop earlier, and a batch stops when its longest answer does)
        'suite_hours_at_2048_tokens': {name: rows * per_question * 2048 / args.new_tokens / 3600
                                       for name, rows in ROWS.items()},
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
