"""Stage `export`: the trained expert as HF checkpoints.

workdir/export/merged   LoRA folded into the base (W + B·A·alpha/r), HF safetensors + config + tokenizer
workdir/export/adapter  the LoRA adapter in PEFT format (adapter_model.safetensors + adapter_config.json)
"""

from __future__ import annotations

import jax
from etils import epath
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax import train
from lightreasoner_jax.callable_module import make_callable
from lightreasoner_jax.models import save_hf
from lightreasoner_jax.models.lora import LoraConfig, merge_lora, save_peft_adapter


def load_trained(config, workdir: epath.Path, mesh):
    """The expert with the latest checkpoint's trained params (LoRA still separate). Returns (model, step)."""
    model = train.load_model_to_train(config, mesh)
    graphdef, trainable, frozen = nnx.split(model, train.trainable_filter(config.train.method), ...)
    trainable = jax.device_put(trainable, shd.state_shardings(trainable, mesh))
    manager = train.checkpoint_manager(workdir / 'checkpoints', config.train.checkpoint)
    step = manager.latest_step()
    if step is None:
        raise FileNotFoundError(f'{workdir / "checkpoints"}: no training checkpoint to export; run the train stage')
    train.restore_items(manager, step, trainable)
    return nnx.merge(graphdef, trainable, frozen), step


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


def run(config, workdir: epath.Path, mesh) -> dict:
    model, step = load_trained(config, workdir, mesh)
    paths = export(model, workdir / 'export', tokenizer=str(config.expert.path),
                   lora=train.lora_config(config) if config.train.method == 'lora' else None,
                   base_model_name_or_path=str(config.expert.path), dtype=config.export.dtype or config.expert.dtype,
                   shard_size=config.export.shard_size)
    return {'step': step, **paths}


make_callable(__name__)  # lightreasoner_jax.export(...) calls export() (callable_module.py)
