"""How transformers' `generate` would sample from a checkpoint when called without sampling arguments, as the
reference's LightR_sampling.py calls it: its generation_config.json decides (DeepSeek-R1-Distill-Qwen-1.5B:
temperature 0.6, top-p 0.95), and transformers fills what the file leaves unset with its own defaults
(temperature 1.0, top-k 50, top-p 1.0). Warpers we do not implement are refused, not ignored.
"""

from __future__ import annotations

import json

from etils import epath

from lightreasoner_jax.generation.decode import SamplingConfig

# transformers' defaults for the fields a generation_config.json leaves unset (GenerationConfig's
# _get_default_generation_params in transformers 5; the same values as in 4.x)
HF_DEFAULTS = {'do_sample': False, 'temperature': 1.0, 'top_k': 50, 'top_p': 1.0}
# fields that change the distribution sampled from, with the value at which they do nothing
UNSUPPORTED = {'repetition_penalty': 1.0, 'typical_p': 1.0, 'min_p': None, 'top_h': None, 'epsilon_cutoff': 0.0,
               'eta_cutoff': 0.0, 'no_repeat_ngram_size': 0, 'num_beams': 1, 'penalty_alpha': None}


class GenerationConfigError(ValueError):
    """A checkpoint's generation_config.json asks for sampling we cannot reproduce."""


def checkpoint_sampling(checkpoint_dir, max_new_tokens: int, config_file=None) -> SamplingConfig:
    """The SamplingConfig `generate` would use for the checkpoint at `checkpoint_dir` (a local directory), or,
    given `config_file`, for any checkpoint whose generation_config.json that file is (it must exist)."""
    path = epath.Path(config_file) if config_file else epath.Path(checkpoint_dir) / 'generation_config.json'
    if config_file and not path.exists():
        raise GenerationConfigError(f'{path}: no such generation config file')
    try:
        values = json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError as error:
        raise GenerationConfigError(f'{path}: not a JSON generation config ({error})') from None
    if not isinstance(values, dict):
        raise GenerationConfigError(f'{path}: not a JSON object')
    for field, neutral in UNSUPPORTED.items():
        if values.get(field) is not None and values[field] != neutral:
            raise GenerationConfigError(f'{path}: {field}={values[field]!r} is not supported by the reference-'
                                        'compatible mode (temperature, top_k and top_p are)')
    resolved = {k: HF_DEFAULTS[k] if values.get(k) is None else values[k] for k in HF_DEFAULTS}
    if not resolved['do_sample']:
        return SamplingConfig(max_new_tokens=max_new_tokens)  # greedy: the scores are the raw logits
    return SamplingConfig(max_new_tokens=max_new_tokens, temperature=float(resolved['temperature']),
                          top_k=int(resolved['top_k']), top_p=float(resolved['top_p']))
