"""The analysis tools: perplexity of given answers and expert/amateur step statistics equal a direct
per-position computation; the diagnose stage adds the sampled-step statistics; the report's drift table and
case study file show what the evaluations hold."""

import json

import jax
import numpy as np

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import build_prompt_ids
from lightreasoner_jax.evaluation.perplexity import perplexity
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.pipeline import report, stages
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling.step_stats import step_statistics
from tests.pipeline_fixtures import QUESTIONS, pipeline_config, write_pair

ANSWERS = ['Tom buys 4 more: 3 + 4 = 7.\n#### 7', 'Five boxes: 12 * 5 = 60.\n#### 60', '20 - 7 = 13.']


def _log_softmax_rows(model, ids):
    ids = np.array([ids], np.int32)
    out = model.logits(model(ids, np.arange(ids.shape[1])[None], np.ones_like(ids, bool))[0])[0]
    return np.asarray(jax.nn.log_softmax(out.astype(np.float32), -1), np.float64)


def test_perplexity_and_step_statistics_equal_a_direct_computation(tmp_path):
    tokenizer = write_pair(tmp_path)
    mesh = shd.make_mesh(data=1, fsdp=-1)
    expert = load_hf(tmp_path / 'expert', mesh=mesh, dtype='float32')
    amateur = load_hf(tmp_path / 'amateur', mesh=mesh, dtype='float32')
    pairs = list(zip(QUESTIONS, ANSWERS))
    got = perplexity(expert, tokenizer, pairs, system_prompt='S', eos_id=2, batch_size=2, bucket=16)
    nll, tokens, rows = 0.0, 0, []
    for question, answer in pairs:
        prompt = build_prompt_ids(tokenizer, question, 'S')
        ids = list(tokenizer.encode(answer, add_special_tokens=False)) + [2]
        rows.append((prompt, ids))
        log_p = _log_softmax_rows(expert, prompt + ids)
        nll -= sum(log_p[len(prompt) - 1 + t, token] for t, token in enumerate(ids))
        tokens += len(ids)
    assert got['answers'] == 3 and got['tokens'] == tokens
    assert abs(got['mean_nll'] - nll / tokens) < 1e-4 and abs(got['perplexity'] - np.exp(nll / tokens)) < 1e-3

    beta = 0.42
    stats = step_statistics(expert, amateur, rows, beta=beta, batch_size=2, bucket=16)
    want = {'all_steps': [], 'kl_at_least_beta': []}
    for prompt, ids in rows:
        log_e, log_a = _log_softmax_rows(expert, prompt + ids), _log_softmax_rows(amateur, prompt + ids)
        shared = min(log_e.shape[-1], log_a.shape[-1])
        for t in range(len(prompt) - 1, len(prompt) + len(ids) - 1):
            e, a = log_e[t, :shared], log_a[t, :shared]
            step = (-(np.exp(log_e[t]) * log_e[t]).sum(), -(np.exp(log_a[t]) * log_a[t]).sum(),
                    np.argmax(log_e[t]) == np.argmax(log_a[t]))
            want['all_steps'].append(step)
            if (np.exp(e) * (e - a)).sum() >= beta:
                want['kl_at_least_beta'].append(step)
    for group, steps in want.items():
        assert stats[group]['steps'] == len(steps) > 0, group
        entropy_e, entropy_a, agree = np.mean(np.array(steps, np.float64), 0)
        assert abs(stats[group]['expert_entropy'] - entropy_e) < 1e-4
        assert abs(stats[group]['amateur_entropy'] - entropy_a) < 1e-4
        assert abs(stats[group]['top1_agreement'] - agree) < 1e-9
    assert stats['kl_at_least_beta']['steps'] < stats['all_steps']['steps']


def test_diagnose_after_sampling_adds_the_sampled_step_statistics(tmp_path):
    write_pair(tmp_path)
    rows = [json.loads(line) for line in (tmp_path / 'questions.jsonl').read_text().splitlines()]
    (tmp_path / 'questions.jsonl').write_text(''.join(json.dumps({**r, 'answer': a}) + '\n'
                                                      for r, a in zip(rows, ANSWERS * 4)))
    config = pipeline_config(tmp_path)
    with config.unlocked():
        config.stages, config.diagnose.limit = ('sample', 'diagnose'), 3
    workdir, mesh = Workdir(tmp_path / 'run'), shd.make_mesh(data=1, fsdp=-1)
    stages.run_stage('sample', config, workdir, mesh)
    stages.run_stage('diagnose', config, workdir, mesh)
    sampled = json.loads(workdir.contrast_diagnostic.read_text())['sampled_steps']
    assert sampled['all_steps']['steps'] >= sampled['kl_at_least_beta']['steps'] > 0
    assert 0 <= sampled['all_steps']['top1_agreement'] <= 1


def _eval(workdir, name, correct, drift=None):
    directory = workdir.eval_dir(name)
    directory.mkdir(parents=True, exist_ok=True)
    rows = [{'id': f'q{i}', 'correct': c, 'question': f'question {i}', 'reference': '7', 'predicted': str(i),
             'completion': f'answer {i} of {name}'} for i, c in enumerate(correct)]
    workdir.eval_predictions(name, 0, 1).write_text(''.join(json.dumps(r) + '\n' for r in rows))
    metrics = {'accuracy': sum(correct) / len(correct), 'correct': sum(correct), 'total': len(correct)}
    if drift:
        metrics['drift'] = drift
    workdir.eval_metrics(name).write_text(json.dumps(metrics))


def test_report_shows_drift_and_writes_the_case_study(tmp_path):
    config = load_config_file('configs/default.py')
    with config.unlocked():
        config.stages = ('eval_base', 'eval', 'report')
    work = Workdir(tmp_path)
    gold = lambda ppl: {'gold_solutions': {'answers': 5, 'tokens': 50, 'mean_nll': float(np.log(ppl)),
                                           'perplexity': ppl}}
    _eval(work, 'base', [True, False, False, True, False], gold(1.25))
    _eval(work, 'tuned', [True, True, True, False, False], gold(1.5))
    report.run(config, work)
    text = work.report_md.read_text()
    assert '| Baseline (expert) | 1.250 (5) | - |' in text and '| LightReasoner | 1.500 (5) | - |' in text
    case_study = (work.report_dir / 'case_study.md').read_text()
    assert '2 questions the baseline got wrong and the tuned expert right; 1 the reverse' in case_study
    assert case_study.count('### q') == 3 and 'answer 1 of base' in case_study and 'answer 1 of tuned' in case_study
    assert json.loads(work.metrics.read_text())['case_study'] == {'main (configs default)': {'fixed': 2, 'broken': 1}} \
        or list(json.loads(work.metrics.read_text())['case_study'].values()) == [{'fixed': 2, 'broken': 1}]
