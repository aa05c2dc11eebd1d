"""spectro's data model: how a spectrum lives in an xarray Dataset.

XANES
    ``mu(scan, energy)``, optional ``mu_ref(scan, energy)`` (the reference
    foil measured with the scan). ``attrs["kind"] == "xanes"``.
XES
    ``intensity(scan, emission_energy)``, optional
    ``intensity_err(scan, emission_energy)`` (one standard deviation).
    ``attrs["kind"] == "xes"``.

Energies are in eV, strictly increasing and finite. Scans that were
measured on different grids share the union grid, each NaN where it has no
point (an outer join); :func:`spectro.stack` lays out several files alike (or interpolates onto one grid).

Every scan carries the coordinates of :data:`SCAN_COORDS` (NaN or an empty
string when unknown). Every variable and coordinate carries ``units`` and
``long_name`` attrs; labels (strings) have ``units = ""``.

Readers gather their scans in a :class:`Spectra` (the same arrays, before
any Dataset); :meth:`Spectra.to_dataset` and :func:`build` (scans straight
to a Dataset, as the simulators use it) are the one path to a model
Dataset; :func:`validate` checks any Dataset against the model.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .errors import ValidationError
from ._clean import clean_grid

__all__ = [
    "SCAN_COORDS",
    "SIGNALS",
    "ENERGY_DIMS",
    "Scan",
    "Spectra",
    "build",
    "source_file",
    "validate",
    "energy_dim",
    "kind_of",
]

#: Per-scan coordinates: name -> (units, long_name, fill value when unknown).
SCAN_COORDS: dict[str, tuple[str, str, Any]] = {
    "pressure": ("GPa", "pressure", np.nan),
    "pressure_err": ("GPa", "pressure uncertainty (1 sigma)", np.nan),
    "temperature": ("K", "sample temperature", np.nan),
    "run": ("", "experimental run", ""),
    "sample": ("", "sample name", ""),
    "source": ("", "source file", ""),
}

#: Signal variables of each kind: name -> (units, long_name, required).
SIGNALS: dict[str, dict[str, tuple[str, str, bool]]] = {
    "xanes": {
        "mu": ("1", "absorption coefficient mu(E) (arbitrary scale)", True),
        "mu_ref": ("1", "reference-foil absorption mu_ref(E)", False),
    },
    "xes": {
        "intensity": ("counts", "emitted intensity", True),
        "intensity_err": ("counts", "emitted intensity uncertainty (1 sigma)", False),
    },
}

#: Energy dimension of each kind.
ENERGY_DIMS = {"xanes": "energy", "xes": "emission_energy"}
_ENERGY_LONG_NAMES = {"energy": "incident energy", "emission_energy": "emission energy"}


@dataclass
class Scan:
    """One measured scan, as a reader or the simulator produces it.

    Parameters
    ----------
    energy : ndarray, shape (n,)
        Energies in eV (any order; :func:`build` sorts and merges).
    signals : dict of str to ndarray, shape (n,)
        Signals by model name (``mu``, ``mu_ref``, ``intensity``, ...).
    label : str
        Scan label, unique within the file.
    coords : dict
        Per-scan coordinates from :data:`SCAN_COORDS` that are known.
    attrs : dict
        Per-scan provenance (columns used, mode, shifts applied, ...);
        stored as ``scan_<key>`` coordinates only when several scans differ,
        otherwise as Dataset attrs.
    """

    energy: np.ndarray
    signals: dict[str, np.ndarray]
    label: str
    coords: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spectra:
    """The scans of one file on one energy grid, as arrays: a model Dataset before it is built.

    Readers produce it (:func:`spectro.io.parse`); :meth:`to_dataset` makes
    the model Dataset from it. A caller that only wants the arrays of many
    small files (a batch) keeps it as it is and saves building a Dataset
    per file (about 0.5 ms each).

    Attributes
    ----------
    kind : {"xanes", "xes"}
    energy : ndarray, shape (n,)
        Energies in eV, strictly increasing and finite.
    signals : dict of str to (ndarray, dict)
        Each signal's values, shape (scans, n), and attrs.
    coords : dict of str to (ndarray, dict)
        Each per-scan coordinate's values, shape (scans,), and attrs: the
        labels ``scan`` first, every one of :data:`SCAN_COORDS`, then any
        other (``scan_<key>``, ...).
    attrs : dict
        Dataset attrs.
    energy_attrs : dict
        Attrs of the energy coordinate (``units`` eV and its long name).

    Examples
    --------
    >>> import numpy as np
    >>> e = np.linspace(8300.0, 8400.0, 101)
    >>> sp = Spectra.from_scans([Scan(e, {"mu": np.tanh((e - 8345) / 3)}, "1")], kind="xanes")
    >>> sp.signals["mu"][0].shape, sp.labels.tolist(), sp.to_dataset().mu.dims
    ((1, 101), ['1'], ('scan', 'energy'))
    """

    kind: str
    energy: np.ndarray
    signals: Mapping[str, tuple[np.ndarray, dict]]
    coords: Mapping[str, tuple[np.ndarray, dict]]
    attrs: Mapping[str, Any]
    energy_attrs: Mapping[str, Any]

    @property
    def dim(self) -> str:
        """The energy dimension (``energy`` or ``emission_energy``)."""
        return ENERGY_DIMS[self.kind]

    @property
    def labels(self) -> np.ndarray:
        """The scan labels."""
        return self.coords["scan"][0]

    @property
    def file(self) -> str:
        """The source file, as :func:`source_file` names it."""
        return source_file(self.attrs, self.coords.get("source", (np.zeros(0),))[0])

    def coordinates(self) -> dict[str, tuple]:
        """The coordinates of its Dataset as (dims, values, attrs): ``scan``, the energy, the other per-scan ones."""
        dim = self.dim
        coords = {"scan": ("scan", *self.coords["scan"]), dim: (dim, self.energy, dict(self.energy_attrs))}
        coords.update((n, ("scan", v, dict(a))) for n, (v, a) in self.coords.items() if n != "scan")
        return coords

    @classmethod
    def from_scans(
        cls,
        scans: Sequence[Scan],
        *,
        kind: str,
        file: str | os.PathLike | None = None,
        attrs: Mapping[str, Any] | None = None,
        signal_attrs: Mapping[str, Mapping[str, Any]] | None = None,
        coords: Mapping[str, tuple[Sequence[Any], Mapping[str, Any]]] | None = None,
    ) -> Spectra:
        """The scans on their union grid; parameters as in :func:`build`."""
        if kind not in ENERGY_DIMS:
            raise ValidationError(f"kind must be 'xanes' or 'xes', not {kind!r}", file=file)
        if not scans:
            raise ValidationError("no scans to build a Dataset from", file=file)
        dim = ENERGY_DIMS[kind]
        file_str = "" if file is None else os.fspath(file)
        cleaned = [clean_grid(sc.energy, sc.signals, file=file, scan=sc.label) for sc in scans]
        grids = [e for e, _ in cleaned]
        same = all(g.shape == grids[0].shape and np.array_equal(g, grids[0]) for g in grids)
        grid = grids[0] if same else np.unique(np.concatenate(grids))
        names = list(dict.fromkeys(k for _, v in cleaned for k in v))
        data = {n: np.full((len(scans), grid.size), np.nan) for n in names}
        for i, (energy, values) in enumerate(cleaned):
            idx = slice(None) if same else np.searchsorted(grid, energy)
            for n, v in values.items():
                data[n][i, idx] = v
        known = SIGNALS[kind]
        signals = {}
        for n in names:
            units, long_name, _ = known.get(n, ("1", n, False))
            signals[n] = (data[n], {"units": units, "long_name": long_name, **(signal_attrs or {}).get(n, {})})
        per_scan = {"scan": (np.asarray([str(sc.label) for sc in scans]), {"units": "", "long_name": "scan label"})}
        for name, (units, long_name, fill) in SCAN_COORDS.items():
            values = [sc.coords.get(name, file_str if name == "source" else fill) for sc in scans]
            arr = np.asarray(values, dtype=float if isinstance(fill, float) else object)
            if arr.dtype == object:
                arr = arr.astype(str)
            per_scan[name] = (arr, {"units": units, "long_name": long_name})
        ds_attrs = {"kind": kind}
        ds_attrs.update(attrs or {})
        for key in dict.fromkeys(k for sc in scans for k in sc.attrs):
            values = [sc.attrs.get(key) for sc in scans]
            if all(v == values[0] for v in values):
                ds_attrs[key] = values[0]
            else:
                fill = np.nan if all(isinstance(v, (int, float, type(None))) for v in values) else ""
                vals = [fill if v is None else v for v in values]
                units = "eV" if key.endswith("_ev") or key.endswith("shift") else ""
                per_scan[f"scan_{key}"] = (np.asarray(vals), {"units": units, "long_name": key})
        for name, (values, coord_attrs) in (coords or {}).items():
            per_scan[name] = (np.asarray(values), dict(coord_attrs))
        from . import __version__

        ds_attrs.setdefault("spectro_version", __version__)
        return cls(kind, grid, signals, per_scan, ds_attrs, {"units": "eV", "long_name": _ENERGY_LONG_NAMES[dim]})

    @classmethod
    def from_dataset(cls, ds: xr.Dataset) -> Spectra:
        """The signals (scan, energy) and per-scan coordinates of a model Dataset."""
        kind = kind_of(ds)
        dim = ENERGY_DIMS[kind]
        signals = {
            str(n): (np.asarray(v.variable.transpose("scan", dim).values), dict(v.attrs))
            for n, v in ds.data_vars.items() if set(v.dims) == {"scan", dim}
        }
        coords = {str(n): (np.asarray(v.values), dict(v.attrs)) for n, v in ds.coords.items() if v.dims == ("scan",)}
        energy = ds.variables[dim]
        return cls(kind, np.asarray(energy.values, dtype=float), signals, coords, dict(ds.attrs), dict(energy.attrs))

    def with_values(self, **values: Any) -> Spectra:
        """The same scans with one value of each named per-scan coordinate for all of them, attrs kept.

        Examples
        --------
        >>> import numpy as np
        >>> e = np.linspace(8300.0, 8400.0, 101)
        >>> sp = Spectra.from_scans([Scan(e, {"mu": e * 0}, "1")], kind="xanes")
        >>> sp.with_values(pressure=3.0).coords["pressure"][0].tolist(), sp.coords["pressure"][0].tolist()
        ([3.0], [nan])
        """
        n = self.labels.size
        coords = dict(self.coords)
        for name, value in values.items():
            coords[name] = (np.full(n, value), coords[name][1])
        return dataclasses.replace(self, coords=coords)

    def to_dataset(self) -> xr.Dataset:
        """The model Dataset (validated by :func:`validate`)."""
        data_vars = {n: (("scan", self.dim), v, dict(a)) for n, (v, a) in self.signals.items()}
        return validate(xr.Dataset(data_vars, coords=self.coordinates(), attrs=dict(self.attrs)))


def source_file(attrs: Mapping[str, Any], sources: Sequence[str] | np.ndarray) -> str:
    """The file scans came from: ``attrs["source_file"]``, else the first of their ``source`` values; "" when unknown.

    Examples
    --------
    >>> source_file({}, np.array(["a.xdi", "a.xdi"])), source_file({"source_file": "b.xdi"}, np.array([]))
    ('a.xdi', 'b.xdi')
    """
    return str(attrs.get("source_file") or (sources[0] if len(sources) else ""))


def build(
    scans: Sequence[Scan],
    *,
    kind: str,
    file: str | os.PathLike | None = None,
    attrs: Mapping[str, Any] | None = None,
    signal_attrs: Mapping[str, Mapping[str, Any]] | None = None,
    coords: Mapping[str, tuple[Sequence[Any], Mapping[str, Any]]] | None = None,
) -> xr.Dataset:
    """Build a model Dataset from scans, cleaning each grid.

    Parameters
    ----------
    scans : sequence of Scan
        At least one scan. Each grid is sorted and near-duplicates merged
        (:func:`spectro.grid.clean_grid`, with a warning).
    kind : {"xanes", "xes"}
    file : str or path-like, optional
        The source file; fills the ``source`` coordinate where unset.
    attrs : mapping, optional
        Dataset attrs (provenance, header metadata). Must be flat:
        str, number or 1-D sequences.
    signal_attrs : mapping, optional
        Extra attrs per signal variable (e.g. ``{"mu": {"units": "1"}}``).
    coords : mapping, optional
        Further per-scan coordinates: name to (values, attrs).

    Returns
    -------
    xarray.Dataset
        A Dataset that passes :func:`validate`
        (``Spectra.from_scans(...).to_dataset()``).

    Examples
    --------
    >>> import numpy as np
    >>> from spectro.model import Scan, build
    >>> e = np.linspace(8300.0, 8400.0, 101)
    >>> ds = build([Scan(e, {"mu": np.tanh((e - 8345) / 3)}, "1")], kind="xanes")
    >>> ds.mu.dims, ds.energy.attrs["units"]
    (('scan', 'energy'), 'eV')
    """
    return Spectra.from_scans(
        scans, kind=kind, file=file, attrs=attrs, signal_attrs=signal_attrs, coords=coords
    ).to_dataset()


def kind_of(ds: xr.Dataset) -> str:
    """Return ``"xanes"`` or ``"xes"`` for a model Dataset.

    Examples
    --------
    >>> import spectro
    >>> kind_of(spectro.simulate.xanes(seed=0))
    'xanes'
    """
    kind = ds.attrs.get("kind")
    if kind in ENERGY_DIMS:
        return kind
    for k, d in ENERGY_DIMS.items():
        if d in ds.dims:
            return k
    raise ValidationError(
        "not a spectro Dataset: attrs['kind'] is missing and there is no "
        "'energy' or 'emission_energy' dimension"
    )


def energy_dim(ds: xr.Dataset) -> str:
    """The energy dimension name of a model Dataset (``energy`` or ``emission_energy``)."""
    return ENERGY_DIMS[kind_of(ds)]


def validate(ds: xr.Dataset) -> xr.Dataset:
    """Check a Dataset against spectro's data model.

    Parameters
    ----------
    ds : xarray.Dataset
        A XANES or XES Dataset.

    Returns
    -------
    xarray.Dataset
        The same object, unchanged, so that ``validate`` can be chained.

    Raises
    ------
    ValidationError
        Listing every problem found, not only the first.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> spectro.validate(ds) is ds
    True
    >>> spectro.validate(ds.drop_vars("mu"))
    Traceback (most recent call last):
    ...
    spectro.errors.ValidationError: Dataset does not follow the spectro data model: missing variable 'mu'
    """
    problems: list[str] = []
    kind = kind_of(ds)
    dim = ENERGY_DIMS[kind]
    if dim not in ds.dims:
        problems.append(f"missing dimension {dim!r}")
    if "scan" not in ds.dims:
        problems.append("missing dimension 'scan'")
    for name, (_, _, required) in SIGNALS[kind].items():
        if name not in ds.data_vars:
            if required:
                problems.append(f"missing variable {name!r}")
            continue
        var = ds.variables[name]
        if set(var.dims) != {"scan", dim}:
            problems.append(f"{name!r} has dims {var.dims}, expected ('scan', {dim!r})")
        if not np.issubdtype(var.dtype, np.floating):
            problems.append(f"{name!r} has dtype {var.dtype}, expected float")
    if dim in ds.coords:
        e = ds.variables[dim]
        if e.attrs.get("units") != "eV":
            problems.append(f"{dim!r} must have units 'eV', has {e.attrs.get('units')!r}")
        values = np.asarray(e.values, dtype=float)
        if e.ndim != 1:
            problems.append(f"{dim!r} must be 1-D")
        elif not np.all(np.isfinite(values)):
            problems.append(f"{dim!r} has non-finite values")
        elif values.size > 1 and not np.all(np.diff(values) > 0):
            problems.append(f"{dim!r} is not strictly increasing")
    if "scan" in ds.dims:
        for name in SCAN_COORDS:
            if name not in ds.coords:
                problems.append(f"missing per-scan coordinate {name!r}")
            elif ds.variables[name].dims != ("scan",):
                problems.append(f"coordinate {name!r} must be along 'scan'")
    for name, var in ds.variables.items():
        missing = [a for a in ("units", "long_name") if a not in var.attrs]
        if missing:
            problems.append(f"{name!r} lacks attrs {missing}")
    if problems:
        raise ValidationError(
            "Dataset does not follow the spectro data model: " + "; ".join(problems),
            file=ds.attrs.get("source_file"),
        )
    return ds
