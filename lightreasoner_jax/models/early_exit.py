"""The expert's own first layers as the amateur (amateur.kind='early_exit'): its first k decoder layers,
then its final norm and LM head. No second model and no tokenizer to match; the weights are the expert's
(shared, not copied).

Fed the same tokens, the early exit's keys and values are the expert's own first k layers', so the sample
step computes both models in one pass (`Transformer.forward(exit_layer=k)`): the amateur costs one
extra final norm and LM head per token. `EarlyExit` is the same amateur as a model of its own, for the
paths that run the amateur separately (teacher-forced re-scoring, the diagnose stage).
"""

from __future__ import annotations

import jax
from flax import nnx

from lightreasoner_jax.models.transformer import KVCache, Transformer


def check_exit_layers(layers: int, expert_layers: int) -> None:
    if not 1 <= layers < expert_layers:
        raise ValueError(f'amateur.layers must be in [1, {expert_layers - 1}] for an early exit of a '
                         f'{expert_layers}-layer expert, got {layers}')


class EarlyExit(nnx.Module):
    """A Transformer-like view of `expert` that stops after `layers` layers (same call, logits, config)."""

    def __init__(self, expert: Transformer, layers: int):
        check_exit_layers(layers, expert.config.num_layers)
        self.expert = expert
        self.exit_layer = int(layers)
        self.config = expert.config.replace(num_layers=int(layers),
                                            sliding_windows=expert.config.sliding_windows[:layers])

    def __call__(self, input_ids: jax.Array, positions: jax.Array, attention_mask_: jax.Array,
                 cache: KVCache | None = None, dropout_rng: jax.Array | None = None
                 ) -> tuple[jax.Array, KVCache | None]:
        _, exit_hidden, cache = self.expert.forward(input_ids, positions, attention_mask_, cache, dropout_rng,
                                                    exit_layer=self.exit_layer, stop_at_exit=True)
        return exit_hidden, cache

    def logits(self, hidden: jax.Array) -> jax.Array:
        return self.expert.logits(hidden)

    def logits_at(self, hidden: jax.Array, index: jax.Array) -> jax.Array:
        return self.expert.logits_at(hidden, index)
