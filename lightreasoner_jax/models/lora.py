"""LoRA adapters for the transformer's projections, their merge, and PEFT-format export.

An adapter on projection W (kernel [*in, *out]) adds dropout(x) · A · B · alpha/r, with A [*in, r]
and B [r, *out] as `nnx.LoRAParam`s in float32 (B starts at zero, so the adapted model starts as
the base one). Each factor carries the logical axes of the side of W it shares, so it is sharded
consistently with its base weight.
"""

from __future__ import annotations

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
from etils import epath
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import safetensors_io as st
from lightreasoner_jax.models.projection import PROJECTIONS as TARGETS
from lightreasoner_jax.models.projection import Projection

ATTENTION_TARGETS = ('q_proj', 'k_proj', 'v_proj', 'o_proj')


@dataclasses.dataclass(frozen=True)
class LoraConfig:
    targets: tuple[str, ...] = ('q_proj', 'v_proj')
    rank: int = 8
    alpha: float = 16.0
    dropout: float = 0.05

    def __post_init__(self):
        unknown = [t for t in self.targets if t not in TARGETS]
        if unknown or not self.targets:
            raise ValueError(f'lora targets {list(self.targets)}: each must be one of {TARGETS}')
        if self.rank < 1:
            raise ValueError(f'lora rank must be >= 1, got {self.rank}')
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f'lora dropout must be in [0, 1), got {self.dropout}')

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


class LoRA(nnx.Module):
    def __init__(self, kernel: nnx.Param, num_in_dims: int, config: LoraConfig, rngs: nnx.Rngs):
        shape = kernel.get_value().shape
        axes = kernel.get_metadata().get('logical_axes') or (None,) * len(shape)
        in_shape, out_shape = shape[:num_in_dims], shape[num_in_dims:]
        bound = 1.0 / math.sqrt(math.prod(in_shape))  # PEFT's kaiming_uniform(a=sqrt(5)) bound
        self.a = nnx.LoRAParam(jax.random.uniform(rngs.params(), (*in_shape, config.rank), jnp.float32, -bound, bound),
                               logical_axes=(*axes[:num_in_dims], 'lora_rank'))
        self.b = nnx.LoRAParam(jnp.zeros((config.rank, *out_shape), jnp.float32),
                               logical_axes=('lora_rank', *axes[num_in_dims:]))
        self.num_in_dims = num_in_dims
        self.scale = config.scale
        self.dropout = config.dropout

    def __call__(self, x: jax.Array, dropout_rng: jax.Array | None) -> jax.Array:
        xf = x.astype(jnp.float32)
        if dropout_rng is not None and self.dropout > 0.0:
            keep = jax.random.bernoulli(dropout_rng, 1.0 - self.dropout, xf.shape)
            xf = jnp.where(keep, xf / (1.0 - self.dropout), 0.0)
        low_rank = jnp.tensordot(xf, self.a[...], axes=self.num_in_dims)
        return jnp.tensordot(low_rank, self.b[...], axes=1) * self.scale  # float32; the projection rounds

    def delta(self) -> jax.Array:
        """B·A·alpha/r in the kernel's layout [*in, *out], float32."""
        return jnp.tensordot(self.a[...], self.b[...], axes=1) * self.scale


def projections(model, targets=TARGETS):
    """(layer index, Projection) of every layer's projections named in `targets`, in TARGETS order."""
    for i, layer in enumerate(model.layers):
        for name in TARGETS:
            if name in targets:
                yield i, getattr(layer.attn if name in ATTENTION_TARGETS else layer.mlp, name)


def add_lora(model, config: LoraConfig, rngs: nnx.Rngs):
    """Attaches an adapter to every layer's target projections, in place; returns the model."""
    for layer in model.layers:  # layer by layer, targets in config order: the order draws the A inits
        for target in config.targets:
            projection: Projection = getattr(layer.attn if target in ATTENTION_TARGETS else layer.mlp, target)
            projection.lora = LoRA(projection.kernel, projection.num_in_dims, config, rngs)
    return model


def lora_targets(model) -> tuple[str, ...]:
    """The names of the projections that carry an adapter (in the first layer)."""
    return tuple(p.name for i, p in projections(model) if i == 0 and p.lora is not None)


def merge_lora(model):
    """Folds every adapter into its kernel (W + B·A·alpha/r, in W's dtype) and removes it, in place."""
    for _, projection in projections(model):
        if projection.lora is None:
            continue
        kernel = projection.kernel
        merged = kernel[...].astype(jnp.float32) + projection.lora.delta()
        kernel.set_value(merged.astype(kernel.get_value().dtype))
        projection.lora = None
    return model


def _peft_tensors(model, target: str):
    """(hf module name, lora_A [r, in], lora_B [out, r]) per layer, as PEFT stores them."""
    section = 'self_attn' if target in ATTENTION_TARGETS else 'mlp'
    for i, projection in projections(model, (target,)):
        adapter = projection.lora
        a, b = shd.to_host(adapter.a.get_value()), shd.to_host(adapter.b.get_value())
        a = a.reshape(-1, a.shape[-1]).T   # [*in, r] -> [r, in]
        b = b.reshape(b.shape[0], -1).T    # [r, *out] -> [out, r]
        yield f'base_model.model.model.layers.{i}.{section}.{target}', a, b


def save_peft_adapter(model, config: LoraConfig, path, *, base_model_name_or_path: str = '') -> None:
    """Writes adapter_model.safetensors + adapter_config.json, loadable with peft onto the HF base model.
    Every process must call this; process 0 writes."""
    tensors = []
    for target in config.targets:
        for name, a, b in _peft_tensors(model, target):
            tensors.append((f'{name}.lora_A.weight', np.ascontiguousarray(a, np.float32)))
            tensors.append((f'{name}.lora_B.weight', np.ascontiguousarray(b, np.float32)))
    if jax.process_index() != 0:
        return
    directory = epath.Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    st.write_file(directory / 'adapter_model.safetensors', tensors)
    adapter_config = {
        'peft_type': 'LORA', 'task_type': 'CAUSAL_LM', 'r': config.rank, 'lora_alpha': config.alpha,
        'lora_dropout': config.dropout, 'target_modules': list(config.targets), 'bias': 'none',
        'base_model_name_or_path': base_model_name_or_path, 'fan_in_fan_out': False, 'inference_mode': True,
        'init_lora_weights': True, 'modules_to_save': None, 'use_rslora': False, 'use_dora': False,
    }
    (directory / 'adapter_config.json').write_text(json.dumps(adapter_config, indent=2))
