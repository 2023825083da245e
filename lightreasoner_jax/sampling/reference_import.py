"""Import the reference implementation's sample files into our records, so users can train on them.

The reference writes one JSON line per kept step: {"prompt_id", "step", "prefix", "token_ids",
"weights", "kl_divergence", ...}, where `prefix` is the *decoded text* of the expert's first
`step` answer tokens. We regroup steps by question and rebuild ids with the expert tokenizer.
Decoded text does not always re-encode to the same ids; a step is aligned only when its
re-encoded prefix is exactly `step` tokens and agrees with the question's longest aligned prefix.
Unaligned steps are dropped and counted.

    python -m lightreasoner_jax.sampling.reference_import --reference=cd_samples.jsonl \
        --questions=gsm8k_train.jsonl --id_field=id --tokenizer=/ckpt/expert --out=W/samples
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

from lightreasoner_jax import data as data_lib
from lightreasoner_jax.sampling import store
from lightreasoner_jax.sampling.records import SampleFileError, SampleRecord

REFERENCE_FIELDS = ('prompt_id', 'step', 'prefix', 'token_ids', 'weights', 'kl_divergence')


def read_reference_steps(path) -> dict[str, list[dict]]:
    """Reference step records grouped by prompt_id (as strings), each group sorted by step."""
    groups: dict[str, list[dict]] = defaultdict(list)
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f'{path}:{number}'
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise SampleFileError(f'{where}: not valid JSON ({e.msg})') from None
            missing = [k for k in REFERENCE_FIELDS if k not in row]
            if missing:
                raise SampleFileError(f'{where}: reference sample lacks field(s) {missing}')
            if len(row['token_ids']) != len(row['weights']) or not row['token_ids']:
                raise SampleFileError(f'{where}: token_ids and weights must be non-empty, equal length')
            groups[str(row['prompt_id'])].append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: r['step'])
    return dict(groups)


def _encode(tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False))


def rebuild_record(question: data_lib.Question, rows: list[dict], tokenizer, system_prompt
                   ) -> tuple[SampleRecord | None, int]:
    """(record, unaligned step count) for one question's reference steps."""
    encoded = {r['step']: _encode(tokenizer, r['prefix']) for r in rows}
    aligned_steps = [t for t in sorted(encoded, reverse=True) if len(encoded[t]) == t]
    if not aligned_steps:
        return None, len(rows)
    base_step = aligned_steps[0]
    base = encoded[base_step]
    kept = [r for r in rows if len(encoded[r['step']]) == r['step'] and encoded[r['step']] == base[:r['step']]]
    if not kept:
        return None, len(rows)
    last = max(kept, key=lambda r: r['step'])
    # completion_ids[t] for the last kept step is not in the reference file; training reads only
    # completion_ids[:t] for it, so its highest-weight target stands in (flagged below).
    stand_in = last['token_ids'][max(range(len(last['weights'])), key=last['weights'].__getitem__)]
    completion = base[:last['step']] + [int(stand_in)]
    record = SampleRecord(
        id=question.id,
        prompt_ids=data_lib.build_prompt_ids(tokenizer, question.question, system_prompt=system_prompt),
        completion_ids=completion,
        steps=[r['step'] for r in kept],
        kl=[float(r['kl_divergence']) for r in kept],
        target_ids=[list(map(int, r['token_ids'])) for r in kept],
        target_weights=[_normalised(r['weights']) for r in kept],
        extra={'last_completion_token_is_stand_in': True, 'imported_from': 'reference'},
    )
    return record, len(rows) - len(kept)


def _normalised(weights) -> list[float]:
    total = math.fsum(weights)
    return [float(w) / total for w in weights]


def import_reference(reference_path, questions: list[data_lib.Question], tokenizer, out_dir, *,
                     system_prompt: str | None = data_lib.DEFAULT_SYSTEM_PROMPT) -> dict:
    """Writes out_dir/samples-00000-of-00001.jsonl and returns a report of what aligned."""
    groups = read_reference_steps(reference_path)
    by_id = {q.id: q for q in questions}
    unknown = sorted(set(groups) - set(by_id))
    records, unaligned = [], 0
    for prompt_id, rows in groups.items():
        if prompt_id not in by_id:
            continue
        record, dropped = rebuild_record(by_id[prompt_id], rows, tokenizer, system_prompt)
        unaligned += dropped
        if record is not None:
            records.append(SampleRecord.from_dict(record.to_dict(), f'{reference_path}: prompt_id {prompt_id}'))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / store.sample_file_name(0, 1)
    if path.exists():
        raise FileExistsError(f'{path} exists; import into an empty samples directory')
    store.append_records(path, records)
    total = sum(len(rows) for rows in groups.values())
    report = {
        'reference_steps': total,
        'questions': len(groups),
        'questions_not_in_question_source': len(unknown),
        'unknown_prompt_ids_example': unknown[:5],
        'imported_records': len(records),
        'imported_steps': sum(len(r.steps) for r in records),
        'unaligned_steps': unaligned,
        'steps_of_unknown_questions': sum(len(groups[k]) for k in unknown),
    }
    (out_dir / 'import_report.json').write_text(json.dumps(report, indent=2))
    return report


def main(argv):
    from absl import flags
    from transformers import AutoTokenizer
    f = flags.FLAGS
    questions, _ = data_lib.load_questions(f.questions, question_field=f.question_field, id_field=f.id_field or None,
                                           split=f.split, config_name=f.config_name or None)
    report = import_reference(f.reference, questions, AutoTokenizer.from_pretrained(f.tokenizer), f.out,
                              system_prompt=f.system_prompt or None)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    from absl import app, flags
    flags.DEFINE_string('reference', None, "the reference's sample JSON Lines file")
    flags.DEFINE_string('questions', None, 'the question source the reference sampled from (path, glob or hub id)')
    flags.DEFINE_string('id_field', 'id', "the question field that holds the reference's prompt_id")
    flags.DEFINE_string('question_field', 'question', 'the question text field')
    flags.DEFINE_string('split', 'train', 'hub split')
    flags.DEFINE_string('config_name', '', 'hub dataset configuration')
    flags.DEFINE_string('tokenizer', None, 'the expert checkpoint (its tokenizer rebuilds the ids)')
    flags.DEFINE_string('out', None, 'the samples directory to write')
    flags.DEFINE_string('system_prompt', data_lib.DEFAULT_SYSTEM_PROMPT, 'system prompt of the reference run')
    flags.mark_flags_as_required(['reference', 'questions', 'tokenizer', 'out'])
    app.run(main)
