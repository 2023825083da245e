"""The reference LightReasoner sampling procedure, in PyTorch + transformers, on token ids.

Expert `generate` one question at a time with output scores; the amateur re-run once per step on
prompt + completion[:step] (right-padded batches, read at each row's last real token); full-vocab
KL with the reference's 1e-12 smoothing. Used as the parity oracle and the benchmark baseline.
"""

import torch
import torch.nn.functional as F


def reference_sample(expert, amateur, prompt_ids, *, max_new_tokens, eos_ids, pad_id, alpha, beta,
                     amateur_batch=64, first_step=1, follow_generation_config=False):
    """One question. Returns (completion_ids, {step: (kl, {token_id: weight})} for kept steps,
    {step: kl} for all candidate steps). follow_generation_config: call `generate` without do_sample, as
    LightR_sampling.py does, so the expert's generation config decides (seed torch first)."""
    inputs = torch.tensor([prompt_ids], dtype=torch.long)
    sampling = {} if follow_generation_config else {'do_sample': False}
    with torch.no_grad():
        out = expert.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs),
                              max_new_tokens=max_new_tokens, output_scores=True, **sampling,
                              return_dict_in_generate=True, eos_token_id=list(eos_ids), pad_token_id=pad_id)
    completion = out.sequences[0, len(prompt_ids):].tolist()
    expert_probs = [F.softmax(s[0].float(), dim=-1) for s in out.scores]
    prefixes = [torch.tensor(prompt_ids + completion[:step]) for step in range(first_step, len(completion))]
    amateur_probs = []
    with torch.no_grad():
        for i in range(0, len(prefixes), amateur_batch):
            chunk = prefixes[i:i + amateur_batch]
            padded = torch.nn.utils.rnn.pad_sequence(chunk, batch_first=True, padding_value=pad_id)
            mask = torch.zeros_like(padded)
            for row, p in enumerate(chunk):
                mask[row, :len(p)] = 1
            logits = amateur(padded, attention_mask=mask).logits
            for row, p in enumerate(chunk):
                amateur_probs.append(F.softmax(logits[row, len(p) - 1].float(), dim=-1))
    kept, candidates = {}, {}
    for j, step in enumerate(range(first_step, len(completion))):
        pe, pa = expert_probs[step], amateur_probs[j]
        v = min(pe.shape[0], pa.shape[0])
        pe, pa = pe[:v], pa[:v]
        kl = F.kl_div((pa + 1e-12).log(), pe + 1e-12, reduction='sum').item()
        candidates[step] = kl
        if kl < beta:
            continue
        plausible = pe >= alpha * pe.max()
        scores = (torch.log(pe + 1e-12) - torch.log(pa + 1e-12))[plausible]
        weights = torch.softmax(scores, dim=-1)
        ids = torch.arange(v)[plausible].tolist()
        kept[step] = (kl, dict(zip(ids, weights.tolist())))
    return completion, kept, candidates
