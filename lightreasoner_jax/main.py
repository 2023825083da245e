"""Entry point: `python -m lightreasoner_jax.main --config=configs/X.py --workdir=DIR`.

Runs `config.stages` in order; each stage reads what earlier ones wrote in the workdir. The config is
validated and the workdir's stage records checked before anything runs; only then is it recorded
(config.json, runs.jsonl). A stage finished under the same config is skipped, one partly done resumes,
and a workdir holding a stage run under another config is refused (pipeline/stages.py). User errors
print one line and exit 2 (pipeline/errors.py).
"""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import time

import jax
from absl import app, flags, logging
from ml_collections import config_flags

from lightreasoner_jax import compile_cache, json_lines
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.pipeline import errors, rounds, stages, validation
from lightreasoner_jax.pipeline.hub_models import fetch_hub_models
from lightreasoner_jax.pipeline.log_setup import quiet_library_logs
from lightreasoner_jax.pipeline.model_pairs import check_before_stages
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.storage import writing

_CONFIG = config_flags.DEFINE_config_file('config', None, 'Path to an ml_collections config file.',
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Output directory (local path or gs://...).')
_VERBOSE = flags.DEFINE_bool('verbose', False, 'Show the traceback of user errors (bad config, data, paths).')
flags.mark_flags_as_required(['config', 'workdir'])


def record_run(config, workdir: Workdir) -> None:
    """config.json (the accepted config) and one line of run history, written by process 0."""
    text = config.to_json_best_effort(indent=2)
    workdir.mkdir().config_file.write_text(text)
    json_lines.append(workdir.run_history, [{
        'time': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'argv': sys.argv, 'host': socket.gethostname(),
        'processes': jax.process_count(), 'config_sha256': hashlib.sha256(text.encode()).hexdigest()}])


def run(config, workdir: Workdir) -> None:
    config = rounds.expand(config, workdir)
    stages.check_stage_names(config)
    validation.validate(config, processes=jax.process_count())
    stages.check_accepted(config, workdir)
    fetch_hub_models(config)
    check_before_stages(config, workdir)
    compile_cache.enable(config.get('compilation_cache_dir', ''), str(workdir.root))
    if jax.process_index() == 0:
        with writing(workdir.root, 'the run record (config.json, runs.jsonl)'):
            record_run(config, workdir)
    mesh = shd.make_mesh(**config.mesh.to_dict())
    logging.info('mesh %s over %d devices (%d processes)', dict(mesh.shape), jax.device_count(),
                 jax.process_count())
    for stage in config.stages:
        logging.info('stage %s', stage)
        result, skipped = stages.run_stage(stage, config, workdir, mesh)
        if jax.process_index() == 0:
            print(f'{stage}: {"complete, skipped: " if skipped else ""}{json.dumps(result)}', flush=True)
    if jax.process_index() == 0 and workdir.report_md.exists():
        print(f'report: {workdir.report_md}', flush=True)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f'unexpected arguments: {argv[1:]}')
    quiet_library_logs()
    config = _CONFIG.value
    shd.initialize_distributed(config.get('coordinator_address') or None)
    try:
        run(config, Workdir(_WORKDIR.value))
    except errors.USER_ERRORS as err:
        if _VERBOSE.value:
            raise
        print(errors.one_line(err), file=sys.stderr, flush=True)
        sys.exit(errors.EXIT_USER_ERROR)


if __name__ == '__main__':
    app.run(main)
