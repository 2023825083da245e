"""Answer extraction and comparison, on real GSM8K solutions and on the formats models write."""

import json
import os

import pytest

from lightreasoner_jax.evaluation import answers

GSM8K_TEST = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'gsm8k', 'test.jsonl')


def gsm8k_rows(limit=None):
    if not os.path.exists(GSM8K_TEST):
        pytest.skip('../shared/data/gsm8k is not beside this checkout')
    with open(GSM8K_TEST) as f:
        rows = [json.loads(line) for line in f]
    return rows[:limit] if limit else rows


def test_every_gsm8k_reference_is_a_number_and_grades_itself():
    rows = gsm8k_rows()
    assert len(rows) == 1319
    for row in rows:
        reference = answers.gsm8k_reference(row['answer'])
        assert answers.parse_number(reference) is not None, reference
        # a model that writes the reference solution verbatim is right
        assert answers.is_correct('gsm8k', answers.gsm8k_prediction(row['answer']), reference)


def test_last_number_fallback_on_real_solutions():
    """Without the '#### N' line, the last number of the reasoning is usually the answer (not always:
    some solutions end in a unit conversion); the fallback must find it in the large majority."""
    rows = gsm8k_rows()
    hits = 0
    for row in rows:
        body = row['answer'].rsplit('####', 1)[0]
        hits += answers.is_correct('gsm8k', answers.gsm8k_prediction(body), answers.gsm8k_reference(row['answer']))
    assert 0.9 < hits / len(rows) < 1.0


def test_gsm8k_wrong_answers_are_wrong():
    for row in gsm8k_rows(200):
        reference = answers.gsm8k_reference(row['answer'])
        off_by_one = str(answers.parse_number(reference) + 1)
        assert not answers.is_correct('gsm8k', answers.gsm8k_prediction(f'#### {off_by_one}'), reference)


@pytest.mark.parametrize('text,reference,expected', [
    ('So she pays $1,200.', '1200', True),
    ('#### 1200.00', '1200', True),
    ('The answer is 18. #### 18', '18', True),
    ('#### $18', '18', True),
    ('#### 18.5', '18', False),
    ('She has -3 left', '-3', True),
    ('He ran 5 miles, then 7 miles. #### 12 miles', '12', True),
    ('#### 12\nand then 99', '12', True),  # the number after the last '####', not the last number
    ('no digits at all', '7', False),
    ('0.5 of them', '.5', True),
])
def test_gsm8k_formats(text, reference, expected):
    assert answers.is_correct('gsm8k', answers.gsm8k_prediction(text), reference) is expected


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
    assert answers.last_boxed(text) == boxed


@pytest.mark.parametrize('prediction,reference,expected', [
    ('\\frac{1}{2}', '\\dfrac{1}{2}', True),
    ('0.5', '\\frac12', True),
    ('1/2', '\\frac{1}{2}', True),
    ('x = 5', '5', True),
    ('10\\%', '10', True),
    ('90^\\circ', '90', True),
    ('\\text{(B)}', '(B)', True),
    ('\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})', True),
    ('3', '4', False),
    ('\\frac{1}{3}', '0.33', False),
    (None, '4', False),
])
def test_math_equal(prediction, reference, expected):
    assert answers.math_equal(prediction, reference) is expected


def test_math_reference_from_solution_or_answer_column():
    assert answers.reference_answer('math', 'We get $x = 2$, so the answer is $\\boxed{2}$.') == '2'
    assert answers.reference_answer('math', ' \\frac{3}{5} ') == '\\frac{3}{5}'
    with pytest.raises(ValueError, match='eval kind'):
        answers.reference_answer('mmlu', 'x')
    with pytest.raises(ValueError, match="must end in '#### <number>'"):
        answers.gsm8k_reference('no final answer')
