"""Finding a catalogued spectrum on disk, or downloading it, by its sha256.

Lookup order for a :class:`~spectro.references.entries.Reference`:

1. the folder named by the environment variable ``SPECTRO_DATA_DIR``
   (several folders separated by ``os.pathsep``), searched recursively:
   files with the catalogued name first, then every other file;
2. the user cache, ``platformdirs.user_cache_path("spectro")``;
3. a download of the file pinned at its commit (:meth:`Reference.url`),
   verified against the catalogued sha256 by :func:`pooch.retrieve` and kept
   in the cache.

A file is accepted only if its SHA-256 digest matches. Digests are cached
in memory by (path, size, modification time), so repeated look-ups only
``stat`` files and never rehash an unchanged tree.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from ..errors import ReferenceNotFoundError
from .entries import Reference

__all__ = ["DATA_DIR_ENV", "cache_dir", "data_dirs", "sha256", "locate", "download"]

#: Environment variable naming the folder(s) of local spectra.
DATA_DIR_ENV = "SPECTRO_DATA_DIR"

_CHUNK = 1 << 20
_DIGESTS: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path:
    """The user cache folder for downloaded references.

    Examples
    --------
    >>> cache_dir().name
    'spectro'
    """
    return platformdirs.user_cache_path("spectro")


def data_dirs() -> list[Path]:
    """Existing folders named by ``SPECTRO_DATA_DIR`` (empty when unset).

    Examples
    --------
    >>> isinstance(data_dirs(), list)
    True
    """
    value = os.environ.get(DATA_DIR_ENV, "")
    dirs = [Path(p).expanduser() for p in value.split(os.pathsep) if p]
    return [d for d in dirs if d.is_dir()]


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file, cached by (path, size, mtime).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    path = Path(path)
    st = path.stat()
    key = (os.fspath(path.resolve()), st.st_size, st.st_mtime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                h.update(block)
        digest = _DIGESTS[key] = h.hexdigest()
    return digest


def _files(folder: Path, name: str) -> Iterator[Path]:
    """Files under ``folder``: those called ``name`` first, then the rest."""
    everything = sorted(p for p in folder.rglob("*") if p.is_file())
    yield from (p for p in everything if p.name == name)
    yield from (p for p in everything if p.name != name)


def _cached_path(ref: Reference) -> Path:
    return cache_dir() / ref.sha256[:16] / Path(ref.path).name


def locate(ref: Reference) -> Path | None:
    """Local copy of ``ref`` in ``SPECTRO_DATA_DIR`` or the cache, else None.

    Examples
    --------
    >>> from spectro.references import get
    >>> p = locate(get("ceric_nio_300k"))
    >>> p is None or sha256(p) == get("ceric_nio_300k").sha256
    True
    """
    cached = _cached_path(ref)
    for folder in data_dirs():
        for candidate in _files(folder, ref.file):
            if sha256(candidate) == ref.sha256:
                return candidate
    if cached.is_file() and sha256(cached) == ref.sha256:
        return cached
    return None


def not_found_message(ref: Reference, reason: str) -> str:
    """What to do when ``ref`` cannot be found or fetched."""
    where = os.environ.get(DATA_DIR_ENV) or "unset"
    return (
        f"reference {ref.id!r} (file {ref.file!r}, sha256 {ref.sha256[:12]}...) {reason}; "
        f"searched {DATA_DIR_ENV} ({where}) and the cache {cache_dir()}. Set {DATA_DIR_ENV} "
        f"to a folder holding the file, or run `spectro refs fetch {ref.id}` when online "
        f"(source: {ref.url()})"
    )


def download(ref: Reference, *, base_url: str | None = None) -> Path:
    """Download ``ref`` into the cache, verifying its sha256, and return its path.

    Parameters
    ----------
    ref : Reference
    base_url : str, optional
        Replaces ``https://raw.githubusercontent.com`` (mirror or local server).

    Raises
    ------
    ReferenceNotFoundError
        When the download fails (offline, moved) or the digest differs.

    Examples
    --------
    >>> from spectro.references import get
    >>> download(get("ceric_nio_300k"))  # doctest: +SKIP
    PosixPath('.../spectro/556275331e62d16b/NiO_111.xdi')
    """
    import pooch

    target = _cached_path(ref)
    try:
        fetched = pooch.retrieve(
            ref.url(base_url),
            known_hash=f"sha256:{ref.sha256}",
            fname=target.name,
            path=target.parent,
            progressbar=False,
        )
    except Exception as err:  # pooch raises requests, OS and hash errors alike
        raise ReferenceNotFoundError(
            not_found_message(ref, f"could not be downloaded ({type(err).__name__}: {err})")
        ) from err
    return Path(fetched)
