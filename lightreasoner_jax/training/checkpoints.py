"""Orbax checkpoints of a training run: the trained params, the optimizer state and a JSON `meta`
(step, seed, the fingerprint of what was trained), saved async, every `save_every` steps."""

from __future__ import annotations

import dataclasses
import logging

import jax
import orbax.checkpoint as ocp
from etils import epath
from flax import nnx

from lightreasoner_jax.differences import differences

ITEMS = ('trainable', 'opt_state', 'meta')


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
    save_every: int = 100       # steps between (async) checkpoints
    max_to_keep: int = 2
    async_save: bool = True


class CheckpointMismatchError(ValueError):
    """The checkpoint directory holds a run of a different configuration or model."""


class CheckpointUnreadableError(ValueError):
    """A finalized checkpoint's files are missing or damaged (a partial save is never listed by Orbax)."""


def checkpoint_manager(directory, config: CheckpointConfig = CheckpointConfig()) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(max_to_keep=config.max_to_keep, save_interval_steps=config.save_every,
                                           enable_async_checkpointing=config.async_save, create=True)
    return ocp.CheckpointManager(epath.Path(directory), options=options, item_names=ITEMS)


def _abstract(tree):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), tree)


def check_fingerprint(manager: ocp.CheckpointManager, step: int, fingerprint: dict) -> None:
    """Raises CheckpointMismatchError when checkpoint `step` was written for another training run."""
    where = f'{manager.directory}/{step}'
    try:
        meta = manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))['meta']
    except Exception as e:  # noqa: BLE001 - orbax raises many types for unreadable checkpoints
        raise _unreadable(manager, step, e) from e
    changed = differences(meta.get('fingerprint', {}), fingerprint)
    if changed:
        raise CheckpointMismatchError(f'{where}: written by a different training configuration '
                                      f'({"; ".join(changed[:8])}{"; ..." if len(changed) > 8 else ""}); '
                                      'use a new workdir or the original settings')


def restore_items(manager: ocp.CheckpointManager, step: int, trainable, **others) -> dict:
    """Restores `trainable` (an nnx.State) in place, placed as the live one, and returns the named
    `others` pytrees restored likewise."""
    args = {'trainable': ocp.args.StandardRestore(_abstract(nnx.to_pure_dict(trainable)))}
    args.update({name: ocp.args.StandardRestore(_abstract(tree)) for name, tree in others.items()})
    try:
        restored = manager.restore(step, args=ocp.args.Composite(**args))
    except Exception as e:  # noqa: BLE001 - orbax raises many types for unreadable checkpoints
        expected = {'trainable': nnx.to_pure_dict(trainable), **others}
        mismatch = _shape_mismatch(manager, step, expected)
        if mismatch is None:
            raise _unreadable(manager, step, e) from e
        raise CheckpointMismatchError(f'{manager.directory}/{step}: checkpoint does not match the model being '
                                      f'trained ({mismatch})') from e
    nnx.replace_by_pure_dict(trainable, restored['trainable'])
    return restored


def _shapes(tree) -> list[tuple[int, ...]]:
    return sorted(tuple(leaf.shape) for leaf in jax.tree.leaves(tree, is_leaf=lambda x: hasattr(x, 'shape')))


def _shape_mismatch(manager: ocp.CheckpointManager, step: int, expected: dict) -> str | None:
    """What differs between the arrays stored at `step` and `expected`, by their saved metadata; None when the
    shapes agree or the metadata itself cannot be read (then the data is damaged, not different)."""
    try:
        stored = manager.item_metadata(step)
    except Exception:  # noqa: BLE001 - unreadable metadata: damaged, not different
        return None
    for name, tree in expected.items():
        item = stored.get(name) if hasattr(stored, 'get') else None
        if item is None:
            return None
        saved, wanted = _shapes(getattr(item, 'tree', item)), _shapes(tree)
        if saved != wanted:
            return (f'{name}: {len(saved)} arrays saved, {len(wanted)} expected' if len(saved) != len(wanted) else
                    f'{name}: shape {next(a for a, b in zip(saved, wanted) if a != b)} saved where the model has '
                    f'{next(b for a, b in zip(saved, wanted) if a != b)}')
    return None


class _SiblingReadFailures(logging.Filter):
    """Orbax reads a checkpoint's arrays concurrently (TensorStore); when one read fails, asyncio later logs
    each sibling read's failure with a traceback ('Task/Future exception was never retrieved'), at garbage
    collection, which may come before or after our one-line CheckpointUnreadableError. Only those records
    (a never-retrieved TensorStore read error) are dropped; other asyncio errors are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += '\n' + str(record.exc_info[1])
        # asyncio says 'Task ...' for a coroutine's task and 'Future ...' for a bare future (which
        # TensorStore's reads can be).
        return not (message.startswith(('Task exception was never retrieved', 'Future exception was never retrieved'))
                    and any(mark in message for mark in ('tensorstore', 'OCDBT', '"zarr"')))


logging.getLogger('asyncio').addFilter(_SiblingReadFailures())


def _unreadable(manager: ocp.CheckpointManager, step: int, error: Exception) -> CheckpointUnreadableError:
    reason = ' '.join(str(error).split())
    reason = reason if len(reason) <= 240 else reason[:240] + '...'
    restart = max((s for s in manager.all_steps() if s < step), default=0)
    return CheckpointUnreadableError(f'checkpoint at {manager.directory}/{step} is unreadable ({reason}); '
                                     f'delete it to restart from step {restart}')


def save(manager: ocp.CheckpointManager, step: int, trainable, opt_state, meta: dict, force: bool = False) -> None:
    manager.save(step, args=ocp.args.Composite(trainable=ocp.args.StandardSave(nnx.to_pure_dict(trainable)),
                                               opt_state=ocp.args.StandardSave(opt_state),
                                               meta=ocp.args.JsonSave(meta)), force=force)
