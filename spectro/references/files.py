"""Finding a catalogued spectrum on disk, or downloading it, by its sha256.

Lookup order for a :class:`~spectro.references.entries.Reference`:

1. the folder named by the environment variable ``SPECTRO_DATA_DIR``
   (several folders separated by ``os.pathsep``), searched recursively
   (without following links to folders): files already known to hold the
   digest first, then the files not hashed yet, those with the catalogued
   name first;
2. the user cache, ``platformdirs.user_cache_path("spectro")``;
3. a download of the file pinned at its commit (:meth:`Reference.url`),
   at most :data:`MAX_DOWNLOAD_BYTES`, verified against the catalogued
   sha256 and kept in the cache.

A file is accepted only if its SHA-256 digest matches. The digests of a
data folder are kept in an index in the cache
(``index/<sha256 of the folder's path>.json``: each file's relative path,
size, modification time and digest), built once per folder and shared by
every process: a look-up ``stat``-s the folder's files and hashes only the
new or changed ones. :func:`read_verified` reads a reference's bytes once
and checks the digest on those bytes, the ones then parsed, so a file
changed after it was found is refused, not read.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import urllib.request
from pathlib import Path

import platformdirs

from ..errors import ReferenceNotFoundError
from .entries import Reference

__all__ = ["DATA_DIR_ENV", "MAX_DOWNLOAD_BYTES", "cache_dir", "data_dirs", "sha256", "locate", "download",
           "read_verified"]

#: Environment variable naming the folder(s) of local spectra.
DATA_DIR_ENV = "SPECTRO_DATA_DIR"

#: Largest download accepted, bytes (the catalogued spectra are at most a few MB).
MAX_DOWNLOAD_BYTES = 64 * 2**20

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


def _stats(folder: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of the regular files below ``folder`` (no folder links followed)."""
    out = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(root, name)
            with contextlib.suppress(OSError):
                st = os.stat(path)
                if st.st_mode & 0o170000 == 0o100000:  # a regular file (or a link to one)
                    out[os.path.relpath(path, folder)] = (st.st_size, st.st_mtime_ns)
    return out


def _index_path(folder: Path) -> Path:
    key = hashlib.sha256(os.fspath(folder.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "index" / f"{key}.json"


def _load_index(folder: Path) -> dict[str, list]:
    try:
        index = json.loads(_index_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def _save_index(folder: Path, index: dict[str, list]) -> None:
    """Write the index atomically; a cache that cannot be written only costs hashing again."""
    target = _index_path(folder)
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            tmp.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def _find_in(folder: Path, ref: Reference) -> Path | None:
    """The first file below ``folder`` whose digest is ``ref``'s, hashing only what the index does not know."""
    stats = _stats(folder)
    index = _load_index(folder)
    known = {rel: entry[2] for rel, entry in index.items()
             if rel in stats and isinstance(entry, list) and len(entry) == 3 and tuple(entry[:2]) == stats[rel]}
    pruned = {rel: index[rel] for rel in known}
    changed = len(pruned) != len(index)
    found = None
    for rel, digest in sorted(known.items(), key=lambda item: Path(item[0]).name != ref.file):
        if digest == ref.sha256:
            found = folder / rel
            break
    if found is None:
        fresh = sorted((rel for rel in stats if rel not in known), key=lambda rel: (Path(rel).name != ref.file, rel))
        for rel in fresh:
            try:
                digest = sha256(folder / rel)
            except OSError:
                continue
            pruned[rel] = [*stats[rel], digest]
            changed = True
            if digest == ref.sha256:
                found = folder / rel
                break
    if changed:
        _save_index(folder, pruned)
    return found


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
    for folder in data_dirs():
        found = _find_in(folder, ref)
        if found is not None:
            return found
    cached = _cached_path(ref)
    if cached.is_file() and sha256(cached) == ref.sha256:
        return cached
    return None


def read_verified(ref: Reference, path: str | os.PathLike) -> bytes:
    """The bytes of ``path``, read once, refused unless their SHA-256 is ``ref``'s.

    Raises
    ------
    ReferenceNotFoundError
        The file changed since it was found (its bytes have another digest).

    Examples
    --------
    >>> from spectro.references import get
    >>> ref = get("ceric_nio_300k")
    >>> p = locate(ref)
    >>> p is None or len(read_verified(ref, p)) > 0
    True
    """
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != ref.sha256:
        raise ReferenceNotFoundError(
            f"reference {ref.id!r}: the file changed after it was found (sha256 {digest[:12]}..., "
            f"catalogued {ref.sha256[:12]}...); not read", file=path)
    return data


def not_found_message(ref: Reference, reason: str) -> str:
    """What to do when ``ref`` cannot be found or fetched."""
    where = os.environ.get(DATA_DIR_ENV) or "unset"
    return (
        f"reference {ref.id!r} (file {ref.file!r}, sha256 {ref.sha256[:12]}...) {reason}; "
        f"searched {DATA_DIR_ENV} ({where}) and the cache {cache_dir()}. Set {DATA_DIR_ENV} "
        f"to a folder holding the file, or run `spectro refs fetch {ref.id}` when online "
        f"(source: {ref.url()})"
    )


def download(ref: Reference, *, base_url: str | None = None, max_bytes: int = MAX_DOWNLOAD_BYTES) -> Path:
    """Download ``ref`` into the cache, verifying its size and sha256, and return its path.

    The file is streamed into a temporary file beside its place in the
    cache, hashed on the way, and renamed into place only when it is
    complete, no larger than ``max_bytes`` and of the catalogued digest.

    Parameters
    ----------
    ref : Reference
    base_url : str, optional
        Replaces ``https://raw.githubusercontent.com`` (mirror or local server).
    max_bytes : int
        Largest download accepted (default :data:`MAX_DOWNLOAD_BYTES`, 64 MiB).

    Raises
    ------
    ReferenceNotFoundError
        When the download fails (offline, moved), is larger than
        ``max_bytes`` or its digest differs.

    Examples
    --------
    >>> from spectro.references import get
    >>> download(get("ceric_nio_300k"))  # doctest: +SKIP
    PosixPath('.../spectro/556275331e62d16b/NiO_111.xdi')
    """
    target = _cached_path(ref)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        digest = hashlib.sha256()
        size = 0
        with urllib.request.urlopen(ref.url(base_url), timeout=60) as response, open(tmp, "wb") as fh:
            announced = response.headers.get("Content-Length")
            if announced is not None and announced.isdigit() and int(announced) > max_bytes:
                raise ValueError(f"{int(announced)} bytes announced, more than the limit of {max_bytes}")
            for block in iter(lambda: response.read(_CHUNK), b""):
                size += len(block)
                if size > max_bytes:
                    raise ValueError(f"more than the limit of {max_bytes} bytes")
                digest.update(block)
                fh.write(block)
        if digest.hexdigest() != ref.sha256:
            raise ValueError(f"sha256 {digest.hexdigest()[:12]}... differs from the catalogued {ref.sha256[:12]}...")
        os.replace(tmp, target)
    except Exception as err:  # urllib raises URL, HTTP and OS errors alike; size and digest are ours
        raise ReferenceNotFoundError(
            not_found_message(ref, f"could not be downloaded ({type(err).__name__}: {err})")
        ) from err
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target
