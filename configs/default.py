"""Default configuration: every field, commented. Presets and the demo override parts of it.

python -m lightreasoner_jax.main --config=configs/default.py --workdir=DIR \
    --config.expert.path=/ckpt/Qwen2.5-Math-7B --config.amateur.path=/ckpt/Qwen2.5-0.5B
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.stages = ('sample',)          # stages to run, in order
    c.coordinator_address = ''      # multi-host: coordinator 'host:port'; empty = auto-detect / single host

    # Device mesh ('data', 'fsdp', 'tensor'); one axis may be -1 to take the remaining devices.
    c.mesh = ml_collections.ConfigDict(dict(data=1, fsdp=-1, tensor=1))

    # Models: HF checkpoint directories (config.json + safetensors + tokenizer files).
    c.expert = ml_collections.ConfigDict(dict(
        path='',                    # the model that answers and is tuned, e.g. Qwen2.5-Math-7B
        dtype='bfloat16',           # compute and weight dtype ('float32' for exact CPU runs)
    ))
    c.amateur = ml_collections.ConfigDict(dict(
        path='',                    # the small contrast model, e.g. Qwen2.5-0.5B (same tokenizer)
        dtype='bfloat16',
    ))

    # Questions: a hub id (openai/gsm8k) or local .jsonl/.json/.parquet files (path or glob).
    c.data = ml_collections.ConfigDict(dict(
        source='openai/gsm8k',
        config_name='main',         # hub dataset configuration (GSM8K: 'main')
        split='train',              # hub split
        question_field='question',  # MATH: 'problem'
        answer_field='answer',      # MATH: 'solution' (not used by sampling; by SFT and eval)
        id_field='',                # a field with stable ids; empty = hash of the question text
        limit=0,                    # use only the first N questions; 0 = all
        on_bad_row='error',         # 'error' stops at a bad row (naming file:line); 'skip' counts it
        system_prompt='Please reason step by step.',  # empty = no system turn
    ))

    # Expert answers (sampling stage).
    c.generation = ml_collections.ConfigDict(dict(
        max_new_tokens=128,         # the reference's answer length
        temperature=0.0,            # 0 = greedy, as the reference
        top_k=0,                    # 0 = off
        top_p=1.0,                  # 1 = off
        batch_size=64,              # global rows per generate/score call (a multiple of processes)
        bucket=64,                  # prompt lengths are padded to multiples of this (fewer compiles)
        seed=0,                     # PRNG seed for non-greedy decoding
    ))

    # The contrast: which steps are kept and their targets.
    c.contrast = ml_collections.ConfigDict(dict(
        alpha=0.2,                  # plausible set: p_E >= alpha * max p_E
        beta=0.4,                   # keep a step when KL(p_E || p_A) >= beta
        top_k=32,                   # at most this many plausible tokens stored per step
        first_step=1,               # first candidate step (1: the first answer token is never kept)
        chunk=32,                   # steps whose [B, chunk, V] logits exist at once while scoring
    ))
    return c
