"""The train stage: learns, shards, resumes exactly, refuses mismatched checkpoints, exports."""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
import transformers

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.pipeline import export_stage, loading, train_stage
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.training import CheckpointMismatchError, CheckpointUnreadableError
from tests.tiny_models import left_padded_batch, torch_logits
from tests.train_fixtures import VOCAB, train_config, write_expert_and_samples

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def losses(workdir):
    rows = [json.loads(line) for line in (workdir / 'train' / 'metrics.jsonl').read_text().splitlines()]
    assert [r['step'] for r in rows] == list(range(1, len(rows) + 1))
    return np.array([r['loss'] for r in rows])


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('train')
    write_expert_and_samples(root)
    summary = train_stage.run(train_config(root, **{'train.optim.num_steps': 30}), Workdir(root / 'work'),
                        shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1]))
    return root, summary


def test_loss_decreases_and_metrics_are_logged(trained):
    root, summary = trained
    curve = losses(root / 'work')
    assert summary['steps'] == 30 and len(curve) == 30
    assert curve[-5:].mean() < 0.8 * curve[:5].mean()
    row = json.loads((root / 'work' / 'train' / 'metrics.jsonl').read_text().splitlines()[0])
    assert row['positions'] == 8 and row['lr'] == pytest.approx(1e-2) and row['grad_norm'] > 0
    assert any(p.name.startswith('events.out.tfevents') for p in (root / 'work' / 'train' / 'tensorboard').iterdir())
    assert sorted(int(p.name) for p in (root / 'work' / 'checkpoints').iterdir() if p.name.isdigit()) == [28, 30]
    assert summary['compiled_batch_shapes'] == len(summary['batch_shapes']) <= 2  # train.max_batch_shapes


def test_sharded_training_equals_single_device(tmp_path):
    write_expert_and_samples(tmp_path)
    config = train_config(tmp_path, **{'train.optim.num_steps': 4})
    train_stage.run(config, Workdir(tmp_path / 'work'), shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1]))
    (tmp_path / 'sharded').mkdir()
    (tmp_path / 'sharded' / 'samples').symlink_to(tmp_path / 'work' / 'samples')
    train_stage.run(config, Workdir(tmp_path / 'sharded'), shd.make_mesh(data=2, fsdp=2, tensor=2))
    np.testing.assert_allclose(losses(tmp_path / 'sharded'), losses(tmp_path / 'work'), atol=1e-5)


def run_main(root, workdir, extra=()):
    cmd = [sys.executable, '-m', 'lightreasoner_jax.main', '--config=configs/default.py', f'--workdir={workdir}',
           '--config.stages=("train",)', f'--config.expert.path={root / "expert"}', '--config.expert.dtype=float32',
           '--config.train.optim.num_steps=16', '--config.train.optim.learning_rate=0.01',
           '--config.train.positions_per_update=8', '--config.train.length_bucket=16', '--config.train.log_every=1',
           '--config.train.checkpoint.save_every=5', '--config.train.checkpoint.async_save=False',
           '--config.mesh.fsdp=1', *extra]
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    # stderr to a file: a pipe nobody reads fills up and blocks the child
    log = open(workdir.parent / f'{workdir.name}-{time.monotonic_ns()}.log', 'w+')
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    proc.log = log
    return proc


def stderr_of(proc) -> str:
    proc.log.seek(0)
    return proc.log.read()


def wait_for_step(workdir, step, proc, timeout=300):
    path = workdir / 'train' / 'metrics.jsonl'
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if path.exists() and path.read_text().count('\n') >= step:
            return
        time.sleep(0.01)
    raise AssertionError(f'step {step} not reached; stderr: {stderr_of(proc)[-2000:]}')


@pytest.mark.slow
def test_killed_and_resumed_loss_curve_equals_uninterrupted(tmp_path):
    write_expert_and_samples(tmp_path)
    (tmp_path / 'clean').mkdir()
    (tmp_path / 'clean' / 'samples').symlink_to(tmp_path / 'work' / 'samples')
    clean = run_main(tmp_path, tmp_path / 'clean')
    assert clean.wait(timeout=600) == 0, stderr_of(clean)[-3000:]

    killed = run_main(tmp_path, tmp_path / 'work')
    wait_for_step(tmp_path / 'work', 7, killed)  # past the step-5 checkpoint, before the next
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    resumed = run_main(tmp_path, tmp_path / 'work')
    assert resumed.wait(timeout=600) == 0, stderr_of(resumed)[-3000:]
    assert 'resumed from step 5' in stderr_of(resumed)
    np.testing.assert_array_equal(losses(tmp_path / 'work'), losses(tmp_path / 'clean'))


@pytest.mark.slow
def test_sigterm_saves_a_final_checkpoint(tmp_path):
    write_expert_and_samples(tmp_path)
    proc = run_main(tmp_path, tmp_path / 'work', ['--config.train.checkpoint.save_every=100'])
    wait_for_step(tmp_path / 'work', 3, proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143
    saved = [int(p.name) for p in (tmp_path / 'work' / 'checkpoints').iterdir() if p.name.isdigit()]
    # Orbax also keeps the first step it saw; the SIGTERM one is the last, where the run stopped.
    assert max(saved) >= 3 and len(losses(tmp_path / 'work')) == max(saved)


def test_a_checkpoint_of_another_configuration_is_refused(trained, tmp_path):
    root, _ = trained
    config = train_config(root, **{'train.lora.rank': 4, 'train.optim.num_steps': 40})
    with pytest.raises(CheckpointMismatchError, match=r"written by a different training configuration \(train\.lora\.rank: 8 -> 4"):
        train_stage.run(config, Workdir(root / 'work'), shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1]))


def test_export_writes_merged_and_peft_adapter_equal_to_the_trained_model(trained):
    import peft
    root, _ = trained
    config = train_config(root, **{'train.optim.num_steps': 30})
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    model, step = loading.trained_model(config, Workdir(root / 'work'), mesh)
    assert step == 30
    ids, mask, positions = left_padded_batch(VOCAB, (9, 4))
    hidden, _ = model(jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask))
    ours = np.asarray(model.logits(hidden))
    result = export_stage.run(config, Workdir(root / 'work'), mesh)
    merged = transformers.AutoModelForCausalLM.from_pretrained(result['merged'], dtype=torch.float32).eval()
    assert np.abs(torch_logits(merged, ids, mask, positions) - ours)[mask].max() <= 1e-4
    base = transformers.AutoModelForCausalLM.from_pretrained(root / 'expert', dtype=torch.float32)
    adapted = peft.PeftModel.from_pretrained(base, result['adapter']).eval()
    assert np.abs(torch_logits(adapted, ids, mask, positions) - ours)[mask].max() <= 1e-4
    untuned = torch_logits(transformers.AutoModelForCausalLM.from_pretrained(root / 'expert').eval(), ids, mask,
                           positions)
    assert np.abs(untuned - ours)[mask].max() > 1e-3  # training changed the model


def test_empty_or_corrupt_samples_are_clear_errors(tmp_path):
    write_expert_and_samples(tmp_path)
    path = tmp_path / 'work' / 'samples' / 'samples-00000-of-00001.jsonl'
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + '\n' + '{"id": "x"}\n')
    with pytest.raises(ValueError, match=r"samples-00000-of-00001.jsonl:2: record lacks field"):
        train_stage.run(train_config(tmp_path), Workdir(tmp_path / 'work'), shd.make_mesh(1, 1, 1, devices=jax.devices()[:1]))


def test_full_fine_tuning_trains_every_parameter(tmp_path):
    write_expert_and_samples(tmp_path)
    config = train_config(tmp_path, **{'train.method': 'full', 'train.optim.num_steps': 3,
                                       'train.optim.learning_rate': 1e-3})
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    train_stage.run(config, Workdir(tmp_path / 'work'), mesh)
    model, step = loading.trained_model(config, Workdir(tmp_path / 'work'), mesh)
    base = transformers.AutoModelForCausalLM.from_pretrained(tmp_path / 'expert', dtype=torch.float32)
    embedding = base.model.embed_tokens.weight.detach().numpy()
    norm = base.model.norm.weight.detach().numpy()
    assert step == 3
    assert np.abs(np.asarray(model.embedding[...]) - embedding).max() > 1e-5
    assert np.abs(np.asarray(model.final_norm.scale[...]) - norm).max() > 1e-5
    result = export_stage.run(config, Workdir(tmp_path / 'work'), mesh)
    assert result['adapter'] is None and (tmp_path / 'work' / 'export' / 'merged' / 'config.json').exists()


def test_expert_only_objective_trains_on_expert_weights(tmp_path):
    write_expert_and_samples(tmp_path)
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    train_stage.run(train_config(tmp_path, **{'train.optim.num_steps': 2}), Workdir(tmp_path / 'work'), mesh)
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'samples').symlink_to(tmp_path / 'work' / 'samples')
    train_stage.run(train_config(tmp_path, **{'train.optim.num_steps': 2, 'train.objective': 'expert_only'}),
                    Workdir(tmp_path / 'other'), mesh)
    contrast, expert_only = losses(tmp_path / 'work'), losses(tmp_path / 'other')
    assert np.abs(contrast - expert_only).max() > 1e-3  # other targets, same positions


def test_sft_objective_trains_on_ground_truth_answers(tmp_path):
    from tests.pipeline_fixtures import QUESTIONS, pipeline_config, write_pair
    tokenizer = write_pair(tmp_path)
    config = pipeline_config(tmp_path)
    config.stages = ('train',)
    config.train.objective = 'sft'
    records = train_stage.training_records(config, Workdir(tmp_path / 'work'), None)
    assert len(records) == len(QUESTIONS)
    answer = tokenizer.encode('#### 0', add_special_tokens=False) + [tokenizer.eos_token_id]
    assert records[0].completion_ids == answer and records[0].steps == list(range(len(answer)))
    assert records[0].target_ids == [[t] for t in answer]
    config.train.optim.num_steps = 3
    config.train.positions_per_update = 8
    config.train.log_every = 1
    train_stage.run(config, Workdir(tmp_path / 'work'), shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1]))
    assert len(losses(tmp_path / 'work')) == 3


def test_a_corrupt_checkpoint_is_a_clear_error(trained, tmp_path):
    import shutil
    root, _ = trained
    work = tmp_path / 'work'
    shutil.copytree(root / 'work', work)
    for path in (work / 'checkpoints' / '30').rglob('*'):
        if path.is_file() and 'meta' not in str(path):
            path.write_bytes(b'garbage')
    with pytest.raises(CheckpointUnreadableError,
                       match=r'checkpoint at \S+/checkpoints/30 is unreadable \(.+\); delete it to restart from step \d+$'):
        train_stage.run(train_config(root, **{'train.optim.num_steps': 30}), Workdir(work),
                  shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1]))


def test_metrics_rows_are_written_before_every_checkpoint_and_never_lost(tmp_path, monkeypatch):
    """log_every=15 does not divide save_every=10: rows 16-20 must reach the file before checkpoint 20, or a
    run killed just after it (here: a crash at update 23) and resumed from it would never write them."""
    from lightreasoner_jax.training import Trainer
    write_expert_and_samples(tmp_path)
    config = train_config(tmp_path, **{'train.optim.num_steps': 30, 'train.log_every': 15,
                                       'train.checkpoint.save_every': 10})
    mesh = shd.make_mesh(data=1, fsdp=1, tensor=1, devices=jax.devices()[:1])
    real_step = Trainer.step

    def crashing_step(self, batch, step):
        if step == 22:
            raise KeyboardInterrupt('killed')
        return real_step(self, batch, step)

    monkeypatch.setattr(Trainer, 'step', crashing_step)
    with pytest.raises(KeyboardInterrupt):
        train_stage.run(config, Workdir(tmp_path / 'work'), mesh)
    assert [int(json.loads(x)['step']) for x in (tmp_path / 'work' / 'train' / 'metrics.jsonl').read_text().splitlines()] \
        == list(range(1, 21))
    monkeypatch.setattr(Trainer, 'step', real_step)
    summary = train_stage.run(config, Workdir(tmp_path / 'work'), mesh)
    assert summary['resumed_from'] == 20
    assert len(losses(tmp_path / 'work')) == 30  # steps 1..30, each once (losses() checks the order)
