"""The models a stage works on, from the config: the expert as loaded, the expert prepared for training,
and the tuned expert (exported, or from the latest checkpoint)."""

from __future__ import annotations

from flax import nnx

from lightreasoner_jax.models import Transformer, load_hf
from lightreasoner_jax.models.lora import add_lora
from lightreasoner_jax.pipeline import settings
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.training.trainer import load_trained_params


def model_to_train(config, mesh) -> Transformer:
    """The expert (params in expert.dtype, activations in train.compute_dtype) with LoRA adapters when
    train.method is 'lora'."""
    model = load_hf(config.expert.path, mesh=mesh, dtype=config.train.compute_dtype, param_dtype=config.expert.dtype)
    lora = settings.lora(config)
    if lora is not None:
        add_lora(model, lora, nnx.Rngs(config.train.seed))
    return model


def trained_model(config, workdir: Workdir, mesh) -> tuple[Transformer, int]:
    """The expert with the latest checkpoint's trained params (LoRA still separate), and that step."""
    return load_trained_params(model_to_train(config, mesh), config.train.method, mesh, workdir.checkpoints,
                               settings.checkpointing(config))


def tuned_model(config, workdir: Workdir, mesh) -> tuple[Transformer, str]:
    """The tuned expert: the merged export when there is one, else the latest checkpoint (LoRA unmerged);
    and where it came from."""
    merged = workdir.export_merged
    if (merged / 'config.json').exists():
        return load_hf(merged, mesh=mesh, dtype=config.eval.dtype or config.expert.dtype), str(merged)
    model, step = trained_model(config, workdir, mesh)
    return model, f'{workdir.checkpoints}@{step}'
