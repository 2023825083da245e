"""A seeded generator of GSM8K-style multi-step arithmetic word problems with worked solutions.

A problem is a starting amount followed by events (gain, loss, scaling, equal sharing, buying k
groups of n), each one equation in the solution (k groups of n: two), 2-5 equations in all, which
ends in '#### <answer>' as GSM8K's does. Every intermediate amount stays a positive integer below
MAX_AMOUNT (a division always divides evenly), so the solution's equations can be checked by
evaluating them. Events are phrased several ways and carried by varied people and things, so a model
has to read the question, not just the template.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

MAX_AMOUNT = 99  # every number has at most two digits: small models can learn the arithmetic
MIN_STEPS, MAX_STEPS = 2, 5  # equations in a solution

NAMES = ('Ava', 'Ben', 'Carla', 'Dev', 'Emma', 'Farid', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Kira', 'Liam',
         'Maya', 'Noah', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Umar', 'Vera', 'Wes', 'Yuki', 'Zoe')
THINGS = ('apples', 'marbles', 'stickers', 'coins', 'books', 'cookies', 'pencils', 'shells', 'cards', 'stamps',
          'beads', 'eggs', 'toy cars', 'flowers', 'candles', 'buttons')
CONTAINERS = ('bags', 'boxes', 'jars', 'packs', 'crates', 'baskets')
FRIENDS = ('a friend', 'her brother', 'his sister', 'a neighbour', 'the school', 'a cousin')

Event = tuple[str, int]  # (operation, operand): 'add' | 'sub' | 'mul' | 'div' | 'add_groups'


@dataclasses.dataclass(frozen=True)
class Problem:
    id: str
    question: str
    answer: str        # the worked solution, ending in '#### <number>'
    result: int
    num_steps: int     # equations in the solution
    traps: tuple[tuple[str, int], ...] = ()  # the habit world's traps: (kind, the number it concerns)

    def to_json(self) -> dict:
        row = dataclasses.asdict(self)
        if self.traps:
            row['traps'] = dict(self.traps)
        else:
            del row['traps']  # the clean world's files stay as they were
        return row


def _events(rng: random.Random, start: int, steps: int) -> list[tuple[str, int, int]] | None:
    """Events from `start` making `steps` equations: (operation, operand, second operand or 0).
    None if it got stuck."""
    amount, events = start, []
    while steps > 0:
        choices = []
        if amount + 2 <= MAX_AMOUNT:
            choices.append('add')
        if amount > 3:
            choices.append('sub')
        if 2 * amount <= MAX_AMOUNT:
            choices.append('mul')
        if any(amount % k == 0 and amount // k >= 2 for k in range(2, 10)):
            choices.append('div')
        if amount + 4 <= MAX_AMOUNT and steps >= 2:
            choices.append('add_groups')
        if not choices:
            return None
        op = rng.choice(choices)
        if op == 'add':
            operand, extra = rng.randint(2, min(40, MAX_AMOUNT - amount)), 0
            amount += operand
        elif op == 'sub':
            operand, extra = rng.randint(1, min(40, amount - 1)), 0
            amount -= operand
        elif op == 'mul':
            operand, extra = rng.randint(2, min(9, MAX_AMOUNT // amount)), 0
            amount *= operand
        elif op == 'div':
            operand, extra = rng.choice([k for k in range(2, 10) if amount % k == 0 and amount // k >= 2]), 0
            amount //= operand
        else:  # k groups of n: two equations (k * n, then the sum)
            groups = rng.randint(2, 9)
            size = rng.randint(2, max(2, min(12, (MAX_AMOUNT - amount) // groups)))
            if amount + groups * size > MAX_AMOUNT:
                return None
            operand, extra = groups, size
            amount += groups * size
        events.append((op, operand, extra))
        steps -= 2 if op == 'add_groups' else 1
    return events


def _phrase(rng: random.Random, op: str, operand: int, extra: int, name: str, thing: str, container: str) -> str:
    options = {
        'add': (f'Then {name} finds {operand} more {thing}.', f'Later {name} gets {operand} {thing} as a gift.',
                f'Next {name} buys {operand} more {thing}.'),
        'sub': (f'Then {name} gives {operand} {thing} to {rng.choice(FRIENDS)}.', f'Next {name} loses {operand} {thing}.',
                f'After that {name} uses up {operand} {thing}.'),
        'mul': (f'Then the number of {thing} becomes {operand} times as large.',
                f'Next {name} multiplies the {thing} by {operand}.'),
        'div': (f'Then {name} shares the {thing} equally among {operand} friends and keeps one share.',
                f'Next {name} splits the {thing} into {operand} equal groups and keeps one group.'),
        'add_groups': (f'Then {name} buys {operand} {container} with {extra} {thing} in each.',
                       f'Next {name} receives {operand} {container} of {extra} {thing} each.'),
    }
    return rng.choice(options[op])


def _solution_lines(start: int, events, thing: str) -> tuple[list[str], int]:
    amount, lines = start, []
    for op, operand, extra in events:
        if op == 'add':
            lines.append(f'Adding {operand} gives {amount} + {operand} = {amount + operand} {thing}.')
            amount += operand
        elif op == 'sub':
            lines.append(f'Taking away {operand} leaves {amount} - {operand} = {amount - operand} {thing}.')
            amount -= operand
        elif op == 'mul':
            lines.append(f'Growing {operand} times gives {amount} * {operand} = {amount * operand} {thing}.')
            amount *= operand
        elif op == 'div':
            lines.append(f'One share of {operand} is {amount} / {operand} = {amount // operand} {thing}.')
            amount //= operand
        else:
            added = operand * extra
            lines.append(f'The new ones are {operand} * {extra} = {added} {thing}.')
            lines.append(f'Together that is {amount} + {added} = {amount + added} {thing}.')
            amount += added
    return lines, amount


def make_problem(rng: random.Random, index: int, prefix: str) -> Problem:
    while True:
        start = rng.randint(5, 50)
        events = _events(rng, start, rng.randint(MIN_STEPS, MAX_STEPS))
        if events is None:
            continue
        name, thing, container = rng.choice(NAMES), rng.choice(THINGS), rng.choice(CONTAINERS)
        sentences = [f'{name} has {start} {thing}.']
        sentences += [_phrase(rng, op, a, b, name, thing, container) for op, a, b in events]
        sentences.append(rng.choice((f'How many {thing} does {name} have now?',
                                     f'How many {thing} are left in the end?')))
        lines, result = _solution_lines(start, events, thing)
        lines.append(f'#### {result}')
        return Problem(id=f'{prefix}-{index:06d}', question=' '.join(sentences), answer='\n'.join(lines),
                       result=result, num_steps=len(lines) - 1)


def generate_problems(count: int, seed: int, prefix: str) -> Iterator[Problem]:
    rng = random.Random(seed)
    for index in range(count):
        yield make_problem(rng, index, prefix)


def make_splits(train_size: int, test_size: int, seed: int = 0) -> tuple[list[Problem], list[Problem]]:
    """Disjoint train and test splits: a test question never appears in train (compared by text)."""
    train = list(generate_problems(train_size, seed, 'train'))
    seen = {p.question for p in train}
    test, rng, index = [], random.Random(seed + 1_000_003), 0
    while len(test) < test_size:
        problem = make_problem(rng, index, 'test')
        index += 1
        if problem.question not in seen:
            seen.add(problem.question)
            test.append(problem)
    return train, test


def write_json_lines(problems: list[Problem], path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open('w') as f:
        for problem in problems:
            f.write(json.dumps(problem.to_json()) + '\n')


EQUATION = re.compile(r'(\d+) ([-+*/]) (\d+) = (\d+)')


def check_solution(answer: str) -> int:
    """The final answer, after checking every equation in the solution evaluates as written and the
    last one's result is the '####' answer. Raises ValueError naming the first wrong equation."""
    equations = EQUATION.findall(answer)
    if not equations:
        raise ValueError(f'no equations in {answer!r}')
    for a, op, b, c in equations:
        a, b, c = int(a), int(b), int(c)
        value = {'+': a + b, '-': a - b, '*': a * b, '/': a // b if b and a % b == 0 else None}[op]
        if value != c:
            raise ValueError(f'wrong equation {a} {op} {b} = {c}')
    final = re.search(r'#### (\d+)\s*$', answer)
    if final is None or int(final.group(1)) != int(equations[-1][3]):
        raise ValueError(f"the '####' answer is not the last equation's result in {answer!r}")
    return int(final.group(1))
