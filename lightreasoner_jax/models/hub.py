"""Hub ids as model paths: `Qwen/Qwen2.5-Math-7B` (or `owner/name@revision`) resolves to the local snapshot
directory through huggingface_hub, which honours HF_HUB_OFFLINE, HF_HUB_CACHE/HF_HOME and tokens.

A path that exists locally, or names a file system (gs://, /, ./, ~), is used as it is.
"""

from __future__ import annotations

import os
import re

from etils import epath

# Only what loading needs: weights, configs, tokenizer files, chat templates.
MODEL_FILES = ('*.json', '*.safetensors', '*.txt', '*.model', '*.tiktoken', '*.jinja')
_HUB_ID = re.compile(r'^[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?$')


class HubModelError(ValueError):
    """A hub id could not be resolved to a local snapshot (offline and not cached, unknown repo, no access)."""


def is_hub_id(path) -> bool:
    """True for 'owner/name[@revision]' that is not an existing local path."""
    text = os.fspath(path) if not isinstance(path, str) else path
    return bool(_HUB_ID.match(text)) and '://' not in text and not os.path.exists(text)


def local_dir(path) -> epath.Path:
    """The directory holding the checkpoint `path`: itself, or the hub snapshot it names (downloaded into the
    hub cache when missing and the hub is reachable)."""
    if not is_hub_id(path):
        return epath.Path(path)
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError
    repo_id, _, revision = str(path).partition('@')
    try:
        return epath.Path(snapshot_download(repo_id, revision=revision or None, allow_patterns=list(MODEL_FILES)))
    except LocalEntryNotFoundError as e:
        raise HubModelError(f'{path}: not a local directory, and not in the hub cache ({_cache_dir()}) while '
                            f'the hub cannot be reached ({_first_line(e)})') from None
    except HfHubHTTPError as e:
        raise HubModelError(f'{path}: the hub refused the download ({_first_line(e)})') from None


def _cache_dir() -> str:
    from huggingface_hub import constants
    return constants.HF_HUB_CACHE


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
