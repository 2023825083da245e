"""The contrast diagnostic: its counts equal a direct per-position computation of the formulas (argmax of
p_E, and argmax of log p_E - log p_A over the plausible set), and the diagnose stage writes them."""

import json

import jax
import numpy as np

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import build_prompt_ids
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.pipeline import settings, stages
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import ContrastConfig
from lightreasoner_jax.sampling.diagnostic import contrast_diagnostic
from tests.pipeline_fixtures import pipeline_config, write_pair

ANSWERS = ['Tom buys 4 more: 3 + 4 = 7.\n#### 7', 'Five boxes: 12 * 5 = 60.\n#### 60', '20 - 7 = 13.\n#### 13']


def _direct(expert, amateur, tokenizer, questions, config: ContrastConfig, eos: int) -> dict:
    counts = dict.fromkeys(('steps', 'expert_right', 'contrast_right', 'kept', 'kept_fixed', 'kept_broken'), 0)
    for q in questions:
        prompt = build_prompt_ids(tokenizer, q.question, 'Please reason step by step.')
        answer = list(tokenizer.encode(q.answer, add_special_tokens=False)) + [eos]
        ids = np.array([prompt + answer], np.int32)
        positions, mask = np.arange(ids.shape[1])[None], np.ones_like(ids, bool)
        log_e = np.asarray(jax.nn.log_softmax(expert.logits(expert(ids, positions, mask)[0])[0], -1), np.float64)
        log_a = np.asarray(jax.nn.log_softmax(amateur.logits(amateur(ids, positions, mask)[0])[0], -1), np.float64)
        shared = min(log_e.shape[-1], log_a.shape[-1])
        for step, gold in enumerate(answer):
            t = len(prompt) - 1 + step
            e, a = log_e[t, :shared], log_a[t, :shared]
            p = np.exp(e)
            plausible = np.flatnonzero(p >= config.alpha * p.max())
            plausible = plausible[np.argsort(-p[plausible], kind='stable')][:config.top_k]
            expert_right = int(np.argmax(log_e[t])) == gold
            contrast_right = int(plausible[np.argmax(e[plausible] - a[plausible])]) == gold
            kept = float(np.sum(p * (e - a))) >= config.beta
            counts['steps'] += 1
            counts['expert_right'] += expert_right
            counts['contrast_right'] += contrast_right
            counts['kept'] += kept
            counts['kept_fixed'] += kept and contrast_right and not expert_right
            counts['kept_broken'] += kept and expert_right and not contrast_right
    return counts


def test_counts_equal_a_direct_computation(tmp_path):
    tokenizer = write_pair(tmp_path)
    config = pipeline_config(tmp_path)
    questions = [q for q, _ in zip(settings.questions(config.data)[0], ANSWERS)]
    questions = [type(q)(q.id, q.question, answer) for q, answer in zip(questions, ANSWERS)]
    mesh = shd.make_mesh(data=1, fsdp=-1)
    expert = load_hf(tmp_path / 'expert', mesh=mesh, dtype='float32')
    amateur = load_hf(tmp_path / 'amateur', mesh=mesh, dtype='float32')
    contrast = ContrastConfig(alpha=0.1, beta=0.42, top_k=8)
    got = contrast_diagnostic(expert, amateur, tokenizer, questions, config=contrast, eos_id=2,
                              system_prompt='Please reason step by step.', batch_size=2)
    want = _direct(expert, amateur, tokenizer, questions, contrast, eos=2)
    assert {k: got[k] for k in want} == want
    assert 0 < got['kept'] < got['steps'] and got['expert_right'] < got['steps']  # a random pair errs
    assert got['fixed'] - got['broken'] == got['contrast_right'] - got['expert_right']
    assert sum(got['kept_plausible_sizes'].values()) == got['kept']


def test_diagnose_stage_writes_the_diagnostic(tmp_path):
    write_pair(tmp_path)
    rows = [json.loads(line) for line in (tmp_path / 'questions.jsonl').read_text().splitlines()]
    with open(tmp_path / 'questions.jsonl', 'w') as f:
        for row, answer in zip(rows, ANSWERS * 4):
            f.write(json.dumps({**row, 'answer': answer}) + '\n')
    config = pipeline_config(tmp_path)
    with config.unlocked():
        config.stages, config.diagnose.limit = ('diagnose',), 4
    workdir = Workdir(tmp_path / 'run')
    result, skipped = stages.run_stage('diagnose', config, workdir, shd.make_mesh(data=1, fsdp=-1))
    written = json.loads(workdir.contrast_diagnostic.read_text())
    assert not skipped and written['problems'] == result['problems'] == 4
    assert written['kept_fixed'] == result['kept_fixed'] and written['steps'] > 4 * 5
