"""Entry point: `python -m lightreasoner_jax.main --config=configs/X.py --workdir=DIR`.

Runs `config.stages` in order; each stage reads what earlier ones wrote in the workdir. A stage
finished under the same config is skipped, one partly done resumes, and a workdir holding a stage run
under another config is an error (pipeline/stages.py).
"""

from __future__ import annotations

import json

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.pipeline import stages
from lightreasoner_jax.pipeline.workdir import Workdir

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Path to an ml_collections config file.',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory (local path or gs://...).')
flags.mark_flags_as_required(['config', 'workdir'])


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f'unexpected arguments: {argv[1:]}')
    config = _CONFIG.value
    shd.initialize_distributed(config.get('coordinator_address') or None)
    try:
        stages.check_stage_names(config)
    except ValueError as err:
        raise app.UsageError(str(err)) from None
    workdir = Workdir(_WORKDIR.value)
    if jax.process_index() == 0:
        workdir.mkdir().config_file.write_text(config.to_json_best_effort(indent=2))
    mesh = shd.make_mesh(**config.mesh.to_dict())
    logging.info('mesh %s over %d devices (%d processes)', dict(mesh.shape), jax.device_count(),
                 jax.process_count())
    for stage in config.stages:
        logging.info('stage %s', stage)
        result, skipped = stages.run_stage(stage, config, workdir, mesh)
        if jax.process_index() == 0:
            print(f'{stage}: {"complete, skipped: " if skipped else ""}{json.dumps(result)}', flush=True)


if __name__ == '__main__':
    app.run(main)
