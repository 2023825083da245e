"""A model's final answer out of its text, and whether it matches a gold answer, in the order the Qwen2.5-Math
evaluation toolkit reads and grades them.

Extraction (`extract_answer`): the last \\boxed{...}; else what follows the last "the answer is" (or "final
answer is"); else the number after the last '####' (the GSM8K and toy-world format); else the last number.
Multiple-choice benchmarks read a letter instead (`choice_letter`): the one after "answer is" / "choice is",
else the last standalone A-E (\\boxed{C} and "(C)" included).

Comparison (`answers_match`): equal as normalised text; else, when both sides are numbers (thousands commas,
'%', '$', degrees and trailing units allowed), equal within a relative 1e-4, the gold also read as a
percentage (x100 or /100) as the toolkit does; else symbolically equal by math-verify (sympy via
latex2sympy2_extended): fractions, roots, powers, pi, intervals, sets, '\\pm', expressions, units in
\\text{}; an 'x =' prefix is dropped only when the gold has no '=' (y = 1/2 is not x = 1/2).

Why math-verify and not the toolkit's own grader: the toolkit is a script folder, not a package (its
grader needs its bundled latex2sympy fork and process pools); math-verify is the maintained library that
parses the same LaTeX. Its float rounding is stricter than the toolkit's 1e-4, so numbers are compared here.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from fractions import Fraction

CHOICE_LETTERS = 'ABCDE'
_NUMBER = re.compile(r'-?(?:\d[\d,]*)?\.?\d+')
_ANSWER_IS = re.compile(r'(?:the|final) answer is[:\s]*', re.IGNORECASE)
_TIMEOUT_S = 5
logging.getLogger('math_verify').setLevel(logging.ERROR)  # it warns on every call made without a timeout


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


def last_number(text: str) -> str | None:
    numbers = [m.group(0) for m in _NUMBER.finditer(text)]
    return numbers[-1] if numbers else None


def _after_answer_is(text: str) -> str | None:
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end():].split('\n', 1)[0].strip()
    math_span = re.match(r'\$([^$]+)\$', rest) or re.match(r'\\\((.+?)\\\)', rest)
    if math_span:
        return math_span.group(1).strip()
    rest = re.sub(r'\.(\s.*)?$', '', rest).strip()  # the sentence ends at its full stop
    return rest or None


def extract_answer(completion: str) -> str | None:
    """The final answer a completion gives (see the module docstring for the order of the rules)."""
    for found in (last_boxed(completion), _after_answer_is(completion)):
        if found is not None:
            return found
    if '####' in completion:
        match = _NUMBER.search(completion.rsplit('####', 1)[1])
        if match:
            return match.group(0)
    return last_number(completion)


def choice_letter(completion: str) -> str | None:
    """A multiple-choice answer's letter: after the last "answer is" / "choice is", else the last standalone
    A-E in the text (a boxed letter counts)."""
    boxed = last_boxed(completion)
    if boxed is not None and re.fullmatch(r'\s*\(?([A-E])\)?\s*', boxed):
        return re.fullmatch(r'\s*\(?([A-E])\)?\s*', boxed).group(1)
    pieces = re.split(r'(?:choice|answer) is', completion)
    if len(pieces) > 1:
        letters = re.findall(r'\b([A-E])\b', pieces[-1].split('\n', 1)[0])
        if letters:
            return letters[0]
    letters = re.findall(r'\b([A-E])\b', completion)
    return letters[-1] if letters else None


def _strip_wrappers(s: str) -> str:
    s = s.strip().replace('\\!', '').replace('\\left', '').replace('\\right', '').replace('\\$', '')
    s = s.replace('dfrac', 'frac').replace('tfrac', 'frac')
    return s.strip('$ ').rstrip('.').strip()


def parse_number(text: str | None) -> float | None:
    """'$1,234.50' -> 1234.5; '3/4', '\\frac{3}{4}' -> 0.75; '10\\%' -> 10; '48^\\circ', '5 \\text{cm}', '12 miles'
    -> the number; None when the text is not one number."""
    if text is None:
        return None
    s = _strip_wrappers(text)
    s = re.sub(r'\\(?:text|mbox|mathrm)\{[^{}]*\}$', '', s).strip()         # a trailing unit
    s = re.sub(r'\s+[a-zA-Z][a-zA-Z ]*$', '', s)                             # '12 miles'
    s = s.replace('^\\circ', '').replace('^{\\circ}', '').replace('\\%', '').replace('%', '')
    s = s.replace(',', '').replace(' ', '').replace('\\,', '')
    fraction = re.fullmatch(r'(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}', s) or re.fullmatch(r'(-?)(\d+)/(\d+)', s)
    try:
        if fraction:
            sign, numerator, denominator = fraction.groups()
            value = Fraction(int(numerator), int(denominator))
            return float(-value if sign else value)
        if re.fullmatch(r'-?\d*\.?\d+(?:e-?\d+)?', s):
            return float(s)
    except (ValueError, ZeroDivisionError):
        return None
    return None


def _numbers_match(prediction: float, gold: float) -> bool:
    # the toolkit also accepts the gold read as a percentage either way (10 for 0.1, 0.1 for 10)
    return any(math.isclose(prediction, g, rel_tol=1e-4, abs_tol=1e-12) for g in (gold, gold / 100, gold * 100))


def _math_verify(prediction: str, gold: str) -> bool:
    from math_verify import parse, verify  # imported late: sympy and antlr take a second to load

    # its timeouts use SIGALRM, which only the main thread may set
    timeout = _TIMEOUT_S if threading.current_thread() is threading.main_thread() else None
    gold_parsed = parse(f'${gold}$', parsing_timeout=timeout)
    predicted = parse(f'${prediction}$', parsing_timeout=timeout)
    return bool(gold_parsed and predicted and verify(gold_parsed, predicted, timeout_seconds=timeout))


def _plain(s: str) -> str:
    s = re.sub(r'\\(?:text|mbox|mathrm|textbf)\{([^{}]*)\}', r'\1', _strip_wrappers(s))
    return re.sub(r'\s+', '', s).lower()


def answers_match(prediction: str | None, gold: str) -> bool:
    """Whether an extracted answer equals the gold answer (see the module docstring)."""
    if prediction is None or not prediction.strip():
        return False
    if _plain(prediction) == _plain(gold):
        return True
    predicted_value, gold_value = parse_number(prediction), parse_number(gold)
    if predicted_value is not None and gold_value is not None:
        return _numbers_match(predicted_value, gold_value)
    return _math_verify(_strip_wrappers(prediction), _strip_wrappers(gold))
