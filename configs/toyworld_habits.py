"""How the habit world's shipped models were made: `python -m lightreasoner_jax.pipeline.build_toyworld
--config=configs/toyworld_habits.py --workdir=DIR [--install]`.

The world of lightreasoner_jax/toyworld/habits.py: a generic corpus solved by habits (gives -> subtract,
every number used, text running on after the answer) and reasoning problems solved correctly. The
amateur (2 layers) reads only the generic corpus; the expert (4 layers) reads the generic corpus and then,
for a budget that leaves some habits, the reasoning train split. Models are evaluated on the dev split
after building; the test split is kept for the method's measurements.

Not shipped yet: the premise's habits are realised, but LightReasoner still loses in this world. Measured
on dev (500 problems; the test split is unread), with configs/demo.py's method settings:
- these settings (generic 2000 updates, reasoning 150): expert 85.2%, 3 of its 74 errors habits;
- reasoning 60 updates: expert 42.4%, 119 of 288 errors habits (115 distractor); LightReasoner 31.0%
  (-11.4; 14 gained / 71 lost); the contrast diagnostic on train gold answers: 6 kept steps fixed, 76 broken;
- reasoning 30 updates: expert 17.0%, 170 of 415 errors habits.
The broken steps are the next line's operation and whether to stop ("Adding" vs "Taking" vs "####"): there
the half-retrained expert is unsure and the generic amateur, which reads events in order, is sure and right,
so the contrast pushes the expert away from the right token.
"""


import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'toyworld.py')
    c.world = ml_collections.ConfigDict(dict(
        name='habits',
        generic_size=20000,       # generic documents (habit solutions; 60% run on after the answer)
        train_size=10000,         # reasoning problems: the expert's second phase and LightReasoner's questions
        dev_size=500,             # for designing the world and the method's settings
        test_size=800,            # held out: only the final measurements read it
        seed=0,
        min_steps=2,              # equations in a correct solution (one per event; the clean world has 2-5)
        max_steps=3,
        receive_gives=0.5,        # share of problems where somebody gives the person things
        distractor=0.5,           # share of problems with an irrelevant number
        continuation=0.6,         # share of generic documents that run on after '#### N'
    ))
    c.expert.phases = (('generic', 2000, 2e-3), ('train', 150, 5e-4))
    c.expert.warmup_steps = 20
    c.amateur.update(dict(num_layers=2))
    c.amateur.phases = (('generic', 400, 2e-3),)
    c.eval_split = 'dev'
    c.eval_max_new_tokens = 128
    return c
