"""generation.prefill_groups: each batch prefilled in blocks of rows at their own prompt lengths gives what one
prefill over the whole padded batch gives (same answers, kept steps and targets; scores to float rounding),
sharded and not, and a killed run resumes byte for byte."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.data import build_prompt_ids
from lightreasoner_jax.generation import PromptBatcher, SamplingConfig, batches_by_length, generate, left_pad, prefill
from lightreasoner_jax.generation.prompt_batches import prefill_blocks_per_process
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.pipeline import sample_stage
from lightreasoner_jax.pipeline.fingerprint import fingerprint
from lightreasoner_jax.pipeline.validation import ConfigError, validate
from lightreasoner_jax.pipeline.workdir import Workdir
from lightreasoner_jax.sampling import store
from tests.pipeline_fixtures import QUESTIONS, pipeline_config, write_pair

BUCKET = 8  # fine enough that the blocks of a batch get different lengths


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp('pair')
    return root, write_pair(root)


def prompts_of(tokenizer):
    return [build_prompt_ids(tokenizer, q) for q in QUESTIONS]


def test_blocks_of_rows_prefill_as_the_whole_batch(pair):
    root, tokenizer = pair
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    model = load_hf(root / 'expert', mesh=mesh, dtype=jnp.float32)
    prompts = sorted(prompts_of(tokenizer), key=len, reverse=True)[:8]
    prompts[4:] = [p[-40:] for p in prompts[4:6]] + [p[-5:] for p in prompts[6:]]  # blocks shorter than the batch
    P = max(map(len, prompts))
    ids, mask = (jnp.asarray(x) for x in left_pad(prompts, P, 8, pad_id=0))
    groups = tuple(max(len(p) for p in prompts[g * 2:(g + 1) * 2]) for g in range(4))
    assert groups[0] == P and groups[-1] < P // 2
    whole_logits, whole = prefill(model, ids, mask, 4)
    logits, cache = prefill(model, ids, mask, 4, groups)
    np.testing.assert_allclose(np.asarray(logits), np.asarray(whole_logits), atol=1e-5)
    assert cache.max_length == whole.max_length == P + 4 and int(cache.length) == int(whole.length) == P
    np.testing.assert_array_equal(np.asarray(cache.valid), np.asarray(whole.valid))
    valid = np.asarray(whole.valid)
    for got, want in zip(cache.keys, whole.keys):  # [B, K, H, S]: compare the written slots
        np.testing.assert_allclose(np.asarray(got).transpose(0, 3, 1, 2)[valid],
                                   np.asarray(want).transpose(0, 3, 1, 2)[valid], atol=1e-5)
    for got, want in zip(cache.values, whole.values):  # [B, K, S, H]
        np.testing.assert_allclose(np.asarray(got).transpose(0, 2, 1, 3)[valid],
                                   np.asarray(want).transpose(0, 2, 1, 3)[valid], atol=1e-5)
    sampling = SamplingConfig(10)
    rng = jax.random.key(0)
    np.testing.assert_array_equal(
        np.asarray(generate(model, ids, mask, rng, sampling=sampling, eos_ids=(2,), pad_id=0, row_groups=groups).tokens),
        np.asarray(generate(model, ids, mask, rng, sampling=sampling, eos_ids=(2,), pad_id=0).tokens))
    with pytest.raises(ValueError, match=r'row_groups \(4, 4, 4\): the 8 rows must split into 3 equal blocks'):
        prefill(model, ids, mask, 4, (4, 4, 4))


def test_the_batcher_plans_block_lengths_from_each_blocks_longest_prompt(pair):
    _, tokenizer = pair
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    batcher = PromptBatcher(mesh, batch_size=4, bucket=BUCKET, pad_id=0, prefill_groups=2)
    batches = batches_by_length(list(enumerate(prompts_of(tokenizer))), 4)
    plans = [batcher.row_groups([p for _, p in b], batcher.padded_length([p for _, p in b])) for b in batches]
    assert any(plans)  # some batch has a block shorter than the batch
    for batch, plan in zip(batches, plans):
        length = batcher.padded_length([p for _, p in batch])
        blocks = [[p for _, p in batch[g * 2:(g + 1) * 2]] for g in range(2)]
        assert not plan or (plan[0] == length  # sorted longest first
                            and all(max(map(len, b), default=1) <= n <= length for b, n in zip(blocks, plan)))
    sharded = PromptBatcher(shd.make_mesh(data=8, fsdp=1, tensor=1), batch_size=16, bucket=BUCKET, pad_id=0,
                            prefill_groups=4)
    long_batch = [p for _, p in batches[0]] * 4
    assert sharded.row_groups(long_batch[:12] + [[1]] * 4, 128) == ()  # 4 rows a block over 8 devices: one prefill
    wide = PromptBatcher(shd.make_mesh(data=8, fsdp=1, tensor=1), batch_size=16, bucket=BUCKET, pad_id=0,
                         prefill_groups=2)
    assert wide.row_groups(long_batch[:12] + [[1]] * 4, 128)[1] < 128  # 8 rows a block: split
    with pytest.raises(ValueError, match=r'prefill_groups \(3\) must be >= 1 and split the 4 rows'):
        PromptBatcher(mesh, batch_size=4, bucket=BUCKET, pad_id=0, prefill_groups=3)


def records(workdir):
    return {r.id: r for r in store.read_samples(workdir / 'samples')}


def assert_same_records(a, b):
    assert a.keys() == b.keys() and sum(len(r.steps) for r in a.values()) > 0
    for key in a:
        x, y = a[key], b[key]
        assert (x.completion_ids, x.steps, x.target_ids) == (y.completion_ids, y.steps, y.target_ids)
        np.testing.assert_allclose(x.candidate_kl, y.candidate_kl, atol=1e-5)
        np.testing.assert_allclose(np.concatenate(x.target_weights or [[]]), np.concatenate(y.target_weights or [[]]),
                                   atol=1e-5)


@pytest.mark.parametrize('overrides,mesh_axes', [
    ({}, dict(data=1, fsdp=-1, tensor=1)),
    ({'contrast.rescore': True}, dict(data=1, fsdp=-1, tensor=1)),
    ({'generation.batch_size': 8}, dict(data=2, fsdp=2, tensor=2)),
])
def test_the_sample_stage_gives_the_records_of_one_prefill(pair, tmp_path, overrides, mesh_axes):
    root, _ = pair
    base = {'generation.bucket': BUCKET, **overrides}
    mesh = shd.make_mesh(**mesh_axes)
    sample_stage.run(pipeline_config(root, **base), Workdir(tmp_path / 'one'), mesh)
    grouped = pipeline_config(root, **base, **{'generation.prefill_groups': 2})
    sample_stage.run(grouped, Workdir(tmp_path / 'blocks'), mesh)
    assert_same_records(records(tmp_path / 'blocks'), records(tmp_path / 'one'))


def test_fingerprint_validation_and_resume(pair, tmp_path):
    root, _ = pair
    grouped = pipeline_config(root, **{'generation.bucket': BUCKET, 'generation.prefill_groups': 2})
    # padding, as generation.bucket: float rounding, not the answers; workdirs from before the field resume
    assert fingerprint(grouped, 'sample') == fingerprint(pipeline_config(root, **{'generation.bucket': BUCKET}),
                                                         'sample')
    validate(grouped)
    with pytest.raises(ConfigError, match=r'^config.generation.prefill_groups = 3: .*split the 4 rows of each of the 1 '
                                          r'processes into equal blocks'):
        validate(pipeline_config(root, **{'generation.prefill_groups': 3}))
    assert prefill_blocks_per_process(4, 64, 8) == 1 and prefill_blocks_per_process(16, 64, 8) == 2  # pods
    mesh = shd.make_mesh(data=1, fsdp=-1, tensor=1)
    sample_stage.run(grouped, Workdir(tmp_path), mesh)
    path = tmp_path / 'samples' / 'samples-00000-of-00001.jsonl'
    full = path.read_bytes()
    lines = full.splitlines(keepends=True)
    path.write_bytes(b''.join(lines[:5]) + lines[5][:40])  # killed mid-way through the second batch's append
    sample_stage.run(grouped, Workdir(tmp_path), mesh)
    assert path.read_bytes() == full
