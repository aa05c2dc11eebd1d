"""Writers: XANES Datasets into the files peers read (XDI, Athena projects, NeXus NXxas).

Each writer takes model Datasets (as :func:`spectro.read` gives them) and
writes every scan with the points where its ``mu`` is known (a scan of a
Dataset on a union grid is written on its own points), atomically and with
the user's umask (:mod:`spectro.batch.outputs`). What each scan carries:

======================  ===================  ========================  ======================
                        XDI (one scan)       Athena project            NeXus NXxas
======================  ===================  ========================  ======================
energy (eV), mu         columns ``energy``,  group ``x``, ``y``        ``energy``,
                        ``mutrans``                                    ``intensity``,
                        (``mufluor``,                                  ``rawdata``
                        ``normtrans``...)
mu_ref                  column ``murefer``   a ``Ref`` group paired    ``rawdata`` column
                                             by ``referencegroup``     ``murefer``
scan label              ``Spectro.scan``     group label               entry name
element, edge           ``Element.*``        ``bkg_z``                 ``element/symbol``,
                                                                       ``edge/name``
pressure, temperature,  ``Sample.*``         --                        ``sample/*``
sample
pressure_err, run       ``Spectro.*``        --                        --
normalization           --                   ``bkg_e0``, ``bkg_pre1``  --
                                             ... ``bkg_step``
======================  ===================  ========================  ======================

The element and edge come from the Dataset (``element``/``edge``
coordinates, XDI ``Element.*`` attrs, Athena ``athena_element``); when it
names none they are those of the tabulated edge nearest the steepest rise
of ``mu`` (``xraydb.guess_edge``). The measurement mode (``mutrans`` or
``mufluor``) comes from the reader's ``mode``/``measurement_mode``; an
already-normalized ``mu`` (``attrs["normalized"]``) is written as
``normtrans``/``normfluor``, an Athena group of type ``norm`` and an NXxas
``rawdata`` column ``norm``, so that it is read back as normalized.

Athena's normalization parameters are those the Dataset came with (the
``athena_*`` coordinates of a project) or else those of the
:func:`spectro.xanes.normalize` result passed in (``spectro convert`` passes
it, with the default :class:`~spectro.options.XanesOptions`): ``bkg_e0`` the anchoring E0,
``bkg_pre1`` ... ``bkg_nor2`` the windows used, ``bkg_nnorm`` the number of
terms of the post-edge polynomial (order + 1, Athena's convention),
``bkg_step`` the edge step. Energies are written as spectro reads them, with
any Athena energy shift already applied (``bkg_eshift`` 0). The project is
the gzip-compressed Perl text that Athena writes (Demeter 0.9 layout).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import DataError, FormatError
from ..model import kind_of
from .atomic import atomic_path, write_bytes

__all__ = ["FORMATS", "write", "write_athena", "write_nxxas", "write_xdi"]

#: Output formats and the file suffixes that name one output file.
FORMATS: dict[str, tuple[str, ...]] = {"xdi": (".xdi",), "athena": (".prj",), "nxxas": (".h5", ".nxs", ".hdf5", ".nx5")}

_ATHENA_PARAMS = {  # athena_* coordinate -> Athena arg
    "athena_e0": "bkg_e0",
    "athena_pre1": "bkg_pre1",
    "athena_pre2": "bkg_pre2",
    "athena_nor1": "bkg_nor1",
    "athena_nor2": "bkg_nor2",
    "athena_nnorm": "bkg_nnorm",
    "athena_step": "bkg_step",
}


@dataclass(frozen=True)
class _Spectrum:
    """One scan as it is written: its own points, its signals and what is known about it."""

    label: str
    energy: np.ndarray
    mu: np.ndarray
    mu_ref: np.ndarray | None
    extra: dict[str, np.ndarray]
    element: str
    edge: str
    mode: str
    normalized: bool
    coords: dict[str, Any] = field(default_factory=dict)
    athena: dict[str, Any] = field(default_factory=dict)


def _value(ds: xr.Dataset, i: int, *names: str) -> Any:
    """A per-scan value: the first of ``names`` (or ``scan_<name>``) along scan, else a Dataset attr."""
    for name in names:
        for key in (name, f"scan_{name}"):
            if key in ds.coords and ds[key].dims == ("scan",):
                return ds[key].values[i].item() if hasattr(ds[key].values[i], "item") else ds[key].values[i]
        if name in ds.attrs:
            return ds.attrs[name]
    return None


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _guess_edge(energy: np.ndarray, mu: np.ndarray) -> tuple[str, str]:
    import xraydb

    steepest = float(energy[int(np.argmax(np.gradient(mu, energy)))]) if energy.size > 2 else float(energy[0])
    element, edge = xraydb.guess_edge(steepest)
    return str(element), str(edge)


def _spectra(ds: xr.Dataset) -> list[_Spectrum]:
    """The scans of a XANES Dataset as they are written."""
    if kind_of(ds) != "xanes":
        raise DataError("only XANES Datasets (mu) can be written to XDI, Athena or NXxas",
                        file=ds.attrs.get("source_file"))
    out = []
    energy = np.asarray(ds.energy.values, dtype=float)
    for i, label in enumerate(ds.scan.values.tolist()):
        mu = np.asarray(ds.mu.values[i], dtype=float)
        keep = np.isfinite(mu)
        ref = np.asarray(ds.mu_ref.values[i], dtype=float) if "mu_ref" in ds else None
        if ref is not None and np.isfinite(ref[keep]).any():
            keep &= np.isfinite(ref)
        else:
            ref = None
        if keep.sum() < 2:
            raise DataError(f"scan {label!r} has {int(keep.sum())} finite points: nothing to write",
                            file=ds.attrs.get("source_file"))
        e, m = energy[keep], mu[keep]
        extra = {n: np.asarray(ds[n].values[i], dtype=float)[keep] for n in ("i0", "mu_stddev") if n in ds}
        extra = {n: v for n, v in extra.items() if np.isfinite(v).all()}
        element = _text(_value(ds, i, "element", "athena_element", "Element.symbol"))
        edge = _text(_value(ds, i, "edge", "Element.edge"))
        if not element:
            element, guessed = _guess_edge(e, m)
            edge = edge or guessed
        mode_text = " ".join(_text(_value(ds, i, n)) for n in ("measurement_mode", "mode", "mu_column")).lower()
        normalized = _finite(_value(ds, i, "normalized")) == 1.0 or _text(_value(ds, i, "athena_datatype")) == "norm"
        coords = {k: _value(ds, i, k) for k in ("pressure", "pressure_err", "temperature", "sample", "run",
                                                "source", "title", "start_time")}
        athena = {arg: _value(ds, i, name) for name, arg in _ATHENA_PARAMS.items() if name in ds.coords}
        if "athena_flatten" in ds.coords:
            athena["bkg_flatten"] = int(bool(_value(ds, i, "athena_flatten")))
        out.append(_Spectrum(str(label), e, m, None if ref is None else ref[keep], extra, element, edge or "K",
                             "fluorescence" if "fluor" in mode_text else "transmission", normalized, coords, athena))
    return out


def _datasets(data: xr.Dataset | Iterable[xr.Dataset]) -> list[_Spectrum]:
    datasets = [data] if isinstance(data, xr.Dataset) else list(data)
    if not datasets:
        raise DataError("no Dataset to write")
    return [s for ds in datasets for s in _spectra(ds)]


def _unique(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        new, n = name, 1
        while new in seen:
            n += 1
            new = f"{name}_{n}"
        seen.add(new)
        out.append(new)
    return out


def _number(x: float) -> str:
    return repr(float(x))


# --- XDI ---------------------------------------------------------------------------------


def _column_names(s: _Spectrum) -> tuple[str, str]:
    kind = "norm" if s.normalized else "mu"
    mode = "fluor" if s.mode == "fluorescence" else "trans"
    return f"{kind}{mode}", f"{kind}refer"


def _field_value(text: str) -> str:
    return " ".join(str(text).split())


def xdi_text(s: _Spectrum) -> str:
    """The text of the XDI 1.0 file of one scan (see :func:`write_xdi`)."""
    from .. import __version__

    mu_name, ref_name = _column_names(s)
    columns = ["energy", mu_name] + ([ref_name] if s.mu_ref is not None else [])
    lines = [f"# XDI/1.0 spectro/{__version__}", "# Column.1: energy eV"]
    lines += [f"# Column.{k}: {name}" for k, name in enumerate(columns[1:], start=2)]
    lines += [f"# Element.symbol: {s.element}", f"# Element.edge: {s.edge}"]
    c = s.coords
    if _text(c.get("sample")):
        lines.append(f"# Sample.name: {_field_value(c['sample'])}")
    if _finite(c.get("temperature")) is not None:
        lines.append(f"# Sample.temperature: {_number(c['temperature'])} K")
    if _finite(c.get("pressure")) is not None:
        lines.append(f"# Sample.pressure: {_number(c['pressure'])} GPa")
    if _text(c.get("start_time")) and re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d", _text(c["start_time"])):
        lines.append(f"# Scan.start_time: {_text(c['start_time'])}")
    lines.append(f"# Spectro.scan: {_field_value(s.label) or 'scan'}")
    if _finite(c.get("pressure_err")) is not None:
        lines.append(f"# Spectro.pressure_err: {_number(c['pressure_err'])} GPa")
    if _text(c.get("run")):
        lines.append(f"# Spectro.run: {_field_value(c['run'])}")
    lines.append("# ///")
    source = _text(c.get("source"))
    lines.append(f"# written by spectro {__version__}" + (f" from {source}" if source else ""))
    lines += ["#----", "# " + " ".join(columns)]
    table = np.column_stack([s.energy, s.mu] + ([s.mu_ref] if s.mu_ref is not None else []))
    lines += [" ".join(_number(v) for v in row) for row in table]
    return "\n".join(lines) + "\n"


def write_xdi(ds: xr.Dataset, path: str | os.PathLike, *, scan: str | int | None = None) -> Path:
    """Write one scan of a XANES Dataset as an XDI 1.0 file.

    Parameters
    ----------
    ds : xarray.Dataset
        Model XANES Dataset (``mu``, optional ``mu_ref``; eV).
    path : str or path-like
        The file to write (replaced atomically).
    scan : str or int, optional
        The scan to write, by label or index; required when ``ds`` has
        several (an XDI file holds one spectrum).

    Returns
    -------
    pathlib.Path
        ``path``. Columns ``energy`` (eV), ``mutrans`` (or ``mufluor``,
        ``normtrans``, ``normfluor``) and ``murefer`` when a reference
        exists; fields ``Element.symbol``, ``Element.edge``,
        ``Sample.name``/``temperature`` (K)/``pressure`` (GPa) when known,
        and ``Spectro.scan``, ``Spectro.run``, ``Spectro.pressure_err``
        (GPa), which spectro reads back. Numbers are written with all their
        digits (``repr``), so they read back to the same floats.

    Raises
    ------
    DataError
        Not a XANES Dataset, several scans and no ``scan``, or a scan with
        fewer than 2 points.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0, reference=True).assign_coords(pressure=("scan", [3.5]))
    >>> path = write_xdi(ds, pathlib.Path(tempfile.mkdtemp()) / "scan.xdi")
    >>> back = spectro.read(path)
    >>> bool((back.mu == ds.mu).all()), float(back.pressure[0]), back.attrs["Element.symbol"]
    (True, 3.5, 'Ni')
    """
    spectra = _spectra(ds)
    if scan is None:
        if len(spectra) != 1:
            raise DataError(f"{len(spectra)} scans, and an XDI file holds one: choose it with scan=",
                            file=ds.attrs.get("source_file"))
        chosen = spectra[0]
    else:
        labels = [s.label for s in spectra]
        index = scan if isinstance(scan, int) else (labels.index(str(scan)) if str(scan) in labels else None)
        if index is None or not -len(spectra) <= index < len(spectra):
            raise DataError(f"no scan {scan!r}; scans are {labels}", file=ds.attrs.get("source_file"))
        chosen = spectra[index]
    return write_bytes(path, xdi_text(chosen).encode())


# --- Athena ------------------------------------------------------------------------------


def _perl(value: Any) -> str:
    """A Perl literal: a single-quoted string (``\\`` and ``'`` escaped), a number as text, a list."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_perl(v) for v in value) + "]"
    if isinstance(value, (float, np.floating)):
        value = _number(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _perl_array(values: np.ndarray) -> str:
    return ",".join(f"'{_number(v)}'" for v in values)


def _keys(n: int) -> list[str]:
    """``n`` distinct five-letter Athena group keys, the same for the same ``n``."""
    out = []
    for i in range(n):
        digits = []
        for _ in range(5):
            i, r = divmod(i, 26)
            digits.append(chr(97 + r))
        out.append("".join(reversed(digits)))
    return out


def _normalization_args(spectra: list[_Spectrum], datasets: list[xr.Dataset],
                        normalization: list[xr.Dataset | None]) -> list[dict[str, Any]]:
    """Each scan's Athena normalization parameters: those it came with, else those of its normalization."""
    out: list[dict[str, Any]] = []
    for ds, found in zip(datasets, normalization):
        mine = spectra[len(out): len(out) + ds.sizes["scan"]]
        if found is not None and found.sizes.get("scan") != ds.sizes["scan"]:
            raise DataError(f"the normalization has {found.sizes.get('scan')} scans, the Dataset "
                            f"{ds.sizes['scan']}", file=ds.attrs.get("source_file"))
        for i, s in enumerate(mine):
            if s.athena:
                args = dict(s.athena)
            elif s.normalized:
                args = {"bkg_step": 1.0, "bkg_fixstep": 1}
            elif found is not None:
                args = {
                    "bkg_e0": float(found.e0_anchor[i]),
                    "bkg_pre1": float(found.pre1[i]),
                    "bkg_pre2": float(found.pre2[i]),
                    "bkg_nor1": float(found.norm1[i]),
                    "bkg_nor2": float(found.norm2[i]),
                    "bkg_nnorm": int(found.nnorm[i]) + 1,
                    "bkg_step": float(found.edge_step[i]),
                }
            else:
                args = {}
            args = {k: v for k, v in args.items() if _finite(v) is not None}
            if "bkg_step" in args:
                args["bkg_fitted_step"] = args["bkg_step"]
            args.setdefault("bkg_flatten", 1)
            out.append(args)
    return out


def _as_list(value: Any, n: int, what: str) -> list[Any]:
    if value is None or isinstance(value, xr.Dataset):
        return [value] * n if value is None or n == 1 else _too_few(what, 1, n)
    values = list(value)
    return values if len(values) == n else _too_few(what, len(values), n)


def _too_few(what: str, got: int, n: int) -> list[Any]:
    raise DataError(f"{got} {what} for {n} Datasets: give one per Dataset")


def _athena_args(s: _Spectrum, key: str, label: str, energy: np.ndarray, params: dict[str, Any],
                 partner: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "label": label,
        "datagroup": key,
        "tag": key,
        "group": key,
        "recordtype": "mu(E)",
        "datatype": "norm" if s.normalized else "xmu",
        "is_xmu": 0 if s.normalized else 1,
        "is_nor": 1 if s.normalized else 0,
        "is_merge": 0,
        "is_chi": 0,
        "is_kev": 0,
        "bkg_eshift": 0,
        "bkg_z": s.element,
        "fft_edge": s.edge.lower(),
        "npts": int(energy.size),
        "xmin": _number(energy.min()),
        "xmax": _number(energy.max()),
        "referencegroup": partner,
        "reference": partner,
        "update_norm": 1,
        "update_bkg": 1,
        "update_fft": 1,
        "update_bft": 1,
        "titles": [],
        "source": _text(s.coords.get("source")),
        "file": _text(s.coords.get("source")),
        "provenance": "written by spectro",
    }
    args.update(params)
    return args


def athena_text(data: xr.Dataset | Iterable[xr.Dataset], *,
                normalization: xr.Dataset | Sequence[xr.Dataset | None] | None = None) -> str:
    """The Perl text of the Athena project of ``data`` (see :func:`write_athena`), not compressed."""
    import time

    from .. import __version__

    datasets = [data] if isinstance(data, xr.Dataset) else list(data)
    spectra = _datasets(datasets)
    params = _normalization_args(spectra, datasets, _as_list(normalization, len(datasets), "normalizations"))
    keys = _keys(sum(2 if s.mu_ref is not None else 1 for s in spectra))
    lines = [
        "# Athena project file -- Demeter version 0.9.26",
        f"# This file created at {time.strftime('%Y-%m-%dT%H:%M:%S')}",
        f"# Using spectro {__version__}",
    ]
    k = 0
    for s, p in zip(spectra, params):
        key = keys[k]
        ref_key = keys[k + 1] if s.mu_ref is not None else ""
        k += 2 if s.mu_ref is not None else 1
        groups = [(key, s.label, s.mu, p, ref_key)]
        if s.mu_ref is not None:
            ref_params = {"bkg_flatten": p.get("bkg_flatten", 1)}
            groups.append((ref_key, f"  Ref {s.label}", s.mu_ref, ref_params, key))
        for gkey, label, y, args, partner in groups:
            full = _athena_args(s, gkey, label, s.energy, args, partner)
            lines += [
                "",
                f"$old_group = {_perl(gkey)};",
                "@args = (" + ",".join(f"{_perl(a)},{_perl(v)}" for a, v in full.items()) + ");",
                f"@x = ({_perl_array(s.energy)});",
                f"@y = ({_perl_array(y)});",
            ]
            if gkey == key and "i0" in s.extra:
                lines.append(f"@i0 = ({_perl_array(s.extra['i0'])});")
            if gkey == key and "mu_stddev" in s.extra:
                lines.append(f"@stddev = ({_perl_array(s.extra['mu_stddev'])});")
            lines.append("[record] #")
    lines += ["", "@journal = ();", "", "1;", ""]
    return "\n".join(lines)


def write_athena(data: xr.Dataset | Iterable[xr.Dataset], path: str | os.PathLike, *,
                 normalization: xr.Dataset | Sequence[xr.Dataset | None] | None = None) -> Path:
    """Write XANES Datasets as one Athena project (``.prj``).

    Parameters
    ----------
    data : xarray.Dataset or iterable of them
        Model XANES Datasets; every scan becomes a group labelled by the
        scan label, and a scan's ``mu_ref`` a reference group (``Ref
        <label>``) paired with it, as Athena's import with a reference
        channel makes them.
    path : str or path-like
        The project to write (gzip-compressed Perl text, as Athena writes).
    normalization : xarray.Dataset or sequence of them, optional
        What :func:`spectro.xanes.normalize` gives for each Dataset (one per
        Dataset, None for one without): the normalization parameters of
        the scans that do not come from an Athena project. Without it such
        groups get no ``bkg_e0`` ... ``bkg_step``, and Athena finds its own.

    Returns
    -------
    pathlib.Path
        ``path``. Each group carries ``x`` (eV), ``y`` (mu), ``i0`` and
        ``stddev`` when the Dataset has them, and the parameters of the
        module documentation.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0, reference=True)
    >>> norm = spectro.xanes.normalize(ds)
    >>> path = write_athena(ds, pathlib.Path(tempfile.mkdtemp()) / "sim.prj", normalization=norm)
    >>> back = spectro.read(path)
    >>> back.scan.values.tolist(), bool((back.mu_ref == ds.mu_ref).all()), back.athena_element.values.tolist()
    (['sim0000'], True, ['Ni'])
    >>> bool(back.athena_step == norm.edge_step)
    True
    """
    text = athena_text(data, normalization=normalization)
    return write_bytes(path, gzip.compress(text.encode("utf-8"), mtime=0))


# --- NeXus NXxas -------------------------------------------------------------------------


def _entry_name(label: str) -> str:
    name = label.replace("/", "_").strip() or "scan"
    return "_" + name if name.startswith(".") else name


def write_nxxas(data: xr.Dataset | Iterable[xr.Dataset], path: str | os.PathLike) -> Path:
    """Write XANES Datasets as a NeXus file of NXxas entries, one per scan.

    Parameters
    ----------
    data : xarray.Dataset or iterable of them
        Model XANES Datasets.
    path : str or path-like
        The HDF5 file to write (replaced atomically).

    Returns
    -------
    pathlib.Path
        ``path``. Each entry (named by the scan label, ``/`` replaced by
        ``_``, made unique) has ``definition`` NXxas, ``title``, ``mode``,
        ``energy`` (``units`` eV), ``intensity`` (mu), ``element/symbol``,
        ``edge/name``, ``sample/name``, ``sample/temperature`` (K) and
        ``sample/pressure`` (GPa) when known, an NXdata group ``plot`` and
        ``rawdata``: the columns energy, mu and mu_ref with their names in
        ``array_labels``, which spectro's NeXus reader reads back.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0, reference=True)
    >>> path = write_nxxas(ds, pathlib.Path(tempfile.mkdtemp()) / "sim.h5")
    >>> back = spectro.read(path)
    >>> back.scan.values.tolist(), bool((back.mu == ds.mu).all()), back.element.values.tolist()
    (['sim0000'], True, ['Ni'])
    """
    import h5py

    spectra = _datasets(data)
    names = _unique([_entry_name(s.label) for s in spectra])
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as h5:
        h5.attrs["NX_class"] = "NXroot"
        h5.attrs["creator"] = "spectro"
        h5.attrs["default"] = names[0]
        for name, s in zip(names, spectra):
            _nxxas_entry(h5.create_group(name), s)
    return Path(path)


def _nxxas_entry(entry, s: _Spectrum) -> None:
    import h5py

    entry.attrs["NX_class"] = "NXentry"
    entry.attrs["default"] = "plot"
    entry["definition"] = "NXxas"
    entry["title"] = _text(s.coords.get("title")) or s.label
    if _text(s.coords.get("start_time")):
        entry["start_time"] = _text(s.coords["start_time"])
    entry["mode"] = s.mode
    entry.create_dataset("energy", data=s.energy).attrs["units"] = "eV"
    entry.create_dataset("intensity", data=s.mu).attrs["long_name"] = (
        "normalized mu(E)" if s.normalized else "mu(E)")
    for group, nx_class, field_name, value in (("element", "NXelement", "symbol", s.element),
                                               ("edge", "NXedge", "name", s.edge)):
        g = entry.create_group(group)
        g.attrs["NX_class"] = nx_class
        g[field_name] = value
    sample = entry.create_group("sample")
    sample.attrs["NX_class"] = "NXsample"
    sample["name"] = _text(s.coords.get("sample"))
    for key, units in (("temperature", "K"), ("pressure", "GPa")):
        value = _finite(s.coords.get(key))
        if value is not None:
            sample.create_dataset(key, data=value).attrs["units"] = units
    mu_name, ref_name = _column_names(s)
    if s.normalized:
        mu_name = "norm"
    labels = ["energy", mu_name] + ([ref_name] if s.mu_ref is not None else [])
    table = np.column_stack([s.energy, s.mu] + ([s.mu_ref] if s.mu_ref is not None else []))
    entry.create_dataset("rawdata", data=table).attrs["array_labels"] = json.dumps(labels)
    plot = entry.create_group("plot")
    plot.attrs.update({"NX_class": "NXdata", "signal": "intensity", "axes": "energy"})
    plot["energy"] = h5py.SoftLink(entry["energy"].name)
    plot["intensity"] = h5py.SoftLink(entry["intensity"].name)


# --- any of them -------------------------------------------------------------------------


def write(data: xr.Dataset | Iterable[xr.Dataset], path: str | os.PathLike, *, to: str,
          normalization: xr.Dataset | Sequence[xr.Dataset | None] | None = None) -> list[Path]:
    """Write Datasets in the format ``to`` (``"xdi"``, ``"athena"``, ``"nxxas"``); return the files written.

    XDI holds one scan per file: with several scans each goes to
    ``<stem>_<label>.xdi`` beside ``path`` when it names an ``.xdi`` file,
    else to ``<label>.xdi`` in the folder ``path``; Athena and NXxas write
    all scans to ``path``. ``normalization`` is passed to
    :func:`write_athena`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import spectro
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> ds = spectro.simulate.xanes(n_scans=2, seed=0)
    >>> [p.name for p in write(ds, out / "sim.xdi", to="xdi")]
    ['sim_sim0000.xdi', 'sim_sim0001.xdi']
    """
    if to not in FORMATS:
        raise FormatError(f"unknown output format {to!r}; one of {', '.join(FORMATS)}")
    path = Path(path)
    if to == "athena":
        return [write_athena(data, path, normalization=normalization)]
    if to == "nxxas":
        return [write_nxxas(data, path)]
    datasets = [data] if isinstance(data, xr.Dataset) else list(data)
    labels = [str(label) for ds in datasets for label in ds.scan.values.tolist()]
    if len(labels) == 1:
        return [write_xdi(datasets[0], path)]
    stem, folder = (path.stem + "_", path.parent) if path.suffix.lower() == ".xdi" else ("", path)
    names = _unique([f"{stem}{_safe(label)}" for label in labels])
    written = []
    k = 0
    for ds in datasets:
        for i in range(ds.sizes["scan"]):
            written.append(write_xdi(ds, folder / f"{names[k]}.xdi", scan=i))
            k += 1
    return written


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", label).strip("_") or "scan"
