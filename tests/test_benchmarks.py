"""Benchmarks load from the Qwen2.5-Math toolkit's data layout (<data_dir>/<name>/test.jsonl, hand-made rows in
each file's real schema): the question is built as the toolkit builds it, the gold answer parses, and a row
that cannot be read fails at load time naming the benchmark, file, row and field."""

import json

import pytest

from lightreasoner_jax.data import DataError
from lightreasoner_jax.evaluation import benchmarks as b

ROWS = {
    'gsm8k': [{'question': 'Janet has 16 eggs. She eats 3. How many are left?',
               'answer': 'She has 16 - 3 = <<16-3=13>>13 left.\n#### 13', 'idx': 0}],
    'math': [{'problem': 'What is $\\frac{1}{2}+\\frac{1}{4}$?', 'level': 'Level 1', 'type': 'Prealgebra',
              'solution': 'We get $\\boxed{\\frac{3}{4}}$.', 'idx': 0}],
    'svamp': [{'Answer': 145.0, 'Question': 'How big is each group of bananas?', 'Equation': '( 290.0 / 2.0 )',
               'Body': 'There are 87 oranges and 290 bananas in Philip\'s collection. If the bananas are organized '
                       'into 2 groups and oranges are organized into 93 groups', 'Type': 'Common-Division',
               'ID': 'chal-777', 'idx': 0}],
    'asdiv': [{'body': 'Seven red apples and two green apples are in the basket.',
               'question': 'How many apples are in the basket?', 'solution_type': 'Addition',
               'answer': '9 (apples)', 'formula': '7+2=9', 'idx': 0},
              {'body': 'Tom has 3 apples.', 'question': 'Does Tom have more than 2 apples?',
               'solution_type': 'Comparison', 'answer': 'Yes', 'formula': '', 'idx': 1}],
    'minerva_math': [{'problem': 'Each of the two telescopes has a diameter of $6.5 \\mathrm{~m}$. Find s.',
                      'solution': 's=\\boxed{1.6} \\mathrm{~cm}', 'type': 'Astronomy', 'idx': 0}],
    'olympiadbench': [{'id': 1606, 'subfield': 'Combinatorics', 'context': None, 'question': 'Find the least n.',
                       'solution': ['...'], 'final_answer': ['$\\frac{1}{2 n+2}$'], 'is_multiple_answer': False,
                       'unit': None, 'answer_type': 'Expression', 'error': None}],
    'mmlu_stem': [{'question': 'Which is a prime number?', 'type': 'elementary_mathematics',
                   'choices': ['4', ' 6', '7', '9'], 'answer': 2}],
}
QUESTIONS = {
    'gsm8k': 'Janet has 16 eggs. She eats 3. How many are left?',
    'math': 'What is $\\frac{1}{2}+\\frac{1}{4}$?',
    'svamp': 'There are 87 oranges and 290 bananas in Philip\'s collection. If the bananas are organized into 2 '
             'groups and oranges are organized into 93 groups. How big is each group of bananas?',
    'asdiv': 'Seven red apples and two green apples are in the basket. How many apples are in the basket?',
    'minerva_math': 'Each of the two telescopes has a diameter of $6.5 \\mathrm{~m}$. Find s.',
    'olympiadbench': 'Find the least n.',
    'mmlu_stem': 'Which is a prime number?\nAnswer Choices: (A) 4 (B) 6 (C) 7 (D) 9',
}
GOLDS = {'gsm8k': '13', 'math': '\\frac{3}{4}', 'svamp': '145', 'asdiv': '9', 'minerva_math': '1.6',
         'olympiadbench': '\\frac{1}{2 n+2}', 'mmlu_stem': 'C'}


def write_toolkit_dir(root, rows=ROWS):
    for name, name_rows in rows.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / 'test.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in name_rows))
    return root


@pytest.mark.parametrize('name', sorted(ROWS))
def test_every_benchmark_loads_builds_its_question_and_parses_its_gold(tmp_path, name):
    items = b.load(b.preset(name, str(write_toolkit_dir(tmp_path))))
    assert items[0].question == QUESTIONS[name]
    assert items[0].gold == GOLDS[name]
    assert items[0].id == f'{name}/0'
    if name == 'mmlu_stem':  # 5-shot: five demonstrations, then the question, in one user turn
        assert items[0].prompt.count('Answer Choices:') == 6 and items[0].prompt.endswith(QUESTIONS[name])
        assert items[0].prompt.count('The answer is (') == 5
    else:
        assert items[0].prompt == items[0].question


def test_a_yes_no_gold_marks_the_question_as_the_toolkit_does(tmp_path):
    items = b.load(b.preset('asdiv', str(write_toolkit_dir(tmp_path))))
    assert items[1].question.endswith('more than 2 apples? (Yes or No)') and items[1].gold == 'Yes'


def test_the_paper_suite_is_the_seven_benchmarks_in_the_papers_order():
    assert b.expand(('paper',)) == ('gsm8k', 'math', 'svamp', 'asdiv', 'minerva_math', 'olympiadbench', 'mmlu_stem')
    assert b.expand(('svamp', 'paper', 'svamp'))[0] == 'svamp' and len(b.expand(('svamp', 'paper'))) == 7


@pytest.mark.parametrize('name,bad,message', [
    ('svamp', {'Answer': 'many'}, "field 'Answer' is not a number: 'many'"),
    ('svamp', {'Body': None}, "field 'Body' must be non-empty text"),
    ('olympiadbench', {'final_answer': '$2$'}, "field 'final_answer' must be a non-empty list of strings"),
    ('mmlu_stem', {'answer': 7}, "field 'answer' must be an index into 'choices'"),
    ('mmlu_stem', {'choices': 'ABCD'}, "field 'choices' must be a non-empty list of options"),
    ('math', {'solution': 'no box here'}, "field 'solution' has no \\boxed{} answer"),
    ('gsm8k', {'answer': '13'}, "field 'answer' must end in '#### <answer>'"),
    ('asdiv', {'answer': None}, "field 'answer' is missing"),
])
def test_an_unreadable_gold_fails_at_load_naming_file_row_and_field(tmp_path, name, bad, message):
    rows = {name: [ROWS[name][0], {**ROWS[name][0], **bad}]}
    root = write_toolkit_dir(tmp_path, rows)
    with pytest.raises(DataError) as err:
        b.load(b.preset(name, str(root)))
    assert f"benchmark '{name}', {root / name / 'test.jsonl'}:2: " in str(err.value)
    assert message in str(err.value)


def test_a_custom_benchmark_and_row_exclusion(tmp_path):
    path = tmp_path / 'mine.jsonl'
    path.write_text(''.join(json.dumps(r) + '\n' for r in [
        {'q': 'one plus one?', 'a': '2', 'topic': 'keep', 'key': 'x1'},
        {'q': 'skip me', 'a': '3', 'topic': 'anatomy', 'key': 'x2'},
        {'q': 'two plus two?', 'a': '4', 'topic': 'keep', 'key': 'x3'}]))
    spec = b.Benchmark('mine', str(path), question_field='q', gold_field='a', gold_kind='number', id_field='key',
                       exclude=(('topic', 'anatomy'),))
    items = b.load(spec)
    assert [(i.id, i.question, i.gold) for i in items] == [('mine/x1', 'one plus one?', '2'),
                                                           ('mine/x3', 'two plus two?', '4')]
    assert b.grade(spec, 'so \\boxed{4}', {'q': 'two plus two?', 'a': '4'})
    b.register(spec)  # then known by name, as the presets are
    assert b.grade('mine', 'so \\boxed{4}', {'q': 'two plus two?', 'a': '4'})
    assert not b.grade('mine', 'so \\boxed{5}', {'q': 'two plus two?', 'a': '4'})
    with pytest.raises(ValueError, match='is a preset'):
        b.register(b.Benchmark('gsm8k', 'x.jsonl'))
    with pytest.raises(ValueError, match="gold_kind must be one of"):
        b.Benchmark('bad', 'x.jsonl', gold_kind='float')
