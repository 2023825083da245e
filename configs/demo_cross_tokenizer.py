"""The cross-tokenizer contrast (amateur.kind='cross_tokenizer', experimental) in the habit toy world, over
training seeds 0-2, in one report:

  LightReasoner        the shipped amateur, the exact id-by-id contrast (main, main_s1, main_s2)
  cross_same           the shipped amateur through the cross-tokenizer estimate (top_m 16): what the
                       approximation costs when the tokenizers are in fact the same
  cross_other          the same amateur trained with a tokenizer of its own (384 tokens, not the world's 512)

The other-tokenizer amateur is built first (a few minutes):
python -m lightreasoner_jax.pipeline.build_toyworld --config=configs/toyworld_habits_other_tokenizer.py \
    --workdir=/tmp/lr_other_tokenizer
python -m lightreasoner_jax.main --config=configs/demo_cross_tokenizer.py --workdir=/tmp/lr_cross_tokenizer
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling

OTHER_AMATEUR = '/tmp/lr_other_tokenizer/amateur/export/merged'
SEEDS = (1, 2)


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'demo_habits.py')
    kinds = {'cross_same': {'amateur': {'kind': 'cross_tokenizer'}},
             'cross_other': {'amateur': {'kind': 'cross_tokenizer', 'path': OTHER_AMATEUR}}}
    variants = {f'main_s{s}': {'train': {'seed': s}} for s in SEEDS}
    stages = (('eval_base', 'sample', 'train', 'export', 'eval')
              + tuple(f'{stage}:main_s{s}' for s in SEEDS for stage in ('train', 'export', 'eval')))
    for name, overrides in kinds.items():
        variants[name] = overrides
        variants.update({f'{name}_s{s}': {**overrides, 'samples_of': name, 'train': {'seed': s}} for s in SEEDS})
        stages += tuple(f'{stage}:{name}' for stage in ('sample', 'train', 'export', 'eval'))
        stages += tuple(f'{stage}:{name}_s{s}' for s in SEEDS for stage in ('train', 'export', 'eval'))
    c.variants = ml_collections.ConfigDict(variants)
    c.stages = stages + ('report',)
    return c
