"""JAX's persistent compilation cache, on by default, so a rerun or a resumed run compiles nothing it
compiled before (each sample, eval and train shape costs seconds on CPU and minutes at 7B on a pod).

`compilation_cache_dir` in the config: '' picks the default, a path (local or gs://) is used as given,
'off' disables the cache. The default is the user's cache directory, or, for a remote workdir (a pod,
whose hosts share no local disk), a folder inside the workdir.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
from absl import logging
from jax.experimental.compilation_cache import compilation_cache

OFF = 'off'
WORKDIR_FOLDER = 'jax_compilation_cache'


def default_dir(workdir_root: str) -> str:
    if '://' in workdir_root:
        return workdir_root.rstrip('/') + '/' + WORKDIR_FOLDER
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return str(Path(base) / 'lightreasoner_jax' / WORKDIR_FOLDER)


def resolve(setting: str, workdir_root: str) -> str | None:
    """The cache directory for `setting` ('' default, 'off', or a path), None when off."""
    if setting == OFF:
        return None
    return setting or default_dir(workdir_root)


def enable(setting: str, workdir_root: str) -> str | None:
    """Points JAX's persistent cache at the resolved directory and caches every executable, however fast
    it compiled; returns the directory, or None when off. With setting '' a directory the user already gave
    JAX (JAX_COMPILATION_CACHE_DIR) is kept."""
    path = resolve(setting, workdir_root)
    if path is None:
        return None
    current = jax.config.jax_compilation_cache_dir
    if not setting and current:
        path = current
    jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
    jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)
    if path != current:
        jax.config.update('jax_compilation_cache_dir', path)
        compilation_cache.reset_cache()  # JAX opens its cache once per process; reopen it at the new path
    logging.info('persistent compilation cache: %s', path)
    return path
