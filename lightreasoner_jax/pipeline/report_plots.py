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


def write_plots(out: epath.Path, config, rows, kl, per_answer, sizes, curves, methods=()) -> list[str]:
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
    base = next((r for r in rows if r['run'] == 'base' and r.get('accuracy') is not None), None)
    bars = ([('Baseline', 100 * base['accuracy'], 0.0)] if base else []) + [
        (m['label'], 100 * m['mean_accuracy'], 100 * m['spread']) for m in methods]
    if bars:
        fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(bars)), 3.8))
        labels, heights, errors = zip(*bars)
        ax.bar(labels, heights, yerr=errors, capsize=4, color=['tab:gray'] + ['tab:green'] * (len(bars) - 1))
        for x, (height, error) in enumerate(zip(heights, errors)):  # value labels: a 1-point change must show
            ax.annotate(f'{height:.1f}', (x, height + error), ha='center', va='bottom', fontsize=8)
        if base:
            ax.axhline(100 * base['accuracy'], color='tab:gray', linestyle=':', linewidth=1)
        low = min(h - e for h, e in zip(heights, errors))
        ax.set(ylabel='pass@1 (%)', title='Accuracy (mean over seeds, error bar: sd)',
               ylim=(max(0, low - 10), min(100, max(h + e for h, e in zip(heights, errors)) + 6)))
        ax.tick_params(axis='x', rotation=20)
        save(fig, 'accuracy.png')
    return written
