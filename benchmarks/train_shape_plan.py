"""Compiles vs padding in the train stage: one epoch of train_vs_reference.py's packed workload under
plans of at most N batch shapes, timing each update (the first update of each shape includes its compile).

    python benchmarks/train_shape_plan.py --max_shapes=5 --max_shapes=2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax
from flax import nnx

from benchmarks.train_vs_reference import make_records, write_expert
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.models.lora import LoraConfig, add_lora
from lightreasoner_jax.training import BatchConfig, OptimConfig, Trainer, update_plan
from lightreasoner_jax.training.objectives import OBJECTIVES


def one_epoch(expert_path: Path, records, max_shapes: int, num_updates: int) -> dict:
    batching = BatchConfig(mode='packed', max_batch_shapes=max_shapes)
    plan = update_plan(records, OBJECTIVES['contrast'], None, batching, num_updates)
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    model = load_hf(str(expert_path), mesh=mesh, dtype='float32')
    add_lora(model, LoraConfig(targets=('q_proj', 'v_proj'), rank=8, alpha=16, dropout=0.05), nnx.Rngs(0))
    trainer = Trainer(model, mesh, method='lora', optim=OptimConfig(num_steps=num_updates),
                            use_dropout=True, seed=0)
    first, rest, seen, tokens = 0.0, 0.0, set(), 0
    for step in range(num_updates):
        batch = plan.batch(step, records, batching)
        tokens += batch.input_ids.size
        start = time.perf_counter()
        jax.block_until_ready(trainer.step(batch, step))
        elapsed = time.perf_counter() - start
        if batch.input_ids.shape in seen:
            rest += elapsed
        else:
            seen.add(batch.input_ids.shape)
            first += elapsed
    return {'max_shapes': max_shapes, 'shapes': [list(s) for s in plan.shapes], 'padded_tokens': tokens,
            'first_update_of_each_shape_s': first, 'other_updates_s': rest, 'total_s': first + rest}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--max_shapes', type=int, action='append')
    parser.add_argument('--answers', type=int, default=60)
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'train_shape_plan.json'))
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix='lr_shape_plan_'))
    write_expert(root / 'expert')
    records = make_records(args.answers, seed=0)
    num_updates = sum(len(r.steps) for r in records) // 16
    results = [one_epoch(root / 'expert', records, n, num_updates) for n in args.max_shapes or [5, 2]]
    Path(args.out).write_text(json.dumps(results, indent=2) + '\n')
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
