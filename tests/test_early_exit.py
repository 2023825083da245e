"""amateur.kind='early_exit' (the expert's own first layers) and 'checkpoint' (an earlier expert): parity with
transformers, the shared pass against a separate truncated model, the config checks, resume."""

import json

import numpy as np
import pytest

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.models.early_exit import EarlyExit
from lightreasoner_jax.pipeline import sample_stage
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.model_pairs import check_before_stages
from lightreasoner_jax.pipeline.validation import ConfigError, validate
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store
from tests.pipeline_fixtures import QUESTIONS, pipeline_config, write_pair
from tests.tiny_models import build_torch_model, left_padded_batch, torch_logits

EXPERT_LAYERS, EXIT = 3, 2
BETA = 0.09  # about the median KL between this random expert and its early exit


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    """root/expert (3 layers), root/amateur, and root/truncated: the expert's first 2 layers saved as a model."""
    root = tmp_path_factory.mktemp('early_exit')
    tokenizer = write_pair(root, expert_layers=EXPERT_LAYERS)
    truncated = type(build_torch_model('qwen2_untied')).from_pretrained(root / 'expert')
    truncated.model.layers = truncated.model.layers[:EXIT]
    truncated.config.num_hidden_layers = EXIT
    truncated.config.layer_types = truncated.config.layer_types[:EXIT]
    truncated.save_pretrained(root / 'truncated')
    tokenizer.save_pretrained(root / 'truncated')
    return root


def early_exit_config(root, **overrides):
    return pipeline_config(root, **{'amateur.kind': 'early_exit', 'amateur.layers': EXIT, 'amateur.path': '',
                                    'contrast.beta': BETA, **overrides})


def run_samples(config, workdir, mesh=None):
    sample_stage.run(config, Workdir(workdir), mesh or shd.make_mesh(data=1, fsdp=-1, tensor=1))
    return {r.id: r for r in store.read_samples(workdir / 'samples')}


def assert_same_records(a, b, atol=1e-5):
    assert a.keys() == b.keys() and sum(len(r.steps) for r in a.values()) > 0
    for key in a:
        x, y = a[key], b[key]
        assert x.completion_ids == y.completion_ids and x.steps == y.steps and x.target_ids == y.target_ids
        np.testing.assert_allclose(x.candidate_kl, y.candidate_kl, atol=atol)
        for field in ('kl', 'target_weights', 'expert_weights'):
            np.testing.assert_allclose(np.concatenate([np.ravel(v) for v in getattr(x, field)] or [[]]),
                                       np.concatenate([np.ravel(v) for v in getattr(y, field)] or [[]]), atol=atol)


@pytest.fixture(scope='module')
def early_exit_run(pair, tmp_path_factory):
    workdir = tmp_path_factory.mktemp('work')
    return workdir, run_samples(early_exit_config(pair), workdir)


def test_early_exit_logits_equal_transformers_on_the_truncated_model(pair):
    expert = load_hf(pair / 'expert', dtype='float32')
    ids, mask, positions = left_padded_batch(expert.config.vocab_size, [7, 4, 9], seed=3)
    view = EarlyExit(expert, EXIT)
    hidden, _ = view(ids, positions, mask)
    ours = np.asarray(view.logits(hidden))
    truncated = type(build_torch_model('qwen2_untied')).from_pretrained(pair / 'truncated').eval()
    truncated.config._attn_implementation = 'eager'
    theirs = torch_logits(truncated, ids, mask, positions)
    np.testing.assert_allclose(ours[mask], theirs[mask], atol=2e-4)
    full_hidden, exit_hidden, _ = expert.forward(ids, positions, mask, exit_layer=EXIT)
    np.testing.assert_allclose(np.asarray(exit_hidden), np.asarray(hidden), atol=1e-6)  # the shared pass
    assert not np.allclose(np.asarray(full_hidden), np.asarray(hidden), atol=1e-2)       # ... is not the expert


def test_the_shared_pass_gives_the_records_of_a_separate_truncated_amateur(pair, early_exit_run, tmp_path):
    _, ours = early_exit_run
    separate = run_samples(pipeline_config(pair, **{'amateur.path': str(pair / 'truncated'), 'contrast.beta': BETA}), tmp_path)
    assert_same_records(ours, separate)


def test_rescoring_and_sharding_give_the_same_early_exit_records(pair, early_exit_run, tmp_path):
    _, ours = early_exit_run
    assert_same_records(ours, run_samples(early_exit_config(pair, **{'contrast.rescore': True}), tmp_path / 'r'))
    assert_same_records(ours, run_samples(early_exit_config(pair, **{'generation.batch_size': 8}), tmp_path / 's',
                                          shd.make_mesh(data=2, fsdp=2, tensor=2)))


def test_an_interrupted_early_exit_run_resumes_to_the_same_file(pair, early_exit_run, tmp_path):
    workdir, _ = early_exit_run
    full = (workdir / 'samples' / 'samples-00000-of-00001.jsonl').read_bytes()
    lines = full.splitlines(keepends=True)
    assert len(lines) == len(QUESTIONS)
    (tmp_path / 'samples').mkdir()
    path = tmp_path / 'samples' / 'samples-00000-of-00001.jsonl'
    path.write_bytes(b''.join(lines[:5]) + lines[5][:40])  # killed mid-batch, a torn line
    run_samples(early_exit_config(pair), tmp_path)
    assert path.read_bytes() == full
    stats = json.loads((tmp_path / 'samples' / 'stats.json').read_text())
    assert stats['special_token_differences']['ids'] == []


def test_early_exit_layers_are_checked_before_any_stage(pair, tmp_path):
    with pytest.raises(ConfigError, match=r'amateur.layers = 3: .*\[1, 2\] for an early exit of a 3-layer'):
        check_before_stages(early_exit_config(pair, **{'amateur.layers': 3}), Workdir(tmp_path))
    with pytest.raises(ConfigError, match='amateur.layers = 0: must be an integer >= 1'):
        validate(early_exit_config(pair, **{'amateur.layers': 0}))
    with pytest.raises(ConfigError, match="amateur.kind = 'tiny': must be one of"):
        validate(pipeline_config(pair, **{'amateur.kind': 'tiny'}))
    validate(early_exit_config(pair))  # no amateur path needed
    with pytest.raises(ConfigError, match="amateur.path = '': must be a checkpoint"):
        validate(pipeline_config(pair, **{'amateur.path': ''}))


def test_a_checkpoint_amateur_must_have_the_experts_architecture(pair, tmp_path):
    config = pipeline_config(pair, **{'amateur.kind': 'checkpoint'})  # root/amateur: 1 layer, 8 more vocab rows
    with pytest.raises(ConfigError, match=r"kind='checkpoint' needs .* vocab_size \d+ vs \d+, .*num_layers 3 vs 1"):
        check_before_stages(config, Workdir(tmp_path))
    check_before_stages(pipeline_config(pair, **{'amateur.kind': 'checkpoint', 'amateur.path': str(pair / 'expert')}),
                        Workdir(tmp_path))


def test_the_fingerprint_keeps_old_workdirs_and_counts_what_an_early_exit_depends_on(pair):
    default = fingerprint(pipeline_config(pair), 'sample')['amateur']
    assert 'kind' not in default and 'layers' not in default and default['path'] == str(pair / 'amateur')
    early = fingerprint(early_exit_config(pair), 'sample')['amateur']
    assert early['kind'] == 'early_exit' and early['layers'] == EXIT and 'path' not in early
