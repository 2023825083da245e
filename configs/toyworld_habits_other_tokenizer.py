"""The habit world's amateur again, with a tokenizer of its own (384 tokens instead of the world's 512), for the
cross-tokenizer contrast's measurement (configs/demo_cross_tokenizer.py): the same corpus, architecture, seed
and training as the shipped amateur; only the tokenizer differs. Not shipped.

python -m lightreasoner_jax.pipeline.build_toyworld --config=configs/toyworld_habits_other_tokenizer.py --workdir=DIR
(the amateur is DIR/amateur/export/merged)
"""

from lightreasoner_jax.pipeline.config_files import load_sibling


def get_config():
    c = load_sibling(__file__, 'toyworld_habits.py')
    c.models = ('amateur',)
    c.amateur.tokenizer_vocab_size = 384
    return c
