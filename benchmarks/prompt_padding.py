"""How much of the sample stage's prefill is prompt padding, and whether the prompt-shape plan's cost model (padded
prompt tokens) picks the lengths that an executed-FLOP model would (issue 15). No model runs: the batches and
planned lengths are the sample stage's own (`collective_batches`' grouping, `plan_lengths`), the FLOPs those
of `real_scale.py`'s shapes (a Qwen2.5-0.5B-shaped expert and its 4-layer amateur, 128 new tokens).

python benchmarks/prompt_padding.py [--out=benchmarks/results/prompt_padding.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.real_scale import COMMON, SHAPES, forward_flops  # noqa: E402
from benchmarks.sampling_vs_reference import load_gsm8k_questions  # noqa: E402
from lightreasoner_jax.data import build_prompt_ids  # noqa: E402
from lightreasoner_jax.generation import bucket_length  # noqa: E402
from lightreasoner_jax.shape_plan import plan_lengths  # noqa: E402

NEW_TOKENS = 128


def step_flops(batch: int, length: int) -> float:
    """Executed matmul FLOPs of one sample step over [batch, length] prompts, both models: prefill over the
    prompt's slots, then NEW_TOKENS decode steps over length + NEW_TOKENS slots, the head at every decode step."""
    total = 0.0
    for shape in SHAPES.values():
        config = {**COMMON, **shape}
        total += forward_flops(config, batch * length, length, batch)
        total += NEW_TOKENS * forward_flops(config, batch, length + NEW_TOKENS, batch)
    return total


def flop_optimal(needed: list[int], max_lengths: int) -> list[int]:
    """The lengths (at most max_lengths of the needed ones) that minimise step_flops over all batches."""
    candidates = sorted(set(needed))
    best, best_cost = None, float('inf')
    for k in range(1, min(max_lengths, len(candidates)) + 1):
        for subset in itertools.combinations(candidates, k):
            if subset[-1] < max(needed):
                continue
            cost = sum(step_flops(1, next(p for p in subset if p >= n)) for n in needed)
            if cost < best_cost:
                best, best_cost = subset, cost
    return [next(p for p in best if p >= n) for n in needed]


def measure(prompt_lengths: list[int], batch_size: int, bucket: int, max_lengths: int) -> dict:
    ordered = sorted(prompt_lengths, reverse=True)  # batches_by_length: longest first
    batches = [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]
    needed = [bucket_length(max(b), bucket) for b in batches]
    planned = plan_lengths(needed, max_lengths) if max_lengths else needed
    optimal = flop_optimal(needed, max_lengths) if max_lengths else needed
    real = sum(prompt_lengths)
    padded = sum(batch_size * p for p in planned)  # every batch runs batch_size rows (short ones are dummies)
    flops = sum(step_flops(batch_size, p) for p in planned)
    flops_unpadded = sum(step_flops(1, n) for n in prompt_lengths) * batch_size * len(batches) / len(prompt_lengths)
    return {'questions': len(prompt_lengths), 'batches': len(batches), 'max_prompt_shapes': max_lengths,
            'bucket': bucket, 'planned_lengths': sorted(set(planned)), 'flop_optimal_lengths': sorted(set(optimal)),
            'padding_share_of_prefill_tokens': 1 - real / padded,
            'flops_tflop': flops / 1e12,
            'flops_if_every_prompt_ran_at_its_own_length_tflop': flops_unpadded / 1e12,
            'flop_optimal_plan_saves': 1 - sum(step_flops(batch_size, p) for p in optimal) / flops}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'prompt_padding.json'))
    args = parser.parse_args()
    from tests.paper_pairs import make_tokenizer
    tokenizer = make_tokenizer('qwen25')
    questions = load_gsm8k_questions(7473)
    lengths = [len(build_prompt_ids(tokenizer, q, system_prompt='Please reason step by step.')) for q in questions]
    rows = []
    for count in (64, 1024, 7473):
        for bucket in (16, 64):
            for max_lengths in (1, 2, 4, 0):
                rows.append(measure(lengths[:count], 64, bucket, max_lengths))
                print(json.dumps(rows[-1]), flush=True)
    Path(args.out).write_text(json.dumps({'tokenizer': 'the Qwen2.5 stand-in of tests/paper_pairs.py',
                                          'batch_size': 64, 'new_tokens': NEW_TOKENS, 'rows': rows}, indent=2))


if __name__ == '__main__':
    main()
