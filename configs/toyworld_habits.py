"""How the habit world's shipped models were made: `python -m lightreasoner_jax.pipeline.build_toyworld
--config=configs/toyworld_habits.py --workdir=DIR [--install]`.

The world of lightreasoner_jax/toyworld/habits.py: a generic corpus solved by habits (gives -> subtract,
every number used, text running on after the answer) and reasoning problems solved correctly. The
amateur (2 layers) reads only the generic corpus; the expert (4 layers) reads the generic corpus, then
correct solutions of problems without traps (`basics`: how to solve, so that it is sure of the solutions'
structure), then, for a budget that leaves some habits, the reasoning train split (with traps). Models are
evaluated on the dev split after building; the test split is kept for the method's measurements.

Not shipped yet (next: the 5-seed test measurement). Measured on dev (500 problems; the test split is
unread), with configs/demo.py's method settings. Trap-phase updates after generic 2000 + basics 150 (dev
accuracy; habit errors / errors; contrast diagnostic on 200 train gold answers, kept steps fixed / broken):
- 0: 29.4%; 230 / 353 (205 receive_gives).     6: 32.8%; 228 / 336; 8 / 6.
- 10: 61.6%; 112 / 192; 13 / 15.                14: 81.4%; 23 / 93; 6 / 11.
- 20 (these settings): 85.6%; 33 / 72; 11 / 3.  40: 95.8%; 4 / 21; 1 / 5.
LightReasoner on the 20-update expert: 85.6 -> 90.0% (28 gained / 6 lost, McNemar p = 0.0002); receive_gives
errors 33 -> 17, other 39 -> 33. On the 10-update expert it loses: 61.6 -> 53.4% (35 / 76), receive_gives
110 -> 85 but other 80 -> 148 (tuned answers write 'Adding' for a loss), and w/o contrast is 61.6% (no
change). The diagnostic's sign predicted both. Without the basics phase (earlier builds) the expert was
unsure of the solutions' structure and LightReasoner lost by 4 to 13 points.
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
        basics_size=5000,         # problems without traps, correctly solved: the expert's second phase
        min_steps=2,              # equations in a correct solution (one per event; the clean world has 2-5)
        max_steps=3,
        receive_gives=0.5,        # share of problems where somebody gives the person things
        distractor=0.5,           # share of problems with an irrelevant number
        continuation=0.6,         # share of generic documents that run on after '#### N'
    ))
    c.expert.phases = (('generic', 2000, 2e-3), ('basics', 150, 5e-4), ('train', 20, 5e-4))
    c.expert.warmup_steps = 20
    c.amateur.update(dict(num_layers=2))
    c.amateur.phases = (('generic', 400, 2e-3),)
    c.eval_split = 'dev'
    c.eval_max_new_tokens = 128
    return c
