"""Config sweeps: one run of main per override set, each in its own workdir, and a summary table.

A sweep file defines `get_sweep()` -> a list of {'section.field': value} dicts, e.g.
    [{'contrast.beta': b, 'contrast.alpha': a} for b in (0.2, 0.4, 0.8) for a in (0.1, 0.2)]
Run name = the overrides ('contrast.beta=0.2,contrast.alpha=0.1'); workdir = <root>/<name made path-safe>.
launcher 'local' runs them one after another (a rerun skips finished stages, so it resumes);
'print' prints each main command; 'tpu_pod' prints each launch/tpu_pod.sh command.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

from lightreasoner_jax.pipeline.config_files import load_function
from lightreasoner_jax.pipeline.workdir import Workdir

LAUNCHERS = ('local', 'print', 'tpu_pod')


def load_sweep(path) -> list[dict]:
    sweep = [dict(point) for point in load_function(path, 'get_sweep', 'sweep')()]
    for index, point in enumerate(sweep):
        if not point or not all(isinstance(k, str) and k for k in point):
            raise ValueError(f'{path}: get_sweep()[{index}] must be a non-empty dict of "section.field" keys, '
                             f'got {point!r}')
    return sweep


def run_name(point: dict) -> str:
    return ','.join(f'{key}={value}' for key, value in point.items())


def dir_name(point: dict) -> str:
    return re.sub(r'[^A-Za-z0-9_.=,-]', '_', run_name(point)).replace(',', '__').replace('=', '-')


def flag_value(value) -> str:
    return repr(tuple(value)) if isinstance(value, (tuple, list)) else str(value)


def main_command(config: str, workdir: str, point: dict, extra: list[str]) -> list[str]:
    # the point's overrides come last: they win over the same field in `extra`
    return [sys.executable, '-m', 'lightreasoner_jax.main', f'--config={config}', f'--workdir={workdir}', *extra,
            *[f'--config.{key}={flag_value(value)}' for key, value in point.items()]]


def summarize(root: Path, sweep: list[dict], statuses: dict[str, str]) -> list[dict]:
    """One row per run: its overrides, status and final metrics (from the run's report metrics.json)."""
    rows = []
    for point in sweep:
        workdir = Workdir(root / dir_name(point))
        row = {'run': run_name(point), 'workdir': str(workdir), **point,
               'status': statuses.get(run_name(point), 'not run')}
        metrics_path = workdir.metrics
        if metrics_path.exists():
            metrics = json.loads(metrics_path.read_text())
            by_run = {r['run']: r for r in metrics.get('runs', [])}
            row['base_accuracy'] = by_run.get('base', {}).get('accuracy')
            row['tuned_accuracy'] = by_run.get('main', {}).get('accuracy')
            row['change'] = by_run.get('main', {}).get('change')
            row['kept_rate'] = metrics.get('sampling', {}).get('kept_rate')
            row['final_loss'] = metrics.get('training', {}).get('LightReasoner', {}).get('loss')
        rows.append(row)
    return rows


def _fmt(value) -> str:
    if value is None:
        return '-'
    return f'{value:.4f}' if isinstance(value, float) else str(value)


def summary_markdown(rows: list[dict], keys: list[str]) -> str:
    columns = keys + ['status', 'base_accuracy', 'tuned_accuracy', 'change', 'kept_rate', 'final_loss']
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    lines += ['| ' + ' | '.join([str(row.get(k)) for k in keys] + [_fmt(row.get(c)) for c in columns[len(keys):]])
              + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def run_sweep(config: str, sweep_file: str, root: str, launcher: str = 'local', extra: list[str] | None = None,
              env: dict | None = None) -> list[dict]:
    if launcher not in LAUNCHERS:
        raise ValueError(f'--launcher must be one of {LAUNCHERS}, got {launcher!r}')
    sweep = load_sweep(sweep_file)
    root_path = Path(root)
    extra = list(extra or [])
    statuses = {}
    for point in sweep:
        workdir = Workdir(root_path / dir_name(point))
        command = main_command(config, str(workdir), point, extra)
        if launcher == 'print':
            print(shlex.join(['python'] + command[1:]))
            continue
        if launcher == 'tpu_pod':
            args = shlex.join(command[5:])
            print(f'WORKDIR={shlex.quote(str(workdir))} CONFIG={shlex.quote(config)} ARGS={shlex.quote(args)} '
                  'bash launch/tpu_pod.sh')
            continue
        workdir.mkdir()
        print(f'sweep: {run_name(point)} -> {workdir}', flush=True)
        with workdir.sweep_log.open('a') as log:
            code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        statuses[run_name(point)] = 'ok' if code == 0 else f'failed (exit {code}, see {workdir.sweep_log})'
    if launcher != 'local':
        return []
    rows = summarize(root_path, sweep, statuses)
    keys = list(dict.fromkeys(k for point in sweep for k in point))
    (root_path / 'sweep_summary.json').write_text(json.dumps(rows, indent=2))
    (root_path / 'sweep_summary.md').write_text(summary_markdown(rows, keys))
    return rows
