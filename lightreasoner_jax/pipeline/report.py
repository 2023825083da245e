"""Stage `report`: report.md with PNG plots in report/, the numbers in metrics.json (Workdir paths).

Reads what the other stages left (stage records, samples, training metrics, evaluation metrics, and the
same in each variant's workdir), so it can be rerun at any time and reports whatever exists:
  accuracy and efficiency   baseline / LightReasoner / variants (SFT, ablations): accuracy, change, problems
                            sampled, training records, tokens tuned, wall time
  kl_histogram.png          KL(p_E || p_A) of every candidate step, beta marked
  kept_rate_by_position.png share of steps kept (KL >= beta) by position in the answer
  plausible_sizes.png       plausible-set sizes of the kept steps
  training.png              loss and learning rate per update, every run
  accuracy.png              accuracy per run
"""

from __future__ import annotations

import json

import jax
import numpy as np
from etils import epath

from lightreasoner_jax.pipeline.report_methods import (
    habit_errors,
    habit_markdown,
    method_markdown,
    method_of,
    method_rows,
    run_predictions,
)
from lightreasoner_jax.pipeline.report_plots import write_plots
from lightreasoner_jax.pipeline.variants import stage_context
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store
from lightreasoner_jax.training.objectives import OBJECTIVES

VARIANT_LABELS = {'sft': 'SFT (gold solutions)', 'rs_sft': 'SFT (rejection sampling)',
                  'no_selection': 'w/o selection', 'no_contrast': 'w/o contrast', 'no_both': 'w/o both',
                  'random_steps': 'random steps'}


def _label(variant: str) -> str:
    """'no_contrast_s2' -> 'w/o contrast (seed 2)'; 'main_s1' -> 'LightReasoner (seed 1)'."""
    method = method_of(variant)
    label = 'LightReasoner' if method == 'main' else VARIANT_LABELS.get(method, method)
    return label if method == variant else f'{label} (seed {variant[len(method) + 2:]})'


def _json(path: epath.Path):
    return json.loads(path.read_text()) if path.exists() else None


def _json_lines(path: epath.Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _stage_record(workdir: Workdir, stage: str) -> dict:
    return _json(workdir.stage_record(stage)) or {}


def _sum(*values):
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def run_rows(config, workdir: Workdir, stats: dict) -> list[dict]:
    """One row per run that has an evaluation: the base model, the main run, each variant. stats: the
    main samples' stats.json."""
    rows = []
    base = _json(workdir.eval_metrics('base'))
    if base:
        rows.append({'run': 'base', 'label': 'Baseline (expert)', 'accuracy': base['accuracy'],
                     'correct': base['correct'], 'total': base['total']})
    runs = [('main', 'LightReasoner', '')]
    runs += [(name, _label(name), f':{name}') for name in (config.get('variants') or {})]
    for name, label, suffix in runs:
        run_config, run_dir = stage_context(config, workdir, f'train{suffix}')
        evaluation = _json(run_dir.eval_metrics('tuned'))
        train_record = _stage_record(workdir, f'train{suffix}')
        trained = train_record.get('result', {})
        if evaluation is None and not trained:
            continue
        own_samples = run_dir.sample_stats.exists() and suffix
        sample_stats = (_json(run_dir.sample_stats) if own_samples else stats) or {}
        sample_stage = f'sample{suffix}' if own_samples else 'sample'
        objective = run_config.train.objective
        uses_samples = OBJECTIVES[objective].uses_samples
        rejection = _json(run_dir.rejection_stats) or {} if objective == 'rs_sft' else {}
        row = {'run': name, 'label': label, 'objective': objective,
               'training_records': trained.get('records_with_positions'),
               'tokens_tuned': trained.get('positions_trained'),
               'problems_sampled': sample_stats.get('questions') if uses_samples else rejection.get('questions'),
               # rejection sampling runs inside the train stage: its time is already in the stage's seconds
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


def sampled_steps(workdir: Workdir) -> tuple[np.ndarray, list[list[float]], np.ndarray]:
    """(every candidate KL, candidate KLs per answer, plausible-set sizes of kept steps) of the main samples."""
    per_answer, sizes = [], []
    if workdir.samples_dir.exists():
        for path in store.sample_files(workdir.samples_dir):
            for record in store.recover(path):
                per_answer.append(record.candidate_kl or [])
                sizes += record.num_plausible or []
    flat = np.array([x for kls in per_answer for x in kls], np.float64)
    return flat, per_answer, np.array(sizes, np.int64)


def training_curves(config, workdir: Workdir) -> dict[str, list[dict]]:
    curves = {'LightReasoner': _json_lines(workdir.train_metrics)}
    for name in config.get('variants') or {}:
        curves[_label(name)] = _json_lines(workdir.variant(name).train_metrics)
    return {k: v for k, v in curves.items() if v}


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


def markdown(config, rows, stats: dict, plots: list[str], curves, plots_dir: str = 'report',
             extra: list[str] = ()) -> str:
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
    lines += list(extra)
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
    lines += [f'![{p}]({plots_dir}/{p})' for p in plots]  # relative to report.md
    return '\n'.join(lines) + '\n'


def run(config, workdir: Workdir, mesh=None) -> dict:
    if jax.process_index() != 0:
        return {}
    out = workdir.report_dir
    out.mkdir(parents=True, exist_ok=True)
    stats = _json(workdir.sample_stats) or {}
    rows = run_rows(config, workdir, stats)
    kl, per_answer, sizes = sampled_steps(workdir)
    curves = training_curves(config, workdir)
    predictions = run_predictions(config, workdir, rows)
    methods = method_rows(rows, predictions)
    errors = habit_errors(config, predictions)
    plots = write_plots(out, config, rows, kl, per_answer, sizes, curves, methods)
    extra = method_markdown(methods) + habit_markdown(errors, rows)
    workdir.report_md.write_text(markdown(config, rows, stats, plots, curves, out.name, extra))
    metrics = {'runs': rows, 'methods': methods, 'habit_errors': errors, 'sampling': stats,
               'training': {label: rows_[-1] for label, rows_ in curves.items()}}
    workdir.metrics.write_text(json.dumps(metrics, indent=2))
    return {r['run']: r.get('accuracy') for r in rows}
