"""Device mesh, logical-axis rules and sharding helpers.

Every array in the project is described by *logical* axis names ('embed', 'vocab', 'batch', ...).
One table, `LOGICAL_AXIS_RULES`, maps them to the mesh axes ('data', 'fsdp', 'tensor'); nothing
else in the code names a mesh axis. A dimension that a mesh axis does not divide is replicated
instead (e.g. 2 kv heads on tensor=4), so any model runs on any mesh.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

MESH_AXES = ('data', 'fsdp', 'tensor')

# logical axis -> mesh axis (or tuple of mesh axes, or None for replicated).
LOGICAL_AXIS_RULES: tuple[tuple[str, Any], ...] = (
    # activations
    ('batch', ('data', 'fsdp')),
    ('length', None),
    ('activation_embed', None),
    ('activation_heads', 'tensor'),
    ('activation_kv_heads', 'tensor'),
    ('activation_mlp', 'tensor'),
    ('activation_vocab', 'tensor'),
    # parameters
    ('vocab', 'tensor'),
    ('embed', 'fsdp'),
    ('heads', 'tensor'),
    ('kv_heads', 'tensor'),
    ('head_dim', None),
    ('mlp', 'tensor'),
    ('norm', None),
    ('lora_rank', None),
)

Rules = Sequence[tuple[str, Any]]


def make_mesh(data: int = 1, fsdp: int = -1, tensor: int = 1, devices=None) -> Mesh:
    """Builds the ('data','fsdp','tensor') mesh; one size may be -1 (all remaining devices)."""
    devices = jax.devices() if devices is None else list(devices)
    sizes = [data, fsdp, tensor]
    if sizes.count(-1) > 1:
        raise ValueError(f'mesh: at most one axis may be -1, got data={data} fsdp={fsdp} tensor={tensor}')
    if any(s == 0 or s < -1 for s in sizes):
        raise ValueError(f'mesh: axis sizes must be positive or -1, got data={data} fsdp={fsdp} tensor={tensor}')
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if len(devices) % known:
            raise ValueError(f'mesh: {len(devices)} devices are not divisible by the fixed axes '
                             f'(product {known}) of data={data} fsdp={fsdp} tensor={tensor}')
        sizes[sizes.index(-1)] = len(devices) // known
    if math.prod(sizes) != len(devices):
        raise ValueError(f'mesh: data*fsdp*tensor = {math.prod(sizes)} but there are {len(devices)} devices '
                         f'(data={sizes[0]} fsdp={sizes[1]} tensor={sizes[2]}); use -1 for one axis to fill')
    return jax.make_mesh(tuple(sizes), MESH_AXES, axis_types=(AxisType.Auto,) * len(MESH_AXES),
                         devices=devices)


def _mesh_axes_for(logical: str | None, rules: Rules) -> tuple[str, ...]:
    if logical is None:
        return ()
    for name, target in rules:
        if name == logical:
            if target is None:
                return ()
            return (target,) if isinstance(target, str) else tuple(target)
    raise KeyError(f'logical axis {logical!r} has no rule in the logical-axis rules')


def logical_to_spec(logical_axes: Sequence[str | None], shape: Sequence[int] | None = None,
                    mesh: Mesh | None = None, rules: Rules = LOGICAL_AXIS_RULES) -> PartitionSpec:
    """PartitionSpec for an array with the given logical axes.

    With `shape` and `mesh`, a mesh axis that does not divide its dimension (or is size 1, or is
    already used by an earlier dimension) is dropped, so the result is always a valid sharding.
    """
    used: set[str] = set()
    spec = []
    for dim, logical in enumerate(logical_axes):
        axes = []
        for axis in _mesh_axes_for(logical, rules):
            if axis in used:
                continue
            if mesh is not None:
                size = mesh.shape[axis]
                if size == 1:
                    continue
                if shape is not None:
                    divisor = size * math.prod(mesh.shape[a] for a in axes)
                    if shape[dim] % divisor:
                        continue
            axes.append(axis)
        used.update(axes)
        spec.append(None if not axes else axes[0] if len(axes) == 1 else tuple(axes))
    return PartitionSpec(*spec)


def logical_sharding(mesh: Mesh, logical_axes: Sequence[str | None], shape: Sequence[int] | None = None,
                     rules: Rules = LOGICAL_AXIS_RULES) -> NamedSharding:
    return NamedSharding(mesh, logical_to_spec(logical_axes, shape, mesh, rules))


def constrain(x: jax.Array, logical_axes: Sequence[str | None], rules: Rules = LOGICAL_AXIS_RULES) -> jax.Array:
    """with_sharding_constraint by logical axes under the active mesh; a no-op without one."""
    mesh = jax.sharding.get_abstract_mesh()
    if mesh.empty:
        return x
    return jax.lax.with_sharding_constraint(x, logical_to_spec(logical_axes, x.shape, mesh, rules))


def _is_variable(x) -> bool:
    from flax import nnx
    return isinstance(x, nnx.Variable)


def state_shardings(state, mesh: Mesh, rules: Rules = LOGICAL_AXIS_RULES):
    """NamedSharding per Variable of an nnx.State (abstract or concrete), shape-aware."""
    def sharding(var):
        value = var.get_value()
        names = var.get_metadata().get('logical_axes') or (None,) * len(value.shape)
        return logical_sharding(mesh, names, value.shape, rules)
    return jax.tree.map(sharding, state, is_leaf=_is_variable)


def batch_sharding(mesh: Mesh, ndim: int, rules: Rules = LOGICAL_AXIS_RULES, batch_size: int | None = None):
    """Sharding of a [batch, ...] array: batch over ('data','fsdp'), the rest replicated."""
    shape = None if batch_size is None else (batch_size,) + (1,) * (ndim - 1)
    return logical_sharding(mesh, ('batch',) + (None,) * (ndim - 1), shape, rules)


def batch_axis_size(mesh: Mesh, rules: Rules = LOGICAL_AXIS_RULES) -> int:
    """Devices the 'batch' axis shards over: batch dimensions divisible by it are split, not replicated."""
    return math.prod(mesh.shape[axis] for axis in _mesh_axes_for('batch', rules))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, PartitionSpec())


def put_global(array: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global jax.Array from a host array that every process holds in full (multi-host safe)."""
    array = np.asarray(array)
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def from_process_local(local: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global [batch, ...] array from each process's own rows (their concatenation over processes)."""
    return jax.make_array_from_process_local_data(sharding, np.asarray(local))


def process_rows(global_batch: int) -> slice:
    """The rows of a global batch that `from_process_local` took from this process."""
    if jax.process_count() == 1:
        return slice(0, global_batch)
    local = global_batch // jax.process_count()
    return slice(jax.process_index() * local, (jax.process_index() + 1) * local)


def to_host(x: jax.Array) -> np.ndarray:
    """The full value of a (possibly multi-host sharded) array on every process."""
    if getattr(x, 'is_fully_addressable', True):
        return np.asarray(jax.device_get(x))
    from jax.experimental import multihost_utils
    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def agree_max(value: int) -> int:
    """The largest of every process's `value` (the value itself with one process)."""
    if jax.process_count() == 1:
        return int(value)
    from jax.experimental import multihost_utils
    return int(np.max(multihost_utils.process_allgather(np.asarray(value, np.int64))))


def agree_max_each(values: Sequence[int]) -> list[int]:
    """Elementwise, the largest of every process's `values` (all processes pass as many)."""
    if jax.process_count() == 1:
        return [int(v) for v in values]
    from jax.experimental import multihost_utils
    gathered = multihost_utils.process_allgather(np.asarray(values, np.int64).reshape(-1))
    return [int(v) for v in np.max(gathered, axis=0)]


def sync(name: str) -> None:
    """A barrier across processes (nothing with one process)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils
        multihost_utils.sync_global_devices(name)


# Environment variables that tell a process it is one of several (set by launchers).
_MULTIPROCESS_ENV = (
    ('JAX_COORDINATOR_ADDRESS', None),
    ('SLURM_NTASKS', 'count'),
    ('OMPI_COMM_WORLD_SIZE', 'count'),
    ('TPU_WORKER_HOSTNAMES', 'list'),
    ('MEGASCALE_NUM_SLICES', 'count'),
)


def detect_multiprocess(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the launcher environment describes more than one process."""
    environ = os.environ if environ is None else environ
    for name, kind in _MULTIPROCESS_ENV:
        value = environ.get(name)
        if not value:
            continue
        if kind is None:
            return True
        if kind == 'count' and value.isdigit() and int(value) > 1:
            return True
        if kind == 'list' and len([h for h in value.split(',') if h.strip()]) > 1:
            return True
    return False


def initialize_distributed(coordinator_address: str | None = None, num_processes: int | None = None,
                           process_id: int | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Calls jax.distributed.initialize() only when more than one process is configured or detected.

    Must run before anything touches a jax backend. Returns whether it initialised.
    """
    configured = (num_processes or 0) > 1 or coordinator_address is not None
    if not configured and not detect_multiprocess(environ):
        return False
    kwargs = {}
    if coordinator_address is not None:
        kwargs['coordinator_address'] = coordinator_address
    if num_processes is not None:
        kwargs['num_processes'] = num_processes
    if process_id is not None:
        kwargs['process_id'] = process_id
    jax.distributed.initialize(**kwargs)
    return True
