"""LightReasoner in JAX: a small amateur model teaches a large expert to reason.

The pieces a researcher composes (each documented with shapes and dtypes):

    load_hf, save_hf   HF checkpoints <-> sharded NNX Transformers          (models/)
    generate           batched KV-cache decoding, jittable                   (generation/)
    contrast           expert/amateur logits -> KL, kept steps, targets      (sampling/)
    sample             questions -> SampleRecords (answer, score, keep)      (sampling/)
    EarlyExit          the expert's own first k layers as the amateur         (models/)
    train              records -> fine-tuned model (LoRA or full)            (training/)
    evaluate           greedy pass@1 with answer grading                     (evaluation/)
    export             trained model -> merged HF checkpoint + PEFT adapter  (models/)

The pipeline that runs them as resumable stages over a workdir is `pipeline/` (entry point: main.py).
The pieces are imported on first use, so importing a light module (the toy world's problem generator,
sweeps) does not load JAX.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    'load_hf': 'lightreasoner_jax.models', 'save_hf': 'lightreasoner_jax.models',
    'export': 'lightreasoner_jax.models', 'EarlyExit': 'lightreasoner_jax.models', 'generate': 'lightreasoner_jax.generation',
    'contrast': 'lightreasoner_jax.sampling', 'sample': 'lightreasoner_jax.sampling',
    'train': 'lightreasoner_jax.training', 'evaluate': 'lightreasoner_jax.evaluation',
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(set(globals()) | set(__all__))
