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
such module is callable, so `lightreasoner_jax.contrast(...)` and `lightreasoner_jax.contrast.contrast(...)`
are the same call, and `from lightreasoner_jax.contrast import ContrastResult` still works.
"""

from __future__ import annotations

import importlib
import types


class _CallableModule(types.ModuleType):
    """A module that, called, calls its function of the same name."""

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__name__.rsplit('.', 1)[1])(*args, **kwargs)


for _name in ('generate', 'contrast', 'train', 'evaluate', 'export'):
    importlib.import_module(f'{__name__}.{_name}').__class__ = _CallableModule

from lightreasoner_jax import contrast, evaluate, export, generate, train  # noqa: E402
from lightreasoner_jax.models import load_hf, save_hf  # noqa: E402
from lightreasoner_jax.sampling import sample  # noqa: E402

__all__ = ['load_hf', 'save_hf', 'generate', 'contrast', 'sample', 'train', 'evaluate', 'export']
