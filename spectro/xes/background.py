"""Background removal and normalization of Kbeta emission spectra.

Background
    Estimated from the two *end regions* of each spectrum: the first and the
    last ``windows.end`` eV (default 4 eV) of the row's finite points.

    * ``"constant"`` (default): the lower of the two end-region means. A scan
      that stops on a line (e.g. starts inside the Kbeta' region) then still
      gets a background from its other end.
    * ``"linear"``: the straight line through the two end-region means
      (centre energy, mean intensity). Use it when both ends are background,
      e.g. spectra that cover Kbeta' to beyond Kbeta2,5.
    * ``"none"``.

Normalization
    * ``"max"`` (default, the convention of Mijit *et al.*: "normalized by
      scaling the strongest Kbeta1,3 peak to 1"): divide by the Kbeta1,3
      peak height, refined below the grid step by a local parabola
      (:func:`spectro.xes.numerics.local_peak`, +-max(0.6 eV, 2 steps)).
    * ``"area"``: divide by the trapezoid integral over the whole measured
      range (compare only spectra measured over the same range).
    * ``"none"``.

Uncertainties
    Pointwise errors are ``intensity_err`` (NaN or missing: estimated from
    second differences, :func:`~spectro.xes.numerics.estimate_noise`)
    divided by the normalization constant. The error of the constant itself
    is returned separately (``scale_err``) and added by the metrics that
    depend on it. The background's own error is neglected (the end regions
    hold tens of points, so it is small against the pointwise noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..options import XesOptions, options_of
from . import numerics as nm
from ._element import with_element
from ._windows import Windows, windows_of

__all__ = ["Normalized", "normalize"]


@dataclass(frozen=True)
class Normalized:
    """Normalized spectra on the input grid, and what was done to them.

    Attributes
    ----------
    intensity, intensity_err : ndarray, shape (..., n)
        Background-subtracted, normalized intensity and its pointwise error.
    background : ndarray, shape (..., n)
        The background that was subtracted (input units).
    scale, scale_err : ndarray, shape (...)
        Normalization constant (input units; eV x units for ``"area"``).
    kb13_energy, kb13_energy_err : ndarray, shape (...)
        Kbeta1,3 peak energy (eV), refined below the grid step; NaN when
        the highest point of the search window is at its edge (the maximum
        lies outside) or is not above the background.
    noise_estimated : ndarray of bool, shape (...)
        True where the pointwise error was estimated from the data.
    background_method, norm : str
    windows : Windows
    """

    intensity: np.ndarray
    intensity_err: np.ndarray
    background: np.ndarray
    scale: np.ndarray
    scale_err: np.ndarray
    kb13_energy: np.ndarray
    kb13_energy_err: np.ndarray
    noise_estimated: np.ndarray
    background_method: str
    norm: str
    windows: Windows

    @property
    def scale_rel_err(self) -> np.ndarray:
        """Relative uncertainty of the normalization constant, ``|scale_err / scale|``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.abs(self.scale_err / self.scale)


def _end_means(e, y, width):
    first = e[..., 0]
    last = np.nanmax(np.where(np.isnan(e), -np.inf, e), axis=-1)
    out = []
    for lo, hi in ((first, first + width), (last - width, last)):
        m = nm.in_window(e, lo, hi) & np.isfinite(y)
        k = m.sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append((np.sum(np.where(m, e, 0.0), -1) / k, np.sum(np.where(m, y, 0.0), -1) / k))
    return out


def normalize(
    energy: np.ndarray,
    intensity: np.ndarray,
    intensity_err: np.ndarray | None = None,
    options: XesOptions | None = None,
    /,
    **changes: Any,
) -> Normalized:
    """Remove the background and normalize Kbeta spectra along the last axis.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Emission energies, eV, increasing.
    intensity : ndarray, shape (..., n)
        Intensities; NaN marks "no point here".
    intensity_err : ndarray, shape (..., n), optional
        One-sigma errors; estimated from the data where missing or NaN
        (:func:`~spectro.xes.numerics.estimate_noise`).
    options : XesOptions, optional
        ``element`` (its tabulated Kbeta1,3 is where the peak is sought;
        None: decided from the data, :func:`spectro.xes.element_of`),
        ``background``, ``norm`` and the windows (:func:`spectro.xes.windows_of`).
    **changes
        Changes to ``options``, by name.

    Returns
    -------
    Normalized

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(6460.0, 6500.0, 0.3)
    >>> y = 5.0 + 100.0 / (1 + ((e - 6490.5) / 1.5) ** 2)
    >>> out = normalize(e, y, element="Mn")
    >>> round(out.kb13_energy.item(), 1), round(float(np.nanmax(out.intensity)), 2)
    (6490.5, 1.0)
    """
    opts = options_of(XesOptions, options, changes)
    y_in = np.asarray(intensity, dtype=float)
    e_in = np.broadcast_to(np.asarray(energy, dtype=float), y_in.shape)
    opts = with_element(opts, e_in, y_in)
    background, norm, w = opts.background, opts.norm, windows_of(opts)
    s_in = None if intensity_err is None else np.asarray(intensity_err, dtype=float)
    e, y, s, _ = nm.compact(e_in, y_in, s_in)
    noise = nm.estimate_noise(e, y)
    if s is None:
        s = np.full_like(y, np.nan)
    estimated = np.all(np.isnan(s) | np.isnan(y), axis=-1)
    s = np.where(np.isfinite(s), s, noise)

    (el, yl), (eh, yh) = _end_means(e, y, w.end)
    if background == "constant":
        slope = np.zeros_like(yl)
        offset = np.fmin(yl, yh)
    elif background == "linear":
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = np.where(eh > el, (yh - yl) / (eh - el), 0.0)
        offset = yl - slope * el
    else:
        slope = np.zeros_like(yl)
        offset = np.zeros_like(yl)
    bkg_c = offset[..., None] + slope[..., None] * e
    yb = y - bkg_c

    center = np.full(y.shape[:-1], w.kb13_tabulated)
    lo, hi = center + w.kb13_search[0], center + w.kb13_search[1]
    hw = np.fmax(0.6, 2.05 * np.nan_to_num(nm.step(e), nan=0.0))
    search = nm.in_window(e, lo, hi)
    pk_e, pk_ee, pk_h, pk_he, idx = nm.local_peak(e, yb, s, search, hw)
    inner = np.zeros_like(search)
    inner[..., 1:-1] = search[..., :-2] & search[..., 2:]
    is_peak = np.take_along_axis(inner, idx[..., None], -1)[..., 0] & (pk_h > 0)
    pk_e, pk_ee, pk_h, pk_he = (np.where(is_peak, a, np.nan) for a in (pk_e, pk_ee, pk_h, pk_he))
    if norm == "max":
        scale, scale_err = pk_h, pk_he
    elif norm == "area":
        scale, scale_err = nm.integrate(e, yb, s, np.isfinite(yb))
    else:
        scale, scale_err = np.ones_like(pk_h), np.zeros_like(pk_h)

    bkg = offset[..., None] + slope[..., None] * e_in
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (y_in - bkg) / scale[..., None]
        s_full = nm.uncompact(noise, y_in)
        if s_in is not None:
            s_full = np.where(np.isfinite(s_in), s_in, s_full)
        out_err = np.where(np.isfinite(y_in), s_full / np.abs(scale[..., None]), np.nan)
    return Normalized(
        intensity=out,
        intensity_err=out_err,
        background=np.where(np.isfinite(y_in), bkg, np.nan),
        scale=scale,
        scale_err=scale_err,
        kb13_energy=pk_e,
        kb13_energy_err=pk_ee,
        noise_estimated=estimated,
        background_method=background,
        norm=norm,
        windows=w,
    )
