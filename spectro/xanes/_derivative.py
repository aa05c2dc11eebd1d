"""Smoothed first and second derivatives of XANES spectra.

Derivatives come from a local polynomial regression: at every point a
quadratic in ``(E - E_i)`` is fitted by least squares to the points within
``window / 2`` eV on each side (at least two neighbours each side). On a
uniform grid this is the Savitzky-Golay filter (Savitzky & Golay, Anal.
Chem. 36, 1627 (1964)); on a non-uniform grid, or next to missing points
(NaN), it uses the actual energies of the neighbours, so no resampling is
needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import _apply
from . import _arrays

__all__ = ["Derivatives", "derivative", "derivative_arrays"]

#: Default smoothing window of the derivatives, eV (full width).
DERIVATIVE_WINDOW: float = 1.5


@dataclass(frozen=True)
class Derivatives:
    """First and second derivatives of spectra, and their noise per unit sigma.

    Attributes
    ----------
    d1, d2 : ndarray, shape (..., n)
        First (1/eV) and second (1/eV**2) derivatives, NaN where there is no point.
    d1_unit_err : ndarray, shape (..., n)
        Standard deviation of ``d1`` per unit noise standard deviation of
        the input (multiply by the noise sigma).
    window : float
        Requested full window, eV.
    """

    d1: np.ndarray
    d2: np.ndarray
    d1_unit_err: np.ndarray
    window: float


def derivative_arrays(
    energy: np.ndarray, mu: np.ndarray, *, window: float = DERIVATIVE_WINDOW
) -> Derivatives:
    """Smoothed first and second derivatives over the last axis.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV, increasing along each row (NaN = no point).
    mu : ndarray, shape (..., n)
        Spectra; NaN marks missing points.
    window : float, keyword-only
        Full width of the local quadratic fit, eV.

    Returns
    -------
    Derivatives

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8300.0, 8400.0, 0.5)
    >>> d = derivative_arrays(e, 3.0 * e)
    >>> bool(np.allclose(d.d1, 3.0)), bool(np.allclose(d.d2, 0.0, atol=1e-9))
    (True, True)
    """
    x, y = _arrays.as_rows(energy, mu)
    xs, ys, order = _arrays.compact(x, y)
    coef, var = _arrays.local_poly(xs, ys, window, 2)
    return Derivatives(
        d1=_arrays.scatter(coef[1], order),
        d2=_arrays.scatter(2.0 * coef[2], order),
        d1_unit_err=_arrays.scatter(np.sqrt(var[1]), order),
        window=float(window),
    )


def derivative(
    ds: xr.Dataset, *, window: float = DERIVATIVE_WINDOW, variable: str = "mu"
) -> xr.Dataset:
    """Smoothed derivatives of ``ds[variable]`` as ``dmu`` and ``d2mu``.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset (or a result with ``norm``).
    window : float, keyword-only
        Full width of the local quadratic fit, eV.
    variable : str, keyword-only
        Variable to differentiate (``mu``, ``norm``, ``flat``).

    Returns
    -------
    xarray.Dataset
        ``dmu`` (1/eV) and ``d2mu`` (1/eV**2) along (scan, energy).

    Examples
    --------
    >>> import spectro
    >>> d = spectro.xanes.derivative(spectro.simulate.xanes(seed=0))
    >>> d.dmu.dims
    ('scan', 'energy')
    """

    def kernel(mu, *, energy):
        r = derivative_arrays(energy, mu, window=window)
        return r.d1, r.d2

    out = _apply.run(
        kernel,
        _apply.signal(ds, variable),
        outputs={
            "dmu": (["energy"], "1/eV", f"first derivative of {variable}"),
            "d2mu": (["energy"], "1/eV2", f"second derivative of {variable}"),
        },
    )
    for v in out.data_vars.values():
        v.attrs.update(
            method="local quadratic regression (Savitzky-Golay)",
            window_ev=float(window),
        )
    return out.assign_coords(_apply.scan_coords(ds))
