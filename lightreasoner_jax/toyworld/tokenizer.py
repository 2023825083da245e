"""A Qwen-style chat tokenizer (byte-level BPE + ChatML special tokens and template) trained on a corpus.

Its pipeline copies transformers' `Qwen2Tokenizer` (NFC, the Qwen split regex, which puts every digit
in a token of its own, byte level without prefix space), because with `model_type: qwen2` next to
it `AutoTokenizer` rebuilds that class from vocab + merges; any other pipeline would load back
encoding differently.
"""

from __future__ import annotations

from collections.abc import Iterable

import transformers
from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

ENDOFTEXT, IM_START, IM_END = '<|endoftext|>', '<|im_start|>', '<|im_end|>'
SPECIAL_TOKENS = [ENDOFTEXT, IM_START, IM_END]  # ids 0, 1, 2: trained first, so they come first

# transformers.models.qwen2.tokenization_qwen2.PRETOKENIZE_REGEX
QWEN2_SPLIT_REGEX = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
                     r"""|\s*[\r\n]+|\s+(?!\S)|\s+""")

# Qwen2.5's template, minus tool calls: a system turn only when one is given.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def train_chat_tokenizer(corpus: Iterable[str], vocab_size: int) -> transformers.PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with ChatML special tokens (ids 0-2) and chat template, trained on `corpus`."""
    core = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    core.normalizer = normalizers.NFC()
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior='isolated', invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
        # all 256 bytes, so any text encodes (Qwen never needs an unknown token)
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    core.train_from_iterator(corpus, trainer=trainer)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token=None, bos_token=None, eos_token=IM_END, pad_token=ENDOFTEXT,
        additional_special_tokens=[IM_START], chat_template=CHATML_TEMPLATE, add_prefix_space=False,
        model_max_length=32768, clean_up_tokenization_spaces=False)
