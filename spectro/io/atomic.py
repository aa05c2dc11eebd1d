"""Atomic files: a reader sees the old file, the new file, or nothing.

A writer writes to a temporary file in the destination folder (named
``.<name>.<random>.tmp``, so it is never mistaken for an output), flushes
it to disk and renames it over the destination with :func:`os.replace`,
which is atomic on POSIX and Windows within one file system. A process
killed mid-write leaves at most a stale temporary file
(:func:`spectro.batch.outputs.remove_stale_temporaries` deletes them).

The temporary file is created with mode ``0666`` less the user's umask,
as :func:`open` creates any file, so outputs get the permissions every other
file of the user gets (``0644`` under the usual umask ``022``; colleagues
sharing a beamline account can read them). :func:`tempfile.mkstemp` would
make them ``0600``.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["TMP_SUFFIX", "atomic_path", "write_bytes"]

#: Suffix of the temporary files (``.<name>.<random>.tmp``).
TMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; move it into place on success.

    On an exception the temporary file is removed and ``target`` is untouched.
    With ``durable`` the data are flushed to disk (``fsync``) before the
    rename, so that even a power failure cannot leave a truncated ``target``;
    without it the rename is still atomic for every other process (a killed
    writer never leaves a partial file), which is enough for records that
    are checked when read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temporary(target)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _new_temporary(target: Path) -> Path:
    """Create an empty, new ``.<name>.<random>.tmp`` beside ``target`` with mode 0666 less the umask."""
    while True:
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}{TMP_SUFFIX}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def write_bytes(target: str | os.PathLike, data: bytes, *, durable: bool = True) -> Path:
    """Write bytes atomically (see :func:`atomic_path`); return the target path."""
    with atomic_path(target, durable=durable) as tmp:
        tmp.write_bytes(data)
    return Path(target)
