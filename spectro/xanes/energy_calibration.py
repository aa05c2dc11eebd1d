"""Energy calibration on a reference foil, and alignment of scans to one another.

Calibration convention
    Each scan is shifted so that its simultaneously measured reference foil
    (``mu_ref``) has its edge at the tabulated energy, by default the Ni K
    edge 8333.0 eV (``xraydb.xray_edge('Ni', 'K').energy``). The foil edge
    is the maximum of the smoothed first derivative (the usual convention
    for metal foils, e.g. Kraft et al., Rev. Sci. Instrum. 67, 681 (1996)),
    found within ``search`` eV of the tabulated energy and refined below the
    grid step (:func:`spectro.xanes.edge.e0_derivative_arrays`). The shift
    ``calibration_shift = E_tab - E_foil`` is added to every energy of the
    scan: calibrated energy = measured energy + shift.

Alignment
    Scans without a foil can be aligned to a chosen scan: the shift ``s``
    minimizing the summed squared difference between the smoothed
    derivative of the scan, evaluated at ``E - s``, and that of the
    reference scan over the common range, searched on a grid of candidate
    shifts (all scans at once for each candidate) and refined by a
    parabola through the best candidate and its neighbours.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import xarray as xr
import xraydb

from ..errors import DataError
from . import _arrays
from ._derivative import DERIVATIVE_WINDOW, derivative_arrays
from .edge import e0_derivative_arrays

#: A foil's edge is the first derivative maximum reaching this fraction of the largest.
FIRST_PEAK: float = 0.7

__all__ = [
    "Calibration",
    "align",
    "align_arrays",
    "calibrate_energy",
    "calibration_arrays",
    "tabulated_edge",
]


@functools.lru_cache(maxsize=64)
def tabulated_edge(element: str = "Ni", edge: str = "K") -> float:
    """Tabulated absorption-edge energy, eV (xraydb).

    Examples
    --------
    >>> tabulated_edge("Ni", "K")
    8333.0
    """
    return float(xraydb.xray_edge(element, edge).energy)


@dataclass(frozen=True)
class Calibration:
    """Calibration of spectra on their reference foils.

    Attributes
    ----------
    shift, shift_err : ndarray, shape (...)
        Energy shift to add to the measured energies, eV, and its 1-sigma
        uncertainty (that of the foil E0).
    foil_e0 : ndarray, shape (...)
        Measured foil edge (derivative maximum), eV.
    edge_energy : float
        Tabulated edge energy used, eV.
    """

    shift: np.ndarray
    shift_err: np.ndarray
    foil_e0: np.ndarray
    edge_energy: float


def calibration_arrays(
    energy: np.ndarray,
    mu_ref: np.ndarray,
    *,
    edge_energy: float | None = None,
    search: float = 25.0,
    window: float = DERIVATIVE_WINDOW,
) -> Calibration:
    """Shift that puts each reference foil's derivative maximum at the tabulated edge.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV.
    mu_ref : ndarray, shape (..., n)
        Reference-foil absorption (NaN = no point).
    edge_energy : float, optional
        Tabulated edge, eV; default the Ni K edge from xraydb (8333.0 eV).
    search : float, keyword-only
        Look for the foil edge within this many eV of ``edge_energy``.
    window : float, keyword-only
        Derivative smoothing window, eV.

    Returns
    -------
    Calibration

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, energy_offset=1.5, seed=0)
    >>> c = calibration_arrays(ds.energy.values, ds.mu_ref.values)
    >>> round(float(c.shift[0]), 2)
    -1.5
    """
    e_tab = tabulated_edge() if edge_energy is None else float(edge_energy)
    pos = e0_derivative_arrays(
        energy,
        mu_ref,
        window=window,
        search=(e_tab - search, e_tab + search),
        first=FIRST_PEAK,
    )
    return Calibration(
        shift=e_tab - pos.e0, shift_err=pos.e0_err, foil_e0=pos.e0, edge_energy=e_tab
    )


def calibrate_energy(
    ds: xr.Dataset,
    *,
    edge_energy: float | None = None,
    search: float = 25.0,
    window: float = DERIVATIVE_WINDOW,
) -> xr.Dataset:
    """Calibrate every scan on its reference channel ``mu_ref``.

    The signals are re-interpolated (linearly, NaN outside the measured
    range) onto the Dataset's energy grid after shifting, so every scan is
    on the calibrated energy scale.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset with ``mu`` and ``mu_ref``.
    edge_energy, search, window
        As in :func:`calibration_arrays`.

    Returns
    -------
    xarray.Dataset
        A new Dataset with shifted ``mu`` and ``mu_ref`` and the variables
        ``calibration_shift`` and ``calibration_shift_err`` (eV).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, energy_offset=2.0, seed=0)
    >>> out = calibrate_energy(ds)
    >>> round(float(out.calibration_shift[0]), 2)
    -2.0
    """
    if "mu_ref" not in ds.data_vars:
        raise DataError(
            "no reference channel 'mu_ref' to calibrate on",
            file=ds.attrs.get("source_file"),
        )
    cal = calibration_arrays(
        ds.energy.values,
        ds.mu_ref.values,
        edge_energy=edge_energy,
        search=search,
        window=window,
    )
    out = shift_energy(ds, cal.shift)
    attrs = {
        "method": "reference foil derivative maximum",
        "edge_energy_ev": cal.edge_energy,
    }
    out["calibration_shift"] = (
        "scan",
        cal.shift,
        {"units": "eV", "long_name": "energy calibration shift", **attrs},
    )
    out["calibration_shift_err"] = (
        "scan",
        cal.shift_err,
        {
            "units": "eV",
            "long_name": "calibration shift uncertainty (1 sigma)",
            **attrs,
        },
    )
    return out


def shift_energy(ds: xr.Dataset, shift: np.ndarray) -> xr.Dataset:
    """Shift each scan's signals by ``shift`` eV (value at E becomes the value at E - shift).

    Examples
    --------
    >>> import spectro, numpy as np
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> out = shift_energy(ds, np.array([0.25]))
    >>> float(out.mu[0, 1]) == float(ds.mu[0, 0])
    True
    """
    e = ds.energy.values
    shift = np.asarray(shift, dtype=float)
    out = ds.copy()
    for name in ("mu", "mu_ref"):
        if name in ds.data_vars:
            x, y = _arrays.as_rows(e, ds[name].values)
            xs, ys, _ = _arrays.compact(x, y)
            q = e[None, :] - np.where(np.isfinite(shift), shift, 0.0)[:, None]
            out[name] = (
                ds[name].dims,
                _arrays.interp_rows(q, xs, ys),
                dict(ds[name].attrs),
            )
    return out


def align_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    reference: np.ndarray,
    *,
    max_shift: float = 5.0,
    step: float = 0.05,
    window: float = DERIVATIVE_WINDOW,
    fit_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Shift (eV) to add to each spectrum's energies to match ``reference``.

    Parameters
    ----------
    energy : ndarray, shape (n,)
        Common energy grid, eV.
    mu : ndarray, shape (..., n)
        Spectra to align (normalized or raw; derivatives are compared after
        scaling each to unit maximum).
    reference : ndarray, shape (n,)
        The spectrum to align to.
    max_shift, step : float, keyword-only
        Candidate shifts ``-max_shift ... max_shift`` in steps of ``step``, eV.
    window : float, keyword-only
        Derivative smoothing window, eV.
    fit_range : (float, float), optional
        Energy range compared, eV (default: all).

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8300.0, 8400.0, 0.25)
    >>> ref = np.arctan((e - 8340) / 2)
    >>> float(np.round(align_arrays(e, np.arctan((e - 8341.3) / 2), ref), 2))
    -1.3
    """
    e = np.asarray(energy, dtype=float)
    d = derivative_arrays(e, mu, window=window).d1
    dref = derivative_arrays(e, reference, window=window).d1
    with _arrays.quiet():
        d = d / np.nanmax(np.abs(d), axis=-1, keepdims=True)
        dref = dref / np.nanmax(np.abs(dref))
    sel = (
        np.ones(e.shape, bool)
        if fit_range is None
        else (e >= fit_range[0]) & (e <= fit_range[1])
    )
    sel &= np.isfinite(dref)
    xs, ds_, _ = _arrays.compact(np.broadcast_to(e, d.shape), d)
    shifts = np.arange(-max_shift, max_shift + 0.5 * step, step)
    cost = np.empty(d.shape[:-1] + shifts.shape)
    with _arrays.quiet():
        for k, s in enumerate(shifts):
            moved = _arrays.interp_rows(e[sel] - s, xs, ds_)
            cost[..., k] = np.nanmean((moved - dref[sel]) ** 2, axis=-1)
    cost = np.where(np.isfinite(cost), cost, np.inf)
    k = np.clip(np.argmin(cost, axis=-1), 1, shifts.size - 2)
    c0 = np.take_along_axis(cost, (k - 1)[..., None], -1)[..., 0]
    c1 = np.take_along_axis(cost, k[..., None], -1)[..., 0]
    c2 = np.take_along_axis(cost, (k + 1)[..., None], -1)[..., 0]
    with np.errstate(all="ignore"):
        frac = 0.5 * (c0 - c2) / (c0 - 2 * c1 + c2)
    frac = np.where(np.isfinite(frac), np.clip(frac, -1, 1), 0.0)
    return shifts[k] + frac * step


def align(
    ds: xr.Dataset,
    *,
    to: int | str = 0,
    variable: str = "mu",
    max_shift: float = 5.0,
    step: float = 0.05,
    window: float = DERIVATIVE_WINDOW,
) -> xr.Dataset:
    """Align every scan to scan ``to`` by matching derivatives.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset.
    to : int or str, keyword-only
        Position or label of the scan to align to.
    variable, max_shift, step, window
        As in :func:`align_arrays`.

    Returns
    -------
    xarray.Dataset
        A new Dataset with shifted signals and ``alignment_shift`` (eV).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(n_scans=2, energy_offset=[0.0, 1.0], seed=0)
    >>> [round(float(s), 1) + 0.0 for s in align(ds).alignment_shift]
    [0.0, -1.0]
    """
    ref = (
        ds[variable].isel(scan=to) if isinstance(to, int) else ds[variable].sel(scan=to)
    )
    shift = align_arrays(
        ds.energy.values,
        ds[variable].values,
        ref.values,
        max_shift=max_shift,
        step=step,
        window=window,
    )
    out = shift_energy(ds, shift)
    out["alignment_shift"] = (
        "scan",
        shift,
        {
            "units": "eV",
            "long_name": "alignment shift",
            "method": "derivative matching",
            "reference_scan": str(ref.scan.values),
        },
    )
    return out
