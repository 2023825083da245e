"""Which amateur a stage contrasts the expert with (config.amateur.kind):

    'model'       a separate small model at amateur.path (the paper's pairs; the default)
    'early_exit'  the expert's own first amateur.layers layers, then its final norm and LM head
                  (models/early_exit.py): no second model, no tokenizer to match
    'checkpoint'  an earlier checkpoint of the expert at amateur.path (the base before a previous round, a
                  round's export): checked to have the expert's architecture before any weights load
    'cross_tokenizer'  a model with a tokenizer of its own at amateur.path (experimental;
                  sampling/cross_tokenizer.py): compared through the text of the expert's top amateur.top_m tokens

`check_amateur` reads only config.json files, so a wrong kind, layer count or architecture fails before
any stage runs; `load_amateur` gives the model the sample and diagnose stages use.
"""

from __future__ import annotations

from lightreasoner_jax.models import ModelConfig, Transformer, load_hf, local_dir
from lightreasoner_jax.models.early_exit import EarlyExit, check_exit_layers
from lightreasoner_jax.pipeline.validation import ConfigError

# What must agree for an amateur of kind 'checkpoint' to be the expert at another point of its training.
_ARCHITECTURE_FIELDS = ('model_type', 'vocab_size', 'hidden_size', 'intermediate_size', 'num_layers', 'num_heads',
                        'num_kv_heads', 'head_dim', 'tie_word_embeddings', 'qkv_bias', 'sliding_windows')


def amateur_kind(config) -> str:
    """config.amateur.kind ('model' in configs written before it existed)."""
    return config.amateur.get('kind', 'model')


def check_amateur(config) -> None:
    """Raises ConfigError when the amateur's kind does not fit the expert (config.json files only)."""
    kind = amateur_kind(config)
    if kind in ('model', 'cross_tokenizer'):
        return
    expert = ModelConfig.from_hf(local_dir(config.expert.path))
    if kind == 'early_exit':
        try:
            check_exit_layers(config.amateur.layers, expert.num_layers)
        except ValueError as err:
            raise ConfigError(f'config.amateur.layers = {config.amateur.layers!r}: {err}') from None
        return
    amateur = ModelConfig.from_hf(local_dir(config.amateur.path))
    differ = [f'{f} {getattr(expert, f)!r} vs {getattr(amateur, f)!r}' for f in _ARCHITECTURE_FIELDS
              if getattr(expert, f) != getattr(amateur, f)]
    if differ:
        raise ConfigError(f"config.amateur.path = {config.amateur.path!r}: amateur.kind='checkpoint' needs a "
                          f"checkpoint of the expert's architecture; it differs from {config.expert.path!r} in "
                          f"{', '.join(differ)} (use amateur.kind='model' for another model)")


def load_amateur(config, expert: Transformer, mesh) -> Transformer | EarlyExit:
    """The amateur of `config` on `mesh`; an early exit shares `expert`'s weights."""
    if amateur_kind(config) == 'early_exit':
        return EarlyExit(expert, config.amateur.layers)
    return load_hf(config.amateur.path, mesh=mesh, dtype=config.amateur.dtype)


def needs_tokenizer_check(config) -> bool:
    """An early exit has the expert's tokenizer, a cross-tokenizer amateur its own; every other amateur's is
    checked against the expert's."""
    return amateur_kind(config) not in ('early_exit', 'cross_tokenizer')
