"""How the toy world's shipped models were made: `python -m lightreasoner_jax.pipeline.build_toyworld
--config=configs/toyworld.py --workdir=DIR [--install]`.

The problems, the tokenizer and two Qwen2-architecture models trained from scratch with the
project's own `sft` objective (train stage, full fine-tuning) on the same train split: a deeper,
longer-trained expert and a shallow, briefly trained amateur (the paper's balance principle:
clearly worse, still fluent). Every step is seeded, so a rebuild gives the same models on the
same platform.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling


def _model(layers: int, steps: int, seed: int) -> ml_collections.ConfigDict:
    return ml_collections.ConfigDict(dict(
        num_layers=layers,
        hidden_size=128,
        intermediate_size=384,
        num_heads=4,              # head_dim 32
        num_kv_heads=2,           # grouped-query attention, as Qwen2.5
        init_seed=seed,
        steps=steps,              # optimizer updates of the SFT run
        learning_rate=2e-3,
        warmup_steps=100,
    ))


def get_config() -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.world = ml_collections.ConfigDict(dict(
        train_size=20000,         # problems in the train split (SFT of both models, and LightReasoner's questions)
        test_size=500,            # held-out problems (evaluation)
        seed=0,
    ))
    c.tokenizer = ml_collections.ConfigDict(dict(vocab_size=512))
    c.system_prompt = 'Please reason step by step.'
    c.expert = _model(layers=4, steps=2000, seed=1)
    c.amateur = _model(layers=1, steps=300, seed=2)
    c.save_dtype = 'bfloat16'      # shipped weight dtype (half the bytes; accuracy is measured after rounding)
    c.eval_limit = 500             # test problems evaluated after building (0 = all)

    # The pipeline config of each SFT run (the build fills in model paths, data and the model's steps).
    sft = load_sibling(__file__, 'default.py')
    sft.mesh.data, sft.mesh.fsdp = -1, 1
    sft.expert.dtype = 'float32'
    sft.data.id_field = 'id'
    sft.data.system_prompt = c.system_prompt
    sft.train.update(dict(objective='sft', method='full', positions_per_update=1024, length_bucket=32,
                          log_every=50))
    sft.train.optim.update(dict(schedule='cosine', weight_decay=0.01, clip_norm=1.0))
    sft.train.checkpoint.update(dict(save_every=250, max_to_keep=1))
    c.sft = sft
    return c
