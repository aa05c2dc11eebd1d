"""Pressure gauges: ruby R1 fluorescence and the diamond Raman edge.

Ruby scales (``x = (λ - λ0) / λ0``, ``r = λ / λ0``):

``"ruby2020"``
    Shen et al., High Press. Res. 40, 299 (2020), doi:10.1080/08957959.2020.1791107,
    the AIRAPT-endorsed IPPS-Ruby2020 gauge:
    ``P = A x (1 + B x)`` with A = 1870 ± 10 GPa, B = 5.63 ± 0.03,
    λ0 = 694.25 nm at ambient conditions; valid to 150 GPa.
``"mao1986"``
    Mao, Xu & Bell, J. Geophys. Res. 91, 4673 (1986), quasi-hydrostatic
    (argon medium): ``P = (A / B) (r**B - 1)`` with A = 1904 GPa,
    B = 7.665, λ0 = 694.24 nm; no uncertainty of A and B is stated.

Diamond Raman edge (``x = (ν - ν0) / ν0``): Akahama & Kawamura,
J. Appl. Phys. 100, 043516 (2006): ``P = K0 x [1 + (K0' - 1) x / 2]`` with
K0 = 547 ± 11 GPa, K0' = 3.75 ± 0.20, ν0 = 1334 cm⁻¹ (high-frequency edge
of the first-order Raman band of the culet).

Temperature: the ruby R1 line moves with temperature at constant pressure.
With ``temperature`` given, λ0 is shifted by ``λ(T) - λ(296 K)`` from the
R1 wavenumber of Ragan, Gustavsen & Schiferl, J. Appl. Phys. 72, 5539 (1992)
(fit for about 15-600 K, coefficients to verify against the paper)::

    ν(T) = 14423 + 4.49e-2 T - 4.81e-4 T**2 + 3.71e-7 T**3   (cm⁻¹)

assuming pressure and temperature shifts add, as is common practice.

Uncertainties add in quadrature the measurement part (wavelength and λ0
errors through ``dP/dλ`` and ``dP/dλ0``) and the scale part (errors of A
and B, or K0 and K0', through the partial derivatives of P); both parts are
returned separately.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ValidationError

__all__ = [
    "DIAMOND_AKAHAMA2006",
    "RUBY_SCALES",
    "GaugeReading",
    "diamond_raman_pressure",
    "ruby_lambda0",
    "ruby_pressure",
    "ruby_wavelength",
]

#: Ruby scale parameters: name -> dict(A (GPa), A_err, B, B_err, lambda0 (nm), form, citation).
RUBY_SCALES: dict[str, dict] = {
    "ruby2020": {
        "A": 1870.0, "A_err": 10.0, "B": 5.63, "B_err": 0.03, "lambda0": 694.25,
        "form": "quadratic",
        "citation": "Shen et al., High Press. Res. 40, 299 (2020) (IPPS-Ruby2020)",
    },
    "mao1986": {
        "A": 1904.0, "A_err": 0.0, "B": 7.665, "B_err": 0.0, "lambda0": 694.24,
        "form": "power",
        "citation": "Mao, Xu & Bell, J. Geophys. Res. 91, 4673 (1986), quasi-hydrostatic",
    },
}

#: Diamond Raman-edge scale of Akahama & Kawamura (2006).
DIAMOND_AKAHAMA2006 = {
    "K0": 547.0, "K0_err": 11.0, "K0p": 3.75, "K0p_err": 0.20, "nu0": 1334.0,
    "citation": "Akahama & Kawamura, J. Appl. Phys. 100, 043516 (2006)",
}

_RAGAN_T_REF = 296.0


@dataclass(frozen=True)
class GaugeReading:
    """A pressure from a gauge, with its uncertainty split by origin.

    Attributes
    ----------
    pressure : ndarray
        Pressure, GPa.
    pressure_err : ndarray
        Total one-sigma uncertainty, GPa (quadrature sum of the two parts).
    measurement_err : ndarray
        Part from the measured line position and the ambient reference, GPa.
    scale_err : ndarray
        Part from the stated uncertainty of the scale's parameters, GPa.
    scale : str
        Scale used.
    params : dict
        Parameters actually used (reference position after any temperature
        correction, coefficients, citation).
    """

    pressure: np.ndarray
    pressure_err: np.ndarray
    measurement_err: np.ndarray
    scale_err: np.ndarray
    scale: str
    params: dict


def _ruby_scale(scale: str) -> dict:
    if scale not in RUBY_SCALES:
        raise ValidationError(f"unknown ruby scale {scale!r}; use one of {tuple(RUBY_SCALES)}")
    return RUBY_SCALES[scale]


def _ragan_wavenumber(t: np.ndarray) -> np.ndarray:
    return 14423.0 + 4.49e-2 * t - 4.81e-4 * t**2 + 3.71e-7 * t**3


def ruby_lambda0(
    temperature: np.ndarray | float, *, scale: str = "ruby2020", lambda0: float | None = None
) -> np.ndarray:
    """Zero-pressure ruby R1 wavelength at ``temperature``, nm.

    ``lambda0`` (the scale's value by default, taken as 296 K) shifted by
    the Ragan et al. (1992) temperature dependence of the R1 line.

    Parameters
    ----------
    temperature : array_like
        Kelvin, about 15 to 600 K.
    scale : str
        Scale whose ambient λ0 is the default.
    lambda0 : float, optional
        Measured ambient (296 K) R1 wavelength, nm.

    Examples
    --------
    >>> round(float(ruby_lambda0(296.0)), 3)
    694.25
    >>> bool(ruby_lambda0(10.0) < 694.25 - 0.8)
    True
    """
    base = _ruby_scale(scale)["lambda0"] if lambda0 is None else float(lambda0)
    t = np.asarray(temperature, dtype=float)
    return base + 1e7 / _ragan_wavenumber(t) - 1e7 / _ragan_wavenumber(np.float64(_RAGAN_T_REF))


def ruby_pressure(
    wavelength: np.ndarray | float,
    *,
    wavelength_err: np.ndarray | float = 0.0,
    scale: str = "ruby2020",
    lambda0: float | None = None,
    lambda0_err: float = 0.0,
    temperature: np.ndarray | float | None = None,
) -> GaugeReading:
    """Pressure from the ruby R1 fluorescence wavelength.

    Parameters
    ----------
    wavelength : array_like
        R1 wavelength, nm (air, as in the scales' calibrations).
    wavelength_err : array_like or float
        One-sigma error of the R1 position, nm (e.g. from :func:`fit_ruby`).
    scale : {"ruby2020", "mao1986"}
        Pressure scale (see the module docstring).
    lambda0 : float, optional
        Ambient R1 wavelength measured with the same spectrometer, nm;
        default the scale's value. Measuring it removes the spectrometer's
        calibration offset.
    lambda0_err : float
        Its one-sigma error, nm.
    temperature : array_like, optional
        Ruby temperature, K; shifts λ0 with :func:`ruby_lambda0`.

    Returns
    -------
    GaugeReading
        Pressure in GPa with its uncertainty (measurement and scale parts).

    Examples
    --------
    >>> r = ruby_pressure(700.0, wavelength_err=0.02)
    >>> round(float(r.pressure), 2), round(float(r.pressure_err), 2)
    (16.21, 0.1)
    >>> round(float(ruby_pressure(700.0, scale="mao1986").pressure), 2)
    16.24
    """
    s = _ruby_scale(scale)
    lam = np.asarray(wavelength, dtype=float)
    lam0 = s["lambda0"] if lambda0 is None else float(lambda0)
    if temperature is not None:
        lam0 = ruby_lambda0(temperature, scale=scale, lambda0=lam0)
    a, b = s["A"], s["B"]
    r = lam / lam0
    if s["form"] == "quadratic":
        x = r - 1.0
        p = a * x * (1.0 + b * x)
        dp_dx = a * (1.0 + 2.0 * b * x)
        dp_da = x * (1.0 + b * x)
        dp_db = a * x**2
        dp_dlam, dp_dlam0 = dp_dx / lam0, -dp_dx * lam / lam0**2
    else:
        rb = r**b
        p = a / b * (rb - 1.0)
        dp_dr = a * r ** (b - 1.0)
        dp_da = (rb - 1.0) / b
        dp_db = -a / b**2 * (rb - 1.0) + a / b * rb * np.log(r)
        dp_dlam, dp_dlam0 = dp_dr / lam0, -dp_dr * lam / lam0**2
    meas = np.hypot(dp_dlam * np.asarray(wavelength_err, dtype=float), dp_dlam0 * lambda0_err)
    scl = np.hypot(dp_da * s["A_err"], dp_db * s["B_err"])
    params = {"A": a, "B": b, "lambda0": lam0, "form": s["form"], "citation": s["citation"],
              "temperature_correction": "Ragan et al. 1992" if temperature is not None else "none"}
    return GaugeReading(p, np.hypot(meas, scl), meas, scl, scale, params)


def ruby_wavelength(
    pressure: np.ndarray | float,
    *,
    scale: str = "ruby2020",
    lambda0: float | None = None,
    temperature: np.ndarray | float | None = None,
) -> np.ndarray:
    """R1 wavelength (nm) at ``pressure`` (GPa): the inverse of :func:`ruby_pressure`.

    Closed form for both scales.

    Examples
    --------
    >>> lam = ruby_wavelength([0.0, 10.0, 100.0])
    >>> [round(float(p), 9) for p in ruby_pressure(lam).pressure]
    [0.0, 10.0, 100.0]
    """
    s = _ruby_scale(scale)
    lam0 = s["lambda0"] if lambda0 is None else float(lambda0)
    if temperature is not None:
        lam0 = ruby_lambda0(temperature, scale=scale, lambda0=lam0)
    p = np.asarray(pressure, dtype=float)
    a, b = s["A"], s["B"]
    if s["form"] == "quadratic":
        x = 2.0 * p / (a + np.sqrt(a**2 + 4.0 * a * b * p))
        return lam0 * (1.0 + x)
    return lam0 * (1.0 + b * p / a) ** (1.0 / b)


def diamond_raman_pressure(
    wavenumber: np.ndarray | float,
    *,
    wavenumber_err: np.ndarray | float = 0.0,
    nu0: float | None = None,
    nu0_err: float = 0.0,
) -> GaugeReading:
    """Pressure from the high-frequency edge of the diamond anvil Raman band.

    Akahama & Kawamura (2006): ``P = K0 x [1 + (K0' - 1) x / 2]`` with
    ``x = (ν - ν0) / ν0``, K0 = 547 ± 11 GPa, K0' = 3.75 ± 0.20.

    Parameters
    ----------
    wavenumber : array_like
        Raman edge, cm⁻¹.
    wavenumber_err : array_like or float
        Its one-sigma error, cm⁻¹.
    nu0 : float, optional
        Ambient edge measured on the same anvil, cm⁻¹ (default 1334).
    nu0_err : float
        Its one-sigma error, cm⁻¹.

    Returns
    -------
    GaugeReading

    Examples
    --------
    >>> r = diamond_raman_pressure(1400.0, wavenumber_err=1.0)
    >>> round(float(r.pressure), 1), round(float(r.pressure_err), 1)
    (28.9, 0.8)
    """
    s = DIAMOND_AKAHAMA2006
    n0 = s["nu0"] if nu0 is None else float(nu0)
    nu = np.asarray(wavenumber, dtype=float)
    k0, k0p = s["K0"], s["K0p"]
    x = nu / n0 - 1.0
    p = k0 * x * (1.0 + 0.5 * (k0p - 1.0) * x)
    dp_dx = k0 * (1.0 + (k0p - 1.0) * x)
    meas = np.hypot(dp_dx / n0 * np.asarray(wavenumber_err, dtype=float), dp_dx * nu / n0**2 * nu0_err)
    scl = np.hypot(x * (1.0 + 0.5 * (k0p - 1.0) * x) * s["K0_err"], 0.5 * k0 * x**2 * s["K0p_err"])
    params = {"K0": k0, "K0p": k0p, "nu0": n0, "citation": s["citation"]}
    return GaugeReading(p, np.hypot(meas, scl), meas, scl, "akahama2006", params)
