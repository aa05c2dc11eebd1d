"""Spin-state estimate by linear interpolation between two references.

For a metric ``m`` (IAD, Kbeta'/Kbeta1,3 ratio or Kbeta1,3 first moment)
measured on the sample and on a high-spin and a low-spin reference,

    f_HS = (m - m_LS) / (m_HS - m_LS),

the high-spin fraction (Vanko *et al.*, J. Phys. Chem. B 110, 11647 (2006),
for the IAD, where ``m_LS = 0`` when the IAD is taken against the low-spin
reference). Its standard deviation propagates the three metric errors to
first order:

    var f = (s_m^2 + f^2 s_HS^2 + (1 - f)^2 s_LS^2) / (m_HS - m_LS)^2.

Values outside [0, 1] are kept and flagged with an
:class:`~spectro.errors.ExtrapolationWarning`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ExtrapolationWarning

__all__ = ["SpinEstimate", "spin_fraction"]


@dataclass(frozen=True)
class SpinEstimate:
    """High-spin fraction and its standard deviation, shape (...)."""

    fraction: np.ndarray
    fraction_err: np.ndarray
    high: float
    low: float


def spin_fraction(
    value: np.ndarray,
    value_err: np.ndarray,
    *,
    high: float,
    low: float,
    high_err: float = 0.0,
    low_err: float = 0.0,
) -> SpinEstimate:
    """High-spin fraction from a metric by linear interpolation between references.

    Parameters
    ----------
    value, value_err : ndarray
        Metric of the samples and its standard deviation.
    high, low : float
        Metric of the high-spin and the low-spin reference.
    high_err, low_err : float, default 0
        Their standard deviations.

    Returns
    -------
    SpinEstimate

    Warns
    -----
    ExtrapolationWarning
        When a fraction lies outside [0, 1] by more than its uncertainty.

    Examples
    --------
    >>> r = spin_fraction(0.3, 0.01, high=0.4, low=0.0)
    >>> round(float(r.fraction), 3), round(float(r.fraction_err), 4)
    (0.75, 0.025)
    """
    value = np.asarray(value, dtype=float)
    value_err = np.asarray(value_err, dtype=float)
    span = float(high) - float(low)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (value - low) / span
        err = np.sqrt(value_err**2 + (f * high_err) ** 2 + ((1 - f) * low_err) ** 2) / abs(span)
    outside = np.isfinite(f) & ((f + np.nan_to_num(err) < 0) | (f - np.nan_to_num(err) > 1))
    if np.any(outside):
        warnings.warn(
            f"{int(np.count_nonzero(outside))} high-spin fraction(s) outside [0, 1] "
            "(beyond the references); kept, not clipped",
            ExtrapolationWarning,
            stacklevel=2,
        )
    return SpinEstimate(fraction=f, fraction_err=err, high=float(high), low=float(low))
