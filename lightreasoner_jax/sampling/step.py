"""One jitted step of the sample stage: the expert answers a batch of prompts and the contrast is
computed, in one compiled function per prompt-length bucket.

By default the contrast is computed inside the decode loop (`generate_with_contrast`: the amateur decodes
in lockstep). With `contrast.rescore` both models score the finished answers teacher-forced instead; the
expert's forward then starts from the prompt cache that generation leaves behind
(`score(..., expert_prompt_cache=...)`), so the prompt is computed once, not twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
from flax import nnx

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.generation import Generation, PromptBatcher, SamplingConfig, generate_with_cache
from lightreasoner_jax.models.apply import split_on_mesh
from lightreasoner_jax.models.early_exit import EarlyExit
from lightreasoner_jax.models.transformer import Transformer
from lightreasoner_jax.sampling.decode_contrast import generate_with_contrast
from lightreasoner_jax.sampling.kernel import ContrastConfig, ContrastResult
from lightreasoner_jax.sampling.scoring import contrast_shardings, score


def sample_step(expert: Transformer, amateur: Transformer | EarlyExit, prompt_ids: jax.Array, prompt_mask: jax.Array,
                rng: jax.Array, *, sampling: SamplingConfig, contrast: ContrastConfig, eos_ids: Sequence[int],
                pad_id: int, row_groups: tuple[int, ...] = ()) -> tuple[Generation, ContrastResult]:
    """prompt_ids/prompt_mask [B, P] left-padded -> (the expert's answers, their contrast). Jittable.
    `row_groups`: the prefill's row blocks (`generation.prefill_in_groups`)."""
    if not contrast.rescore:
        return generate_with_contrast(expert, amateur, prompt_ids, prompt_mask, rng, sampling=sampling,
                                      contrast_config=contrast, eos_ids=eos_ids, pad_id=pad_id, row_groups=row_groups)
    generation, cache = generate_with_cache(expert, prompt_ids, prompt_mask, rng, sampling=sampling,
                                            eos_ids=eos_ids, pad_id=pad_id, row_groups=row_groups)
    result = score(expert, amateur, prompt_ids, prompt_mask, generation.tokens, generation.lengths, contrast,
                   expert_prompt_cache=cache, sampling=sampling)
    return generation, result


class SampleStep(PromptBatcher):
    """The host-side driver of `sample_step`: pads prompts to their length bucket and runs the jitted step
    with explicit shardings on `mesh` (one compile per bucket, and per prefill row-group lengths with
    prefill_groups > 1; `trace_count` counts them)."""

    def __init__(self, expert: Transformer, amateur: Transformer | EarlyExit, mesh: jax.sharding.Mesh, *,
                 sampling: SamplingConfig, contrast: ContrastConfig, eos_ids: Sequence[int], pad_id: int,
                 batch_size: int, bucket: int = 64, prefill_groups: int = 1):
        super().__init__(mesh, batch_size=batch_size, bucket=bucket, pad_id=pad_id, prefill_groups=prefill_groups)
        expert_graph, self.expert_state, expert_shardings = split_on_mesh(expert, mesh)
        # an early exit of this expert is rebuilt on the expert inside the step: no second copy of its state
        exit_layer = amateur.exit_layer if isinstance(amateur, EarlyExit) else None
        if exit_layer is not None and amateur.expert is not expert:
            raise ValueError('the EarlyExit amateur must be an early exit of the expert being sampled')
        if exit_layer is None:
            amateur_graph, self.amateur_state, amateur_shardings = split_on_mesh(amateur, mesh)
        else:
            self.amateur_state, amateur_shardings = None, None
        eos_ids = tuple(eos_ids)

        def run(expert_state, amateur_state, ids, mask, rng, row_groups):
            self.trace_count += 1
            expert = nnx.merge(expert_graph, expert_state)
            amateur = (EarlyExit(expert, exit_layer) if exit_layer is not None
                       else nnx.merge(amateur_graph, amateur_state))
            return sample_step(expert, amateur, ids, mask, rng, sampling=sampling, contrast=contrast,
                               eos_ids=eos_ids, pad_id=self.pad_id, row_groups=row_groups)

        batch = self.batch_sharding
        self._run = jax.jit(run, in_shardings=(expert_shardings, amateur_shardings, batch, batch,
                                               shd.replicated(mesh)),
                            out_shardings=(Generation(batch, self.rows_sharding),
                                           contrast_shardings(mesh, batch_size)),
                            static_argnums=(5,))

    def __call__(self, prompts: Sequence[Sequence[int]], rng: jax.Array, length: int | None = None
                 ) -> tuple[list[list[int]], ContrastResult]:
        """(generated ids per prompt, up to and including EOS; this process's rows of the contrast as
        NumPy arrays, one per local batch row). `length` as in `PromptBatcher.device_prompts`."""
        ids, mask = self.device_prompts(prompts, length)
        with jax.set_mesh(self.mesh):
            generation, result = self._run(self.expert_state, self.amateur_state, ids, mask, rng,
                                           self.row_groups(prompts, ids.shape[1]))
        rows = shd.process_rows(self.batch_size)
        return self.answers(generation, len(prompts)), ContrastResult(*(shd.to_host(x)[rows] for x in result))
