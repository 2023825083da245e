"""Synthetic sample records and a tiny expert for training tests."""

import numpy as np

from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.variants import apply_overrides
from lightreasoner_jax.sampling import store as samples_lib
from lightreasoner_jax.sampling.records import SampleRecord
from tests.tiny_models import build_torch_model

VOCAB = 96


def synthetic_records(n: int, seed: int = 0, vocab: int = VOCAB, top_k: int = 5):
    rng = np.random.RandomState(seed)
    records = []
    for i in range(n):
        prompt = rng.randint(3, vocab, rng.randint(4, 12)).tolist()
        completion = rng.randint(3, vocab, rng.randint(6, 20)).tolist()
        steps = sorted(rng.choice(np.arange(1, len(completion)), rng.randint(1, min(8, len(completion) - 1) + 1),
                                  replace=False).tolist())
        ids, weights, expert = [], [], []
        for _ in steps:
            k = rng.randint(1, top_k + 1)
            ids.append(rng.choice(vocab, k, replace=False).tolist())
            w = rng.dirichlet(np.ones(k)).tolist()
            weights.append(w)
            expert.append(rng.dirichlet(np.ones(k)).tolist())
        records.append(SampleRecord(id=f'r{i}', prompt_ids=prompt, completion_ids=completion, steps=steps,
                                    kl=rng.uniform(0.1, 2.0, len(steps)).tolist(), target_ids=ids,
                                    target_weights=weights, expert_weights=expert))
    return records


def write_expert_and_samples(root, n_records=12, seed=0):
    build_torch_model('qwen2_untied', VOCAB, seed=5).save_pretrained(root / 'expert')
    records = synthetic_records(n_records, seed)
    (root / 'work' / 'samples').mkdir(parents=True)
    samples_lib.append_records(root / 'work' / 'samples' / samples_lib.sample_file_name(0, 1), records)
    return records


def train_config(root, **overrides):
    config = load_config_file('configs/default.py')
    config.unlock()
    config.stages = ('train',)
    config.expert.path = str(root / 'expert')
    config.expert.dtype = 'float32'
    config.train.optim.num_steps = 12
    config.train.optim.learning_rate = 1e-2
    config.train.positions_per_update = 8
    config.train.length_bucket = 16
    config.train.log_every = 1
    config.train.checkpoint.save_every = 4
    config.train.checkpoint.async_save = False
    config.train.lora.targets = ('q_proj', 'v_proj', 'down_proj')
    return apply_overrides(config, overrides)
