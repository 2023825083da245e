"""Preset: Qwen2.5-Math-1.5B taught by Qwen2.5-0.5B on GSM8K, with the paper's settings: the base math model; the paper's headline pair (+28.1 GSM8K).

python -m lightreasoner_jax.main --config=configs/qwen25_math_1p5b.py --workdir=gs://BUCKET/lr/qwen25_math_1p5b \
    --config.expert.path=/ckpt/Qwen2.5-Math-1.5B --config.amateur.path=/ckpt/Qwen2.5-0.5B
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'paper.py')
    c.expert.path = 'Qwen2.5-Math-1.5B'    # an HF checkpoint directory (download it first; there is no hub access here)
    return c
