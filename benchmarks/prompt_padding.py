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


def prefill_flops(rows: int, length: int) -> float:
    """Both models' prefill of [rows, length] prompts (attention over the prompt's slots)."""
    return sum(forward_flops({**COMMON, **shape}, rows * length, length, rows) for shape in SHAPES.values())


def step_flops(batch: int, length: int, blocks: tuple[int, ...] = ()) -> float:
    """Executed matmul FLOPs of one sample step over [batch, length] prompts, both models: prefill over the
    prompt's slots (or per block of rows at the block's length: generation.prefill_groups), then NEW_TOKENS
    decode steps over length + NEW_TOKENS slots, the head at every decode step."""
    blocks = blocks or (length,)
    total = sum(prefill_flops(batch // len(blocks), n) for n in blocks)
    for shape in SHAPES.values():
        total += NEW_TOKENS * forward_flops({**COMMON, **shape}, batch, length + NEW_TOKENS, batch)
    return total


def block_lengths(batch: list[int], batch_size: int, length: int, bucket: int, groups: int) -> tuple[int, ...]:
    """The prefill's block lengths for one batch of prompt lengths, as the sample stage plans them
    (`PromptBatcher.row_groups` on one device); (length,) for one prefill."""
    from lightreasoner_jax.generation import PromptBatcher
    from lightreasoner_jax.sharding import make_mesh
    batcher = PromptBatcher(make_mesh(data=1, fsdp=1, tensor=1), batch_size=batch_size, bucket=bucket, pad_id=0,
                            prefill_groups=groups)
    return batcher.row_groups([[0] * n for n in batch], length) or (length,)


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


def measure(prompt_lengths: list[int], batch_size: int, bucket: int, max_lengths: int, groups: int = 1) -> dict:
    ordered = sorted(prompt_lengths, reverse=True)  # batches_by_length: longest first
    batches = [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]
    needed = [bucket_length(max(b), bucket) for b in batches]
    planned = plan_lengths(needed, max_lengths) if max_lengths else needed
    optimal = flop_optimal(needed, max_lengths) if max_lengths else needed
    blocks = [block_lengths(b, batch_size, p, bucket, groups) for b, p in zip(batches, planned)]
    real = sum(prompt_lengths)
    padded = sum(batch_size // len(b) * sum(b) for b in blocks)  # every batch runs batch_size rows (dummies too)
    flops = sum(step_flops(batch_size, p, b) for p, b in zip(planned, blocks))
    flops_unpadded = sum(step_flops(1, n) for n in prompt_lengths) * batch_size * len(batches) / len(prompt_lengths)
    return {'questions': len(prompt_lengths), 'batches': len(batches), 'max_prompt_shapes': max_lengths,
            'bucket': bucket, 'prefill_groups': groups, 'step_shapes': len(set(zip(planned, blocks))),
            'planned_lengths': sorted(set(planned)), 'flop_optimal_lengths': sorted(set(optimal)),
            'padding_share_of_prefill_tokens': 1 - real / padded,
            'flops_tflop': flops / 1e12,
            'flops_if_every_prompt_ran_at_its_own_length_tflop': flops_unpadded / 1e12,
            'flop_optimal_plan_saves': 1 - sum(step_flops(batch_size, p, block_lengths(batch, batch_size, p, bucket, groups))
                                               for batch, p in zip(batches, optimal)) / flops}


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
        for groups in (2, 4, 8):  # generation.prefill_groups at the default plan (bucket 64, 2 lengths)
            rows.append(measure(lengths[:count], 64, 64, 2, groups))
            print(json.dumps(rows[-1]), flush=True)
    Path(args.out).write_text(json.dumps({'tokenizer': 'the Qwen2.5 stand-in of tests/paper_pairs.py',
                                          'batch_size': 64, 'new_tokens': NEW_TOKENS, 'rows': rows}, indent=2))


if __name__ == '__main__':
    main()
