"""Stage `diagnose`: the contrast diagnostic (sampling/diagnostic.py) on the gold answers of the first
`diagnose.limit` questions of `data`, with the sample stage's prompt and contrast settings, and, when the
sample stage has run, expert vs amateur entropy and top-1 agreement at the steps of the first
`diagnose.limit` sampled answers (sampling/step_stats.py). Writes W/diagnostics/contrast.json, which the
report shows beside the accuracies."""

from __future__ import annotations

import json
import time

import jax

from lightreasoner_jax.models import eos_token_ids, load_hf, load_tokenizer
from lightreasoner_jax.pipeline import settings
from lightreasoner_jax.pipeline.amateurs import load_amateur, needs_tokenizer_check
from lightreasoner_jax.pipeline.model_pairs import check_pair
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store
from lightreasoner_jax.sampling.diagnostic import contrast_diagnostic
from lightreasoner_jax.sampling.step_stats import step_statistics
from lightreasoner_jax.storage import writing


def run(config, workdir: Workdir, mesh) -> dict:
    start = time.time()
    tokenizer = load_tokenizer(config.expert.path)
    if needs_tokenizer_check(config):
        check_pair(config, tokenizer, warn=False)
    expert = load_hf(config.expert.path, mesh=mesh, dtype=config.expert.dtype)
    amateur = load_amateur(config, expert, mesh)
    questions, _ = settings.questions(config.data)
    eos = tokenizer.eos_token_id
    if eos is None:
        eos = eos_token_ids(config.expert.path, tokenizer, expert.config)[0]
    result = contrast_diagnostic(expert, amateur, tokenizer, questions[:config.diagnose.limit],
                                 config=settings.contrast(config), eos_id=eos,
                                 system_prompt=config.data.system_prompt or None)
    records = []
    if workdir.samples_dir.exists():
        for path in store.sample_files(workdir.samples_dir):
            records += [(r.prompt_ids, r.completion_ids) for r in store.recover(path) if r.completion_ids]
    if records:
        result['sampled_steps'] = step_statistics(expert, amateur, records[:config.diagnose.limit],
                                                  beta=config.contrast.beta)
    result['seconds'] = time.time() - start
    if jax.process_index() == 0:
        path = workdir.contrast_diagnostic
        with writing(path, 'the contrast diagnostic'):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(result, indent=2))
    return {k: result[k] for k in ('problems', 'kept', 'kept_fixed', 'kept_broken', 'fixed', 'broken')}
