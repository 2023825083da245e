"""Batched generation with a KV cache, and the host side that feeds prompts to jitted steps."""

from lightreasoner_jax.generation.decode import (
                                                   Generation,
                                                   Generator,
                                                   SamplingConfig,
                                                   generate,
                                                   generate_with_cache,
                                                   next_token,
)
from lightreasoner_jax.generation.prompt_batches import (
                                                   PromptBatcher,
                                                   batches_by_length,
                                                   bucket_length,
                                                   collective_batches,
                                                   left_pad,
)

__all__ = ['Generation', 'Generator', 'SamplingConfig', 'generate', 'generate_with_cache', 'next_token',
           'PromptBatcher', 'batches_by_length', 'bucket_length', 'collective_batches', 'left_pad']
