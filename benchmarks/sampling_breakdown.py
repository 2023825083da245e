"""Where one batch of the sample stage spends its time: the jitted parts timed apart (compiled first).

Same models and questions as sampling_vs_reference.py: 64 GSM8K prompts (the shortest, padded to 128),
128 greedy new tokens. Each part is compiled, then timed as the mean of 3 runs:
  prefill               generate with max_new_tokens=1
  generate              prefill + 128 decode steps (no EOS, so every step runs)
  score (full)          teacher-forced expert and amateur forwards over prompt + answer, then the contrast
  score (prompt cache)  the same with the expert's forward over the answer only, from the prompt cache
  decode step           ms per step of a 64-step decode loop, with and without the attention

    python benchmarks/sampling_breakdown.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax
import jax.numpy as jnp
from flax import nnx

from benchmarks.sampling_vs_reference import SYSTEM_PROMPT, build_models, load_gsm8k_questions
from lightreasoner_jax import data as data_lib
from lightreasoner_jax.generation import SamplingConfig, generate, generate_with_cache, left_pad
from lightreasoner_jax.models import load_hf, transformer
from lightreasoner_jax.models.transformer import KVCache
from lightreasoner_jax.sampling import ContrastConfig, score

BATCH, PROMPT, NEW = 64, 128, 128


def seconds(fn, *args, repeats: int = 3) -> float:
    jax.block_until_ready(fn(*args))
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn(*args)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / repeats


def decode_ms_per_step(model, steps: int = 64) -> float:
    cache = KVCache.init(model.config, BATCH, PROMPT + NEW)
    cache = cache._replace(length=jnp.asarray(PROMPT, jnp.int32), valid=jnp.ones((BATCH, PROMPT + NEW), bool))
    graph, state = nnx.split(model)

    def loop(state, cache):
        m = nnx.merge(graph, state)

        def body(i, carry):
            cache, token = carry
            hidden, cache = m(token[:, None], jnp.full((BATCH, 1), PROMPT) + i, jnp.ones((BATCH, 1), bool), cache)
            return cache, jnp.argmax(m.logits(hidden[:, 0]), -1).astype(jnp.int32)
        return jax.lax.fori_loop(0, steps, body, (cache, jnp.zeros((BATCH,), jnp.int32)))
    return 1000 * seconds(jax.jit(loop), state, cache, repeats=2) / steps


def main():
    questions = load_gsm8k_questions(256)
    root = Path(tempfile.mkdtemp(prefix='lr_breakdown_'))
    tokenizer = build_models(root, questions, 1024)
    expert = load_hf(str(root / 'expert'), dtype='float32')
    amateur = load_hf(str(root / 'amateur'), dtype='float32')
    prompts = sorted((data_lib.build_prompt_ids(tokenizer, q, system_prompt=SYSTEM_PROMPT) for q in questions),
                     key=len)[:BATCH]
    ids, mask = (jnp.asarray(x) for x in left_pad(prompts, PROMPT, BATCH, 0))
    key = jax.random.key(0)
    result = {'batch': BATCH, 'prompt_bucket': PROMPT, 'new_tokens': NEW}

    prefill = nnx.jit(lambda m, i, k: generate(m, i, k, key, sampling=SamplingConfig(max_new_tokens=1),
                                               eos_ids=(2,), pad_id=0))
    result['prefill_s'] = seconds(prefill, expert, ids, mask)
    gen = nnx.jit(lambda m, i, k: generate_with_cache(m, i, k, key, sampling=SamplingConfig(max_new_tokens=NEW),
                                                      eos_ids=(-1,), pad_id=0))
    result['generate_s'] = seconds(gen, expert, ids, mask)
    generation, cache = gen(expert, ids, mask)
    full = nnx.jit(lambda e, a, i, k, c, n: score(e, a, i, k, c, n, ContrastConfig()))
    result['score_full_s'] = seconds(full, expert, amateur, ids, mask, generation.tokens, generation.lengths)
    cached = nnx.jit(lambda e, a, i, k, c, n, kv: score(e, a, i, k, c, n, ContrastConfig(), expert_prompt_cache=kv))
    result['score_prompt_cache_s'] = seconds(cached, expert, amateur, ids, mask, generation.tokens,
                                             generation.lengths, cache)
    result['decode_step_ms'] = decode_ms_per_step(expert)
    attention = transformer.dot_product_attention
    transformer.dot_product_attention = lambda q, k, v, mask, scale, impl: q  # what the step costs without it
    try:
        result['decode_step_without_attention_ms'] = decode_ms_per_step(expert)
    finally:
        transformer.dot_product_attention = attention
    out = ROOT / 'benchmarks' / 'results' / 'sampling_breakdown.json'
    out.write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
