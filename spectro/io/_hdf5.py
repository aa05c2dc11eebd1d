"""Opening HDF5 files safely: no data from other files unless asked, no oversized reads.

An HDF5 file can make its reader take data from elsewhere: an external
link names another file (any path, absolute or ``../``, even a FIFO that
blocks forever), a virtual dataset maps other files' datasets, and a
dataset may keep its values in external raw files. What is read from there
is not covered by the input file's SHA-256. :func:`open_file` walks every
link of the file without following any, and refuses such a file with a
:class:`~spectro.errors.LimitError` naming the link, unless the reading
option ``external_links`` is set; then every file reached must be a regular
file, and the files are listed in the ``external_files`` attribute of what
is read. :func:`values` reads a dataset only when its declared size is
within the limit ``max_array_mb``.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import h5py
import numpy as np

from ..errors import FormatError, LimitError
from .limits import current

__all__ = ["external_files", "open_file", "values"]

_REFUSED = "refused (the reading option external_links, --external-links on the command line, follows it)"


def _target(base: Path, name: str) -> Path:
    target = Path(name)
    return target if target.is_absolute() else base.parent / target


def _regular(target: Path, what: str) -> bool:
    """Whether ``target`` exists (a missing one gives nothing to read); LimitError unless a regular file."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return False
    except OSError as err:
        raise LimitError(f"{what}: {target} cannot be looked at ({err.strerror or err})") from None
    if not stat.S_ISREG(mode):
        raise LimitError(f"{what}: {target} is not a regular file; not opened")
    return True


def external_files(h5: h5py.File, path: Path) -> list[str]:
    """The other files ``h5`` reads data from; LimitError when not allowed or not regular files.

    Every link is looked at without being followed (``visititems_links``).
    """
    allowed = current().external_links
    found: list[str] = []
    problems: list[str] = []

    def visit(name: str, link) -> None:
        # nothing may be raised through HDF5's C iteration: problems are collected, raised after it
        if problems:
            return
        try:
            inspect(name, link)
        except LimitError as err:
            problems.append(err.problem)

    def inspect(name: str, link) -> None:
        where = "/" + name
        if isinstance(link, h5py.ExternalLink):
            what = f"{where} is an external link to {link.filename}:{link.path}"
            if not allowed:
                problems.append(f"{what}; {_REFUSED}")
                return
            target = _target(path, link.filename)
            if _regular(target, what):
                found.append(str(target))
            return
        if not isinstance(link, h5py.HardLink):
            return
        obj = h5.get(name)
        if not isinstance(obj, h5py.Dataset):
            return
        if obj.is_virtual:
            sources = sorted({src.file_name for src in obj.virtual_sources()})
            what = f"{where} is a virtual dataset reading {', '.join(sources)}"
            if not allowed:
                problems.append(f"{what}; {_REFUSED}")
                return
            for src in sources:
                if src != ".":
                    target = _target(path, src)
                    if _regular(target, what):
                        found.append(str(target))
        if obj.external:
            names = sorted({str(ext[0], "utf-8", "replace") if isinstance(ext[0], bytes) else str(ext[0])
                            for ext in obj.external})
            what = f"{where} keeps its values in the external file(s) {', '.join(names)}"
            if not allowed:
                problems.append(f"{what}; {_REFUSED}")
                return
            for src in names:
                target = _target(path, src)
                if _regular(target, what):
                    found.append(str(target))

    try:
        h5.visititems_links(visit)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as err:
        raise FormatError(f"HDF5 structure cannot be read ({err})") from err
    if problems:
        raise LimitError(problems[0])
    return sorted(set(found))


@contextlib.contextmanager
def open_file(path: Path) -> Iterator[tuple[h5py.File, list[str]]]:
    """Open ``path`` read-only after :func:`external_files` has accepted it.

    Yields the file and the other files it reads (empty unless allowed).
    """
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        raise FormatError(f"not a readable HDF5 file ({err})") from err
    with h5:
        yield h5, external_files(h5, path)


def values(dset: h5py.Dataset) -> np.ndarray:
    """A dataset's values as float64, refused when its declared size is above the limit.

    Raises
    ------
    LimitError
        More values than ``max_array_mb`` allows (checked before reading).
    """
    current().check_array(int(dset.size), f"HDF5 dataset {dset.name}")
    return np.asarray(dset[()], dtype=float)
