"""Readers: any supported XAS/XES file into one model Dataset.

:func:`read` looks at the first bytes of a file and hands it to the first
format module whose ``sniff`` accepts it, in the order of :data:`FORMATS`
(the generic column reader comes last and takes anything textual). Each
format module has two functions::

    sniff(path: pathlib.Path, head: bytes) -> bool
    parse(path: pathlib.Path, **options) -> spectro.model.Spectra
    OPTIONS: tuple[str, ...]   # the ReadOptions its parse takes

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

from ..errors import FormatError, LimitError, OptionError, SpectroError
from ..model import Spectra
from ..options import ReadOptions, options_of
from .checks import check_spectra
from .limits import Limits, check_file, using

__all__ = ["read", "parse", "FORMATS", "sniff_format"]

#: Format names, in the order they are tried; each is a module of this package.
FORMATS: tuple[str, ...] = ("bliss", "nexus", "athena", "xdi", "fio", "spec", "i20", "columns")

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
    check_file(path, size=False)  # a FIFO would block the open below
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    for name in FORMATS:
        if _module(name).sniff(path, head):
            return name
    raise FormatError("not a recognised XAS/XES file (binary, and not HDF5)", file=path)


def read(path: str | os.PathLike, options: ReadOptions | None = None, /, **changes: Any) -> xr.Dataset:
    """Read a XANES or XES file into a model Dataset.

    Parameters
    ----------
    path : str or path-like
        XDI, SPEC, DESY .fio, Athena project (.prj), NeXus/HDF5 NXxas, ESRF
        BLISS or Sardana HDF5 scans, Diamond I20 XES or a generic column file.
    options : ReadOptions, optional
        How to read (:class:`spectro.options.ReadOptions`): the format
        (default: detected), columns, mode, units, scans, groups, and
        per-scan metadata such as ``pressure``.
    **changes
        Changes to ``options`` by name, e.g. ``energy="ZapEnergy"``,
        ``mode="fluorescence"``, ``d_spacing=3.13551`` (Angstrom). An
        option the file's reader does not use is an
        :class:`~spectro.errors.OptionError`.

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
    spectra = parse(path, options, **changes)
    try:
        return spectra.to_dataset()
    except SpectroError as err:
        raise err.with_context(file=path) from err


def parse(path: str | os.PathLike, options: ReadOptions | None = None, /, **changes: Any) -> Spectra:
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
    opts = options_of(ReadOptions, options, changes)
    path = Path(path)
    try:
        with using(Limits.from_options(opts)):
            return _parse(path, opts)
    except SpectroError as err:
        raise err.with_context(file=path) from err
    except UnicodeDecodeError as err:
        raise FormatError(f"not valid text ({err.reason} at byte {err.start})", file=path) from err
    except OSError as err:
        raise FormatError(f"cannot be read: {err}", file=path) from err
    except RecursionError as err:
        raise LimitError("nested too deeply to be read", file=path) from err
    except MemoryError as err:
        raise LimitError("needs more memory than is available; lower the limits max_file_mb or "
                         "max_array_mb (--max-file-mb, --max-array-mb)", file=path) from err


def _parse(path: Path, opts: ReadOptions) -> Spectra:
    # each reader bounds what it reads: text by its size, HDF5 by its datasets; sniff_format checks the file first
    if opts.format:
        check_file(path, size=False)
    name = opts.format or sniff_format(path)
    if name not in FORMATS:
        raise OptionError("format", name, "one of " + ", ".join(repr(f) for f in FORMATS))
    module = _module(name)
    skip = set(ReadOptions.METADATA) | set(ReadOptions.LIMITS) | {"format"}
    given = {k: v for k, v in opts.changed().items() if k not in skip}
    for key, value in given.items():
        if key not in module.OPTIONS and key != "reference":
            raise OptionError(key, value, f"not used by the {name} reader, which takes "
                              + (", ".join(module.OPTIONS) or "no options"))
    if "reference" not in module.OPTIONS:
        given.pop("reference", None)
    spectra = module.parse(path, **given)
    if not opts.reference and "mu_ref" in spectra.signals:
        spectra = dataclasses.replace(spectra, signals={k: v for k, v in spectra.signals.items() if k != "mu_ref"})
    metadata = {k: getattr(opts, k) for k in ReadOptions.METADATA if getattr(opts, k) is not None}
    if metadata:
        spectra = spectra.with_values(**metadata)
    attrs = dict(spectra.attrs)
    attrs.setdefault("source_format", name)
    spectra = dataclasses.replace(spectra, attrs=attrs)
    check_spectra(spectra)
    return spectra
