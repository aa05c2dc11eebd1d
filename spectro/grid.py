"""Putting scans from several Datasets on one energy axis; energy-grid hygiene.

:func:`stack` puts scans measured on different grids into one Dataset. By
default every scan keeps exactly its measured points: the energy axis is the
union of the measured energies and each scan is NaN where it has no point,
the layout the readers give the scans of one file measured on different
grids. Every analysis treats NaN as "no point here", so a stacked scan gives
the numbers of its file analysed alone (on the 16 Ni K scans below: e0 to
2e-12 eV, the sums over a NaN-padded row running in another order). Raw
scans arrive with backward steps, exact duplicates and near-duplicate points
a few meV apart: :func:`clean_grid` (used by every reader) sorts them and
merges points that are closer than the merge tolerance, warning with the
count.

Interpolating onto one grid
---------------------------
To compare spectra point by point (differences, averages), ``stack`` with
``grid="finest"`` or an array of energies interpolates each scan linearly
over its own finite points, never extrapolating: outside a scan's measured
range the result is NaN. :func:`default_grid` (``"finest"``) runs from the
first to the last measured energy of all scans (no scan is cut to the range
the others share) and its local step is the finest local step of the scans:
at every energy, the shortest measured interval of any scan covering it.
Where all scans share one grid, it is that grid. It is neither coarser nor
finer than the data because analysis results depend on where the points lie
(windowed least-squares fits, smoothed derivatives, noise estimates).
Measured on the real spectra of ``tests/test_grid.py`` and
``tests/test_stack_realdata.py``:

* coarser loses the edge: the median step of the files (about 2 eV for
  scans with EXAFS) moved the XANES ``e0`` of three Ni K files (CERIC NiO
  and LaNiO3, BMM NiO) by 1.0-1.2 eV and two of their three pre-edge fits
  failed;
* finer adds points that are not measurements: on the seven Mn Kbeta files
  of Diamond I20 (0.3 eV steps), half the finest step moves the Kbeta'
  ratio by up to 7.6 standard deviations and an interpolated union of their
  energies (grids offset by 0.01 eV) by up to 3.0; the finest step, their
  own grid, leaves it unchanged;
* on 16 Ni K scans of five files (two CERIC, two BMM, an Athena project of
  12 scans), ``e0`` on the measured scale moves by at most 0.031 eV, no
  pre-edge fit fails and the fitted pre-edge centroid moves by at most 0.6
  of its uncertainty.

Interpolating a scan onto points other than its own still cuts the corners
of its piecewise-linear spectrum and changes the points that fits and
smoothed derivatives use, so no common grid keeps every number within its
stated (noise-only) uncertainty: on the 16 Ni K scans the edge step moves
by up to 25 and feature C by up to 28 times theirs, the model-free pre-edge
centroid by up to 4.3 times its statistical error, and the maxima of smoothed derivatives
(``calibration_shift`` from the foil, ``e0_derivative``) by up to 0.25 eV:
they depend on the sampling itself (refining one file's own grid by its
midpoints, which leaves its spectrum unchanged, moves its calibration shift
by 0.13 eV). That is why the default keeps the measured points: analyse
the default stack (or the files) and interpolate only to compare spectra.

Merge tolerance
---------------
Two neighbouring points (after sorting) are merged when they are closer than
``min(MERGE_TOL_EV, 0.5 * median step)``. The absolute part (0.05 eV) is far
below any monochromator resolution at the Ni K edge (about 1.1 eV for
Si(111)); the relative part keeps fine grids (e.g. 0.05 eV XES) intact.
A merged point is the mean of the energies and of the values it replaces.
:func:`clean_grid` and :func:`merge_tolerance` are defined below the data
model (which cleans every scan it builds) and re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import xarray as xr

from ._clean import MERGE_TOL_EV, clean_grid, merge_tolerance
from .errors import DataError, OptionError
from .model import energy_dim, source_file, validate

__all__ = ["MERGE_TOL_EV", "clean_grid", "merge_tolerance", "stack", "default_grid"]

#: Grid points closer than this to a measured energy take that energy, eV.
_SNAP_EV = 1e-6


def _as_measured(energies: Sequence[np.ndarray], measured: Sequence[np.ndarray] | None):
    """Each input's energies (1-D) and its (scans, points) mask of measured points."""
    out = []
    for i, e in enumerate(energies):
        e = np.asarray(e, dtype=float)
        m = np.ones((1, e.size), bool) if measured is None else np.asarray(measured[i], dtype=bool)
        if e.ndim != 1 or m.ndim != 2 or m.shape[1] != e.size:
            raise DataError(f"input {i}: energies must be 1-D and the mask of shape (scans, {e.size})")
        finite = np.isfinite(e)
        e, m = e[finite], m[:, finite]
        if np.any(np.diff(e) <= 0):
            raise DataError(f"input {i}: energies must be strictly increasing")
        out.append((e, m))
    return out


def _ranges(e: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last measured energy of every scan (NaN for a scan without points)."""
    has = m.any(axis=1)
    first = e[np.argmax(m, axis=1)]
    last = e[e.size - 1 - np.argmax(m[:, ::-1], axis=1)]
    return np.where(has, first, np.nan), np.where(has, last, np.nan)


def _check_overlap(inputs, names: Sequence[str]) -> None:
    """Raise DataError naming every input and its range when the scans share no energy range."""
    ranges = [_ranges(e, m) for e, m in inputs]
    starts = [np.nanmax(f) if np.isfinite(f).any() else np.nan for f, _ in ranges]
    ends = [np.nanmin(l) if np.isfinite(l).any() else np.nan for _, l in ranges]
    if not np.isfinite(starts).any():
        raise DataError("no scan has a measured point")
    i_late, i_early = int(np.nanargmax(starts)), int(np.nanargmin(ends))
    if starts[i_late] < ends[i_early]:
        return
    listing = "; ".join(
        f"{name}: {np.nanmin(f):.2f}-{np.nanmax(l):.2f} eV"
        for name, (f, l) in zip(names, ranges) if np.isfinite(f).any()
    )
    raise DataError(
        f"the scans share no energy range: {names[i_late]} starts at {starts[i_late]:.2f} eV, "
        f"after {names[i_early]} ends at {ends[i_early]:.2f} eV ({listing}); "
        "stack overlapping files, or pass grid= explicitly"
    )


def _finest_interval(e: np.ndarray, m: np.ndarray) -> np.ndarray:
    """For each interval [e[j], e[j+1]], the shortest measured interval of any scan containing it (inf if none)."""
    n = e.size
    idx = np.arange(n)
    before = np.maximum.accumulate(np.where(m, idx, -1), axis=1)[:, :-1]
    after = np.minimum.accumulate(np.where(m, idx, n)[:, ::-1], axis=1)[:, ::-1][:, 1:]
    inside = (before >= 0) & (after < n)
    length = e[np.minimum(after, n - 1)] - e[np.maximum(before, 0)]
    return np.where(inside, length, np.inf).min(axis=0, initial=np.inf)


def default_grid(
    energies: Sequence[np.ndarray],
    *,
    measured: Sequence[np.ndarray] | None = None,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Common grid over every scan's full range at the finest local step of the scans (eV).

    At every energy the step is that of the scan sampled most finely there
    (the shortest of the scans' measured intervals covering it, ``h``):
    energy is mapped to ``u(E) = integral dE / h(E)``, the number of such
    steps, and the grid takes equal steps in ``u``, as many as needed for
    none to be longer than ``h``. Where all scans share one grid, the grid
    is theirs (points within 1 ueV of a measured energy take that energy).
    The module docstring gives the reasons and the measurements.

    Parameters
    ----------
    energies : sequence of ndarray, shape (n_i,)
        The energies of each input, eV, strictly increasing where measured
        (for a Dataset: its energy coordinate).
    measured : sequence of ndarray of bool, shape (scans_i, n_i), optional
        Which points each scan of an input measured (for a Dataset: where
        its signal is finite). Default: each input is one scan measured at
        all its finite energies.
    names : sequence of str, optional
        Names of the inputs for the error message (default ``input 0``, ...).

    Returns
    -------
    ndarray
        Strictly increasing energies, eV, from the first to the last
        measured energy of all scans.

    Raises
    ------
    DataError
        When the scans share no energy range (one ends before another
        starts), naming the inputs and their ranges.

    Examples
    --------
    >>> import numpy as np
    >>> fine = np.arange(8300.0, 8340.01, 0.5)  # short, 0.5 eV steps
    >>> coarse = np.arange(8300.0, 8400.01, 2.0)  # long, 2 eV steps
    >>> g = default_grid([fine, coarse])
    >>> float(g[0]), float(g[-1]), np.unique(np.diff(g)).tolist()
    (8300.0, 8400.0, [0.5, 2.0])
    >>> bool(np.array_equal(default_grid([coarse, coarse]), coarse))
    True
    """
    inputs = _as_measured(energies, measured)
    if not inputs:
        raise DataError("default_grid() needs at least one array of energies")
    names = [f"input {i}" for i in range(len(inputs))] if names is None else list(names)
    _check_overlap(inputs, names)
    union = np.unique(np.concatenate([e[m.any(axis=0)] for e, m in inputs]))
    mid = 0.5 * (union[1:] + union[:-1])
    h = np.full(mid.size, np.inf)
    for e, m in inputs:
        if e.size < 2:
            continue
        j = np.searchsorted(e, mid, side="right") - 1
        inside = (j >= 0) & (j < e.size - 1)
        h = np.minimum(h, np.where(inside, _finest_interval(e, m)[np.clip(j, 0, e.size - 2)], np.inf))
    u = np.concatenate([[0.0], np.cumsum(np.diff(union) / h)])
    n = max(1, math.ceil(u[-1] - 1e-6))
    grid = np.interp(np.linspace(0.0, u[-1], n + 1), u, union)
    near = np.clip(np.searchsorted(union, grid), 1, union.size - 1)
    near = np.where(np.abs(union[near - 1] - grid) < np.abs(union[near] - grid), near - 1, near)
    snap = np.abs(union[near] - grid) < _SNAP_EV
    return np.unique(np.where(snap, union[near], grid))


def _interp_rows(x_new: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Interpolate each row of ``y`` (over its finite points) onto ``x_new``.

    Rows without missing points (the usual case) share one set of weights
    and are interpolated together; only rows with NaN gaps go one by one.
    """
    flat = y.reshape(-1, y.shape[-1])
    out = np.full((flat.shape[0], x_new.size), np.nan)
    complete = np.isfinite(flat).all(axis=1)
    inside = (x_new >= x[0]) & (x_new <= x[-1])
    if complete.any() and x.size >= 2:
        xi = x_new[inside]
        right = np.clip(np.searchsorted(x, xi, side="right"), 1, x.size - 1)
        t = (xi - x[right - 1]) / (x[right] - x[right - 1])
        rows = flat[complete]
        out[np.ix_(complete, inside)] = rows[:, right - 1] * (1.0 - t) + rows[:, right] * t
    for i in np.flatnonzero(~complete):
        ok = np.isfinite(flat[i])
        if ok.sum() < 2:
            continue
        xs, ys = x[ok], flat[i][ok]
        within = (x_new >= xs[0]) & (x_new <= xs[-1])
        out[i, within] = np.interp(x_new[within], xs, ys)
    return out.reshape(y.shape[:-1] + (x_new.size,))


def _complete(pieces: list[xr.Dataset], dim: str, size: int) -> list[xr.Dataset]:
    """Give every piece the per-scan coordinates and signals that any piece has (NaN or "")."""
    wanted: dict[str, tuple[bool, xr.Variable]] = {}
    for piece in pieces:
        for name, var in piece.variables.items():
            if name != "scan" and (var.dims == ("scan",) or dim in var.dims):
                wanted.setdefault(name, (name in piece.coords, var))
    out = []
    for piece in pieces:
        n = piece.sizes["scan"]
        add_coords, add_vars = {}, {}
        for name, (is_coord, var) in wanted.items():
            if name in piece.variables:
                continue
            if var.dims == ("scan",):
                values = np.asarray(var.values)
                if np.issubdtype(values.dtype, np.number):
                    fill = np.full(n, np.nan)
                else:
                    fill = np.full(n, "", dtype=values.dtype if values.dtype.kind == "U" else object)
                item = ("scan", fill, dict(var.attrs))
            else:
                item = (("scan", dim), np.full((n, size), np.nan), dict(var.attrs))
            (add_coords if is_coord else add_vars)[name] = item
        out.append(piece.assign_coords(add_coords).assign(add_vars) if add_coords or add_vars else piece)
    return out


def _on_axis(datasets, axis: np.ndarray, dim: str, place, method: str) -> xr.Dataset:
    """The scans of ``datasets`` on the energy ``axis``, concatenated along ``scan``.

    ``place(energy, values)`` puts one input's signal (``(..., energy)``) on
    ``axis``; ``method`` is recorded as the ``grid_method`` attr.
    """
    pieces = []
    for ds in datasets:
        data_vars = {}
        for name, var in ds.data_vars.items():
            if dim in var.dims:
                moved = var.transpose(..., dim)
                data_vars[name] = (moved.dims, place(ds[dim].values, moved.values), var.attrs)
            else:
                data_vars[name] = var
        coords = {k: v for k, v in ds.coords.items() if dim not in v.dims}
        coords[dim] = (dim, axis, ds[dim].attrs)
        pieces.append(xr.Dataset(data_vars, coords=coords, attrs=ds.attrs))
    out = xr.concat(_complete(pieces, dim, axis.size), dim="scan", combine_attrs="drop_conflicts")
    out.attrs["grid_method"] = method
    return validate(out)


def _at_own_points(axis: np.ndarray):
    """``place`` for :func:`_on_axis`: each value at its own energy of ``axis`` (which holds them all), NaN elsewhere."""

    def place(energy: np.ndarray, values: np.ndarray) -> np.ndarray:
        mine = np.isin(energy, axis)  # energies no scan measured are left out (their values are NaN)
        out = np.full(values.shape[:-1] + (axis.size,), np.nan)
        out[..., np.searchsorted(axis, energy[mine])] = values[..., mine]
        return out

    return place


def stack(
    datasets: Sequence[xr.Dataset],
    *,
    grid: np.ndarray | str = "measured",
    dim: str | None = None,
) -> xr.Dataset:
    """Put scans from several Datasets onto one energy axis and concatenate.

    By default every scan keeps exactly the points it measured: the energy
    axis is the union of the scans' measured energies and each scan is NaN
    at the others' points, as the readers lay out the scans of one file
    measured on different grids. Analysing the stack then gives each scan's
    numbers as analysing its file alone (the analyses treat NaN as "no
    point"). To compare spectra point by point, interpolate onto one grid
    (``grid="finest"`` or an array): each scan is linearly interpolated over
    its own finite points, NaN outside its measured range, never
    extrapolated. No scan is cut to the range the others share.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        XANES (``energy``) or XES (``emission_energy``) Datasets of one
        kind. They are not modified.
    grid : {"measured", "finest"} or ndarray, keyword-only
        ``"measured"`` (default): the union of the measured energies, no
        interpolation. ``"finest"``: interpolation onto
        :func:`default_grid`, every scan's full range at the finest local
        step of the scans (see the module docstring for what it changes).
        An array: interpolation onto these energies, eV.
    dim : str, optional
        The energy dimension; inferred from the Datasets by default.

    Returns
    -------
    xarray.Dataset
        All scans along ``scan`` on the common grid; attrs record the method.
        A per-scan coordinate or variable that only some inputs have is
        NaN (or "") for the others.

    Raises
    ------
    DataError
        When the scans share no energy range (``"measured"`` and
        ``"finest"``), or a scan has no point of the given ``grid`` within
        its measured range; the message names the files and their ranges.

    Examples
    --------
    >>> import numpy as np, spectro
    >>> a = spectro.simulate.xanes(valence=2.0, seed=1)
    >>> b = spectro.simulate.xanes(valence=3.0, seed=2)
    >>> b = b.assign_coords(energy=b.energy + 0.1)  # measured on points 0.1 eV higher
    >>> both = spectro.stack([a, b])
    >>> both.sizes["scan"], both.sizes["energy"] == 2 * a.sizes["energy"]
    (2, True)
    >>> bool(np.array_equal(both.mu.isel(scan=1).dropna("energy"), b.mu.isel(scan=0)))
    True
    >>> spectro.stack([a, b], grid="finest").sizes["energy"] == a.sizes["energy"] + 1
    True
    """
    if not datasets:
        raise DataError("stack() needs at least one Dataset")
    dims = {energy_dim(ds) for ds in datasets}
    if dim is None:
        if len(dims) != 1:
            raise DataError(f"cannot stack Datasets of different kinds: {sorted(dims)}")
        dim = dims.pop()
    for ds in datasets:
        validate(ds)
    names = [source_file(ds.attrs, ds["source"].values) or f"input {i}" for i, ds in enumerate(datasets)]
    # a scan measured a point where any of its signals is finite
    measured = [
        np.any([np.isfinite(v.transpose("scan", dim).values) for v in ds.data_vars.values()
                if set(v.dims) == {"scan", dim}], axis=0)
        for ds in datasets
    ]
    if isinstance(grid, str):
        if grid not in ("measured", "finest"):
            raise OptionError("grid", grid, "'measured', 'finest' or an array of energies in eV")
        energies = [ds[dim].values for ds in datasets]
        if grid == "measured":
            _check_overlap(_as_measured(energies, measured), names)
            axis = np.unique(np.concatenate([e[m.any(axis=0)] for e, m in zip(energies, measured)]))
            return _on_axis(datasets, axis, dim, _at_own_points(axis),
                            "the measured points of each scan, NaN at the others' (no interpolation)")
        grid = default_grid(energies, measured=measured, names=names)
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise DataError("grid must be a strictly increasing 1-D array of energies in eV")
    for name, ds, m in zip(names, datasets, measured):
        first, last = _ranges(ds[dim].values, m)
        empty = np.isfinite(first) & ~(
            np.searchsorted(grid, last, side="right") > np.searchsorted(grid, first, side="left")
        )
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise DataError(
                f"measured from {first[i]:.2f} to {last[i]:.2f} eV, which holds no point of the grid "
                f"({grid[0]:.2f}-{grid[-1]:.2f} eV)",
                file=name, scan=ds["scan"].values[i],
            )
    return _on_axis(datasets, grid, dim, lambda energy, values: _interp_rows(grid, energy, values),
                    "linear interpolation over finite points, NaN outside")
