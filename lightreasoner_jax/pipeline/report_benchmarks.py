"""The report's benchmark table, in the paper's shape: one row per run (each setting's baseline, the tuned
expert, every variant), one column per benchmark of the evaluation suite and their average, pass@1 in %;
and pass@k / maj@k per benchmark where answers were sampled."""

from __future__ import annotations

from lightreasoner_jax.evaluation.benchmarks import SUITES

LABELS = {'gsm8k': 'GSM8K', 'math': 'MATH', 'svamp': 'SVAMP', 'asdiv': 'ASDiv', 'minerva_math': 'Minerva Math',
          'olympiadbench': 'OlympiadBench', 'mmlu_stem': 'MMLU-STEM'}


def _columns(rows: list[dict]) -> list[str]:
    seen = [name for r in rows for name in (r.get('benchmarks') or {})]
    order = {name: i for i, name in enumerate(SUITES['paper'])}
    return sorted(dict.fromkeys(seen), key=lambda n: (order.get(n, len(order)), seen.index(n)))


def benchmark_markdown(rows: list[dict]) -> list[str]:
    """rows: report.run_rows' rows, whose 'benchmarks' holds each benchmark's metrics (suites only)."""
    rows = [r for r in rows if r.get('benchmarks')]
    if not rows:
        return []
    names = _columns(rows)
    several = len({r['setting'] for r in rows}) > 1
    lines = ['## Benchmarks', '', 'Greedy pass@1 (%), graded as the Qwen2.5-Math toolkit grades; Average: the plain '
             'mean over the benchmarks, as the paper\'s AVG.', '',
             '| ' + ('Setting | ' if several else '') + 'Run | ' + ' | '.join(LABELS.get(n, n) for n in names)
             + ' | Average |', '|---' * (len(names) + 2 + several) + '|']
    for r in rows:
        cells = [r['benchmarks'].get(n, {}).get('accuracy') for n in names]
        present = [c for c in cells if c is not None]
        average = sum(present) / len(present) if len(present) == len(names) else None
        lines.append('| ' + (f"{r['setting']} | " if several else '') + f"{r['label']} | "
                     + ' | '.join('-' if c is None else f'{100 * c:.1f}' for c in cells)
                     + f" | {'-' if average is None else f'{100 * average:.1f}'} |")
    lines.append('')
    lines += _sampled_markdown(rows, names)
    lines += _throughput_markdown(rows, names)
    return lines


def _sampled_markdown(rows: list[dict], names: list[str]) -> list[str]:
    keys = sorted({k for r in rows for m in r['benchmarks'].values() for k in m
                   if k.startswith(('pass@', 'maj@'))}, key=lambda k: (k.split('@')[0], int(k.split('@')[1])))
    if not keys:
        return []
    lines = ['Sampled answers (%):', '', '| Run | Benchmark | ' + ' | '.join(keys) + ' |', '|---' * (len(keys) + 2) + '|']
    for r in rows:
        for n in names:
            m = r['benchmarks'].get(n, {})
            if any(k in m for k in keys):
                lines.append(f"| {r['label']} | {LABELS.get(n, n)} | "
                             + ' | '.join(f'{100 * m[k]:.1f}' if k in m else '-' for k in keys) + ' |')
    return lines + ['']


def _throughput_markdown(rows: list[dict], names: list[str]) -> list[str]:
    parts = []
    for n in names:
        rates = [r['benchmarks'][n]['questions_per_second'] for r in rows
                 if 'questions_per_second' in r['benchmarks'].get(n, {})]
        if rates:
            parts.append(f'{LABELS.get(n, n)} {max(rates):.1f}')
    return ['Evaluation throughput (questions/s, best run): ' + ', '.join(parts) + '.', ''] if parts else []
