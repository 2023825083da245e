"""Log hygiene for the command-line entry points: what the libraries print that a user cannot act on."""

from __future__ import annotations

import logging
import os
import sys

from absl import logging as absl_logging

# transformers serves only tokenizers here: its "PyTorch was not found" advice is noise. Set on import,
# before anything imports transformers.
os.environ.setdefault('TRANSFORMERS_NO_ADVISORY_WARNINGS', '1')


class _QuietLibraries(logging.Filter):
    """Drops Orbax's per-save INFO lines (hundreds per run, cutting through the progress bar); keeps warnings."""

    def filter(self, record):
        return record.levelno >= logging.WARNING or f'{os.sep}orbax{os.sep}' not in record.pathname


def _drop_closed_loop_callbacks(unraisable) -> None:
    """A failed Orbax restore leaves tensorstore reads in flight whose completion callbacks reach asyncio's
    already closed loop; their tracebacks would bury the one-line error. Anything else is shown as usual."""
    if isinstance(unraisable.exc_value, RuntimeError) and str(unraisable.exc_value) == 'Event loop is closed':
        return
    sys.__unraisablehook__(unraisable)


def quiet_library_logs() -> None:
    absl_logging.get_absl_handler().addFilter(_QuietLibraries())
    sys.unraisablehook = _drop_closed_loop_callbacks
