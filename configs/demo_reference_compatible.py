"""The reference-compatible mode (contrast.reference_compatible) against our default in the habit toy world, over
training seeds 0-2, in one report; configs/demo_reference_compatible_clean.py is the same in the clean world.

python -m lightreasoner_jax.main --config=configs/demo_reference_compatible.py --workdir=/tmp/lr_refcompat

  LightReasoner         our default: greedy answers, p_E from the raw logits, no smoothing (main, main_s1, main_s2)
  reference, greedy     the reference's procedure as it ran for the Qwen2.5-Math base experts: the toy expert
                        ships no generation_config.json, so transformers' generate decodes greedily; 1e-12
                        smoothing, every plausible token kept (top_k 64; stats.json counts truncations)
                        (reference_greedy, _s1, _s2)
  reference, sampled    the same, as it ran for the DeepSeek-R1-Distill expert: its generation_config.json
                        (do_sample, temperature 0.6, top-p 0.95; configs/generation_configs/) decides, and p_E
                        comes from the processed scores (reference_sampled, _s1, _s2)

Each reference row samples once (generation.seed 0) and trains on those samples with each training seed.
"""

from pathlib import Path

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling

SEEDS = (1, 2)
SAMPLING_FILE = Path(__file__).with_name('generation_configs') / 'deepseek_r1_distill_sampling.json'
VARIANTS = {
    'reference_greedy': {'contrast': {'reference_compatible': True, 'top_k': 64}},
    'reference_sampled': {'contrast': {'reference_compatible': True, 'top_k': 64,
                                       'generation_config': str(SAMPLING_FILE)}},
}


def add_reference_compatible(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    variants = {f'main_s{s}': {'train': {'seed': s}} for s in SEEDS}
    stages = ['eval_base', 'sample', 'train', 'export', 'eval']
    stages += [f'{stage}:main_s{s}' for s in SEEDS for stage in ('train', 'export', 'eval')]
    for name, overrides in VARIANTS.items():
        variants[name] = overrides
        variants.update({f'{name}_s{s}': {**overrides, 'samples_of': name, 'train': {'seed': s}} for s in SEEDS})
        stages += [f'{stage}:{name}' for stage in ('sample', 'train', 'export', 'eval')]
        stages += [f'{stage}:{name}_s{s}' for s in SEEDS for stage in ('train', 'export', 'eval')]
    c.variants = ml_collections.ConfigDict(variants)
    c.stages = tuple(stages) + ('report',)
    return c


def get_config() -> ml_collections.ConfigDict:
    return add_reference_compatible(load_sibling(__file__, 'demo_habits.py'))
