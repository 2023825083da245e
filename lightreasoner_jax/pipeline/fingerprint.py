"""A stage's config fingerprint: the config sections its outputs depend on, as plain JSON, without the
fields that change how it runs but not what it produces. The stage record and the train stage's
checkpoints both carry it; a workdir or checkpoint made under another fingerprint is refused."""

from __future__ import annotations

import json

_SAMPLE = ('expert', 'amateur', 'data', 'generation', 'contrast')

# The config sections each stage's outputs depend on.
STAGE_SECTIONS: dict[str, tuple[str, ...]] = {
    'model_check': ('model_check',),
    'eval_base': ('expert', 'eval'),
    'sample': _SAMPLE,
    'diagnose': ('expert', 'amateur', 'data', 'contrast', 'diagnose'),
    'train': _SAMPLE + ('train',),
    'export': _SAMPLE + ('train', 'export'),
    'eval': _SAMPLE + ('train', 'eval'),
    'report': (),
}

# Dotted paths of fields that change how a stage runs, not what it produces.
IGNORED_FIELDS = ('train.log_every', 'train.checkpoint', 'generation.bucket', 'eval.bucket', 'contrast.chunk',
                  'generation.prefill_groups',  # as the bucket: padding, so float rounding, not the answers
                  'amateur.special_token_differences')  # refuses or allows a run; never changes its outputs


# Dotted fields that count only under a condition on the (plain) config: settings of one objective.
CONDITIONAL_FIELDS = {
    'train.rejection': lambda config: config.get('train', {}).get('objective') == 'rs_sft',
    'expert.stop_tokens': lambda config: bool(config.get('expert', {}).get('stop_tokens')),  # none: as before it existed
    # Both modes give the same records to float rounding; only the non-default one is recorded, so a workdir
    # sampled before the in-loop contrast existed still resumes.
    'contrast.rescore': lambda config: bool(config.get('contrast', {}).get('rescore')),
    'contrast.reference_compatible': lambda config: bool(config.get('contrast', {}).get('reference_compatible')),
    'contrast.generation_config': lambda config: bool(config.get('contrast', {}).get('reference_compatible')
                                                      and config['contrast'].get('generation_config')),
    # The amateur's kind counts when not the default 'model' (workdirs from before it existed resume); an early
    # exit is the expert's own layers, so its path and dtype do not count, its layer count does.
    'amateur.kind': lambda config: _amateur_kind(config) != 'model',
    'amateur.layers': lambda config: _amateur_kind(config) == 'early_exit',
    'amateur.top_m': lambda config: _amateur_kind(config) == 'cross_tokenizer',
    'amateur.max_continuation': lambda config: _amateur_kind(config) == 'cross_tokenizer',
    'amateur.path': lambda config: _amateur_kind(config) != 'early_exit',
    'amateur.dtype': lambda config: _amateur_kind(config) != 'early_exit',
}


def _amateur_kind(config) -> str:
    return config.get('amateur', {}).get('kind', 'model')


def plain(value):
    """A JSON-safe copy (tuples become lists, unknown objects their str)."""
    return json.loads(json.dumps(value, default=str))


def _strip(tree, prefix: str):
    if not isinstance(tree, dict):
        return tree
    return {key: _strip(value, f'{prefix}.{key}') for key, value in tree.items()
            if f'{prefix}.{key}' not in IGNORED_FIELDS}


def fingerprint(config, stage_name: str) -> dict:
    """The fingerprint of stage `stage_name` ('train', not 'train:variant') under `config`."""
    sections = STAGE_SECTIONS[stage_name]
    result = {s: _strip(plain(config[s].to_dict() if hasattr(config[s], 'to_dict') else config[s]), s)
              for s in sections if s in config}
    for field, counts in CONDITIONAL_FIELDS.items():
        section, name = field.split('.', 1)
        if section in result and not counts(result):
            result[section].pop(name, None)
    return result
