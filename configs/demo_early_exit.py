"""The early-exit amateur (amateur.kind='early_exit') against the shipped amateur in the habit toy world, over
training seeds 0-2, in one report; configs/demo_early_exit_clean.py is the same in the clean world.

python -m lightreasoner_jax.main --config=configs/demo_early_exit.py --workdir=/tmp/lr_early_exit

  LightReasoner        the shipped amateur (the main run and main_s1, main_s2)
  early exit           the expert's own first 2 of 4 layers as the amateur (early_exit, early_exit_s1, _s2),
                       its own samples at the same alpha and beta

The report's method table compares each with the baseline (McNemar's test, pooled over seeds); the stage
records hold each sample stage's time and the samples' stats.json its kept rate.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling

SEEDS = (1, 2)
EXIT_LAYERS = 2


def add_early_exit(c: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    early_exit = {'amateur': {'kind': 'early_exit', 'layers': EXIT_LAYERS}}
    variants = {f'main_s{s}': {'train': {'seed': s}} for s in SEEDS}
    variants['early_exit'] = early_exit
    variants.update({f'early_exit_s{s}': {**early_exit, 'samples_of': 'early_exit', 'train': {'seed': s}}
                     for s in SEEDS})
    c.variants = ml_collections.ConfigDict(variants)
    c.stages = (('eval_base', 'sample', 'train', 'export', 'eval')
                + tuple(f'{stage}:main_s{s}' for s in SEEDS for stage in ('train', 'export', 'eval'))
                + ('sample:early_exit', 'train:early_exit', 'export:early_exit', 'eval:early_exit')
                + tuple(f'{stage}:early_exit_s{s}' for s in SEEDS for stage in ('train', 'export', 'eval'))
                + ('report',))
    return c


def get_config() -> ml_collections.ConfigDict:
    return add_early_exit(load_sibling(__file__, 'demo_habits.py'))
