"""Limits every reader keeps, so that a hostile or broken file fails fast with an error.

A file is read only when it is a regular file (no FIFO, device or folder)
no larger than :attr:`Limits.max_file_bytes`; compressed text (gzip Athena
projects) is decompressed only up to the same size; an HDF5 dataset is
read only when its declared size is at most :attr:`Limits.max_array_bytes`;
nested lists and hashes of Athena projects may be at most
:attr:`Limits.max_depth` deep; a line of a text file may be at most
:attr:`Limits.max_line_chars` long (Athena projects, whose arrays fill a
line each, excepted). HDF5 external links, virtual datasets and datasets
stored in external files are refused unless
:attr:`Limits.external_links` is set; then the files they reach must be
regular files and are recorded in the ``external_files`` attribute.

The limits come from the reading options
(:class:`spectro.options.ReadOptions`: ``max_file_mb``, ``max_array_mb``,
``max_depth``, ``max_line_length``, ``external_links``); the two sizes
default to a share of the memory available to the process
(:func:`available_memory`: the smaller of the system's available memory
and what the address-space limit ``RLIMIT_AS`` leaves). Every breach is a
:class:`~spectro.errors.LimitError` naming the limit and the option that
raises it.

Examples
--------
>>> lim = Limits.from_options(ReadOptions(max_file_mb=10, max_depth=20))
>>> lim.max_file_bytes, lim.max_depth
(10000000, 20)
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import LimitError, MissingFileError
from ..options import ReadOptions

__all__ = [
    "FILE_SHARE",
    "ARRAY_SHARE",
    "Limits",
    "available_memory",
    "check_file",
    "current",
    "read_bytes",
    "using",
]

#: Default largest file (or decompressed text): this share of the available memory.
#: Text parsing takes about ten times the size of the text.
FILE_SHARE = 1 / 16
#: Default largest declared HDF5 dataset: this share of the available memory.
ARRAY_SHARE = 1 / 4


def available_memory() -> int:
    """Bytes this process may still allocate: the system's available memory, less under ``RLIMIT_AS``.

    Examples
    --------
    >>> available_memory() > 0
    True
    """
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = 4 << 30
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = 0
            with open("/proc/self/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmSize:"):
                        used = int(line.split()[1]) * 1024
                        break
            avail = min(avail, soft - used)
    except (ImportError, OSError, ValueError):
        pass
    return max(int(avail), 1 << 20)


@dataclass(frozen=True)
class Limits:
    """The limits of one read (see the module documentation).

    Attributes
    ----------
    max_file_bytes : int
        Largest file, and largest decompressed text, in bytes.
    max_array_bytes : int
        Largest HDF5 dataset, by its declared size as float64, in bytes.
    max_depth : int
        Deepest nesting of lists and hashes in an Athena project.
    max_line_chars : int
        Longest line of a text file, in characters.
    external_links : bool
        Whether HDF5 external links, virtual datasets and external storage are followed.
    """

    max_file_bytes: int
    max_array_bytes: int
    max_depth: int
    max_line_chars: int
    external_links: bool = False

    @classmethod
    def from_options(cls, options: ReadOptions) -> Limits:
        """The limits the reading options set (sizes in MB, 10^6 bytes; none: a share of the memory)."""
        memory = None
        if options.max_file_mb is None or options.max_array_mb is None:
            memory = available_memory()
        file_bytes = (
            int(options.max_file_mb * 1e6) if options.max_file_mb is not None else int(memory * FILE_SHARE)
        )
        array_bytes = (
            int(options.max_array_mb * 1e6) if options.max_array_mb is not None else int(memory * ARRAY_SHARE)
        )
        return cls(file_bytes, array_bytes, int(options.max_depth), int(options.max_line_length),
                   bool(options.external_links))

    def check_text_size(self, size: int, what: str = "the file") -> None:
        """Refuse ``size`` bytes of text above :attr:`max_file_bytes`."""
        if size > self.max_file_bytes:
            raise LimitError(
                f"{what} holds more than {_mb(self.max_file_bytes)} of data (the limit "
                f"max_file_mb; --max-file-mb on the command line)"
            )

    def check_array(self, n_items: int, where: str) -> None:
        """Refuse an array of ``n_items`` values (float64) above :attr:`max_array_bytes`."""
        if n_items * 8 > self.max_array_bytes:
            raise LimitError(
                f"{where} declares {n_items} values ({_mb(n_items * 8)} as float64), more than the "
                f"limit of {_mb(self.max_array_bytes)} (max_array_mb; --max-array-mb on the command line)"
            )

    def check_items(self, n_items: int, where: str) -> None:
        """Refuse ``n_items`` parsed values (about 64 bytes each as Python objects) above :attr:`max_array_bytes`."""
        if n_items * 64 > self.max_array_bytes:
            raise LimitError(
                f"{where} hold about {n_items} values ({_mb(n_items * 64)} as Python objects), more than the "
                f"limit of {_mb(self.max_array_bytes)} (max_array_mb; --max-array-mb on the command line)"
            )

    def check_lines(self, raw: bytes) -> None:
        """Refuse text with a line longer than :attr:`max_line_chars` bytes (LF, CR or CRLF ends a line).

        Vectorized over the bytes: linear in the size of the text.
        """
        if len(raw) <= self.max_line_chars:
            return
        codes = np.frombuffer(raw, dtype=np.uint8)
        ends = np.flatnonzero((codes == 10) | (codes == 13))
        bounds = np.concatenate(([-1], ends, [codes.size]))
        lengths = np.diff(bounds) - 1
        longest = int(np.argmax(lengths))
        if lengths[longest] > self.max_line_chars:
            line = int(np.count_nonzero(codes[: bounds[longest] + 1] == 10)) + 1 if longest else 1
            raise LimitError(
                f"line {line} has {int(lengths[longest])} characters, more than the limit of "
                f"{self.max_line_chars} (max_line_length; --max-line-length on the command line)"
            )


def _mb(n: int) -> str:
    return f"{n / 1e6:.3g} MB"


_CURRENT: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("spectro_io_limits", default=None)


def current() -> Limits:
    """The limits of the read in progress (:func:`spectro.io.parse` sets them), else the defaults.

    Examples
    --------
    >>> with using(Limits(1000, 1000, 5, 80)):
    ...     current().max_depth
    5
    """
    limits = _CURRENT.get()
    return limits if limits is not None else Limits.from_options(ReadOptions())


@contextlib.contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    """Make ``limits`` the :func:`current` ones inside a ``with`` block."""
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def check_file(path: str | os.PathLike, limits: Limits | None = None, *, size: bool = True) -> os.stat_result:
    """Refuse anything but a regular file within the size limit (unless ``size=False``), with a clear error.

    HDF5 files are not bounded by their size (a BLISS file holds detector
    images the reader never reads) but by the declared size of each dataset
    read; text is bounded by its size.

    Raises
    ------
    MissingFileError
        No such file, a folder, or a path that cannot be looked at (name
        too long, folder not readable).
    LimitError
        A FIFO, device or socket, or a file larger than the limit.

    Examples
    --------
    >>> import tempfile
    >>> check_file(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    spectro.errors.MissingFileError: a folder, not a file
    """
    limits = limits or current()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MissingFileError("no such file") from None
    except OSError as err:
        raise MissingFileError(f"cannot be looked at: {err.strerror or err}") from None
    if stat.S_ISDIR(st.st_mode):
        raise MissingFileError("a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise LimitError(f"{kind}, not a regular file: not opened")
    if size:
        limits.check_text_size(st.st_size, f"the file ({st.st_size} bytes)")
    return st


def read_bytes(path: str | os.PathLike, limits: Limits | None = None) -> bytes:
    """The bytes of a regular file within the size limit (:func:`check_file` first)."""
    limits = limits or current()
    st = check_file(path, limits)
    with open(path, "rb") as fh:
        data = fh.read(min(st.st_size, limits.max_file_bytes) + 1)
    limits.check_text_size(len(data))
    return data


def _is_regular(path: str | os.PathLike) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False

