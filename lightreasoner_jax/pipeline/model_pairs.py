"""Expert/amateur tokenizer pairs and the expert's stop tokens, checked before any stage runs.

Only tokenizers and config.json files are read, so a pair whose ordinary vocabularies differ, or a
stop token the expert's tokenizer lacks, fails in seconds, not after a baseline evaluation of hours.
"""

from __future__ import annotations

from absl import logging

from lightreasoner_jax.models import (
    ModelConfig,
    SpecialTokenDifference,
    check_tokenizers_compatible,
    describe_special_differences,
    load_tokenizer,
    local_dir,
    token_ids,
)
from lightreasoner_jax.pipeline import settings
from lightreasoner_jax.pipeline.amateurs import amateur_kind, check_amateur, needs_tokenizer_check
from lightreasoner_jax.pipeline.rounds import is_later_round
from lightreasoner_jax.pipeline.variants import split_name, stage_context
from lightreasoner_jax.pipeline.workdir import Workdir

# Stages that contrast the expert with the amateur.
PAIR_STAGES = ('sample', 'diagnose')


def special_token_policy(config) -> str:
    return config.amateur.get('special_token_differences', 'allow')


def check_pair(config, expert_tokenizer=None, *, warn: bool = True) -> tuple[SpecialTokenDifference, ...]:
    """The special ids where the two tokenizers differ (raises TokenizerMismatchError where their ordinary
    vocabularies do, or on any difference under amateur.special_token_differences='refuse')."""
    expert_tokenizer = expert_tokenizer or load_tokenizer(config.expert.path)
    shared = min(ModelConfig.from_hf(local_dir(config.expert.path)).vocab_size,
                 ModelConfig.from_hf(local_dir(config.amateur.path)).vocab_size)
    differences = check_tokenizers_compatible(expert_tokenizer, load_tokenizer(config.amateur.path), shared,
                                              special_differences=special_token_policy(config))
    if differences and warn:
        logging.warning('%s', describe_special_differences(differences))
    return differences


def check_before_stages(config, workdir: Workdir) -> None:
    """Every configured stage's expert/amateur pair and stop tokens (variants with their overrides), once each;
    each expert tokenizer is read once."""
    seen, tokenizers = set(), {}

    def expert_tokenizer(path):
        if path not in tokenizers:
            tokenizers[path] = load_tokenizer(path)
        return tokenizers[path]

    for stage in config.stages:
        name, _ = split_name(stage)
        if is_later_round(config, stage):  # its expert is an earlier round's export, not there yet
            continue
        stage_config = stage_context(config, workdir, stage)[0]
        if name in PAIR_STAGES:
            key = ('pair', stage_config.expert.path, stage_config.amateur.path, special_token_policy(stage_config),
                   amateur_kind(stage_config), stage_config.amateur.get('layers'),
                   stage_config.contrast.get('reference_compatible'), stage_config.contrast.get('generation_config'))
            if key not in seen:
                seen.add(key)
                check_amateur(stage_config)
                settings.sampling(stage_config)  # reference_compatible: the expert's generation_config.json
                if needs_tokenizer_check(stage_config):
                    check_pair(stage_config, expert_tokenizer(stage_config.expert.path))
        if 'expert' not in stage_config:  # model_check works on its own checkpoint
            continue
        tokens = settings.stop_tokens(stage_config)
        if tokens and name != 'report' and ('stop', stage_config.expert.path, tokens) not in seen:
            seen.add(('stop', stage_config.expert.path, tokens))
            token_ids(expert_tokenizer(stage_config.expert.path), tokens, stage_config.expert.path)
