"""Questions → chat-templated prompt ids.

Question sets come from the Hugging Face hub (`openai/gsm8k`), from local JSON Lines / Parquet files
(a path or a glob), or from the toy world ('toyworld:train', 'toyworld:test'). Every question gets a stable id, so samples, checkpoints and evaluations made
from different runs can be joined on it.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DEFAULT_SYSTEM_PROMPT = 'Please reason step by step.'
JSON_LINES_SUFFIXES = ('.jsonl', '.json')
PARQUET_SUFFIXES = ('.parquet',)
LOCAL_SUFFIXES = JSON_LINES_SUFFIXES + PARQUET_SUFFIXES
ON_BAD_ROW_CHOICES = ('error', 'skip')
# Why a row can be rejected; the keys of the counts that `load_questions` returns.
BAD_ROW_REASONS = ('bad_json', 'missing_field', 'empty_text', 'not_a_string')


class DataError(ValueError):
    """A question source or one of its rows cannot be used."""


@dataclasses.dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str | None = None


@dataclasses.dataclass(frozen=True)
class _BadRow:
    reason: str  # one of BAD_ROW_REASONS
    message: str  # names the row's location and the field


@dataclasses.dataclass(frozen=True)
class _Fields:
    question: str
    answer: str
    id: str | None


def question_id(question: str) -> str:
    """The id of a question without an id field: a hash of its text, stable across runs and hosts."""
    return 'q' + hashlib.sha256(question.encode('utf-8')).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------
# Sources: each reader yields (location, row), where the location is how a message names the row
# and the row is a dict, or a _BadRow when it could not even be parsed.


def is_local_source(source: str | Path) -> bool:
    """A path that exists, a glob, or a name ending like a data file; anything else is a hub id.

    Hub ids cannot contain glob characters, and a missing 'x.jsonl' is a typo to report, not a hub lookup.
    """
    text = str(source)
    return Path(text).exists() or glob.has_magic(text) or text.lower().endswith(LOCAL_SUFFIXES)


def local_files(source: str | Path) -> list[Path]:
    """The files a local source names, in sorted order so that loads are reproducible."""
    text = str(source)
    if glob.has_magic(text):
        paths = [Path(p) for p in sorted(glob.glob(text))]
        if not paths:
            raise FileNotFoundError(f'question source {text!r} matches no files')
    else:
        paths = [Path(text)]
        if not paths[0].exists():
            raise FileNotFoundError(f'question file {text!r} does not exist')
    for path in paths:
        if path.is_dir():
            raise DataError(f'question source {str(path)!r} is a directory; name its files, e.g. {text}/*.jsonl')
        if not path.name.lower().endswith(LOCAL_SUFFIXES):
            raise DataError(f'question file {str(path)!r} has an unsupported extension; '
                            f'expected one of {", ".join(LOCAL_SUFFIXES)}')
    return paths


def read_json_lines(path: Path) -> Iterator[tuple[str, dict | _BadRow]]:
    # Read by hand, not through `datasets`, so that a bad row is reported with its file and line.
    with open(path, encoding='utf-8') as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue  # blank lines (often a trailing one) are not rows
            where = f'{path}:{line_number}'
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                looks_like_array = line_number == 1 and line.lstrip().startswith('[')
                hint = ' (a JSON array? write JSON Lines, one object per line)' if looks_like_array else ''
                yield where, _BadRow('bad_json', f'{where}: not valid JSON: {err}{hint}')
                continue
            if not isinstance(row, dict):
                yield where, _BadRow('bad_json', f'{where}: expected a JSON object, got {type(row).__name__}')
                continue
            yield where, row


def read_parquet(path: Path) -> Iterator[tuple[str, dict]]:
    import pyarrow.parquet as pq  # a dependency of `datasets`; imported late like it

    row_index = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):  # bounded memory for big files
        for row in batch.to_pylist():
            yield f'{path} row {row_index}', row
            row_index += 1


def read_hub(name: str, config_name: str | None, split: str) -> Iterator[tuple[str, dict]]:
    # Imported only here: `datasets` is slow to import and must not be needed for local files.
    import datasets

    try:
        rows = datasets.load_dataset(name, config_name, split=split)
    except Exception as err:
        err.add_note(f'{name!r} was looked up on the hub because no local file or glob has that name')
        raise
    label = f'{name} ({config_name or "default"}, {split})'
    for row_index, row in enumerate(rows):
        yield f'{label} row {row_index}', row


TOYWORLD_PREFIX = 'toyworld:'  # 'toyworld:train', 'toyworld:habits:test': the toy worlds' generated splits


def read_toyworld(split: str) -> Iterator[tuple[str, dict]]:
    from lightreasoner_jax.toyworld import world

    for index, problem in enumerate(world.split(split)):
        yield f'{TOYWORLD_PREFIX}{split} row {index}', problem.to_json()


def read_rows(source: str | Path, config_name: str | None, split: str) -> Iterator[tuple[str, dict | _BadRow]]:
    if str(source).startswith(TOYWORLD_PREFIX):
        yield from read_toyworld(str(source)[len(TOYWORLD_PREFIX):])
        return
    if not is_local_source(source):
        yield from read_hub(str(source), config_name, split)
        return
    for path in local_files(source):
        reader = read_parquet if path.name.lower().endswith(PARQUET_SUFFIXES) else read_json_lines
        yield from reader(path)


# ---------------------------------------------------------------------------------------------------
# Rows → questions


def _text_field(where: str, row: dict, field: str) -> str | _BadRow:
    if field not in row:
        return _BadRow('missing_field', f'{where}: field {field!r} is missing (fields present: {sorted(row)})')
    value = row[field]
    if value is None:
        return _BadRow('missing_field', f'{where}: field {field!r} is null')
    if not isinstance(value, str):
        return _BadRow('not_a_string', f'{where}: field {field!r} is a {type(value).__name__}, not a string')
    if not value.strip():
        return _BadRow('empty_text', f'{where}: field {field!r} is empty')
    return value


def _declared_id(where: str, row: dict, field: str | None) -> str | None | _BadRow:
    if field is None or row.get(field) is None:
        return None
    value = row[field]
    # Integer ids are common (row numbers); bool is an int subclass but never a meaningful id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        return _BadRow('not_a_string', f'{where}: field {field!r} is a {type(value).__name__}, not a string or int')
    if not value.strip():
        return _BadRow('empty_text', f'{where}: field {field!r} is empty')
    return value


def parse_row(where: str, row: dict, fields: _Fields) -> tuple[Question, bool] | _BadRow:
    """The row's question and whether its id was declared (not hashed), or why the row is bad.

    The answer is optional (sampling needs none), but when present it must be non-empty text.
    """
    question = _text_field(where, row, fields.question)
    if isinstance(question, _BadRow):
        return question
    answer = None
    if row.get(fields.answer) is not None:
        answer = _text_field(where, row, fields.answer)
        if isinstance(answer, _BadRow):
            return answer
    declared = _declared_id(where, row, fields.id)
    if isinstance(declared, _BadRow):
        return declared
    return Question(id=declared or question_id(question), question=question, answer=answer), declared is not None


def load_questions(source: str | Path, *, split: str = 'train', config_name: str | None = None,
                   question_field: str = 'question', answer_field: str = 'answer', id_field: str | None = None,
                   limit: int | None = None, on_bad_row: str = 'error') -> tuple[list[Question], dict[str, int]]:
    """Loads questions from a hub id or local .jsonl/.json/.parquet files (a path or a glob).

    `split` and `config_name` apply to hub ids only. `on_bad_row='error'` raises DataError at the first
    bad row; 'skip' skips it and counts it. A row whose id was seen before is dropped and counted as a
    duplicate, except that a repeated *declared* id is an error in 'error' mode (two different rows
    claim one id; a repeated hash only means a repeated question). Returns the questions, in source
    order, and counts: 'read' (non-blank rows seen), 'kept', 'duplicates' and one per BAD_ROW_REASONS.
    """
    if on_bad_row not in ON_BAD_ROW_CHOICES:
        raise ValueError(f'on_bad_row must be one of {ON_BAD_ROW_CHOICES}, got {on_bad_row!r}')
    if limit is not None and limit < 0:
        raise ValueError(f'limit must be >= 0 or None, got {limit}')
    fields = _Fields(question=question_field, answer=answer_field, id=id_field)
    counts = dict.fromkeys(('read', 'kept', 'duplicates') + BAD_ROW_REASONS, 0)
    questions: list[Question] = []
    first_seen_at: dict[str, str] = {}  # id -> location of the row that claimed it
    if limit == 0:
        return questions, counts
    for where, row in read_rows(source, config_name, split):
        counts['read'] += 1
        parsed = row if isinstance(row, _BadRow) else parse_row(where, row, fields)
        if isinstance(parsed, _BadRow):
            if on_bad_row == 'error':
                raise DataError(parsed.message)
            counts[parsed.reason] += 1
            continue
        question, declared = parsed
        if question.id in first_seen_at:
            if declared and on_bad_row == 'error':
                raise DataError(f'{where}: id {question.id!r} (field {id_field!r}) was already used at '
                                f'{first_seen_at[question.id]}')
            counts['duplicates'] += 1
            continue
        first_seen_at[question.id] = where
        questions.append(question)
        if len(questions) == limit:
            break
    counts['kept'] = len(questions)
    return questions, counts


@dataclasses.dataclass(frozen=True)
class QuestionSource:
    """Where questions come from and how rows map to them (`load_questions`'s arguments; empty strings
    and 0 mean unset, as in a config's `data` section)."""
    source: str
    split: str = 'train'
    config_name: str = ''
    question_field: str = 'question'
    answer_field: str = 'answer'
    id_field: str = ''
    limit: int = 0
    on_bad_row: str = 'error'

    def load(self) -> tuple[list[Question], dict[str, int]]:
        return load_questions(self.source, split=self.split, config_name=self.config_name or None,
                              question_field=self.question_field, answer_field=self.answer_field,
                              id_field=self.id_field or None, limit=self.limit or None, on_bad_row=self.on_bad_row)


# ---------------------------------------------------------------------------------------------------
# Prompts


def _messages(question: str, system_prompt: str | None) -> list[dict[str, str]]:
    user = {'role': 'user', 'content': question}
    return [{'role': 'system', 'content': system_prompt}, user] if system_prompt else [user]


def build_prompt_ids(tokenizer: Any, question: str, system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
                     template: str | None = None) -> list[int]:
    """The prompt's token ids: the chat template over [system, user] with the assistant turn opened.

    `system_prompt` None or '' leaves out the system turn (a template may still add its own default,
    as Qwen2.5's does). A plain `template` (containing '{question}', optionally '{system_prompt}')
    replaces the chat template, for tokenizers that have none; it is encoded without special tokens.
    """
    if template is not None:
        if '{question}' not in template:
            raise DataError(f'prompt template {template!r} has no {{question}} placeholder')
        text = template.format(question=question, system_prompt=system_prompt or '')
        return list(tokenizer.encode(text, add_special_tokens=False))
    if not getattr(tokenizer, 'chat_template', None):
        raise DataError(f'tokenizer {getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__!r} has no '
                        "chat template; give a plain prompt template containing '{question}' instead")
    # Tokenized by the template call itself: decoding and re-encoding text can change the ids.
    # return_dict=False: with tokenize=True, transformers 5 returns a BatchEncoding by default.
    ids = tokenizer.apply_chat_template(_messages(question, system_prompt), tokenize=True,
                                        add_generation_prompt=True, return_dict=False)
    return [int(i) for i in ids]


def build_prompts(tokenizer: Any, questions: Iterable[Question | str], **kwargs: Any) -> list[list[int]]:
    """`build_prompt_ids` for each question (a Question or its text), in order."""
    return [build_prompt_ids(tokenizer, q.question if isinstance(q, Question) else q, **kwargs) for q in questions]
