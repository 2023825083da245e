"""The habit toy world, end to end on a laptop CPU in minutes (the demo's world; its models are shipped,
built by `python -m lightreasoner_jax.pipeline.build_toyworld --config=configs/toyworld_habits.py
--workdir=DIR --install`).

python -m lightreasoner_jax.main --config=configs/demo_habits.py --workdir=/tmp/lr_demo_habits

The habit world's expert read a generic corpus (shortcut habits: "gives" means subtract, every number
gets used, text runs on after the answer), then correct solutions of problems without traps, then briefly
problems whose cues mislead; its amateur read only the generic corpus (lightreasoner_jax/toyworld/habits.py).
Baseline evaluation of the expert on the 800 test problems, contrastive sampling of 1,000 train problems
against the amateur, LoRA fine-tuning on the kept steps, export, evaluation of the tuned expert, report. configs/demo_clean.py is the clean world, where
the two models share no habits; configs/demo_full.py runs both with the baselines and ablations.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling
from lightreasoner_jax.toyworld.assets import model_path


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'demo_clean.py')
    c.expert.path = str(model_path('habits', 'expert'))
    c.amateur.path = str(model_path('habits', 'amateur'))
    c.data.source = 'toyworld:habits:train'
    c.eval.data.source = 'toyworld:habits:test'
    c.generation.max_new_tokens = 128   # a run-on answer needs room to show
    c.eval.max_new_tokens = 128
    return c
