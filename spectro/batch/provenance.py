"""Provenance of batch outputs: file digests, parameter hashes, versions, dates.

Every input of a batch is identified by its absolute path, the SHA-256 of
its bytes and the hash of the parameters it was processed with; the three
together form the *key* under which its record is kept, so a changed file or
a changed option is processed again on ``--resume`` and nothing else is.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import platform
from collections.abc import Mapping
from importlib import metadata
from typing import Any

__all__ = ["canonical_json", "environment", "file_sha256", "parameters_hash", "record_key", "utc_now"]

_CHUNK = 1 << 20
_LIBRARIES = ("numpy", "scipy", "xarray", "lmfit", "netCDF4", "h5netcdf", "h5py", "dask", "distributed")


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, as 64 hex digits.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> file_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace; non-JSON values as ``str``.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.5, "x"]})
    '{"a":[1.5,"x"],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def parameters_hash(parameters: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a parameter mapping.

    Examples
    --------
    >>> parameters_hash({"a": 1, "b": 2}) == parameters_hash({"b": 2, "a": 1})
    True
    """
    return hashlib.sha256(canonical_json(dict(parameters)).encode()).hexdigest()


def record_key(path: str | os.PathLike, sha256: str, params_hash: str) -> str:
    """Key of one input's record: hash of absolute path, file digest and parameters.

    Examples
    --------
    >>> k = record_key("/data/a.xdi", "0" * 64, "1" * 64)
    >>> len(k), k == record_key("/data/a.xdi", "0" * 64, "2" * 64)
    (32, False)
    """
    text = canonical_json([os.path.abspath(os.fspath(path)), sha256, params_hash])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def environment() -> dict[str, str]:
    """Versions of spectro, Python and the numerical libraries (flat, for attrs).

    Examples
    --------
    >>> env = environment()
    >>> sorted(k for k in env if k in ("spectro_version", "python_version"))
    ['python_version', 'spectro_version']
    """
    return dict(_versions())


@functools.lru_cache(maxsize=1)
def _versions() -> dict[str, str]:
    """:func:`environment`, looked up once per process (the package metadata takes about 10 ms)."""
    from .. import __version__

    env = {"spectro_version": __version__, "python_version": platform.python_version()}
    for name in _LIBRARIES:
        try:
            env[f"{name}_version"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return env


def utc_now() -> str:
    """The current UTC time in ISO 8601 with seconds, e.g. ``2024-05-01T12:00:00Z``."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
