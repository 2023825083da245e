"""A suite of three benchmarks (GSM8K, SVAMP and ASDiv schemas, in the toolkit's data layout, holding toy-world
problems) evaluated by the shipped toy expert in one eval stage through `main`: per-benchmark predictions and
metrics, a resume after a kill inside a benchmark that writes the uninterrupted run's bytes, the report's
benchmark table, and a bad gold answer failing before the model is loaded."""

import json
import os
import shutil
import subprocess
import sys

from lightreasoner_jax.evaluation.sampled_metrics import majority_correct, pass_at_k, sampled_metrics
from lightreasoner_jax.toyworld import world

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = 12


def toolkit_dir(root):
    """Toy test problems written as the toolkit's gsm8k, svamp and asdiv files."""
    problems = world.split('test')[:LIMIT]
    rows = {'gsm8k': [], 'svamp': [], 'asdiv': []}
    for i, p in enumerate(problems):
        body, question = p.question.rsplit('. ', 1)
        thing = question.split()[2]
        rows['gsm8k'].append({'question': p.question, 'answer': p.answer, 'idx': i})
        rows['svamp'].append({'Answer': float(p.result), 'Question': question, 'Equation': '', 'Body': body + '.',
                              'Type': 'Toy', 'ID': f'chal-{i}', 'idx': i})
        rows['asdiv'].append({'body': body + '.', 'question': question, 'solution_type': 'Toy',
                              'answer': f'{p.result} ({thing})', 'formula': '', 'idx': i})
    for name, name_rows in rows.items():
        (root / name).mkdir(parents=True)
        (root / name / 'test.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in name_rows))
    return root


def run_main(workdir, data_dir, *stages):
    args = ['--config=configs/demo_clean.py', f'--workdir={workdir}', f'--config.stages={tuple(stages)!r}',
            "--config.eval.benchmarks=('gsm8k','svamp','asdiv')", f'--config.eval.data_dir={data_dir}',
            f'--config.eval.limit={LIMIT}', '--config.eval.batch_size=8', '--config.eval.bucket=32']
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    return subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


def predictions(workdir, bench):
    return (workdir / 'eval' / 'base' / bench / 'predictions-00000-of-00001.jsonl').read_bytes()


def test_suite_in_one_stage_resumes_inside_a_benchmark_and_fills_the_report(tmp_path):
    data_dir = toolkit_dir(tmp_path / 'data')
    full = tmp_path / 'full'
    result = run_main(full, data_dir, 'eval_base', 'report')
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((full / 'eval' / 'base' / 'metrics.json').read_text())
    assert set(summary['benchmarks']) == {'gsm8k', 'svamp', 'asdiv'}
    assert summary['total'] == 3 * LIMIT
    accuracies = [summary['benchmarks'][b]['accuracy'] for b in ('gsm8k', 'svamp', 'asdiv')]
    assert abs(summary['average'] - sum(accuracies) / 3) < 1e-12
    # the same problems in three schemas: the toy expert sees the same question text, so answers the same
    assert len(set(accuracies)) == 1 and accuracies[0] > 0.5
    records = {r['id']: r for r in map(json.loads, predictions(full, 'svamp').splitlines())}
    assert set(records) == {f'svamp/{i}' for i in range(LIMIT)}
    record = records['svamp/0']
    assert record['benchmark'] == 'svamp'
    assert record['question'] == world.split('test')[0].question and record['reference'] == str(world.split('test')[0].result)

    # a kill inside SVAMP (5 answers written, a torn sixth), before ASDiv
    cut = tmp_path / 'cut'
    shutil.copytree(full / 'eval', cut / 'eval')
    (cut / 'eval' / 'base' / 'metrics.json').unlink()
    shutil.rmtree(cut / 'eval' / 'base' / 'asdiv')
    lines = predictions(full, 'svamp').splitlines(True)
    (cut / 'eval' / 'base' / 'svamp' / 'predictions-00000-of-00001.jsonl').write_bytes(b''.join(lines[:5]) + lines[5][:30])
    result = run_main(cut, data_dir, 'eval_base')
    assert result.returncode == 0, result.stderr[-3000:]
    for bench in ('gsm8k', 'svamp', 'asdiv'):
        assert predictions(cut, bench) == predictions(full, bench), bench
    resumed = json.loads((cut / 'eval' / 'base' / 'metrics.json').read_text())
    assert {b: m['questions_this_run'] for b, m in resumed['benchmarks'].items()} == \
        {'gsm8k': 0, 'svamp': LIMIT - 5, 'asdiv': LIMIT}
    assert resumed['average'] == summary['average']

    report = (full / 'report.md').read_text()
    table = report[report.index('## Benchmarks'):].splitlines()
    header = next(line for line in table if line.startswith('| Run'))
    assert header == '| Run | GSM8K | SVAMP | ASDiv | Average |'
    base_row = next(line for line in table if line.startswith('| Baseline (expert)'))
    value = f'{100 * accuracies[0]:.1f}'
    assert base_row == f'| Baseline (expert) | {value} | {value} | {value} | {value} |'
    metrics = json.loads((full / 'metrics.json').read_text())
    assert metrics['runs'][0]['benchmarks']['asdiv']['accuracy'] == accuracies[2]


def test_a_bad_gold_answer_fails_before_the_model_is_loaded(tmp_path):
    data_dir = toolkit_dir(tmp_path / 'data')
    path = data_dir / 'asdiv' / 'test.jsonl'
    rows = path.read_text().splitlines()
    bad = json.loads(rows[3])
    bad['answer'] = None
    path.write_text('\n'.join(rows[:3] + [json.dumps(bad)] + rows[4:]) + '\n')
    result = run_main(tmp_path / 'w', data_dir, 'eval_base')
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert f"benchmark 'asdiv', {path}:4: field 'answer' is missing" in last
    assert not (tmp_path / 'w' / 'eval' / 'base' / 'gsm8k').exists()  # nothing generated


def test_pass_at_k_and_majority():
    assert pass_at_k(4, 0, 2) == 0.0 and pass_at_k(4, 4, 1) == 1.0
    assert abs(pass_at_k(4, 1, 1) - 0.25) < 1e-12 and abs(pass_at_k(4, 1, 2) - 0.5) < 1e-12
    samples = [{'predicted': '3', 'correct': False}, {'predicted': '5', 'correct': True},
               {'predicted': '5 ', 'correct': True}, {'predicted': None, 'correct': False}]
    assert not majority_correct(samples, 1) and not majority_correct(samples, 2)  # a tie goes to the first seen
    assert majority_correct(samples, 3) and majority_correct(samples, 4)
    metrics = sampled_metrics({'q1': samples, 'q2': [{'predicted': '1', 'correct': False}] * 4}, (1, 4))
    assert metrics == {'pass@1': 0.25, 'maj@1': 0.0, 'pass@4': 0.5, 'maj@4': 0.5}


def test_sampled_answers_give_pass_at_k_and_majority_and_resume(tmp_path):
    from lightreasoner_jax import sharding as shd
    from lightreasoner_jax.evaluation import EvalSettings
    from lightreasoner_jax.evaluation import benchmarks as b
    from lightreasoner_jax.models import load_hf, load_tokenizer
    from lightreasoner_jax.pipeline.eval_suite import SampledEval, evaluate_suite
    from lightreasoner_jax.pipeline.workdir import Workdir
    from lightreasoner_jax.toyworld.assets import model_path

    data_dir = toolkit_dir(tmp_path / 'data')
    specs = [b.preset('gsm8k', str(data_dir), limit=4)]
    suite = {'gsm8k': b.load(specs[0])}
    mesh = shd.make_mesh(data=1, fsdp=-1)
    model = load_hf(model_path('clean', 'expert'), mesh=mesh, dtype='float32')
    tokenizer = load_tokenizer(model_path('clean', 'expert'))
    settings = EvalSettings(system_prompt='Please reason step by step.', max_new_tokens=96, batch_size=8, bucket=32)
    sampled = SampledEval(samples=3, temperature=1.5, ks=(1, 3))
    work = Workdir(tmp_path / 'w')
    metrics = evaluate_suite(model, tokenizer, suite, specs, mesh, settings, work, 'base', sampled=sampled)
    gsm = metrics['benchmarks']['gsm8k']
    samples = [json.loads(line) for line in
               (work.eval_benchmark_dir('base', 'gsm8k') / 'samples-00000-of-00001.jsonl').read_text().splitlines()]
    assert len(samples) == 12 and {s['id'] for s in samples} == {f'gsm8k/{i}#{j}' for i in range(4) for j in range(3)}
    assert abs(gsm['pass@1'] - sum(s['correct'] for s in samples) / 12) < 1e-12
    assert gsm['pass@1'] <= gsm['pass@3'] <= 1 and 0 <= gsm['maj@3'] <= 1 and gsm['samples'] == 3
    again = evaluate_suite(model, tokenizer, suite, specs, mesh, settings, work, 'base', sampled=sampled)
    assert again['benchmarks']['gsm8k']['questions_this_run'] == 0
    assert {k: again['benchmarks']['gsm8k'][k] for k in ('pass@1', 'pass@3', 'maj@1', 'maj@3', 'accuracy')} == \
        {k: gsm[k] for k in ('pass@1', 'pass@3', 'maj@1', 'maj@3', 'accuracy')}


def test_an_unknown_benchmark_or_k_is_a_one_line_config_error(tmp_path):
    import pytest

    from lightreasoner_jax.pipeline.config_files import load_config_file
    from lightreasoner_jax.pipeline.validation import ConfigError, validate

    config = load_config_file('configs/qwen25_math_1p5b.py')
    with config.unlocked():
        config.stages = ('eval_base',)
    validate(config)  # the paper's suite as shipped
    config.eval.benchmarks = ('gsm8k', 'gsm9k')
    with pytest.raises(ConfigError, match=r"^config.eval.benchmarks: 'gsm9k' is not a preset"):
        validate(config)
    config.eval.benchmarks, config.eval.samples, config.eval.pass_k = ('paper',), 4, (1, 8)
    with pytest.raises(ConfigError, match=r'^config.eval.pass_k = \(1, 8\): each k must be in 1..eval.samples \(4\)'):
        validate(config)
    config.eval.benchmarks, config.eval.data.source = (), ''
    with pytest.raises(ConfigError, match=r"^config.eval.data.source = '': must be"):
        validate(config)


def test_a_single_set_without_answers_fails_before_the_model_loads(tmp_path):
    import pytest

    from lightreasoner_jax.data import DataError
    from lightreasoner_jax.pipeline import eval_stage
    from lightreasoner_jax.pipeline.config_files import load_config_file
    from lightreasoner_jax.pipeline.workdir import Workdir

    path = tmp_path / 'q.jsonl'
    path.write_text(json.dumps({'id': 'a', 'question': 'one?', 'answer': '#### 1'}) + '\n'
                    + json.dumps({'id': 'b', 'question': 'two?', 'answer': 'two, no hashes'}) + '\n')
    config = load_config_file('configs/default.py')
    config.eval.data.source, config.eval.data.id_field = str(path), 'id'

    def load_model():
        raise AssertionError('the model must not be loaded')
    with pytest.raises(DataError, match=rf"^{path}, question 'b': eval.kind 'gsm8k': field 'answer' must end in"):
        eval_stage._evaluate_stage(config, load_model, None, Workdir(tmp_path / 'w'), 'base')
