"""Three rounds of LightReasoner in the habit toy world (config.rounds = 3): round 1 is the demo; rounds 2 and 3
sample with the expert the round before tuned and contrast it with the shipped amateur again
(round_amateur='same'; --config.round_amateur=previous contrasts each round with the expert of the round
before it instead, as amateur.kind='checkpoint').

python -m lightreasoner_jax.main --config=configs/demo_rounds.py --workdir=/tmp/lr_rounds [--config.train.seed=1]

The report's Rounds table gives each round's accuracy, its change from the baseline and from the round before,
the kept steps, and the drift: the perplexity of the first 200 gold test solutions under that round's model.
"""

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config():
    c = load_sibling(__file__, 'demo_habits.py')
    c.rounds = 3
    c.round_amateur = 'same'
    return c
