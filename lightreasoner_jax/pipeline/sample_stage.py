"""Stage `sample`: questions -> expert answers -> contrastive steps -> the workdir's sample files.

Each process takes every process_count-th question and appends one record per answer to its own
file, durably, batch by batch; a rerun skips answered questions. Process 0 writes stats.json.
"""

from __future__ import annotations

import dataclasses
import json
import time

import jax
from absl import logging

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.pipeline import settings
from lightreasoner_jax.pipeline.amateurs import amateur_kind, load_amateur, needs_tokenizer_check
from lightreasoner_jax.pipeline.model_pairs import check_pair
from lightreasoner_jax.pipeline.stage_scalars import log_stage_summary
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import sample, sample_stats, store
from lightreasoner_jax.sampling.cross_sampler import sample_cross_tokenizer
from lightreasoner_jax.sampling.special_tokens import special_token_usage


def run(config, workdir: Workdir, mesh: jax.sharding.Mesh) -> dict:
    start = time.time()
    process, processes = jax.process_index(), jax.process_count()
    gen_cfg = config.generation
    contrast, sampling = settings.contrast(config), settings.sampling(config)
    if gen_cfg.batch_size % processes:
        raise ValueError(f'generation.batch_size={gen_cfg.batch_size} must be a multiple of the '
                         f'{processes} processes')

    tokenizer = load_tokenizer(config.expert.path)
    # main warned before any stage ran
    special_differences = check_pair(config, tokenizer, warn=False) if needs_tokenizer_check(config) else ()
    expert = load_hf(config.expert.path, mesh=mesh, dtype=config.expert.dtype)
    amateur = load_amateur(config, expert, mesh)

    questions, data_counts = settings.questions(config.data)
    mine = questions[process::processes]
    workdir.samples_dir.mkdir(parents=True, exist_ok=True)
    path = workdir.sample_file(process, processes)
    done = frozenset(r.id for r in store.recover(path))
    todo = [q for q in mine if q.id not in done]
    logging.info('sample: %d questions for this process, %d already answered, %d to go',
                 len(mine), len(done), len(todo))
    # every question of this process goes in, so a resumed run batches and pads as the first one did
    options = dict(done=done, contrast=contrast, sampling=sampling, batch_size=gen_cfg.batch_size,
                   bucket=gen_cfg.bucket, system_prompt=config.data.system_prompt or None,
                   eos_ids=settings.stop_ids(config, tokenizer, expert.config), seed=gen_cfg.seed,
                   max_prompt_shapes=gen_cfg.max_prompt_shapes, prefill_groups=gen_cfg.get('prefill_groups', 1),
                   on_batch=lambda rows: store.append_records(path, rows), progress=True)
    cross_stats = {}
    if amateur_kind(config) == 'cross_tokenizer':
        records = sample_cross_tokenizer(expert, amateur, tokenizer, load_tokenizer(config.amateur.path), mine, mesh,
                                         cross=settings.cross_tokenizer(config), stats=cross_stats, **options)
    else:
        records = sample(expert, amateur, tokenizer, mine, mesh, **options)
    generated_tokens = sum(len(r.completion_ids) for r in records)

    shd.sync('sample-written')
    run_stats = {'seconds': time.time() - start, 'questions_this_run': len(todo),
                 'generated_tokens_this_run': generated_tokens, **cross_stats}
    stats = {}
    if process == 0:
        all_records = store.read_samples(workdir.samples_dir)
        stats = sample_stats(all_records, contrast)
        stats['special_token_differences'] = {
            'ids': [dataclasses.asdict(d) for d in special_differences],
            'usage': special_token_usage(all_records, [d.id for d in special_differences])}
        stats.update(data=data_counts, this_run=run_stats,
                     tokens_per_s=generated_tokens / max(run_stats['seconds'], 1e-9),
                     questions_per_s=len(todo) / max(run_stats['seconds'], 1e-9))
        workdir.sample_stats.write_text(json.dumps(stats, indent=2))
        log_stage_summary(config, workdir, workdir.samples_tensorboard, {
            f'sample/{key}': stats[key] for key in ('questions', 'completion_tokens', 'candidate_steps', 'kept_steps',
                                                    'kept_rate', 'answers_without_kept_steps', 'top_k_truncations',
                                                    'tokens_per_s', 'questions_per_s')})
    shd.sync('sample-done')
    return {k: stats[k] for k in ('questions', 'kept_steps', 'kept_rate')} if stats else {}
