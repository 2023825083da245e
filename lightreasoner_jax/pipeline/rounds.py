"""Iterated rounds (config.rounds = N): sample with the current expert, tune, export, evaluate; then again with
the tuned expert as the new expert, N times in all.

Round 1 is the main run (the workdir itself). Round r >= 2 is the variant 'round<r>' (workdir/variants/round<r>/),
whose expert is round r-1's export (export/merged) and, with config.round_amateur = 'previous', whose amateur is
round r-1's expert (amateur.kind='checkpoint'): the expert contrasts itself with what it was one round before.
With 'same' every round contrasts with config.amateur.

`expand` turns such a config into a plain one: the round variants and their stages (sample, train, export,
eval; the report last) are written out, so every round is an ordinary stage with its own record and
fingerprint, skipped when done and resumed where it stopped. A round's expert does not exist before the round
before it has exported, so the checks that read checkpoints before any stage runs skip the round variants
(their tokenizer is round 1's: the export copies it).
"""

from __future__ import annotations

import re

from lightreasoner_jax.pipeline.validation import ConfigError
from lightreasoner_jax.pipeline.variants import ROUND_OF, split_name
from lightreasoner_jax.pipeline.workdir import Workdir

ROUND_AMATEURS = ('same', 'previous')
ROUND_STAGES = ('sample', 'train', 'export', 'eval')
_NAME = re.compile(r'^round(?P<round>\d+)$')


def round_name(r: int) -> str:
    return f'round{r}'


def round_number(variant: str | None) -> int | None:
    """2 for 'round2'; None for the main run and other variants."""
    match = _NAME.match(variant or '')
    return int(match.group('round')) if match else None


def _round_dir(workdir: Workdir, r: int) -> Workdir:
    return workdir if r == 1 else workdir.variant(round_name(r))


def expand(config, workdir: Workdir):
    """config with rounds 2..N written out as variants and stages (config itself when rounds <= 1)."""
    count = config.get('rounds', 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError(f'config.rounds = {count!r}: must be an integer >= 1')
    amateur = config.get('round_amateur', 'same')
    if amateur not in ROUND_AMATEURS:
        raise ConfigError(f'config.round_amateur = {amateur!r}: must be one of {ROUND_AMATEURS}')
    if count == 1:
        return config
    names = [split_name(s)[0] for s in config.stages if split_name(s)[1] is None]
    missing = [s for s in ROUND_STAGES if s not in names]
    if missing:
        raise ConfigError(f'config.rounds = {count}: every round samples, trains, exports and evaluates, but '
                          f'config.stages lacks {missing}')
    taken = [round_name(r) for r in range(2, count + 1) if round_name(r) in (config.get('variants') or {})]
    if taken:
        raise ConfigError(f'config.variants: {taken} are the names of rounds 2..{count}; rename them')
    config = config.copy_and_resolve_references()
    experts = [config.expert.path] + [str(_round_dir(workdir, r).export_merged) for r in range(1, count)]
    with config.unlocked():
        for r in range(2, count + 1):
            overrides = {ROUND_OF: r, 'expert': {'path': experts[r - 1]}}
            if amateur == 'previous':
                overrides['amateur'] = {'kind': 'checkpoint', 'path': experts[r - 2]}
            config.variants[round_name(r)] = overrides
        later = tuple(f'{stage}:{round_name(r)}' for r in range(2, count + 1) for stage in ROUND_STAGES)
        reports = tuple(s for s in config.stages if split_name(s)[0] == 'report')
        config.stages = tuple(s for s in config.stages if s not in reports) + later + reports
    return config


def is_later_round(config, stage: str) -> bool:
    """Whether `stage` belongs to a round >= 2 (its expert is an earlier round's export)."""
    variant = split_name(stage)[1]
    return variant is not None and ROUND_OF in (config.get('variants') or {}).get(variant, {})
