"""Modules that share their name with their main function (`generate`, `contrast`, `train`, `evaluate`,
`export`) make themselves callable, so `lightreasoner_jax.contrast(...)` and
`lightreasoner_jax.contrast.contrast(...)` are the same call however the module was first imported."""

from __future__ import annotations

import sys
import types


class CallableModule(types.ModuleType):
    """A module that, called, calls its function of the same name."""

    def __call__(self, *args, **kwargs):
        return getattr(self, self.__name__.rsplit('.', 1)[1])(*args, **kwargs)


def make_callable(module_name: str) -> None:
    """Called at the end of such a module with its __name__."""
    sys.modules[module_name].__class__ = CallableModule
