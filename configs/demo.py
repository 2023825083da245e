"""The embedded default: the clean toy world for now (configs/demo_clean.py); the habit world
(configs/demo_habits.py) takes its place once its models ship.

python -m lightreasoner_jax.main --config=configs/demo.py --workdir=/tmp/lr_demo
"""

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config():
    return load_sibling(__file__, 'demo_clean.py')
