"""The sample stage's two ways of computing the contrast, side by side at real shapes: inside the decode
loop (the default; the amateur decodes in lockstep) and teacher-forced re-scoring after decoding
(`contrast.rescore=True`). Same models, questions and settings as benchmarks/real_scale.py; each mode in
its own process (its own compiles and peak RSS); records compared.

    python benchmarks/decode_contrast_vs_rescore.py --questions=64
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.real_scale import build  # noqa: E402


def run_mode(root: Path, rescore: bool, batch_size: int, dtype: str) -> dict:
    from benchmarks.compile_time import CompileTimer
    from lightreasoner_jax import main as lr_main
    from lightreasoner_jax.pipeline.config_files import load_config_file
    from lightreasoner_jax.pipeline.workdir import Workdir
    config = load_config_file(str(ROOT / 'configs' / 'paper.py'))
    config.unlock()
    config.stages = ('sample',)
    config.expert.path, config.amateur.path = str(root / 'expert'), str(root / 'amateur')
    config.expert.dtype = config.amateur.dtype = dtype
    config.data.update(dict(source=str(root / 'questions.jsonl'), id_field='id', config_name='', limit=0))
    config.generation.batch_size = batch_size
    config.contrast.rescore = rescore
    config.compilation_cache_dir = 'off'
    timer = CompileTimer()
    start = time.perf_counter()
    lr_main.run(config, Workdir(root / ('rescore' if rescore else 'in_loop')))
    return {'seconds': time.perf_counter() - start, 'compile_seconds': timer.seconds,
            'peak_rss_gb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}


def compare(root: Path) -> dict:
    from lightreasoner_jax.sampling import store
    a = {r.id: r for r in store.read_samples(root / 'in_loop' / 'samples')}
    b = {r.id: r for r in store.read_samples(root / 'rescore' / 'samples')}
    same_steps = sum(a[k].steps == b[k].steps and a[k].completion_ids == b[k].completion_ids for k in a)
    kl = [abs(x - y) for k in a if a[k].steps == b[k].steps for x, y in zip(a[k].candidate_kl, b[k].candidate_kl)]
    return {'answers': len(a), 'answers_with_equal_completion_and_kept_steps': same_steps,
            'max_abs_candidate_kl_difference': float(np.max(kl)) if kl else None}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--questions', type=int, default=64)
    parser.add_argument('--batch_size', type=int, default=64)
    parser.add_argument('--dtype', default='float32')
    parser.add_argument('--expert_layers', type=int, default=0)
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'decode_contrast_vs_rescore.json'))
    parser.add_argument('--mode', default='', help=argparse.SUPPRESS)
    parser.add_argument('--root', default='', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run_mode(Path(args.root), args.mode == 'rescore', args.batch_size, args.dtype)))
        return
    root = Path(tempfile.mkdtemp(prefix='lr_decode_contrast_'))
    build(root, args.questions, args.expert_layers or None)
    result = {'questions': args.questions, 'batch_size': args.batch_size, 'dtype': args.dtype,
              'machine': f'{os.cpu_count()} CPU cores'}
    for mode in ('in_loop', 'rescore'):
        done = subprocess.run([sys.executable, __file__, f'--mode={mode}', f'--root={root}'] + sys.argv[1:],
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f'{mode} failed:\n{done.stderr[-4000:]}')
        result[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    result['in_loop_speedup_over_rescore'] = result['rescore']['seconds'] / result['in_loop']['seconds']
    result['records'] = compare(root)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + '\n')
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
