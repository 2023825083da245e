"""Tokenizer compatibility between the expert and the amateur.

The contrast compares p_E and p_A token by token, so every id below the shared vocabulary size must
mean the same token in both. Model vocabularies are often padded past the tokenizer (Qwen2.5:
151665 tokens, 151936 or 152064 embedding rows); ids that neither tokenizer knows agree trivially.
"""

from __future__ import annotations


class TokenizerMismatchError(ValueError):
    """Expert and amateur tokenizers disagree on an id of the shared vocabulary."""


def _id_to_token(tokenizer, size: int) -> list:
    tokens = [None] * size
    for token, index in tokenizer.get_vocab().items():  # includes added/special tokens
        if index < size:
            tokens[index] = token
    return tokens


def check_tokenizers_compatible(expert_tokenizer, amateur_tokenizer, shared_vocab_size: int) -> None:
    """Raises TokenizerMismatchError naming the first id below `shared_vocab_size` that maps to
    different tokens (or exists in only one tokenizer)."""
    expert = _id_to_token(expert_tokenizer, shared_vocab_size)
    amateur = _id_to_token(amateur_tokenizer, shared_vocab_size)
    for index, (e, a) in enumerate(zip(expert, amateur)):
        if e != a:
            differing = sum(x != y for x, y in zip(expert, amateur))
            raise TokenizerMismatchError(
                f'expert and amateur tokenizers differ at id {index}: expert {e!r}, amateur {a!r} '
                f'({differing} of the {shared_vocab_size} shared ids differ); LightReasoner needs the same '
                'tokenizer for both models')
