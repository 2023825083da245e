"""Stage `report`: workdir/report.md with PNG plots in workdir/report/, the numbers in workdir/metrics.json.

Reads what the other stages left (stages/*.json, samples/, train/metrics.jsonl, eval/*/metrics.json,
and the same under variants/<name>/), so it can be rerun at any time and reports whatever exists:
  accuracy and efficiency   baseline / LightReasoner / variants (SFT, ablations): accuracy, change, problems
                            sampled, training records, tokens tuned, wall time
  kl_histogram.png          KL(p_E || p_A) of every candidate step, beta marked
  kept_rate_by_position.png share of steps kept (KL >= beta) by position in the answer
  plausible_sizes.png       plausible-set sizes of the kept steps
  training.png              loss and learning rate per update, every run
  accuracy.png              accuracy per run
"""

from __future__ import annotations

import io
import json
import math

import jax
import numpy as np
from etils import epath

from lightreasoner_jax import samples as samples_lib
from lightreasoner_jax.stages import record_path, stage_context

VARIANT_LABELS = {'sft': 'SFT', 'no_selection': 'w/o selection', 'no_contrast': 'w/o contrast'}


def _json(path: epath.Path):
    return json.loads(path.read_text()) if path.exists() else None


def _json_lines(path: epath.Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _stage_record(workdir: epath.Path, stage: str) -> dict:
    return _json(record_path(workdir, stage)) or {}


def _sum(*values):
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def run_rows(config, workdir: epath.Path, stats: dict) -> list[dict]:
    """One row per run that has an evaluation: the base model, the main run, each variant. stats: the
    main samples' stats.json."""
    rows = []
    base = _json(workdir / 'eval' / 'base' / 'metrics.json')
    if base:
        rows.append({'run': 'base', 'label': 'Baseline (expert)', 'accuracy': base['accuracy'],
                     'correct': base['correct'], 'total': base['total']})
    runs = [('main', 'LightReasoner', '')]
    runs += [(name, VARIANT_LABELS.get(name, name), f':{name}') for name in (config.get('variants') or {})]
    for name, label, suffix in runs:
        run_config, run_dir = stage_context(config, workdir, f'train{suffix}')
        evaluation = _json(run_dir / 'eval' / 'tuned' / 'metrics.json')
        train_record = _stage_record(workdir, f'train{suffix}')
        trained = train_record.get('result', {})
        if evaluation is None and not trained:
            continue
        own_samples = (run_dir / 'samples' / 'stats.json').exists() and suffix
        sample_stats = (_json(run_dir / 'samples' / 'stats.json') if own_samples else stats) or {}
        sample_stage = f'sample{suffix}' if own_samples else 'sample'
        objective = run_config.train.objective
        uses_samples = objective != 'sft'
        row = {'run': name, 'label': label, 'objective': objective,
               'training_records': trained.get('records_with_positions'),
               'tokens_tuned': trained.get('positions_trained'),
               'problems_sampled': sample_stats.get('questions') if uses_samples else None,
               'seconds': _sum(_stage_record(workdir, sample_stage).get('seconds') if uses_samples else None,
                               train_record.get('seconds'))}
        if evaluation:
            row.update(accuracy=evaluation['accuracy'], correct=evaluation['correct'], total=evaluation['total'])
        rows.append(row)
    if base:
        for row in rows[1:]:
            if row.get('accuracy') is not None:
                row['change'] = row['accuracy'] - base['accuracy']
    return rows


def sampled_steps(workdir: epath.Path) -> tuple[np.ndarray, list[list[float]], np.ndarray]:
    """(every candidate KL, candidate KLs per answer, plausible-set sizes of kept steps) of the main samples."""
    directory = workdir / 'samples'
    per_answer, sizes = [], []
    if directory.exists():
        for path in samples_lib.sample_files(directory):
            for record in samples_lib.recover(path):
                per_answer.append(record.get('candidate_kl', []))
                sizes += record.get('num_plausible', [])
    flat = np.array([x for kls in per_answer for x in kls], np.float64)
    return flat, per_answer, np.array(sizes, np.int64)


def kept_rate_by_position(per_answer: list[list[float]], beta: float, bin_width: int = 8):
    """(bin starts, share kept) over answer positions (offset by contrast.first_step)."""
    longest = max((len(k) for k in per_answer), default=0)
    bins = max(math.ceil(longest / bin_width), 0)
    kept, total = np.zeros(bins), np.zeros(bins)
    for kls in per_answer:
        for t, kl in enumerate(kls):
            total[t // bin_width] += 1
            kept[t // bin_width] += kl >= beta
    starts = np.arange(bins) * bin_width
    return starts, np.divide(kept, total, out=np.zeros(bins), where=total > 0)


def training_curves(config, workdir: epath.Path) -> dict[str, list[dict]]:
    curves = {'LightReasoner': _json_lines(workdir / 'train' / 'metrics.jsonl')}
    for name in config.get('variants') or {}:
        curves[VARIANT_LABELS.get(name, name)] = _json_lines(workdir / 'variants' / name / 'train' / 'metrics.jsonl')
    return {k: v for k, v in curves.items() if v}


def write_plots(out: epath.Path, config, rows, kl, per_answer, sizes, curves) -> list[str]:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    beta = config.contrast.beta
    written = []

    def save(fig, name):
        fig.tight_layout()
        buffer = io.BytesIO()  # through bytes: the workdir may be gs://, which matplotlib cannot open
        fig.savefig(buffer, format='png', dpi=100)
        (out / name).write_bytes(buffer.getvalue())
        plt.close(fig)
        written.append(name)

    if kl.size:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.hist(kl, bins=60, color='tab:blue', log=True)
        ax.axvline(beta, color='tab:red', linestyle='--', label=f'beta = {beta}')
        ax.set(xlabel='KL(p_E || p_A) per step', ylabel='steps', title='Expert-amateur divergence')
        ax.legend()
        save(fig, 'kl_histogram.png')
        starts, rate = kept_rate_by_position(per_answer, beta)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(starts + config.contrast.first_step, rate, marker='o')
        ax.set(xlabel='position in the answer (token)', ylabel='share kept', ylim=(0, 1),
               title=f'Steps kept (KL >= {beta}) by position')
        save(fig, 'kept_rate_by_position.png')
    if sizes.size:
        values, counts = np.unique(sizes, return_counts=True)
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar(values, counts)
        ax.set(xlabel='plausible tokens (p_E >= alpha * max p_E)', ylabel='kept steps', title='Plausible-set sizes')
        save(fig, 'plausible_sizes.png')
    if curves:
        fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
        for label, rows_ in curves.items():
            steps = [r['step'] for r in rows_]
            loss_ax.plot(steps, [r['loss'] for r in rows_], label=label)
            lr_ax.plot(steps, [r['lr'] for r in rows_], label=label)
        loss_ax.set(xlabel='update', ylabel='loss (KL to targets)', title='Training loss')
        lr_ax.set(xlabel='update', ylabel='learning rate', title='Learning rate')
        loss_ax.legend()
        save(fig, 'training.png')
    evaluated = [r for r in rows if r.get('accuracy') is not None]
    if evaluated:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar([r['label'] for r in evaluated], [100 * r['accuracy'] for r in evaluated], color='tab:green')
        ax.set(ylabel='pass@1 (%)', title='Accuracy')
        ax.tick_params(axis='x', rotation=20)
        save(fig, 'accuracy.png')
    return written


def _cell(value, kind: str = '') -> str:
    if value is None:
        return '-'
    if kind == 'pct':
        return f'{100 * value:.1f}'
    if kind == 'signed':
        return f'{100 * value:+.1f}'
    if kind == 'seconds':
        return f'{value:.0f} s'
    return f'{value:,}' if isinstance(value, int) else str(value)


def markdown(config, rows, stats: dict, plots: list[str], curves) -> str:
    lines = ['# LightReasoner report', '',
             f'Expert `{config.expert.path}`, amateur `{config.amateur.path}`; questions `{config.data.source}`; '
             f'evaluation `{config.eval.data.source}` ({config.eval.kind}, greedy pass@1).', '',
             '## Accuracy and efficiency', '',
             '| Method | Accuracy (%) | Change (points) | Problems sampled | Training records | Tokens tuned | Time |',
             '|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(f"| {r['label']} | {_cell(r.get('accuracy'), 'pct')} | {_cell(r.get('change'), 'signed')} | "
                     f"{_cell(r.get('problems_sampled'))} | {_cell(r.get('training_records'))} | "
                     f"{_cell(r.get('tokens_tuned'))} | {_cell(r.get('seconds'), 'seconds')} |")
    lines += ['', 'Tokens tuned: training positions consumed (updates x positions per update). Time: wall time of '
              'the sampling and training stages behind the row.', '']
    if stats:
        lines += ['## Sampling', '',
                  f"{stats['questions']:,} answers, {stats['completion_tokens']:,} tokens; {stats['kept_steps']:,} of "
                  f"{stats['candidate_steps']:,} candidate steps kept ({100 * stats['kept_rate']:.1f}%) at "
                  f"beta = {stats['beta']}, alpha = {stats['alpha']}; {stats['answers_without_kept_steps']:,} answers "
                  f"with no kept step; {stats['top_k_truncations']:,} plausible sets cut at top_k = {stats['top_k']}.",
                  '']
        if stats.get('kl_quantiles'):
            q = stats['kl_quantiles']
            lines += ['KL quantiles: ' + ', '.join(f'{float(k):g}: {v:.3f}' for k, v in q.items()), '']
    for label, rows_ in curves.items():
        lines.append(f"- {label}: {len(rows_)} logged updates, loss {rows_[0]['loss']:.4f} -> {rows_[-1]['loss']:.4f}")
    if curves:
        lines.append('')
    lines += [f'![{p}](report/{p})' for p in plots]
    return '\n'.join(lines) + '\n'


def run(config, workdir: epath.Path, mesh=None) -> dict:
    if jax.process_index() != 0:
        return {}
    out = workdir / 'report'
    out.mkdir(parents=True, exist_ok=True)
    stats = _json(workdir / 'samples' / 'stats.json') or {}
    rows = run_rows(config, workdir, stats)
    kl, per_answer, sizes = sampled_steps(workdir)
    curves = training_curves(config, workdir)
    plots = write_plots(out, config, rows, kl, per_answer, sizes, curves)
    (workdir / 'report.md').write_text(markdown(config, rows, stats, plots, curves))
    metrics = {'runs': rows, 'sampling': stats,
               'training': {label: rows_[-1] for label, rows_ in curves.items()}}
    (workdir / 'metrics.json').write_text(json.dumps(metrics, indent=2))
    return {r['run']: r.get('accuracy') for r in rows}
