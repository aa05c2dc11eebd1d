"""Kbeta' / Kbeta1,3 ratio from a fitted line model (lmfit).

Model, fitted to the normalized spectrum over ``E13 + fit_window`` (default
-25 to +10 eV around the measured Kbeta1,3 peak)::

    PseudoVoigt(Kbeta1,3) + PseudoVoigt(Kbeta') + constant

with the Kbeta' centre started at ``kb_prime_offset`` from the peak (default:
the element's :data:`~spectro.xes.KB_PRIME_OFFSET`, Ni -9 eV) and
bounded to the Kbeta' window. The ratio is the ratio of the fitted
areas (``amplitude`` of :class:`lmfit.models.PseudoVoigtModel`); its
standard deviation comes from the fit covariance (both amplitudes and their
correlation), scaled by lmfit to the reduced chi-square.

A non-linear fit is inherently one spectrum at a time: :func:`fit_kbeta`
takes one spectrum (1-D arrays); :func:`spectro.xes.kbeta_fit` maps it over
the scans of a Dataset with ``xarray.apply_ufunc(vectorize=True)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import FitWarning, MissingRegionWarning
from . import numerics as nm
from ._windows import Windows
from .background import normalize

__all__ = ["KbetaFit", "fit_kbeta"]


@dataclass(frozen=True)
class KbetaFit:
    """Fitted Kbeta1,3 + Kbeta' model of one spectrum (energies in eV)."""

    kb_prime_ratio: float
    kb_prime_ratio_err: float
    kb13_center: float
    kb13_center_err: float
    kb_prime_center: float
    kb_prime_center_err: float
    redchi: float
    fit_window: tuple[float, float]


_NAN = KbetaFit(*(np.nan,) * 7, fit_window=(np.nan, np.nan))


def fit_kbeta(
    energy: np.ndarray,
    intensity: np.ndarray,
    intensity_err: np.ndarray | None = None,
    *,
    element: str = "Ni",
    background: str = "constant",
    fit_window: tuple[float, float] = (-25.0, 10.0),
    kb_prime_offset: float | None = None,
    windows: Windows | None = None,
) -> KbetaFit:
    """Fit Kbeta1,3 + Kbeta' pseudo-Voigts to one spectrum; return the area ratio.

    Parameters
    ----------
    energy, intensity : ndarray, shape (n,)
        One spectrum (eV; raw intensities, NaN = no point).
    intensity_err : ndarray, shape (n,), optional
        One-sigma errors; fit weights are their inverse.
    element : str, default "Ni"
    background : {"constant", "linear", "none"}
    fit_window : tuple of float, default (-25, 10)
        Fit range relative to the measured Kbeta1,3 peak, eV (clipped to
        the data, which must cover the Kbeta' window).
    kb_prime_offset : float, optional
        Starting Kbeta' position relative to the peak, eV (default
        ``windows.kb_prime_center``).
    windows : Windows, optional

    Returns
    -------
    KbetaFit
        NaN fields (and a MissingRegionWarning) when the Kbeta' window is
        not covered; FitWarning when the fit has no covariance.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(spin="high", seed=0)
    >>> r = fit_kbeta(ds.emission_energy.values, ds.intensity.values[0])
    >>> round(r.kb_prime_ratio, 2), round(float(ds.true_kb_prime_ratio[0]), 2)
    (0.15, 0.15)
    """
    from lmfit.models import ConstantModel, PseudoVoigtModel

    if np.ndim(intensity) != 1:
        raise ValueError("fit_kbeta takes one spectrum (1-D); use spectro.xes.kbeta_fit for Datasets")
    n = normalize(energy, intensity, intensity_err, element=element, background=background,
                  norm="max", windows=windows)
    w = n.windows
    e13 = float(n.kb13_energy)
    if kb_prime_offset is None:
        kb_prime_offset = w.kb_prime_center
    e, y, s, _ = nm.compact(energy, n.intensity, n.intensity_err)
    if not np.isfinite(e13) or not bool(nm.covered(e, e13 + w.kb_prime[0], e13 + w.kb_prime[1])):
        warnings.warn("spectrum does not cover the Kbeta' window; fitted ratio is NaN",
                      MissingRegionWarning, stacklevel=2)
        return _NAN
    sel = np.isfinite(y) & (e >= e13 + fit_window[0]) & (e <= e13 + fit_window[1])
    x, yy, ss = e[sel], y[sel], s[sel]
    model = PseudoVoigtModel(prefix="main_") + PseudoVoigtModel(prefix="prime_") + ConstantModel()
    p = model.make_params(
        main_center=e13, main_sigma=1.5, main_amplitude=3.0, main_fraction=0.5,
        prime_center=e13 + kb_prime_offset, prime_sigma=3.0, prime_amplitude=0.3,
        prime_fraction=0.3, c=0.0,
    )
    p["main_center"].set(min=e13 - 2.0, max=e13 + 2.0)
    p["main_sigma"].set(min=0.2, max=10.0)
    p["main_fraction"].set(min=0.0, max=1.0)
    p["prime_center"].set(min=e13 + w.kb_prime[0], max=e13 + w.kb_prime[1])
    p["prime_sigma"].set(min=0.5, max=10.0)
    p["prime_fraction"].set(min=0.0, max=1.0)
    p["prime_amplitude"].set(min=0.0)
    weights = None
    if np.all(np.isfinite(ss)) and np.all(ss > 0):
        weights = 1.0 / ss
    res = model.fit(yy, p, x=x, weights=weights, nan_policy="raise")
    a1, a2 = res.params["main_amplitude"].value, res.params["prime_amplitude"].value
    ratio = a2 / a1
    err = np.nan
    if res.covar is not None:
        names = list(res.var_names)
        i1, i2 = names.index("main_amplitude"), names.index("prime_amplitude")
        c = res.covar
        j = np.array([-a2 / a1**2, 1.0 / a1])
        sub = np.array([[c[i1, i1], c[i1, i2]], [c[i2, i1], c[i2, i2]]])
        err = float(np.sqrt(j @ sub @ j))
    else:
        warnings.warn("Kbeta fit returned no covariance; ratio error is NaN", FitWarning,
                      stacklevel=2)

    def stderr(name):
        v = res.params[name].stderr
        return np.nan if v is None else float(v)

    return KbetaFit(
        kb_prime_ratio=float(ratio),
        kb_prime_ratio_err=err,
        kb13_center=float(res.params["main_center"].value),
        kb13_center_err=stderr("main_center"),
        kb_prime_center=float(res.params["prime_center"].value),
        kb_prime_center_err=stderr("prime_center"),
        redchi=float(res.redchi),
        fit_window=(float(fit_window[0]), float(fit_window[1])),
    )
