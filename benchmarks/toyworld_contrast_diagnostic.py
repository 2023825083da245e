"""Does the contrast know better than the expert? On a toy world's gold solutions, teacher-forced, at every
answer token: is the expert's argmax right, and is the contrast's argmax (softmax(log p_E - log p_A) over the
plausible set) right? Counts over every step and over the kept ones (KL >= beta), with the kept steps'
plausible-set sizes (lightreasoner_jax/sampling/diagnostic.py; the pipeline's `diagnose` stage runs the same).

python benchmarks/toyworld_contrast_diagnostic.py [--world=habits] [--limit=500] [--source=...]
Writes benchmarks/results/toyworld_contrast_diagnostic_<world>.json.
"""

import argparse
import json
import os

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import load_questions
from lightreasoner_jax.models import load_hf, load_tokenizer
from lightreasoner_jax.sampling import ContrastConfig
from lightreasoner_jax.sampling.diagnostic import contrast_diagnostic
from lightreasoner_jax.toyworld.assets import model_path

RESULTS = os.path.join(os.path.dirname(__file__), 'results')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--world', default='habits', choices=('clean', 'habits'))
    parser.add_argument('--limit', type=int, default=500)
    parser.add_argument('--alpha', type=float, default=0.2)
    parser.add_argument('--beta', type=float, default=0.4)
    parser.add_argument('--source', default='', help="gold solutions (default: the world's train split)")
    args = parser.parse_args()
    source = args.source or ('toyworld:train' if args.world == 'clean' else 'toyworld:habits:train')
    mesh = shd.make_mesh(data=-1, fsdp=1)
    expert_path, amateur_path = model_path(args.world, 'expert'), model_path(args.world, 'amateur')
    tokenizer = load_tokenizer(expert_path)
    questions, _ = load_questions(source, id_field='id', limit=args.limit)
    report = contrast_diagnostic(load_hf(expert_path, mesh=mesh, dtype='float32'),
                                 load_hf(amateur_path, mesh=mesh, dtype='float32'), tokenizer, questions,
                                 config=ContrastConfig(alpha=args.alpha, beta=args.beta, top_k=16),
                                 eos_id=tokenizer.eos_token_id, system_prompt='Please reason step by step.')
    report = {'world': args.world, 'source': source, 'alpha': args.alpha, 'beta': args.beta, **report}
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f'toyworld_contrast_diagnostic_{args.world}.json'), 'w') as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
