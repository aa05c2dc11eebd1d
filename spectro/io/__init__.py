"""Readers: any supported XAS/XES file into one model Dataset.

:func:`read` looks at the first bytes of a file and hands it to the first
format module whose ``sniff`` accepts it, in the order of :data:`FORMATS`
(the generic column reader comes last and takes anything textual). Each
format module has two functions::

    sniff(path: pathlib.Path, head: bytes) -> bool
    parse(path: pathlib.Path, **options) -> spectro.model.Spectra

and gathers its scans with :meth:`spectro.model.Spectra.from_scans`.
:func:`parse` gives those arrays as they are (what a batch of many small
files wants); :func:`read` makes the model Dataset of them.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from typing import Any

import xarray as xr

from ..errors import FormatError, MissingFileError, SpectroError
from ..model import Spectra

__all__ = ["read", "parse", "FORMATS", "sniff_format"]

#: Format names, in the order they are tried; each is a module of this package.
FORMATS: tuple[str, ...] = ("nexus", "athena", "xdi", "spec", "i20", "columns")

_HEAD_BYTES = 4096


def _module(name: str):
    return importlib.import_module(f"{__name__}.{name}")


def sniff_format(path: str | os.PathLike) -> str:
    """Name of the format module that will read ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.xdi"
    >>> _ = path.write_text("# XDI/1.0\\n# Column.1: energy eV\\n# Column.2: mutrans\\n#----\\n")
    >>> sniff_format(path)
    'xdi'
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    for name in FORMATS:
        if _module(name).sniff(path, head):
            return name
    raise FormatError("not a recognised XAS/XES file (binary, and not HDF5)", file=path)


def read(path: str | os.PathLike, *, format: str | None = None, **options: Any) -> xr.Dataset:
    """Read a XANES or XES file into a model Dataset.

    Parameters
    ----------
    path : str or path-like
        XDI, SPEC, Athena project (.prj), NeXus/HDF5 NXxas, Diamond I20 XES
        or a generic column file.
    format : str, optional
        Skip detection and use this format module (one of :data:`FORMATS`).
    **options
        Passed to the format reader: e.g. ``energy="ZapEnergy"``,
        ``mode="fluorescence"``, ``d_spacing=3.13551`` (Angstrom). See each
        reader's documentation.

    Returns
    -------
    xarray.Dataset
        ``mu(scan, energy)`` or ``intensity(scan, emission_energy)`` in eV,
        valid by :func:`spectro.validate` (every reader builds it with
        :func:`spectro.model.build`, which validates).

    Raises
    ------
    SpectroError
        A subclass naming the file, the scan and the problem; nothing else.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> import spectro
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.dat"
    >>> e = np.arange(8300.0, 8400.0, 0.5)
    >>> np.savetxt(path, np.c_[e, 1 + np.tanh((e - 8345) / 3)], header="energy mu")
    >>> ds = spectro.read(path)
    >>> ds.mu.dims, ds.sizes["energy"], ds.energy.attrs["units"]
    (('scan', 'energy'), 200, 'eV')
    """
    spectra = parse(path, format=format, **options)
    try:
        return spectra.to_dataset()
    except SpectroError as err:
        raise err.with_context(file=path) from err


def parse(path: str | os.PathLike, *, format: str | None = None, **options: Any) -> Spectra:
    """Read a XANES or XES file into the arrays of its model Dataset, building no Dataset.

    Parameters, format detection and errors are those of :func:`read`,
    which is ``parse(path).to_dataset()``.

    Returns
    -------
    spectro.model.Spectra

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "scan.dat"
    >>> e = np.arange(8300.0, 8400.0, 0.5)
    >>> np.savetxt(path, np.c_[e, 1 + np.tanh((e - 8345) / 3)], header="energy mu")
    >>> sp = parse(path)
    >>> sp.kind, sp.signals["mu"][0].shape, sp.attrs["source_format"]
    ('xanes', (1, 200), 'columns')
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError("no such file", file=path)
    try:
        name = format or sniff_format(path)
        if name not in FORMATS:
            raise FormatError(f"unknown format {name!r}; choose from {list(FORMATS)}", file=path)
        spectra = _module(name).parse(path, **options)
        attrs = dict(spectra.attrs)
        attrs.setdefault("source_format", name)
        return dataclasses.replace(spectra, attrs=attrs)
    except SpectroError as err:
        raise err.with_context(file=path) from err
    except UnicodeDecodeError as err:
        raise FormatError(f"not valid text ({err.reason} at byte {err.start})", file=path) from err
    except OSError as err:
        raise FormatError(f"cannot be read: {err}", file=path) from err
