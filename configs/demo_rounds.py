"""Three rounds of LightReasoner in the habit toy world (config.rounds = 3), each round contrasting the expert
with what it was one round before (round_amateur='previous': round 2's amateur is the shipped expert, round 3's
round 1's export, both as amateur.kind='checkpoint'); round 1 contrasts with the shipped amateur.

python -m lightreasoner_jax.main --config=configs/demo_rounds.py --workdir=/tmp/lr_rounds [--config.train.seed=1]

The report's Rounds table gives each round's accuracy, its change from the baseline and from the round before,
the kept steps, and the drift: the perplexity of the first 200 gold test solutions under that round's model.
"""

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config():
    c = load_sibling(__file__, 'demo_habits.py')
    c.rounds = 3
    c.round_amateur = 'previous'
    return c
