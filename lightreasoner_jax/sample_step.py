"""One jitted step of the sample stage: the expert answers a batch of prompts and both models score
the answers, in one compiled function per prompt-length bucket.

Fusing the two lets scoring start from the expert's prompt cache that generation leaves behind
(`score(..., expert_prompt_cache=...)`): the expert's teacher-forced forward covers only the answer,
and the prompt is computed once instead of twice. The answers' logits are still recomputed teacher-
forced, never kept from decoding.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.contrast import ContrastResult
from lightreasoner_jax.generate import Generation, SamplingConfig, bucket_length, generate_with_cache, left_pad
from lightreasoner_jax.models.transformer import Transformer
from lightreasoner_jax.score import ContrastConfig, score


def sample_step(expert: Transformer, amateur: Transformer, prompt_ids: jax.Array, prompt_mask: jax.Array,
                rng: jax.Array, *, sampling: SamplingConfig, contrast: ContrastConfig, eos_ids: Sequence[int],
                pad_id: int) -> tuple[Generation, ContrastResult]:
    """prompt_ids/prompt_mask [B, P] left-padded -> (the expert's answers, their contrast). Jittable."""
    generation, cache = generate_with_cache(expert, prompt_ids, prompt_mask, rng, sampling=sampling,
                                            eos_ids=eos_ids, pad_id=pad_id)
    result = score(expert, amateur, prompt_ids, prompt_mask, generation.tokens, generation.lengths, contrast,
                   expert_prompt_cache=cache)
    return generation, result


class SampleStep:
    """Host-side driver of `sample_step`: pads prompts to their length bucket and runs the jitted step
    with explicit shardings on `mesh` (one compile per bucket; `trace_count` counts them).

    `batch_size` is global; with several processes each passes its own batch_size/process_count
    prompts and gets its own rows back.
    """

    def __init__(self, expert: Transformer, amateur: Transformer, mesh: jax.sharding.Mesh, *,
                 sampling: SamplingConfig, contrast: ContrastConfig, eos_ids: Sequence[int], pad_id: int,
                 batch_size: int, bucket: int = 64):
        self.mesh, self.batch_size, self.bucket = mesh, batch_size, bucket
        self.max_new_tokens, self.pad_id = sampling.max_new_tokens, int(pad_id)
        expert_graph, expert_state = nnx.split(expert)
        amateur_graph, amateur_state = nnx.split(amateur)
        expert_shardings = shd.state_shardings(expert_state, mesh)
        amateur_shardings = shd.state_shardings(amateur_state, mesh)
        self.expert_state = jax.device_put(expert_state, expert_shardings)
        self.amateur_state = jax.device_put(amateur_state, amateur_shardings)
        self.trace_count = 0
        self._batch = shd.logical_sharding(mesh, ('batch', None), (batch_size, 1))
        rows = shd.logical_sharding(mesh, ('batch',), (batch_size,))
        steps3 = shd.logical_sharding(mesh, ('batch', None, None), (batch_size, 1, 1))
        out = (Generation(self._batch, rows),
               ContrastResult(self._batch, self._batch, steps3, steps3, self._batch, steps3))
        eos_ids = tuple(eos_ids)

        def run(expert_state, amateur_state, ids, mask, rng):
            self.trace_count += 1
            return sample_step(nnx.merge(expert_graph, expert_state), nnx.merge(amateur_graph, amateur_state),
                               ids, mask, rng, sampling=sampling, contrast=contrast, eos_ids=eos_ids,
                               pad_id=self.pad_id)

        self._run = jax.jit(run, in_shardings=(expert_shardings, amateur_shardings, self._batch, self._batch,
                                               shd.replicated(mesh)), out_shardings=out)

    def padded_length(self, prompts: Sequence[Sequence[int]]) -> int:
        return bucket_length(max(len(p) for p in prompts), self.bucket)

    @property
    def local_batch_size(self) -> int:
        return self.batch_size // jax.process_count()

    def __call__(self, prompts: Sequence[Sequence[int]], rng: jax.Array, length: int | None = None
                 ) -> tuple[list[list[int]], ContrastResult]:
        """(generated ids per prompt, up to and including EOS; this process's rows of the contrast as
        NumPy arrays, one per local batch row). `length`: the padded prompt length, which multi-host
        callers must agree on; default the bucket of the longest prompt."""
        if len(prompts) > self.local_batch_size:
            raise ValueError(f'got {len(prompts)} prompts for a per-process batch of {self.local_batch_size}')
        length = self.padded_length(prompts or [[0]]) if length is None else length
        ids, mask = left_pad(prompts, length, self.local_batch_size, self.pad_id)
        with jax.set_mesh(self.mesh):
            generation, result = self._run(self.expert_state, self.amateur_state,
                                           shd.from_process_local(ids, self._batch),
                                           shd.from_process_local(mask, self._batch), rng)
        rows = shd.process_rows(self.batch_size)
        tokens, lengths = shd.to_host(generation.tokens)[rows], shd.to_host(generation.lengths)[rows]
        answers = [tokens[row, :lengths[row]].tolist() for row in range(len(prompts))]
        return answers, ContrastResult(*(shd.to_host(x)[rows] for x in result))
