"""A tiny Qwen-style chat tokenizer (byte-level BPE + ChatML template) trained in-process for tests.

Its pipeline copies transformers' `Qwen2Tokenizer` (NFC, the Qwen split regex, byte level without
prefix space), because with `model_type: qwen2` next to it `AutoTokenizer` rebuilds that class from
vocab + merges; any other pipeline would load back encoding differently.
"""

from __future__ import annotations

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

WORD_PROBLEMS = [
    'Please reason step by step.',
    'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.',
    'How many clips did Natalia sell altogether in April and May?',
    'Natalia sold 48/2 = 24 clips in May.',
    'Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting.',
    'How much did she earn? Weng earns 12/60 = $0.2 per minute.',
    'Working 50 minutes, she earned 0.2 x 50 = $10.',
    'Betty is saving money for a new wallet which costs $100.',
    'Betty has only half of the money she needs.',
    'Her parents decided to give her $15 for that purpose, and her grandparents twice as much.',
    'How much more money does Betty need to buy the wallet?',
    'Julie is reading a 120-page book. Yesterday, she was able to read 12 pages.',
    'Today, she read twice as many pages as yesterday.',
    'If she wants to read half of the remaining pages tomorrow, how many pages should she read?',
    'There are 120 - 36 = 84 pages left to be read.',
    'James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?',
    'He writes each friend 3*2 = 6 pages a week.',
    'So he writes 6*2 = 12 pages every week. That means he writes 12*52 = 624 pages a year.',
    'Mark has a garden with flowers. He planted plants of three different colors in it.',
    'Ten of them are yellow, and there are 80% more of those in purple.',
    'There are only 25% as many green flowers as there are yellow and purple flowers.',
    'Albert is wondering how much pizza he can eat in one day.',
    'He buys 2 large pizzas and 2 small pizzas. A large pizza has 16 slices and a small pizza has 8 slices.',
    'Ken created a care package to send to his brother, who was away at boarding school.',
    'Alexis is applying for a new job and bought a new set of business clothes to wear to the interview.',
    'She went to a department store with a budget of $200 and spent $30 on a button-up shirt.',
    'Tina makes $18.00 an hour. If she works more than 8 hours per shift, she is eligible for overtime.',
    'Let x be the number of apples. Then 3x + 5 = 20, so x = 5.',
    'The answer is 42.',
    '#### 72',
    'Step 1: add the numbers. Step 2: multiply the result by 7.',
    'What is 17 + 25? First, 17 + 25 = 42. Therefore the total is 42 dollars.',
    'A train travels 60 miles per hour for 3 hours. How far does it go? 60 * 3 = 180 miles.',
    'Sam had 9 marbles and lost 4. He has 9 - 4 = 5 marbles left.',
    'If 5 pencils cost $1.25, each pencil costs 1.25 / 5 = $0.25.',
    'The sum of two numbers is 30 and their difference is 6; the numbers are 18 and 12.',
    "She doesn't know, so she'll count: one, two, three, four, five, six, seven, eight, nine, ten.",
    'The final answer is \\boxed{12}.',
]


def make_chat_tokenizer(corpus: list[str] | None = None, vocab_size: int = 300) -> transformers.PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer with ChatML special tokens and chat template, trained on word problems."""
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
    core.train_from_iterator(WORD_PROBLEMS + list(corpus or []), trainer=trainer)
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token=None, bos_token=None, eos_token=IM_END, pad_token=ENDOFTEXT,
        additional_special_tokens=[IM_START], chat_template=CHATML_TEMPLATE, add_prefix_space=False,
        model_max_length=32768, clean_up_tokenization_spaces=False)
