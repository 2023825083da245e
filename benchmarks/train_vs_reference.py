"""Training throughput on the same kept steps: ours packed, ours per-position, and the reference.

Reference (HKUDS/LightReasoner's LightR_finetuning.py, re-implemented on transformers + peft): LoRA r=8,
alpha 16, dropout 0.05 on q_proj/v_proj; per step a right-padded batch of 8 sequences (prompt + prefix, one
kept position each), KL(v || softmax(logits at the position)) with `batchmean`, 2 accumulation steps,
AdamW lr 5e-5 with linear decay, clip 1.0. (We read each row's last real token, not the reference's
`logits[:, -1]`, which is a pad position for most rows; the cost is the same.)

Ours: the `train` stage, packed (one forward per run of an answer's steps) and per_position, with the
same LoRA, optimizer and 16 positions per update. All three train one epoch over the same positions.

    python benchmarks/train_vs_reference.py --answers=60
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
import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.compile_time import CompileTimer
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.pipeline import train_stage
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store as samples_lib
from lightreasoner_jax.sampling.records import SampleRecord
from tests.tiny_models import build_torch_model

VOCAB = 1024


def make_records(answers: int, seed: int, prompt_len=(80, 160), completion_len=128, kept_fraction=0.26, top_k=8):
    """Answers shaped like sampling output: ~a quarter of 127 candidate steps kept, sparse targets."""
    rng = np.random.RandomState(seed)
    records = []
    for i in range(answers):
        prompt = rng.randint(3, VOCAB, rng.randint(*prompt_len)).tolist()
        completion = rng.randint(3, VOCAB, completion_len).tolist()
        steps = sorted(rng.choice(np.arange(1, completion_len), int(kept_fraction * (completion_len - 1)),
                                  replace=False).tolist())
        ids, weights = [], []
        for _ in steps:
            k = rng.randint(1, top_k + 1)
            ids.append(rng.choice(VOCAB, k, replace=False).tolist())
            weights.append(rng.dirichlet(np.ones(k)).tolist())
        records.append(SampleRecord(id=f'a{i}', prompt_ids=prompt, completion_ids=completion, steps=steps,
                                    kl=[1.0] * len(steps), target_ids=ids, target_weights=weights))
    return records


def write_expert(path: Path):
    """The benchmark's expert: a random Qwen2 with 4 layers x 256 (GQA 8/2), vocab 1,024, HF format."""
    build_torch_model('qwen2_untied', VOCAB, seed=1, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                      num_attention_heads=8, num_key_value_heads=2, max_position_embeddings=1024,
                      bos_token_id=None, eos_token_id=2, pad_token_id=0).save_pretrained(path)


def reference_training(expert_path, records, *, positions_per_update=16, batch_size=8, lr=5e-5, seed=0,
                       max_updates=None):
    import peft
    import transformers
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_pretrained(expert_path, dtype=torch.float32)
    model = peft.get_peft_model(model, peft.LoraConfig(r=8, lora_alpha=16, target_modules=['q_proj', 'v_proj'],
                                                       lora_dropout=0.05, bias='none', task_type='CAUSAL_LM'))
    model.train()
    examples = [(r.prompt_ids + r.completion_ids[:t], r.target_ids[j], r.target_weights[j])
                for r in records for j, t in enumerate(r.steps)]
    order = np.random.RandomState(seed).permutation(len(examples))
    accumulation = positions_per_update // batch_size
    num_updates = len(examples) // positions_per_update
    if max_updates is not None:  # a subset of the updates (the learning-rate decay still spans the epoch)
        num_updates_run = min(num_updates, max_updates)
    else:
        num_updates_run = num_updates
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr, betas=(0.9, 0.999),
                                  eps=1e-8, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: max(0.0, 1 - s / num_updates))
    vocab = model.config.vocab_size
    losses = []
    for update in range(num_updates_run):
        for micro in range(accumulation):
            start = (update * accumulation + micro) * batch_size
            batch = [examples[i] for i in order[start:start + batch_size]]
            lengths = [len(ids) for ids, _, _ in batch]
            input_ids = torch.zeros((len(batch), max(lengths)), dtype=torch.long)
            mask = torch.zeros_like(input_ids)
            labels = torch.zeros((len(batch), vocab))
            for row, (ids, target_ids, target_weights) in enumerate(batch):
                input_ids[row, :len(ids)] = torch.tensor(ids)
                mask[row, :len(ids)] = 1
                labels[row, target_ids] = torch.tensor(target_weights, dtype=torch.float32)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            last = logits[torch.arange(len(batch)), torch.tensor(lengths) - 1]
            loss = F.kl_div(F.log_softmax(last, dim=-1), labels, reduction='batchmean') / accumulation
            loss.backward()
            losses.append(float(loss) * accumulation)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    return num_updates_run, losses


def our_training(root: Path, mode: str, num_updates: int, name: str, timer: CompileTimer):
    config = load_config_file(str(ROOT / 'configs' / 'default.py'))
    config.unlock()
    config.expert.path, config.expert.dtype = str(root / 'expert'), 'float32'
    config.train.samples_dir = str(root / 'samples')
    config.train.mode = mode
    config.train.optim.num_steps = num_updates
    config.train.log_every = 25
    config.train.checkpoint.save_every = 10 ** 6
    timer.reset()
    start = time.perf_counter()
    summary = train_stage.run(config, Workdir(root / name), shd.make_mesh(data=1, fsdp=-1, tensor=1))
    seconds = time.perf_counter() - start
    rows = [json.loads(line) for line in (root / name / 'train' / 'metrics.jsonl').read_text().splitlines()]
    return seconds, rows, {'compile_seconds': timer.seconds, 'train_step_compiles': summary['compiled_batch_shapes'],
                           'batch_shapes': summary['batch_shapes']}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--answers', type=int, default=60)
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'train_vs_reference.json'))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    root = Path(tempfile.mkdtemp(prefix='lr_train_bench_'))
    write_expert(root / 'expert')
    records = make_records(args.answers, seed=0)
    (root / 'samples').mkdir()
    samples_lib.append_records(root / 'samples' / samples_lib.sample_file_name(0, 1), records)
    positions = sum(len(r.steps) for r in records)
    num_updates = positions // 16

    timer = CompileTimer()
    packed_s, packed_rows, packed_compiles = our_training(root, 'packed', num_updates, 'packed', timer)
    per_position_s, _, per_position_compiles = our_training(root, 'per_position', num_updates, 'per_position', timer)
    start = time.perf_counter()
    reference_updates, _ = reference_training(root / 'expert', records)
    reference_s = time.perf_counter() - start
    result = {
        'machine': f'{os.cpu_count()} CPU cores, jax {jax.__version__}, torch {torch.__version__}',
        'model': f'qwen2 4 layers x 256 (GQA 8/2), vocab {VOCAB}, float32; LoRA r=8 on q_proj, v_proj',
        'answers': args.answers, 'kept_positions': positions, 'updates': num_updates, 'positions_per_update': 16,
        'ours_packed_seconds_incl_load_and_compile': packed_s,
        'ours_per_position_seconds_incl_load_and_compile': per_position_s,
        'reference_seconds': reference_s,
        'speedup_packed_vs_reference': reference_s / packed_s,
        'speedup_per_position_vs_reference': reference_s / per_position_s,
        'speedup_packed_vs_per_position': per_position_s / packed_s,
        'ours_packed_compiles': packed_compiles, 'ours_per_position_compiles': per_position_compiles,
        'speedup_packed_vs_reference_excluding_compile': reference_s / (packed_s - packed_compiles['compile_seconds']),
        'ours_packed_first_and_last_logged_loss': [packed_rows[0]['loss'], packed_rows[-1]['loss']],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
