"""Stage `sample`: questions -> expert answers -> contrastive steps -> workdir/samples/.

Each process takes every process_count-th question, answers it with the expert (batched KV-cache
decode), scores the answers with one teacher-forced expert and amateur forward (one jitted
`sample_step` per batch; the expert's reuses its prompt cache), and appends one
record per answer to its own file, durably, batch by batch. A rerun skips answered questions.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence

import jax
import numpy as np
from absl import logging
from etils import epath

from lightreasoner_jax import data as data_lib
from lightreasoner_jax import samples as samples_lib
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.contrast import ContrastResult
from lightreasoner_jax.generate import PromptBatcher, SamplingConfig
from lightreasoner_jax.models import Transformer, check_tokenizers_compatible, load_hf
from lightreasoner_jax.progress import Progress
from lightreasoner_jax.sample_step import SampleStep
from lightreasoner_jax.score import ContrastConfig
from lightreasoner_jax.shape_plan import plan_lengths


def load_tokenizer(path):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(os.fspath(path))


def model_eos_ids(tokenizer, model_config) -> tuple[int, ...]:
    """The union of the tokenizer's and the model config's EOS ids (for a model known only in memory)."""
    ids = set(model_config.eos_token_ids)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return tuple(sorted(ids))


def eos_token_ids(model_path, tokenizer, model_config) -> tuple[int, ...]:
    """The union of the tokenizer's, generation_config.json's and config.json's EOS ids."""
    ids = set(model_eos_ids(tokenizer, model_config))
    generation_config = epath.Path(model_path) / 'generation_config.json'
    if generation_config.exists():
        eos = json.loads(generation_config.read_text()).get('eos_token_id')
        ids.update([eos] if isinstance(eos, int) else eos or [])
    return tuple(sorted(ids))


def make_records(batch, completions: Sequence[Sequence[int]], result: ContrastResult, config: ContrastConfig,
                 tokenizer) -> list[dict]:
    """One record per answer; targets trimmed to their plausible tokens."""
    records = []
    for row, (question, prompt_ids) in enumerate(batch):
        completion = list(map(int, completions[row]))
        steps = [int(t) for t in np.flatnonzero(result.selected[row])]
        kept = [min(int(result.num_plausible[row, t]), config.top_k) for t in steps]
        records.append({
            'id': question.id,
            'prompt_ids': list(map(int, prompt_ids)),
            'completion_ids': completion,
            'steps': steps,
            'kl': [float(result.kl[row, t]) for t in steps],
            'target_ids': [result.target_ids[row, t, :k].tolist() for t, k in zip(steps, kept)],
            'target_weights': [result.target_weights[row, t, :k].tolist() for t, k in zip(steps, kept)],
            'expert_weights': [result.expert_weights[row, t, :k].tolist() for t, k in zip(steps, kept)],
            'num_plausible': [int(result.num_plausible[row, t]) for t in steps],
            'candidate_kl': [round(float(x), 6) for x in result.kl[row, config.first_step:len(completion)]],
            'completion_text': tokenizer.decode(completion),  # for people reading the file only
        })
    return records


def batches_by_length(items, batch_size: int):
    """Batches of similar prompt length (longest first), so padding waste and buckets stay small."""
    ordered = sorted(items, key=lambda item: -len(item[1]))
    return [ordered[i:i + batch_size] for i in range(0, len(ordered), batch_size)]


def collective_batches(items, generator: PromptBatcher, max_lengths: int = 0
                       ) -> Iterator[tuple[list, int]]:
    """(batch, padded prompt length) over this process's (question, prompt_ids) items, batched by
    length. Every process gets the same number of batches and the same lengths (empty batches pad the
    shorter lists), because the jitted calls they feed are collective. max_lengths > 0: the lengths
    are planned up front, at most that many distinct ones (each is one compile; shape_plan.py)."""
    batches = batches_by_length(items, generator.local_batch_size)
    count = shd.agree_max(len(batches))
    batches += [[] for _ in range(count - len(batches))]
    lengths = shd.agree_max_each([generator.padded_length([p for _, p in b]) if b else 1 for b in batches])
    if max_lengths and lengths:
        lengths = plan_lengths(lengths, max_lengths)
    yield from zip(batches, lengths)


def pad_token_id(tokenizer, eos_ids: Sequence[int]) -> int:
    """The tokenizer's pad id, else the first EOS id."""
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos_ids[0]


def sample(expert: Transformer, amateur: Transformer, tokenizer, questions: Sequence[data_lib.Question], mesh, *,
           contrast: ContrastConfig = ContrastConfig(), sampling: SamplingConfig = SamplingConfig(),
           batch_size: int = 64, bucket: int = 64, system_prompt: str | None = data_lib.DEFAULT_SYSTEM_PROMPT,
           eos_ids: Sequence[int] | None = None, seed: int = 0, max_prompt_shapes: int = 2,
           on_batch: Callable[[list[dict]], None] | None = None, progress: bool = False) -> list[dict]:
    """Questions -> sample records: the expert answers each question, both models score the answer
    teacher-forced, and the contrast keeps the steps with KL >= beta and their soft targets.

    One record per question (the contract in samples.py, plus expert_weights, num_plausible,
    candidate_kl and completion_text), in batch order. `batch_size` is global; with several processes
    each passes its own questions (possibly none) and every process must call. `on_batch` sees each
    batch's records as they are made (the stage appends them to its file).
    """
    if eos_ids is None:
        eos_ids = model_eos_ids(tokenizer, expert.config)
    pad_id = pad_token_id(tokenizer, eos_ids)
    todo = [(q, data_lib.build_prompt_ids(tokenizer, q.question, system_prompt=system_prompt or None))
            for q in questions]
    step = SampleStep(expert, amateur, mesh, sampling=sampling, contrast=contrast, eos_ids=eos_ids, pad_id=pad_id,
                      batch_size=batch_size, bucket=bucket)
    rng = jax.random.key(seed)
    bar = Progress('sample', len(todo), 'q', enabled=progress and jax.process_index() == 0)
    start, generated_tokens, kept_steps, out = time.time(), 0, 0, []
    for batch, length in collective_batches(todo, step, max_prompt_shapes):
        prompts = [p for _, p in batch]
        # fold in the first question id's hash so a resumed run samples each batch as before
        completions, result = step(prompts, jax.random.fold_in(rng, _batch_seed(batch)), length=length)
        records = make_records(batch, completions, result, contrast, tokenizer)
        if on_batch is not None:
            on_batch(records)
        out.extend(records)
        generated_tokens += sum(map(len, completions))
        kept_steps += sum(len(r['steps']) for r in records)
        bar.update(len(batch), kept=kept_steps, tokens_per_s=generated_tokens / max(time.time() - start, 1e-9))
    bar.close()
    return out


def run(config, workdir: epath.Path, mesh: jax.sharding.Mesh) -> dict:
    start = time.time()
    process, processes = jax.process_index(), jax.process_count()
    gen_cfg, data_cfg = config.generation, config.data
    contrast_cfg = ContrastConfig(**config.contrast.to_dict())
    sampling = SamplingConfig(**{f.name: gen_cfg[f.name] for f in dataclasses.fields(SamplingConfig)})
    if gen_cfg.batch_size % processes:
        raise ValueError(f'generation.batch_size={gen_cfg.batch_size} must be a multiple of the '
                         f'{processes} processes')

    tokenizer = load_tokenizer(config.expert.path)
    expert = load_hf(config.expert.path, mesh=mesh, dtype=config.expert.dtype)
    amateur = load_hf(config.amateur.path, mesh=mesh, dtype=config.amateur.dtype)
    shared_vocab = min(expert.config.vocab_size, amateur.config.vocab_size)
    check_tokenizers_compatible(tokenizer, load_tokenizer(config.amateur.path), shared_vocab)

    questions, data_counts = data_lib.questions_from_config(data_cfg)
    mine = questions[process::processes]
    directory = workdir / 'samples'
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / samples_lib.sample_file_name(process, processes)
    done = {r['id'] for r in samples_lib.recover(path)}
    todo = [q for q in mine if q.id not in done]
    logging.info('sample: %d questions for this process, %d already answered, %d to go',
                 len(mine), len(done), len(todo))
    records = sample(expert, amateur, tokenizer, todo, mesh, contrast=contrast_cfg, sampling=sampling,
                     batch_size=gen_cfg.batch_size, bucket=gen_cfg.bucket,
                     system_prompt=data_cfg.system_prompt or None,
                     eos_ids=eos_token_ids(config.expert.path, tokenizer, expert.config), seed=gen_cfg.seed,
                     max_prompt_shapes=gen_cfg.max_prompt_shapes,
                     on_batch=lambda rows: samples_lib.append_records(path, rows), progress=True)
    generated_tokens = sum(len(r['completion_ids']) for r in records)

    shd.sync('sample-written')
    run_stats = {'seconds': time.time() - start, 'questions_this_run': len(todo),
                 'generated_tokens_this_run': generated_tokens}
    stats = {}
    if process == 0:
        stats = sample_stats(samples_lib.read_samples(directory), contrast_cfg)
        stats.update(data=data_counts, this_run=run_stats,
                     tokens_per_s=generated_tokens / max(run_stats['seconds'], 1e-9),
                     questions_per_s=len(todo) / max(run_stats['seconds'], 1e-9))
        (directory / 'stats.json').write_text(json.dumps(stats, indent=2))
    shd.sync('sample-done')
    return {k: stats[k] for k in ('questions', 'kept_steps', 'kept_rate')} if stats else {}


def _batch_seed(batch) -> int:
    if not batch:
        return 0
    return int(data_lib.question_id(batch[0][0].id)[1:9], 16)


def sample_stats(records: list[dict], config: ContrastConfig) -> dict:
    candidate_kl = np.array([x for r in records for x in r.get('candidate_kl', [])], np.float64)
    plausible = np.array([x for r in records for x in r.get('num_plausible', [])], np.int64)
    kept = sum(len(r['steps']) for r in records)
    candidates = sum(max(len(r['completion_ids']) - config.first_step, 0) for r in records)
    quantiles = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)
    sizes, counts = np.unique(plausible, return_counts=True) if plausible.size else ([], [])
    return {
        'questions': len(records),
        'answers': len(records),
        'completion_tokens': sum(len(r['completion_ids']) for r in records),
        'candidate_steps': candidates,
        'kept_steps': kept,
        'kept_rate': kept / candidates if candidates else 0.0,
        'answers_without_kept_steps': sum(not r['steps'] for r in records),
        'kl_quantiles': ({str(q): float(np.quantile(candidate_kl, q)) for q in quantiles}
                         if candidate_kl.size else {}),
        'plausible_set_size_histogram': {str(int(s)): int(c) for s, c in zip(sizes, counts)},
        'top_k_truncations': int((plausible > config.top_k).sum()),
        'alpha': config.alpha, 'beta': config.beta, 'top_k': config.top_k, 'first_step': config.first_step,
    }

