"""Does the contrast know better than the expert? On the toy world's gold test solutions, teacher-forced,
at every answer token: is the expert's argmax right, and is the contrast's argmax (softmax(log p_E -
log p_A) over the plausible set) right? Counts by whether the step would be kept (KL >= beta).

python benchmarks/toyworld_contrast_diagnostic.py [--expert=DIR] [--amateur=DIR] [--limit=500] [--source=...]
Writes benchmarks/results/toyworld_contrast_diagnostic.json.
"""

import argparse
import json
import os

import jax.numpy as jnp
import numpy as np

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import build_prompt_ids, load_questions
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.sampling import contrast
from lightreasoner_jax.toyworld.assets import AMATEUR_PATH, EXPERT_PATH

OUT = os.path.join(os.path.dirname(__file__), 'results', 'toyworld_contrast_diagnostic.json')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--expert', default=str(EXPERT_PATH))
    parser.add_argument('--amateur', default=str(AMATEUR_PATH))
    parser.add_argument('--limit', type=int, default=500)
    parser.add_argument('--alpha', type=float, default=0.2)
    parser.add_argument('--beta', type=float, default=0.4)
    parser.add_argument('--source', default='toyworld:test', help="gold solutions: 'toyworld:test', "
                        "'toyworld:habits:dev', ...")
    parser.add_argument('--out', default=OUT)
    args = parser.parse_args()
    mesh = shd.make_mesh(data=-1, fsdp=1)
    tokenizer = load_tokenizer(args.expert)
    expert = load_hf(args.expert, mesh=mesh, dtype='float32')
    amateur = load_hf(args.amateur, mesh=mesh, dtype='float32')
    questions, _ = load_questions(args.source, id_field='id', limit=args.limit)
    counts = {k: 0 for k in ('steps', 'expert_right', 'contrast_right', 'kept', 'kept_expert_right',
                             'kept_contrast_right', 'fixed_by_contrast', 'broken_by_contrast')}
    for start in range(0, len(questions), 64):
        batch = questions[start:start + 64]
        rows = []
        for q in batch:
            prompt = build_prompt_ids(tokenizer, q.question, system_prompt='Please reason step by step.')
            answer = tokenizer.encode(q.answer, add_special_tokens=False) + [tokenizer.eos_token_id]
            rows.append((prompt, answer))
        length = max(len(p) + len(a) for p, a in rows)
        ids = np.zeros((len(rows), length), np.int32)
        mask = np.zeros((len(rows), length), bool)
        valid = np.zeros((len(rows), length), bool)   # positions that predict an answer token
        target = np.zeros((len(rows), length), np.int32)
        for r, (p, a) in enumerate(rows):
            seq = p + a
            ids[r, :len(seq)] = seq
            mask[r, :len(seq)] = True
            valid[r, len(p) - 1:len(seq) - 1] = True
            target[r, len(p) - 1:len(seq) - 1] = a
        positions = np.broadcast_to(np.arange(length), ids.shape)
        e_hidden, _ = expert(ids, positions, mask)
        a_hidden, _ = amateur(ids, positions, mask)
        e_logits, a_logits = expert.logits(e_hidden), amateur.logits(a_hidden)
        result = contrast(e_logits, a_logits, alpha=args.alpha, beta=args.beta, top_k=16, valid=jnp.asarray(valid))
        expert_pick = np.asarray(jnp.argmax(e_logits, -1))
        weights = np.asarray(result.target_weights)
        # the contrast's own argmax (target_ids are in descending p_E order)
        contrast_pick = np.take_along_axis(np.asarray(result.target_ids), weights.argmax(-1)[..., None], -1)[..., 0]
        kept = np.asarray(result.selected)
        e_right, c_right = (expert_pick == target) & valid, (contrast_pick == target) & valid
        counts['steps'] += int(valid.sum())
        counts['expert_right'] += int(e_right.sum())
        counts['contrast_right'] += int(c_right.sum())
        counts['kept'] += int(kept.sum())
        counts['kept_expert_right'] += int((e_right & kept).sum())
        counts['kept_contrast_right'] += int((c_right & kept).sum())
        counts['fixed_by_contrast'] += int((c_right & ~e_right & valid).sum())
        counts['broken_by_contrast'] += int((e_right & ~c_right & valid).sum())
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    report = {'expert': os.path.relpath(args.expert, root), 'amateur': os.path.relpath(args.amateur, root), 'alpha': args.alpha, 'beta': args.beta,
              'problems': len(questions), **counts,
              'expert_step_accuracy': counts['expert_right'] / counts['steps'],
              'contrast_step_accuracy': counts['contrast_right'] / counts['steps'],
              'kept_expert_step_accuracy': counts['kept_expert_right'] / max(counts['kept'], 1),
              'kept_contrast_step_accuracy': counts['kept_contrast_right'] / max(counts['kept'], 1)}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
