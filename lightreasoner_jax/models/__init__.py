"""Decoder-only transformers (Qwen2/Qwen2.5, Llama, Mistral): the model, HF checkpoints in and out,
LoRA, and tokenizers."""

from lightreasoner_jax.models.config import ModelConfig, UnsupportedModelError
from lightreasoner_jax.models.early_exit import EarlyExit
from lightreasoner_jax.models.hf_export import export
from lightreasoner_jax.models.hf_io import abstract_model, hf_mappings, load_hf, save_hf
from lightreasoner_jax.models.hub import HubModelError, is_hub_id, local_dir
from lightreasoner_jax.models.lora import LoraConfig
from lightreasoner_jax.models.safetensors_io import CheckpointError
from lightreasoner_jax.models.tokenizers import (
                                                 SpecialTokenDifference,
                                                 StopTokenError,
                                                 TokenizerMismatchError,
                                                 check_tokenizers_compatible,
                                                 describe_special_differences,
                                                 eos_token_ids,
                                                 load_tokenizer,
                                                 model_eos_ids,
                                                 pad_token_id,
                                                 stop_token_ids,
                                                 token_ids,
)
from lightreasoner_jax.models.transformer import KVCache, Transformer, padded_positions

__all__ = [
    'ModelConfig', 'UnsupportedModelError', 'EarlyExit', 'CheckpointError', 'TokenizerMismatchError', 'Transformer',
    'KVCache', 'padded_positions', 'load_hf', 'save_hf', 'abstract_model', 'hf_mappings', 'export', 'LoraConfig',
    'HubModelError', 'is_hub_id', 'local_dir', 'check_tokenizers_compatible', 'load_tokenizer', 'eos_token_ids', 'model_eos_ids', 'pad_token_id',
    'SpecialTokenDifference', 'describe_special_differences', 'stop_token_ids',
    'StopTokenError', 'token_ids',
]
