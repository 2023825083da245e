"""Hub-id model paths fetched before any stage runs, once per pod: process 0 downloads while the others
wait, then they resolve the same ids (from a shared cache, or downloading on their own host)."""

from __future__ import annotations

import jax

from lightreasoner_jax import sharding as shd
from lightreasoner_jax.models.hub import is_hub_id, local_dir
from lightreasoner_jax.pipeline.validation import used_sections

MODEL_SECTIONS = ('expert', 'amateur')


def hub_models(config) -> list[str]:
    """The hub ids among the model paths the configured stages read."""
    sections = used_sections(config)
    return [str(config[s].path) for s in MODEL_SECTIONS if s in sections and is_hub_id(str(config[s].path))]


def fetch_hub_models(config) -> None:
    ids = hub_models(config)
    if not ids:
        return
    if jax.process_index() == 0:
        for repo in ids:
            local_dir(repo)
    shd.sync('hub-models-fetched')
    if jax.process_index() != 0:
        for repo in ids:
            local_dir(repo)
