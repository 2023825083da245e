"""Hub ids as model paths, resolved offline from a pre-filled hub cache, in the library and through main."""

import json
import os
import subprocess
import sys

import pytest

from lightreasoner_jax.models import HubModelError, is_hub_id, load_hf, load_tokenizer, local_dir
from tests.hub_cache import COMMIT, add_to_hub_cache
from tests.pipeline_fixtures import write_pair

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    write_pair(tmp_path)
    cache = tmp_path / 'hub'
    add_to_hub_cache(cache, 'toy/expert', tmp_path / 'expert')
    add_to_hub_cache(cache, 'toy/amateur', tmp_path / 'amateur')
    monkeypatch.setenv('HF_HUB_CACHE', str(cache))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    import huggingface_hub.constants as constants
    monkeypatch.setattr(constants, 'HF_HUB_CACHE', str(cache))
    monkeypatch.setattr(constants, 'HF_HUB_OFFLINE', True)
    return cache


def test_what_counts_as_a_hub_id(tmp_path):
    assert is_hub_id('Qwen/Qwen2.5-Math-7B') and is_hub_id('Qwen/Qwen2.5-0.5B@main')
    assert not is_hub_id('gs://bucket/model') and not is_hub_id('/abs/model') and not is_hub_id('./rel/model')
    assert not is_hub_id('justaname') and not is_hub_id(str(tmp_path))
    assert local_dir(tmp_path) == tmp_path


def test_hub_ids_load_from_the_cache_offline(hub_cache, tmp_path):
    assert local_dir('toy/expert') == hub_cache / 'models--toy--expert' / 'snapshots' / COMMIT
    by_id, by_path = load_hf('toy/expert', dtype='float32'), load_hf(tmp_path / 'expert', dtype='float32')
    assert by_id.config == by_path.config
    assert load_tokenizer('toy/expert').get_vocab() == load_tokenizer(tmp_path / 'expert').get_vocab()
    with pytest.raises(HubModelError, match=r'^toy/missing: not a local directory, and not in the hub cache'):
        local_dir('toy/missing')


def run_main(env, *args):
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1', **env)
    return subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_main_samples_with_hub_ids_offline_and_names_a_missing_one(hub_cache, tmp_path):
    env = {'HF_HUB_CACHE': str(hub_cache), 'HF_HUB_OFFLINE': '1'}
    common = ['--config=configs/default.py', '--config.stages=("sample",)', '--config.expert.dtype=float32',
              '--config.amateur.dtype=float32', f'--config.data.source={tmp_path / "questions.jsonl"}',
              '--config.data.id_field=id', '--config.generation.max_new_tokens=8', '--config.generation.batch_size=4',
              '--config.contrast.beta=0.4', '--config.contrast.top_k=8']
    missing = run_main(env, *common, f'--workdir={tmp_path / "w0"}', '--config.expert.path=toy/expert',
                       '--config.amateur.path=toy/not-there')
    assert missing.returncode == 2, missing.stderr[-2000:]
    last = missing.stderr.strip().splitlines()[-1]
    assert last.startswith('error: toy/not-there: not a local directory, and not in the hub cache'), last
    assert 'Traceback' not in missing.stderr and not (tmp_path / 'w0' / 'config.json').exists()

    result = run_main(env, *common, f'--workdir={tmp_path / "w1"}', '--config.expert.path=toy/expert',
                      '--config.amateur.path=toy/amateur')
    assert result.returncode == 0, result.stderr[-3000:]
    stats = json.loads((tmp_path / 'w1' / 'samples' / 'stats.json').read_text())
    assert stats['questions'] == 10
