"""Scalars reach TensorBoard and W&B (offline mode), from the writers and from a pipeline run's stages."""

import json
import os
import subprocess
import sys

import pytest

from lightreasoner_jax.scalar_writers import ScalarWriters, WandbConfig, wandb_run_id
from tests.event_files import settled_wandb_records, tensorboard_scalars
from tests.pipeline_fixtures import write_pair

pytest.importorskip('wandb')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_writers_send_curves_and_summaries_to_both(tmp_path, monkeypatch):
    monkeypatch.setenv('WANDB_SILENT', 'true')
    writers = ScalarWriters(tmp_path / 'tb', workdir=tmp_path / 'W', run_config={'lr': 1e-3},
                            wandb=WandbConfig(enabled=True, mode='offline', dir=str(tmp_path / 'wb')))
    writers.scalars(1, {'train/loss': 0.5})
    writers.scalars(2, {'train/loss': 0.25})
    writers.summary({'sample/kept_rate': 0.125})
    writers.close()
    assert tensorboard_scalars(tmp_path / 'tb') == {'train/loss': [(1, 0.5), (2, 0.25)],
                                                    'sample/kept_rate': [(0, 0.125)]}
    records = settled_wandb_records(tmp_path / 'wb', history_rows=2)
    assert [(r['_step'], r['train/loss']) for kind, r in records if kind == 'history'] == [('1', '0.5'), ('2', '0.25')]
    assert any(r.get('sample/kept_rate') == '0.125' for kind, r in records if kind == 'summary')
    run_dirs = list((tmp_path / 'wb' / 'wandb').glob('offline-run-*'))
    assert len(run_dirs) == 1 and run_dirs[0].name.endswith(wandb_run_id(tmp_path / 'W'))


def test_a_pipeline_run_logs_every_stage_to_one_wandb_run(tmp_path):
    write_pair(tmp_path)
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1', WANDB_SILENT='true')
    questions = tmp_path / 'questions.jsonl'
    result = subprocess.run(
        [sys.executable, '-m', 'lightreasoner_jax.main', '--config=configs/default.py', f'--workdir={tmp_path / "W"}',
         '--config.stages=("sample","train","eval")', f'--config.expert.path={tmp_path / "expert"}',
         f'--config.amateur.path={tmp_path / "amateur"}', '--config.expert.dtype=float32',
         '--config.amateur.dtype=float32', f'--config.data.source={questions}', '--config.data.id_field=id',
         '--config.generation.max_new_tokens=8', '--config.generation.batch_size=4', '--config.contrast.beta=0.3',
         '--config.contrast.top_k=8', '--config.train.optim.num_steps=4', '--config.train.log_every=2',
         '--config.train.positions_per_update=4', f'--config.eval.data.source={questions}',
         '--config.eval.max_new_tokens=4', '--config.eval.batch_size=4', '--config.logging.wandb.enabled=True',
         '--config.logging.wandb.mode=offline', f'--config.logging.wandb.dir={tmp_path / "wb"}'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    work = tmp_path / 'W'
    kept_rate = json.loads((work / 'samples' / 'stats.json').read_text())['kept_rate']
    assert tensorboard_scalars(work / 'samples' / 'tensorboard')['sample/kept_rate'] == [(0, pytest.approx(kept_rate))]
    accuracy = json.loads((work / 'eval' / 'tuned' / 'metrics.json').read_text())['accuracy']
    assert tensorboard_scalars(work / 'eval' / 'tuned' / 'tensorboard')['eval/tuned/accuracy'] == [
        (4, pytest.approx(accuracy))]
    rows = [json.loads(line) for line in (work / 'train' / 'metrics.jsonl').read_text().splitlines()]
    records = settled_wandb_records(tmp_path / 'wb', history_rows=len(rows))
    assert [(int(r['_step']), float(r['train/loss'])) for kind, r in records if kind == 'history'] == [
        (row['step'], pytest.approx(row['loss'])) for row in rows]
    summary = {k: v for kind, r in records if kind == 'summary' for k, v in r.items()}
    assert float(summary['sample/kept_rate']) == pytest.approx(kept_rate)
    assert float(summary['eval/tuned/accuracy']) == pytest.approx(accuracy)
    run_ids = {p.name.rsplit('-', 1)[-1] for p in (tmp_path / 'wb' / 'wandb').glob('offline-run-*')}
    assert len(run_ids) == 1  # every stage logged into the workdir's one run
