"""The toy world's problems: correct worked solutions, 2-5 steps, disjoint seeded splits."""

import re

import pytest

from lightreasoner_jax import data
from lightreasoner_jax.toyworld import problems, world


def answer_from_question(question: str) -> int:
    """Reads the question alone (not the solution) and computes its answer: an independent check."""
    sentences = re.split(r'(?<=[.?])\s+', question)
    amount = int(re.search(r'has (\d+) ', sentences[0]).group(1))
    for sentence in sentences[1:-1]:
        numbers = [int(n) for n in re.findall(r'\d+', sentence)]
        if re.search(r' (buys|receives) \d+ \w+ (with|of) \d+ ', sentence):
            amount += numbers[0] * numbers[1]
        elif re.search(r'finds|gets|buys', sentence):
            amount += numbers[0]
        elif re.search(r'gives|loses|uses up', sentence):
            amount -= numbers[0]
        elif re.search(r'times as large|multiplies', sentence):
            amount *= numbers[0]
        elif re.search(r'equally|equal groups', sentence):
            assert amount % numbers[0] == 0, sentence
            amount //= numbers[0]
        else:
            raise AssertionError(f'unread sentence {sentence!r}')
        assert 0 < amount <= problems.MAX_AMOUNT, (question, amount)
    return amount


@pytest.mark.parametrize('seed', [0, 7])
def test_answers_are_correct_and_steps_in_range(seed):
    train, test = problems.make_splits(3000, 300, seed)
    for problem in train + test:
        assert problems.check_solution(problem.answer) == problem.result
        assert answer_from_question(problem.question) == problem.result
        assert problems.MIN_STEPS <= problem.num_steps <= problems.MAX_STEPS
        assert problem.num_steps == len(re.findall(r' = ', problem.answer))
        numbers = [int(n) for n in re.findall(r'\d+', problem.question + problem.answer)]
        assert max(numbers) <= problems.MAX_AMOUNT
    counts = {n: sum(p.num_steps == n for p in train) for n in range(2, 6)}
    assert min(counts.values()) > 0.2 * len(train)  # every length is common
    operators = ''.join(re.findall(r' ([-+*/]) \d+ = ', ''.join(p.answer for p in train)))
    assert all(operators.count(op) > 0.1 * len(operators) for op in '+-*/')


def test_check_solution_rejects_wrong_work():
    with pytest.raises(ValueError, match='wrong equation 3 \\+ 4 = 8'):
        problems.check_solution('So 3 + 4 = 8 apples.\n#### 8')
    with pytest.raises(ValueError, match="'####' answer"):
        problems.check_solution('So 3 + 4 = 7 apples.\n#### 8')
    with pytest.raises(ValueError, match='wrong equation 7 / 2 = 3'):
        problems.check_solution('So 7 / 2 = 3 apples.\n#### 3')


def test_splits_are_disjoint_seeded_and_varied():
    train, test = problems.make_splits(2000, 200, 0)
    assert not {p.question for p in train} & {p.question for p in test}
    assert len({p.question for p in train}) == 2000
    again, _ = problems.make_splits(2000, 10, 0)
    assert [p.question for p in again] == [p.question for p in train]
    other, _ = problems.make_splits(2000, 10, 1)
    assert [p.question for p in other] != [p.question for p in train]
    # varied people, things and phrasings
    assert len({p.question.split()[0] for p in train}) == len(problems.NAMES)
    assert len({re.search(r'has \d+ (.+?)\.', p.question).group(1) for p in train}) == len(problems.THINGS)


def test_toyworld_source_in_the_data_path(tmp_path):
    questions, counts = data.load_questions('toyworld:test', id_field='id', limit=5)
    assert [q.id for q in questions] == [f'test-{i:06d}' for i in range(5)]
    assert questions[0].answer.endswith(f'#### {world.split("test")[0].result}')
    path = tmp_path / 'test.jsonl'
    problems.write_json_lines(world.split('test')[:5], path)
    from_file, _ = data.load_questions(str(path), id_field='id')
    assert from_file == questions
    with pytest.raises(ValueError, match="toy world split must be one of"):
        data.load_questions('toyworld:validation')
