"""Variants: the same stage under config overrides, in the workdir's variants/<name>/."""

from __future__ import annotations

from lightreasoner_jax.pipeline.workdir import Workdir

# A variant's key (not a config field) naming another variant whose samples it trains on.
SAMPLES_OF = 'samples_of'
# A variant's key (not a config field): the round it is (pipeline/rounds.py).
ROUND_OF = 'round'


def split_name(stage: str) -> tuple[str, str | None]:
    """'train:sft' -> ('train', 'sft'); 'train' -> ('train', None)."""
    name, _, variant = stage.partition(':')
    return name, variant or None


def apply_overrides(config, overrides: dict):
    """A copy of config with {'a.b': v} or nested {'a': {'b': v}} overrides, each field checked to exist."""
    config = config.copy_and_resolve_references()
    flat = {}

    def flatten(prefix, value):
        if isinstance(value, dict) or hasattr(value, 'items') and not isinstance(value, (str, bytes)):
            for key, inner in value.items():
                flatten(f'{prefix}.{key}' if prefix else key, inner)
        else:
            flat[prefix] = value

    flatten('', dict(overrides))
    with config.unlocked():
        for key, value in flat.items():
            node = config
            *parents, field = key.split('.')
            for parent in parents:
                if parent not in node:
                    raise KeyError(f'override {key!r}: config has no field {parent!r}')
                node = node[parent]
            if field not in node:
                raise KeyError(f'override {key!r}: config has no field {field!r}')
            node[field] = type(node[field])(value) if isinstance(node[field], tuple) else value
    return config


def stage_context(config, workdir: Workdir, stage: str):
    """(config, Workdir) for a stage name: the variant's overrides and directory for 'name:variant'.
    A variant that does not sample itself trains on the main run's samples, or on those of the variant its
    `samples_of` names."""
    _, variant = split_name(stage)
    if variant is None:
        return config, workdir
    overrides = config.variants[variant].to_dict()
    samples_of = overrides.pop(SAMPLES_OF, None)
    overrides.pop(ROUND_OF, None)
    variant_config = apply_overrides(config, overrides)
    if not variant_config.train.samples_dir and f'sample:{variant}' not in config.stages:
        samples = workdir.variant(samples_of).samples_dir if samples_of else workdir.samples_dir
        with variant_config.unlocked():
            variant_config.train.samples_dir = str(samples)
    return variant_config, workdir.variant(variant)
