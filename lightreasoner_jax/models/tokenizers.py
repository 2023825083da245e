"""Tokenizers: loading one from a checkpoint, its EOS and pad ids, and the expert/amateur compatibility check.

The contrast compares p_E and p_A token by token, so every id of the ordinary (BPE) vocabulary below
the shared size must mean the same token in both; special tokens may differ and are reported. Model
vocabularies are often padded past the tokenizer (Qwen2.5: 151665 tokens, 151936 or 152064 embedding
rows); ids that neither tokenizer knows agree trivially.
"""

from __future__ import annotations

import dataclasses
import json
import os

from lightreasoner_jax.models import hub


class TokenizerMismatchError(ValueError):
    """Expert and amateur tokenizers disagree on an id of the shared vocabulary."""


@dataclasses.dataclass(frozen=True)
class SpecialTokenDifference:
    """An id below the shared vocabulary size where expert and amateur hold different special/added
    tokens (or only one of them has one). The contrast still compares the two models there by id."""
    id: int
    expert: str | None
    amateur: str | None


def _id_to_token(tokenizer, size: int) -> list:
    tokens = [None] * size
    for token, index in tokenizer.get_vocab().items():  # includes added/special tokens
        if index < size:
            tokens[index] = token
    return tokens


def _added_ids(tokenizer) -> frozenset[int]:
    """Ids of the tokens added on top of the BPE (or word-level) model: special and control tokens."""
    return frozenset(int(i) for i in tokenizer.added_tokens_decoder)


def _describe_ids(differences, limit: int = 8) -> str:
    shown = ', '.join(f'{d.id} {d.expert!r} vs {d.amateur!r}' for d in differences[:limit])
    return shown + (f', ... ({len(differences)} in all)' if len(differences) > limit else '')


def check_tokenizers_compatible(expert_tokenizer, amateur_tokenizer, shared_vocab_size: int, *,
                                special_differences: str = 'allow') -> tuple[SpecialTokenDifference, ...]:
    """Checks that both tokenizers mean the same thing by every id below `shared_vocab_size`.

    The ordinary vocabulary (the BPE model's tokens) must agree exactly: a TokenizerMismatchError names
    the first id where it does not (or where only one side has a token). Ids where both sides hold
    special/added tokens, or one holds one and the other nothing, may differ: DeepSeek-R1-Distill-Qwen
    keeps Qwen2.5's BPE but puts its own chat tokens at 151643-151649. They are returned, in id order, for
    the caller to report; `special_differences='refuse'` raises on them instead.
    """
    if special_differences not in ('allow', 'refuse'):
        raise ValueError(f"special_differences must be 'allow' or 'refuse', got {special_differences!r}")
    expert = _id_to_token(expert_tokenizer, shared_vocab_size)
    amateur = _id_to_token(amateur_tokenizer, shared_vocab_size)
    expert_added, amateur_added = _added_ids(expert_tokenizer), _added_ids(amateur_tokenizer)
    ordinary, special = [], []
    for index, (e, a) in enumerate(zip(expert, amateur)):
        if e == a:
            continue
        is_ordinary = (e is not None and index not in expert_added) or (a is not None and index not in amateur_added)
        (ordinary if is_ordinary else special).append(SpecialTokenDifference(index, e, a))
    if ordinary:
        first = ordinary[0]
        raise TokenizerMismatchError(
            f'expert and amateur tokenizers differ at id {first.id}: expert {first.expert!r}, amateur '
            f'{first.amateur!r} ({len(ordinary)} ordinary and {len(special)} special ids of the '
            f'{shared_vocab_size} shared ids differ); LightReasoner needs the same vocabulary for both models')
    if special and special_differences == 'refuse':
        raise TokenizerMismatchError(
            f'expert and amateur tokenizers hold different special tokens at {len(special)} ids: '
            f'{_describe_ids(special)}; amateur.special_token_differences=allow compares them by id, as the '
            'reference does')
    return tuple(special)


def describe_special_differences(differences: tuple[SpecialTokenDifference, ...]) -> str:
    """One line for the log: which ids differ and what each side calls them."""
    return (f'expert and amateur tokenizers hold different special tokens at {len(differences)} ids (the '
            f'contrast compares the models there by id, as the reference does): {_describe_ids(differences, 50)}')


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


class StopTokenError(ValueError):
    """A configured stop token is not a token of the model's tokenizer."""


def token_ids(tokenizer, tokens, where) -> tuple[int, ...]:
    """The ids of whole tokens of `tokenizer` (special or ordinary); `where` names the tokenizer in errors."""
    vocab = tokenizer.get_vocab()
    for token in tokens:
        if token not in vocab:
            raise StopTokenError(f'expert.stop_tokens: {token!r} is not a token of the tokenizer of {where}')
    return tuple(int(vocab[token]) for token in tokens)


def stop_token_ids(model_path, tokenizer, model_config, stop_tokens=()) -> tuple[int, ...]:
    """The model's EOS ids (`eos_token_ids`) and the ids of `stop_tokens`, token strings of `tokenizer`
    (a base model answering in a chat template ends its turn with the template's end token, not EOS)."""
    ids = set(eos_token_ids(model_path, tokenizer, model_config)) | set(token_ids(tokenizer, stop_tokens, model_path))
    return tuple(sorted(ids))


def pad_token_id(tokenizer, eos_ids) -> int:
    """The tokenizer's pad id, else the first EOS id."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]
