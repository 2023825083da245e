"""Orbax checkpoints of a training run: the trained params, the optimizer state and a JSON `meta`
(step, seed, the fingerprint of what was trained), saved async, every `save_every` steps."""

from __future__ import annotations

import dataclasses

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
        raise CheckpointMismatchError(f'{where}: cannot read the checkpoint metadata ({e})') from e
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
        raise CheckpointMismatchError(f'{manager.directory}/{step}: checkpoint does not match the model being '
                                      f'trained ({e})') from e
    nnx.replace_by_pure_dict(trainable, restored['trainable'])
    return restored


def save(manager: ocp.CheckpointManager, step: int, trainable, opt_state, meta: dict, force: bool = False) -> None:
    manager.save(step, args=ocp.args.Composite(trainable=ocp.args.StandardSave(nnx.to_pure_dict(trainable)),
                                               opt_state=ocp.args.StandardSave(opt_state),
                                               meta=ocp.args.JsonSave(meta)), force=force)
