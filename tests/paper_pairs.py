"""Stand-ins for the paper's five expert/amateur pairs, built without downloads.

Each tokenizer is a small byte-level BPE (the toy world's Qwen2 pipeline) padded with unreachable filler
tokens to Qwen2.5's 151,643 ordinary ids, followed by the special-token table of the real tokenizer at
the real ids, its chat template, and its BOS/EOS/pad tokens. Qwen2.5's table (Qwen2.5-0.5B, Qwen2.5-Math)
and DeepSeek-R1-Distill-Qwen-1.5B's (tokenizer_config.json, added_tokens_decoder) differ at 151643-151649.
The models are tiny random Qwen2 models with each checkpoint's real vocabulary size (embedding rows),
tied or untied embeddings, q/k/v biases, and its generation_config.json.
"""

from __future__ import annotations

import functools
import json

import transformers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from lightreasoner_jax.toyworld.tokenizer import QWEN2_SPLIT_REGEX
from tests.chat_tokenizer import WORD_PROBLEMS
from tests.tiny_models import build_torch_model

ORDINARY_SIZE = 151643  # Qwen2.5's byte-level BPE: ids 0..151642

# (content, special) from id 151643 on, as each tokenizer_config.json lists them.
QWEN25_ADDED = [('<|endoftext|>', True), ('<|im_start|>', True), ('<|im_end|>', True), ('<|object_ref_start|>', True),
                ('<|object_ref_end|>', True), ('<|box_start|>', True), ('<|box_end|>', True)]
DEEPSEEK_ADDED = [('<｜end▁of▁sentence｜>', True), ('<｜User｜>', False), ('<｜Assistant｜>', False),
                  ('<｜begin▁of▁sentence｜>', True), ('<|EOT|>', False), ('<think>', False), ('</think>', False)]
SHARED_ADDED = [('<|quad_start|>', True), ('<|quad_end|>', True), ('<|vision_start|>', True), ('<|vision_end|>', True),
                ('<|vision_pad|>', True), ('<|image_pad|>', True), ('<|video_pad|>', True), ('<tool_call>', False),
                ('</tool_call>', False), ('<|fim_prefix|>', False), ('<|fim_middle|>', False), ('<|fim_suffix|>', False),
                ('<|fim_pad|>', False), ('<|repo_name|>', False), ('<|file_sep|>', False)]

# Qwen2.5's ChatML template without its tool branches; a missing system turn gets the checkpoint's default.
_CHATML = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nDEFAULT_SYSTEM<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}{%- if message['role'] != 'system' %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
QWEN25_TEMPLATE = _CHATML.replace('DEFAULT_SYSTEM', 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.')
QWEN25_MATH_TEMPLATE = _CHATML.replace('DEFAULT_SYSTEM', 'Please reason step by step, and put your final answer '
                                                         'within \\\\boxed{}.')
# DeepSeek-R1-Distill-Qwen's template without its tool branches: BOS, the system text bare, then the turns.
DEEPSEEK_TEMPLATE = (
    "{% set ns = namespace(system_prompt='') %}"
    "{%- for message in messages %}{%- if message['role'] == 'system' %}"
    "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
    "{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'user' %}{{ '<｜User｜>' + message['content'] }}{%- endif %}"
    "{%- if message['role'] == 'assistant' %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{ '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}{%- endif %}"
    "{%- endfor %}"
    "{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}")

TOKENIZERS = {
    # name: (added tokens after the ordinary vocabulary, template, bos, eos, pad)
    'qwen25': (QWEN25_ADDED + SHARED_ADDED, QWEN25_TEMPLATE, None, '<|endoftext|>', '<|endoftext|>'),
    'qwen25_math': (QWEN25_ADDED + SHARED_ADDED, QWEN25_MATH_TEMPLATE, None, '<|endoftext|>', '<|endoftext|>'),
    'qwen25_math_instruct': (QWEN25_ADDED + SHARED_ADDED, QWEN25_MATH_TEMPLATE, None, '<|im_end|>', '<|endoftext|>'),
    'deepseek_r1_distill': (DEEPSEEK_ADDED + SHARED_ADDED, DEEPSEEK_TEMPLATE, '<｜begin▁of▁sentence｜>',
                            '<｜end▁of▁sentence｜>', '<｜end▁of▁sentence｜>'),
}

_BASE = {'bos_token_id': 151643, 'eos_token_id': 151643, 'do_sample': False, 'max_new_tokens': 2048}
_INSTRUCT = {'bos_token_id': 151643, 'pad_token_id': 151643, 'eos_token_id': [151645, 151643], 'do_sample': True,
             'temperature': 0.7, 'top_p': 0.8, 'top_k': 20}
# preset: (tokenizer, embedding rows, tied embeddings, generation_config.json); every one's amateur is Qwen2.5-0.5B
PRESETS = {
    'qwen25_math_1p5b': ('qwen25_math', 151936, True, _BASE),
    'qwen25_math_1p5b_instruct': ('qwen25_math_instruct', 151936, True, _INSTRUCT),
    'qwen25_math_7b': ('qwen25_math', 152064, False, _BASE),
    'qwen25_math_7b_instruct': ('qwen25_math_instruct', 152064, False, _INSTRUCT),
    'deepseek_r1_distill_qwen_1p5b': ('deepseek_r1_distill', 151936, False,
                                      {'bos_token_id': 151646, 'eos_token_id': 151643, 'do_sample': True,
                                       'temperature': 0.6, 'top_p': 0.95}),
}
AMATEUR = ('qwen25', 151936, True, {'bos_token_id': 151643, 'eos_token_id': 151643, 'max_new_tokens': 2048})


def _bpe(vocab_size: int = 320) -> dict:
    """A small byte-level BPE (as tokenizer.json's dict) trained on word problems, no special tokens."""
    core = Tokenizer(models.BPE(unk_token=None, fuse_unk=False, byte_fallback=False))
    core.normalizer = normalizers.NFC()
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT_REGEX), behavior='isolated', invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    core.decoder = decoders.ByteLevel()
    core.train_from_iterator(WORD_PROBLEMS, trainer=trainers.BpeTrainer(
        vocab_size=vocab_size, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return json.loads(core.to_str())


@functools.cache  # ~6 s each; callers only save or read them
def make_tokenizer(name: str, *, ordinary_change: int | None = None) -> transformers.PreTrainedTokenizerFast:
    """The stand-in tokenizer `name`; `ordinary_change` renames the token at that ordinary id (a real BPE
    mismatch)."""
    added, template, bos, eos, pad = TOKENIZERS[name]
    spec = _bpe()
    vocab = spec['model']['vocab']
    # fillers: in the vocabulary, never produced (no merge builds them), so text encodes as with the small BPE
    for index in range(len(vocab), ORDINARY_SIZE):
        vocab[f'<filler{index}>'] = index
    if ordinary_change is not None:
        old = next(token for token, index in vocab.items() if index == ordinary_change)
        vocab[f'<changed{ordinary_change}>'] = vocab.pop(old)
    core = Tokenizer.from_str(json.dumps(spec))
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token=None, chat_template=template, add_prefix_space=False,
        model_max_length=32768, clean_up_tokenization_spaces=False)
    for content, special in added:  # one at a time: ids in table order, each with its own special flag
        tokenizer.add_tokens([AddedToken(content, special=special, normalized=False)], special_tokens=special)
    tokenizer.add_special_tokens({k: v for k, v in (('bos_token', bos), ('eos_token', eos), ('pad_token', pad)) if v})
    return tokenizer


def write_checkpoint(path, tokenizer_name: str, vocab_size: int, tied: bool, generation_config: dict, *,
                     layers: int = 2, seed: int = 0, tokenizer=None) -> None:
    """A tiny random Qwen2 checkpoint with the stand-in tokenizer and the given generation_config.json."""
    eos = generation_config['eos_token_id']
    model = build_torch_model('qwen2_tied' if tied else 'qwen2_untied', vocab_size=vocab_size, seed=seed,
                              hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                              bos_token_id=generation_config.get('bos_token_id'),
                              eos_token_id=eos if isinstance(eos, int) else eos[-1], pad_token_id=None)
    model.save_pretrained(path)
    (tokenizer or make_tokenizer(tokenizer_name)).save_pretrained(path)
    (path / 'generation_config.json').write_text(json.dumps(generation_config, indent=2))


def write_preset_pair(root, preset: str) -> tuple:
    """root/expert and root/amateur for `preset`, as the real checkpoints' shapes and token tables."""
    write_checkpoint(root / 'expert', *PRESETS[preset], layers=2, seed=1)
    write_checkpoint(root / 'amateur', *AMATEUR, layers=1, seed=2)
    return root / 'expert', root / 'amateur'
