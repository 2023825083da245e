"""Tokenizers: loading one from a checkpoint, its EOS and pad ids, and the expert/amateur compatibility check.

The contrast compares p_E and p_A token by token, so every id below the shared vocabulary size must
mean the same token in both. Model vocabularies are often padded past the tokenizer (Qwen2.5:
151665 tokens, 151936 or 152064 embedding rows); ids that neither tokenizer knows agree trivially.
"""

from __future__ import annotations

import json
import os

from lightreasoner_jax.models import hub


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


def load_tokenizer(path):
    """The tokenizer of an HF checkpoint directory."""
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(os.fspath(hub.local_dir(path)))


def model_eos_ids(tokenizer, model_config) -> tuple[int, ...]:
    """The union of the tokenizer's and the model config's EOS ids (for a model known only in memory)."""
    ids = set(model_config.eos_token_ids)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return tuple(sorted(ids))


def eos_token_ids(model_path, tokenizer, model_config) -> tuple[int, ...]:
    """The union of the tokenizer's, generation_config.json's and config.json's EOS ids."""
    ids = set(model_eos_ids(tokenizer, model_config))
    generation_config = hub.local_dir(model_path) / 'generation_config.json'
    if generation_config.exists():
        eos = json.loads(generation_config.read_text()).get('eos_token_id')
        ids.update([eos] if isinstance(eos, int) else eos or [])
    return tuple(sorted(ids))


def pad_token_id(tokenizer, eos_ids) -> int:
    """The tokenizer's pad id, else the first EOS id."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
