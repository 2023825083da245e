"""The expert/amateur tokenizer compatibility check."""

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from lightreasoner_jax.models import TokenizerMismatchError, check_tokenizers_compatible


def make_tokenizer(words, special=('<|im_start|>', '<|im_end|>')):
    vocab = {w: i for i, w in enumerate(words)}
    core = Tokenizer(models.WordLevel(vocab, unk_token=words[0]))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, unk_token=words[0])
    tok.add_special_tokens({'additional_special_tokens': list(special)})
    return tok


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
