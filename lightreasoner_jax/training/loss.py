"""The training loss and the pure update step.

Loss at each training position: KL(v || softmax(logits)), v the sparse soft target, logits over the
model's full vocabulary at the position that predicts completion[t]; an update's loss is the mean over
its positions (the reference's per-position `batchmean`). Gradient accumulation is a scan over
microbatches inside the step.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from lightreasoner_jax.training.batches import TrainBatch


def kl_to_targets(logits: jax.Array, target_ids: jax.Array, target_weights: jax.Array,
                  position_mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(sum over valid positions of KL(v || softmax(logits)), number of valid positions).

    logits [..., V] over the full vocabulary; v given sparsely by target_ids/target_weights [..., K].
    """
    log_probs = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    target_log_probs = jnp.take_along_axis(log_probs, target_ids, axis=-1)
    w = target_weights.astype(jnp.float32)
    kl = jnp.sum(jax.scipy.special.xlogy(w, w) - w * target_log_probs, axis=-1)
    mask = position_mask.astype(jnp.float32)
    return jnp.sum(kl * mask), jnp.sum(mask)


def batch_kl(model, batch: TrainBatch, dropout_rng) -> tuple[jax.Array, jax.Array]:
    """One microbatch: the forward, logits only at the training positions."""
    hidden, _ = model(batch.input_ids, batch.positions, batch.attention_mask, dropout_rng=dropout_rng)
    logits = model.logits(hidden[batch.position_row, batch.position_index])  # [P, V]: the head at P rows only
    return kl_to_targets(logits, batch.target_ids, batch.target_weights, batch.position_mask)


def train_step(graphdef, trainable, opt_state, frozen, batch: TrainBatch, step, base_rng, *,
               tx: optax.GradientTransformation, schedule: optax.Schedule, use_dropout: bool):
    """One update over batch's [A] microbatches; pure, jittable. Returns (trainable, opt_state, metrics)."""
    step_rng = jax.random.fold_in(base_rng, step)

    def microbatch_grads(carry, inputs):
        micro, index = inputs
        rng = jax.random.fold_in(step_rng, index) if use_dropout else None

        def total_kl(params):
            return batch_kl(nnx.merge(graphdef, params, frozen), micro, rng)

        (kl_sum, count), grads = jax.value_and_grad(total_kl, has_aux=True)(trainable)
        acc_kl, acc_count, acc_grads = carry
        return (acc_kl + kl_sum, acc_count + count, jax.tree.map(jnp.add, acc_grads, grads)), None

    zeros = jax.tree.map(jnp.zeros_like, trainable)
    num_micro = batch.input_ids.shape[0]
    (kl_sum, count, grads), _ = jax.lax.scan(microbatch_grads, (jnp.zeros(()), jnp.zeros(()), zeros),
                                             (batch, jnp.arange(num_micro)))
    denominator = jnp.maximum(count, 1.0)
    grads = jax.tree.map(lambda g: g / denominator, grads)
    updates, opt_state = tx.update(grads, opt_state, trainable)
    trainable = optax.apply_updates(trainable, updates)
    metrics = {'loss': kl_sum / denominator, 'grad_norm': optax.global_norm(grads), 'lr': schedule(step),
               'positions': count}
    return trainable, opt_state, metrics
