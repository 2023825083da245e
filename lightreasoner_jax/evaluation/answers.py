"""Final answers out of model text, and whether two answers agree.

GSM8K: the number after the last '####', else the last number in the text; numbers compare by value,
so '$1,200', '1200.00' and '1200.' are the same answer. MATH: the last \\boxed{...} (nested braces
allowed); answers compare as normalised strings, or by value when both are numbers or fractions.
"""

from __future__ import annotations

import re
from fractions import Fraction

KINDS = ('gsm8k', 'math')

_NUMBER = re.compile(r'-?(?:\d[\d,]*)?\.?\d+')


def parse_number(text: str | None) -> Fraction | None:
    """'$1,234.50' -> 1234.5; '3/4' and '\\frac{3}{4}' -> 3/4; None when the text is not one number."""
    if text is None:
        return None
    s = text.strip().replace('$', '').replace(',', '').replace('\\!', '').replace(' ', '')
    s = s.rstrip('.').removesuffix('%')
    fraction = re.fullmatch(r'(-?)\\[dt]?frac\{(-?\d+)\}\{(-?\d+)\}', s) or re.fullmatch(r'(-?)(\d+)/(\d+)', s)
    try:
        if fraction:
            sign, numerator, denominator = fraction.groups()
            value = Fraction(int(numerator), int(denominator))
            return -value if sign else value
        if re.fullmatch(r'-?\d*\.?\d+', s):
            return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None
    return None


def last_number(text: str) -> str | None:
    numbers = [m.group(0) for m in _NUMBER.finditer(text)]
    return numbers[-1] if numbers else None


def gsm8k_reference(answer: str) -> str:
    """The reference answer of a GSM8K solution: what follows its last '####'."""
    if '####' not in answer:
        raise ValueError(f"a GSM8K answer must end in '#### <number>', got {answer[-80:]!r}")
    return answer.rsplit('####', 1)[1].strip()


def gsm8k_prediction(text: str) -> str | None:
    """The first number after the last '####' in a model's text, else the last number in it."""
    if '####' in text:
        after = text.rsplit('####', 1)[1]
        match = _NUMBER.search(after)
        if match:
            return match.group(0)
    return last_number(text)


def last_boxed(text: str) -> str | None:
    """The content of the last \\boxed{...} (or \\fbox{...}), nested braces included; '\\boxed 5' too."""
    start = max(text.rfind('\\boxed'), text.rfind('\\fbox'))
    if start < 0:
        return None
    command = '\\fbox' if text.startswith('\\fbox', start) else '\\boxed'
    rest = text[start + len(command):]
    if rest.startswith(' '):
        match = re.match(r' +([^\s$]+)', rest)
        return match.group(1) if match else None
    if not rest.startswith('{'):
        return None
    depth = 0
    for i, char in enumerate(rest):
        depth += {'{': 1, '}': -1}.get(char, 0)
        if depth == 0:
            return rest[1:i]
    return None  # unbalanced: the answer was cut off


def _strip_text_wrappers(s: str) -> str:
    for command in ('\\text', '\\textbf', '\\mathrm', '\\mbox'):
        s = re.sub(re.escape(command) + r'\{([^{}]*)\}', r'\1', s)
    return s


def normalize_math(answer: str) -> str:
    """A canonical string for a MATH answer (spacing, \\left/\\right, dfrac, degrees, units, 'x =')."""
    s = answer.strip()
    s = _strip_text_wrappers(s)
    for token in ('\\left', '\\right', '\\!', '\\,', '\\;', '\\:', '\\$', '$', '^\\circ', '^{\\circ}', '\\%', '%'):
        s = s.replace(token, '')
    s = s.replace('dfrac', 'frac').replace('tfrac', 'frac').replace(' ', '')
    s = re.sub(r'\\frac(\d)(\d)', r'\\frac{\1}{\2}', s)      # \frac12
    s = re.sub(r'\\frac\{([^{}]*)\}(\d)', r'\\frac{\1}{\2}', s)  # \frac{1}2
    s = re.sub(r'^[a-zA-Z]=', '', s)                           # 'x=5' -> '5'
    s = s.rstrip('.')
    if s.startswith('.'):
        s = '0' + s
    return s


def math_equal(prediction: str | None, reference: str) -> bool:
    if prediction is None:
        return False
    p, r = normalize_math(prediction), normalize_math(reference)
    if p == r:
        return True
    pv, rv = parse_number(p), parse_number(r)
    return pv is not None and rv is not None and pv == rv


def reference_answer(kind: str, answer: str) -> str:
    """The reference's final answer: GSM8K's '####' field; MATH's last \\boxed{} (or the whole answer
    field when it holds no box, as MATH-500's 'answer' column)."""
    if kind == 'gsm8k':
        return gsm8k_reference(answer)
    if kind == 'math':
        boxed = last_boxed(answer)
        return boxed if boxed is not None else answer.strip()
    raise ValueError(f'eval kind must be one of {KINDS}, got {kind!r}')


def predicted_answer(kind: str, text: str) -> str | None:
    if kind == 'gsm8k':
        return gsm8k_prediction(text)
    if kind == 'math':
        return last_boxed(text)
    raise ValueError(f'eval kind must be one of {KINDS}, got {kind!r}')


def is_correct(kind: str, prediction: str | None, reference: str) -> bool:
    if kind == 'gsm8k':
        value = parse_number(prediction)
        return value is not None and value == parse_number(reference)
    return math_equal(prediction, reference)


def grade(benchmark: str, completion: str, row: dict) -> bool:
    """Whether `completion` answers the data `row` (toolkit field names: GSM8K's 'answer'; MATH's
    'answer', else the last \\boxed{} of its 'solution') correctly."""
    if benchmark == 'gsm8k':
        reference = reference_answer('gsm8k', row['answer'])
    elif benchmark == 'math':
        reference = row['answer'] if row.get('answer') is not None else reference_answer('math', row['solution'])
    else:
        raise ValueError(f'benchmark must be one of {KINDS}, got {benchmark!r}')
    return is_correct(benchmark, predicted_answer(benchmark, completion), reference)
