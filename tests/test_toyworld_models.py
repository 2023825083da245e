"""The shipped toy models of both worlds (clean, habits): they load in JAX and in transformers with equal
logits, the expert clearly beats the amateur, the world they were built on is the one the data path
regenerates, and a short demo runs end to end."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lightreasoner_jax import evaluation as evaluate
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import load_questions
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.toyworld import problems, world
from lightreasoner_jax.toyworld.assets import ASSETS_DIR, model_path, world_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM_PROMPT = 'Please reason step by step.'


WORLDS = ('clean', 'habits')
# The split each world's shipped accuracy was measured on: the habit world was designed on dev, and its test
# split is read only by the method's measurements.
CHECK_SPLIT = {'clean': 'test', 'habits': 'dev'}


def source(world_name: str, split: str) -> str:
    return f'toyworld:{split}' if world_name == 'clean' else f'toyworld:{world_name}:{split}'


@pytest.mark.parametrize('world_name', WORLDS)
def test_world_file_matches_the_regenerated_splits(tmp_path, world_name):
    shipped = json.loads((world_dir(world_name) / 'world.json').read_text())
    for split in world.WORLD_SPLITS[world_name]:
        path = tmp_path / f'{split}.jsonl'
        problems.write_json_lines(world.split(source(world_name, split)[len('toyworld:'):]), path)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shipped[f'{split}_sha256'], split


def test_both_worlds_ship_in_a_few_megabytes():
    total = sum(f.stat().st_size for w in WORLDS for m in ('expert', 'amateur') for f in model_path(w, m).iterdir())
    assert total <= 10e6, total
    assert (ASSETS_DIR / 'world.json').exists()


@pytest.mark.parametrize('world_name,name', [(w, m) for w in WORLDS for m in ('expert', 'amateur')])
def test_shipped_model_logits_equal_transformers(world_name, name):
    import torch
    import transformers
    path = model_path(world_name, name)
    tokenizer = load_tokenizer(path)
    test = world.split(source(world_name, 'train')[len('toyworld:'):])[:3]
    prompts = [tokenizer.apply_chat_template(
        [{'role': 'system', 'content': SYSTEM_PROMPT}, {'role': 'user', 'content': p.question}],
        tokenize=True, add_generation_prompt=True, return_dict=False) + tokenizer.encode(p.answer) for p in test]
    length = max(map(len, prompts))
    ids = np.zeros((len(prompts), length), np.int32)
    mask = np.zeros((len(prompts), length), bool)
    for row, p in enumerate(prompts):  # left padding, as generation uses
        ids[row, length - len(p):] = p
        mask[row, length - len(p):] = True
    positions = np.maximum(np.cumsum(mask, axis=1) - 1, 0)
    torch_model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    with torch.no_grad():
        expected = torch_model(input_ids=torch.tensor(ids, dtype=torch.long), attention_mask=torch.tensor(mask).long(),
                               position_ids=torch.tensor(positions, dtype=torch.long)).logits.numpy()
    mesh = shd.make_mesh(data=1, fsdp=-1)
    model = load_hf(path, mesh=mesh, dtype='float32')
    hidden, _ = model(ids, positions, mask)
    ours = np.asarray(model.logits(hidden))
    np.testing.assert_allclose(ours[mask], expected[mask], atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize('world_name', WORLDS)
def test_expert_clearly_beats_amateur(world_name):
    mesh = shd.make_mesh(data=-1, fsdp=1)
    split = CHECK_SPLIT[world_name]
    questions, _ = load_questions(source(world_name, split), id_field='id', limit=128)
    settings = evaluate.EvalSettings(system_prompt=SYSTEM_PROMPT, max_new_tokens=128, batch_size=64, bucket=32)
    accuracy = {}
    for name in ('expert', 'amateur'):
        path = model_path(world_name, name)
        records = evaluate.evaluate(load_hf(path, mesh=mesh, dtype='float32'), load_tokenizer(path), questions,
                                    mesh, settings)
        by_id = {q.id: q for q in questions}
        # graded independently of answers.py: the last '####' number against the generator's result
        for r in records:
            truth = str(problems.check_solution(by_id[r['id']].answer))
            assert r['correct'] == (r['predicted'] == truth), r
        accuracy[name] = sum(r['correct'] for r in records) / len(records)
    shipped = json.loads((world_dir(world_name) / 'world.json').read_text())['models']
    assert 0.2 <= accuracy['expert'] <= 0.95, accuracy           # solves a fair share, far from all
    assert accuracy['expert'] - accuracy['amateur'] >= 0.15, accuracy  # the balance principle's gap
    assert abs(accuracy['expert'] - shipped['expert'][f'{split}_accuracy']) <= 0.1, (accuracy, shipped)


def test_short_demo_runs_end_to_end(tmp_path):
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    result = subprocess.run(
        [sys.executable, '-m', 'lightreasoner_jax.main', '--config=configs/demo.py', f'--workdir={tmp_path}',
         '--config.data.limit=32', '--config.eval.data.limit=32', '--config.train.optim.num_steps=5',
         '--config.generation.batch_size=32', '--config.eval.batch_size=32'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    runs = {r['run']: r for r in metrics['runs']}
    assert runs['base']['total'] == runs['main']['total'] == 32
    assert metrics['sampling']['kept_steps'] > 0
    assert '| LightReasoner |' in (tmp_path / 'report.md').read_text()
