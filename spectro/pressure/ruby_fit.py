"""Fit a ruby fluorescence spectrum (R1/R2 doublet) and read the pressure.

Model (lmfit): two pseudo-Voigt peaks on a linear background. R2 lies
``splitting`` below R1 (about 1.4 nm, the 29 cm⁻¹ splitting of the ²E
level), with the splitting a free parameter bounded to 0.5-2.5 nm; both
peaks share neither width nor shape. R1 is the longer-wavelength line.

The pressure error adds in quadrature the R1 position error (lmfit standard
error, scaled to the residual scatter unless ``intensity_err`` is given)
and the stated uncertainty of the scale (:func:`spectro.pressure.ruby_pressure`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError, FitError, FitWarning
from .gauges import GaugeReading, ruby_pressure

__all__ = ["RubyFit", "fit_ruby"]

_SPLITTING = 1.4  # nm, R1 - R2 near ambient pressure


@dataclass(frozen=True)
class RubyFit:
    """Result of :func:`fit_ruby`.

    Attributes
    ----------
    r1, r1_err : float
        R1 position and standard error, nm.
    r2, r2_err : float
        R2 position and standard error, nm.
    r1_fwhm : float
        R1 full width at half maximum, nm (broadening flags
        non-hydrostatic stress).
    reading : GaugeReading
        Pressure (GPa) from R1 with its uncertainty.
    reduced_chi2 : float
    result : lmfit.model.ModelResult
        The full fit (``result.plot()``, ``result.fit_report()``).
    """

    r1: float
    r1_err: float
    r2: float
    r2_err: float
    r1_fwhm: float
    reading: GaugeReading
    reduced_chi2: float
    result: Any

    @property
    def pressure(self) -> float:
        """Pressure, GPa."""
        return float(self.reading.pressure)

    @property
    def pressure_err(self) -> float:
        """Pressure uncertainty (1 sigma), GPa."""
        return float(self.reading.pressure_err)


def fit_ruby(
    wavelength: np.ndarray,
    intensity: np.ndarray,
    *,
    intensity_err: np.ndarray | None = None,
    scale: str = "ruby2020",
    lambda0: float | None = None,
    lambda0_err: float = 0.0,
    temperature: float | None = None,
) -> RubyFit:
    """Fit the R1/R2 doublet of a ruby spectrum and convert R1 to pressure.

    Parameters
    ----------
    wavelength : array_like, shape (n,)
        nm.
    intensity : array_like, shape (n,)
        Counts (any scale).
    intensity_err : array_like, optional
        One-sigma errors of ``intensity``; without them the position error
        is scaled to the residual scatter.
    scale, lambda0, lambda0_err, temperature
        Passed to :func:`spectro.pressure.ruby_pressure`.

    Returns
    -------
    RubyFit

    Raises
    ------
    DataError
        Fewer than 12 finite points, or the range does not hold both lines.
    FitError
        If the fit fails or R1 has no finite error.

    Warns
    -----
    FitWarning
        If R1 ends at the edge of the data.

    Examples
    --------
    >>> from spectro.pressure import ruby_wavelength
    >>> lam = np.linspace(695.0, 705.0, 400)
    >>> r1 = ruby_wavelength(10.0)
    >>> y = 100 / (1 + ((lam - r1) / 0.2) ** 2) + 60 / (1 + ((lam - r1 + 1.4) / 0.2) ** 2) + 5
    >>> fit = fit_ruby(lam, y + np.random.default_rng(0).normal(0, 0.5, lam.size))
    >>> round(fit.pressure, 1)
    10.0
    """
    x = np.asarray(wavelength, dtype=float)
    y = np.asarray(intensity, dtype=float)
    good = np.isfinite(x) & np.isfinite(y)
    weights = None
    if intensity_err is not None:
        err = np.asarray(intensity_err, dtype=float)
        good &= np.isfinite(err) & (err > 0)
        weights = 1.0 / err[good]
    x, y = x[good], y[good]
    if x.size < 12:
        raise DataError(f"ruby spectrum has {x.size} finite points; need at least 12")
    order = np.argsort(x)
    x, y = x[order], y[order]
    if weights is not None:
        weights = weights[order]
    if x[-1] - x[0] < 2.0 * _SPLITTING:
        raise DataError(f"ruby spectrum spans {x[-1] - x[0]:.2f} nm; need >= {2 * _SPLITTING} nm for R1 and R2")

    base = np.interp(x, [x[0], x[-1]], [y[0], y[-1]])
    peak = y - base
    c1 = x[np.argmax(peak)]
    height = float(peak.max())
    from lmfit.models import LinearModel, PseudoVoigtModel  # lmfit imports matplotlib

    model = (PseudoVoigtModel(prefix="r1_")
             + PseudoVoigtModel(prefix="r2_")
             + LinearModel(prefix="bg_"))
    params = model.make_params()
    step = float(np.median(np.diff(x)))
    params["r1_center"].set(value=c1, min=x[0], max=x[-1])
    params["r1_sigma"].set(value=0.2, min=step / 2, max=(x[-1] - x[0]) / 2)
    params["r1_amplitude"].set(value=height * 0.2 * 2.5, min=0.0)
    params["r1_fraction"].set(value=0.5, min=0.0, max=1.0)
    params.add("splitting", value=_SPLITTING, min=0.5, max=2.5)
    params["r2_center"].set(expr="r1_center - splitting")
    params["r2_sigma"].set(value=0.2, min=step / 2, max=(x[-1] - x[0]) / 2)
    params["r2_amplitude"].set(value=height * 0.2 * 2.5 * 0.6, min=0.0)
    params["r2_fraction"].set(value=0.5, min=0.0, max=1.0)
    slope = (y[-1] - y[0]) / (x[-1] - x[0])
    params["bg_slope"].set(value=slope)
    params["bg_intercept"].set(value=y[0] - slope * x[0])
    result = model.fit(y, params, x=x, weights=weights, scale_covar=weights is None)
    at_bound = [name for name in ("r1_fraction", "r2_fraction")
                if min(abs(result.params[name].value - b) for b in (0.0, 1.0)) < 1e-4]
    if at_bound:
        # A pure Lorentzian or Gaussian shape sits on the bound of the mixing
        # fraction, where no covariance exists: hold it there and refit.
        params = result.params.copy()
        for name in at_bound:
            params[name].set(value=round(params[name].value), vary=False)
        result = model.fit(y, params, x=x, weights=weights, scale_covar=weights is None)
    r1 = result.params["r1_center"]
    if not result.success or r1.stderr is None or not np.isfinite(r1.stderr):
        raise FitError(f"ruby fit failed or gave no R1 error: {result.message}")
    if r1.value - x[0] < step or x[-1] - r1.value < step:
        warnings.warn(f"R1 at {r1.value:.3f} nm is at the edge of the data", FitWarning, stacklevel=2)
    r2 = result.params["r2_center"]
    reading = ruby_pressure(r1.value, wavelength_err=r1.stderr, scale=scale, lambda0=lambda0,
                            lambda0_err=lambda0_err, temperature=temperature)
    return RubyFit(
        r1=float(r1.value), r1_err=float(r1.stderr),
        r2=float(r2.value), r2_err=float(r2.stderr or np.nan),
        r1_fwhm=float(result.params["r1_fwhm"].value),
        reading=reading, reduced_chi2=float(result.redchi), result=result,
    )
