"""Stage bookkeeping: finished stages are skipped, changed configs are refused, variants get their own dirs."""

import json

import pytest

from lightreasoner_jax.pipeline import stages
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.variants import apply_overrides
from lightreasoner_jax.pipeline.workdir import Workdir


def fake_table(calls, fail=()):
    def make(name):
        def run(config, workdir, mesh):
            calls.append((name, str(workdir), config.train.objective, config.train.samples_dir))
            if name in fail:
                raise RuntimeError('killed')
            return {'ran': name}
        return run
    return {'sample': stages.Stage(make('sample')), 'train': stages.Stage(make('train')),
            'report': stages.Stage(make('report'), always_rerun=True)}


def base_config():
    config = load_config_file('configs/default.py')
    config.variants = {'sft': {'train': {'objective': 'sft'}}, 'nosel': {'contrast': {'beta': -1.0}}}
    config.stages = ('sample', 'train', 'train:sft', 'sample:nosel', 'train:nosel', 'report')
    return config


def run_all(config, workdir, calls, fail=()):
    table = fake_table(calls, fail)
    stages.check_stage_names(config, table)
    return [stages.run_stage(s, config, Workdir(workdir), None, table) for s in config.stages]


def test_runs_then_skips_finished_stages(tmp_path):
    calls = []
    results = run_all(base_config(), tmp_path, calls)
    assert [skipped for _, skipped in results] == [False] * 6
    assert calls[2] == ('train', str(tmp_path / 'variants' / 'sft'), 'sft', str(tmp_path / 'samples'))
    # a variant that samples for itself reads its own samples
    assert calls[4] == ('train', str(tmp_path / 'variants' / 'nosel'), 'contrast', '')
    record = json.loads((tmp_path / 'stages' / 'train@sft.json').read_text())
    assert record['result'] == {'ran': 'train'} and record['config']['train']['objective'] == 'sft'

    calls.clear()
    results = run_all(base_config(), tmp_path, calls)
    assert [skipped for _, skipped in results] == [True] * 5 + [False]  # the report is always redone
    assert results[0][0] == {'ran': 'sample'} and [c[0] for c in calls] == ['report']


def test_changed_config_for_a_finished_stage_is_an_error(tmp_path):
    run_all(base_config(), tmp_path, [])
    config = base_config()
    config.train.optim.learning_rate = 1e-3
    calls = []
    with pytest.raises(stages.StageConfigMismatchError,
                       match=r"train.json: stage 'train' was finished .* \(train.optim.learning_rate: 5e-05 -> 0.001\)"):
        run_all(config, tmp_path, calls)
    assert [c[0] for c in calls] == []  # 'sample' was skipped; nothing ran


def test_ignored_fields_do_not_count_as_changes(tmp_path):
    run_all(base_config(), tmp_path, [])
    config = base_config()
    config.train.log_every = 1
    config.train.checkpoint.save_every = 7
    calls = []
    run_all(config, tmp_path, calls)
    assert [c[0] for c in calls] == ['report']


def test_ignored_fields_are_dotted_paths_not_names_at_any_depth():
    config = base_config()
    config.model_check = {'checkpoint': '/ckpt/a'}
    changed = apply_overrides(config, {'model_check.checkpoint': '/ckpt/b', 'train.checkpoint.save_every': 3})
    assert fingerprint(config, 'model_check') != fingerprint(changed, 'model_check')  # a real input
    assert fingerprint(config, 'train') == fingerprint(changed, 'train')  # how often to save is not


def test_partly_done_stage_resumes_under_same_config_only(tmp_path):
    config = base_config()
    with pytest.raises(RuntimeError, match='killed'):
        run_all(config, tmp_path, [], fail=('train',))
    assert (tmp_path / 'stages' / 'train.started.json').exists()
    assert not (tmp_path / 'stages' / 'train.json').exists()
    changed = base_config()
    changed.train.seed = 3
    with pytest.raises(stages.StageConfigMismatchError, match=r"stage 'train' was started .* \(train.seed: 0 -> 3\)"):
        run_all(changed, tmp_path, [])
    calls = []
    run_all(config, tmp_path, calls)
    assert [c[0] for c in calls][:1] == ['train']  # sample skipped, train rerun (resumes itself)


def test_unknown_stage_or_variant_is_named():
    config = base_config()
    config.stages = ('sample', 'trian')
    with pytest.raises(ValueError, match=r"unknown stage\(s\) \['trian'\]"):
        stages.check_stage_names(config, fake_table([]))
    config.stages = ('train:sfft',)
    with pytest.raises(ValueError, match=r"\['train:sfft'\] name variant\(s\) not in config.variants"):
        stages.check_stage_names(config, fake_table([]))


def test_variant_override_of_a_missing_field_is_named():
    config = base_config()
    with pytest.raises(KeyError, match="override 'train.objectiv': config has no field 'objectiv'"):
        apply_overrides(config, {'train': {'objectiv': 'sft'}})


def test_rejection_settings_count_only_for_the_rs_sft_objective():
    config = load_config_file('configs/default.py')
    plain = fingerprint(config, 'train')
    assert 'rejection' not in plain['train']  # workdirs made before the setting existed stay valid
    changed = apply_overrides(config, {'train.rejection.temperature': 1.0})
    assert fingerprint(changed, 'train') == plain
    rs = apply_overrides(config, {'train.objective': 'rs_sft'})
    assert fingerprint(rs, 'train')['train']['rejection']['temperature'] == 0.7
    assert fingerprint(apply_overrides(rs, {'train.rejection.temperature': 1.0}), 'train') != fingerprint(rs, 'train')


def test_a_variant_trains_on_the_samples_of_the_variant_it_names(tmp_path):
    from lightreasoner_jax.pipeline.variants import stage_context
    config = load_config_file('configs/demo_full.py')
    work = Workdir(tmp_path)
    random_config, random_dir = stage_context(config, work, 'train:random_steps')
    assert random_config.train.samples_dir == str(work.variant('no_selection').samples_dir)
    assert random_dir == work.variant('random_steps') and random_config.contrast.beta == -1.0
    contrast_config, _ = stage_context(config, work, 'train:no_contrast')
    assert contrast_config.train.samples_dir == str(work.samples_dir)
