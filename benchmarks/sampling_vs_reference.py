"""Sampling throughput: our `sample` stage vs the reference procedure, same models, same questions.

Reference (HKUDS/LightReasoner's LightR_sampling.py, re-implemented here on transformers' PyTorch
models): per question, expert `generate` with batch 1 and output scores; then for every step the
decoded answer prefix is appended to the templated prompt text, re-tokenised, and the amateur is run
on those prefixes in right-padded batches of 64; full-vocab KL, plausible set, contrastive weights.

Ours: the sample stage (`lightreasoner_jax.pipeline.sample_stage.run`) (batched KV-cache decode, one teacher-forced forward per model).
Both run on this machine's CPU, one after the other in this process. Kept-step agreement is
measured per question on the steps both consider.

    python benchmarks/sampling_vs_reference.py --questions=64 --max_new_tokens=128
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import jax
import torch
import torch.nn.functional as F
import transformers

from benchmarks.compile_time import CompileTimer
from lightreasoner_jax import sharding as shd
from lightreasoner_jax.pipeline import sample_stage
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store as samples_lib
from tests.chat_tokenizer import make_chat_tokenizer
from tests.tiny_models import build_torch_model

SYSTEM_PROMPT = 'Please reason step by step.'


def load_gsm8k_questions(n: int) -> list[str]:
    path = ROOT.parent / 'shared' / 'data' / 'gsm8k' / 'train.jsonl'
    if not path.exists():
        raise SystemExit(f'{path} not found: the benchmark uses GSM8K questions from the shared folder')
    with open(path) as f:
        return [json.loads(line)['question'] for _, line in zip(range(n), f)]


def build_models(root: Path, questions: list[str], vocab_size: int):
    tokenizer = make_chat_tokenizer(questions, vocab_size=vocab_size)
    vocab = len(tokenizer)
    shapes = {'expert': dict(hidden_size=256, intermediate_size=768, num_hidden_layers=4, num_attention_heads=8,
                             num_key_value_heads=2),
              'amateur': dict(hidden_size=128, intermediate_size=384, num_hidden_layers=2, num_attention_heads=4,
                              num_key_value_heads=2)}
    for seed, (name, shape) in enumerate(shapes.items(), start=1):
        model = build_torch_model('qwen2_untied', vocab_size=vocab, seed=seed, bos_token_id=None, eos_token_id=2,
                                  pad_token_id=0, max_position_embeddings=1024, **shape)
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    return tokenizer


def reference_sampling(expert, amateur, tokenizer, questions, *, max_new_tokens, alpha, beta, batch_size=64):
    """The reference procedure; returns {question index: {step: kl}} for kept steps."""
    kept_all = {}
    for index, question in enumerate(questions):
        messages = [{'role': 'system', 'content': SYSTEM_PROMPT}, {'role': 'user', 'content': question}]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = tokenizer([text], return_tensors='pt')
        with torch.no_grad():
            out = expert.generate(**inputs, max_new_tokens=max_new_tokens, output_scores=True,
                                  return_dict_in_generate=True, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        targets = out.sequences[0][inputs.input_ids.shape[1]:].tolist()
        expert_probs = [F.softmax(s[0], dim=-1) for s in out.scores]
        prefixes = [tokenizer(text + tokenizer.decode(targets[:step]), return_tensors='pt').input_ids[0]
                    for step in range(1, len(targets))]
        amateur_probs = []
        with torch.no_grad():
            for i in range(0, len(prefixes), batch_size):
                chunk = prefixes[i:i + batch_size]
                padded = torch.nn.utils.rnn.pad_sequence(chunk, batch_first=True, padding_value=tokenizer.pad_token_id)
                logits = amateur(padded, attention_mask=(padded != tokenizer.pad_token_id).long()).logits
                for j, seq in enumerate(chunk):
                    amateur_probs.append(F.softmax(logits[j, len(seq) - 1], dim=-1))
        kept = {}
        for step in range(1, len(targets)):
            pe, pa = expert_probs[step], amateur_probs[step - 1]
            v = min(pe.shape[0], pa.shape[0])
            pe, pa = pe[:v], pa[:v]
            kl = F.kl_div((pa + 1e-12).log(), pe + 1e-12, reduction='sum').item()
            if kl < beta:
                continue
            mask = pe >= alpha * pe.max()
            torch.softmax((torch.log(pe + 1e-12) - torch.log(pa + 1e-12))[mask], dim=-1)  # the targets
            kept[step] = kl
        kept_all[index] = kept
    return kept_all


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--questions', type=int, default=64)
    parser.add_argument('--reference_questions', type=int, default=0, help='0: as many as --questions')
    parser.add_argument('--max_new_tokens', type=int, default=128)
    parser.add_argument('--batch_size', type=int, default=64)
    parser.add_argument('--vocab_size', type=int, default=1024)
    parser.add_argument('--beta', type=float, default=0.0, help='0: the median candidate KL of our run')
    parser.add_argument('--out', default=str(ROOT / 'benchmarks' / 'results' / 'sampling_vs_reference.json'))
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())

    questions = load_gsm8k_questions(args.questions)
    root = Path(tempfile.mkdtemp(prefix='lr_bench_'))
    tokenizer = build_models(root, questions, args.vocab_size)
    with open(root / 'questions.jsonl', 'w') as f:
        for i, q in enumerate(questions):
            f.write(json.dumps({'id': f'g{i}', 'question': q}) + '\n')

    def our_config(beta):
        config = load_config_file(str(ROOT / 'configs' / 'default.py'))
        config.unlock()
        config.expert.path, config.amateur.path = str(root / 'expert'), str(root / 'amateur')
        config.expert.dtype = config.amateur.dtype = 'float32'
        config.data.source, config.data.id_field = str(root / 'questions.jsonl'), 'id'
        config.generation.max_new_tokens = args.max_new_tokens
        config.generation.batch_size = args.batch_size
        config.contrast.beta = beta
        return config

    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    beta = args.beta
    if beta == 0.0:  # pick beta so that about half the steps are kept: agreement then means something
        sample_stage.run(our_config(0.0), Workdir(root / 'calibrate'), mesh)
        stats = json.loads((root / 'calibrate' / 'samples' / 'stats.json').read_text())
        beta = stats['kl_quantiles']['0.5']

    jax.clear_caches()  # the measured run compiles as a fresh process would
    timer = CompileTimer()
    start = time.perf_counter()
    sample_stage.run(our_config(beta), Workdir(root / 'ours'), mesh)
    ours_seconds = time.perf_counter() - start
    compile_seconds = timer.seconds
    ours_stats = json.loads((root / 'ours' / 'samples' / 'stats.json').read_text())
    records = {r.id: r for r in samples_lib.read_samples(root / 'ours' / 'samples')}

    expert = transformers.AutoModelForCausalLM.from_pretrained(root / 'expert', dtype=torch.float32).eval()
    amateur = transformers.AutoModelForCausalLM.from_pretrained(root / 'amateur', dtype=torch.float32).eval()
    n_ref = args.reference_questions or args.questions
    start = time.perf_counter()
    reference = reference_sampling(expert, amateur, tokenizer, questions[:n_ref], max_new_tokens=args.max_new_tokens,
                                   alpha=0.2, beta=beta)
    reference_seconds = time.perf_counter() - start

    agree = both = only_ours = only_ref = 0
    for index, ref_kept in reference.items():
        ours_kept = set(records[f'g{index}'].steps)
        agree += len(ours_kept & set(ref_kept))
        only_ours += len(ours_kept - set(ref_kept))
        only_ref += len(set(ref_kept) - ours_kept)
        both += 1
    union = agree + only_ours + only_ref
    result = {
        'machine': f'{os.cpu_count()} CPU cores, jax {jax.__version__} ({jax.default_backend()}), torch {torch.__version__}',
        'models': f'expert qwen2 4x256 (GQA 8/2), amateur qwen2 2x128, vocab {len(tokenizer)}, float32',
        'questions': args.questions, 'reference_questions': n_ref, 'max_new_tokens': args.max_new_tokens,
        'batch_size': args.batch_size, 'beta': beta, 'alpha': 0.2,
        'ours_seconds_incl_load_and_compile': ours_seconds,
        'ours_problems_per_s': args.questions / ours_seconds,
        'ours_compile_seconds': compile_seconds, 'ours_backend_compiles': timer.backend_compiles,
        'ours_problems_per_s_excluding_compile': args.questions / (ours_seconds - compile_seconds),
        'reference_seconds': reference_seconds,
        'reference_problems_per_s': n_ref / reference_seconds,
        'speedup': (args.questions / ours_seconds) / (n_ref / reference_seconds),
        'speedup_excluding_compile': (args.questions / (ours_seconds - compile_seconds)) / (n_ref / reference_seconds),
        'ours_kept_steps': ours_stats['kept_steps'], 'ours_candidate_steps': ours_stats['candidate_steps'],
        'kept_step_agreement': {'questions_compared': both, 'both': agree, 'only_ours': only_ours,
                                'only_reference': only_ref, 'jaccard': agree / union if union else 1.0},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
