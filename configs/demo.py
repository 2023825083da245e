"""The embedded default: the habit toy world (configs/demo_habits.py), where expert and amateur share generic
habits and LightReasoner raises the expert's accuracy. configs/demo_clean.py is the clean world, where they
share none and it does not; configs/demo_full.py runs both with every baseline and ablation over seeds.

python -m lightreasoner_jax.main --config=configs/demo.py --workdir=/tmp/lr_demo
"""

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config():
    return load_sibling(__file__, 'demo_habits.py')
