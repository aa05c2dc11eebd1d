"""One writer per output folder: a lock held while a batch writes there.

:func:`output_lock` takes an exclusive :func:`fcntl.flock` on
``OUT/.spectro.lock`` and writes the process id, host and start time into
it. A second batch writing to the same folder (from this or any other
process of the machine) is refused with :class:`OutputLockedError`, naming
the process that holds it. The operating system releases the lock when
its process ends, however it ends, so a lock file left by a killed batch
is stale and is simply taken over: no manual clean-up, no wrong refusal.
A batch that ends removes the file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = ["LOCK_NAME", "OutputLockedError", "output_lock"]

#: The lock file in the output folder (hidden: never an input).
LOCK_NAME = ".spectro.lock"


class OutputLockedError(OSError):
    """The output folder is being written by another batch."""


@contextlib.contextmanager
def output_lock(out: str | os.PathLike) -> Iterator[Path]:
    """Hold the output folder ``out`` (created) for this process while the block runs.

    Raises
    ------
    OutputLockedError
        Another live process holds the folder; the message names it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with output_lock(out):
    ...     try:
    ...         with output_lock(out):
    ...             pass
    ...     except OutputLockedError as err:
    ...         print("refused:", "is being written by" in str(err))
    refused: True
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    fd = _locked(path, out)
    try:
        started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n".encode(), 0)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # while still locked: whoever opens the name next makes a new file
        os.close(fd)  # releases the lock


def _locked(path: Path, out: Path) -> int:
    """A descriptor of ``path`` holding its exclusive lock (the file at ``path`` when taken)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise OutputLockedError(
                errno.EBUSY,
                f"is being written by another spectro batch ({holder}); wait for it to finish or "
                "choose another output folder",
                os.fspath(out),
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not a file its previous holder removed between our open and our lock
            os.ftruncate(fd, 0)
            return fd
        os.close(fd)
