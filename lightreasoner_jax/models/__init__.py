"""Decoder-only transformers (Qwen2/Qwen2.5, Llama, Mistral) with HF checkpoint import/export."""

from lightreasoner_jax.models.config import ModelConfig, UnsupportedModelError
from lightreasoner_jax.models.hf_io import abstract_model, hf_mappings, load_hf, save_hf
from lightreasoner_jax.models.safetensors_io import CheckpointError
from lightreasoner_jax.models.tokenizers import TokenizerMismatchError, check_tokenizers_compatible
from lightreasoner_jax.models.transformer import KVCache, Transformer, padded_positions

__all__ = [
    'ModelConfig', 'UnsupportedModelError', 'CheckpointError', 'TokenizerMismatchError', 'Transformer',
    'KVCache', 'padded_positions', 'load_hf', 'save_hf', 'abstract_model', 'hf_mappings',
    'check_tokenizers_compatible',
]
