"""ModelConfig: the architecture of a decoder-only transformer, read from / written to HF config.json."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import jax.numpy as jnp
from etils import epath

SUPPORTED_MODEL_TYPES = ('qwen2', 'llama', 'mistral')
SUPPORTED_ROPE_TYPES = ('default', 'linear', 'llama3')


class UnsupportedModelError(ValueError):
    """The HF config describes a model or option this implementation does not cover."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    model_type: str
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    # rope_parameters minus rope_theta, e.g. {'rope_type': 'llama3', 'factor': 8.0, ...}
    rope_scaling: tuple[tuple[str, Any], ...] = (('rope_type', 'default'),)
    max_position_embeddings: int = 32768
    tie_word_embeddings: bool = False
    qkv_bias: bool = False   # Qwen2: True
    o_bias: bool = False     # Llama attention_bias=True biases o_proj too
    mlp_bias: bool = False
    # per layer: None for full attention, or the window length of sliding-window attention
    sliding_windows: tuple[int | None, ...] = ()
    bos_token_id: int | None = None
    eos_token_ids: tuple[int, ...] = ()
    pad_token_id: int | None = None
    dtype: Any = jnp.float32        # activations / compute
    param_dtype: Any = jnp.float32  # stored weights
    # 'auto': cuDNN flash attention on GPU for bf16/fp16 (XLA where cuDNN declines the shapes),
    # XLA elsewhere; or force 'xla' / 'cudnn'.
    attention_impl: str = 'auto'

    def __post_init__(self):
        if self.num_heads % self.num_kv_heads:
            raise UnsupportedModelError(
                f'num_attention_heads={self.num_heads} is not a multiple of num_key_value_heads={self.num_kv_heads}')
        if not self.sliding_windows:
            object.__setattr__(self, 'sliding_windows', (None,) * self.num_layers)
        if self.attention_impl not in ('auto', 'xla', 'cudnn'):
            raise ValueError(f"attention_impl must be 'auto', 'xla' or 'cudnn', got {self.attention_impl!r}")
        if len(self.sliding_windows) != self.num_layers:
            raise ValueError(f'sliding_windows has {len(self.sliding_windows)} entries for {self.num_layers} layers')

    @property
    def rope(self) -> dict[str, Any]:
        return dict(self.rope_scaling)

    def replace(self, **changes) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    # ---- HF config.json --------------------------------------------------------------------------

    @classmethod
    def from_hf(cls, source, *, dtype=jnp.float32, param_dtype=jnp.float32) -> ModelConfig:
        """From a checkpoint directory, a config.json path, a dict, or a transformers PretrainedConfig."""
        hf = _load_hf_config(source)
        model_type = hf.model_type
        where = _describe(source)
        if hf.hidden_act != 'silu':
            raise UnsupportedModelError(f'{where}: hidden_act={hf.hidden_act!r} is not supported (only "silu")')
        rope = dict(hf.rope_parameters or {})
        rope_theta = float(rope.pop('rope_theta', getattr(hf, 'rope_theta', 10000.0)))
        rope.setdefault('rope_type', rope.pop('type', 'default'))
        if rope['rope_type'] not in SUPPORTED_ROPE_TYPES:
            raise UnsupportedModelError(
                f'{where}: rope_type={rope["rope_type"]!r} is not supported (supported: {SUPPORTED_ROPE_TYPES})')
        if getattr(hf, 'partial_rotary_factor', 1.0) not in (None, 1.0):
            raise UnsupportedModelError(f'{where}: partial_rotary_factor={hf.partial_rotary_factor} is not supported')
        head_dim = getattr(hf, 'head_dim', None) or hf.hidden_size // hf.num_attention_heads
        num_kv_heads = getattr(hf, 'num_key_value_heads', None) or hf.num_attention_heads
        attention_bias = bool(getattr(hf, 'attention_bias', False))
        eos = hf.eos_token_id
        eos_ids = () if eos is None else tuple(eos) if isinstance(eos, (list, tuple)) else (int(eos),)
        return cls(
            model_type=model_type,
            vocab_size=hf.vocab_size,
            hidden_size=hf.hidden_size,
            intermediate_size=hf.intermediate_size,
            num_layers=hf.num_hidden_layers,
            num_heads=hf.num_attention_heads,
            num_kv_heads=num_kv_heads,
            head_dim=head_dim,
            rms_norm_eps=float(hf.rms_norm_eps),
            rope_theta=rope_theta,
            rope_scaling=tuple(sorted(rope.items())),
            max_position_embeddings=hf.max_position_embeddings,
            tie_word_embeddings=bool(hf.tie_word_embeddings),
            qkv_bias=True if model_type == 'qwen2' else attention_bias,
            o_bias=False if model_type == 'qwen2' else attention_bias,
            mlp_bias=bool(getattr(hf, 'mlp_bias', False)),
            sliding_windows=_sliding_windows(hf),
            bos_token_id=hf.bos_token_id,
            eos_token_ids=eos_ids,
            pad_token_id=hf.pad_token_id,
            dtype=dtype,
            param_dtype=param_dtype,
        )

    def to_hf(self):
        """A transformers PretrainedConfig describing this architecture."""
        from transformers import AutoConfig
        rope = {'rope_theta': self.rope_theta, **self.rope}
        kwargs: dict[str, Any] = dict(
            vocab_size=self.vocab_size, hidden_size=self.hidden_size, intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_layers, num_attention_heads=self.num_heads,
            num_key_value_heads=self.num_kv_heads, head_dim=self.head_dim, rms_norm_eps=self.rms_norm_eps,
            rope_parameters=rope, max_position_embeddings=self.max_position_embeddings,
            tie_word_embeddings=self.tie_word_embeddings, hidden_act='silu',
            bos_token_id=self.bos_token_id, pad_token_id=self.pad_token_id,
            eos_token_id=(list(self.eos_token_ids) if len(self.eos_token_ids) > 1
                          else self.eos_token_ids[0] if self.eos_token_ids else None),
        )
        windows = {w for w in self.sliding_windows if w is not None}
        if len(windows) > 1:
            raise UnsupportedModelError(f'cannot express sliding windows {self.sliding_windows} in an HF config')
        window = windows.pop() if windows else None
        if self.model_type == 'qwen2':
            if self.o_bias or self.mlp_bias or not self.qkv_bias:
                raise UnsupportedModelError('qwen2 has q/k/v biases and no o/mlp bias')
            if window is not None:
                first_sliding = self.sliding_windows.index(window)
                kwargs.update(use_sliding_window=True, sliding_window=window, max_window_layers=first_sliding,
                              layer_types=['sliding_attention' if w else 'full_attention'
                                           for w in self.sliding_windows])
        elif self.model_type == 'llama':
            if self.qkv_bias != self.o_bias:
                raise UnsupportedModelError('llama biases q/k/v/o together (attention_bias)')
            if window is not None:
                raise UnsupportedModelError('llama has no sliding-window attention')
            kwargs.update(attention_bias=self.qkv_bias, mlp_bias=self.mlp_bias)
        elif self.model_type == 'mistral':
            if self.qkv_bias or self.o_bias or self.mlp_bias:
                raise UnsupportedModelError('mistral has no biases')
            kwargs.update(sliding_window=window)
        config = AutoConfig.for_model(self.model_type, **kwargs)
        config.architectures = [_ARCHITECTURES[self.model_type]]
        config.dtype = jnp.dtype(self.param_dtype).name
        return config


_ARCHITECTURES = {'qwen2': 'Qwen2ForCausalLM', 'llama': 'LlamaForCausalLM', 'mistral': 'MistralForCausalLM'}


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return 'config'


def _load_hf_config(source):
    """Validates model_type on the raw JSON first, then lets transformers normalise the rest."""
    from transformers import AutoConfig, PretrainedConfig
    if isinstance(source, PretrainedConfig):
        _check_model_type(source.model_type, _describe(source))
        return source
    if isinstance(source, dict):
        raw = dict(source)
    else:
        path = epath.Path(source)  # through epath: a checkpoint may be on gs://
        if path.is_dir():
            path = path / 'config.json'
        if not path.exists():
            raise FileNotFoundError(f'{path}: no such HF config file (expected a checkpoint directory '
                                    'with config.json, or the path of a config.json)')
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: line {e.lineno}: not valid JSON ({e.msg})') from None
        source = os.fspath(path)
    where = _describe(source)
    _check_model_type(raw.get('model_type'), where)
    raw = dict(raw)
    model_type = raw.pop('model_type')
    try:
        return AutoConfig.for_model(model_type, **raw)
    except Exception as e:  # transformers' own validation (not a ValueError), e.g. layer_types vs layers
        raise ValueError(f'{where}: invalid {model_type} config: {e}') from e


def _check_model_type(model_type, where: str) -> None:
    if model_type is None:
        raise UnsupportedModelError(f'{where}: config has no "model_type" field')
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise UnsupportedModelError(
            f'{where}: model_type={model_type!r} is not supported (supported: {", ".join(SUPPORTED_MODEL_TYPES)})')


def _sliding_windows(hf) -> tuple[int | None, ...]:
    window = getattr(hf, 'sliding_window', None)
    layer_types = getattr(hf, 'layer_types', None)
    if hf.model_type == 'qwen2' and not getattr(hf, 'use_sliding_window', False):
        window = None
    if window is None:
        return (None,) * hf.num_hidden_layers
    if layer_types:
        return tuple(window if kind == 'sliding_attention' else None for kind in layer_types)
    return (window,) * hf.num_hidden_layers
