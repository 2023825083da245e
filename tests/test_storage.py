"""Failed writes name the path and what was being written; other OS errors are left alone."""

import errno
import os

import numpy as np
import pytest

from lightreasoner_jax import json_lines
from lightreasoner_jax.models import safetensors_io as st
from lightreasoner_jax.storage import WriteError, writing


@pytest.mark.skipif(not os.path.exists('/dev/full'), reason='needs /dev/full')
def test_disk_full_names_the_file_and_what(tmp_path):
    target = tmp_path / 'samples.jsonl'
    target.symlink_to('/dev/full')
    with pytest.raises(WriteError, match=rf'cannot write 2 JSON lines to {target}: No space left on device'):
        json_lines.append(target, [{'a': 1}, {'b': 2}])
    weights = tmp_path / 'model.safetensors'
    weights.symlink_to('/dev/full')
    with pytest.raises(WriteError, match=rf'cannot write 1 tensors \(4096 bytes\) to {weights}: No space left'):
        st.write_file(weights, [('w', np.zeros(1024, np.float32))])


def test_read_only_file_system_and_permission_errors_become_write_errors(tmp_path):
    for code in (errno.EROFS, errno.EACCES):
        with pytest.raises(WriteError) as caught, writing(tmp_path / 'out', 'the report'):
            raise OSError(code, os.strerror(code))
        assert str(caught.value) == f'cannot write the report to {tmp_path / "out"}: {os.strerror(code)}'
        assert caught.value.errno == code


def test_the_file_the_os_names_wins_and_other_errors_pass_through(tmp_path):
    with pytest.raises(WriteError, match='to /elsewhere/x.json: Read-only'), writing(tmp_path, 'stage outputs'):
        raise OSError(errno.EROFS, 'Read-only file system', '/elsewhere/x.json')
    with pytest.raises(ConnectionResetError), writing(tmp_path, 'stage outputs'):
        raise ConnectionResetError(errno.ECONNRESET, 'reset')
