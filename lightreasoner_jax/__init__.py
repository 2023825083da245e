"""LightReasoner in JAX: a small amateur model teaches a large expert to reason.

The pieces a researcher composes (each documented with shapes and dtypes):

    load_hf, save_hf       HF checkpoints <-> sharded NNX Transformers        (models/hf_io.py)
    generate               batched KV-cache decoding, jittable                 (generate.py)
    contrast               expert/amateur logits -> KL, kept steps, targets    (contrast.py)
    sample                 questions -> sample records (answer, score, keep)   (sampling.py)
    train                  records -> fine-tuned model (LoRA or full)          (train.py)
    evaluate               greedy pass@1 with GSM8K / MATH answer checking     (evaluate.py)
    export                 trained model -> merged HF checkpoint + PEFT adapter (export.py)

`generate`, `contrast`, `train`, `evaluate` and `export` are also the names of their modules; each
such module is callable (callable_module.py), so `lightreasoner_jax.contrast(...)` and
`lightreasoner_jax.contrast.contrast(...)` are the same call, and `from lightreasoner_jax.contrast
import ContrastResult` still works. The pieces are imported on first use, so importing a light
module (the toy world's problem generator, sweeps) does not load JAX.
"""

from __future__ import annotations

import importlib

_MODULES = ('generate', 'contrast', 'train', 'evaluate', 'export')
_FUNCTIONS = {'load_hf': 'lightreasoner_jax.models', 'save_hf': 'lightreasoner_jax.models',
              'sample': 'lightreasoner_jax.sampling'}

__all__ = ['load_hf', 'save_hf', 'generate', 'contrast', 'sample', 'train', 'evaluate', 'export']


def __getattr__(name: str):
    if name in _MODULES:
        return importlib.import_module(f'{__name__}.{name}')
    if name in _FUNCTIONS:
        return getattr(importlib.import_module(_FUNCTIONS[name]), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(set(globals()) | set(__all__))
