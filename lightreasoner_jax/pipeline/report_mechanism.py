"""The report's mechanism section, per setting (report_settings.py): the plausible-set sizes of the steps
its sampling kept, and the contrast diagnostic of its `diagnose` stage (sampling/diagnostic.py), if run:
on gold answers, how often the contrast's argmax is right where the expert's is wrong (fixed) and the
reverse (broken), over every step and over the steps KL selection keeps."""

from __future__ import annotations

import collections
import json

from lightreasoner_jax.pipeline.report_settings import Setting, baseline_dir
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store


def plausible_sizes(samples_dir) -> dict[int, int]:
    """{plausible-set size: kept steps} over the sample records in samples_dir."""
    sizes: collections.Counter[int] = collections.Counter()
    if samples_dir.exists():
        for path in store.sample_files(samples_dir):
            for record in store.recover(path):
                sizes.update(record.num_plausible or [])
    return dict(sorted(sizes.items()))


def mechanism(workdir: Workdir, all_settings: list[Setting]) -> dict[str, dict]:
    out = {}
    for setting in all_settings:
        directory = baseline_dir(workdir, setting)
        diagnostic = directory.contrast_diagnostic
        entry = {'plausible_sizes': plausible_sizes(directory.samples_dir),
                 'diagnostic': json.loads(diagnostic.read_text()) if diagnostic.exists() else None}
        if entry['plausible_sizes'] or entry['diagnostic']:
            out[setting.label] = entry
    return out


def _shares(sizes: dict) -> str:
    total = sum(sizes.values())
    if not total:
        return '-'
    one, two = sizes.get(1, 0), sizes.get(2, 0)
    return (f'{100 * one / total:.0f}% / {100 * two / total:.0f}% / '
            f'{100 * (total - one - two) / total:.0f}%')


def mechanism_markdown(entries: dict[str, dict]) -> list[str]:
    if not entries:
        return []
    lines = ['## Mechanism', '',
             '| Setting | Kept steps sampled | Plausible set 1 / 2 / 3+ tokens | Gold steps (diagnostic) | '
             'Expert right | Contrast right | Fixed / broken by the contrast (all steps) | '
             'Kept (diagnostic) | Fixed / broken at kept steps |', '|---' * 9 + '|']
    for label, e in entries.items():
        d = e['diagnostic']
        sizes = e['plausible_sizes']
        cells = [label, f'{sum(sizes.values()):,}' if sizes else '-', _shares(sizes)]
        if d:
            cells += [f"{d['steps']:,}", f"{100 * d['expert_step_accuracy']:.1f}%",
                      f"{100 * d['contrast_step_accuracy']:.1f}%", f"{d['fixed']:,} / {d['broken']:,}",
                      f"{d['kept']:,}", f"{d['kept_fixed']:,} / {d['kept_broken']:,}"]
        else:
            cells += ['-'] * 6
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', 'Plausible set: tokens with p_E >= alpha * max p_E at the kept steps of the samples (1 token: the '
              "contrastive target is the expert's own choice). Diagnostic (stage diagnose): teacher-forced on gold "
              "answers of the training questions; fixed: the contrast's argmax is the gold token and the expert's "
              'is not; broken: the reverse.', '']
    sampled = {label: e['diagnostic']['sampled_steps'] for label, e in entries.items()
               if e['diagnostic'] and e['diagnostic'].get('sampled_steps')}
    if sampled:
        lines += ['Expert vs amateur at the steps of the expert\'s sampled answers (entropy in nats, mean):', '',
                  '| Setting | Steps | Expert entropy | Amateur entropy | Top-1 agreement | Steps with KL >= beta | '
                  'Expert entropy | Amateur entropy | Top-1 agreement |', '|---' * 9 + '|']
        for label, groups in sampled.items():
            cells = [label]
            for group in ('all_steps', 'kl_at_least_beta'):
                g = groups[group]
                cells += [f"{g['steps']:,}"] + ([f"{g['expert_entropy']:.3f}", f"{g['amateur_entropy']:.3f}",
                                                 f"{100 * g['top1_agreement']:.1f}%"] if g['steps'] else ['-'] * 3)
            lines.append('| ' + ' | '.join(cells) + ' |')
        lines.append('')
    return lines
