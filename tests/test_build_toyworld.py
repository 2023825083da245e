"""The toy world build's per-model options: one model rebuilt with a tokenizer of its own (the
cross-tokenizer contrast's amateur, configs/toyworld_habits_other_tokenizer.py)."""

import json

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_tokenizer
from lightreasoner_jax.pipeline.build_toyworld import build
from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.workdir import Workdir


def test_an_amateur_rebuilt_alone_with_its_own_tokenizer(tmp_path):
    cfg = load_config_file('configs/toyworld_habits_other_tokenizer.py')
    cfg.world.update(dict(generic_size=200, train_size=100, dev_size=8, test_size=8, basics_size=50))
    cfg.amateur.update(dict(phases=(('generic', 2, 2e-3),), hidden_size=32, intermediate_size=64,
                            tokenizer_vocab_size=300))
    cfg.eval_limit = 4
    cfg.eval_max_new_tokens = 8
    cfg.sft.train.positions_per_update = 64
    world = build(cfg, Workdir(tmp_path), shd.make_mesh(data=1, fsdp=-1, tensor=1))
    assert list(world['models']) == ['amateur']  # the expert is not rebuilt
    tokenizer = load_tokenizer(world['models']['amateur']['path'])
    assert len(tokenizer) == 300 != cfg.tokenizer.vocab_size
    config = json.loads((tmp_path / 'amateur' / 'export' / 'merged' / 'config.json').read_text())
    assert config['vocab_size'] == 300 and config['num_hidden_layers'] == 2
    assert world['models']['amateur']['dev_evaluated'] == 4
