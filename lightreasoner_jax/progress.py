"""A progress bar on process 0 (tqdm), silent on the other processes."""

from __future__ import annotations


class Progress:
    def __init__(self, desc: str, total: int, unit: str, enabled: bool, initial: int = 0):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True)

    def update(self, n: int, **postfix):
        if self.bar is not None:
            self.bar.update(n)
            self.bar.set_postfix({k: f'{v:.4g}' if isinstance(v, float) else v for k, v in postfix.items()})

    def close(self):
        if self.bar is not None:
            self.bar.close()
