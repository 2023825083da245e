"""Questions → chat-templated prompt ids: loading, bad rows, stable ids, prompts, the test tokenizer."""

from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from transformers import AutoTokenizer

from lightreasoner_jax.data import (
    DataError,
    Question,
    build_prompt_ids,
    build_prompts,
    is_local_source,
    load_questions,
    question_id,
)
from tests.chat_tokenizer import make_chat_tokenizer

GSM8K_TRAIN = Path(__file__).parents[2] / 'shared' / 'data' / 'gsm8k' / 'train.jsonl'


@pytest.fixture(scope='module')
def gsm8k_rows() -> list[dict]:
    if not GSM8K_TRAIN.exists():
        pytest.skip(f'GSM8K sample not found at {GSM8K_TRAIN} (the shared data folder is absent)')
    with open(GSM8K_TRAIN, encoding='utf-8') as lines:
        return [json.loads(next(lines)) for _ in range(6)]


@pytest.fixture(scope='module')
def tokenizer():
    return make_chat_tokenizer()


def write_lines(path: Path, lines: list) -> Path:
    """Writes JSON Lines; a str item is written verbatim (for malformed rows)."""
    path.write_text(''.join((line if isinstance(line, str) else json.dumps(line)) + '\n' for line in lines),
                    encoding='utf-8')
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def expected_id(text: str) -> str:
    return 'q' + hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


# --- loading --------------------------------------------------------------------------------------

def test_gsm8k_json_lines(tmp_path, gsm8k_rows):
    path = write_lines(tmp_path / 'train.jsonl', gsm8k_rows)
    questions, counts = load_questions(path)
    assert [q.question for q in questions] == [r['question'] for r in gsm8k_rows]
    assert [q.answer for q in questions] == [r['answer'] for r in gsm8k_rows]
    assert questions[0].answer.endswith('#### 72')
    assert [q.id for q in questions] == [expected_id(r['question']) for r in gsm8k_rows]
    assert counts == dict(read=6, kept=6, duplicates=0, bad_json=0, missing_field=0, empty_text=0, not_a_string=0)


def test_ids_are_stable_across_loads_and_formats(tmp_path, gsm8k_rows):
    jsonl = write_lines(tmp_path / 'a.jsonl', gsm8k_rows)
    parquet = write_parquet(tmp_path / 'a.parquet', gsm8k_rows)
    first, _ = load_questions(jsonl)
    again, _ = load_questions(str(jsonl))
    from_parquet, _ = load_questions(parquet)
    assert first == again == from_parquet
    assert len({q.id for q in first}) == len(first)
    assert question_id(gsm8k_rows[0]['question']) == first[0].id
    assert first[0].id.startswith('q') and len(first[0].id) == 17


def test_declared_ids_are_used_and_missing_ones_are_hashed(tmp_path, gsm8k_rows):
    rows = [dict(gsm8k_rows[0], idx=7), dict(gsm8k_rows[1], idx='gsm-1'), dict(gsm8k_rows[2])]
    questions, _ = load_questions(write_lines(tmp_path / 'ids.jsonl', rows), id_field='idx')
    assert [q.id for q in questions] == ['7', 'gsm-1', expected_id(gsm8k_rows[2]['question'])]


def test_math_style_fields(tmp_path):
    rows = [{'problem': 'What is $1+1$?', 'solution': 'It is $\\boxed{2}$.', 'unique_id': 'test/algebra/1.json'},
            {'problem': 'Solve $x^2=4$ for $x>0$.', 'solution': '$\\boxed{2}$'}]
    questions, counts = load_questions(write_lines(tmp_path / 'math.jsonl', rows), question_field='problem',
                                       answer_field='solution', id_field='unique_id')
    assert questions == [Question('test/algebra/1.json', 'What is $1+1$?', 'It is $\\boxed{2}$.'),
                         Question(expected_id('Solve $x^2=4$ for $x>0$.'), 'Solve $x^2=4$ for $x>0$.', '$\\boxed{2}$')]
    with pytest.raises(DataError, match=r"math.jsonl:1: field 'question' is missing \(fields present: \['problem'"):
        load_questions(tmp_path / 'math.jsonl')  # GSM8K field names on MATH rows


def test_answer_is_optional(tmp_path):
    questions, _ = load_questions(write_lines(tmp_path / 'q.jsonl', [{'question': 'a?'}, {'question': 'b?',
                                                                                        'answer': None}]))
    assert [q.answer for q in questions] == [None, None]


def test_parquet_rows_and_bad_row_index(tmp_path, gsm8k_rows):
    rows = [{'question': r['question'], 'answer': r['answer']} for r in gsm8k_rows[:3]]
    rows[2]['question'] = '   '
    path = write_parquet(tmp_path / 'train.parquet', rows)
    with pytest.raises(DataError, match=r"train\.parquet row 2: field 'question' is empty"):
        load_questions(path)
    questions, counts = load_questions(path, on_bad_row='skip')
    assert [q.question for q in questions] == [r['question'] for r in rows[:2]]
    assert (counts['read'], counts['kept'], counts['empty_text']) == (3, 2, 1)


def test_glob_over_files_in_sorted_order(tmp_path, gsm8k_rows):
    write_lines(tmp_path / 'part-1.jsonl', gsm8k_rows[3:])
    write_parquet(tmp_path / 'part-0.parquet', gsm8k_rows[:3])
    questions, counts = load_questions(str(tmp_path / 'part-*'))
    assert [q.question for q in questions] == [r['question'] for r in gsm8k_rows]
    assert counts['read'] == 6


def test_limit_counts_kept_questions(tmp_path, gsm8k_rows):
    path = write_lines(tmp_path / 'l.jsonl', [gsm8k_rows[0], gsm8k_rows[0], '{oops', *gsm8k_rows[1:]])
    questions, counts = load_questions(path, limit=3, on_bad_row='skip')
    assert [q.question for q in questions] == [r['question'] for r in gsm8k_rows[:3]]
    assert (counts['kept'], counts['duplicates'], counts['bad_json']) == (3, 1, 1)
    none, counts = load_questions(path, limit=0)
    assert none == [] and counts['read'] == 0


BAD_ROWS = [
    # (line, reason, message)
    ('{"question": "ok", ', 'bad_json', r"bad\.jsonl:2: not valid JSON"),
    ('[1, 2]', 'bad_json', r"bad\.jsonl:2: expected a JSON object, got list"),
    ({'answer': '#### 3'}, 'missing_field',
     r"bad\.jsonl:2: field 'question' is missing \(fields present: \['answer'\]\)"),
    ({'question': None}, 'missing_field', r"bad\.jsonl:2: field 'question' is null"),
    ({'question': ''}, 'empty_text', r"bad\.jsonl:2: field 'question' is empty"),
    ({'question': ' \n\t'}, 'empty_text', r"bad\.jsonl:2: field 'question' is empty"),
    ({'question': 12}, 'not_a_string', r"bad\.jsonl:2: field 'question' is a int, not a string"),
    ({'question': ['a']}, 'not_a_string', r"bad\.jsonl:2: field 'question' is a list, not a string"),
    ({'question': 'q?', 'answer': 3}, 'not_a_string', r"bad\.jsonl:2: field 'answer' is a int, not a string"),
    ({'question': 'q?', 'id': 1.5}, 'not_a_string', r"bad\.jsonl:2: field 'id' is a float, not a string or int"),
]


@pytest.mark.parametrize('bad_line, reason, message', BAD_ROWS,
                         ids=[f'{reason}-{i}' for i, (_, reason, _) in enumerate(BAD_ROWS)])
def test_bad_row_in_both_modes(tmp_path, bad_line, reason, message):
    # line 1 good, line 2 bad, a blank line (not a row), line 4 good
    path = write_lines(tmp_path / 'bad.jsonl', [{'question': 'first?'}, bad_line, '', {'question': 'last?'}])
    with pytest.raises(DataError, match=message):
        load_questions(path, id_field='id')
    questions, counts = load_questions(path, id_field='id', on_bad_row='skip')
    assert [q.question for q in questions] == ['first?', 'last?']
    assert counts[reason] == 1
    assert counts['read'] == 3 and counts['kept'] == 2
    assert sum(counts[r] for r in ('bad_json', 'missing_field', 'empty_text', 'not_a_string')) == 1


def test_error_names_the_file_among_several(tmp_path):
    write_lines(tmp_path / 'a.jsonl', [{'question': 'a?'}])
    write_lines(tmp_path / 'b.jsonl', [{'question': 'b?'}, {'question': 'c?'}, {'problem': 'd?'}])
    with pytest.raises(DataError, match=r"b\.jsonl:3: field 'question' is missing"):
        load_questions(tmp_path / '*.jsonl')


def test_repeated_question_is_kept_once_in_both_modes(tmp_path):
    path = write_lines(tmp_path / 'dup.jsonl', [{'question': 'same?', 'answer': '1'}, {'question': 'other?'},
                                                {'question': 'same?', 'answer': '2'}])
    for mode in ('error', 'skip'):
        questions, counts = load_questions(path, on_bad_row=mode)
        assert [(q.question, q.answer) for q in questions] == [('same?', '1'), ('other?', None)]
        assert counts['duplicates'] == 1 and counts['read'] == 3


def test_repeated_declared_id_names_both_rows(tmp_path):
    path = write_lines(tmp_path / 'dup.jsonl', [{'question': 'a?', 'id': 'x'}, {'question': 'b?', 'id': 'y'},
                                                {'question': 'c?', 'id': 'x'}])
    with pytest.raises(DataError, match=r"dup\.jsonl:3: id 'x' \(field 'id'\) was already used at .*dup\.jsonl:1$"):
        load_questions(path, id_field='id')
    questions, counts = load_questions(path, id_field='id', on_bad_row='skip')
    assert [q.question for q in questions] == ['a?', 'b?']
    assert counts['duplicates'] == 1


def test_missing_local_sources_are_not_hub_lookups(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'datasets', None)  # any import of datasets would fail
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_questions(tmp_path / 'nope.jsonl')
    with pytest.raises(FileNotFoundError, match='matches no files'):
        load_questions(str(tmp_path / 'nope-*'))
    write_lines(tmp_path / 'ok.jsonl', [{'question': 'a?'}])
    assert len(load_questions(tmp_path / 'ok.jsonl')[0]) == 1  # local files never import datasets
    assert is_local_source('data/x.parquet') and not is_local_source('openai/gsm8k')


def test_unusable_local_sources(tmp_path):
    (tmp_path / 'q.csv').write_text('question\na?\n')
    with pytest.raises(DataError, match=r"q\.csv' has an unsupported extension"):
        load_questions(tmp_path / 'q.csv')
    with pytest.raises(DataError, match='is a directory'):
        load_questions(tmp_path)
    with pytest.raises(ValueError, match='on_bad_row must be one of'):
        load_questions(tmp_path / 'q.csv', on_bad_row='ignore')
    (tmp_path / 'array.json').write_text('[\n{"question": "a?"}\n]\n')
    with pytest.raises(DataError, match=r'array\.json:1: not valid JSON.*JSON array\?'):
        load_questions(tmp_path / 'array.json')


def test_hub_ids_go_through_datasets(monkeypatch):
    calls = []

    def load_dataset(name, config_name, split):
        calls.append((name, config_name, split))
        return [{'question': 'a?', 'answer': '1'}, {'question': 7}]

    monkeypatch.setitem(sys.modules, 'datasets', types.SimpleNamespace(load_dataset=load_dataset))
    with pytest.raises(DataError, match=r"openai/gsm8k \(main, test\) row 1: field 'question' is a int"):
        load_questions('openai/gsm8k', config_name='main', split='test')
    questions, counts = load_questions('openai/gsm8k', config_name='main', split='test', on_bad_row='skip')
    assert calls == [('openai/gsm8k', 'main', 'test')] * 2
    assert questions == [Question(expected_id('a?'), 'a?', '1')] and counts['not_a_string'] == 1


def test_hub_failure_says_it_was_a_hub_lookup(monkeypatch):
    def load_dataset(name, config_name, split):
        raise ConnectionError('offline')

    monkeypatch.setitem(sys.modules, 'datasets', types.SimpleNamespace(load_dataset=load_dataset))
    with pytest.raises(ConnectionError) as raised:
        load_questions('someone/typo')
    assert 'looked up on the hub' in ''.join(raised.value.__notes__)


# --- prompts --------------------------------------------------------------------------------------

def test_prompt_ids_are_the_chat_template_tokenized(tokenizer, gsm8k_rows):
    question = gsm8k_rows[1]['question']
    ids = build_prompt_ids(tokenizer, question)
    text = tokenizer.apply_chat_template(
        [{'role': 'system', 'content': 'Please reason step by step.'}, {'role': 'user', 'content': question}],
        tokenize=False, add_generation_prompt=True)
    assert text == (f'<|im_start|>system\nPlease reason step by step.<|im_end|>\n'
                    f'<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n')
    assert ids == tokenizer(text, add_special_tokens=False)['input_ids']
    assert all(type(i) is int for i in ids)
    assert ids[0] == tokenizer.convert_tokens_to_ids('<|im_start|>') == 1
    assert tokenizer.decode(ids) == text


def test_system_prompt_present_custom_or_absent(tokenizer):
    with_default = tokenizer.decode(build_prompt_ids(tokenizer, 'What is 2 + 3?'))
    custom = tokenizer.decode(build_prompt_ids(tokenizer, 'What is 2 + 3?', system_prompt='Be brief.'))
    absent = [tokenizer.decode(build_prompt_ids(tokenizer, 'What is 2 + 3?', system_prompt=s)) for s in (None, '')]
    assert with_default.startswith('<|im_start|>system\nPlease reason step by step.<|im_end|>\n<|im_start|>user\n')
    assert custom.startswith('<|im_start|>system\nBe brief.<|im_end|>\n')
    assert absent == ['<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n'] * 2


def test_build_prompts_keeps_order(tokenizer, gsm8k_rows):
    questions = [Question(expected_id(r['question']), r['question'], r['answer']) for r in gsm8k_rows[:3]]
    prompts = build_prompts(tokenizer, questions, system_prompt=None)
    assert prompts == [build_prompt_ids(tokenizer, q.question, system_prompt=None) for q in questions]
    assert build_prompts(tokenizer, [q.question for q in questions], system_prompt=None) == prompts
    assert len({tuple(p) for p in prompts}) == 3


def test_missing_chat_template_is_an_error_unless_a_template_is_given(tokenizer, tmp_path):
    plain = make_chat_tokenizer()
    plain.chat_template = None
    plain.save_pretrained(tmp_path / 'plain-tok')
    plain = AutoTokenizer.from_pretrained(tmp_path / 'plain-tok')
    assert plain.chat_template is None
    with pytest.raises(DataError, match=r"plain-tok' has no chat template"):
        build_prompt_ids(plain, 'What is 2 + 3?')
    ids = build_prompt_ids(plain, 'What is 2 + 3?', template='Question: {question}\nAnswer:')
    assert ids == plain.encode('Question: What is 2 + 3?\nAnswer:', add_special_tokens=False)
    assert plain.decode(ids) == 'Question: What is 2 + 3?\nAnswer:'
    with pytest.raises(DataError, match='no {question} placeholder'):
        build_prompt_ids(plain, 'What is 2 + 3?', template='Answer:')


# --- the test tokenizer itself ---------------------------------------------------------------------

def test_chat_tokenizer_layout(tokenizer):
    assert tokenizer.convert_ids_to_tokens([0, 1, 2]) == ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 2)
    assert len(tokenizer) == 300
    text = 'Über 12 naïve cafés, $3.50 each.\n\n  Done!'  # bytes outside the corpus still encode
    assert tokenizer.decode(tokenizer.encode(text)) == text
    # transformers 5: tokenize=True returns a BatchEncoding unless return_dict=False
    messages = [{'role': 'user', 'content': 'hi'}]
    as_dict = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
    as_list = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=False)
    assert isinstance(as_list, list) and as_dict['input_ids'] == as_list


def test_chat_tokenizer_round_trips_through_qwen2_auto_tokenizer(tokenizer, tmp_path, gsm8k_rows):
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / 'config.json').write_text(json.dumps({'model_type': 'qwen2'}))
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    assert type(reloaded).__name__ == 'Qwen2Tokenizer'  # rebuilt from vocab + merges, not tokenizer.json
    texts = [r['question'] for r in gsm8k_rows] + [r['answer'] for r in gsm8k_rows] + [
        "It's  3 x 4\n\n= 12 ", 'Über café 2024', ' leading space', 'tabs\tand\r\nCRLF', 'cafe\u0301 (decomposed)']
    for text in texts:
        assert reloaded.encode(text) == tokenizer.encode(text), text
    for system_prompt in ('Please reason step by step.', None):
        assert (build_prompt_ids(reloaded, gsm8k_rows[0]['question'], system_prompt=system_prompt)
                == build_prompt_ids(tokenizer, gsm8k_rows[0]['question'], system_prompt=system_prompt))
    assert (reloaded.pad_token, reloaded.eos_token) == ('<|endoftext|>', '<|im_end|>')
    assert reloaded.get_vocab() == tokenizer.get_vocab()
