"""Intensity of a named spectral feature, for tracking it across a series.

The feature "C" of Ni K-edge XANES of La3Ni2O7 lies near 8358 eV; its
growth under pressure is followed as the normalized absorption at that
energy (linear interpolation between the neighbouring points), averaged
over ``width`` eV when ``width > 0``. The uncertainty is the noise sigma of
the normalized spectrum divided by the square root of the number of points
averaged (at least one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import XanesOptions
from . import _arrays

__all__ = ["FEATURE_C_ENERGY", "FeatureIntensity", "feature_intensity_arrays"]

#: Energy of feature C of La3Ni2O7 (Ni K edge), eV.
FEATURE_C_ENERGY: float = XanesOptions().feature_energy


@dataclass(frozen=True)
class FeatureIntensity:
    """Normalized intensity at a feature.

    Attributes
    ----------
    intensity, intensity_err : ndarray, shape (...)
        Normalized absorption at the feature and its 1-sigma uncertainty.
    energy, width : float
        Feature energy and averaging width, eV.
    """

    intensity: np.ndarray
    intensity_err: np.ndarray
    energy: float
    width: float


def feature_intensity_arrays(
    energy: np.ndarray,
    norm: np.ndarray,
    *,
    at: float = FEATURE_C_ENERGY,
    width: float = 0.0,
    sigma: np.ndarray | float | None = None,
) -> FeatureIntensity:
    """Normalized absorption at (or averaged around) a feature energy.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    norm : ndarray, shape (..., n)
        Normalized spectra.
    at : float, keyword-only
        Feature energy, eV (default 8358 eV, feature C).
    width : float, keyword-only
        Averaging width, eV (0: the interpolated value at ``at``).
    sigma : float or ndarray, optional
        Noise of ``norm``; estimated when None.

    Returns
    -------
    FeatureIntensity

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8340.0, 8370.0, 0.5)
    >>> r = feature_intensity_arrays(e, 1.0 + 0.01 * (e - 8358.0))
    >>> round(float(r.intensity), 6)
    1.0
    """
    x, y = _arrays.as_rows(energy, norm)
    xs, ys, _ = _arrays.compact(x, y)
    npts = 1
    q = np.array([at])
    if width > 0:
        step = float(np.nanmin(_arrays.median_step(xs)))
        npts = max(1, round(width / step) + 1)
        q = np.linspace(at - width / 2, at + width / 2, npts)
    vals = _arrays.interp_rows(q, xs, ys)
    if sigma is None:
        sigma = _arrays.noise_sigma(xs, ys)
    return FeatureIntensity(
        intensity=np.mean(vals, axis=-1),
        intensity_err=np.asarray(sigma, float) / np.sqrt(npts),
        energy=float(at),
        width=float(width),
    )
