"""Teacher-forced scoring of answers: one expert and one amateur forward over `prompt + completion`
give p_E and p_A at every completion step (causal attention makes this equal to the reference's
one forward per prefix). The expert's forward can start from its prompt cache left by generation,
so the prompt is not recomputed. Logits are made `chunk` steps at a time, so at V=152k the peak holds two
[B, chunk, V] float32 blocks, never two [B, T, V] ones.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import SamplingConfig, processed_logits
from lightreasoner_jax.models.apply import split_on_mesh
from lightreasoner_jax.models.transformer import KVCache, Transformer, padded_positions
from lightreasoner_jax.sampling.kernel import ContrastConfig, ContrastResult, contrast


def score(expert: Transformer, amateur: Transformer, prompt_ids: jax.Array, prompt_mask: jax.Array,
          completion_ids: jax.Array, completion_lengths: jax.Array, config: ContrastConfig,
          expert_prompt_cache: KVCache | None = None, sampling: SamplingConfig | None = None) -> ContrastResult:
    """prompt_* [B, P] left-padded; completion_ids [B, N] (valid up to completion_lengths [B]).

    Returns the contrast over steps t in [0, N): the distributions predicting completion_ids[:, t]
    given the prompt and completion_ids[:, :t]; `valid` = first_step <= t < length.

    expert_prompt_cache: a cache whose slots [0, P) hold the expert's keys and values for this prompt
    (as `generate_with_cache` leaves it). The expert's teacher-forced forward then covers only the
    answer, attending to the cached prompt, instead of recomputing the prompt as well.

    sampling: how the answers were sampled; with config.reference_compatible, p_E comes from the logits
    processed as sampling drew from them (None: as they are).
    """
    B, P = prompt_ids.shape
    N = completion_ids.shape[1]
    steps = jnp.arange(N)
    completion_mask = steps[None, :] < completion_lengths[:, None]
    ids = jnp.concatenate([prompt_ids, completion_ids], axis=1)
    mask = jnp.concatenate([prompt_mask.astype(bool), completion_mask], axis=1)
    positions = padded_positions(mask)
    if expert_prompt_cache is None:
        expert_hidden, _ = expert(ids, positions, mask)
        expert_offset = P - 1  # step t is predicted at sequence index P - 1 + t
    else:
        expert_hidden = answer_hidden(expert, expert_prompt_cache, prompt_ids, prompt_mask, completion_ids,
                                      completion_mask)
        expert_offset = 0      # hidden[:, t] predicts step t
    amateur_hidden, _ = amateur(ids, positions, mask)
    valid = (steps[None, :] >= config.first_step) & completion_mask

    chunk = min(config.chunk, N)
    num_chunks = -(-N // chunk)
    # Step t is predicted at sequence index P - 1 + t (amateur); pad the step axis to whole chunks.
    step_index = jnp.minimum(jnp.arange(num_chunks * chunk), N - 1)
    step_index = jnp.broadcast_to(step_index.reshape(num_chunks, 1, chunk), (num_chunks, B, chunk))
    chunk_valid = jnp.pad(valid, ((0, 0), (0, num_chunks * chunk - N)))
    chunk_valid = chunk_valid.reshape(B, num_chunks, chunk).transpose(1, 0, 2)

    def one_chunk(args):
        chunk_steps, chunk_valid_ = args
        expert_logits = expert.logits_at(expert_hidden, expert_offset + chunk_steps)
        if config.reference_compatible and sampling is not None:
            expert_logits = processed_logits(expert_logits, sampling)
        return contrast(expert_logits, amateur.logits_at(amateur_hidden, P - 1 + chunk_steps),
                        alpha=config.alpha, beta=config.beta, top_k=config.top_k, valid=chunk_valid_,
                        smoothing=config.smoothing)

    per_chunk = jax.lax.map(one_chunk, (step_index, chunk_valid))  # leaves [num_chunks, B, chunk, ...]

    def unchunk(x):
        x = jnp.moveaxis(x, 0, 1)
        return x.reshape((B, num_chunks * chunk) + x.shape[3:])[:, :N]
    return jax.tree.map(unchunk, per_chunk)


def answer_hidden(model: Transformer, prompt_cache: KVCache, prompt_ids: jax.Array, prompt_mask: jax.Array,
                  completion_ids: jax.Array, completion_mask: jax.Array) -> jax.Array:
    """[B, N, D] hidden states whose row t predicts completion step t: the forward runs over the
    prompt's last token and completion[:N-1] at slots [P-1, P+N-1), over the cached prompt. (Slot
    P-1 is recomputed from the same token and position, so the cache need not hold it exactly.)"""
    B, P = prompt_ids.shape
    N = completion_ids.shape[1]
    tokens = jnp.concatenate([prompt_ids[:, -1:], completion_ids[:, :N - 1]], axis=1)
    token_mask = jnp.concatenate([prompt_mask[:, -1:].astype(bool), completion_mask[:, :N - 1]], axis=1)
    positions = padded_positions(prompt_mask)[:, -1:] + jnp.arange(N)[None, :]
    if prompt_cache.max_length < P + N - 1:
        raise ValueError(f'the prompt cache holds {prompt_cache.max_length} slots; P + N - 1 = {P + N - 1} needed')
    valid = jnp.zeros((B, prompt_cache.max_length), bool).at[:, :P].set(prompt_mask.astype(bool))
    prefix = KVCache(prompt_cache.keys, prompt_cache.values, valid, jnp.asarray(P - 1, jnp.int32))
    hidden, _ = model(tokens, positions, token_mask, prefix)
    return hidden


def contrast_shardings(mesh: jax.sharding.Mesh, batch_size: int) -> ContrastResult:
    """Shardings of a ContrastResult over a global batch: rows over the batch axis."""
    steps = shd.logical_sharding(mesh, ('batch', None), (batch_size, 1))
    targets = shd.logical_sharding(mesh, ('batch', None, None), (batch_size, 1, 1))
    return ContrastResult(steps, steps, targets, targets, steps, targets)


class Scorer:
    """Jitted `score` with explicit shardings; expert and amateur on the same mesh."""

    def __init__(self, expert: Transformer, amateur: Transformer, mesh: jax.sharding.Mesh, config: ContrastConfig,
                 batch_size: int):
        self.config, self.mesh, self.batch_size = config, mesh, batch_size
        expert_graph, self.expert_state, expert_shardings = split_on_mesh(expert, mesh)
        amateur_graph, self.amateur_state, amateur_shardings = split_on_mesh(amateur, mesh)
        self.trace_count = 0
        self._batch = shd.logical_sharding(mesh, ('batch', None), (batch_size, 1))
        rows = shd.logical_sharding(mesh, ('batch',), (batch_size,))

        def run(expert_state, amateur_state, prompt_ids, prompt_mask, completion_ids, completion_lengths):
            self.trace_count += 1
            return score(nnx.merge(expert_graph, expert_state), nnx.merge(amateur_graph, amateur_state),
                         prompt_ids, prompt_mask, completion_ids, completion_lengths, config)

        self._run = jax.jit(run, in_shardings=(expert_shardings, amateur_shardings, self._batch, self._batch,
                                               self._batch, rows), out_shardings=contrast_shardings(mesh, batch_size))
        self._rows = rows

    def __call__(self, prompt_ids: np.ndarray, prompt_mask: np.ndarray, completion_ids: np.ndarray,
                 completion_lengths: np.ndarray) -> ContrastResult:
        """Process-local rows in, this process's rows of the result out, as NumPy arrays."""
        with jax.set_mesh(self.mesh):
            result = self._run(self.expert_state, self.amateur_state,
                               shd.from_process_local(prompt_ids, self._batch),
                               shd.from_process_local(prompt_mask, self._batch),
                               shd.from_process_local(completion_ids, self._batch),
                               shd.from_process_local(completion_lengths, self._rows))
        rows = shd.process_rows(self.batch_size)
        return ContrastResult(*(shd.to_host(x)[rows] for x in result))
