"""The habit world: problems whose correct reading differs from a generic language model's habits.

It models the paper's premise in miniature. A *generic corpus* (what a small web-trained model reads)
solves word problems with shortcuts that look right: "gives" means subtract, also where somebody gives
the person something (`receive_gives`); every number in the question gets used, so an irrelevant one is
added in (`distractor`); and a document does not stop after `#### N` but goes on with another exercise,
whose `#### M` then ends the text (`continuation`). A *reasoning corpus* solves the same kind of questions
correctly and stops. The amateur reads only the generic corpus; the expert reads it and then, for a
limited budget, the reasoning corpus, which leaves some of the habits in it.

Each habit's cue misleads on every reasoning problem that carries it: there "gives" always means the
person receives (giving away is phrased otherwise), a distractor is always irrelevant, and a solution
always stops. In the generic corpus "gives" also means giving away, which is where the habit comes
from. The generic corpus writes its habits in its own words ("Giving away 3 leaves ...", "Counting the 8
as well makes ..."; giving away is written so there too), which no correct solution uses, so a habit
shows at the first token of its line, as a run-on shows at the token after '#### N'. The arithmetic is
easy on purpose (one-digit operands, one equation per event) so that the expert's errors are its habits,
not slips.

Every trap leaves a computable habit answer (a habit's arithmetic never leaves 1..MAX_AMOUNT), and the
operands, the distractor and the starting amount of a problem are distinct numbers, so an answer's
error can be told apart by type (`error_types`).
"""

from __future__ import annotations

import dataclasses
import random
import re

from lightreasoner_jax.toyworld.problems import EQUATION, MAX_AMOUNT, NAMES, THINGS, Problem

_FINAL = re.compile(r'####\s*(-?\d+)')
TRAPS = ('receive_gives', 'distractor')
HABITS = TRAPS + ('continuation',)
GIVERS = ('a friend', 'her brother', 'his sister', 'a neighbour', 'a cousin', 'the teacher')
FRIENDS = ('a friend', 'her brother', 'his sister', 'a neighbour', 'the school', 'a cousin')
MIN_OPERAND, MAX_OPERAND = 2, 9  # one-digit operands: the arithmetic is not where the expert errs
PHRASES = {
    'add': ('Then {name} finds {n} more {thing}.', 'Later {name} gets {n} {thing} as a gift.',
            'Next {name} buys {n} more {thing}.'),
    'receive': ('Then {giver} gives {name} {n} {thing}.', 'Next {giver} gives {n} {thing} to {name}.'),
    'sub': ('Next {name} loses {n} {thing}.', 'After that {name} uses up {n} {thing}.',
            'Then {name} sells {n} {thing}.'),
    'give_away': ('Then {name} gives {n} {thing} to {friend}.',),  # the generic corpus's other "gives"
}


@dataclasses.dataclass(frozen=True)
class TrapRates:
    receive_gives: float = 0.5   # share of problems where someone gives the person things (add, not subtract)
    distractor: float = 0.5      # share of problems with an irrelevant number in the question
    continuation: float = 0.0    # share of generic documents that go on after '#### N'
    min_steps: int = 2           # equations in a correct solution (one per event)
    max_steps: int = 3


def _events(rng: random.Random, start: int, steps: int) -> list[tuple[str, int, int]] | None:
    """`steps` add/sub events from `start` with distinct one-digit operands (none equal to `start`), the
    amount staying in 1..MAX_AMOUNT; None if it got stuck."""
    amount, events, used = start, [], {start}
    for _ in range(steps):
        op = rng.choice(('add', 'sub'))
        free = [n for n in range(MIN_OPERAND, MAX_OPERAND + 1) if n not in used
                and 1 <= (amount + n if op == 'add' else amount - n) <= MAX_AMOUNT]
        if not free:
            return None
        operand = rng.choice(free)
        used.add(operand)
        amount += operand if op == 'add' else -operand
        events.append((op, operand, 0))
    return events


ADDING = ('add', 'count')  # 'count': the distractor habit's line; 'give': the "gives -> subtract" habit's line
LINES = {
    'add': 'Adding {n} gives {a} + {n} = {b} {thing}.',
    'sub': 'Taking away {n} leaves {a} - {n} = {b} {thing}.',
    'give': 'Giving away {n} leaves {a} - {n} = {b} {thing}.',
    'count': 'Counting the {n} as well makes {a} + {n} = {b} {thing}.',
}


def _amount_after(start: int, events) -> int | None:
    amount = start
    for op, operand, _ in events:
        amount += operand if op in ADDING else -operand
        if not 1 <= amount <= MAX_AMOUNT:
            return None
    return amount


def _solution(start: int, events, thing: str) -> tuple[list[str], int]:
    """One line per event, then '#### N'. A habit's line opens with its own word ('Giving away',
    'Counting'), which no correct solution uses: where a habit shows, it shows at the line's first token."""
    amount, lines = start, []
    for op, operand, _ in events:
        after = amount + operand if op in ADDING else amount - operand
        lines.append(LINES[op].format(n=operand, a=amount, b=after, thing=thing))
        amount = after
    return lines + [f'#### {amount}'], amount


def _distractor_sentence(rng: random.Random, name: str, value: int, thing: str) -> str:
    other = rng.choice([t for t in THINGS if t != thing])
    return rng.choice((f'{name} is {value} years old.', f'{name}\'s cousin has {value} {other}.',
                       f'The shop down the street sells {value} kinds of {other}.'))


def make_habit_problem(rng: random.Random, index: int, prefix: str, rates: TrapRates, *,
                       habit_solution: bool = False) -> Problem:
    """A problem with traps drawn at `rates`; its answer is the correct solution, or (habit_solution) the
    generic corpus's solution by the habits (which, with no trap drawn, is the correct one). Generic
    documents also phrase some losses as giving away."""
    while True:
        start = rng.randint(10, 40)
        events = _events(rng, start, rng.randint(rates.min_steps, rates.max_steps))
        if events is None:
            continue
        traps = {}
        adds = [i for i, (op, _, _) in enumerate(events) if op == 'add']
        receive_at = rng.choice(adds) if adds and rng.random() < rates.receive_gives else None
        habit_events = list(events)
        if receive_at is not None:
            traps['receive_gives'] = events[receive_at][1]
            habit_events[receive_at] = ('give', events[receive_at][1], 0)
        if rng.random() < rates.distractor:
            used = {start} | {operand for _, operand, _ in events}
            traps['distractor'] = rng.choice([n for n in range(MIN_OPERAND, MAX_OPERAND + 1) if n not in used])
            # counted in last: the habit adds a line where the solution should stop, and leaves the lines
            # before it (which event comes next) as the correct solution has them
            habit_events = habit_events + [('count', traps['distractor'], 0)]
        if traps and _amount_after(start, habit_events) is None:
            continue  # a habit answer must exist for every trap
        name, thing = rng.choice(NAMES), rng.choice(THINGS)
        # the generic rephrasing draws from its own generator, so both solutions of a draw share the rest
        rephrase = random.Random(rng.getrandbits(32))
        sentences = [f'{name} has {start} {thing}.']
        if 'distractor' in traps:
            sentences.append(_distractor_sentence(rng, name, traps['distractor'], thing))
        for i, (op, operand, _) in enumerate(events):
            fields = dict(name=name, n=operand, thing=thing, giver=rng.choice(GIVERS), friend=rng.choice(FRIENDS))
            sentence = rng.choice(PHRASES['receive' if i == receive_at else op]).format(**fields)
            if op == 'sub' and habit_solution and rephrase.random() < 1 / 3:
                sentence = rephrase.choice(PHRASES['give_away']).format(**fields)
                habit_events[habit_events.index((op, operand, 0))] = ('give', operand, 0)
            sentences.append(sentence)
        sentences.append(rng.choice((f'How many {thing} does {name} have now?',
                                     f'How many {thing} are left in the end?')))
        lines, result = _solution(start, habit_events if habit_solution else events, thing)
        answer = '\n'.join(lines)
        if habit_solution and rng.random() < rates.continuation:
            answer += _continuation(rng)
        return Problem(id=f'{prefix}-{index:06d}', question=' '.join(sentences), answer=answer, result=result,
                       num_steps=len(lines) - 1, traps=tuple(sorted(traps.items())))


def _continuation(rng: random.Random) -> str:
    """Another exercise after the answer, as web text runs on: its '#### M' ends the document."""
    a, b = rng.randint(10, 40), rng.randint(MIN_OPERAND, MAX_OPERAND)
    thing = rng.choice(THINGS)
    return rng.choice((f'\n\nTry another one. {rng.choice(NAMES)} has {a} {thing} and gets {b} more.\n'
                       f'{a} + {b} = {a + b}\n#### {a + b}',
                       f'\n\nPractice: {a} {thing} and {b} {thing} make {a} + {b} = {a + b}.\n#### {a + b}'))
def error_types(problem: Problem, completion: str) -> tuple[str, ...]:
    """Why a completion is wrong, by habit: 'continuation' (text after the first '#### N' and a different
    final answer), 'receive_gives' / 'distractor' (its equations subtract the given amount / use the
    irrelevant number), else 'other' (arithmetic slips and the rest). () when the final answer is right."""
    finals = list(_FINAL.finditer(completion))
    if finals and int(finals[-1].group(1)) == problem.result:
        return ()
    found = []
    if len(finals) > 1 or (finals and completion[finals[0].end():].strip()):
        found.append('continuation')
    traps = dict(problem.traps)
    equations = EQUATION.findall(completion.split('####', 1)[0])
    correct = EQUATION.findall(problem.answer)
    # a trap's number counts only where the correct solution could not have put it
    if 'receive_gives' in traps and not any(op == '-' and int(b) == traps['receive_gives'] for _, op, b, _ in correct) \
            and any(op == '-' and int(b) == traps['receive_gives'] for _, op, b, _ in equations):
        found.append('receive_gives')
    if 'distractor' in traps and not any(int(b) == traps['distractor'] for _, _, b, _ in correct) \
            and any(int(b) == traps['distractor'] for _, _, b, _ in equations):
        found.append('distractor')
    if found == ['continuation'] and finals and int(finals[0].group(1)) != problem.result:
        found.append('other')  # wrong before it ran on
    return tuple(found) or ('other',)


def generic_corpus(count: int, seed: int, rates: TrapRates) -> list[Problem]:
    """Documents a generic model learns habits from: habit solutions, some running on after the answer."""
    rng = random.Random(seed)
    return [make_habit_problem(rng, i, 'generic', rates, habit_solution=True) for i in range(count)]


def reasoning_problems(count: int, seed: int, rates: TrapRates, prefix: str,
                       exclude: frozenset[str] = frozenset()) -> list[Problem]:
    """Problems with correct solutions whose questions are not in `exclude` (nor repeated)."""
    rng, out, seen, index = random.Random(seed), [], set(exclude), 0
    while len(out) < count:
        problem = make_habit_problem(rng, index, prefix, rates)
        index += 1
        if problem.question not in seen:
            seen.add(problem.question)
            out.append(problem)
    return out


def make_splits(params: dict) -> dict[str, list[Problem]]:
    """generic (habit solutions), train, dev, test (correct solutions) and basics (correct solutions of
    problems without traps: how to solve, before learning where the habits mislead); the reasoning splits'
    questions are pairwise disjoint and none is a generic document's question."""
    seed = params['seed']
    reasoning = TrapRates(receive_gives=params['receive_gives'], distractor=params['distractor'],
                          min_steps=params.get('min_steps', 2), max_steps=params.get('max_steps', 3))
    generic = generic_corpus(params['generic_size'], seed, dataclasses.replace(
        reasoning, continuation=params['continuation']))
    used = frozenset(p.question for p in generic)
    out = {'generic': generic}
    for offset, name in enumerate(('train', 'dev', 'test'), start=1):
        out[name] = reasoning_problems(params[f'{name}_size'], seed + 1_000_003 * offset, reasoning, name, used)
        used |= {p.question for p in out[name]}
    # drawn last, so that adding it left the other splits as they were
    out['basics'] = reasoning_problems(params.get('basics_size', 0), seed + 1_000_003 * 4, dataclasses.replace(
        reasoning, receive_gives=0.0, distractor=0.0), 'basics', used)
    return out


def error_breakdown(problems_by_id: dict[str, Problem], predictions: list[dict]) -> dict:
    """How many answers are wrong, and how many of those show each habit ('other': none of them), from
    prediction records (id, correct, completion) of problems of this world."""
    wrong = [p for p in predictions if not p['correct']]
    types = [error_types(problems_by_id[p['id']], p['completion']) for p in wrong]
    counts = {kind: sum(kind in t for t in types) for kind in HABITS + ('other',)}
    with_habit = sum(1 for t in types if set(t) - {'other'})
    return {'answers': len(predictions), 'wrong': len(wrong), 'wrong_with_a_habit': with_habit,
            'habit_share_of_errors': with_habit / len(wrong) if wrong else 0.0, 'by_type': counts}
