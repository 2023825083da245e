"""One Flax NNX decoder-only transformer for the Qwen2/Qwen2.5, Llama 2/3/3.1 and Mistral families.

Einsum letters name axes: B batch, T query length, S key length, D embed, N query heads,
K kv heads, H head dim, F mlp, V vocab, P chosen positions. Every parameter carries its
logical axes as metadata (`logical_axes`), which `sharding.state_shardings` turns into shardings.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from lightreasoner_jax.models.config import ModelConfig
from lightreasoner_jax.models.projection import Projection, init_param
from lightreasoner_jax.models.rope import apply_rope, inverse_frequencies, rope_sin_cos
from lightreasoner_jax.sharding import constrain


class KVCache(NamedTuple):
    """Fixed-size key/value cache. Slots [0, length) are written; `valid` marks non-pad slots."""
    # Keys are stored transposed, so a decode step's q.k is a plain [G, H] x [H, S] product per kv head:
    # on XLA:CPU, 1.6-3.3x faster in float32 than contracting H against an [S, H] cache, bf16 about even
    # (benchmarks/decode_attention.py).
    keys: tuple[jax.Array, ...]    # per layer [B, K, H, S]
    values: tuple[jax.Array, ...]  # per layer [B, K, S, H]
    valid: jax.Array               # [B, S] bool
    length: jax.Array              # [] int32

    @classmethod
    def init(cls, config: ModelConfig, batch_size: int, max_length: int, dtype=None) -> KVCache:
        dtype = config.dtype if dtype is None else dtype
        B, K, H, S = batch_size, config.num_kv_heads, config.head_dim, max_length
        return cls(tuple(jnp.zeros((B, K, H, S), dtype) for _ in range(config.num_layers)),
                   tuple(jnp.zeros((B, K, S, H), dtype) for _ in range(config.num_layers)),
                   jnp.zeros((B, S), bool), jnp.zeros((), jnp.int32))

    @property
    def max_length(self) -> int:
        return self.valid.shape[1]

    def extended(self, extra: int) -> KVCache:
        """The same cache with `extra` empty slots appended."""
        return self.padded(after=extra)

    def padded(self, *, before: int = 0, after: int = 0) -> KVCache:
        """The same cache with empty (invalid) slots before and after its own; `length` counts those before."""
        def grow(x, axis):
            return jnp.pad(x, [(before, after) if a == axis else (0, 0) for a in range(x.ndim)])
        return KVCache(tuple(grow(k, 3) for k in self.keys), tuple(grow(v, 2) for v in self.values),
                       grow(self.valid, 1), self.length + before)


KEY_CACHE_LOGICAL_AXES = ('batch', 'activation_kv_heads', None, 'length')
VALUE_CACHE_LOGICAL_AXES = ('batch', 'activation_kv_heads', 'length', None)


class RMSNorm(nnx.Module):
    def __init__(self, dim: int, eps: float, config: ModelConfig, rngs: nnx.Rngs):
        self.eps = eps
        self.scale = init_param(rngs, (dim,), ('norm',), config.param_dtype, 'ones')

    def __call__(self, x: jax.Array) -> jax.Array:
        xf = x.astype(jnp.float32)
        normed = xf * jax.lax.rsqrt(jnp.mean(xf * xf, axis=-1, keepdims=True) + self.eps)
        # As HF: normalise in float32, cast back, then scale.
        return self.scale[...].astype(x.dtype) * normed.astype(x.dtype)


class Attention(nnx.Module):
    def __init__(self, config: ModelConfig, rngs: nnx.Rngs):
        c = config
        D, N, K, H = c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim
        self.config = c
        dt = c.param_dtype
        self.q_proj = Projection('q_proj', 'BTD,DNH->BTNH', (D, N, H), ('embed', 'heads', 'head_dim'), 1, c.qkv_bias,
                                 dt, rngs)
        self.k_proj = Projection('k_proj', 'BTD,DKH->BTKH', (D, K, H), ('embed', 'kv_heads', 'head_dim'), 1,
                                 c.qkv_bias, dt, rngs)
        self.v_proj = Projection('v_proj', 'BTD,DKH->BTKH', (D, K, H), ('embed', 'kv_heads', 'head_dim'), 1,
                                 c.qkv_bias, dt, rngs)
        self.o_proj = Projection('o_proj', 'BTNH,NHD->BTD', (N, H, D), ('heads', 'head_dim', 'embed'), 2, c.o_bias,
                                 dt, rngs)

    def __call__(self, x, sin, cos, mask, cache_kv=None, cache_start=None, dropout_rng=None):
        """x [B,T,D]; mask [B,T,S] bool. With cache_kv=(keys [B,K,H,S], values [B,K,S,H]), writes this step's
        keys and values at slots [cache_start, cache_start+T) and attends over the whole cache."""
        q = self.q_proj(x, dropout_rng)
        k = self.k_proj(x, dropout_rng)
        v = self.v_proj(x, dropout_rng)
        q = constrain(apply_rope(q, sin, cos), ('batch', 'length', 'activation_heads', None))
        k = jnp.transpose(apply_rope(k, sin, cos), (0, 2, 3, 1))  # [B,K,H,T], the key cache's layout
        v = jnp.swapaxes(v, 1, 2)  # [B,K,T,H]
        k = constrain(k, KEY_CACHE_LOGICAL_AXES)
        v = constrain(v, VALUE_CACHE_LOGICAL_AXES)
        if cache_kv is not None:
            cache_k, cache_v = cache_kv
            k = jax.lax.dynamic_update_slice_in_dim(cache_k, k.astype(cache_k.dtype), cache_start, axis=3)
            v = jax.lax.dynamic_update_slice_in_dim(cache_v, v.astype(cache_v.dtype), cache_start, axis=2)
            new_kv = (k, v)
        else:
            new_kv = None
        out = dot_product_attention(q, k.astype(q.dtype), v.astype(q.dtype), mask[:, None, :, :],
                                    self.config.head_dim ** -0.5, self.config.attention_impl)
        return self.o_proj(out, dropout_rng), new_kv


def dot_product_attention(q, k, v, mask, scale, impl: str):
    """q [B,T,N,H], k [B,K,H,S], v [B,K,S,H], mask [B,1,T,S] -> [B,T,N,H].

    'auto' asks for cuDNN's fused kernel on GPU in half precision; otherwise grouped-query
    einsums, which read each kv head once for its G = N/K query heads instead of materialising
    K/V repeated to N heads (jax.nn.dot_product_attention's XLA path does that repeat, which
    dominated decode time over a long cache).
    """
    use_cudnn = impl == 'cudnn' or (impl == 'auto' and jax.default_backend() == 'gpu'
                                     and q.dtype in (jnp.bfloat16, jnp.float16))
    if use_cudnn:
        try:
            return jax.nn.dot_product_attention(q, jnp.transpose(k, (0, 3, 1, 2)), jnp.swapaxes(v, 1, 2), mask=mask,
                                                scale=scale, implementation='cudnn')
        except (NotImplementedError, ValueError, RuntimeError):
            if impl == 'cudnn':
                raise
            # cuDNN rejects some shapes (e.g. head_dim not a multiple of 8) at trace time.
    B, T, N, H = q.shape
    K = k.shape[1]
    grouped = jnp.swapaxes(q.reshape(B, T, K, N // K, H), 1, 2).reshape(B, K, T * (N // K), H)  # [B,K,TG,H]
    logits = jnp.einsum('BKQH,BKHS->BKQS', grouped, k, preferred_element_type=jnp.float32) * scale
    logits = logits.reshape(B, K, T, N // K, -1)
    logits = jnp.where(mask[:, :, :, None], logits, jnp.finfo(jnp.float32).min)
    probs = jax.nn.softmax(logits, axis=-1).astype(v.dtype).reshape(B, K, T * (N // K), -1)
    out = jnp.einsum('BKQS,BKSH->BKQH', probs, v, preferred_element_type=jnp.float32).astype(v.dtype)  # [B,K,TG,H]
    return jnp.swapaxes(out.reshape(B, K, T, N // K, H), 1, 2).reshape(B, T, N, H)


class MLP(nnx.Module):
    def __init__(self, config: ModelConfig, rngs: nnx.Rngs):
        c = config
        D, F = c.hidden_size, c.intermediate_size
        self.gate_proj = Projection('gate_proj', 'BTD,DF->BTF', (D, F), ('embed', 'mlp'), 1, c.mlp_bias,
                                    c.param_dtype, rngs)
        self.up_proj = Projection('up_proj', 'BTD,DF->BTF', (D, F), ('embed', 'mlp'), 1, c.mlp_bias, c.param_dtype, rngs)
        self.down_proj = Projection('down_proj', 'BTF,FD->BTD', (F, D), ('mlp', 'embed'), 1, c.mlp_bias,
                                    c.param_dtype, rngs)

    def __call__(self, x, dropout_rng=None):
        gate = self.gate_proj(x, dropout_rng)
        up = self.up_proj(x, dropout_rng)
        hidden = constrain(jax.nn.silu(gate) * up, ('batch', 'length', 'activation_mlp'))
        return self.down_proj(hidden, dropout_rng)


class DecoderLayer(nnx.Module):
    def __init__(self, config: ModelConfig, rngs: nnx.Rngs):
        self.input_norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config, rngs)
        self.attn = Attention(config, rngs)
        self.post_attention_norm = RMSNorm(config.hidden_size, config.rms_norm_eps, config, rngs)
        self.mlp = MLP(config, rngs)

    def __call__(self, x, sin, cos, mask, cache_kv=None, cache_start=None, dropout_rng=None):
        attn_out, new_kv = self.attn(self.input_norm(x), sin, cos, mask, cache_kv, cache_start, dropout_rng)
        x = x + attn_out
        x = x + self.mlp(self.post_attention_norm(x), dropout_rng)
        return constrain(x, ('batch', 'length', 'activation_embed')), new_kv


def attention_mask(key_valid, query_slots, key_slots, window: int | None):
    """[B,T,S] bool: causal over cache slots, non-pad keys, optional sliding window.

    A query also always sees its own slot, so pad rows never attend to nothing (no NaN);
    their outputs are ignored downstream.
    """
    causal = key_slots[None, :] <= query_slots[:, None]
    if window is not None:
        causal = causal & (query_slots[:, None] - key_slots[None, :] < window)
    own = key_slots[None, :] == query_slots[:, None]
    return (key_valid[:, None, :] & causal[None]) | own[None]


class Transformer(nnx.Module):
    """Decoder-only LM. `__call__` returns final (normed) hidden states; the LM head is separate so
    callers can apply it only where they need logits (`logits`, `logits_at`)."""

    def __init__(self, config: ModelConfig, *, rngs: nnx.Rngs):
        c = config
        self.config = c
        self.embedding = init_param(rngs, (c.vocab_size, c.hidden_size), ('vocab', 'embed'), c.param_dtype)
        self.layers = nnx.List([DecoderLayer(c, rngs) for _ in range(c.num_layers)])
        self.final_norm = RMSNorm(c.hidden_size, c.rms_norm_eps, c, rngs)
        if not c.tie_word_embeddings:
            self.lm_head = init_param(rngs, (c.vocab_size, c.hidden_size), ('vocab', 'embed'), c.param_dtype)

    def __call__(self, input_ids: jax.Array, positions: jax.Array, attention_mask_: jax.Array,
                 cache: KVCache | None = None, dropout_rng: jax.Array | None = None
                 ) -> tuple[jax.Array, KVCache | None]:
        """input_ids, positions [B,T] int; attention_mask_ [B,T] bool (False = padding);
        dropout_rng: a key for LoRA dropout (training), None for none.

        Without a cache: a full causal forward. With one: the T tokens go to slots
        [cache.length, cache.length + T) (prefill or single-token decode) and the updated cache
        is returned. Returns hidden [B,T,D] in config.dtype.
        """
        hidden, _, cache = self.forward(input_ids, positions, attention_mask_, cache, dropout_rng)
        return hidden, cache

    def forward(self, input_ids: jax.Array, positions: jax.Array, attention_mask_: jax.Array,
                cache: KVCache | None = None, dropout_rng: jax.Array | None = None, *,
                exit_layer: int | None = None, stop_at_exit: bool = False
                ) -> tuple[jax.Array | None, jax.Array | None, KVCache | None]:
        """`__call__` that also returns the early exit: (hidden, exit_hidden, cache), exit_hidden the final
        norm of the residual stream after the first `exit_layer` layers (None without one).

        stop_at_exit: run only those layers (hidden is then None and the cache holds exit_layer layers),
        the expert's first layers as a model of their own (models/early_exit.py).
        """
        c = self.config
        if exit_layer is not None and not 1 <= exit_layer <= c.num_layers:
            raise ValueError(f'exit_layer must be in [1, {c.num_layers}], got {exit_layer}')
        layers = list(self.layers)[:exit_layer] if stop_at_exit else list(self.layers)
        T = input_ids.shape[1]
        x = jnp.take(self.embedding[...], input_ids, axis=0).astype(c.dtype)
        x = constrain(x, ('batch', 'length', 'activation_embed'))
        sin, cos = rope_sin_cos(positions, inverse_frequencies(c.head_dim, c.rope_theta, c.rope))
        if cache is None:
            query_slots = key_slots = jnp.arange(T)
            key_valid = attention_mask_.astype(bool)
            start = None
        else:
            start = cache.length
            query_slots = start + jnp.arange(T)
            key_slots = jnp.arange(cache.max_length)
            key_valid = jax.lax.dynamic_update_slice_in_dim(cache.valid, attention_mask_.astype(bool), start, axis=1)
        masks = {w: attention_mask(key_valid, query_slots, key_slots, w) for w in set(c.sliding_windows)}
        new_keys, new_values, exit_hidden = [], [], None
        for i, layer in enumerate(layers):
            layer_kv = None if cache is None else (cache.keys[i], cache.values[i])
            layer_rng = None if dropout_rng is None else jax.random.fold_in(dropout_rng, i)
            x, kv = layer(x, sin, cos, masks[c.sliding_windows[i]], layer_kv, start, layer_rng)
            if kv is not None:
                new_keys.append(constrain(kv[0], KEY_CACHE_LOGICAL_AXES))
                new_values.append(constrain(kv[1], VALUE_CACHE_LOGICAL_AXES))
            if i + 1 == exit_layer:
                exit_hidden = self.final_norm(x)
        hidden = None if stop_at_exit else self.final_norm(x)
        if cache is None:
            return hidden, exit_hidden, None
        return hidden, exit_hidden, KVCache(tuple(new_keys), tuple(new_values), key_valid, start + T)

    def head_weight(self) -> nnx.Param:
        return self.embedding if self.config.tie_word_embeddings else self.lm_head

    def logits(self, hidden: jax.Array) -> jax.Array:
        """[..., D] -> [..., V] float32 over the model's full vocabulary."""
        w = self.head_weight()[...].astype(hidden.dtype)
        return jnp.einsum('...D,VD->...V', hidden, w, preferred_element_type=jnp.float32)

    def logits_at(self, hidden: jax.Array, index: jax.Array) -> jax.Array:
        """hidden [B,T,D], index [B,P] int -> logits [B,P,V] float32, the head applied at P positions only."""
        chosen = jnp.take_along_axis(hidden, index[..., None], axis=1)
        return self.logits(chosen)


def padded_positions(attention_mask_: jax.Array) -> jax.Array:
    """Position ids of a (left- or right-) padded batch: 0.. over real tokens, 0 on leading pads."""
    mask = attention_mask_.astype(jnp.int32)
    return jnp.maximum(jnp.cumsum(mask, axis=-1) - 1, 0)
