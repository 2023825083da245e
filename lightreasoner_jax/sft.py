"""The SFT baseline as training records: every answer token is a position with a one-hot target.

KL(one-hot || p) is the cross-entropy, so supervised fine-tuning runs through the same packing,
loss and train step as the contrastive objective.
"""

from __future__ import annotations

from lightreasoner_jax import data as data_lib


def answer_record(question: data_lib.Question, prompt_ids: list[int], answer_ids: list[int]) -> dict:
    return {
        'id': question.id,
        'prompt_ids': prompt_ids,
        'completion_ids': answer_ids,
        'steps': list(range(len(answer_ids))),
        'kl': [0.0] * len(answer_ids),
        'target_ids': [[token] for token in answer_ids],
        'target_weights': [[1.0] for _ in answer_ids],
    }


def sft_records(config) -> list[dict]:
    """Records for the questions of config.data with their ground-truth answers, ended by EOS."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(str(config.expert.path))
    if tokenizer.eos_token_id is None:
        raise ValueError(f'{config.expert.path}: the tokenizer has no EOS token to end SFT answers with')
    data_cfg = config.data
    questions, _ = data_lib.questions_from_config(data_cfg)
    records = []
    for question in questions:
        if question.answer is None:
            raise ValueError(f'question {question.id!r} has no {data_cfg.answer_field!r}: SFT needs answers')
        prompt = data_lib.build_prompt_ids(tokenizer, question.question, system_prompt=data_cfg.system_prompt or None)
        answer = list(tokenizer.encode(question.answer, add_special_tokens=False)) + [tokenizer.eos_token_id]
        records.append(answer_record(question, prompt, answer))
    return records
