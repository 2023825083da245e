"""configs/demo_full.py in the clean world (configs/demo_clean.py): the counterexample, where expert and
amateur share no habits.

python -m lightreasoner_jax.main --config=configs/demo_full_clean.py --workdir=/tmp/lr_demo_full_clean
"""

from pathlib import Path

from lightreasoner_jax.pipeline.config_files import load_function


def get_config():
    return load_function(Path(__file__).with_name('demo_full.py'), 'get_config', 'config')('demo_clean.py')
