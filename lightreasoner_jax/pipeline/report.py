"""Stage `report`: report.md with PNG plots in report/, the numbers in metrics.json (Workdir paths).

Reads what the other stages left (stage records, samples, training metrics, evaluation metrics, and the
same in each variant's workdir), so it can be rerun at any time and reports whatever exists:
  accuracy and efficiency   baseline / LightReasoner / variants (SFT, ablations): accuracy, change, problems
                            sampled, training records, tokens tuned, wall time
  rounds                    per round of config.rounds: accuracy, change, kept steps, drift (report_rounds.py)
  benchmarks                a suite's accuracy per benchmark and average, per run (report_benchmarks.py)
  drift, case_study.md      perplexity of gold solutions / base answers per run; questions fixed and broken
                            by tuning, with both answers (report_analysis.py)
  kl_histogram.png          KL(p_E || p_A) of every candidate step, beta marked
  kept_rate_by_position.png share of steps kept (KL >= beta) by position in the answer
  plausible_sizes.png       plausible-set sizes of the kept steps, per setting
  mechanism                 per setting: plausible-set sizes and the contrast diagnostic (stage diagnose)
  training.png              loss and learning rate per update, every run
  accuracy.png              accuracy per run
"""

from __future__ import annotations

import json

import jax
import numpy as np
from etils import epath

from lightreasoner_jax.pipeline.report_analysis import case_study, drift_markdown
from lightreasoner_jax.pipeline.report_benchmarks import benchmark_markdown
from lightreasoner_jax.pipeline.report_mechanism import mechanism, mechanism_markdown
from lightreasoner_jax.pipeline.report_methods import (
    habit_errors,
    habit_markdown,
    method_markdown,
    method_of,
    method_rows,
    run_predictions,
)
from lightreasoner_jax.pipeline.report_plots import write_plots
from lightreasoner_jax.pipeline.report_rounds import round_rows, rounds_markdown
from lightreasoner_jax.pipeline.report_settings import baseline_dir, setting_of, settings
from lightreasoner_jax.pipeline.rounds import round_number
from lightreasoner_jax.pipeline.variants import stage_context
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store
from lightreasoner_jax.training.objectives import OBJECTIVES

VARIANT_LABELS = {'sft': 'SFT (gold solutions)', 'rs_sft': 'SFT (rejection sampling)',
                  'no_selection': 'w/o selection', 'no_contrast': 'w/o contrast', 'no_both': 'w/o both',
                  'random_steps': 'random steps'}


def _label(run: str) -> str:
    """A run's label from its name within its setting: 'no_contrast_s2' -> 'w/o contrast (seed 2)';
    'main_s1' -> 'LightReasoner (seed 1)'."""
    if round_number(run):
        return f'LightReasoner, round {round_number(run)}'
    method = method_of(run)
    label = 'LightReasoner' if method == 'main' else VARIANT_LABELS.get(method, method)
    return label if method == run else f'{label} (seed {run[len(method) + 2:]})'


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
    """One row per run that has an evaluation: each setting's baseline (report_settings.py), the main run,
    each variant, with the setting it belongs to. stats: the main samples' stats.json."""
    all_settings = settings(config, workdir)
    rows = []
    for setting in all_settings:
        base = _json(baseline_dir(workdir, setting).eval_metrics('base'))
        if base:
            rows.append({'run': setting.baseline, 'label': 'Baseline (expert)', 'setting': setting.label,
                         'method': 'base', 'eval_source': setting.eval_source, 'accuracy': base['accuracy'], 'correct': base['correct'],
                         'total': base['total'], 'benchmarks': base.get('benchmarks'), 'drift': base.get('drift')})
    runs = [('main', '')] + [(name, f':{name}') for name in (config.get('variants') or {})]
    for name, suffix in runs:
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
        setting = setting_of(all_settings, name, run_config)
        in_setting = setting.run_in_setting(name)
        row = {'run': name, 'label': _label(in_setting), 'setting': setting.label, 'method': method_of(in_setting),
               'objective': objective, 'eval_source': str(run_config.eval.data.source),
               'training_records': trained.get('records_with_positions'),
               'tokens_tuned': trained.get('positions_trained'),
               'problems_sampled': sample_stats.get('questions') if uses_samples else rejection.get('questions'),
               # rejection sampling runs inside the train stage: its time is already in the stage's seconds
               'seconds': _sum(_stage_record(workdir, sample_stage).get('seconds') if uses_samples else None,
                               train_record.get('seconds'))}
        if evaluation:
            row.update(accuracy=evaluation['accuracy'], correct=evaluation['correct'], total=evaluation['total'],
                       benchmarks=evaluation.get('benchmarks'), drift=evaluation.get('drift'))
        rows.append(row)
    bases = {r['setting']: r for r in rows if r['method'] == 'base'}
    for row in rows:
        base = bases.get(row['setting'])
        if row['method'] != 'base' and base and row.get('accuracy') is not None:
            row['change'] = row['accuracy'] - base['accuracy']
    return rows


def sampled_kl(workdir: Workdir) -> tuple[np.ndarray, list[list[float]]]:
    """(every candidate KL, candidate KLs per answer) of the main samples."""
    per_answer = []
    if workdir.samples_dir.exists():
        for path in store.sample_files(workdir.samples_dir):
            per_answer += [record.candidate_kl or [] for record in store.recover(path)]
    return np.array([x for kls in per_answer for x in kls], np.float64), per_answer


def training_curves(config, workdir: Workdir) -> dict[str, list[dict]]:
    curves = {'LightReasoner': _json_lines(workdir.train_metrics)}
    for name in config.get('variants') or {}:
        curves[name] = _json_lines(workdir.variant(name).train_metrics)
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


def _evaluation_set(config) -> str:
    if config.eval.get('benchmarks'):
        return f"suite {', '.join(config.eval.benchmarks)} (greedy pass@1; the mean over benchmarks below)"
    return f'`{config.eval.data.source}` ({config.eval.kind}, greedy pass@1)'


def markdown(config, rows, stats: dict, plots: list[str], curves, plots_dir: str = 'report',
             extra: list[str] = ()) -> str:
    several = len({r['setting'] for r in rows}) > 1
    lines = ['# LightReasoner report', '',
             f'Expert `{config.expert.path}`, amateur `{config.amateur.path}`; questions `{config.data.source}`; '
             f'evaluation {_evaluation_set(config)}.', '',
             '## Accuracy and efficiency', '',
             '| ' + ('Setting | ' if several else '') + 'Run | Accuracy (%) | Change (points) | Problems sampled | '
             'Training records | Tokens tuned | Time |', '|---' * (7 + several) + '|']
    for r in rows:
        setting = f"{r['setting']} | " if several else ''
        lines.append(f"| {setting}{r['label']} | {_cell(r.get('accuracy'), 'pct')} | {_cell(r.get('change'), 'signed')} | "
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
    kl, per_answer = sampled_kl(workdir)
    curves = training_curves(config, workdir)
    predictions = run_predictions(config, workdir, rows)
    methods = method_rows(rows, predictions)
    errors = habit_errors(rows, predictions)
    mechanisms = mechanism(workdir, settings(config, workdir))
    plots = write_plots(out, config, rows, kl, per_answer,
                        {label: m['plausible_sizes'] for label, m in mechanisms.items()}, curves, methods)
    cases = case_study(out / 'case_study.md', rows, predictions)
    rounds = round_rows(rows, workdir)
    extra = (rounds_markdown(rounds) + benchmark_markdown(rows) + method_markdown(methods) + habit_markdown(errors, rows)
             + mechanism_markdown(mechanisms) + drift_markdown(rows))
    if cases:
        extra += ['## Case study', '', 'Questions the tuned expert answers differently from the baseline, with both '
                  f'answers: [{out.name}/case_study.md]({out.name}/case_study.md) ('
                  + '; '.join(f"{s}: {c['fixed']} fixed, {c['broken']} broken" for s, c in cases.items()) + ').', '']
    workdir.report_md.write_text(markdown(config, rows, stats, plots, curves, out.name, extra))
    metrics = {'runs': rows, 'rounds': rounds, 'methods': methods, 'habit_errors': errors, 'mechanism': mechanisms, 'sampling': stats,
               'case_study': cases,
               'training': {label: rows_[-1] for label, rows_ in curves.items()}}
    workdir.metrics.write_text(json.dumps(metrics, indent=2))
    return {r['run']: r.get('accuracy') for r in rows}
