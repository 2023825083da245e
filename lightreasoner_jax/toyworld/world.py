"""The toy worlds' splits as the shipped models were trained and are evaluated on.

Two worlds: `clean` (both models learn only correct solutions; splits train, test) and `habits` (generic
habits shared by expert and amateur; splits generic, basics, train, dev, test; see habits.py). A data source names
one as 'toyworld:SPLIT' (the clean world) or 'toyworld:WORLD:SPLIT'. The problems are not stored: they are
regenerated from the parameters in each world's world.json (the build writes them there, with the splits'
hashes, which the tests check against a regeneration).
"""

from __future__ import annotations

import functools
import json

from lightreasoner_jax.toyworld import habits, problems
from lightreasoner_jax.toyworld.assets import world_dir

WORLD_SPLITS = {'clean': ('train', 'test'), 'habits': ('generic', 'basics', 'train', 'dev', 'test')}
SPLITS = WORLD_SPLITS['clean']
DEFAULT_WORLDS = {
    'clean': {'train_size': 20000, 'test_size': 500, 'seed': 0},  # configs/toyworld.py's world
    'habits': {'generic_size': 20000, 'basics_size': 5000, 'train_size': 10000, 'dev_size': 500, 'test_size': 800,
               'seed': 0,
               'min_steps': 2, 'max_steps': 3, 'receive_gives': 0.5, 'distractor': 0.5,
               'continuation': 0.6},  # configs/toyworld_habits.py's
}


def parameters(world: str = 'clean') -> dict:
    path = world_dir(world) / 'world.json'
    if path.exists():
        return json.loads(path.read_text())['world']
    return dict(DEFAULT_WORLDS[world])


def make_splits(world: str, params: dict) -> dict[str, list[problems.Problem]]:
    if world == 'clean':
        train, test = problems.make_splits(params['train_size'], params['test_size'], params['seed'])
        return {'train': train, 'test': test}
    return habits.make_splits(params)


@functools.lru_cache(maxsize=2)
def splits(world: str = 'clean') -> dict[str, list[problems.Problem]]:
    return make_splits(world, parameters(world))


def parse(name: str) -> tuple[str, str]:
    """'test' -> ('clean', 'test'); 'habits:dev' -> ('habits', 'dev'); a clear error otherwise."""
    world, _, split_name = name.rpartition(':')
    world = world or 'clean'
    if world not in WORLD_SPLITS or split_name not in WORLD_SPLITS[world]:
        known = [s if w == 'clean' else f'{w}:{s}' for w, ss in WORLD_SPLITS.items() for s in ss]
        raise ValueError(f"toy world split must be one of {known} (as 'toyworld:<split>'), got {name!r}")
    return world, split_name


def split(name: str) -> list[problems.Problem]:
    world, split_name = parse(name)
    return splits(world)[split_name]
