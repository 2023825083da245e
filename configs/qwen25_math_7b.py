"""Preset: Qwen2.5-Math-7B taught by Qwen2.5-0.5B on GSM8K, with the paper's settings: the 7B base math model (+10.4 GSM8K in the paper).

python -m lightreasoner_jax.main --config=configs/qwen25_math_7b.py --workdir=gs://BUCKET/lr/qwen25_math_7b \
    --config.expert.path=/ckpt/Qwen2.5-Math-7B --config.amateur.path=/ckpt/Qwen2.5-0.5B
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'paper.py')
    c.expert.path = 'Qwen2.5-Math-7B'    # an HF checkpoint directory (download it first; there is no hub access here)
    return c
