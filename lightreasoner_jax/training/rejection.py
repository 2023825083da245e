"""Rejection-sampling SFT, the paper's "SFT" baseline: sample n answers per training question at a
temperature, keep the ones whose final answer is right (graded against the gold answer), and fine-tune on
those as ground truth. Unlike LightReasoner it needs the labels."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from lightreasoner_jax import data as data_lib

SEPARATOR = '#rs'  # the id of the k-th sampled answer to question q: f'{q}#rs{k}'


@dataclasses.dataclass(frozen=True)
class RejectionConfig:
    samples_per_question: int = 4
    temperature: float = 0.7
    seed: int = 0

    def __post_init__(self):
        if self.samples_per_question < 1:
            raise ValueError(f'samples_per_question must be >= 1, got {self.samples_per_question}')
        if self.temperature <= 0:
            raise ValueError(f'rejection sampling needs a temperature > 0, got {self.temperature}')


def repeated_questions(questions: Sequence[data_lib.Question], n: int) -> list[data_lib.Question]:
    """Each question n times, ids '<id>#rs<k>', in question order (k inner)."""
    return [dataclasses.replace(q, id=f'{q.id}{SEPARATOR}{k}') for q in questions for k in range(n)]


def accepted_answers(questions: Sequence[data_lib.Question], predictions: Sequence[dict]) -> list[data_lib.Question]:
    """The correct sampled answers as questions with those answers (one per distinct completion of a
    question, in question order): what SFT then trains on."""
    by_question: dict[str, list[str]] = {}
    for prediction in sorted(predictions, key=lambda p: p['id']):
        if prediction['correct']:
            texts = by_question.setdefault(prediction['id'].rsplit(SEPARATOR, 1)[0], [])
            if prediction['completion'] not in texts:
                texts.append(prediction['completion'])
    return [dataclasses.replace(q, id=f'{q.id}{SEPARATOR}{k}', answer=text)
            for q in questions for k, text in enumerate(by_question.get(q.id, []))]
