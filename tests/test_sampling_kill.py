"""Kill a real `main` process mid-sampling (SIGKILL), start it again: nothing lost, nothing doubled."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lightreasoner_jax.sampling import store as samples_lib
from tests.pipeline_fixtures import QUESTIONS, write_pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANY = [f'{q} (variant {k})' for k in range(4) for q in QUESTIONS]  # 40 questions, 20 batches


def command(root, workdir):
    return [sys.executable, '-m', 'lightreasoner_jax.main', '--config=configs/default.py', f'--workdir={workdir}',
            '--config.stages=("sample",)', f'--config.expert.path={root / "expert"}',
            f'--config.amateur.path={root / "amateur"}', '--config.expert.dtype=float32',
            '--config.amateur.dtype=float32', f'--config.data.source={root / "many.jsonl"}',
            '--config.data.id_field=id', '--config.generation.max_new_tokens=12',
            '--config.generation.batch_size=2', '--config.generation.bucket=32', '--config.contrast.beta=0.42',
            '--config.mesh.fsdp=1']


def env():
    return dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')


@pytest.mark.slow
def test_sigkill_then_restart_equals_uninterrupted(tmp_path):
    root = tmp_path
    write_pair(root)
    with open(root / 'many.jsonl', 'w') as f:
        for i, q in enumerate(MANY):
            f.write(json.dumps({'question': q, 'id': f'm{i}'}) + '\n')
    samples = tmp_path / 'killed' / 'samples' / 'samples-00000-of-00001.jsonl'

    proc = subprocess.Popen(command(root, tmp_path / 'killed'), cwd=ROOT, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if samples.exists() and samples.read_bytes().count(b'\n') >= 2:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = samples.read_bytes().count(b'\n')
    assert proc.returncode == -signal.SIGKILL
    assert 2 <= at_kill < len(MANY), 'the kill must land mid-stage'

    resumed = subprocess.run(command(root, tmp_path / 'killed'), cwd=ROOT, env=env(), capture_output=True,
                             text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f'{len(MANY) - at_kill} to go' in resumed.stderr or f'{at_kill} already answered' in resumed.stderr

    clean = subprocess.run(command(root, tmp_path / 'clean'), cwd=ROOT, env=env(), capture_output=True,
                           text=True, timeout=600)
    assert clean.returncode == 0, clean.stderr[-3000:]
    killed = {r.id: r for r in samples_lib.read_samples(tmp_path / 'killed' / 'samples')}
    uninterrupted = {r.id: r for r in samples_lib.read_samples(tmp_path / 'clean' / 'samples')}
    assert len(killed) == len(MANY) == len(uninterrupted)
    assert killed == uninterrupted
    # the same batches and padding as the uninterrupted run: the same bytes, in the same order
    assert samples.read_bytes() == (tmp_path / 'clean' / 'samples' / 'samples-00000-of-00001.jsonl').read_bytes()
