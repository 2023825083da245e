"""Rotary position embeddings as HF computes them (rotate-half layout), incl. llama3 and linear scaling."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp
import numpy as np


def inverse_frequencies(head_dim: int, theta: float, rope: dict[str, Any]) -> np.ndarray:
    """[head_dim // 2] float32 inverse frequencies after the configured scaling."""
    inv_freq = 1.0 / (theta ** (np.arange(0, head_dim, 2, dtype=np.int64).astype(np.float32) / head_dim))
    rope_type = rope.get('rope_type', 'default')
    if rope_type == 'default':
        return inv_freq
    if rope_type == 'linear':
        return inv_freq / float(rope['factor'])
    if rope_type == 'llama3':
        return _llama3_scaling(inv_freq, rope)
    raise ValueError(f'rope_type {rope_type!r} is not supported')


def _llama3_scaling(inv_freq: np.ndarray, rope: dict[str, Any]) -> np.ndarray:
    # Long wavelengths are slowed down by `factor`, short ones kept; smooth blend in between.
    factor = float(rope['factor'])
    low_freq_factor = float(rope['low_freq_factor'])
    high_freq_factor = float(rope['high_freq_factor'])
    original_max = float(rope['original_max_position_embeddings'])
    low_freq_wavelen = original_max / low_freq_factor
    high_freq_wavelen = original_max / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = np.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (original_max / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
    return np.where(is_medium, smoothed, scaled).astype(np.float32)


def rope_sin_cos(positions: jnp.ndarray, inv_freq: np.ndarray) -> tuple[jnp.ndarray, jnp.ndarray]:
    """sin, cos of shape [B, T, head_dim] (frequencies repeated for the two halves), float32."""
    angles = positions.astype(jnp.float32)[..., None] * jnp.asarray(inv_freq)[None, None, :]
    angles = jnp.concatenate([angles, angles], axis=-1)
    return jnp.sin(angles), jnp.cos(angles)


def apply_rope(x: jnp.ndarray, sin: jnp.ndarray, cos: jnp.ndarray) -> jnp.ndarray:
    """x [B, T, N, H]; sin/cos [B, T, H]. Computed in float32, returned in x's dtype."""
    half = x.shape[-1] // 2
    xf = x.astype(jnp.float32)
    rotated = jnp.concatenate([-xf[..., half:], xf[..., :half]], axis=-1)
    out = xf * cos[:, :, None, :] + rotated * sin[:, :, None, :]
    return out.astype(x.dtype)
