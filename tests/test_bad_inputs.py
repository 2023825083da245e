"""Bad inputs met after a run has started (damaged weights, checkpoints, sample and question files, a full
disk) end in one line on stderr naming the file, with exit 2, and leave every finished output unchanged."""

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from tests.pipeline_fixtures import write_pair
from tests.test_main import assert_one_line_user_error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FINISHED = ('samples', 'checkpoints', 'train', 'stages/sample.json', 'stages/train.json')


def run_main(root, workdir, *stages, extra=()):
    args = ['--config=configs/default.py', f'--workdir={workdir}', f'--config.stages={tuple(stages)!r}',
            f'--config.expert.path={root / "expert"}', f'--config.amateur.path={root / "amateur"}',
            '--config.expert.dtype=float32', '--config.amateur.dtype=float32',
            f'--config.data.source={root / "questions.jsonl"}', '--config.data.id_field=id',
            '--config.generation.max_new_tokens=8', '--config.generation.batch_size=4', '--config.contrast.beta=0.3',
            '--config.contrast.top_k=8', '--config.train.optim.num_steps=4', '--config.train.positions_per_update=4',
            '--config.train.checkpoint.save_every=2', *extra]
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    return subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def snapshot(workdir) -> dict[str, str]:
    files = {}
    for name in FINISHED:
        top = workdir / name
        for path in ([top] if top.is_file() else sorted(p for p in top.rglob('*') if p.is_file())):
            files[str(path.relative_to(workdir))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A pair, and a workdir whose sample and train stages finished (checkpoints at steps 2 and 4)."""
    root = tmp_path_factory.mktemp('bad_inputs')
    write_pair(root)
    result = run_main(root, root / 'W', 'sample', 'train')
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.fixture
def work(trained, tmp_path):
    """A copy of the trained workdir (the same path would be refused by no stage: records hold no paths)."""
    shutil.copytree(trained / 'W', tmp_path / 'W', symlinks=True)
    return tmp_path / 'W'


def test_truncated_expert_weights(trained, work, tmp_path):
    pair = tmp_path / 'pair'
    shutil.copytree(trained, pair, ignore=shutil.ignore_patterns('W'))
    weights = pair / 'expert' / 'model.safetensors'
    size = weights.stat().st_size
    with open(weights, 'r+b') as f:
        f.truncate(size // 2)
    before = snapshot(work)
    # the pair's paths are part of the sample stage's config: point this run at the damaged copy from the start
    result = run_main(pair, tmp_path / 'fresh', 'sample')
    assert_one_line_user_error(result, f'{weights}: truncated: the file has {size // 2} bytes', 'tensor model.')
    assert snapshot(work) == before


def test_damaged_latest_checkpoint_names_the_restart_step(trained, work):
    (work / 'stages' / 'train.json').unlink()  # as if killed after the last save
    for path in (work / 'checkpoints' / '4' / 'trainable').rglob('*'):
        if path.is_file() and path.parent.name == 'd':
            with open(path, 'r+b') as f:
                f.truncate(5)
    result = run_main(trained, work, 'sample', 'train')
    assert_one_line_user_error(result, f'checkpoint at {work}/checkpoints/4 is unreadable',
                          'delete it to restart from step 2')
    assert (work / 'checkpoints' / '2').is_dir() and (work / 'samples' / 'stats.json').exists()


def test_corrupt_sample_row_names_file_and_line(trained, work):
    (work / 'stages' / 'train.json').unlink()
    shutil.rmtree(work / 'checkpoints')
    samples = work / 'samples' / 'samples-00000-of-00001.jsonl'
    lines = samples.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace('"id"', '"idd"', 1)
    samples.write_text(''.join(lines))
    result = run_main(trained, work, 'sample', 'train')
    assert_one_line_user_error(result, f'{samples}:2')
    assert not (work / 'checkpoints').exists() or not any((work / 'checkpoints').iterdir())


def test_bad_question_row_names_file_and_row(trained, tmp_path):
    questions = tmp_path / 'questions.jsonl'
    lines = (trained / 'questions.jsonl').read_text().splitlines(keepends=True)
    lines[3] = '{"question": "broken"\n'
    questions.write_text(''.join(lines))
    result = run_main(trained, tmp_path / 'W2', 'sample', extra=[f'--config.data.source={questions}'])
    assert_one_line_user_error(result, f'{questions}', '4')
    assert not (tmp_path / 'W2' / 'stages' / 'sample.json').exists()


@pytest.mark.skipif(not os.path.exists('/dev/full'), reason='needs /dev/full')
def test_full_disk_names_the_path(trained, work):
    (work / 'report.md').symlink_to('/dev/full')
    before = snapshot(work)
    result = run_main(trained, work, 'sample', 'train', 'report')
    assert_one_line_user_error(result, 'cannot write', 'No space left on device', str(work))
    assert snapshot(work) == before
