"""Config files: `get_config()` modules loaded by path, as `--config` loads them.

A preset builds on another file beside it (`load_sibling(__file__, 'default.py')`), so configs/ can be
used from any working directory and without being a package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import ml_collections


def load_function(path, function: str, kind: str):
    """The function `function` of the Python file at `path` (a `kind` file: 'config', 'sweep'), loaded
    by path so the file needs no package around it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: no such {kind} file')
    spec = importlib.util.spec_from_file_location(f'lightreasoner_{kind}_{path.stem}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, function):
        raise AttributeError(f'{path}: a {kind} file must define {function}()')
    return getattr(module, function)


def load_config_file(path) -> ml_collections.ConfigDict:
    """A config file's get_config()."""
    return load_function(path, 'get_config', 'config')()


def load_sibling(file: str, name: str) -> ml_collections.ConfigDict:
    """The config of file `name` in the same directory as `file` (a config module's __file__)."""
    return load_config_file(Path(file).with_name(name))
