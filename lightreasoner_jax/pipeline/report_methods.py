"""The report's method table: runs grouped by setting (report_settings.py) and method over training seeds (a
variant named '<method>_s<k>' is seed k of <method>; 'main_s<k>' of LightReasoner), each with its accuracy
per seed, the mean change vs its setting's baseline with its spread, and McNemar's paired test (per seed and
pooled) on the same evaluation problems. For the habit toy world, the answers' errors by habit type, before
and after tuning."""

from __future__ import annotations

import re
import statistics

from lightreasoner_jax import json_lines
from lightreasoner_jax.evaluation.paired import correctness, paired_test
from lightreasoner_jax.pipeline.variants import stage_context
from lightreasoner_jax.pipeline.workdir import Workdir

_SEED = re.compile(r'^(?P<method>.+)_s(?P<seed>\d+)$')


def method_of(run: str) -> str:
    match = _SEED.match(run)
    return match.group('method') if match else run


def run_predictions(config, workdir: Workdir, rows: list[dict]) -> dict[str, list[dict]]:
    """Each run's prediction records (rows from report.run_rows), read once for every table."""
    out = {}
    for row in rows:
        run = row['run']
        if row['method'] == 'base':
            _, variant = run.partition(':')[::2]
            baseline = workdir.variant(variant) if variant else workdir
            out[run] = json_lines.recover_all(baseline.all_eval_predictions('base'))
        else:
            _, run_dir = stage_context(config, workdir, 'eval' if run == 'main' else f'eval:{run}')
            out[run] = json_lines.recover_all(run_dir.all_eval_predictions('tuned'))
    return out


def method_rows(rows: list[dict], predictions: dict[str, list[dict]]) -> list[dict]:
    """One row per setting and method with evaluated runs (rows from report.run_rows)."""
    bases = {r['setting']: r for r in rows if r['method'] == 'base'}
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        if row['method'] != 'base' and row.get('accuracy') is not None:
            groups.setdefault((row['setting'], row['method']), []).append(row)
    out = []
    for (setting, method), runs in groups.items():
        accuracies = [r['accuracy'] for r in runs]
        row = {'setting': setting, 'method': method, 'label': runs[0]['label'].split(' (seed ')[0],
               'seeds': len(runs), 'accuracies': accuracies,
               'mean_accuracy': statistics.fmean(accuracies),
               'spread': statistics.stdev(accuracies) if len(runs) > 1 else 0.0,
               'tokens_tuned': _mean(r.get('tokens_tuned') for r in runs),
               'problems_sampled': runs[0].get('problems_sampled'), 'seconds': _mean(r.get('seconds') for r in runs)}
        base = bases.get(setting)
        if base:
            row['base_accuracy'] = base['accuracy']
            row['mean_change'] = row['mean_accuracy'] - base['accuracy']
            try:
                row['paired'] = paired_test(correctness(predictions[base['run']]),
                                            [correctness(predictions[r['run']]) for r in runs])
            except ValueError:
                row['paired'] = None  # evaluated on other problems than the baseline
        out.append(row)
    return out


def _mean(values):
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def method_markdown(methods: list[dict]) -> list[str]:
    if not methods:
        return []
    several = len({m['setting'] for m in methods}) > 1
    lines = ['## Methods over seeds', '',
             '| ' + ('Setting | ' if several else '') + 'Method | Seeds | Accuracy per seed (%) | Baseline (%) | '
             'Mean change (points) | Spread (sd, points) | Gained / lost (pooled) | McNemar p (pooled) | '
             'Tokens tuned | Time |', '|---' * (10 + several) + '|']
    for m in methods:
        paired = (m.get('paired') or {}).get('pooled')
        change, tokens, seconds = m.get('mean_change'), m['tokens_tuned'], m['seconds']
        cells = ([m['setting']] if several else []) + [
            m['label'], str(m['seeds']), ', '.join(f'{100 * a:.1f}' for a in m['accuracies']),
            '-' if m.get('base_accuracy') is None else f"{100 * m['base_accuracy']:.1f}",
            '-' if change is None else f'{100 * change:+.1f}', f"{100 * m['spread']:.1f}",
            '-' if not paired else f"{paired['gained']} / {paired['lost']}",
            '-' if not paired else f"{paired['p_value']:.2g}",
            '-' if tokens is None else f'{tokens:,.0f}', '-' if seconds is None else f'{seconds:.0f} s']
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', 'Gained / lost: evaluation problems a run gets right that the baseline gets wrong, and the reverse, '
              "summed over seeds; McNemar's exact test on those (pooled: a stratified test over seeds).", '']
    return lines


def habit_errors(rows: list[dict], predictions: dict[str, list[dict]]) -> dict:
    """For runs evaluated on the habit world: each run's wrong answers by habit type (toyworld/habits.py)."""
    habit_runs = {r['run']: r['eval_source'] for r in rows if r['eval_source'].startswith('toyworld:habits:')}
    if not habit_runs:
        return {}
    from lightreasoner_jax.toyworld import habits, world
    out = {}
    for run, source in habit_runs.items():
        if predictions.get(run):
            problems = {p.id: p for p in world.split(source[len('toyworld:'):])}
            out[run] = habits.error_breakdown(problems, predictions[run])
    return out


def habit_markdown(errors: dict, rows: list[dict]) -> list[str]:
    if not errors:
        return []
    labels = {r['run']: r['label'] for r in rows}
    lines = ['## Errors by habit type (habit world)', '',
             '| Run | Wrong | With a habit | receive_gives | distractor | continuation | other |',
             '|---|---|---|---|---|---|---|']
    for run, e in errors.items():
        t = e['by_type']
        lines.append(f"| {labels.get(run, run)} | {e['wrong']} | {e['wrong_with_a_habit']} "
                     f"({100 * e['habit_share_of_errors']:.0f}%) | {t['receive_gives']} | {t['distractor']} | "
                     f"{t['continuation']} | {t['other']} |")
    lines += ['', 'An answer may show several habits; "other" is an error with none of them (arithmetic slips).', '']
    return lines
