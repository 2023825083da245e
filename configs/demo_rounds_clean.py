"""configs/demo_rounds.py in the clean toy world (configs/demo_clean.py).

python -m lightreasoner_jax.main --config=configs/demo_rounds_clean.py --workdir=/tmp/lr_rounds_clean
"""

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config():
    c = load_sibling(__file__, 'demo_clean.py')
    c.rounds = 3
    c.round_amateur = 'same'
    return c
