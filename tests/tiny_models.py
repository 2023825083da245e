"""Tiny random transformers' PyTorch models, saved as HF checkpoints, for parity tests."""

import numpy as np
import torch
import transformers
from tokenizers import Tokenizer, models, pre_tokenizers

FAMILIES = {
    # name: (config class, model class, extra config)
    'qwen2_untied': ('Qwen2Config', 'Qwen2ForCausalLM', dict(tie_word_embeddings=False)),
    'qwen2_tied': ('Qwen2Config', 'Qwen2ForCausalLM', dict(tie_word_embeddings=True)),
    'llama3': ('LlamaConfig', 'LlamaForCausalLM', dict(
        tie_word_embeddings=False, attention_bias=True, mlp_bias=True,
        rope_parameters={'rope_type': 'llama3', 'rope_theta': 500000.0, 'factor': 8.0, 'low_freq_factor': 1.0,
                         'high_freq_factor': 4.0, 'original_max_position_embeddings': 16})),
    'mistral_window': ('MistralConfig', 'MistralForCausalLM', dict(tie_word_embeddings=False, sliding_window=5)),
}


def build_torch_model(family: str, vocab_size: int = 96, seed: int = 0, **overrides):
    config_cls, model_cls, extra = FAMILIES[family]
    kwargs = dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=112, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                  rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    kwargs.update(extra)
    kwargs.update(overrides)
    config = getattr(transformers, config_cls)(**kwargs)
    config._attn_implementation = 'eager'
    torch.manual_seed(seed)
    model = getattr(transformers, model_cls)(config).eval()
    with torch.no_grad():  # random everything, biases and norms included, so a mapping slip shows
        for param in model.parameters():
            param.normal_(0.0, 0.08)
        for name, param in model.named_parameters():
            if name.endswith('norm.weight'):
                param.add_(1.0)
    return model


def left_padded_batch(vocab_size: int, lengths, seed: int = 0):
    """ids [B,T] int32, mask [B,T] bool, positions [B,T] int32 for left-padded rows of `lengths`."""
    rng = np.random.RandomState(seed)
    T = max(lengths)
    ids = rng.randint(3, vocab_size, (len(lengths), T)).astype(np.int32)
    mask = np.zeros((len(lengths), T), bool)
    for row, n in enumerate(lengths):
        mask[row, T - n:] = True
    ids[~mask] = 0
    positions = np.maximum(np.cumsum(mask, axis=1) - 1, 0).astype(np.int32)
    return ids, mask, positions


def torch_logits(model, ids, mask, positions) -> np.ndarray:
    with torch.no_grad():
        out = model(input_ids=torch.tensor(ids, dtype=torch.long),
                    attention_mask=torch.tensor(mask.astype(np.int64)),
                    position_ids=torch.tensor(positions, dtype=torch.long))
    return out.logits.float().numpy()


def make_tokenizer(words, special=('<|im_start|>', '<|im_end|>')):
    """A word-level fast tokenizer over `words` (ids in order), special tokens appended."""
    vocab = {w: i for i, w in enumerate(words)}
    core = Tokenizer(models.WordLevel(vocab, unk_token=words[0]))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=core, unk_token=words[0])
    tokenizer.add_special_tokens({'additional_special_tokens': list(special)})
    return tokenizer
