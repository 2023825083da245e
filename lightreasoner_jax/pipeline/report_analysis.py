"""The report's analysis sections, after the reference's analysis tools: drift (perplexity of gold solutions
and of the base model's own answers, under each evaluated model; eval_drift.py) and a case study file
(report/case_study.md: questions the baseline got wrong and the tuned expert right, and the reverse, with
both answers) per setting."""

from __future__ import annotations

from etils import epath

CASES_PER_SIDE = 20


def drift_markdown(rows: list[dict]) -> list[str]:
    """rows: report.run_rows' rows, whose 'drift' holds the eval stage's drift metrics."""
    rows = [r for r in rows if r.get('drift')]
    if not rows:
        return []
    several = len({r['setting'] for r in rows}) > 1

    def cell(r, key):
        found = r['drift'].get(key) or {}
        return f"{found['perplexity']:.3f} ({found['answers']})" if 'perplexity' in found else '-'
    lines = ['## Drift', '', 'Perplexity (answers) under each model of the gold solutions and of the base model\'s own '
             'greedy answers to the same questions. Tuning that moves the expert away from fluent solutions '
             'raises the first.', '',
             '| ' + ('Setting | ' if several else '') + 'Run | Gold solutions | Base answers |',
             '|---' * (3 + several) + '|']
    for r in rows:
        lines.append('| ' + (f"{r['setting']} | " if several else '') + f"{r['label']} | {cell(r, 'gold_solutions')} | "
                     f"{cell(r, 'base_answers')} |")
    return lines + ['']


def _case(record_base: dict, record_tuned: dict) -> list[str]:
    question = record_tuned.get('question') or record_base.get('question') or ''
    return [f"### {record_tuned['id']}", '', question, '', f"Gold: `{record_tuned.get('reference')}`", '',
            f"Baseline (answer `{record_base.get('predicted')}`):", '', '```', record_base.get('completion', ''), '```',
            '', f"Tuned (answer `{record_tuned.get('predicted')}`):", '', '```', record_tuned.get('completion', ''),
            '```', '']


def case_study(path: epath.Path, rows: list[dict], predictions: dict[str, list[dict]]) -> dict:
    """Writes the case study of each setting's LightReasoner run (its first seed) against its baseline; returns
    {setting: {'fixed': n, 'broken': n}} over all of its questions."""
    bases = {r['setting']: r for r in rows if r['method'] == 'base'}
    lines, counts = ['# Case study', ''], {}
    for row in rows:
        base = bases.get(row['setting'])
        if row['method'] != 'main' or base is None or row['setting'] in counts:
            continue
        before = {r['id']: r for r in predictions.get(base['run'], [])}
        after = [r for r in predictions.get(row['run'], []) if r['id'] in before]
        fixed = [r for r in after if r['correct'] and not before[r['id']]['correct']]
        broken = [r for r in after if not r['correct'] and before[r['id']]['correct']]
        counts[row['setting']] = {'fixed': len(fixed), 'broken': len(broken)}
        lines += [f"## {row['setting']}: {row['label']} against the baseline", '',
                  f'{len(fixed)} questions the baseline got wrong and the tuned expert right; {len(broken)} the reverse. '
                  f'The first {CASES_PER_SIDE} of each:', '', '## Wrong before, right after', '']
        for record in fixed[:CASES_PER_SIDE]:
            lines += _case(before[record['id']], record)
        lines += ['## Right before, wrong after', '']
        for record in broken[:CASES_PER_SIDE]:
            lines += _case(before[record['id']], record)
    if counts:
        path.write_text('\n'.join(lines) + '\n')
    return counts
