"""A tiny chat tokenizer for tests: the toy world's tokenizer pipeline trained on a few word problems."""

from __future__ import annotations

import transformers

from lightreasoner_jax.toyworld.tokenizer import train_chat_tokenizer

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
    return train_chat_tokenizer(WORD_PROBLEMS + list(corpus or []), vocab_size)
