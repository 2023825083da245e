"""User errors: a bad config, data file, path, checkpoint or a refused config change. `main` prints them
as one line on stderr and exits 2 (no traceback unless --verbose); anything else is a bug and keeps its
traceback."""

from __future__ import annotations

from lightreasoner_jax.data import DataError
from lightreasoner_jax.generation import GenerationConfigError
from lightreasoner_jax.models import (
    CheckpointError,
    HubModelError,
    StopTokenError,
    TokenizerMismatchError,
    UnsupportedModelError,
)
from lightreasoner_jax.pipeline.stages import StageConfigMismatchError
from lightreasoner_jax.pipeline.validation import ConfigError
from lightreasoner_jax.sampling import SampleFileError
from lightreasoner_jax.storage import WriteError
from lightreasoner_jax.training import CheckpointMismatchError, CheckpointUnreadableError

USER_ERRORS = (ConfigError, StageConfigMismatchError, DataError, SampleFileError, CheckpointError,
               CheckpointMismatchError, CheckpointUnreadableError, TokenizerMismatchError, UnsupportedModelError,
               HubModelError, StopTokenError, GenerationConfigError, FileNotFoundError, WriteError)
EXIT_USER_ERROR = 2


def one_line(error: BaseException) -> str:
    """The error's message on one line (multi-line messages, e.g. a checkpoint's list of problems, joined)."""
    text = ' '.join(part.strip() for part in str(error).splitlines() if part.strip())
    return f'error: {text or type(error).__name__}'
