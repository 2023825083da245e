"""Where the ids whose special tokens differ between expert and amateur show up in sample records.

Such ids are compared by id, as the reference compares them (DeepSeek-R1-Distill-Qwen's `<｜User｜>` at
151644 meets Qwen2.5's `<|im_start|>`). These counts tell whether that ever matters: a differing id in
a kept step's stored plausible set, or as the token a kept step trains, would put a mislabelled
token into a target.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lightreasoner_jax.sampling.records import SampleRecord


def special_token_usage(records: Sequence[SampleRecord], ids: Iterable[int]) -> dict:
    """Counts over `records` of the ids `ids`: in prompts, in completions, as the token of a kept step,
    and in kept steps' stored plausible sets (the top_k tokens with weight > 0), with the steps affected."""
    ids = frozenset(int(i) for i in ids)
    usage = {'prompt_tokens': 0, 'prompts_with_any': 0, 'completion_tokens': 0, 'kept_step_tokens': 0,
             'plausible_set_entries': 0, 'kept_steps_with_any_in_plausible_set': 0}
    for record in records:
        in_prompt = sum(token in ids for token in record.prompt_ids)
        usage['prompt_tokens'] += in_prompt
        usage['prompts_with_any'] += in_prompt > 0
        usage['completion_tokens'] += sum(token in ids for token in record.completion_ids)
        usage['kept_step_tokens'] += sum(record.completion_ids[t] in ids for t in record.steps)
        for targets, weights in zip(record.target_ids, record.target_weights):
            entries = sum(token in ids and weight > 0 for token, weight in zip(targets, weights))
            usage['plausible_set_entries'] += entries
            usage['kept_steps_with_any_in_plausible_set'] += entries > 0
    return usage
