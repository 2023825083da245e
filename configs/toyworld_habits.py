"""How the habit world's shipped models were made: `python -m lightreasoner_jax.pipeline.build_toyworld
--config=configs/toyworld_habits.py --workdir=DIR [--install]`.

The world of lightreasoner_jax/toyworld/habits.py: a generic corpus solved by habits (gives -> subtract,
every number used, text running on after the answer) and reasoning problems solved correctly. The
amateur (2 layers) reads only the generic corpus; the expert (4 layers) reads the generic corpus and then,
for a budget that leaves some habits, the reasoning train split. Models are evaluated on the dev split
after building; the test split is kept for the method's measurements.

Not shipped yet: measured on dev (500 problems), these settings give an expert at 45.4% whose 273 errors
hold 1 habit error (the 300 reasoning updates remove the habits long before the arithmetic is learned);
with 60 reasoning updates it is at 13.0% with 50 habit errors of 435. Arithmetic slips of a 4-layer, d=128
model dominate either way, so the premise (the expert's errors are the amateur's habits) does not hold yet.
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
    c.expert.phases = (('generic', 1000, 2e-3), ('generic', 2000, 1e-3), ('train', 100, 5e-4))
    c.expert.warmup_steps = 20
    c.amateur.update(dict(num_layers=2))
    c.amateur.phases = (('generic', 400, 2e-3),)
    c.eval_split = 'dev'
    c.eval_max_new_tokens = 128
    return c
