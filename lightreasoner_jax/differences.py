"""Field-by-field differences between two JSON trees (config fingerprints), for error messages."""

from __future__ import annotations


def differences(old, new, prefix: str = '') -> list[str]:
    """'a.b: old -> new' for every leaf that differs between two nested dicts."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += differences(old.get(key, '<absent>'), new.get(key, '<absent>'), f'{prefix}.{key}' if prefix else key)
        return out
    return [] if old == new else [f'{prefix}: {old!r} -> {new!r}']
