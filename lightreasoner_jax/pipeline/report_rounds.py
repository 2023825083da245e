"""The report's rounds table (config.rounds > 1, pipeline/rounds.py): per round, the tuned expert's accuracy,
its change from the baseline and from the round before, what the round's sampling kept, and the drift (the
perplexity of gold solutions under that round's model)."""

from __future__ import annotations

import json

from lightreasoner_jax.pipeline.rounds import round_name, round_number
from lightreasoner_jax.pipeline.workdir import Workdir


def round_rows(rows: list[dict], workdir: Workdir) -> list[dict]:
    """rows: report.run_rows' rows. One row per round that has a training or an evaluation, round 1 first."""
    by_run = {r['run']: r for r in rows}
    base = next((r for r in rows if r['run'] == 'base'), None)
    found = sorted(n for n in (round_number(r['run']) for r in rows) if n)
    if not found:
        return []
    out, previous = [], base
    for number in [1] + found:
        run = by_run.get('main' if number == 1 else round_name(number))
        if run is None:
            continue
        run_dir = workdir if number == 1 else workdir.variant(round_name(number))
        stats = json.loads(run_dir.sample_stats.read_text()) if run_dir.sample_stats.exists() else {}
        accuracy = run.get('accuracy')
        gold = ((run.get('drift') or {}).get('gold_solutions') or {}).get('perplexity')
        out.append({'round': number, 'run': run['run'], 'accuracy': accuracy,
                    'change': None if accuracy is None or base is None else accuracy - base['accuracy'],
                    'change_from_previous': (None if accuracy is None or previous is None or previous.get('accuracy') is None
                                             else accuracy - previous['accuracy']),
                    'kept_steps': stats.get('kept_steps'), 'kept_rate': stats.get('kept_rate'),
                    'gold_perplexity': gold})
        previous = run
    if base is not None:
        gold = ((base.get('drift') or {}).get('gold_solutions') or {}).get('perplexity')
        out.insert(0, {'round': 0, 'run': 'base', 'accuracy': base['accuracy'], 'change': 0.0,
                       'change_from_previous': None, 'kept_steps': None, 'kept_rate': None, 'gold_perplexity': gold})
    return out


def rounds_markdown(rounds: list[dict]) -> list[str]:
    if not rounds:
        return []

    def cell(value, kind=''):
        if value is None:
            return '-'
        return {'pct': f'{100 * value:.1f}', 'signed': f'{100 * value:+.1f}', 'ppl': f'{value:.3f}'}.get(kind, f'{value:,}')
    lines = ['## Rounds', '', 'Each round samples with the expert the round before it tuned (round 0: the expert as '
             'loaded), then tunes it again. Gold perplexity: of the gold solutions under that round\'s model (drift).',
             '', '| Round | Accuracy (%) | Change (points) | From previous round | Kept steps | Kept rate (%) | '
             'Gold perplexity |', '|---' * 7 + '|']
    for r in rounds:
        lines.append(f"| {r['round']} | {cell(r['accuracy'], 'pct')} | {cell(r['change'], 'signed')} | "
                     f"{cell(r['change_from_previous'], 'signed')} | {cell(r['kept_steps'])} | "
                     f"{cell(r['kept_rate'], 'pct')} | {cell(r['gold_perplexity'], 'ppl')} |")
    return lines + ['']
