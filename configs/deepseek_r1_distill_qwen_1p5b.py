"""Preset: DeepSeek-R1-Distill-Qwen-1.5B taught by Qwen2.5-0.5B on GSM8K, with the paper's settings: the R1-distilled reasoner (+4.3 GSM8K in the paper).

python -m lightreasoner_jax.main --config=configs/deepseek_r1_distill_qwen_1p5b.py --workdir=gs://BUCKET/lr/deepseek_r1_distill_qwen_1p5b \
    --config.expert.path=/ckpt/DeepSeek-R1-Distill-Qwen-1.5B --config.amateur.path=/ckpt/Qwen2.5-0.5B
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'paper.py')
    c.expert.path = 'DeepSeek-R1-Distill-Qwen-1.5B'    # an HF checkpoint directory (download it first; there is no hub access here)
    # Its own template (BOS, the system text bare, <｜User｜>...<｜Assistant｜><think>\n) and its EOS: the ChatML
    # strings are not tokens of its tokenizer.
    c.expert.stop_tokens = ('<｜end▁of▁sentence｜>',)
    return c
