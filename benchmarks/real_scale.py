"""Sampling and training at real model shapes: ours through `main` vs the reference procedure, side by side.

Models (random weights of std 0.08, float32; such a pair's KL exceeds beta at nearly every step): the expert is shaped as Qwen2.5-0.5B (hidden
896, 24 layers, 14/2 heads of 64, MLP 4,864, vocab 151,936, tied); the amateur has 4 layers of the same
width and vocabulary. The tokenizer is the Qwen2.5 stand-in of tests/paper_pairs.py (a small byte-level BPE
padded with never-produced fillers to the real 151,643 ordinary ids, then Qwen2.5's added tokens and ChatML).

Each side runs in its own process, so each reports its own peak RSS:
- ours: `main.run` with stages ('sample',) on `--questions` GSM8K train questions (batch 64, 128 new
  tokens, the contrast inside the decode loop, the prefill in `--prefill_groups` blocks of rows), then ('train',) for `--updates` updates of 16 positions;
- the reference: LightR_sampling.py's procedure (benchmarks/sampling_vs_reference.py) on the first
  `--reference_questions` of the same questions (its amateur re-run in batches of
  `--reference_amateur_batch` prefixes, 16, not its 64, to fit this machine's memory; the FLOPs are the same), then LightR_finetuning.py's PEFT loop
  (benchmarks/train_vs_reference.py) for `--reference_updates` updates on *our* kept positions.
Speedups are end to end (load and compile included): reference seconds per question (per trained
position) over ours. Executed GFLOP/s count the padded shapes each side of ours runs (formula below) and are
compared with this machine's float32 matmul peak, measured here by a 2,048^3 matmul.

    python benchmarks/real_scale.py --questions=64 --reference_questions=2 --updates=24 --reference_updates=2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEIGHT_STD = 0.08
SHAPES = {'expert': dict(num_hidden_layers=24), 'amateur': dict(num_hidden_layers=4)}
COMMON = dict(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_attention_heads=14,
              num_key_value_heads=2, tie_word_embeddings=True, max_position_embeddings=4096, bos_token_id=None,
              eos_token_id=151643, rms_norm_eps=1e-6)


def build(root: Path, questions: int, layers: int | None) -> None:
    import torch
    import transformers

    from benchmarks.sampling_vs_reference import load_gsm8k_questions
    from tests.paper_pairs import ORDINARY_SIZE, make_tokenizer
    tokenizer = make_tokenizer('qwen25')
    for seed, (name, shape) in enumerate(SHAPES.items(), start=1):
        torch.manual_seed(seed)
        shape = dict(shape, num_hidden_layers=layers) if layers and name == 'expert' else shape
        config = transformers.Qwen2Config(**COMMON, **shape)
        model = transformers.Qwen2ForCausalLM(config)
        with torch.no_grad():  # as tests/tiny_models.py: default-init models agree on near-uniform
            for weight_name, weight in model.named_parameters():  # distributions and no step is ever kept
                if 'norm' not in weight_name:
                    weight.normal_(0.0, WEIGHT_STD)
            # Rows past the small BPE zeroed: fillers and special tokens are never chosen, so answers run
            # the full 128 tokens and decode to text that re-encodes to about as many tokens.
            bpe_size = ORDINARY_SIZE - sum(token.startswith('<filler') for token in tokenizer.get_vocab())
            model.model.embed_tokens.weight[bpe_size:] = 0.0
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    with open(root / 'questions.jsonl', 'w') as f:
        for i, q in enumerate(load_gsm8k_questions(questions)):
            f.write(json.dumps({'id': f'g{i}', 'question': q}) + '\n')


def forward_flops(config: dict, tokens: int, context: int, head_tokens: int) -> float:
    """Matmul FLOPs of a forward over `tokens` tokens attending to `context` slots each (as executed:
    masks do not skip work), with the LM head at `head_tokens` of them."""
    d, f, heads, kv = config['hidden_size'], config['intermediate_size'], config['num_attention_heads'], \
        config['num_key_value_heads']
    h = d // heads
    per_layer = 2 * (d * heads * h * 2 + 2 * d * kv * h + 3 * d * f) + 2 * 2 * heads * h * context
    return tokens * per_layer * config['num_hidden_layers'] + head_tokens * 2 * d * config['vocab_size']


def sampling_flops(prompts, generation, configs) -> float:
    """Executed matmul FLOPs of the sample stage: per batch (longest prompts first), the prefill of each block
    of rows at its length (`PromptBatcher.row_groups`; one block at the batch's length without prefill_groups),
    then max_new_tokens decode steps of every row over P + max_new_tokens slots. P is the batch's own bucket;
    with several batches the planned lengths can be longer, so this can undercount."""
    from lightreasoner_jax.generation import PromptBatcher, batches_by_length
    from lightreasoner_jax.sharding import make_mesh
    B, N = generation.batch_size, generation.max_new_tokens
    batcher = PromptBatcher(make_mesh(data=1, fsdp=-1, tensor=1), batch_size=B, bucket=generation.bucket, pad_id=0,
                            prefill_groups=generation.get('prefill_groups', 1))
    flops = 0.0
    for batch in batches_by_length([(None, p) for p in prompts], B):
        batch_prompts = [p for _, p in batch]
        P = batcher.padded_length(batch_prompts)
        blocks = batcher.row_groups(batch_prompts, P) or (P,)
        rows = B // len(blocks)
        for c in configs:
            flops += sum(forward_flops(c, rows * length, length, rows) for length in blocks)
            flops += forward_flops(c, B * N, P + N, B * N)
    return flops


def ours(root: Path, args) -> dict:
    import jax

    from benchmarks.compile_time import CompileTimer
    from lightreasoner_jax import main as lr_main
    from lightreasoner_jax.pipeline import settings
    from lightreasoner_jax.pipeline.config_files import load_config_file
    from lightreasoner_jax.pipeline.train_stage import training_records
    from lightreasoner_jax.pipeline.workdir import Workdir
    from lightreasoner_jax.sampling import read_samples
    from lightreasoner_jax.sharding import make_mesh
    from lightreasoner_jax.training import update_plan
    from lightreasoner_jax.training.objectives import objective
    config = load_config_file(str(ROOT / 'configs' / 'paper.py'))
    config.unlock()
    config.expert.path, config.amateur.path = str(root / 'expert'), str(root / 'amateur')
    config.expert.dtype = config.amateur.dtype = args.dtype
    config.train.compute_dtype = args.dtype
    config.data.update(dict(source=str(root / 'questions.jsonl'), id_field='id', config_name='', limit=0))
    config.generation.batch_size = args.batch_size
    config.generation.prefill_groups = args.prefill_groups
    config.train.optim.num_steps = args.updates
    config.train.checkpoint.save_every = 10 ** 6
    config.compilation_cache_dir = 'off'  # a cold start, as a first run
    workdir = Workdir(root / 'ours')
    timer = CompileTimer()
    result = {}
    for stage in ('sample', 'train'):
        config.stages = (stage,)
        timer.reset()
        start = time.perf_counter()
        lr_main.run(config, workdir)
        result[stage] = {'seconds': time.perf_counter() - start, 'compile_seconds': timer.seconds}
    stats = json.loads((root / 'ours' / 'samples' / 'stats.json').read_text())
    expert = json.loads((root / 'expert' / 'config.json').read_text())
    amateur = json.loads((root / 'amateur' / 'config.json').read_text())
    records = training_records(config, workdir, None)
    sampled = read_samples(workdir.samples_dir)
    sample_flops = sampling_flops([r.prompt_ids for r in sampled], config.generation, (expert, amateur))
    batching = settings.batching(config, make_mesh(data=1, fsdp=-1, tensor=1))
    plan = update_plan(records, objective('contrast'), None, batching, args.updates)
    train_flops = 0.0
    for step in range(args.updates):  # LoRA: forward + activation backward ~ 2 forwards (frozen weights get no grads)
        batch = plan.batch(step, records, batching)
        length = batch.input_ids.shape[-1]  # [(accumulation,) rows, length]
        train_flops += 2 * forward_flops(expert, batch.input_ids.size, length, batch.position_row.size)
    result['sample'].update(questions=len(sampled), kept_steps=stats['kept_steps'], candidate_steps=stats['candidate_steps'],
                            executed_gflop=sample_flops / 1e9)
    result['train'].update(updates=args.updates, positions=args.updates * 16, executed_gflop=train_flops / 1e9,
                           batch_shapes=[list(s) for s in plan.shapes])
    result['jax'] = f'jax {jax.__version__} ({jax.default_backend()}, {jax.device_count()} devices)'
    return result


def reference(root: Path, args) -> dict:
    import torch
    import transformers

    from benchmarks.sampling_vs_reference import reference_sampling
    from benchmarks.train_vs_reference import reference_training
    from lightreasoner_jax.sampling import store
    torch.set_num_threads(os.cpu_count())
    dtype = getattr(torch, args.dtype)
    tokenizer = transformers.AutoTokenizer.from_pretrained(root / 'expert')
    questions = [json.loads(line)['question'] for line in (root / 'questions.jsonl').read_text().splitlines()]
    start = time.perf_counter()
    expert = transformers.AutoModelForCausalLM.from_pretrained(root / 'expert', dtype=dtype).eval()
    amateur = transformers.AutoModelForCausalLM.from_pretrained(root / 'amateur', dtype=dtype).eval()
    reference_sampling(expert, amateur, tokenizer, questions[:args.reference_questions], max_new_tokens=128,
                       alpha=0.2, beta=0.4, batch_size=args.reference_amateur_batch)
    sample_seconds = time.perf_counter() - start
    del expert, amateur
    records = store.read_samples(root / 'ours' / 'samples')
    start = time.perf_counter()
    updates, _ = reference_training(root / 'expert', records, max_updates=args.reference_updates)
    return {'sample': {'seconds': sample_seconds, 'questions': args.reference_questions},
            'train': {'seconds': time.perf_counter() - start, 'updates': updates, 'positions': updates * 16},
            'torch': f'torch {torch.__version__}'}


def matmul_peak_gflops(dtype: str) -> float:
    import jax
    import jax.numpy as jnp
    n = 2048
    x = jnp.ones((n, n), dtype)
    f = jax.jit(lambda a: a @ a)
    f(x).block_until_ready()
    start = time.perf_counter()
    for _ in range(10):
        f(x).block_until_ready()
    return 10 * 2 * n ** 3 / (time.perf_counter() - start) / 1e9


def child(part: str, root: Path, args) -> dict:
    result = (ours if part == 'ours' else reference)(root, args)
    result['peak_rss_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux: KiB
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--questions', type=int, default=64)
    parser.add_argument('--reference_questions', type=int, default=2)
    parser.add_argument('--updates', type=int, default=24)
    parser.add_argument('--reference_updates', type=int, default=2)
    parser.add_argument('--batch_size', type=int, default=64)
    parser.add_argument('--reference_amateur_batch', type=int, default=16,
                        help="the reference's prefixes per amateur forward (it uses 64: [64, ~400, 151936] float32 "
                             'logits alone are 16 GB, which with the rest passes this 24 GB machine)')
    parser.add_argument('--dtype', default='float32')
    parser.add_argument('--prefill_groups', type=int, default=4,
                        help="our generation.prefill_groups: each batch's prefill in blocks of rows at their own lengths")
    parser.add_argument('--expert_layers', type=int, default=0, help='0: 24, as Qwen2.5-0.5B')
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'real_scale.json'))
    parser.add_argument('--part', default='', help=argparse.SUPPRESS)
    parser.add_argument('--root', default='', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(child(args.part, Path(args.root), args)))
        return
    root = Path(tempfile.mkdtemp(prefix='lr_real_scale_'))
    build(root, args.questions, args.expert_layers or None)
    sides = {}
    for part in ('ours', 'reference'):
        command = [sys.executable, __file__, f'--part={part}', f'--root={root}'] + sys.argv[1:]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f'{part} failed:\n{done.stderr[-4000:]}')
        sides[part] = json.loads(done.stdout.strip().splitlines()[-1])
    peak = matmul_peak_gflops(args.dtype)
    o, r = sides['ours'], sides['reference']

    def gflops(stage):
        return o[stage]['executed_gflop'] / (o[stage]['seconds'] - o[stage]['compile_seconds'])
    result = {
        'machine': f'{os.cpu_count()} CPU cores; {o["jax"]}; {r["torch"]}',
        'models': f'expert Qwen2.5-0.5B shape (896 x {args.expert_layers or 24} layers, 14/2 heads, MLP 4864, '
                  f'vocab 151936, tied); amateur 4 layers of the same; random weights, {args.dtype}',
        'ours': o, 'reference': r,
        'sampling_seconds_per_question': {'ours': o['sample']['seconds'] / o['sample']['questions'],
                                          'reference': r['sample']['seconds'] / r['sample']['questions']},
        'sampling_speedup': (r['sample']['seconds'] / r['sample']['questions'])
        / (o['sample']['seconds'] / o['sample']['questions']),
        'training_seconds_per_position': {'ours': o['train']['seconds'] / o['train']['positions'],
                                          'reference': r['train']['seconds'] / r['train']['positions']},
        'training_speedup': (r['train']['seconds'] / r['train']['positions'])
        / (o['train']['seconds'] / o['train']['positions']),
        'peak_rss_gb': {'ours': o['peak_rss_gb'], 'reference': r['peak_rss_gb']},
        'matmul_peak_gflops': peak,
        'ours_executed_gflops_excluding_compile': {'sample': gflops('sample'), 'train': gflops('train')},
        'ours_fraction_of_matmul_peak': {'sample': gflops('sample') / peak, 'train': gflops('train') / peak},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
