"""The entry point runs its stages and rejects bad flags with absl's error naming the field."""

import json
import os
import subprocess
import sys

import pytest

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


def assert_one_line_user_error(result, *fragments):
    assert result.returncode == 2, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: '), last
    for fragment in fragments:
        assert fragment in last, (fragment, last)


@pytest.mark.parametrize('flag,fragments', [
    ('--config.contrast.alpha=1.5', ('config.contrast.alpha = 1.5', 'in (0, 1]')),
    ('--config.generation.batch_size=0', ('config.generation.batch_size = 0', '>= 1')),
    ('--config.train.positions_per_update=0', ('config.train.positions_per_update = 0',)),
    ('--config.train.grad_accum=3', ('config.train.grad_accum = 3', 'must divide')),
    ('--config.expert.dtype=int8', ('config.expert.dtype', 'float dtype')),
    ('--config.train.objective=contrastive', ("config.train.objective = 'contrastive'", "'expert_only'")),
    ('--config.expert.path=/nonexistent/expert', ('config.expert.path', 'no such file or directory')),
    ('--config.eval.data.source=/nonexistent/test.jsonl', ('config.eval.data.source',)),
])
def test_bad_config_values_are_one_line_errors_before_any_work(tmp_path, flag, fragments):
    result = run_main('--config=configs/demo.py', f'--workdir={tmp_path}', flag, devices=1)
    assert_one_line_user_error(result, *fragments)
    assert not (tmp_path / 'config.json').exists() and not (tmp_path / 'stages').exists()  # nothing was started


def test_a_refused_config_change_leaves_the_workdir_record_alone(tmp_path):
    (tmp_path / 'stages').mkdir()
    record = {'config': {'model_check': {'seed': 1}}, 'result': {'ok': True}}
    (tmp_path / 'stages' / 'model_check.json').write_text(json.dumps(record))
    (tmp_path / 'config.json').write_text('{"the": "accepted config"}')
    result = run_main('--config=configs/smoke.py', f'--workdir={tmp_path}', devices=1)
    assert_one_line_user_error(result, "stage 'model_check' was finished", 'model_check.seed: 1 -> 0')
    assert (tmp_path / 'config.json').read_text() == '{"the": "accepted config"}'
    assert not (tmp_path / 'runs.jsonl').exists()


def test_an_accepted_run_records_its_config_and_history(tmp_path):
    for _ in range(2):
        result = run_main('--config=configs/smoke.py', f'--workdir={tmp_path}', '--config.mesh.tensor=2',
                          '--config.model_check.random_model.num_layers=1')
        assert result.returncode == 0, result.stderr[-3000:]
    history = [json.loads(line) for line in (tmp_path / 'runs.jsonl').read_text().splitlines()]
    assert len(history) == 2 and history[0]['config_sha256'] == history[1]['config_sha256']
    assert history[0]['processes'] == 1 and '--config=configs/smoke.py' in history[0]['argv']
