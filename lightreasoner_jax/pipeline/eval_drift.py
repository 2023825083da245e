"""The eval stages' drift check (evaluation/perplexity.py): the perplexity, under the model just evaluated, of
the first eval.drift_limit gold solutions and of the base model's own greedy answers (eval/base of the same
workdir) to the same questions. Run after `eval_base` and `eval`, it shows whether tuning moved the expert
away from fluent solutions: compare the two runs' numbers in metrics.json or the report."""

from __future__ import annotations

from collections.abc import Sequence

from lightreasoner_jax import json_lines
from lightreasoner_jax.evaluation.perplexity import perplexity
from lightreasoner_jax.models import Transformer
from lightreasoner_jax.pipeline.workdir import Workdir


def drift(config, model: Transformer, tokenizer, workdir: Workdir, questions: Sequence[tuple[str, str, str | None]],
          eos_id: int | None) -> dict:
    """questions: (id, prompt text, gold solution or None), in evaluation order. {} when eval.drift_limit = 0."""
    limit = config.eval.get('drift_limit', 0)
    if not limit:
        return {}
    options = dict(system_prompt=config.eval.system_prompt or None, template=config.eval.template or None,
                   eos_id=eos_id, batch_size=min(config.eval.batch_size, 16))
    out = {'limit': limit}
    gold = [(prompt, solution) for _, prompt, solution in questions if solution][:limit]
    if gold:
        out['gold_solutions'] = perplexity(model, tokenizer, gold, **options)
    base = {r['id']: r['completion'] for r in json_lines.recover_all(workdir.all_eval_predictions('base'))}
    answers = [(prompt, base[i]) for i, prompt, _ in questions if base.get(i)][:limit]
    if answers:
        out['base_answers'] = perplexity(model, tokenizer, answers, **options)
    return out
