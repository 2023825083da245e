"""The demo plus the paper's comparisons on the toy world: the SFT baseline (ground-truth solutions of
the same problems) and the two ablations: w/o selection (every step, contrastive targets) and
w/o contrast (the kept steps, the expert's own distribution as target).

python -m lightreasoner_jax.main --config=configs/demo_full.py --workdir=/tmp/lr_demo_full
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'demo.py')
    c.variants = ml_collections.ConfigDict({
        # SFT: about one epoch over the gold solutions of the same problems (~55 tokens each).
        'sft': {'train': {'objective': 'sft', 'positions_per_update': 512,
                          'optim': {'num_steps': 110}}},
        # Every step is stored (beta = -1 keeps all) and trained on, with the contrastive targets.
        'no_selection': {'contrast': {'beta': -1.0}, 'train': {'objective': 'all_steps'}},
        'no_contrast': {'train': {'objective': 'expert_only'}},
    })
    c.stages = ('eval_base', 'sample', 'train', 'export', 'eval',
                'train:sft', 'eval:sft',
                'sample:no_selection', 'train:no_selection', 'eval:no_selection',
                'train:no_contrast', 'eval:no_contrast',
                'report')
    return c
