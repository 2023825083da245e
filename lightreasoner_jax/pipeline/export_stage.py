"""Stage `export`: the trained expert as an HF checkpoint (LoRA merged) and a PEFT adapter, in the
workdir's export/merged and export/adapter."""

from __future__ import annotations

from lightreasoner_jax.models import export
from lightreasoner_jax.pipeline import loading, settings
from lightreasoner_jax.pipeline.workdir import Workdir


def run(config, workdir: Workdir, mesh) -> dict:
    model, step = loading.trained_model(config, workdir, mesh)
    paths = export(model, workdir.export_dir, tokenizer=str(config.expert.path), lora=settings.lora(config),
                   base_model_name_or_path=str(config.expert.path), dtype=config.export.dtype or config.expert.dtype,
                   shard_size=config.export.shard_size)
    return {'step': step, **paths}
