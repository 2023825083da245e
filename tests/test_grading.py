"""`grade(benchmark, completion, row)` on hand-made rows in each benchmark's real schema (the Qwen2.5-Math
toolkit's data files), with the toolkit's verdicts on tricky answer pairs; answer extraction on the formats
models write; GSM8K's real solutions grading themselves."""

import json
import os

import pytest

from lightreasoner_jax.evaluation import grade
from lightreasoner_jax.evaluation import grading as g

GSM8K_TEST = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'gsm8k', 'test.jsonl')


def gsm8k(answer):
    return {'question': 'q', 'answer': f'Some work.\n#### {answer}', 'idx': 0}


def math_row(answer):
    return {'problem': 'p', 'level': 'Level 3', 'type': 'Algebra', 'solution': f'So it is $\\boxed{{{answer}}}$.',
            'idx': 0}


def svamp(answer):
    return {'Answer': answer, 'Question': 'How many?', 'Equation': '( 1.0 + 2.0 )', 'Body': 'Some body',
            'Type': 'Addition', 'ID': 'chal-1', 'idx': 0}


def asdiv(answer):
    return {'body': 'b', 'question': 'q', 'solution_type': 'Addition', 'answer': answer, 'formula': '', 'idx': 0}


def minerva(answer, unit=''):
    return {'problem': 'p', 'solution': f'Thus $s=\\boxed{{{answer}}}{unit}$', 'type': 'Astronomy', 'idx': 0}


def olympiad(answer):
    return {'id': 1, 'subfield': 'Algebra', 'context': None, 'question': 'q', 'solution': ['s'],
            'final_answer': [answer], 'is_multiple_answer': False, 'unit': None, 'answer_type': 'Numerical',
            'error': None}


def mmlu(index):
    return {'question': 'q', 'type': 'college_physics', 'choices': ['w', 'x', 'y', 'z'], 'answer': index}


PAIRS = [
    # GSM8K: the paper's prompt asks for \boxed{}; a trailing remark's number is not the answer
    ('gsm8k', '\\boxed{18}. (Checked in 2 steps.)', gsm8k(18), True),
    ('gsm8k', 'She pays $1,200 in total.', gsm8k('1,200'), True),
    ('gsm8k', '#### 1200.00', gsm8k(1200), True),
    ('gsm8k', 'The answer is 18.', gsm8k(18), True),
    ('gsm8k', 'The answer is $18. Then she buys 3 more.', gsm8k(18), True),
    ('gsm8k', '#### 12\nand then 99', gsm8k(12), True),
    ('gsm8k', '#### 18.5', gsm8k(18), False),
    ('gsm8k', 'no digits at all', gsm8k(7), False),
    ('gsm8k', '\\boxed{-3}', gsm8k(-3), True),
    ('gsm8k', 'so \\boxed{\\$ 70}', gsm8k(70), True),
    ('gsm8k', 'The final answer is 40%', gsm8k(40), True),
    ('gsm8k', '\\boxed{17}', gsm8k(18), False),
    # MATH: what the hand-written grader got wrong
    ('math', '\\boxed{5 \\text{ cm}}', math_row('5'), True),
    ('math', '\\boxed{1000}', math_row('10^{3}'), True),
    ('math', '\\boxed{\\sqrt2}', math_row('\\sqrt{2}'), True),
    ('math', '\\boxed{\\frac{\\sqrt{2}}{2}}', math_row('\\sqrt{2}/2'), True),
    ('math', '\\boxed{\\frac{1}{\\sqrt{2}}}', math_row('\\frac{\\sqrt{2}}{2}'), True),
    ('math', '\\boxed{\\pi/2}', math_row('\\frac{\\pi}{2}'), True),
    ('math', '\\boxed{(1, 2]}', math_row('(1,2]'), True),
    ('math', '\\boxed{[1, 2]}', math_row('(1,2]'), False),
    ('math', '\\boxed{\\{3, 2, 1\\}}', math_row('\\{1,2,3\\}'), True),
    ('math', '\\boxed{(x+1)^2}', math_row('x^2+2x+1'), True),
    ('math', '\\boxed{\\pm 2}', math_row('2,-2'), True),
    ('math', '\\boxed{x = \\frac12}', math_row('\\frac{1}{2}'), True),
    ('math', '\\boxed{x=\\frac12}', math_row('y=\\frac{1}{2}'), False),
    ('math', '\\boxed{\\dfrac{1}{2}}', math_row('\\frac12'), True),
    ('math', '\\boxed{0.5}', math_row('\\frac{1}{2}'), True),
    ('math', '\\boxed{90^\\circ}', math_row('90'), True),
    ('math', '\\boxed{10\\%}', math_row('10'), True),
    ('math', '\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}', math_row('\\left(3,\\frac{\\pi}{2}\\right)'), True),
    ('math', '\\boxed{\\text{(B)}}', math_row('\\text{(B)}'), True),
    ('math', '\\boxed{\\frac{1}{3}}', math_row('0.33'), False),
    ('math', '\\boxed{3}', math_row('4'), False),
    ('math', 'first \\boxed{1} then \\boxed{\\frac34}', math_row('\\frac{3}{4}'), True),
    ('math', 'the answer is cut off \\boxed{\\frac{3}{', math_row('\\frac{3}{4}'), False),
    # SVAMP: a float gold
    ('svamp', '\\boxed{145}', svamp(145.0), True),
    ('svamp', 'The answer is 145.0', svamp(145.0), True),
    ('svamp', '\\boxed{2.5}', svamp(2.5), True),
    ('svamp', '\\boxed{250}', svamp(2.5), True),   # the toolkit's percentage leniency (gold x 100 or / 100)
    ('svamp', '\\boxed{25}', svamp(2.5), False),
    ('svamp', '\\boxed{146}', svamp(145.0), False),
    ('svamp', '\\boxed{144.99}', svamp(145.0), True),  # relative 1e-4
    # ASDiv: units in parentheses on the gold; text golds
    ('asdiv', '\\boxed{7}', asdiv('7 (apples)'), True),
    ('asdiv', '\\boxed{7 \\text{ apples}}', asdiv('7 (apples)'), True),
    ('asdiv', '\\boxed{8}', asdiv('7 (apples)'), False),
    ('asdiv', '\\boxed{\\text{Mrs. Hilt}}', asdiv('Mrs. Hilt'), True),
    ('asdiv', '\\boxed{Yes}', asdiv('Yes'), True),
    ('asdiv', '\\boxed{No}', asdiv('Yes'), False),
    ('asdiv', '\\boxed{\\frac{3}{4}}', asdiv('3/4 (cup)'), True),
    # Minerva: units after the box in the gold's solution are not part of it
    ('minerva_math', '\\boxed{1.6 \\text{ cm}}', minerva('1.6', ' \\mathrm{~cm}'), True),
    ('minerva_math', '\\boxed{1.6}', minerva('1.6'), True),
    ('minerva_math', '\\boxed{1.62}', minerva('1.6'), False),
    ('minerva_math', '\\boxed{4.5\\times10^{33}}', minerva('4.5 \\times 10^{33}'), True),
    ('minerva_math', '\\boxed{7200}', minerva('7.2 \\times 10^{3}'), True),
    # OlympiadBench: final_answer is a list of $-wrapped LaTeX
    ('olympiadbench', '\\boxed{\\frac{1}{2(n+1)}}', olympiad('$\\frac{1}{2 n+2}$'), True),
    ('olympiadbench', '\\boxed{2}', olympiad('$2$'), True),
    ('olympiadbench', '\\boxed{k=1}', olympiad('$k=1$'), True),
    ('olympiadbench', '\\boxed{3}', olympiad('$2$'), False),
    ('olympiadbench', '\\boxed{2^{N-2}+1}', olympiad('$M=2^{N-2}+1$'), True),
    ('olympiadbench', '\\boxed{(1, 2)}', olympiad('$(1,2)$'), True),
    # MMLU-STEM: a choice index gold, letters read from "answer is", a box, or the last letter
    ('mmlu_stem', 'The answer is (C).', mmlu(2), True),
    ('mmlu_stem', 'So the final answer is \\boxed{C}', mmlu(2), True),
    ('mmlu_stem', 'Option D is wrong since ... The answer is C', mmlu(2), True),
    ('mmlu_stem', 'A is tempting, but the answer is (B).', mmlu(2), False),
    ('mmlu_stem', 'It must be D', mmlu(3), True),
    ('mmlu_stem', 'The answer is (A)', mmlu(0), True),
    ('mmlu_stem', 'no letter here', mmlu(0), False),
]


@pytest.mark.parametrize('benchmark,completion,row,expected', PAIRS,
                         ids=[f'{b}-{i}' for i, (b, *_) in enumerate(PAIRS)])
def test_grade_gives_the_toolkits_verdict(benchmark, completion, row, expected):
    assert grade(benchmark, completion, row) is expected


def test_there_are_sixty_tricky_pairs_over_all_seven_benchmarks():
    assert len(PAIRS) >= 60
    assert {b for b, *_ in PAIRS} == {'gsm8k', 'math', 'svamp', 'asdiv', 'minerva_math', 'olympiadbench', 'mmlu_stem'}


@pytest.mark.parametrize('text,boxed', [
    ('so \\boxed{42}.', '42'),
    ('first \\boxed{1} then \\boxed{\\frac{3}{4}}', '\\frac{3}{4}'),
    ('\\boxed{\\left(3, \\frac{\\pi}{2}\\right)}', '\\left(3, \\frac{\\pi}{2}\\right)'),
    ('\\fbox{7}', '7'),
    ('\\boxed 5$', '5'),
    ('\\boxed{unclosed {', None),
    ('nothing boxed', None),
])
def test_last_boxed(text, boxed):
    assert g.last_boxed(text) == boxed


def test_extraction_order_boxed_then_answer_is_then_hashes_then_last_number():
    assert g.extract_answer('The answer is 3. \\boxed{4}') == '4'
    assert g.extract_answer('#### 5\nSo the answer is 6.') == '6'
    assert g.extract_answer('x = 2, y = 7\n#### 9\nthen 11') == '9'
    assert g.extract_answer('first 2, then 7') == '7'
    assert g.extract_answer('nothing') is None


def gsm8k_rows():
    if not os.path.exists(GSM8K_TEST):
        pytest.skip('../shared/data/gsm8k is not beside this checkout')
    with open(GSM8K_TEST) as f:
        return [json.loads(line) for line in f]


def test_every_gsm8k_solution_grades_itself_and_off_by_one_does_not():
    rows = gsm8k_rows()
    assert len(rows) == 1319
    for row in rows:
        assert grade('gsm8k', row['answer'], row), row['answer'][-40:]
    for row in rows[:200]:
        gold = g.parse_number(row['answer'].rsplit('####', 1)[1])
        assert not grade('gsm8k', f'#### {gold + max(1, abs(gold) / 100):g}', row)
    # the toolkit's relative tolerance (1e-4) accepts 70001 for 70000, as it does
    assert grade('gsm8k', '#### 70001', gsm8k(70000)) and not grade('gsm8k', '#### 70008', gsm8k(70000))
