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
takes one spectrum (1-D arrays); :func:`spectro.xes.analyze_arrays` calls it
on each spectrum when the option ``fit`` is set. A spectrum that does not
cover the Kbeta' window, or has fewer points in the fit range than the
model has parameters, is not fitted (NaN); the reason is in ``flags``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..options import XesOptions, options_of
from . import numerics as nm
from ._flags import XesFlag
from .background import normalize

__all__ = ["KbetaFit", "fit_kbeta"]

#: Free parameters of the model (two pseudo-Voigts of four, a constant).
N_PARAMETERS = 9


@dataclass(frozen=True)
class KbetaFit:
    """Fitted Kbeta1,3 + Kbeta' model of one spectrum (energies in eV).

    ``flags`` holds the :class:`~spectro.xes.XesFlag` bits that say why the
    fit is NaN or its errors are: ``KB13_NOT_FOUND``, ``KB_PRIME_MISSING``,
    ``FIT_FAILED`` (too few points, or no covariance).
    """

    kb_prime_ratio: float
    kb_prime_ratio_err: float
    kb13_center: float
    kb13_center_err: float
    kb_prime_center: float
    kb_prime_center_err: float
    redchi: float
    fit_window: tuple[float, float]
    flags: int = 0


def _not_fitted(fit_window: tuple[float, float], flag: XesFlag) -> KbetaFit:
    return KbetaFit(*(np.nan,) * 7, fit_window=fit_window, flags=int(flag))


def fit_kbeta(
    energy: np.ndarray,
    intensity: np.ndarray,
    intensity_err: np.ndarray | None = None,
    options: XesOptions | None = None,
    /,
    **changes: Any,
) -> KbetaFit:
    """Fit Kbeta1,3 + Kbeta' pseudo-Voigts to one spectrum; return the area ratio.

    Parameters
    ----------
    energy, intensity : ndarray, shape (n,)
        One spectrum (eV; raw intensities, NaN = no point).
    intensity_err : ndarray, shape (n,), optional
        One-sigma errors; fit weights are their inverse.
    options : XesOptions, optional
        ``element``, ``background``, ``fit_window`` (fit range relative to
        the measured Kbeta1,3 peak, eV, clipped to the data, which must
        cover the Kbeta' window), ``kb_prime_offset`` (starting Kbeta'
        position relative to the peak, eV; default the element's
        :data:`~spectro.xes.KB_PRIME_OFFSET`) and ``kb_prime`` (the bounds of
        the Kbeta' position). ``norm`` is not used: the model is fitted to
        the spectrum with its Kbeta1,3 maximum at 1.
    **changes
        Changes to ``options``, by name.

    Returns
    -------
    KbetaFit
        NaN fields when the Kbeta' window is not covered or the fit range
        holds fewer than 9 points; NaN errors when the fit gives no
        covariance; ``flags`` says which.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(spin="high", seed=0)
    >>> r = fit_kbeta(ds.emission_energy.values, ds.intensity.values[0])
    >>> round(r.kb_prime_ratio, 2), round(float(ds.true_kb_prime_ratio[0]), 2)
    (0.15, 0.15)
    """
    if np.ndim(intensity) != 1:
        raise ValueError("fit_kbeta takes one spectrum (1-D); use spectro.xes.kbeta_fit for Datasets")
    opts = options_of(XesOptions, options, changes).replace(norm="max")
    fit_window = opts.fit_window
    n = normalize(energy, intensity, intensity_err, opts)
    w = n.windows
    e13 = float(n.kb13_energy)
    kb_prime_offset = w.kb_prime_center
    e, y, s, _ = nm.compact(energy, n.intensity, n.intensity_err)
    if not np.isfinite(e13):
        return _not_fitted(fit_window, XesFlag.KB13_NOT_FOUND)
    if not bool(nm.covered(e, e13 + w.kb_prime[0], e13 + w.kb_prime[1])):
        return _not_fitted(fit_window, XesFlag.KB_PRIME_MISSING)
    sel = np.isfinite(y) & (e >= e13 + fit_window[0]) & (e <= e13 + fit_window[1])
    if np.count_nonzero(sel) < N_PARAMETERS:
        return _not_fitted(fit_window, XesFlag.FIT_FAILED)
    x, yy, ss = e[sel], y[sel], s[sel]
    with _LMFIT:
        return _fitted(x, yy, ss, e13, w, kb_prime_offset, fit_window)


#: lmfit parses its parameter expressions with Python's ``ast`` (asteval), which on CPython 3.11 is not safe
#: from several threads at once ("AST constructor recursion depth mismatch" under dask's threaded
#: scheduler): one fit at a time per process.
_LMFIT = threading.Lock()


def _fitted(x, yy, ss, e13, w, kb_prime_offset, fit_window) -> KbetaFit:
    """The lmfit fit of the selected points ``x``, ``yy`` (errors ``ss``)."""
    from lmfit.models import ConstantModel, PseudoVoigtModel

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
    err, flags = np.nan, 0
    if res.covar is not None:
        names = list(res.var_names)
        i1, i2 = names.index("main_amplitude"), names.index("prime_amplitude")
        c = res.covar
        j = np.array([-a2 / a1**2, 1.0 / a1])
        sub = np.array([[c[i1, i1], c[i1, i2]], [c[i2, i1], c[i2, i2]]])
        err = float(np.sqrt(j @ sub @ j))
    else:
        flags = int(XesFlag.FIT_FAILED)

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
        flags=flags,
    )
