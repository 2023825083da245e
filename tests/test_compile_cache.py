"""JAX's persistent compilation cache: where it goes, and that a second run of the same job hits it for
every executable it compiles instead of compiling again."""

import json
import os
import subprocess
import sys

import jax
import pytest
from jax.experimental.compilation_cache import compilation_cache

from lightreasoner_jax import compile_cache

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_default_is_the_user_cache_dir_or_a_remote_workdir(monkeypatch, tmp_path):
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path))
    assert compile_cache.resolve('', '/runs/a') == str(tmp_path / 'lightreasoner_jax' / 'jax_compilation_cache')
    assert compile_cache.resolve('', 'gs://bucket/runs/a/') == 'gs://bucket/runs/a/jax_compilation_cache'
    assert compile_cache.resolve('/fast/cache', 'gs://bucket/a') == '/fast/cache'
    assert compile_cache.resolve('off', '/runs/a') is None


@pytest.fixture
def restore_jax_cache():
    before = jax.config.jax_compilation_cache_dir
    yield
    jax.config.update('jax_compilation_cache_dir', before)
    compilation_cache.reset_cache()


# One process per run, as a user's rerun: JAX's in-memory caches start empty each time.
RUN = """
import json, sys
import jax
from lightreasoner_jax import main
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.workdir import Workdir
events = []
jax.monitoring.register_event_listener(lambda name, **_: events.append(name))
config = load_config_file('configs/smoke.py')
config.unlock()
config.compilation_cache_dir, config.model_check.random_model.num_layers = sys.argv[1], 1
config.mesh.fsdp, config.mesh.tensor = 2, 2  # the test batch has 4 rows
main.run(config, Workdir(sys.argv[2]))
print(json.dumps([events.count('/jax/compilation_cache/compile_requests_use_cache'),
                  events.count('/jax/compilation_cache/cache_hits')]))
"""


def test_a_second_run_loads_every_executable_from_the_cache(tmp_path):
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=4')

    def counts(workdir):
        result = subprocess.run([sys.executable, '-c', RUN, str(tmp_path / 'cache'), str(tmp_path / workdir)],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    requests, hits = counts('first')
    assert requests > 10 and hits == 0 and any((tmp_path / 'cache').iterdir())
    assert counts('second') == [requests, requests]  # the same job in a new workdir compiles nothing


def test_off_leaves_jax_without_a_cache(tmp_path, restore_jax_cache):
    jax.config.update('jax_compilation_cache_dir', None)
    assert compile_cache.enable('off', str(tmp_path)) is None
    assert jax.config.jax_compilation_cache_dir is None


@pytest.mark.parametrize('field,value,fragment', [
    ('compilation_cache_dir', 5, "'' (the default) or 'off'"),
    ('contrast.rescore', 'yes', 'True or False'),
])
def test_bad_types_are_config_errors(field, value, fragment):
    from lightreasoner_jax.pipeline import validation
    from lightreasoner_jax.pipeline.config_files import load_config_file
    config = load_config_file('configs/demo.py')
    config.unlock()
    section, _, name = field.rpartition('.')
    target = config[section] if section else config
    del target[name]  # the typed field goes; a value of another type takes its place
    target[name] = value
    with pytest.raises(validation.ConfigError, match=f'config.{field}'.replace('.', r'\.')) as error:
        validation.validate(config)
    assert fragment in str(error.value)
