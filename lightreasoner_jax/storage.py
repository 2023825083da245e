"""Failed writes (disk full, read-only file system, no permission) as one error naming the path and what
was being written, instead of an OSError that often carries neither."""

from __future__ import annotations

import contextlib
import errno
import os

# What a user can fix by freeing space or pointing the workdir elsewhere; other OSErrors stay bugs.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG})


class WriteError(OSError):
    """Something could not be written: the message names the path and what was being written."""

    def __str__(self):
        return self.strerror


@contextlib.contextmanager
def writing(path, what: str):
    """Turns a failed write inside the block into a WriteError naming `path` (or the file the OS names)."""
    try:
        yield
    except WriteError:
        raise
    except OSError as e:
        if e.errno not in WRITE_ERRNOS:
            raise
        where = e.filename if e.filename is not None else os.fspath(path)
        raise WriteError(e.errno, f'cannot write {what} to {where}: {e.strerror or e}') from e

