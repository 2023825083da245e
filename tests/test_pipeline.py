"""`main` over every stage on tiny models: outputs, skipping on rerun, refusal of a changed config,
variants, the report; sweeps; the tuned model evaluated with its LoRA applied equals the merged export."""

import json
import os
import subprocess
import sys

import jax

from lightreasoner_jax import evaluation
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.pipeline import loading, sweep
from lightreasoner_jax.pipeline import settings as config_settings
from lightreasoner_jax.pipeline.workdir import Workdir
from tests.pipeline_fixtures import write_pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def flags(root, workdir, *extra):
    return ['--config=configs/default.py', f'--workdir={workdir}', f'--config.expert.path={root / "expert"}',
            f'--config.amateur.path={root / "amateur"}', '--config.expert.dtype=float32',
            '--config.amateur.dtype=float32', f'--config.data.source={root / "questions.jsonl"}',
            '--config.data.id_field=id', '--config.generation.max_new_tokens=12', '--config.generation.batch_size=4',
            '--config.generation.bucket=32', '--config.contrast.beta=0.42', '--config.mesh.fsdp=1',
            '--config.train.optim.num_steps=3', '--config.train.positions_per_update=8',
            '--config.train.checkpoint.save_every=1', f'--config.eval.data.source={root / "questions.jsonl"}',
            '--config.eval.data.id_field=id', '--config.eval.max_new_tokens=12', '--config.eval.batch_size=4',
            '--config.eval.bucket=32', *extra]


def run_main(args, devices=1):
    env = dict(os.environ, XLA_FLAGS=f'--xla_force_host_platform_device_count={devices}')
    return subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def test_every_stage_then_skip_then_refuse_changed_config(tmp_path):
    write_pair(tmp_path)
    workdir = tmp_path / 'run'
    result = run_main(flags(tmp_path, workdir))  # default.py's stages: eval_base ... report
    assert result.returncode == 0, result.stderr[-3000:]
    for stage in ('eval_base', 'sample', 'train', 'export', 'eval', 'report'):
        assert f'\n{stage}: ' in '\n' + result.stdout, stage
        assert (workdir / 'stages' / f'{stage}.json').exists() or stage == 'report'
    base = json.loads((workdir / 'eval' / 'base' / 'metrics.json').read_text())
    predictions = [json.loads(x) for x in (workdir / 'eval' / 'base' / 'predictions-00000-of-00001.jsonl')
                   .read_text().splitlines()]
    assert base['total'] == len(predictions) == 10
    assert base['correct'] == sum(p['correct'] for p in predictions)
    assert all(p['reference'] == '0' for p in predictions)
    assert (workdir / 'export' / 'merged' / 'config.json').exists()
    assert json.loads((workdir / 'eval' / 'tuned' / 'metrics.json').read_text())['model'].endswith('export/merged')
    report = (workdir / 'report.md').read_text()
    assert '| Baseline (expert) |' in report and '| LightReasoner |' in report
    for plot in ('kl_histogram.png', 'kept_rate_by_position.png', 'training.png', 'accuracy.png'):
        assert (workdir / 'report' / plot).stat().st_size > 1000, plot
    metrics = json.loads((workdir / 'metrics.json').read_text())
    main_row = next(r for r in metrics['runs'] if r['run'] == 'main')
    assert main_row['tokens_tuned'] == 3 * 8

    again = run_main(flags(tmp_path, workdir))
    assert again.returncode == 0, again.stderr[-3000:]
    for stage in ('eval_base', 'sample', 'train', 'export', 'eval'):
        assert f'{stage}: complete, skipped' in again.stdout, stage
    assert 'report: complete' not in again.stdout

    changed = run_main(flags(tmp_path, workdir, '--config.train.optim.learning_rate=0.001'))
    assert changed.returncode != 0
    assert "stage 'train' was finished in this workdir with a different config" in changed.stderr
    assert 'train.optim.learning_rate: 5e-05 -> 0.001' in changed.stderr


def test_lora_applied_checkpoint_evaluates_like_the_merged_export(tmp_path):
    write_pair(tmp_path)
    workdir = tmp_path / 'run'
    result = run_main(flags(tmp_path, workdir, '--config.stages=("sample","train","export")',
                            '--config.train.optim.learning_rate=0.05'))
    assert result.returncode == 0, result.stderr[-3000:]
    from lightreasoner_jax.pipeline.config_files import load_config_file
    from lightreasoner_jax.pipeline.variants import apply_overrides
    config = load_config_file('configs/default.py')
    config = apply_overrides(config, {
        'expert.path': str(tmp_path / 'expert'), 'amateur.path': str(tmp_path / 'amateur'),
        'expert.dtype': 'float32', 'data.source': str(tmp_path / 'questions.jsonl'), 'data.id_field': 'id',
        'train.optim.num_steps': 3, 'train.positions_per_update': 8, 'train.optim.learning_rate': 0.05})
    mesh = shd.make_mesh(data=1, fsdp=-1)
    questions, _ = config_settings.questions(config.data)
    settings = evaluation.EvalSettings(max_new_tokens=12, batch_size=8, bucket=32)
    tokenizer = load_tokenizer(tmp_path / 'expert')
    with_lora, _ = loading.trained_model(config, Workdir(workdir), mesh)
    merged = load_hf(workdir / 'export' / 'merged', mesh=mesh, dtype='float32')
    base = load_hf(tmp_path / 'expert', mesh=mesh, dtype='float32')
    answers = {name: [r['completion'] for r in evaluation.evaluate(model, tokenizer, questions, mesh, settings)]
               for name, model in (('lora', with_lora), ('merged', merged), ('base', base))}
    assert answers['lora'] == answers['merged']
    assert answers['lora'] != answers['base']  # the tuning changed something, so the equality means something
    assert jax.device_count() == 8


def test_sweep_runs_each_point_in_its_own_workdir_and_tabulates(tmp_path):
    write_pair(tmp_path)
    sweep_file = tmp_path / 'sweep.py'
    sweep_file.write_text("def get_sweep():\n    return [{'contrast.beta': b} for b in (-1.0, 100.0)]\n")
    extra = flags(tmp_path, 'unused')[2:] + ['--config.stages=("sample","report")']
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        rows = sweep.run_sweep('configs/default.py', str(sweep_file), str(tmp_path / 'sweep'), extra=extra, env=env)
    finally:
        os.chdir(cwd)
    assert [r['status'] for r in rows] == ['ok', 'ok'], rows
    assert [r['kept_rate'] for r in rows] == [1.0, 0.0]
    assert (tmp_path / 'sweep' / 'contrast.beta--1.0' / 'samples').is_dir()
    table = (tmp_path / 'sweep' / 'sweep_summary.md').read_text()
    assert '| contrast.beta | status |' in table and '| -1.0 | ok |' in table
