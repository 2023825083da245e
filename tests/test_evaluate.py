"""Evaluation: predictions appended per batch, a rerun asks only the questions not yet answered, and
sharded evaluation (8 devices) answers exactly as a single device does."""

import json

import jax

from lightreasoner_jax import evaluation as evaluate
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import load_questions
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.pipeline.eval_files import evaluate_to_workdir
from lightreasoner_jax.pipeline.workdir import Workdir
from tests.pipeline_fixtures import write_pair

SETTINGS = evaluate.EvalSettings(max_new_tokens=10, batch_size=8, bucket=32)


def test_resume_skips_answered_questions_and_matches_a_full_run(tmp_path):
    write_pair(tmp_path)
    mesh = shd.make_mesh(data=1, fsdp=-1)
    model = load_hf(tmp_path / 'expert', mesh=mesh, dtype='float32')
    tokenizer = load_tokenizer(tmp_path / 'expert')
    questions, _ = load_questions(str(tmp_path / 'questions.jsonl'), id_field='id')

    full = evaluate_to_workdir(model, tokenizer, questions, mesh, SETTINGS, Workdir(tmp_path / 'full'), 'x')
    assert full['total'] == 10 and full['questions_this_run'] == 10

    partial_dir = tmp_path / 'partial' / 'eval' / 'x'
    first = evaluate_to_workdir(model, tokenizer, questions[:4], mesh, SETTINGS, Workdir(tmp_path / 'partial'), 'x')
    assert first['total'] == 4
    with open(partial_dir / 'predictions-00000-of-00001.jsonl', 'a') as f:
        f.write('{"id": "torn')  # a write cut by a kill
    resumed = evaluate_to_workdir(model, tokenizer, questions, mesh, SETTINGS, Workdir(tmp_path / 'partial'), 'x')
    assert resumed['questions_this_run'] == 6 and resumed['total'] == 10

    def by_id(directory):
        lines = (directory / 'predictions-00000-of-00001.jsonl').read_text().splitlines()
        return {r['id']: r for r in map(json.loads, lines)}
    assert by_id(partial_dir) == by_id(tmp_path / 'full' / 'eval' / 'x')
    assert {k: full[k] for k in ('accuracy', 'correct', 'total')} == \
        {k: resumed[k] for k in ('accuracy', 'correct', 'total')}

    # a kill in the middle of a batch's append: the rerun writes the uninterrupted run's bytes
    full_lines = (tmp_path / 'full' / 'eval' / 'x' / 'predictions-00000-of-00001.jsonl').read_bytes().splitlines(True)
    cut = tmp_path / 'cut' / 'eval' / 'x'
    cut.mkdir(parents=True)
    (cut / 'predictions-00000-of-00001.jsonl').write_bytes(b''.join(full_lines[:3]) + full_lines[3][:20])
    evaluate_to_workdir(model, tokenizer, questions, mesh, SETTINGS, Workdir(tmp_path / 'cut'), 'x')
    assert (cut / 'predictions-00000-of-00001.jsonl').read_bytes() == b''.join(full_lines)


def test_sharded_evaluation_equals_single_device(tmp_path):
    write_pair(tmp_path)
    questions, _ = load_questions(str(tmp_path / 'questions.jsonl'), id_field='id')
    tokenizer = load_tokenizer(tmp_path / 'expert')
    outputs = []
    for mesh in (shd.make_mesh(data=1, fsdp=1, devices=jax.devices()[:1]), shd.make_mesh(data=2, fsdp=4)):
        model = load_hf(tmp_path / 'expert', mesh=mesh, dtype='float32')
        outputs.append(evaluate.evaluate(model, tokenizer, questions, mesh, SETTINGS))
    assert outputs[0] == outputs[1]
    assert len({r['completion'] for r in outputs[0]}) > 1  # not one degenerate answer for everything
