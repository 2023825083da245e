"""The rejection-sampling SFT baseline's data, made in the train stage before training: config.data's
questions answered `train.rejection.samples_per_question` times by the expert as loaded, at
`train.rejection.temperature`, graded against the gold answers (`eval.kind`); the correct ones become SFT
records. The answers are appended per batch to W/rejection/ (resumable like an evaluation); stats.json
holds the counts and the sampling time, which the report adds to the run's cost."""

from __future__ import annotations

import dataclasses
import json
import time

import jax

from lightreasoner_jax import json_lines
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.evaluation import EvalSettings
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.pipeline import settings
from lightreasoner_jax.pipeline.eval_files import answer_to_file
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling.records import SampleRecord
from lightreasoner_jax.training.rejection import SEPARATOR, RejectionConfig, accepted_answers, repeated_questions
from lightreasoner_jax.training.sft import sft_records


def rejection_records(config, workdir: Workdir, mesh) -> list[SampleRecord]:
    start = time.time()
    rejection = settings.from_section(RejectionConfig, config.train.rejection)
    questions, _ = settings.questions(config.data)
    tokenizer = load_tokenizer(config.expert.path)
    process, processes = jax.process_index(), jax.process_count()
    model = load_hf(config.expert.path, mesh=mesh, dtype=config.expert.dtype)
    sampling = EvalSettings(kind=config.eval.kind, system_prompt=config.data.system_prompt,
                            max_new_tokens=config.generation.max_new_tokens, batch_size=config.generation.batch_size,
                            bucket=config.generation.bucket, temperature=rejection.temperature, seed=rejection.seed)
    # collective: every process answers (or skips) its share, so none waits on another that has nothing left
    answer_to_file(model, tokenizer, repeated_questions(questions, rejection.samples_per_question), mesh, sampling,
                   workdir.rejection_answers(process, processes),
                   eos_ids=settings.stop_ids(config, tokenizer, model.config))
    shd.sync('rejection-answers-written')
    predictions = json_lines.recover_all(workdir.all_rejection_answers())
    accepted = accepted_answers(questions, predictions)
    if process == 0:
        stats_path = workdir.rejection_stats
        previous = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        stats = {'questions': len(questions), 'answers': len(predictions), 'correct': sum(p['correct'] for p in predictions),
                 'accepted_distinct': len(accepted),
                 'questions_with_an_accepted_answer': len({q.id.rsplit(SEPARATOR, 1)[0] for q in accepted}),
                 'seconds': previous.get('seconds', 0.0) + time.time() - start, 'settings': dataclasses.asdict(rejection)}
        stats_path.write_text(json.dumps(stats, indent=2))
    return sft_records(tokenizer, accepted, system_prompt=config.data.system_prompt)
