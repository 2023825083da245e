"""A damaged training checkpoint is reported as unreadable, with the step to restart from; a checkpoint of
another model is reported as a mismatch; a save that never finished is not seen at all."""

import shutil

import jax.numpy as jnp
import pytest
from flax import nnx

from lightreasoner_jax.training import CheckpointMismatchError, CheckpointUnreadableError
from lightreasoner_jax.training import checkpoints as ck

CONFIG = ck.CheckpointConfig(save_every=1, async_save=False)
OPT = {'mu': jnp.ones(3)}


def saved(directory, steps=(1, 2)):
    state = nnx.state(nnx.Linear(4, 3, rngs=nnx.Rngs(0)))
    manager = ck.checkpoint_manager(directory, CONFIG)
    for step in steps:
        ck.save(manager, step, state, OPT, {'fingerprint': {'lr': 1}}, force=True)
    manager.wait_until_finished()
    return state


def restore(directory, state, step=2):
    manager = ck.checkpoint_manager(directory, CONFIG)
    ck.check_fingerprint(manager, step, {'lr': 1})
    return ck.restore_items(manager, step, state, opt_state=OPT)


def truncate_arrays(item_dir):
    files = [p for p in item_dir.rglob('*') if p.is_file() and p.parent.name == 'd']
    assert files
    for path in files:
        with open(path, 'r+b') as f:
            f.truncate(10)


@pytest.mark.parametrize('damage', ['truncated arrays', 'missing item', 'corrupt meta'])
def test_damaged_checkpoint_is_unreadable_and_names_the_restart_step(tmp_path, damage):
    state = saved(tmp_path)
    if damage == 'truncated arrays':
        truncate_arrays(tmp_path / '2' / 'trainable')
    elif damage == 'missing item':
        shutil.rmtree(tmp_path / '2' / 'trainable')
    else:
        (tmp_path / '2' / 'meta' / 'metadata').write_text('{not json')
    with pytest.raises(CheckpointUnreadableError,
                       match=rf'^checkpoint at {tmp_path}/2 is unreadable \(.+\); delete it to restart from step 1$'):
        restore(tmp_path, state)
    restore(tmp_path, state, step=1)  # the earlier one is fine


def test_only_checkpoint_damaged_restarts_from_zero(tmp_path):
    state = saved(tmp_path, steps=(5,))
    truncate_arrays(tmp_path / '5' / 'trainable')
    with pytest.raises(CheckpointUnreadableError, match='delete it to restart from step 0$'):
        restore(tmp_path, state, step=5)


def test_a_different_model_is_a_mismatch_naming_the_shapes(tmp_path):
    saved(tmp_path)
    other = nnx.state(nnx.Linear(5, 3, rngs=nnx.Rngs(0)))
    with pytest.raises(CheckpointMismatchError, match=r'trainable: shape \(4, 3\) saved where the model has \(5, 3\)'):
        restore(tmp_path, other)


def test_a_save_that_never_finished_is_not_listed(tmp_path):
    saved(tmp_path)
    partial = tmp_path / '3.orbax-checkpoint-tmp-1234'
    (partial / 'trainable').mkdir(parents=True)
    (partial / 'trainable' / 'junk').write_bytes(b'\0' * 10)
    assert ck.checkpoint_manager(tmp_path, CONFIG).latest_step() == 2


def test_sibling_read_failures_are_not_logged_but_other_asyncio_errors_are(tmp_path, caplog):
    import asyncio
    import gc

    state = saved(tmp_path)
    truncate_arrays(tmp_path / '2' / 'trainable')
    with pytest.raises(CheckpointUnreadableError):
        restore(tmp_path, state)

    def leave_one_unretrieved(message):
        async def failing():
            raise ValueError(message)

        async def main():
            asyncio.ensure_future(failing())
            await asyncio.sleep(0)
        asyncio.run(main())
        gc.collect()

    leave_one_unretrieved('OUT_OF_RANGE: Error opening "zarr" driver: Error reading "a/.zarray" in OCDBT database')
    assert 'never retrieved' not in caplog.text

    async def bare_future():  # asyncio words it 'Future exception ...' for a future that is not a task
        asyncio.get_running_loop().create_future().set_exception(
            ValueError('OUT_OF_RANGE: Error reading "b/.zarray" in OCDBT database'))
    asyncio.run(bare_future())
    gc.collect()
    assert 'never retrieved' not in caplog.text
    leave_one_unretrieved('something else went wrong')
    assert 'never retrieved' in caplog.text and 'something else went wrong' in caplog.text
