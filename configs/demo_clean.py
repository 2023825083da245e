"""The clean toy world (both models learned only correct solutions), end to end on a laptop CPU in minutes:
the counterexample to configs/demo.py, where LightReasoner has nothing of the amateur's to subtract.

python -m lightreasoner_jax.main --config=configs/demo_clean.py --workdir=/tmp/lr_demo_clean

Baseline evaluation of the shipped toy expert, contrastive sampling against the shipped amateur,
LoRA fine-tuning on the kept steps, export, evaluation of the tuned expert, report.
configs/demo_full.py runs it beside the habit world (configs/demo.py), with the baselines and ablations.
"""

import ml_collections

from lightreasoner_jax.pipeline.config_files import load_sibling
from lightreasoner_jax.toyworld.assets import AMATEUR_PATH, EXPERT_PATH

TOY_SYSTEM_PROMPT = 'Please reason step by step.'  # the prompt the toy models were trained with


def get_config() -> ml_collections.ConfigDict:
    c = load_sibling(__file__, 'default.py')
    c.stages = ('eval_base', 'sample', 'train', 'export', 'eval', 'report')
    c.mesh.data, c.mesh.fsdp = -1, 1
    c.expert.path, c.expert.dtype = str(EXPERT_PATH), 'float32'
    c.amateur.path, c.amateur.dtype = str(AMATEUR_PATH), 'float32'

    c.data.update(dict(source='toyworld:train', id_field='id', limit=1000, system_prompt=TOY_SYSTEM_PROMPT))
    c.generation.update(dict(max_new_tokens=96, batch_size=128, bucket=32))
    c.contrast.update(dict(alpha=0.2, beta=0.4, top_k=16))

    c.train.update(dict(method='lora', positions_per_update=64, length_bucket=32, log_every=10))
    c.train.lora.update(dict(targets=('q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'),
                             rank=8, alpha=16.0, dropout=0.0))
    c.train.optim.update(dict(learning_rate=1e-3, num_steps=150, warmup_steps=10))
    c.train.checkpoint.update(dict(save_every=50, max_to_keep=1))
    c.export.dtype = 'float32'

    c.eval.update(dict(kind='gsm8k', system_prompt=TOY_SYSTEM_PROMPT, max_new_tokens=96, batch_size=128,
                       bucket=32))
    c.eval.data.update(dict(source='toyworld:test', id_field='id'))
    return c
