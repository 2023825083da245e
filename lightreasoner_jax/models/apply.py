"""Pure, jitted forwards over `nnx.split` state with explicit in/out shardings."""

from __future__ import annotations

from collections.abc import Callable

import jax
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models.transformer import Transformer


def split_on_mesh(model: Transformer, mesh: jax.sharding.Mesh) -> tuple[nnx.GraphDef, nnx.State, nnx.State]:
    """(graphdef, state placed on `mesh`, the state's shardings) for a jitted pure function of the state."""
    graphdef, state = nnx.split(model)
    shardings = shd.state_shardings(state, mesh)
    return graphdef, jax.device_put(state, shardings), shardings  # device_put: a no-op when loaded on this mesh


def forward_logits(graphdef: nnx.GraphDef, state: nnx.State, input_ids: jax.Array, positions: jax.Array,
                   attention_mask: jax.Array) -> jax.Array:
    """Teacher-forced logits [B,T,V] float32 of a full causal forward."""
    model = nnx.merge(graphdef, state)
    hidden, _ = model(input_ids, positions, attention_mask)
    return model.logits(hidden)


def jit_forward_logits(model: Transformer, mesh: jax.sharding.Mesh) -> tuple[Callable, nnx.State]:
    """(fn(state, input_ids, positions, attention_mask) -> logits, state) jitted on `mesh`:
    params as their logical axes say, batch over ('data','fsdp'), logits' vocab over 'tensor'."""
    graphdef, state, state_shardings = split_on_mesh(model, mesh)
    batch = shd.logical_sharding(mesh, ('batch', None))
    logits = shd.logical_sharding(mesh, ('batch', None, 'activation_vocab'))
    fn = jax.jit(lambda s, i, p, m: forward_logits(graphdef, s, i, p, m),
                 in_shardings=(state_shardings, batch, batch, batch),
                 out_shardings=logits)

    def run(state, input_ids, positions, attention_mask):
        with jax.set_mesh(mesh):
            return fn(state, input_ids, positions, attention_mask)
    return run, state
