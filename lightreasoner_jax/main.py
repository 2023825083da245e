"""Entry point: `python -m lightreasoner_jax.main --config=configs/X.py --workdir=DIR`.

Runs `config.stages` in order; each stage reads what earlier ones wrote in the workdir.
"""

from __future__ import annotations

import json

import jax
from absl import app, flags, logging
from etils import epath
from ml_collections import config_flags

from lightreasoner_jax import sharding as shd

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Path to an ml_collections config file.',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory (local path or gs://...).')
flags.mark_flags_as_required(['config', 'workdir'])


def _stage_functions():
    from lightreasoner_jax import export, model_check, sampling, train
    return {'model_check': model_check.run, 'sample': sampling.run, 'train': train.run, 'export': export.run}


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f'unexpected arguments: {argv[1:]}')
    config = _CONFIG.value
    shd.initialize_distributed(config.get('coordinator_address') or None)
    stages = _stage_functions()
    unknown = [s for s in config.stages if s not in stages]
    if unknown:
        raise app.UsageError(f'config.stages: unknown stage(s) {unknown}; available: {sorted(stages)}')
    workdir = epath.Path(_WORKDIR.value)
    if jax.process_index() == 0:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / 'config.json').write_text(config.to_json_best_effort(indent=2))
    mesh = shd.make_mesh(**config.mesh.to_dict())
    logging.info('mesh %s over %d devices (%d processes)', dict(mesh.shape), jax.device_count(),
                 jax.process_count())
    for name in config.stages:
        logging.info('stage %s', name)
        result = stages[name](config, workdir, mesh)
        if jax.process_index() == 0:
            print(f'{name}: {json.dumps(result)}')


if __name__ == '__main__':
    app.run(main)
