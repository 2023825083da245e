"""A trained model as HF checkpoints: merged weights for inference, and the LoRA adapter for PEFT.

out/merged   LoRA folded into the base (W + B·A·alpha/r), HF safetensors + config + tokenizer
out/adapter  the LoRA adapter in PEFT format (adapter_model.safetensors + adapter_config.json)
"""

from __future__ import annotations

from etils import epath

from lightreasoner_jax.models.hf_io import save_hf
from lightreasoner_jax.models.lora import LoraConfig, merge_lora, save_peft_adapter


def export(model, out_dir, *, tokenizer=None, lora: LoraConfig | None = None, base_model_name_or_path: str = '',
           dtype=None, shard_size: int = 5 * 2**30) -> dict:
    """Writes a trained Transformer as out_dir/merged (HF checkpoint, LoRA folded in) and, for a LoRA
    model (`lora` given), out_dir/adapter (PEFT). Folds the LoRA into `model` in place. Every process
    must call (gathering sharded tensors is collective); process 0 writes. Returns the two paths."""
    out = epath.Path(out_dir)
    if lora is not None:
        save_peft_adapter(model, lora, out / 'adapter', base_model_name_or_path=base_model_name_or_path)
        merge_lora(model)
    save_hf(model, model.config, out / 'merged', tokenizer=tokenizer, dtype=dtype, shard_size=shard_size)
    return {'merged': str(out / 'merged'), 'adapter': str(out / 'adapter') if lora is not None else None}
