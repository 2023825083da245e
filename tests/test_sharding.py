"""Mesh construction, logical-axis rules, and sharded forwards equal to unsharded ones."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models import load_hf
from lightreasoner_jax.models.apply import jit_forward_logits
from tests.tiny_models import build_torch_model, left_padded_batch

VOCAB = 96


def test_eight_simulated_devices():
    assert jax.device_count() == 8


@pytest.mark.parametrize('axes,shape', [
    (dict(data=1, fsdp=-1, tensor=1), (1, 8, 1)),
    (dict(data=2, fsdp=-1, tensor=2), (2, 2, 2)),
    (dict(data=-1, fsdp=1, tensor=1), (8, 1, 1)),
    (dict(data=1, fsdp=4, tensor=2), (1, 4, 2)),
])
def test_make_mesh_fills_one_axis(axes, shape):
    mesh = shd.make_mesh(**axes)
    assert mesh.axis_names == ('data', 'fsdp', 'tensor')
    assert tuple(mesh.shape.values()) == shape
    assert all(t == jax.sharding.AxisType.Auto for t in mesh.axis_types)


@pytest.mark.parametrize('axes,message', [
    (dict(data=-1, fsdp=-1, tensor=1), 'at most one axis'),
    (dict(data=3, fsdp=-1, tensor=1), 'not divisible'),
    (dict(data=2, fsdp=2, tensor=1), 'there are 8 devices'),
    (dict(data=0, fsdp=-1, tensor=1), 'positive'),
])
def test_make_mesh_rejects_bad_sizes(axes, message):
    with pytest.raises(ValueError, match=message):
        shd.make_mesh(**axes)


def test_logical_to_spec_drops_axes_that_do_not_divide():
    mesh = shd.make_mesh(data=1, fsdp=4, tensor=2)
    assert shd.logical_to_spec(('embed', 'heads', 'head_dim'), (64, 4, 16), mesh) == P('fsdp', 'tensor', None)
    # 1 kv head cannot be split over tensor=2: replicated instead of an invalid sharding.
    assert shd.logical_to_spec(('embed', 'kv_heads', 'head_dim'), (64, 1, 16), mesh) == P('fsdp', None, None)
    assert shd.logical_to_spec(('batch', None), (8, 5), mesh) == P('fsdp', None)
    assert shd.logical_to_spec(('batch', None), (2, 5), mesh) == P(None, None)
    # size-1 mesh axes are left out, so specs stay minimal
    assert shd.logical_to_spec(('vocab', 'embed'), (96, 64), shd.make_mesh(data=-1, fsdp=1)) == P(None, None)
    with pytest.raises(KeyError, match='no rule'):
        shd.logical_to_spec(('nonsense',))


def test_state_shardings_follow_parameter_metadata(tmp_path):
    build_torch_model('qwen2_untied', VOCAB).save_pretrained(tmp_path)
    mesh = shd.make_mesh(data=1, fsdp=4, tensor=2)
    model = load_hf(tmp_path, mesh=mesh, dtype=jnp.float32)
    q = model.layers[0].attn.q_proj.kernel[...]
    assert q.sharding.spec == P('fsdp', 'tensor', None)
    assert q.addressable_shards[0].data.shape == (16, 2, 16)  # [64/4, 4/2, 16]
    assert model.lm_head[...].sharding.spec == P('tensor', 'fsdp')
    assert model.final_norm.scale[...].sharding.spec == P(None)


@pytest.mark.parametrize('axes', [dict(data=1, fsdp=4, tensor=2), dict(data=8, fsdp=1, tensor=1),
                                  dict(data=2, fsdp=2, tensor=2)])
@pytest.mark.parametrize('family', ['qwen2_tied', 'llama3'])
def test_sharded_forward_equals_unsharded(tmp_path, family, axes):
    build_torch_model(family, VOCAB).save_pretrained(tmp_path)
    ids, mask, positions = left_padded_batch(VOCAB, (9, 4, 9, 2, 7, 9, 1, 5))
    single = load_hf(tmp_path, dtype=jnp.float32)
    hidden, _ = single(jnp.asarray(ids), jnp.asarray(positions), jnp.asarray(mask))
    expected = np.asarray(single.logits(hidden))

    mesh = shd.make_mesh(**axes)
    sharded = load_hf(tmp_path, mesh=mesh, dtype=jnp.float32)
    forward, state = jit_forward_logits(sharded, mesh)
    logits = forward(state, ids, positions, mask)
    assert len(logits.sharding.device_set) == 8
    np.testing.assert_allclose(np.asarray(logits), expected, atol=1e-5)


def test_put_global_and_to_host_round_trip():
    mesh = shd.make_mesh(data=2, fsdp=2, tensor=2)
    x = np.arange(8 * 6, dtype=np.float32).reshape(8, 6)
    arr = shd.put_global(x, shd.batch_sharding(mesh, 2))
    assert arr.sharding.spec == P(('data', 'fsdp'), None)
    np.testing.assert_array_equal(shd.to_host(arr), x)


@pytest.mark.parametrize('environ,expected', [
    ({}, False),
    ({'SLURM_NTASKS': '1'}, False),
    ({'SLURM_NTASKS': '4'}, True),
    ({'OMPI_COMM_WORLD_SIZE': '2'}, True),
    ({'TPU_WORKER_HOSTNAMES': 'localhost'}, False),
    ({'TPU_WORKER_HOSTNAMES': 'w-0,w-1,w-2,w-3'}, True),
    ({'JAX_COORDINATOR_ADDRESS': '10.0.0.1:1234'}, True),
])
def test_detect_multiprocess(environ, expected):
    assert shd.detect_multiprocess(environ) is expected


def test_initialize_distributed_is_a_no_op_for_one_process():
    assert shd.initialize_distributed(environ={}) is False
    assert shd.initialize_distributed(num_processes=1, environ={}) is False
