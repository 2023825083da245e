"""configs/demo_reference_compatible.py in the clean toy world (configs/demo_clean.py).

python -m lightreasoner_jax.main --config=configs/demo_reference_compatible_clean.py --workdir=/tmp/lr_refcompat_clean
"""

from pathlib import Path

from lightreasoner_jax.pipeline.config_files import load_function, load_sibling


def get_config():
    add = load_function(Path(__file__).with_name('demo_reference_compatible.py'), 'add_reference_compatible', 'config')
    return add(load_sibling(__file__, 'demo_clean.py'))
