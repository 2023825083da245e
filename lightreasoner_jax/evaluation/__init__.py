"""Evaluation: final answers extracted and graded per benchmark (answers.py), and the greedy pass@1
loop over a question set (loop.py)."""

from lightreasoner_jax.evaluation.answers import KINDS, grade
from lightreasoner_jax.evaluation.loop import PAPER_SYSTEM_PROMPT, EvalSettings, evaluate, prediction_record, summarize

__all__ = ['KINDS', 'grade', 'PAPER_SYSTEM_PROMPT', 'EvalSettings', 'evaluate', 'prediction_record', 'summarize']
