"""Batched generation with a KV cache, and the host side that feeds prompts to jitted steps."""

from lightreasoner_jax.generation.checkpoint_sampling import GenerationConfigError, checkpoint_sampling
from lightreasoner_jax.generation.decode import (
                                                   Generation,
                                                   Generator,
                                                   SamplingConfig,
                                                   choose_token,
                                                   generate,
                                                   generate_with_cache,
                                                   next_token,
                                                   prefill,
                                                   processed_logits,
)
from lightreasoner_jax.generation.prompt_batches import (
                                                   PromptBatcher,
                                                   batches_by_length,
                                                   bucket_length,
                                                   collective_batches,
                                                   left_pad,
)

__all__ = ['Generation', 'Generator', 'SamplingConfig', 'choose_token', 'generate', 'generate_with_cache',
           'next_token', 'prefill', 'processed_logits', 'checkpoint_sampling', 'GenerationConfigError',
           'PromptBatcher', 'batches_by_length', 'bucket_length', 'collective_batches', 'left_pad']
