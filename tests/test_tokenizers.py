"""The expert/amateur tokenizer compatibility check."""

import jax.numpy as jnp
import pytest
from transformers import AutoTokenizer

from lightreasoner_jax.models import TokenizerMismatchError, check_tokenizers_compatible, load_hf, save_hf
from tests.tiny_models import build_torch_model, make_tokenizer

WORDS = ['<unk>', 'one', 'two', 'three', 'plus', 'equals', '=', '+']


def test_identical_tokenizers_pass_even_with_padded_vocab():
    expert, amateur = make_tokenizer(WORDS), make_tokenizer(WORDS)
    assert len(expert) == 10
    check_tokenizers_compatible(expert, amateur, shared_vocab_size=16)  # ids 10..15 unknown to both


def test_first_differing_id_is_named():
    swapped = WORDS[:4] + ['equals', 'plus'] + WORDS[6:]
    with pytest.raises(TokenizerMismatchError, match=r"differ at id 4: expert 'plus', amateur 'equals' \(2 of"):
        check_tokenizers_compatible(make_tokenizer(WORDS), make_tokenizer(swapped), shared_vocab_size=10)


def test_difference_beyond_shared_vocab_is_ignored():
    longer = make_tokenizer(WORDS + ['extra'], special=())
    shorter = make_tokenizer(WORDS, special=())
    check_tokenizers_compatible(longer, shorter, shared_vocab_size=len(WORDS))
    with pytest.raises(TokenizerMismatchError, match=r"id 8: expert 'extra', amateur None"):
        check_tokenizers_compatible(longer, shorter, shared_vocab_size=len(WORDS) + 1)


def test_special_tokens_are_compared():
    a = make_tokenizer(WORDS, special=('<|im_start|>', '<|im_end|>'))
    b = make_tokenizer(WORDS, special=('<|im_end|>', '<|im_start|>'))
    with pytest.raises(TokenizerMismatchError, match="id 8: expert '<|im_start|>'"):
        check_tokenizers_compatible(a, b, shared_vocab_size=10)


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
