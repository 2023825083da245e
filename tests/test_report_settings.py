"""The report compares runs within their setting: two worlds in one workdir (as configs/demo_full.py), each
with its own baseline, method rows, paired test, habit error table and mechanism row."""

import json

from lightreasoner_jax.pipeline import report
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.variants import apply_overrides
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.toyworld import world

HABIT_TEST = 'toyworld:habits:test'


def _write_eval(workdir: Workdir, name: str, correct: list[bool], ids: list[str], completions=None):
    directory = workdir.eval_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    rows = [{'id': i, 'correct': c, 'completion': (completions or {}).get(i, '#### 0')} for i, c in zip(ids, correct)]
    workdir.eval_predictions(name, 0, 1).write_text(''.join(json.dumps(r) + '\n' for r in rows))
    workdir.eval_metrics(name).write_text(json.dumps(
        {'accuracy': sum(correct) / len(correct), 'correct': sum(correct), 'total': len(correct)}))


def test_two_worlds_each_against_its_own_baseline(tmp_path):
    clean = {'expert': {'path': '/models/clean_expert'}, 'eval': {'data': {'source': 'toyworld:test'}}}
    config = apply_overrides(load_config_file('configs/default.py'), {
        'expert': {'path': '/models/habit_expert'}, 'eval': {'data': {'source': HABIT_TEST}}})
    with config.unlocked():
        config.variants = {'main_s1': {'train': {'seed': 1}}, 'clean': clean,
                           'clean_main_s1': {**clean, 'samples_of': 'clean', 'train': {'seed': 1}},
                           'clean_no_contrast': {**clean, 'samples_of': 'clean',
                                                 'train': {'objective': 'expert_only'}}}
        config.stages = ('eval_base', 'eval_base:clean', 'diagnose:clean', 'eval', 'eval:main_s1', 'eval:clean',
                         'eval:clean_main_s1', 'eval:clean_no_contrast', 'report')
    work = Workdir(tmp_path)
    habit_problems = world.split('habits:test')[:40]
    habit_ids = [p.id for p in habit_problems]
    clean_ids = [f'test-{i:06d}' for i in range(40)]
    # habit world: the baseline gets 10 right and runs on after the answer on the rest; tuning fixes 20 more
    run_on = {p.id: p.answer + '\n\nPractice: 50 + 50 = 100.\n#### 100' for p in habit_problems[10:]}  # 100: never a result
    _write_eval(work, 'base', [i < 10 for i in range(40)], habit_ids, run_on)
    _write_eval(work, 'tuned', [i < 30 for i in range(40)], habit_ids, run_on)
    _write_eval(work.variant('main_s1'), 'tuned', [i < 28 for i in range(40)], habit_ids, run_on)
    # clean world: the baseline gets 30 right; tuning loses 4
    _write_eval(work.variant('clean'), 'base', [i < 30 for i in range(40)], clean_ids)
    _write_eval(work.variant('clean'), 'tuned', [i < 26 for i in range(40)], clean_ids)
    _write_eval(work.variant('clean_main_s1'), 'tuned', [i < 26 for i in range(40)], clean_ids)
    _write_eval(work.variant('clean_no_contrast'), 'tuned', [i < 31 for i in range(40)], clean_ids)
    diagnostic = {'steps': 100, 'expert_step_accuracy': 0.9, 'contrast_step_accuracy': 0.8, 'fixed': 2, 'broken': 12,
                  'kept': 20, 'kept_fixed': 1, 'kept_broken': 7}
    work.variant('clean').contrast_diagnostic.parent.mkdir(parents=True)
    work.variant('clean').contrast_diagnostic.write_text(json.dumps(diagnostic))

    report.run(config, work)
    metrics = json.loads(work.metrics.read_text())
    methods = {(m['setting'], m['label']): m for m in metrics['methods']}
    habit, clean_setting = f'main ({HABIT_TEST})', 'clean (toyworld:test)'
    light = methods[(habit, 'LightReasoner')]
    assert light['seeds'] == 2 and light['base_accuracy'] == 0.25
    assert abs(light['mean_change'] - (0.75 + 0.70) / 2 + 0.25) < 1e-9
    assert (light['paired']['pooled']['gained'], light['paired']['pooled']['lost']) == (38, 0)
    clean_light = methods[(clean_setting, 'LightReasoner')]
    assert clean_light['seeds'] == 2 and clean_light['base_accuracy'] == 0.75
    assert (clean_light['paired']['pooled']['gained'], clean_light['paired']['pooled']['lost']) == (0, 8)
    assert methods[(clean_setting, 'w/o contrast')]['mean_change'] > 0
    assert set(metrics['habit_errors']) == {'base', 'main', 'main_s1'}  # the clean world has no habits
    assert metrics['habit_errors']['base']['by_type']['continuation'] == 30
    assert metrics['habit_errors']['main']['wrong'] == 10
    assert metrics['mechanism'][clean_setting]['diagnostic']['kept_broken'] == 7
    text = work.report_md.read_text()
    assert f'| {clean_setting} | Baseline (expert) | 75.0 |' in text
    assert f'| {clean_setting} | LightReasoner | 2 | 65.0, 65.0 | 75.0 | -10.0 |' in text
    assert '| 20 | 1 / 7 |' in text  # the clean world's kept steps fixed / broken by the contrast
    assert len((work.report_dir / 'accuracy.png').read_bytes()) > 1000
