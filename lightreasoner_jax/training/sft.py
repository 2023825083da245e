"""The SFT baseline as training records: every answer token is a position with a one-hot target.

KL(one-hot || p) is the cross-entropy, so supervised fine-tuning runs through the same packing,
loss and train step as the contrastive objective.
"""

from __future__ import annotations

from collections.abc import Sequence

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.sampling.records import SampleRecord


def answer_record(question: data_lib.Question, prompt_ids: list[int], answer_ids: list[int]) -> SampleRecord:
    return SampleRecord(id=question.id, prompt_ids=prompt_ids, completion_ids=answer_ids,
                        steps=list(range(len(answer_ids))), kl=[0.0] * len(answer_ids),
                        target_ids=[[token] for token in answer_ids], target_weights=[[1.0] for _ in answer_ids])


def sft_records(tokenizer, questions: Sequence[data_lib.Question], *, system_prompt: str | None,
                answer_field: str = 'answer') -> list[SampleRecord]:
    """Records for `questions` with their ground-truth answers, each ended by the tokenizer's EOS."""
    if tokenizer.eos_token_id is None:
        raise ValueError(f'{getattr(tokenizer, "name_or_path", "the tokenizer")}: no EOS token to end SFT answers with')
    records = []
    for question in questions:
        if question.answer is None:
            raise ValueError(f'question {question.id!r} has no {answer_field!r}: SFT needs answers')
        prompt = data_lib.build_prompt_ids(tokenizer, question.question, system_prompt=system_prompt or None)
        answer = list(tokenizer.encode(question.answer, add_special_tokens=False)) + [tokenizer.eos_token_id]
        records.append(answer_record(question, prompt, answer))
    return records
