"""Kbeta1,3 and Kbeta' metrics of normalized Kbeta main-line spectra.

Definitions (``E13`` is the measured Kbeta1,3 peak; windows from
:func:`spectro.xes.windows`, defaults in parentheses):

``kb13_energy``
    Kbeta1,3 peak energy: the vertex of a least-squares parabola through the
    points within +-max(0.6 eV, 2 steps) of the grid maximum (found within
    ``kb13_search`` = +-8 eV of the tabulated Kbeta1,3).
``kb13_m1``
    First moment sum(E I) / sum(I) (trapezoid weights) over ``E13 + kb13``
    (+-5 eV).
``kb13_fwhm``
    Full width at half of the refined peak height, crossings interpolated
    linearly.
``kb13_area``
    Integral of the normalized spectrum over ``E13 + kb13``.
``kb_prime``
    Integral of the normalized spectrum over ``E13 + kb_prime`` (element
    dependent; Ni -15 to -5 eV, Mn -21 to -11 eV): the Kbeta' intensity, in
    eV when normalized to the maximum.
``kb_prime_ratio``
    ``kb_prime / kb13_area``: the windows do not overlap, so this is the
    Kbeta'/Kbeta1,3 intensity ratio of the window method. The fitted
    alternative is :func:`spectro.xes.fit.fit_kbeta`.

Uncertainties are first-order propagations of the pointwise errors
(:mod:`spectro.xes.numerics`); intensities also carry the relative error of
the normalization constant. A window that the spectrum does not cover gives
NaN and its :class:`~spectro.xes.XesFlag` in ``flags``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..options import XesOptions, options_of
from . import numerics as nm
from ._flags import XesFlag, where
from ._windows import Windows
from .background import Normalized, normalize

__all__ = ["Kbeta", "kbeta"]


@dataclass(frozen=True)
class Kbeta:
    """Kbeta1,3 and Kbeta' metrics, shape (...) each (energies in eV).

    Intensities are in normalized units times eV for areas (``norm="max"``).
    ``flags`` holds the :class:`~spectro.xes.XesFlag` bits of the regions
    that are missing (``KB13_NOT_FOUND``, ``KB13_WINDOW_MISSING``,
    ``KB_PRIME_MISSING``).
    """

    kb13_energy: np.ndarray
    kb13_energy_err: np.ndarray
    kb13_m1: np.ndarray
    kb13_m1_err: np.ndarray
    kb13_fwhm: np.ndarray
    kb13_fwhm_err: np.ndarray
    kb13_area: np.ndarray
    kb13_area_err: np.ndarray
    kb_prime: np.ndarray
    kb_prime_err: np.ndarray
    kb_prime_ratio: np.ndarray
    kb_prime_ratio_err: np.ndarray
    flags: np.ndarray
    background: str
    norm: str
    windows: Windows


def _with_scale(value, err, rel_scale):
    return np.sqrt(err**2 + (value * rel_scale) ** 2)


def kbeta(
    energy: np.ndarray,
    intensity: np.ndarray,
    intensity_err: np.ndarray | None = None,
    options: XesOptions | None = None,
    /,
    *,
    normalized: Normalized | None = None,
    **changes: Any,
) -> Kbeta:
    """Kbeta1,3 peak, first moment, FWHM and Kbeta' intensity along the last axis.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Emission energies, eV, increasing.
    intensity : ndarray, shape (..., n)
        Raw intensities (NaN = no point); background and normalization are
        applied by :func:`spectro.xes.background.normalize`.
    intensity_err : ndarray, optional
        One-sigma errors (estimated from the data when missing).
    options : XesOptions, optional
        ``element``, ``background``, ``norm`` and the windows.
    normalized : Normalized, optional
        :func:`spectro.xes.background.normalize` of these same inputs and
        options, when the caller has it already (it is not recomputed).
    **changes
        Changes to ``options``, by name.

    Returns
    -------
    Kbeta

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(spin="high", seed=0)
    >>> k = kbeta(ds.emission_energy.values, ds.intensity.values)
    >>> bool(abs(k.kb13_energy[0] - ds.true_kb13_energy.values[0]) < 0.05)
    True
    """
    n = normalized
    if n is None:
        n = normalize(energy, intensity, intensity_err, options_of(XesOptions, options, changes))
    w = n.windows
    e, y, s, _ = nm.compact(energy, n.intensity, n.intensity_err)
    e13 = n.kb13_energy
    rel = n.scale_rel_err
    found = np.isfinite(e13)

    lo13, hi13 = e13 + w.kb13[0], e13 + w.kb13[1]
    ok13 = nm.covered(e, lo13, hi13)
    m13 = nm.in_window(e, lo13, hi13)
    m1, m1_err = nm.first_moment(e, y, s, m13)
    a13, a13_noise = nm.integrate(e, y, s, m13)
    a13_err = _with_scale(a13, a13_noise, rel)

    lop, hip = e13 + w.kb_prime[0], e13 + w.kb_prime[1]
    okp = nm.covered(e, lop, hip)
    ap, ap_err = nm.integrate(e, y, s, nm.in_window(e, lop, hip))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = ap / a13
        ratio_err = np.abs(ratio) * np.sqrt((ap_err / ap) ** 2 + (a13_noise / a13) ** 2)
    ap_err = _with_scale(ap, ap_err, rel)

    hw = np.fmax(0.6, 2.05 * np.nan_to_num(nm.step(e), nan=0.0))
    _, _, h, h_err, idx = nm.local_peak(e, y, s, nm.in_window(e, e13 - 0.5, e13 + 0.5), hw)
    fwhm, fwhm_err = nm.half_max_width(e, y, s, idx, h, h_err)

    def nan_unless(ok, *arrays):
        return [np.where(ok, a, np.nan) for a in arrays]

    m1, m1_err, a13, a13_err = nan_unless(ok13, m1, m1_err, a13, a13_err)
    ap, ap_err, ratio, ratio_err = nan_unless(okp & ok13, ap, ap_err, ratio, ratio_err)
    fwhm, fwhm_err = nan_unless(found, fwhm, fwhm_err)
    flags = (where(~found, XesFlag.KB13_NOT_FOUND) | where(found & ~ok13, XesFlag.KB13_WINDOW_MISSING)
             | where(found & ~okp, XesFlag.KB_PRIME_MISSING))
    return Kbeta(
        kb13_energy=e13,
        kb13_energy_err=n.kb13_energy_err,
        kb13_m1=m1,
        kb13_m1_err=m1_err,
        kb13_fwhm=fwhm,
        kb13_fwhm_err=fwhm_err,
        kb13_area=a13,
        kb13_area_err=a13_err,
        kb_prime=ap,
        kb_prime_err=ap_err,
        kb_prime_ratio=ratio,
        kb_prime_ratio_err=ratio_err,
        flags=flags,
        background=n.background_method,
        norm=n.norm,
        windows=w,
    )
