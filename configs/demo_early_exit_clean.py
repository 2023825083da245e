"""configs/demo_early_exit.py in the clean toy world (configs/demo_clean.py).

python -m lightreasoner_jax.main --config=configs/demo_early_exit_clean.py --workdir=/tmp/lr_early_exit_clean
"""

from pathlib import Path

from lightreasoner_jax.pipeline.config_files import load_function, load_sibling


def get_config():
    add_early_exit = load_function(Path(__file__).with_name('demo_early_exit.py'), 'add_early_exit', 'config')
    return add_early_exit(load_sibling(__file__, 'demo_clean.py'))
