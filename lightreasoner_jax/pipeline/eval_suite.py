"""A suite of benchmarks in one evaluation (config.eval.benchmarks, e.g. ('paper',) for the paper's seven).

Every benchmark's rows are loaded and their gold answers read before the model is (a wrong source, field or
type fails in seconds, naming the benchmark, row and field). Then each benchmark is answered in turn into
eval/<name>/<benchmark>/: greedy predictions (pass@1) and, with eval.samples = n, n sampled answers per
question (pass@k and maj@k), both appended per batch, so a killed run resumes inside the benchmark it was
in. eval/<name>/metrics.json holds every benchmark's metrics and their plain average (the paper's AVG).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence

import jax

from lightreasoner_jax import data as data_lib
from lightreasoner_jax import json_lines
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.evaluation import EvalSettings
from lightreasoner_jax.evaluation import benchmarks as bench_lib
from lightreasoner_jax.evaluation.sampled_metrics import sampled_metrics
from lightreasoner_jax.json_lines import process_file_name
from lightreasoner_jax.models import Transformer
from lightreasoner_jax.pipeline.eval_files import answer_to_file, evaluate_to_dir
from lightreasoner_jax.pipeline.workdir import Workdir


@dataclasses.dataclass(frozen=True)
class SampledEval:
    samples: int = 0              # sampled answers per question (0: greedy pass@1 only)
    temperature: float = 0.6
    ks: tuple[int, ...] = (1,)    # pass@k and maj@k for each k <= samples


def suite_specs(eval_config) -> list[bench_lib.Benchmark]:
    """The benchmarks config.eval names (suites expanded): presets, with eval.data_dir's toolkit files and
    eval.benchmark_options.<name> overriding their fields; a name that is no preset must be given whole
    there (source, fields, gold_kind)."""
    options = eval_config.get('benchmark_options') or {}
    data_dir = eval_config.get('data_dir') or ''
    limit = eval_config.get('limit') or 0
    specs = []
    for name in bench_lib.expand(eval_config.benchmarks):
        own = dict(options.get(name) or {})
        own = {k: tuple(tuple(x) if isinstance(x, (list, tuple)) else x for x in v) if isinstance(v, (list, tuple))
               else v for k, v in own.items()}
        if limit and 'limit' not in own:
            own['limit'] = limit
        if name in bench_lib.PRESETS:
            specs.append(bench_lib.preset(name, data_dir, **own))
        elif 'source' in own:
            specs.append(bench_lib.register(bench_lib.Benchmark(name=name, **own)))
        else:
            raise ValueError(f'eval.benchmarks: {name!r} is no preset ({sorted(bench_lib.PRESETS)}) and '
                             f'eval.benchmark_options.{name} does not give its source and fields')
    return specs


def load_suite(specs: Sequence[bench_lib.Benchmark]) -> dict[str, list[bench_lib.Item]]:
    return {spec.name: bench_lib.load(spec) for spec in specs}


def _questions(items: Sequence[bench_lib.Item], copies: int = 0) -> list[data_lib.Question]:
    if not copies:
        return [data_lib.Question(item.id, item.prompt, item.gold) for item in items]
    return [data_lib.Question(f'{item.id}#{j}', item.prompt, item.gold) for item in items for j in range(copies)]


def _sampled(model, tokenizer, spec, items, mesh, eval_settings: EvalSettings, directory, sampled: SampledEval,
             eos_ids) -> dict:
    questions = _questions(items, sampled.samples)
    answer_to_file(model, tokenizer, questions, mesh,
                   dataclasses.replace(eval_settings, temperature=sampled.temperature),
                   directory / process_file_name('samples', jax.process_index(), jax.process_count()),
                   eos_ids=eos_ids, grader=lambda completion, gold: bench_lib.grade_item(spec, completion, gold),
                   references={q.id: q.answer for q in questions})
    shd.sync(f'eval-sampled-{directory}')
    if jax.process_index() != 0:
        return {}
    by_question: dict[str, list[dict]] = {}
    for record in sorted(json_lines.recover_all(json_lines.process_files(directory, 'samples')),
                         key=lambda r: int(r['id'].rsplit('#', 1)[1])):
        by_question.setdefault(record['id'].rsplit('#', 1)[0], []).append(record)
    return {'samples': sampled.samples, 'sample_temperature': sampled.temperature,
            **sampled_metrics(by_question, [k for k in sampled.ks if k <= sampled.samples])}


def evaluate_suite(model: Transformer, tokenizer, suite: dict[str, list[bench_lib.Item]],
                   specs: Sequence[bench_lib.Benchmark], mesh, eval_settings: EvalSettings, workdir: Workdir,
                   name: str, *, eos_ids: Sequence[int] | None = None, sampled: SampledEval = SampledEval(),
                   info: dict | None = None) -> dict:
    """Each benchmark answered into eval/<name>/<benchmark>/ (resuming what is there), its metrics.json, and
    eval/<name>/metrics.json: 'benchmarks' (each one's metrics), 'average' (their plain mean accuracy, which
    is also 'accuracy'), pooled 'correct' and 'total'. Process 0 returns it; the others {}."""
    start = time.time()
    per_benchmark = {}
    for spec in specs:
        items = suite[spec.name]
        directory = workdir.eval_benchmark_dir(name, spec.name)
        metrics = evaluate_to_dir(
            model, tokenizer, _questions(items), mesh, eval_settings, directory, eos_ids=eos_ids,
            info={'benchmark': spec.name, 'shots': spec.shots, **(info or {})},
            grader=lambda completion, gold, spec=spec: bench_lib.grade_item(spec, completion, gold),
            references={item.id: item.gold for item in items},
            record_fields={item.id: {'benchmark': spec.name, 'question': item.question} for item in items})
        if sampled.samples:
            metrics.update(_sampled(model, tokenizer, spec, items, mesh, eval_settings, directory, sampled, eos_ids))
            if jax.process_index() == 0:
                (directory / 'metrics.json').write_text(json.dumps(metrics, indent=2))
        per_benchmark[spec.name] = metrics
    if jax.process_index() != 0:
        return {}
    accuracies = [m['accuracy'] for m in per_benchmark.values()]
    summary = {'benchmarks': per_benchmark, 'average': sum(accuracies) / len(accuracies),
               'accuracy': sum(accuracies) / len(accuracies),
               'correct': sum(m['correct'] for m in per_benchmark.values()),
               'total': sum(m['total'] for m in per_benchmark.values()),
               'seconds_this_run': time.time() - start, **(info or {})}
    workdir.eval_metrics(name).parent.mkdir(parents=True, exist_ok=True)
    workdir.eval_metrics(name).write_text(json.dumps(summary, indent=2))
    return summary
