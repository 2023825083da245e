"""Rejection-sampling SFT: sampled answers graded against gold, the correct distinct ones trained on."""

import json
import os
import subprocess
import sys

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.training.rejection import accepted_answers, repeated_questions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_accepted_answers_keep_each_correct_distinct_completion():
    questions = [data_lib.Question('q1', 'one?', '#### 1'), data_lib.Question('q2', 'two?', '#### 2')]
    asked = repeated_questions(questions, 3)
    assert [q.id for q in asked] == ['q1#rs0', 'q1#rs1', 'q1#rs2', 'q2#rs0', 'q2#rs1', 'q2#rs2']
    predictions = [{'id': 'q1#rs0', 'correct': True, 'completion': 'a #### 1'},
                   {'id': 'q1#rs1', 'correct': True, 'completion': 'a #### 1'},   # a duplicate
                   {'id': 'q1#rs2', 'correct': True, 'completion': 'b #### 1'},
                   {'id': 'q2#rs0', 'correct': False, 'completion': '#### 3'}]
    accepted = accepted_answers(questions, predictions)
    assert [(q.id, q.question, q.answer) for q in accepted] == [('q1#rs0', 'one?', 'a #### 1'),
                                                                ('q1#rs1', 'one?', 'b #### 1')]


def test_train_stage_samples_grades_and_trains_on_the_toy_experts_correct_answers(tmp_path):
    work = tmp_path / 'W'
    args = ['--config=configs/demo_clean.py', f'--workdir={work}', '--config.stages=("train",)',
            '--config.train.objective=rs_sft', '--config.data.limit=8', '--config.train.rejection.samples_per_question=2',
            '--config.generation.batch_size=16', '--config.train.optim.num_steps=2',
            '--config.train.positions_per_update=32']
    env = dict(os.environ, XLA_FLAGS='--xla_force_host_platform_device_count=1')
    result = subprocess.run([sys.executable, '-m', 'lightreasoner_jax.main', *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    answers = [json.loads(line) for line in (work / 'rejection' / 'answers-00000-of-00001.jsonl').open()]
    assert len(answers) == 16 and len({a['id'] for a in answers}) == 16
    stats = json.loads((work / 'rejection' / 'stats.json').read_text())
    assert stats['answers'] == 16 and stats['correct'] == sum(a['correct'] for a in answers) > 0
    trained = json.loads((work / 'stages' / 'train.json').read_text())['result']
    assert trained['records_with_positions'] == stats['accepted_distinct']
