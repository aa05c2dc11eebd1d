"""Merging repeated scans: mean and spread on a common grid.

Each scan is interpolated linearly onto the common grid (by default the
energies of the scan with the most points; never extrapolated: NaN outside
a scan's range), optionally after aligning the scans to the first one
(:func:`spectro.xanes.align`). The merged spectrum is the mean over scans
at each energy, ignoring scans without a point there; ``mu_std`` is the
sample standard deviation (ddof 1) and ``mu_err`` the standard error of
the mean, ``mu_std / sqrt(n)``; ``n_scans`` counts the scans averaged.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from ..model import Scan, build
from . import _arrays
from .energy_calibration import align as _align

__all__ = ["merge", "merge_arrays"]


def merge_arrays(
    energy: np.ndarray, mu: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and count over the second-to-last axis on ``grid``.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., s, n)
        Energies, eV (NaN = no point).
    mu : ndarray, shape (..., s, n)
        ``s`` scans to merge.
    grid : ndarray, shape (g,)
        Common grid, eV.

    Returns
    -------
    mean, std, count : ndarray, shape (..., g)

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(0.0, 10.0)
    >>> mean, std, n = merge_arrays(e, np.stack([e, e + 2.0]), e)
    >>> mean[:3].tolist(), std[:3].tolist(), n[:3].tolist()
    ([1.0, 2.0, 3.0], [1.4142135623730951, 1.4142135623730951, 1.4142135623730951], [2, 2, 2])
    """
    x, y = _arrays.as_rows(energy, mu)
    xs, ys, _ = _arrays.compact(x, y)
    on_grid = _arrays.interp_rows(np.asarray(grid, float), xs, ys)
    count = np.sum(np.isfinite(on_grid), axis=-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(on_grid, axis=-2)
        std = np.nanstd(on_grid, axis=-2, ddof=1)
    return mean, np.where(count > 1, std, np.nan), count


def merge(
    ds: xr.Dataset,
    *,
    align: bool = False,
    grid: np.ndarray | None = None,
    label: str = "merged",
) -> xr.Dataset:
    """Merge all scans of a XANES Dataset into one.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset with repeated scans.
    align : bool, keyword-only
        Align the scans to the first one before merging.
    grid : ndarray, optional
        Common grid, eV (default: the energies of the scan with most points).
    label : str, keyword-only
        Label of the merged scan.

    Returns
    -------
    xarray.Dataset
        A one-scan XANES Dataset with ``mu`` (mean), ``mu_std``, ``mu_err``,
        ``n_scans`` (and ``mu_ref`` mean when present); pressure and
        temperature are the means over the scans.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(n_scans=4, noise=0.01, seed=0)
    >>> m = merge(ds)
    >>> m.sizes["scan"], int(m.n_scans.max())
    (1, 4)
    """
    src = _align(ds) if align else ds
    e = src.energy.values
    if grid is None:
        best = int(np.argmax(np.isfinite(src.mu.values).sum(axis=-1)))
        grid = e[np.isfinite(src.mu.values[best])]
    grid = np.asarray(grid, dtype=float)
    mean, std, count = merge_arrays(e, src.mu.values, grid)
    signals = {"mu": mean}
    if "mu_ref" in src.data_vars:
        signals["mu_ref"] = merge_arrays(e, src.mu_ref.values, grid)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        coords = {
            k: float(np.nanmean(ds[k].values)) for k in ("pressure", "temperature")
        }
    coords.update({k: str(ds[k].values[0]) for k in ("run", "sample", "source")})
    out = build(
        [Scan(grid, signals, label, coords=coords)],
        kind="xanes",
        attrs={
            "merged_scans": [str(s) for s in ds.scan.values],
            "merge_aligned": int(align),
        },
    )
    with np.errstate(all="ignore"):
        err = std / np.sqrt(count)
    out["mu_std"] = (
        ("scan", "energy"),
        std[None, :],
        {"units": "1", "long_name": "standard deviation over scans"},
    )
    out["mu_err"] = (
        ("scan", "energy"),
        err[None, :],
        {"units": "1", "long_name": "standard error of the mean"},
    )
    out["n_scans"] = (
        ("scan", "energy"),
        count[None, :].astype(float),
        {"units": "1", "long_name": "scans averaged"},
    )
    return out
