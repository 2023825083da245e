"""The toy world's splits as the shipped models were trained and are evaluated on.

The problems are not stored: they are regenerated from the parameters in assets/world.json (the
build writes them there, with the splits' hashes, which the tests check against a regeneration).
"""

from __future__ import annotations

import functools
import json

from lightreasoner_jax.toyworld import problems
from lightreasoner_jax.toyworld.assets import WORLD_FILE

SPLITS = ('train', 'test')
DEFAULT_WORLD = {'train_size': 20000, 'test_size': 500, 'seed': 0}  # configs/toyworld.py's world


def parameters() -> dict:
    if WORLD_FILE.exists():
        return json.loads(WORLD_FILE.read_text())['world']
    return dict(DEFAULT_WORLD)


@functools.lru_cache(maxsize=1)
def splits() -> dict[str, list[problems.Problem]]:
    world = parameters()
    train, test = problems.make_splits(world['train_size'], world['test_size'], world['seed'])
    return {'train': train, 'test': test}


def split(name: str) -> list[problems.Problem]:
    if name not in SPLITS:
        raise ValueError(f"toy world split must be one of {SPLITS} ('toyworld:train'), got {name!r}")
    return splits()[name]
