"""Config files: `get_config()` modules loaded by path, as `--config` loads them.

A preset builds on another file beside it (`load_sibling(__file__, 'default.py')`), so configs/ can be
used from any working directory and without being a package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import ml_collections


def load_config_file(path) -> ml_collections.ConfigDict:
    """A config file's get_config()."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: no such config file')
    spec = importlib.util.spec_from_file_location(f'lightreasoner_config_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, 'get_config'):
        raise AttributeError(f'{path}: a config file must define get_config()')
    return module.get_config()


def load_sibling(file: str, name: str) -> ml_collections.ConfigDict:
    """The config of file `name` in the same directory as `file` (a config module's __file__)."""
    return load_config_file(Path(file).with_name(name))
