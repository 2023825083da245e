"""The paper's experimental setup (arXiv 2510.07962 and HKUDS/LightReasoner), shared by the presets:
amateur Qwen2.5-0.5B; 1,000 GSM8K train problems answered greedily (128 new tokens); alpha = 0.2,
beta = 0.4; LoRA r=8, alpha=16, dropout 0.05 on q/v; 1,000 updates of 16 positions (8 x 2 accumulation)
at lr 5e-5, linear decay, bf16; evaluation zero-shot greedy on GSM8K test with the paper's prompt.
The presets set the expert; everything else is default.py's, which already holds the reference's values.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'default.py')
    c.stages = ('eval_base', 'sample', 'train', 'export', 'eval', 'report')
    c.amateur.path = 'Qwen2.5-0.5B'
    c.data.update(dict(source='openai/gsm8k', config_name='main', split='train', limit=1000))
    c.generation.update(dict(max_new_tokens=128, temperature=0.0))
    c.contrast.update(dict(alpha=0.2, beta=0.4))
    c.train.update(dict(method='lora', positions_per_update=16, grad_accum=1))
    c.train.lora.update(dict(targets=('q_proj', 'v_proj'), rank=8, alpha=16.0, dropout=0.05))
    c.train.optim.update(dict(learning_rate=5e-5, num_steps=1000, schedule='linear', warmup_steps=0))
    c.train.checkpoint.save_every = 200
    c.eval.update(dict(kind='gsm8k', max_new_tokens=1024))
    c.eval.data.update(dict(source='openai/gsm8k', config_name='main', split='test'))
    return c
