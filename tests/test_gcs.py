"""A gs:// workdir end to end against a local GCS emulator (tests/gcs_fixtures.py): every stage through
`main`, a SIGKILL in the middle of training and a rerun that resumes from the last checkpoint, TensorBoard
events, the report; then a rerun that skips every stage."""

import json
import os
import signal
import subprocess
import sys
import time

from etils import epath

from tests.pipeline_fixtures import write_pair
from tests.test_pipeline import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_main(args, log_path):
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    log = open(log_path, 'w+')
    proc = subprocess.Popen([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, text=True)
    proc.log = log
    return proc


def output_of(proc) -> str:
    proc.log.seek(0)
    return proc.log.read()


def metrics_steps(workdir: epath.Path) -> list[int]:
    path = workdir / 'train' / 'metrics.jsonl'
    return [json.loads(line)['step'] for line in path.read_text().splitlines()] if path.exists() else []


def test_gcs_workdir_every_stage_with_a_kill_and_resume(tmp_path, gcs_bucket):
    write_pair(tmp_path)
    workdir = epath.Path(gcs_bucket) / 'run'
    args = flags(tmp_path, workdir, '--config.train.optim.num_steps=40', '--config.train.log_every=1',
                 '--config.train.checkpoint.save_every=5', '--config.train.checkpoint.async_save=False')
    killed = start_main(args, tmp_path / 'killed.log')
    deadline = time.time() + 600
    while len(metrics_steps(workdir)) < 12 and killed.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert killed.poll() is None, output_of(killed)[-3000:]
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert (workdir / 'samples' / 'samples-00000-of-00001.jsonl').exists()

    resumed = start_main(args, tmp_path / 'resumed.log')
    assert resumed.wait(timeout=900) == 0, output_of(resumed)[-3000:]
    assert 'train: resumed from step' in output_of(resumed)
    assert metrics_steps(workdir) == list(range(1, 41))  # every row once, none lost on the object store
    assert any(p.name.startswith('events.out.tfevents') for p in (workdir / 'train' / 'tensorboard').iterdir())
    assert sorted(int(p.name) for p in (workdir / 'checkpoints').iterdir() if p.name.isdigit())[-1] == 40
    assert (workdir / 'export' / 'merged' / 'config.json').exists()
    metrics = json.loads((workdir / 'metrics.json').read_text())
    assert {r['run'] for r in metrics['runs']} == {'base', 'main'}
    assert '| LightReasoner |' in (workdir / 'report.md').read_text()
    assert (workdir / 'report' / 'training.png').stat().length > 1000

    again = start_main(args, tmp_path / 'again.log')
    assert again.wait(timeout=600) == 0, output_of(again)[-3000:]
    for stage in ('eval_base', 'sample', 'train', 'export', 'eval'):
        assert f'{stage}: complete, skipped' in output_of(again), stage
