"""A tiny expert/amateur pair with a chat tokenizer, saved as HF checkpoints, and a question file."""

import json

from lightreasoner_jax.pipeline.config_files import load_config_file
from lightreasoner_jax.pipeline.variants import apply_overrides
from tests.chat_tokenizer import make_chat_tokenizer
from tests.tiny_models import build_torch_model

QUESTIONS = [
    'Tom has 3 apples and buys 4 more. How many apples does he have?',
    'A box holds 12 pens. How many pens are in 5 boxes?',
    'Sara had 20 dollars and spent 7. How much is left?',
    'There are 9 birds and 6 fly away. How many birds remain?',
    'Each bag has 8 candies. How many candies are in 3 bags?',
    'Ben reads 15 pages a day. How many pages in 4 days?',
    'A farmer has 30 eggs and sells 12. How many eggs are left?',
    'Lily has 2 cats and 5 dogs. How many pets does she have?',
    'A train travels 60 miles each hour. How far in 3 hours?',
    'Max splits 24 cookies among 6 friends. How many each?',
]


def write_pair(root, expert_layers=2, amateur_layers=1):
    """root/expert and root/amateur: Qwen2 checkpoints sharing one chat tokenizer; root/questions.jsonl."""
    tokenizer = make_chat_tokenizer(QUESTIONS)
    vocab = len(tokenizer)
    # The vocabularies differ (padded embedding rows past the tokenizer, as Qwen2.5 checkpoints).
    for name, layers, seed, extra_vocab in (('expert', expert_layers, 1, 0), ('amateur', amateur_layers, 2, 8)):
        model = build_torch_model('qwen2_untied', vocab_size=vocab + extra_vocab, seed=seed,
                                  num_hidden_layers=layers, bos_token_id=None, eos_token_id=2, pad_token_id=0)
        model.save_pretrained(root / name)
        tokenizer.save_pretrained(root / name)
    with open(root / 'questions.jsonl', 'w') as f:
        for i, q in enumerate(QUESTIONS):
            f.write(json.dumps({'question': q, 'answer': '#### 0', 'id': f'toy-{i}'}) + '\n')
    return tokenizer


def pipeline_config(root, **overrides):
    config = load_config_file('configs/default.py')
    config.unlock()
    config.stages = ('sample',)
    config.expert.path = str(root / 'expert')
    config.amateur.path = str(root / 'amateur')
    config.expert.dtype = config.amateur.dtype = 'float32'
    config.data.source = str(root / 'questions.jsonl')
    config.data.id_field = 'id'
    config.generation.max_new_tokens = 12
    config.generation.batch_size = 4
    config.generation.bucket = 32
    config.contrast.beta = 0.42  # about the median KL of this random pair
    config.contrast.top_k = 8
    return apply_overrides(config, overrides)
