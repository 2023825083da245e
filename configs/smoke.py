"""The smallest working job: the model foundation end to end on a tiny random Qwen2 model.

python -m lightreasoner_jax.main --config=configs/smoke.py --workdir=/tmp/lr_smoke
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.stages = ('model_check',)  # stages to run, in order
    config.coordinator_address = ''   # multi-host: set, or leave empty for auto-detection

    # Device mesh; one axis may be -1 to take all remaining devices.
    config.mesh = ml_collections.ConfigDict(dict(data=1, fsdp=-1, tensor=1))

    config.model_check = mc = ml_collections.ConfigDict()
    mc.checkpoint = ''      # an HF checkpoint directory to check; empty: a random model as below
    mc.seed = 0             # parameter init and test batch
    mc.batch_size = 4       # rows of the left-padded test batch (a multiple of data*fsdp)
    mc.length = 16          # tokens per row
    mc.tolerance = 1e-4     # max |logit difference| allowed (float32)
    mc.random_model = ml_collections.ConfigDict(dict(  # the fields of models.ModelConfig
        model_type='qwen2', vocab_size=512, hidden_size=128, intermediate_size=384, num_layers=4,
        num_heads=8, num_kv_heads=2, head_dim=16, qkv_bias=True, tie_word_embeddings=True,
        eos_token_ids=(2,)))
    return config
