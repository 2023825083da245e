"""The entry point runs its stages and rejects bad flags with absl's error naming the field."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_main(*args, devices=4):
    env = dict(os.environ, XLA_FLAGS=f'--xla_force_host_platform_device_count={devices}')
    return subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_smoke_config_runs_model_check(tmp_path):
    result = run_main('--config=configs/smoke.py', f'--workdir={tmp_path}', '--config.mesh.tensor=2',
                      '--config.model_check.random_model.num_layers=2')
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / 'model_check.json').read_text())
    assert report['ok'] and report['mesh'] == {'data': 1, 'fsdp': 2, 'tensor': 2}
    assert report['sharded_vs_unsharded_max_abs_diff'] <= 1e-4
    assert json.loads((tmp_path / 'config.json').read_text())['model_check']['random_model']['num_layers'] == 2


def test_unknown_config_field_is_named(tmp_path):
    result = run_main('--config=configs/smoke.py', f'--workdir={tmp_path}', '--config.mesh.tensr=2')
    assert result.returncode != 0
    assert 'tensr' in result.stderr


def test_unknown_stage_is_named(tmp_path):
    result = run_main('--config=configs/smoke.py', f'--workdir={tmp_path}', '--config.stages=(\"sampel\",)')
    assert result.returncode != 0
    assert "config.stages: unknown stage(s) ['sampel']" in result.stderr


def test_impossible_mesh_is_a_clear_error(tmp_path):
    result = run_main('--config=configs/smoke.py', f'--workdir={tmp_path}', '--config.mesh.fsdp=3',
                      '--config.mesh.data=-1')
    assert result.returncode != 0
    assert 'mesh: 4 devices are not divisible' in result.stderr
