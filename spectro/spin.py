"""High-spin fraction from Kβ metrics, interpolated between spin references.

A Kβ metric ``m`` of the XES analysis (:func:`spectro.xes.analyze`):

``iad``
    integrated absolute difference against one common reference spectrum;
``kb_prime_ratio``
    Kβ′ intensity relative to Kβ1,3;
``kb13_m1``
    first moment of the Kβ1,3 line (eV),

is assumed linear in the high-spin fraction ``f`` between low-spin
(``f = 0``) and high-spin (``f = 1``) references, exactly as the valence is
assumed linear in the edge energy (:mod:`spectro.valence`; the same line of
:mod:`spectro.calibration_line`, same three-term error propagation: sample,
references, calibration)::

    m = a + b f,     f = (m - a) / b

With one reference per state this is the two-point interpolation
``f = (m - m_LS) / (m_HS - m_LS)``. The error is given whole
(``high_spin_fraction_err``) and in two parts: ``_stat``, the sample's own
noise, and ``_sys``, what every sample measured against the same references
shares (the references and the energy calibration;
:func:`spectro.xes.spin` also varies the IAD window). Fractions outside [0, 1] are flagged
``"extrapolated"`` with an :class:`~spectro.errors.ExtrapolationWarning`.
The effective spin of the absorber follows as
``S = S_LS + f (S_HS - S_LS)`` (e.g. ``S_LS = 1/2`` for LaNiO3-like Ni3+,
``S_HS = 1`` for NiO-like Ni2+), with error ``|S_HS - S_LS| f_err``.

Kβ metrics mix spin and covalency (Glatzel & Bergmann, Coord. Chem. Rev.
249, 65 (2005)); the fraction is a calibrated proxy, as good as the
references are similar to the sample in everything but spin.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from .calibration_line import LinearCalibration, apply_calibration, calibration_from_results, per_scan_values
from .errors import DataError
from .xes import spin_errors

__all__ = ["METRICS", "fit_calibration", "high_spin_fraction"]

#: Kβ metrics a spin estimate can use.
METRICS = ("iad", "kb_prime_ratio", "kb13_m1")

_STATES = {"high": 1.0, "low": 0.0}


def _fractions(results: xr.Dataset, states) -> np.ndarray:
    out = []
    for s in np.asarray(per_scan_values(results, states, what="spin state"), dtype=object).ravel():
        key = str(s).lower()
        out.append(_STATES[key] if key in _STATES else float(s))
    return np.asarray(out, dtype=float)


def fit_calibration(
    results: xr.Dataset,
    states: np.typing.ArrayLike | Mapping[str, object] | str,
    *,
    metric: str = "iad",
    calibration_err: float | None = None,
) -> LinearCalibration:
    """Fit a Kβ metric against the high-spin fraction of spin references.

    Parameters
    ----------
    results : xarray.Dataset
        XES results along ``scan`` for the references, holding ``metric``
        and, when known, ``<metric>_err``.
    states : array_like, mapping or str
        Spin state of each scan: ``"high"`` (fraction 1), ``"low"`` (0) or
        a known high-spin fraction; an array along ``scan``, a mapping from
        scan label, or the name of a per-scan variable.
    metric : {"iad", "kb_prime_ratio", "kb13_m1"}, default "iad"
    calibration_err : float, optional
        Energy-calibration uncertainty of each reference (units of the
        metric), added in quadrature; default 0.

    Returns
    -------
    spectro.calibration_line.LinearCalibration
        With ``quantity = "high_spin_fraction"``.

    Examples
    --------
    >>> res = xr.Dataset({"kb_prime_ratio": ("scan", [0.05, 0.20]),
    ...                   "kb_prime_ratio_err": ("scan", [0.01, 0.01])},
    ...                  coords={"scan": ["LaNiO3", "NiO"]})
    >>> cal = fit_calibration(res, {"LaNiO3": "low", "NiO": "high"}, metric="kb_prime_ratio")
    >>> round(cal.slope, 3)
    0.15
    """
    if metric not in results:
        raise DataError(f"results have no {metric!r}; choose from {METRICS} present in the results")
    return calibration_from_results(
        results,
        _fractions(results, states),
        observable=metric,
        quantity="high_spin_fraction",
        calibration_err=0.0 if calibration_err is None else calibration_err,
    )


def high_spin_fraction(
    results: xr.Dataset,
    calibration: LinearCalibration,
    *,
    spins: tuple[float, float] | None = None,
) -> xr.Dataset:
    """High-spin fraction (and effective spin) of each scan from a Kβ metric.

    Parameters
    ----------
    results : xarray.Dataset
        XES results along ``scan`` holding the calibration's metric and,
        when known, ``<metric>_err``. May be dask-backed.
    calibration : spectro.calibration_line.LinearCalibration
        From :func:`fit_calibration`.
    spins : (float, float), optional
        Spin quantum numbers ``(S_low, S_high)`` of the two states; adds
        ``spin`` and ``spin_err``.

    Returns
    -------
    xarray.Dataset
        ``high_spin_fraction``, ``high_spin_fraction_err`` (total) and its
        ``_err_sample``, ``_err_references``, ``_err_calibration`` terms,
        grouped as ``high_spin_fraction_stat`` (the sample's own error) and
        ``high_spin_fraction_sys`` (references and calibration, shared by
        every scan; :func:`spectro.xes.spin_errors`; the window's
        systematic needs the spectra: :func:`spectro.xes.spin`),
        ``high_spin_fraction_flags`` (``"extrapolated"`` outside [0, 1]);
        ``spin`` and ``spin_err`` when ``spins`` is given.

    Warns
    -----
    ExtrapolationWarning
        When any fraction lies outside the reference range.

    Examples
    --------
    >>> refs = xr.Dataset({"kb_prime_ratio": ("scan", [0.05, 0.20])}, coords={"scan": ["LS", "HS"]})
    >>> cal = fit_calibration(refs, ["low", "high"], metric="kb_prime_ratio")
    >>> sample = xr.Dataset({"kb_prime_ratio": ("scan", [0.08]), "kb_prime_ratio_err": ("scan", [0.01])})
    >>> out = high_spin_fraction(sample, cal, spins=(0.5, 1.0))
    >>> out.high_spin_fraction.values.round(3), out.spin.values.round(3)
    (array([0.2]), array([0.6]))
    """
    out = spin_errors(apply_calibration(results, calibration, calibration_err=0.0, flag_uncalibrated=False))
    if spins is not None:
        s_low, s_high = map(float, spins)
        f = out["high_spin_fraction"]
        out["spin"] = (s_low + f * (s_high - s_low)).assign_attrs(
            units="1", long_name="effective spin quantum number S", spins=[s_low, s_high]
        )
        out["spin_err"] = (abs(s_high - s_low) * out["high_spin_fraction_err"]).assign_attrs(
            units="1", long_name="effective spin uncertainty (1 sigma)"
        )
    return out
