"""The demo plus the paper's comparisons, in the habit world, over training seeds:

  LightReasoner        seeds 0-4 (variants main_s1..main_s4)
  w/o selection        every step stored (beta = -1) and trained on, contrastive targets
  w/o contrast         the kept steps, the expert's own distribution as target (seeds 0-2)
  w/o both             every step, the expert's own distribution
  random steps         as many steps per answer as KL selection keeps, drawn uniformly from every step,
                       contrastive targets (seeds 0-2): tells the selection from mere extra training
  SFT (gold)           the gold solutions of the same problems
  SFT (rejection sampling)  the expert's own correct answers (4 samples per problem at temperature 0.7):
                       the paper's SFT baseline

python -m lightreasoner_jax.main --config=configs/demo_full.py --workdir=/tmp/lr_demo_full
(about 30 minutes on 2 CPU cores). The clean world: --config=configs/demo_full_clean.py.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling

SEEDS = (1, 2, 3, 4)
ABLATION_SEEDS = (1, 2)


def variants(beta: float) -> dict:
    every_step = {'contrast': {'beta': -1.0}}
    out = {f'main_s{s}': {'train': {'seed': s}} for s in SEEDS}
    out.update({
        'no_selection': {**every_step, 'train': {'objective': 'all_steps'}},
        'no_contrast': {'train': {'objective': 'expert_only'}},
        'no_both': {**every_step, 'samples_of': 'no_selection', 'train': {'objective': 'all_steps_expert'}},
        'random_steps': {**every_step, 'samples_of': 'no_selection',
                         'train': {'objective': 'random_steps', 'min_kl': beta}},
        # SFT: about one epoch over the gold solutions of the same problems (~60 tokens each).
        'sft': {'train': {'objective': 'sft', 'positions_per_update': 512, 'optim': {'num_steps': 120}}},
        'rs_sft': {'train': {'objective': 'rs_sft', 'positions_per_update': 512, 'optim': {'num_steps': 120}}},
    })
    for s in ABLATION_SEEDS:
        out[f'no_contrast_s{s}'] = {'train': {'objective': 'expert_only', 'seed': s}}
        out[f'random_steps_s{s}'] = {**every_step, 'samples_of': 'no_selection',
                                     'train': {'objective': 'random_steps', 'min_kl': beta, 'seed': s}}
    return out


def get_config(base: str = 'demo.py') -> ml_collections.ConfigDict:
    c = load_sibling(__file__, base)
    c.variants = ml_collections.ConfigDict(variants(c.contrast.beta))
    trained = [name for name in c.variants if name != 'no_selection']
    c.stages = (('eval_base', 'sample', 'train', 'export', 'eval', 'sample:no_selection', 'train:no_selection',
                 'eval:no_selection')
                + tuple(stage for name in trained for stage in (f'train:{name}', f'eval:{name}'))
                + ('report',))
    return c
