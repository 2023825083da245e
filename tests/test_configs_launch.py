"""Config files and launchers: every preset loads with the paper's settings; the launch scripts parse and,
dry-run, issue the commands they document."""

import glob
import os
import re
import subprocess

import pytest

from lightreasoner_jax.generation import GenerationConfigError, SamplingConfig
from lightreasoner_jax.pipeline import settings, stages
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.model_pairs import check_before_stages
from lightreasoner_jax.pipeline.sweep import load_sweep
from lightreasoner_jax.pipeline.validation import validate
from lightreasoner_jax.pipeline.variants import stage_context
from lightreasoner_jax.pipeline.workdir import Workdir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESETS = {
    'qwen25_math_1p5b': 'Qwen2.5-Math-1.5B', 'qwen25_math_1p5b_instruct': 'Qwen2.5-Math-1.5B-Instruct',
    'qwen25_math_7b': 'Qwen2.5-Math-7B', 'qwen25_math_7b_instruct': 'Qwen2.5-Math-7B-Instruct',
    'deepseek_r1_distill_qwen_1p5b': 'DeepSeek-R1-Distill-Qwen-1.5B',
}


@pytest.mark.parametrize('name,expert', sorted(PRESETS.items()))
def test_paper_presets(name, expert):
    config = load_config_file(os.path.join(ROOT, 'configs', f'{name}.py'))
    assert config.expert.path == expert and config.amateur.path == 'Qwen2.5-0.5B'
    assert (config.contrast.alpha, config.contrast.beta, config.generation.max_new_tokens) == (0.2, 0.4, 128)
    assert (config.data.source, config.data.split, config.data.limit) == ('openai/gsm8k', 'train', 1000)
    assert (config.train.lora.rank, config.train.lora.alpha, tuple(config.train.lora.targets)) == \
        (8, 16.0, ('q_proj', 'v_proj'))
    assert (config.train.optim.learning_rate, config.train.optim.num_steps, config.train.positions_per_update) == \
        (5e-5, 1000, 16)
    assert config.eval.data.split == 'test' and 'boxed' in config.eval.system_prompt
    stages.check_stage_names(config)


def test_every_config_file_loads_and_names_real_stages():
    for path in glob.glob(os.path.join(ROOT, 'configs', '*.py')):
        config = load_config_file(path)
        if 'stages' in config:
            stages.check_stage_names(config)
    assert len(load_sweep(os.path.join(ROOT, 'configs', 'sweeps', 'beta_alpha.py'))) == 6


@pytest.mark.parametrize('name', ['demo_reference_compatible', 'demo_reference_compatible_clean'])
def test_reference_compatible_demos_sample_greedily_and_as_deepseek(name, tmp_path):
    """The toy experts ship no generation_config.json (the reference decodes them greedily); the sampled rows
    read the DeepSeek-R1-Distill sampling file shipped under configs/generation_configs/."""
    config = load_config_file(os.path.join(ROOT, 'configs', f'{name}.py'))
    validate(config)
    workdir = Workdir(tmp_path / 'w')
    check_before_stages(config, workdir)
    greedy = stage_context(config, workdir, 'sample:reference_greedy')[0]
    sampled = stage_context(config, workdir, 'train:reference_sampled_s2')[0]
    assert settings.sampling(greedy) == SamplingConfig(config.generation.max_new_tokens)
    assert settings.sampling(sampled) == SamplingConfig(config.generation.max_new_tokens, temperature=0.6, top_k=50,
                                                        top_p=0.95)
    assert sampled.train.seed == 2 and fingerprint(sampled, 'sample') == fingerprint(
        stage_context(config, workdir, 'sample:reference_sampled')[0], 'sample')  # the seeds share one sample
    bad = tmp_path / 'generation_config.json'
    bad.write_text('{"do_sample": true, "num_beams": 4}')
    config.variants.reference_sampled.contrast.generation_config = str(bad)
    with pytest.raises(GenerationConfigError, match='num_beams=4 is not supported'):  # before any stage runs
        check_before_stages(config, workdir)


def test_demo_full_variants_are_the_papers_comparisons_in_both_worlds(tmp_path):
    from lightreasoner_jax.pipeline.config_files import load_function
    config = load_config_file(os.path.join(ROOT, 'configs', 'demo_full.py'))
    habits = load_config_file(os.path.join(ROOT, 'configs', 'demo_habits.py'))
    if 'habits' not in config.variants:  # the habit world joins once its models are installed
        add_world = load_function(os.path.join(ROOT, 'configs', 'demo_full.py'), 'add_world', 'config')
        config = add_world(config, habits, 'habits')
    work = Workdir(tmp_path)
    contexts = {name: stage_context(config, work, f'train:{name}')[0] for name in config.variants}
    for prefix, world_config in (('', config), ('habits_', habits)):
        runs = {name[len(prefix):]: c for name, c in contexts.items()
                if (name.startswith('habits') if prefix else not name.startswith('habits'))}  # 'habits' -> ''
        objectives = {name: c.train.objective for name, c in runs.items() if not re.search(r'_s\d+$', name)}
        expected = {'sft': 'sft', 'rs_sft': 'rs_sft', 'no_selection': 'all_steps', 'no_contrast': 'expert_only',
                    'no_both': 'all_steps_expert', 'random_steps': 'random_steps'}
        assert objectives == ({**expected, '': 'contrast'} if prefix else expected), prefix
        assert sorted(c.train.seed for name, c in runs.items() if name.startswith('main_s')) == [1, 2, 3, 4]
        assert runs['no_selection'].contrast.beta == -1.0
        assert runs['random_steps'].train.min_kl == config.contrast.beta  # as many steps as selection keeps
        assert runs['random_steps'].train.samples_dir == str(work.variant(f'{prefix}no_selection').samples_dir)
        for c in runs.values():  # every run of a world uses that world's models and problems
            assert (c.expert.path, c.amateur.path, c.data.source, c.eval.data.source) == (
                world_config.expert.path, world_config.amateur.path, world_config.data.source,
                world_config.eval.data.source)
        assert 'sample:' + prefix + 'no_selection' in config.stages
    assert contexts['habits_main_s1'].train.samples_dir == str(work.variant('habits').samples_dir)
    assert contexts['main_s1'].train.samples_dir == str(work.samples_dir)
    assert {'eval_base', 'eval_base:habits', 'diagnose', 'diagnose:habits', 'sample:habits'} <= set(config.stages)
    assert config.stages[-1] == 'report' and all(f'eval:{name}' in config.stages for name in config.variants)
    assert config.expert.path != habits.expert.path and habits.eval.data.source == 'toyworld:habits:test'
    stages.check_stage_names(config)


def test_launch_scripts_parse_and_dry_run():
    for script in ('launch/tpu_pod.sh', 'launch/slurm.sbatch'):
        subprocess.run(['bash', '-n', script], cwd=ROOT, check=True)
    env = dict(os.environ, DRY_RUN='1', TPU_NAME='lr-test', ZONE='us-east5-a', ACCELERATOR='v5p-64',
               WORKDIR='gs://bucket/run', CONFIG='configs/qwen25_math_7b.py', REPO_URL='https://example.com/r.git',
               ARGS='--config.train.optim.num_steps=5')
    out = subprocess.run(['bash', 'launch/tpu_pod.sh'], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0].startswith('gcloud compute tpus tpu-vm create lr-test --zone=us-east5-a --accelerator-type=v5p-64')
    assert all('--worker=all' in line for line in out[1:]) and len(out) == 3
    assert 'lightreasoner_jax.main\\ --config=configs/qwen25_math_7b.py\\ --workdir=gs://bucket/run' in out[2]
    bad = subprocess.run(['bash', 'launch/tpu_pod.sh'], cwd=ROOT, env=dict(env, WORKDIR='/local/dir'),
                         capture_output=True, text=True)
    assert bad.returncode == 2 and 'WORKDIR must be a gs:// path' in bad.stderr
