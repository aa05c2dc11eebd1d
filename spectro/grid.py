"""Energy-grid hygiene: sorting, merging duplicate points, common grids.

Raw scans arrive with backward steps, exact duplicates and near-duplicate
points a few meV apart. :func:`clean_grid` sorts them and merges points that
are closer than the merge tolerance, warning with the count. :func:`stack`
puts scans with different grids onto one grid by linear interpolation,
never extrapolating: outside a scan's measured range the result is NaN.

Merge tolerance
---------------
Two neighbouring points (after sorting) are merged when they are closer than
``min(MERGE_TOL_EV, 0.5 * median step)``. The absolute part (0.05 eV) is far
below any monochromator resolution at the Ni K edge (about 1.1 eV for
Si(111)); the relative part keeps fine grids (e.g. 0.05 eV XES) intact.
A merged point is the mean of the energies and of the values it replaces.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from .errors import DataError, GridWarning

__all__ = ["MERGE_TOL_EV", "clean_grid", "merge_tolerance", "stack", "default_grid"]

MERGE_TOL_EV = 0.05


def merge_tolerance(energy: np.ndarray) -> float:
    """Merge tolerance in eV for a sorted energy array.

    Examples
    --------
    >>> import numpy as np
    >>> merge_tolerance(np.arange(8300.0, 8310.0, 0.25))
    0.05
    >>> round(merge_tolerance(np.arange(8300.0, 8301.0, 0.02)), 6)
    0.01
    """
    steps = np.diff(energy)
    steps = steps[steps > 0]
    if steps.size == 0:
        return MERGE_TOL_EV
    return float(min(MERGE_TOL_EV, 0.5 * np.median(steps)))


def clean_grid(
    energy: np.ndarray,
    values: Mapping[str, np.ndarray],
    *,
    file: str | None = None,
    scan: object | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sort a scan by energy and merge duplicate and near-duplicate points.

    Parameters
    ----------
    energy : ndarray, shape (n,)
        Energies in eV, any order. Non-finite energies are dropped.
    values : mapping of str to ndarray, shape (n,)
        Signals measured at those energies (mu, mu_ref, intensity, ...).
    file, scan : optional
        Named in the warning and in errors.

    Returns
    -------
    energy : ndarray, shape (m,)
        Strictly increasing energies in eV.
    values : dict of str to ndarray, shape (m,)
        The signals, reordered and averaged over merged points.

    Warns
    -----
    GridWarning
        When points were reordered, merged or dropped; the message gives counts.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     e, v = clean_grid(np.array([1.0, 3.0, 2.0, 2.01]), {"mu": np.arange(4.0)})
    >>> e.tolist(), v["mu"].tolist()
    ([1.0, 2.005, 3.0], [0.0, 2.5, 1.0])
    >>> print(caught[0].message)
    sorted 1 backward energy step(s); merged 1 duplicate or near-duplicate point(s) closer than 0.05 eV
    """
    energy = np.asarray(energy, dtype=float)
    arrays = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    if energy.size > 1 and np.diff(energy).min() >= MERGE_TOL_EV:  # rising, nothing to merge
        return energy.copy(), {k: v.copy() for k, v in arrays.items()}
    notes = []
    finite = np.isfinite(energy)
    if not finite.all():
        notes.append(f"dropped {int((~finite).sum())} points with non-finite energy")
        energy = energy[finite]
        arrays = {k: v[finite] for k, v in arrays.items()}
    if energy.size < 2:
        raise DataError(
            f"only {energy.size} point(s) with a finite energy", file=file, scan=scan
        )
    order = np.argsort(energy, kind="stable")
    n_backward = int(np.count_nonzero(np.diff(energy) < 0))
    if n_backward:
        notes.append(f"sorted {n_backward} backward energy step(s)")
    energy = energy[order]
    arrays = {k: v[order] for k, v in arrays.items()}

    tol = merge_tolerance(energy)
    new_cluster = np.empty(energy.size, dtype=bool)
    new_cluster[0] = True
    new_cluster[1:] = np.diff(energy) >= tol
    starts = np.flatnonzero(new_cluster)
    n_merged = energy.size - starts.size
    if n_merged:
        counts = np.diff(np.append(starts, energy.size))
        energy = np.add.reduceat(energy, starts) / counts
        arrays = {k: np.add.reduceat(v, starts) / counts for k, v in arrays.items()}
        notes.append(
            f"merged {n_merged} duplicate or near-duplicate point(s) "
            f"closer than {tol:.3g} eV"
        )
    if notes:
        where = ": ".join(
            str(p) for p in (file, None if scan is None else f"scan {scan!r}") if p
        )
        prefix = f"{where}: " if where else ""
        warnings.warn(prefix + "; ".join(notes), GridWarning, stacklevel=3)
    return energy, arrays


def default_grid(energies: Sequence[np.ndarray]) -> np.ndarray:
    """Common grid over the range all scans share, at their median step (eV).

    Examples
    --------
    >>> import numpy as np
    >>> g = default_grid([np.arange(0.0, 10.1, 0.5), np.arange(2.0, 12.0, 0.5)])
    >>> float(g[0]), float(g[-1]), float(g[1] - g[0])
    (2.0, 10.0, 0.5)
    """
    finite = [np.asarray(e)[np.isfinite(e)] for e in energies]
    lo = max(float(e.min()) for e in finite)
    hi = min(float(e.max()) for e in finite)
    if not hi > lo:
        raise DataError(
            f"the scans share no energy range (latest start {lo:.2f} eV, "
            f"earliest end {hi:.2f} eV); give a common energy grid explicitly"
        )
    step = float(np.median(np.concatenate([np.diff(e) for e in finite])))
    n = int(np.floor((hi - lo) / step + 1e-9)) + 1
    return lo + step * np.arange(n)


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


def stack(
    datasets: Sequence[xr.Dataset],
    *,
    grid: np.ndarray | None = None,
    dim: str | None = None,
) -> xr.Dataset:
    """Put scans from several Datasets onto one energy grid and concatenate.

    Each scan is linearly interpolated over its own finite points. Grid
    points outside a scan's measured range are NaN: nothing is extrapolated.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        XANES (``energy``) or XES (``emission_energy``) Datasets of one kind.
    grid : ndarray, optional
        Target energies in eV. Default: :func:`default_grid` of all scans.
    dim : str, optional
        The energy dimension; inferred from the Datasets by default.

    Returns
    -------
    xarray.Dataset
        All scans along ``scan`` on the common grid; attrs record the method.

    Examples
    --------
    >>> import spectro
    >>> a = spectro.simulate.xanes(valence=2.0, seed=1)
    >>> b = spectro.simulate.xanes(valence=3.0, seed=2, energy_offset=0.1)
    >>> both = spectro.stack([a, b])
    >>> both.sizes["scan"]
    2
    """
    from .model import energy_dim, validate

    if not datasets:
        raise DataError("stack() needs at least one Dataset")
    dims = {energy_dim(ds) for ds in datasets}
    if dim is None:
        if len(dims) != 1:
            raise DataError(f"cannot stack Datasets of different kinds: {sorted(dims)}")
        dim = dims.pop()
    if grid is None:
        grid = default_grid([ds[dim].values for ds in datasets])
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 1 or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise DataError("grid must be a strictly increasing 1-D array of energies in eV")
    pieces = []
    for ds in datasets:
        data_vars = {}
        for name, var in ds.data_vars.items():
            if dim in var.dims:
                moved = var.transpose(..., dim)
                data_vars[name] = (
                    moved.dims,
                    _interp_rows(grid, ds[dim].values, moved.values),
                    var.attrs,
                )
            else:
                data_vars[name] = var
        coords = {k: v for k, v in ds.coords.items() if dim not in v.dims}
        coords[dim] = (dim, grid, ds[dim].attrs)
        pieces.append(xr.Dataset(data_vars, coords=coords, attrs=ds.attrs))
    out = xr.concat(pieces, dim="scan", combine_attrs="drop_conflicts")
    out.attrs["grid_method"] = "linear interpolation over finite points, NaN outside"
    return validate(out)
