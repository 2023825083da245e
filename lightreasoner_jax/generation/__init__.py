"""Batched generation with a KV cache, and the host side that feeds prompts to jitted steps."""

from lightreasoner_jax.generation.decode import (
                                                   Generation,
                                                   Generator,
                                                   SamplingConfig,
                                                   choose_token,
                                                   generate,
                                                   generate_with_cache,
                                                   next_token,
                                                   prefill,
)
from lightreasoner_jax.generation.prompt_batches import (
                                                   PromptBatcher,
                                                   batches_by_length,
                                                   bucket_length,
                                                   collective_batches,
                                                   left_pad,
)

__all__ = ['Generation', 'Generator', 'SamplingConfig', 'choose_token', 'generate', 'generate_with_cache',
           'next_token', 'prefill',
           'PromptBatcher', 'batches_by_length', 'bucket_length', 'collective_batches', 'left_pad']
