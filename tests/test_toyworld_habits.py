"""The habit world is what it claims: reasoning solutions check, every habit solution is wrong in the way
its trap says, generic documents run on, splits are disjoint and seeded, and errors are told apart by type."""

import random
import re

import pytest

from lightreasoner_jax.toyworld import habits, problems, world

PARAMS = dict(generic_size=400, basics_size=150, train_size=300, dev_size=100, test_size=200, seed=3,
              receive_gives=0.8, distractor=0.6, continuation=0.6)


@pytest.fixture(scope='module')
def splits():
    return habits.make_splits(PARAMS)


def test_splits_are_seeded_and_disjoint(splits):
    assert habits.make_splits(PARAMS)['test'] == splits['test']
    assert habits.make_splits({**PARAMS, 'seed': 4})['test'] != splits['test']
    assert {name: len(s) for name, s in splits.items()} == {'generic': 400, 'basics': 150, 'train': 300, 'dev': 100,
                                                            'test': 200}
    questions = {name: {p.question for p in s} for name, s in splits.items()}
    for a, b in (('train', 'dev'), ('train', 'test'), ('dev', 'test'), ('generic', 'test'), ('generic', 'dev'),
                 ('generic', 'train'), ('basics', 'train'), ('basics', 'dev'), ('basics', 'test'), ('basics', 'generic')):
        assert not questions[a] & questions[b], (a, b)
    # the basics split was added last: the other splits are the ones a world without it has
    without = habits.make_splits({k: v for k, v in PARAMS.items() if k != 'basics_size'})
    assert without['basics'] == [] and all(without[name] == splits[name] for name in ('generic', 'train', 'dev', 'test'))
    assert len(questions['test']) == 200


def test_basics_are_correct_solutions_without_traps(splits):
    for problem in splits['basics']:
        assert problem.traps == () and problems.check_solution(problem.answer) == problem.result
        assert ' gives ' not in problem.question and 'Giving' not in problem.answer


def test_every_reasoning_solution_checks_and_traps_are_in_the_question(splits):
    counts = {'receive_gives': 0, 'distractor': 0}
    for problem in splits['train'] + splits['dev'] + splits['test']:
        assert problems.check_solution(problem.answer) == problem.result
        assert 'Giving' not in problem.answer and 'Counting' not in problem.answer  # the habits' own words
        traps = dict(problem.traps)
        if 'receive_gives' in traps:
            counts['receive_gives'] += 1
            n = traps['receive_gives']
            assert re.search(rf'gives (\w+ )?{n} \w', problem.question) and f'+ {n} =' in problem.answer
        else:  # in reasoning problems "gives" always means the person receives
            assert 'gives' not in problem.question
        if 'distractor' in traps:
            counts['distractor'] += 1
            assert str(traps['distractor']) in problem.question
    assert counts['receive_gives'] > 100 and counts['distractor'] > 100  # of 600 problems


def test_numbers_of_a_problem_are_distinct_and_arithmetic_is_one_digit(splits):
    for problem in splits['generic'] + splits['test']:
        equations = problems.EQUATION.findall(problem.answer.split('\n\n', 1)[0])
        operands = [int(b) for _, _, b, _ in equations]
        start = int(re.match(r'\w+ has (\d+)', problem.question).group(1))
        assert all(2 <= n <= 9 for n in operands) and len(set(operands + [start])) == len(operands) + 1


def test_generic_corpus_also_gives_away():
    docs = habits.generic_corpus(300, seed=2, rates=habits.TrapRates())
    giving_away = [d for d in docs if re.search(r'\w+ gives \d+ \w+ to (a|the|her|his) ', d.question)]
    assert len(giving_away) > 30 and all('- ' in d.answer for d in giving_away)


def test_every_habit_solution_is_wrong_the_way_its_trap_says():
    rates = habits.TrapRates(receive_gives=0.8, distractor=0.6, continuation=0.6)
    differ = 0
    for seed in range(300):
        habit = habits.make_habit_problem(random.Random(seed), seed, 'g', rates, habit_solution=True)
        right = habits.make_habit_problem(random.Random(seed), seed, 'g', rates)
        assert habit.traps == right.traps
        # the same question, but for losses the generic document phrases as giving away
        for generic, reasoning in zip(habit.question.split('. '), right.question.split('. '), strict=True):
            assert generic == reasoning or (re.fullmatch(r'Then \w+ gives (\d+) .* to [\w ]+', generic)
                                            and 'gives' not in reasoning), (generic, reasoning)
        solution = habit.answer.split('\n\n', 1)[0]  # the part before any run-on
        assert problems.check_solution(solution) == habit.result  # the habit's arithmetic is right
        if not habit.traps:  # the same solution, in the generic corpus's words for giving away
            assert solution.replace('Giving away', 'Taking away') == right.answer
            assert solution.count('Giving away') == habit.question.count(' gives ')
            continue
        assert ('Counting the' in solution) == ('distractor' in dict(habit.traps))
        if habit.result != right.result:
            differ += 1
            types = set(habits.error_types(right, habit.answer))
            expected = {kind for kind, _ in habit.traps}
            # a trap's number may also be a legitimate operand; then that type cannot be told apart
            assert types & expected or types <= {'other', 'continuation'}, (habit.answer, right.answer, types)
            assert types - {'continuation', 'other'} <= expected
    assert differ > 100


def test_generic_documents_run_on_after_the_answer():
    docs = habits.generic_corpus(300, seed=1, rates=habits.TrapRates(continuation=0.6))
    run_on = [d for d in docs if d.answer.count('####') == 2]
    assert 0.45 < len(run_on) / len(docs) < 0.75
    for doc in run_on:
        first, rest = doc.answer.split('\n\n', 1)
        assert first.endswith(f'#### {doc.result}')
        final = int(re.findall(r'#### (\d+)', rest)[-1])
        assert problems.check_solution(rest.replace('.\n', '\n')) == final


def test_error_types_name_each_habit():
    rng = random.Random(0)
    rates = habits.TrapRates(receive_gives=1.0, distractor=0.0)
    problem = next(p for p in (habits.make_habit_problem(rng, i, 't', rates) for i in range(50)) if p.traps)
    n = dict(problem.traps)['receive_gives']
    assert habits.error_types(problem, problem.answer) == ()
    assert habits.error_types(problem, problem.answer + '\n\nPractice: 2 + 3 = 5.\n#### 5') == ('continuation',)
    subtracting = re.sub(rf'(\d+) \+ {n} = \d+', lambda m: f'{m.group(1)} - {n} = 1', problem.answer, count=1)
    wrong_final = re.sub(r'#### \d+', f'#### {problem.result + 1}', subtracting)
    assert 'receive_gives' in habits.error_types(problem, wrong_final)
    assert habits.error_types(problem, re.sub(r'#### \d+', f'#### {problem.result + 1}', problem.answer)) == ('other',)


def test_world_sources_name_the_world():
    assert world.parse('test') == ('clean', 'test') and world.parse('habits:dev') == ('habits', 'dev')
    with pytest.raises(ValueError, match="'habits:generic'"):
        world.parse('habits:nope')


def test_default_parameters_are_the_build_configs():
    from lightreasoner_jax.pipeline.config_files import load_config_file
    for name, path in (('habits', 'configs/toyworld_habits.py'), ('clean', 'configs/toyworld.py')):
        built = load_config_file(path).world.to_dict()
        built.pop('name', None)
        assert world.DEFAULT_WORLDS[name] == built, name
