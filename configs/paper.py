"""The paper's experimental setup (arXiv 2510.07962 and HKUDS/LightReasoner), shared by the presets:
amateur Qwen2.5-0.5B; 1,000 GSM8K train problems answered greedily (128 new tokens); alpha = 0.2,
beta = 0.4; LoRA r=8, alpha=16, dropout 0.05 on q/v; 1,000 updates of 16 positions (8 x 2 accumulation)
at lr 5e-5, linear decay, bf16. Evaluation: the paper's seven benchmarks (GSM8K, MATH, SVAMP, ASDiv, Minerva
Math, OlympiadBench, MMLU-STEM) in one eval stage, as the Qwen2.5-Math toolkit evaluated them
(QwenLM/Qwen2.5-Math evaluation/, prompt type qwen25-math-cot): the ChatML system turn "Please reason step by
step, and put your final answer within \\boxed{}.", greedy, 2,048 new tokens, stopping at <|im_end|> /
<|endoftext|> (the expert's EOS ids), zero-shot except MMLU-STEM 5-shot (the toolkit's sh/eval.sh; the
reference's README does not say its shots). Rows from the hub mirrors in lightreasoner_jax/evaluation/
benchmarks.py, or exactly the toolkit's files with --config.eval.data_dir=<Qwen2.5-Math>/evaluation/data.
The presets set the expert; everything else is default.py's, which already holds the reference's values.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'default.py')
    c.stages = ('eval_base', 'sample', 'train', 'export', 'eval', 'report')
    c.amateur.path = 'Qwen2.5-0.5B'
    # Qwen's ChatML ends a turn with <|im_end|>; base models' EOS is <|endoftext|> only (the toolkit's stop words)
    c.expert.stop_tokens = ('<|im_end|>', '<|endoftext|>')
    c.data.update(dict(source='openai/gsm8k', config_name='main', split='train', limit=1000))
    # prefill_groups 4: each batch's prompts prefilled in 4 blocks at their own lengths (~19% fewer sampling FLOPs
    # at these shapes: benchmarks/prompt_padding.py); not the reference's, which prefills one prompt at a time
    c.generation.update(dict(max_new_tokens=128, temperature=0.0, prefill_groups=4))
    c.contrast.update(dict(alpha=0.2, beta=0.4))
    c.train.update(dict(method='lora', positions_per_update=16, grad_accum=1))
    c.train.lora.update(dict(targets=('q_proj', 'v_proj'), rank=8, alpha=16.0, dropout=0.05))
    c.train.optim.update(dict(learning_rate=5e-5, num_steps=1000, schedule='linear', warmup_steps=0))
    c.train.checkpoint.save_every = 200
    c.eval.update(dict(benchmarks=('paper',), max_new_tokens=2048))
    c.eval.data.update(dict(source='', config_name='', split='test'))  # the suite replaces the single set
    return c
