"""The expert/amateur tokenizer compatibility check."""

import jax.numpy as jnp
import pytest
from transformers import AutoTokenizer

from lightreasoner_jax.models import (
    ModelConfig,
    SpecialTokenDifference,
    StopTokenError,
    TokenizerMismatchError,
    check_tokenizers_compatible,
    describe_special_differences,
    load_hf,
    save_hf,
    stop_token_ids,
)
from lightreasoner_jax.sampling import SampleRecord
from lightreasoner_jax.sampling.special_tokens import special_token_usage
from tests.tiny_models import build_torch_model, make_tokenizer

WORDS = ['<unk>', 'one', 'two', 'three', 'plus', 'equals', '=', '+']


def test_identical_tokenizers_pass_even_with_padded_vocab():
    expert, amateur = make_tokenizer(WORDS), make_tokenizer(WORDS)
    assert len(expert) == 10
    check_tokenizers_compatible(expert, amateur, shared_vocab_size=16)  # ids 10..15 unknown to both


def test_first_differing_id_is_named():
    swapped = WORDS[:4] + ['equals', 'plus'] + WORDS[6:]
    with pytest.raises(TokenizerMismatchError, match=r"differ at id 4: expert 'plus', amateur 'equals' \(2 ordinary and 0 special"):
        check_tokenizers_compatible(make_tokenizer(WORDS), make_tokenizer(swapped), shared_vocab_size=10)


def test_difference_beyond_shared_vocab_is_ignored():
    longer = make_tokenizer(WORDS + ['extra'], special=())
    shorter = make_tokenizer(WORDS, special=())
    check_tokenizers_compatible(longer, shorter, shared_vocab_size=len(WORDS))
    with pytest.raises(TokenizerMismatchError, match=r"id 8: expert 'extra', amateur None"):
        check_tokenizers_compatible(longer, shorter, shared_vocab_size=len(WORDS) + 1)


def test_special_tokens_may_differ_and_are_listed_unless_refused():
    a = make_tokenizer(WORDS, special=('<|im_start|>', '<|im_end|>'))
    b = make_tokenizer(WORDS, special=('<|im_end|>', '<|im_start|>'))
    differences = check_tokenizers_compatible(a, b, shared_vocab_size=10)
    assert differences == (SpecialTokenDifference(8, '<|im_start|>', '<|im_end|>'),
                           SpecialTokenDifference(9, '<|im_end|>', '<|im_start|>'))
    assert '8 \'<|im_start|>\' vs \'<|im_end|>\'' in describe_special_differences(differences)
    with pytest.raises(TokenizerMismatchError, match=r"special tokens at 2 ids: 8 '<\|im_start\|>' vs"):
        check_tokenizers_compatible(a, b, shared_vocab_size=10, special_differences='refuse')
    # a special token on one side only (the other has nothing there) is a special difference too
    one = make_tokenizer(WORDS, special=('<|im_start|>',))
    assert check_tokenizers_compatible(a, one, shared_vocab_size=10) == (SpecialTokenDifference(9, '<|im_end|>', None),)


def test_a_special_token_where_the_other_has_an_ordinary_one_is_a_mismatch():
    a = make_tokenizer(WORDS, special=('<|im_start|>',))           # id 8 special
    b = make_tokenizer(WORDS + ['nine'], special=())                # id 8 an ordinary word
    with pytest.raises(TokenizerMismatchError, match=r"differ at id 8: expert '<\|im_start\|>', amateur 'nine' "
                                                     r"\(1 ordinary and 0 special"):
        check_tokenizers_compatible(a, b, shared_vocab_size=9)


def test_stop_tokens_add_to_the_eos_ids_and_an_unknown_one_is_named(tmp_path):
    build_torch_model('qwen2_untied', 12, eos_token_id=2).save_pretrained(tmp_path)
    tokenizer = make_tokenizer(WORDS)
    config = ModelConfig.from_hf(tmp_path)
    assert stop_token_ids(tmp_path, tokenizer, config) == (2,)
    assert stop_token_ids(tmp_path, tokenizer, config, ('<|im_end|>', 'equals')) == (2, 5, 9)
    with pytest.raises(StopTokenError, match=r"expert.stop_tokens: '<\|eot\|>' is not a token of the tokenizer of "):
        stop_token_ids(tmp_path, tokenizer, config, ('<|eot|>',))


def test_special_token_usage_counts_prompts_completions_kept_steps_and_plausible_sets():
    record = SampleRecord(id='a', prompt_ids=[7, 1, 7], completion_ids=[3, 7, 4, 7], steps=[1, 2],
                          kl=[1.0, 1.0], target_ids=[[7, 3], [4, 7]], target_weights=[[0.6, 0.4], [1.0, 0.0]])
    other = SampleRecord(id='b', prompt_ids=[1], completion_ids=[3], steps=[], kl=[], target_ids=[],
                         target_weights=[])
    assert special_token_usage([record, other], [7]) == {
        'prompt_tokens': 2, 'prompts_with_any': 1, 'completion_tokens': 2, 'kept_step_tokens': 1,
        'plausible_set_entries': 1, 'kept_steps_with_any_in_plausible_set': 1}  # weight 0 is padding


def test_save_hf_writes_a_loadable_tokenizer(tmp_path):
    # llama: with model_type qwen2, transformers 5's AutoTokenizer forces Qwen2Tokenizer (byte-level
    # BPE), which a word-level test vocabulary cannot round-trip; real Qwen tokenizers are fine.
    build_torch_model('llama3', 96).save_pretrained(tmp_path / 'src')
    model = load_hf(tmp_path / 'src', dtype=jnp.float32)
    tokenizer = make_tokenizer(WORDS)
    save_hf(model, model.config, tmp_path / 'out', tokenizer=tokenizer)
    reloaded = AutoTokenizer.from_pretrained(tmp_path / 'out')
    assert reloaded('one plus two')['input_ids'] == tokenizer('one plus two')['input_ids'] == [1, 4, 2]
    check_tokenizers_compatible(reloaded, tokenizer, shared_vocab_size=len(tokenizer))
    # a tokenizer directory works too
    save_hf(model, model.config, tmp_path / 'again', tokenizer=tmp_path / 'out')
    assert AutoTokenizer.from_pretrained(tmp_path / 'again').convert_ids_to_tokens(8) == '<|im_start|>'
