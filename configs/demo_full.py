"""The demo plus the paper's comparisons, in both toy worlds, over training seeds, in one report.

The clean world (configs/demo_clean.py: the main run and its variants) and the habit world
(configs/demo_habits.py, the demo's: variants named habits, habits_<method>, with their own baseline
evaluation, samples and contrast diagnostic; joined when its models are installed, as they are in the
package). In each:

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
(about 90 minutes on 2 CPU cores). The report's method table compares each method with its own world's
baseline (McNemar's paired test over the same test problems, pooled over seeds).
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling
from lightreasoner_jax.toyworld.assets import model_path

SEEDS = (1, 2, 3, 4)
ABLATION_SEEDS = (1, 2)


def method_variants(beta: float, prefix: str = '') -> dict:
    """The comparisons of one world; with a prefix, named '<prefix>_<method>' and trained on the samples of
    the variant '<prefix>' (that world's LightReasoner run) or '<prefix>_no_selection'."""
    name = (lambda method: f'{prefix}_{method}') if prefix else (lambda method: method)
    every_step = {'contrast': {'beta': -1.0}}
    own = {'samples_of': prefix} if prefix else {}
    out = {name(f'main_s{s}'): {**own, 'train': {'seed': s}} for s in SEEDS}
    out.update({
        name('no_selection'): {**every_step, 'train': {'objective': 'all_steps'}},
        name('no_contrast'): {**own, 'train': {'objective': 'expert_only'}},
        name('no_both'): {**every_step, 'samples_of': name('no_selection'),
                          'train': {'objective': 'all_steps_expert'}},
        name('random_steps'): {**every_step, 'samples_of': name('no_selection'),
                               'train': {'objective': 'random_steps', 'min_kl': beta}},
        # SFT: about one epoch over the gold solutions of the same problems (~60 tokens each).
        name('sft'): {'train': {'objective': 'sft', 'positions_per_update': 512, 'optim': {'num_steps': 120}}},
        name('rs_sft'): {'train': {'objective': 'rs_sft', 'positions_per_update': 512, 'optim': {'num_steps': 120}}},
    })
    for s in ABLATION_SEEDS:
        out[name(f'no_contrast_s{s}')] = {**own, 'train': {'objective': 'expert_only', 'seed': s}}
        out[name(f'random_steps_s{s}')] = {**every_step, 'samples_of': name('no_selection'),
                                           'train': {'objective': 'random_steps', 'min_kl': beta, 'seed': s}}
    return out


def world_overrides(world_config) -> dict:
    """What a variant changes to run in another world: its models, questions and answer lengths."""
    return {'expert': {'path': world_config.expert.path}, 'amateur': {'path': world_config.amateur.path},
            'data': {'source': world_config.data.source},
            'generation': {'max_new_tokens': world_config.generation.max_new_tokens},
            'eval': {'max_new_tokens': world_config.eval.max_new_tokens,
                     'data': {'source': world_config.eval.data.source}}}


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _stages(variants: dict, own_samples: tuple[str, ...], world_root: str = '') -> tuple[str, ...]:
    """Baseline, samples and diagnostic of a world, then every run's training and evaluation."""
    suffix = f':{world_root}' if world_root else ''
    stages = (f'eval_base{suffix}', f'sample{suffix}', f'diagnose{suffix}', f'train{suffix}', f'export{suffix}',
              f'eval{suffix}')
    stages += tuple(f'{stage}:{v}' for v in own_samples for stage in ('sample', 'train', 'eval'))
    return stages + tuple(f'{stage}:{v}' for v in variants if v not in own_samples for stage in ('train', 'eval'))


def add_world(c: ml_collections.ConfigDict, world_config, prefix: str) -> ml_collections.ConfigDict:
    """c with another world's comparisons as variants '<prefix>' and '<prefix>_<method>', stages before the
    report."""
    switch = world_overrides(world_config)
    variants = {prefix: switch}
    variants.update({name: _merge(switch, overrides)
                     for name, overrides in method_variants(c.contrast.beta, prefix=prefix).items()})
    with c.unlocked():
        c.variants.update(variants)
    runs = {k: v for k, v in variants.items() if k != prefix}
    c.stages = tuple(s for s in c.stages if s != 'report') + _stages(runs, (f'{prefix}_no_selection',),
                                                                     world_root=prefix) + ('report',)
    return c


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'demo_clean.py')
    main_variants = method_variants(c.contrast.beta)
    c.variants = ml_collections.ConfigDict(main_variants)
    c.stages = _stages(main_variants, ('no_selection',)) + ('report',)
    if model_path('habits', 'expert').exists():
        add_world(c, load_sibling(__file__, 'demo_habits.py'), 'habits')
    return c
