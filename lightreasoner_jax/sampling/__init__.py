"""Contrastive sampling: the expert answers, the amateur is contrasted with it at every step, and the
kept steps with their soft targets become sample records.

    contrast      expert/amateur logits -> KL, kept steps, soft targets (the kernel; kernel.py)
    generate_with_contrast  the expert decodes, the amateur in lockstep, the contrast at every step
                  (the default; decode_contrast.py)
    score         teacher-forced expert and amateur forwards over prompt + answer -> contrast
                  (contrast.rescore; scoring.py)
    SampleStep    the jitted step of one batch, either way (step.py)
    sample        questions -> SampleRecords (sampler.py)
    SampleRecord  the record and its JSON form (records.py); the per-process files (store.py)
"""

from lightreasoner_jax.sampling import store
from lightreasoner_jax.sampling.decode_contrast import generate_with_contrast
from lightreasoner_jax.sampling.kernel import ContrastConfig, ContrastResult, contrast
from lightreasoner_jax.sampling.records import SampleFileError, SampleRecord
from lightreasoner_jax.sampling.sampler import make_records, sample, sample_stats
from lightreasoner_jax.sampling.scoring import Scorer, score
from lightreasoner_jax.sampling.step import SampleStep, sample_step
from lightreasoner_jax.sampling.store import read_samples

__all__ = ['ContrastConfig', 'ContrastResult', 'contrast', 'generate_with_contrast', 'SampleFileError',
           'SampleRecord', 'make_records', 'sample', 'sample_stats', 'Scorer', 'score', 'SampleStep', 'sample_step', 'read_samples', 'store']
