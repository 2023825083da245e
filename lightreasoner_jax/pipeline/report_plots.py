"""The report's plots, written as PNG bytes (the workdir may be gs://, which matplotlib cannot open)."""

from __future__ import annotations

import io
import math

import numpy as np
from etils import epath


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


def write_plots(out: epath.Path, config, rows, kl, per_answer, sizes_by_setting: dict[str, dict[int, int]], curves,
                methods=()) -> list[str]:
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
    if any(sizes_by_setting.values()):
        fig, ax = plt.subplots(figsize=(6, 3.5))
        shown = {label: sizes for label, sizes in sizes_by_setting.items() if sizes}
        width = 0.8 / len(shown)
        for i, (label, sizes) in enumerate(shown.items()):
            total = sum(sizes.values())
            values = np.array(sorted(sizes))
            ax.bar(values + (i - (len(shown) - 1) / 2) * width, [sizes[v] / total for v in values], width,
                   label=label)
        ax.set(xlabel='plausible tokens (p_E >= alpha * max p_E)', ylabel='share of kept steps',
               title='Plausible-set sizes')
        if len(shown) > 1:
            ax.legend(fontsize=8)
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
    panels = _accuracy_panels(rows, methods)
    if panels:
        fig, axes = plt.subplots(1, len(panels), squeeze=False,
                                 figsize=(max(6, 1.1 * sum(len(b) for b in panels.values())), 3.8))
        for ax, (setting, bars) in zip(axes[0], panels.items()):
            _accuracy_bars(ax, bars, setting if len(panels) > 1 else '')
        save(fig, 'accuracy.png')
    return written


def _accuracy_panels(rows, methods) -> dict[str, list[tuple[str, float, float]]]:
    """Per setting: (label, accuracy %, sd %) bars, its baseline first."""
    panels: dict[str, list] = {}
    for r in rows:
        if r['method'] == 'base' and r.get('accuracy') is not None:
            panels.setdefault(r['setting'], []).append(('Baseline', 100 * r['accuracy'], 0.0))
    for m in methods:
        panels.setdefault(m['setting'], []).append((m['label'], 100 * m['mean_accuracy'], 100 * m['spread']))
    return panels


def _accuracy_bars(ax, bars, title: str) -> None:
    labels, heights, errors = zip(*bars)
    has_base = labels[0] == 'Baseline'
    ax.bar(range(len(bars)), heights, yerr=errors, capsize=4,
           color=(['tab:gray'] if has_base else []) + ['tab:green'] * (len(bars) - has_base))
    ax.set_xticks(range(len(bars)), labels, rotation=25, ha='right', fontsize=8)
    for x, (height, error) in enumerate(zip(heights, errors)):  # value labels: a 1-point change must show
        ax.annotate(f'{height:.1f}', (x, height + error), ha='center', va='bottom', fontsize=8)
    if has_base:
        ax.axhline(heights[0], color='tab:gray', linestyle=':', linewidth=1)
    low = min(h - e for h, e in zip(heights, errors))
    ax.set(ylabel='pass@1 (%)', title=f'Accuracy{": " + title if title else ""} (mean over seeds, bar: sd)',
           ylim=(max(0, low - 10), min(100, max(h + e for h, e in zip(heights, errors)) + 6)))
