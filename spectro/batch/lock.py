"""One writer per output folder: a lock held while a batch writes there.

:func:`output_lock` creates ``OUT/.spectro.lock`` atomically
(``os.open`` with ``O_CREAT | O_EXCL``, which network file systems such as
NFS v3 and later honour across machines) and writes into it the process
id, the host and the start time of the batch. While the file exists, a
second batch writing to the same folder, from this or any other process or
machine, is refused with :class:`OutputLockedError`, naming the holder. A
batch that ends removes the file.

A lock file outlives a batch that was killed. It is stale, and taken over
with a :class:`~spectro.errors.SpectroWarning`, when its process is known
to be gone: it was written on this host and no process of that id runs.
A lock written on another host cannot be checked from here; it is refused
with a message that says which file to delete once that batch is known to
be gone.

In addition, the holder takes an exclusive :func:`fcntl.flock` on the file
where the file system supports it (local disks; not reliably NFS), which
the operating system releases when its process ends, however it ends:
another process that finds the file flocked knows its holder is alive
(even if its process id was reused), and a stale lock is removed only under
that flock, so that two batches that find the same stale lock cannot both
take it over.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import os
import re
import socket
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..errors import SpectroWarning

__all__ = ["LOCK_NAME", "OutputLockedError", "output_lock"]

#: The lock file in the output folder (hidden: never an input).
LOCK_NAME = ".spectro.lock"

#: What the lock file says: ``pid <id> on <host>, started <UTC time>``.
_HOLDER = re.compile(r"pid (?P<pid>\d+) on (?P<host>.+), started (?P<started>\S+)")

#: Attempts to take the lock while other processes create or remove it at the same moment.
_ATTEMPTS = 50


class OutputLockedError(OSError):
    """The output folder is being written by another batch."""


@contextlib.contextmanager
def output_lock(out: str | os.PathLike) -> Iterator[Path]:
    """Hold the output folder ``out`` (created) for this process while the block runs.

    Raises
    ------
    OutputLockedError
        Another batch holds the folder (its process runs, or it runs on
        another host); the message names it.

    Warns
    -----
    SpectroWarning
        The lock of a batch whose process is gone was taken over.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> with output_lock(out) as lock:
    ...     print(lock.read_text().startswith(f"pid {os.getpid()} on "))
    ...     try:
    ...         with output_lock(out):
    ...             pass
    ...     except OutputLockedError as err:
    ...         print("refused:", "is being written by" in str(err))
    True
    refused: True
    >>> (out / LOCK_NAME).exists()
    False
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    fd = _acquire(path, out)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:  # our file (still flocked: nobody removes it meanwhile)
                path.unlink()
        os.close(fd)  # releases the flock


def _acquire(path: Path, out: Path) -> int:
    """A descriptor of the lock file ``path``, created by this process and holding its details."""
    for _ in range(_ATTEMPTS):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            _clear_if_stale(path, out)  # refuses when held; else it was removed: try again
            continue
        _flock(fd, wait=True)
        started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n".encode())
        os.fsync(fd)
        return fd
    raise OutputLockedError(errno.EBUSY, f"its lock file {LOCK_NAME} keeps being created and removed by other "
                            "processes; try again", os.fspath(out))


def _clear_if_stale(path: Path, out: Path) -> None:
    """Remove the existing lock file ``path`` if its batch is gone; :class:`OutputLockedError` if not."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return  # removed meanwhile
    try:
        flocked = not _flock(fd, wait=False)
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        holder = _HOLDER.fullmatch(text)
        if flocked or holder is None:  # alive, or still writing its details (or a damaged file)
            _refuse(out, path, text or "a batch that is starting", certain=flocked)
        if holder["host"] != socket.gethostname() or _alive(int(holder["pid"])):
            _refuse(out, path, text, certain=False)  # another host's, or its process id is in use
        if not _same_file(path, fd):
            return  # replaced meanwhile: look again
        os.unlink(path)
        warnings.warn(f"{out}: took over the lock of a batch whose process is gone ({text})",
                      SpectroWarning, stacklevel=5)
    finally:
        os.close(fd)


def _refuse(out: Path, path: Path, holder: str, *, certain: bool) -> None:
    """Raise :class:`OutputLockedError` naming the holder; unless ``certain`` that it runs, say how to clear it."""
    hint = "" if certain else f"; if that batch is no longer running, delete {path}"
    raise OutputLockedError(
        errno.EBUSY,
        f"is being written by another spectro batch ({holder}); wait for it to finish or choose "
        f"another output folder{hint}",
        os.fspath(out),
    )


def _flock(fd: int, *, wait: bool) -> bool:
    """Take the exclusive flock of ``fd``: False when another process holds it, True when taken or not supported.

    With ``wait``, a flock held by another process is waited for a
    little (a process that checks whether a new lock is stale holds it
    for a moment).
    """
    for _ in range(200 if wait else 1):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if wait:
                time.sleep(0.01)
        except OSError:  # not supported by this file system (some NFS mounts): the lock file alone
            return True
    return False


def _alive(pid: int) -> bool:
    """Whether a process of id ``pid`` runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def _same_file(path: Path, fd: int) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
