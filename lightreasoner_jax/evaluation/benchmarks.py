"""Benchmarks: where each one's rows come from, how a row becomes a question and a gold answer, as the
Qwen2.5-Math evaluation toolkit (QwenLM/Qwen2.5-Math, evaluation/parser.py: parse_question,
parse_ground_truth) builds them, and the one public grader, `grade(benchmark, completion, row)`.

Presets carry the toolkit's names. Their rows come from the hub ids below or, with `data_dir`, from the
toolkit's own files `<data_dir>/<name>/test.jsonl` (how the paper's numbers were made); both use the same
field names. Every gold answer is read when the rows are loaded, so a wrong field or type fails before any
generation, naming the file, the row and the field.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.evaluation import grading
from lightreasoner_jax.evaluation.demos import DEMOS

QUESTION_STYLES = ('field', 'svamp', 'asdiv', 'choices')
GOLD_KINDS = ('hash', 'number', 'boxed', 'latex', 'first_of_list', 'choice_index', 'text_units')


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    source: str                   # hub id, local JSON Lines/Parquet file or glob, or 'toyworld:...'
    split: str = 'test'           # hub split ('train+test' concatenates)
    config_name: str = ''         # hub config
    question_field: str = 'question'
    question_style: str = 'field'  # 'field' | 'svamp' (Body. Question) | 'asdiv' (body question) | 'choices'
    body_field: str = ''          # svamp/asdiv: the text before the question
    choices_field: str = ''       # choices: the options' list
    gold_field: str = 'answer'
    gold_kind: str = 'hash'       # how the gold answer is read from gold_field (GOLD_KINDS, see gold_answer)
    solution_field: str = ''      # a worked gold solution (text, or a list whose first item is one), for the
                                  # perplexity drift check; '' = none
    id_field: str = ''            # '' = the row's position (the toolkit's idx)
    exclude: tuple = ()           # (field, value) pairs of rows left out (TIGER-Lab/MMLU-STEM's anatomy)
    shots: int = 0                # demonstrations before the question, in the user turn (DEMOS[name])
    limit: int = 0                # 0 = every row

    def __post_init__(self):
        if self.question_style not in QUESTION_STYLES:
            raise ValueError(f'benchmark {self.name!r}: question_style must be one of {QUESTION_STYLES}, '
                             f'got {self.question_style!r}')
        if self.gold_kind not in GOLD_KINDS:
            raise ValueError(f'benchmark {self.name!r}: gold_kind must be one of {GOLD_KINDS}, got {self.gold_kind!r}')
        if self.shots > len(DEMOS.get(self.name, ())):
            raise ValueError(f'benchmark {self.name!r}: {self.shots} shots asked, {len(DEMOS.get(self.name, ()))} '
                             'demonstrations exist')

    @property
    def is_choice(self) -> bool:
        return self.gold_kind == 'choice_index'


# Hub ids and fields: openai/gsm8k; EleutherAI/hendrycks_math (the 7 subjects, 5,000 test rows);
# ChilleD/SVAMP (train+test = the toolkit's 1,000 'chal-*' rows); EleutherAI/asdiv (validation);
# math-ai/minervamath (272 rows); Hothan/OlympiadBench OE_TO_maths_en_COMP (675 rows);
# TIGER-Lab/MMLU-STEM without anatomy (the toolkit's 18 subjects, 3,018 rows).
MATH_SUBJECTS = ('algebra+counting_and_probability+geometry+intermediate_algebra+number_theory+prealgebra'
                 '+precalculus')
PRESETS = {
    'gsm8k': Benchmark('gsm8k', 'openai/gsm8k', config_name='main', solution_field='answer'),
    'math': Benchmark('math', 'EleutherAI/hendrycks_math', config_name=MATH_SUBJECTS, question_field='problem',
                      gold_field='solution', gold_kind='boxed', solution_field='solution'),
    'svamp': Benchmark('svamp', 'ChilleD/SVAMP', split='train+test', question_field='Question',
                       question_style='svamp', body_field='Body', gold_field='Answer', gold_kind='number'),
    'asdiv': Benchmark('asdiv', 'EleutherAI/asdiv', split='validation', question_style='asdiv', body_field='body',
                       gold_kind='text_units'),
    'minerva_math': Benchmark('minerva_math', 'math-ai/minervamath', question_field='problem',
                              gold_field='solution', gold_kind='boxed', solution_field='solution'),
    'olympiadbench': Benchmark('olympiadbench', 'Hothan/OlympiadBench', split='train',
                               config_name='OE_TO_maths_en_COMP', gold_field='final_answer',
                               gold_kind='first_of_list', solution_field='solution'),
    'mmlu_stem': Benchmark('mmlu_stem', 'TIGER-Lab/MMLU-STEM', question_style='choices', choices_field='choices',
                           gold_kind='choice_index', exclude=(('subject', 'anatomy'),), shots=5),
}
SUITES = {'paper': ('gsm8k', 'math', 'svamp', 'asdiv', 'minerva_math', 'olympiadbench', 'mmlu_stem')}


_REGISTERED: dict[str, Benchmark] = {}


def register(spec: Benchmark) -> Benchmark:
    """Makes a user-defined benchmark known by name (to `grade` and `preset`); a preset's name is refused."""
    if spec.name in PRESETS:
        raise ValueError(f'{spec.name!r} is a preset; give your benchmark another name')
    _REGISTERED[spec.name] = spec
    return spec


def preset(name: str, data_dir: str = '', **overrides) -> Benchmark:
    """The preset (or registered benchmark) `name`, reading the toolkit's `<data_dir>/<name>/test.jsonl` when
    data_dir is given."""
    if name in _REGISTERED:
        return dataclasses.replace(_REGISTERED[name], **overrides)
    if name not in PRESETS:
        raise ValueError(f'unknown benchmark {name!r}; presets: {sorted(PRESETS)} (or register() your own)')
    spec = PRESETS[name]
    if data_dir:
        spec = dataclasses.replace(spec, source=f'{data_dir.rstrip("/")}/{name}/test.jsonl', split='test',
                                   config_name='', exclude=())
    return dataclasses.replace(spec, **overrides)


def expand(names) -> tuple[str, ...]:
    """Benchmark names with suites ('paper') expanded, in order, without repeats."""
    out: list[str] = []
    for name in names:
        for member in SUITES.get(name, (name,)):
            if member not in out:
                out.append(member)
    return tuple(out)


class GoldError(ValueError):
    """A row's gold answer cannot be read as its benchmark says."""


def gold_answer(spec: Benchmark, row: dict) -> str:
    """The gold final answer of `row`, read as spec.gold_kind says:
    hash: after the last '####' (GSM8K); number: a number or numeric string (SVAMP's float 145.0 -> '145');
    boxed: the last \\boxed{} of a solution (MATH, Minerva); latex: the field as it is; first_of_list: the
    first item of a list, '$' stripped (OlympiadBench's final_answer); choice_index: 0-3 -> 'A'-'D' (MMLU);
    text_units: the text without parenthesised units (ASDiv's '9 (apples)' -> '9')."""
    field, kind = spec.gold_field, spec.gold_kind
    if field not in row or row[field] is None:
        raise GoldError(f'field {field!r} is missing (fields present: {sorted(row)})')
    value = row[field]
    if kind == 'choice_index':
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(row.get(spec.choices_field) or ()):
            raise GoldError(f'field {field!r} must be an index into {spec.choices_field!r}, got {value!r}')
        return grading.CHOICE_LETTERS[value]
    if kind == 'number':
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else grading.parse_number(
            value if isinstance(value, str) else None)
        if number is None:
            raise GoldError(f'field {field!r} is not a number: {value!r}')
        return f'{number:g}' if float(number) != int(number) else str(int(number))
    if kind == 'first_of_list':
        if not isinstance(value, list) or not value or not isinstance(value[0], str):
            raise GoldError(f'field {field!r} must be a non-empty list of strings, got {value!r}')
        value = value[0].strip().strip('$').strip()
    elif not isinstance(value, str):
        raise GoldError(f'field {field!r} is a {type(value).__name__}, not a string')
    if kind == 'hash':
        if '####' not in value:
            raise GoldError(f"field {field!r} must end in '#### <answer>', got {value[-60:]!r}")
        value = value.rsplit('####', 1)[1].strip()
    elif kind == 'boxed':
        boxed = grading.last_boxed(value)
        if boxed is None:
            raise GoldError(f'field {field!r} has no \\boxed{{}} answer')
        value = boxed
    elif kind == 'text_units':
        value = ' '.join(_without_parentheses(value).split())
    if not value.strip():
        raise GoldError(f'field {field!r} gives an empty answer')
    return value.strip()


def _without_parentheses(text: str) -> str:
    return re.sub(r'\(.*?\)', '', text)


def _text(row: dict, field: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value.strip():
        raise GoldError(f'field {field!r} must be non-empty text, got {value!r}')
    return value.strip()


def question_text(spec: Benchmark, row: dict, gold: str) -> str:
    """The question as the toolkit writes it: SVAMP 'Body. Question'; ASDiv 'body question'; multiple choice
    'question\\nAnswer Choices: (A) a (B) b ...'; then ' (True or False)' / ' (Yes or No)' after a question
    whose gold answer is one of those."""
    question = _text(row, spec.question_field)
    if spec.question_style in ('svamp', 'asdiv'):
        body = _text(row, spec.body_field)
        if spec.question_style == 'svamp' and not body.endswith('.'):
            body += '.'
        question = f'{body} {question}'
    elif spec.question_style == 'choices':
        choices = row.get(spec.choices_field)
        if not isinstance(choices, list) or not choices:
            raise GoldError(f'field {spec.choices_field!r} must be a non-empty list of options, got {choices!r}')
        options = ' '.join(f'({letter}) {str(option).strip()}' for letter, option in zip(grading.CHOICE_LETTERS, choices))
        question = f'{question}\nAnswer Choices: {options}'
    if gold.lower() in ('true', 'false'):
        question += ' (True or False)'
    elif gold.lower() in ('yes', 'no'):
        question += ' (Yes or No)'
    return question.strip()


def with_demos(spec: Benchmark, question: str) -> str:
    """The user turn: the benchmark's first `shots` demonstrations (question, then worked answer), then the
    question, blank-line separated, as the toolkit's qwen25-math-cot prompt puts them."""
    demos = DEMOS.get(spec.name, ())[:spec.shots]
    return '\n\n'.join([f'{q}\n{a}' for q, a in demos] + [question])


@dataclasses.dataclass(frozen=True)
class Item:
    """One benchmark row, ready to ask: the prompt's user text and the gold answer it is graded against."""
    id: str                       # '<benchmark>/<row id>'
    benchmark: str
    question: str                 # as the toolkit builds it, without demonstrations
    prompt: str                   # the user turn (demonstrations + question)
    gold: str
    solution: str | None = None   # the worked gold solution, where the benchmark has one


def _rows(spec: Benchmark) -> Iterator[tuple[str, dict]]:
    configs = spec.config_name.split('+') if spec.config_name else [None]
    for config_name in configs:
        for where, row in data_lib.read_rows(spec.source, config_name, spec.split):
            if not isinstance(row, dict):
                raise data_lib.DataError(row.message)
            yield where, row


def load(spec: Benchmark) -> list[Item]:
    """Every row of the benchmark (its first spec.limit), each question built and gold answer read; a row that
    cannot be read raises DataError naming the benchmark, the row and the field."""
    items, seen = [], set()
    excluded = {(field, value) for field, value in spec.exclude}
    position = 0
    for where, row in _rows(spec):
        if any(row.get(field) == value for field, value in excluded):
            continue
        try:
            gold = gold_answer(spec, row)
            question = question_text(spec, row, gold)
        except GoldError as err:
            raise data_lib.DataError(f'benchmark {spec.name!r}, {where}: {err}') from None
        row_id = str(row[spec.id_field]) if spec.id_field and row.get(spec.id_field) is not None else str(position)
        position += 1
        item_id = f'{spec.name}/{row_id}'
        if item_id in seen:
            raise data_lib.DataError(f'benchmark {spec.name!r}, {where}: id {row_id!r} (field {spec.id_field!r}) '
                                     'repeats an earlier row')
        seen.add(item_id)
        items.append(Item(item_id, spec.name, question, with_demos(spec, question), gold, _solution(spec, row)))
        if len(items) == spec.limit:
            break
    if not items:
        raise data_lib.DataError(f'benchmark {spec.name!r}: {spec.source} has no rows')
    return items


def _solution(spec: Benchmark, row: dict) -> str | None:
    value = row.get(spec.solution_field) if spec.solution_field else None
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) and value.strip() else None


def grade_item(spec: Benchmark, completion: str, gold: str) -> tuple[str | None, bool]:
    """(the extracted answer, whether it is right) for a completion to a row whose gold answer is `gold`."""
    if spec.is_choice:
        letter = grading.choice_letter(completion)
        return letter, letter == gold
    predicted = grading.extract_answer(completion)
    return predicted, grading.answers_match(predicted, gold)


def grade(benchmark: str | Benchmark, completion: str, row: dict) -> bool:
    """Whether `completion` answers `row` (the benchmark's data row as loaded, with the toolkit's field names)
    correctly, as the toolkit grades it. `benchmark`: a preset's or a registered benchmark's name, or a
    Benchmark."""
    spec = preset(benchmark) if isinstance(benchmark, str) else benchmark
    return grade_item(spec, completion, gold_answer(spec, row))[1]
