"""Evaluation: benchmarks (rows -> questions and gold answers, as the Qwen2.5-Math toolkit builds them;
benchmarks.py), answers read and graded (grading.py), the greedy pass@1 loop (loop.py), and pass@k / maj@k
over sampled answers (sampled_metrics.py)."""

from lightreasoner_jax.evaluation.benchmarks import PRESETS, SUITES, Benchmark, grade
from lightreasoner_jax.evaluation.loop import PAPER_SYSTEM_PROMPT, EvalSettings, evaluate, prediction_record, summarize

KINDS = tuple(PRESETS)

__all__ = ['KINDS', 'PRESETS', 'SUITES', 'Benchmark', 'grade', 'PAPER_SYSTEM_PROMPT', 'EvalSettings', 'evaluate',
           'prediction_record', 'summarize']
