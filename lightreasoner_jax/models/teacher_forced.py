"""Teacher-forced batches: prompts followed by given answers, right-padded, and the log-probabilities a model
gives each answer token. Lengths are padded to a multiple of `bucket`, so a pass over many answers compiles
once per bucket, not once per length."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from lightreasoner_jax.models.transformer import Transformer


def teacher_forced_batch(rows: Sequence[tuple[list[int], list[int]]], bucket: int = 1):
    """ids, attention mask, answer-predicting positions (`valid`), and their gold next tokens, right-padded
    to a multiple of `bucket`."""
    length = max(len(p) + len(a) for p, a in rows)
    length = -(-length // bucket) * bucket
    ids, mask = np.zeros((len(rows), length), np.int32), np.zeros((len(rows), length), bool)
    valid, gold = np.zeros((len(rows), length), bool), np.zeros((len(rows), length), np.int32)
    for r, (prompt, answer) in enumerate(rows):
        sequence = prompt + answer
        ids[r, :len(sequence)], mask[r, :len(sequence)] = sequence, True
        valid[r, len(prompt) - 1:len(sequence) - 1] = True  # position t predicts token t + 1
        gold[r, len(prompt) - 1:len(sequence) - 1] = answer
    return ids, mask, valid, gold


def forward_logits(model: Transformer, ids: np.ndarray, mask: np.ndarray) -> jax.Array:
    """[B, T, V] float32 next-token logits of a right-padded batch."""
    positions = np.broadcast_to(np.arange(ids.shape[1]), ids.shape)
    return model.logits(model(ids, positions, mask)[0]).astype(jnp.float32)


def answer_log_probs(model: Transformer, rows: Sequence[tuple[list[int], list[int]]], *, batch_size: int = 16,
                     bucket: int = 64) -> list[np.ndarray]:
    """Per row, the log-probability of each answer token given the prompt and the answer before it."""
    out = []
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        ids, mask, valid, gold = teacher_forced_batch(chunk, bucket)
        log_probs = jax.nn.log_softmax(forward_logits(model, ids, mask), axis=-1)
        token = np.asarray(jnp.take_along_axis(log_probs, jnp.asarray(gold)[..., None], -1)[..., 0])
        out += [token[r][valid[r]] for r in range(len(chunk))]
    return out
