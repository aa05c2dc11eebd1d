"""The calibration line: a linear fit of an observable against a known quantity, with errors.

An observable ``x`` (edge position ``e0``, pre-edge centroid, Kβ2,5 energy
in eV, or a Kβ metric) is assumed linear in a quantity ``q`` known for a set
of anchors (the valence in :mod:`spectro.valence`, the high-spin fraction in
:mod:`spectro.spin`)::

    x = a + b q

``a`` and ``b`` are fitted on anchors ``(q_i, x_i +- s_i)``: the exact line
through two anchors, weighted least squares (weights ``1 / s_i**2``) for
more. With more than two anchors the parameter covariance is multiplied by
``max(1, chi2 / dof)`` (the Birge ratio squared), so scatter beyond the
stated errors widens the result instead of being ignored. When every
``s_i`` is zero the fit is unweighted and the covariance comes from the
residual scatter.

A sample observed at ``x +- s_x`` (and whose energy scale is known to
``+- s_c`` from its calibration) has ``q = (x - a) / b`` with three
independent variance terms, reported separately::

    var_sample      = s_x**2 / b**2
    var_calibration = s_c**2 / b**2
    var_references  = (var(a) + q**2 var(b) + 2 q cov(a, b)) / b**2

and ``q_err = sqrt(var_sample + var_calibration + var_references)``
(first-order propagation; exact for the linear model). A value outside the
range spanned by the anchors is flagged ``"extrapolated"`` and an
:class:`~spectro.errors.ExtrapolationWarning` is issued. A line whose anchors
were measured under different conditions (:attr:`LinearCalibration.anchor_mismatch`)
flags every scan placed on it ``"anchor_mismatch"``, with a
:class:`~spectro.errors.ValenceFlagWarning` naming the conditions.

:func:`linear_calibration` fits the line on arrays,
:func:`calibration_from_results` on the per-scan results of an analysis,
and :func:`apply_calibration` places the scans of results on it. This module
knows nothing of XANES or XES: the analyses and the calibrations above them
(:mod:`spectro.valence`, :mod:`spectro.spin`, :func:`spectro.xes.spin`) all
use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .errors import DataError, ExtrapolationWarning, ValenceFlagWarning

__all__ = [
    "Estimate",
    "LinearCalibration",
    "add_flag",
    "apply_calibration",
    "calibration_from_results",
    "extrapolation_warning",
    "flag_warnings",
    "has_flag",
    "linear_calibration",
    "per_scan_values",
]

_FLAG_WIDTH = "<U96"

#: The XANES quality flag (``flags``, by its ``flag_meanings``) of an edge that has risen through the pre-edge
#: window, as metals' and sulfides' do and the oxide anchors' (NiO, LaNiO3) do not: its scan's quantity is kept
#: and flagged with this name.
ON_EDGE = "preedge_on_edge"
#: What the warning says of such scans.
ON_EDGE_REASON = ("the edge rises through the pre-edge window (as a metal's or a sulfide's does, an oxide's does not): "
                  "its valence on a line of oxide anchors is not an oxide's valence (flagged 'preedge_on_edge')")
#: The flag of every scan placed on a line whose anchors were measured under different conditions.
ANCHOR_MISMATCH = "anchor_mismatch"


@dataclass(frozen=True)
class Estimate:
    """A quantity predicted from a :class:`LinearCalibration`, with its error budget.

    Attributes
    ----------
    value : ndarray
        Predicted quantity (valence, or high-spin fraction).
    err : ndarray
        Total one-sigma uncertainty, ``sqrt(err_sample**2 + err_references**2
        + err_calibration**2)``.
    err_sample, err_references, err_calibration : ndarray
        The three independent terms (see :mod:`spectro.calibration_line`).
    extrapolated : ndarray of bool
        True where ``value`` lies outside the range of the anchors.
    calibration : LinearCalibration
        The calibration used.
    """

    value: np.ndarray
    err: np.ndarray
    err_sample: np.ndarray
    err_references: np.ndarray
    err_calibration: np.ndarray
    extrapolated: np.ndarray
    calibration: LinearCalibration

    @property
    def flags(self) -> np.ndarray:
        """``"extrapolated"`` where the value is outside the anchor range, else ``""``."""
        return np.where(self.extrapolated, "extrapolated", "")

    def summary(self) -> str:
        """Readable table of values, errors and flags.

        Examples
        --------
        >>> cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05])
        >>> print(cal.predict(8346.06, 0.05).summary())
        valence = 2.530 +- 0.031 (sample 0.025, references 0.018, calibration 0.000)
        """
        name = self.calibration.quantity
        lines = []
        for v, e, s, r, c, f in zip(
            np.ravel(self.value),
            np.ravel(self.err),
            np.ravel(self.err_sample),
            np.ravel(self.err_references),
            np.ravel(self.err_calibration),
            np.ravel(self.flags),
        ):
            flag = f" [{f}]" if f else ""
            lines.append(
                f"{name} = {v:.3f} +- {e:.3f} (sample {s:.3f}, references {r:.3f}, "
                f"calibration {c:.3f}){flag}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class LinearCalibration:
    """Linear model ``observable = intercept + slope * quantity`` fitted on anchors.

    Attributes
    ----------
    quantity : str
        What the anchors are known in (``"valence"``, ``"high_spin_fraction"``).
    observable : str
        The measured observable (``"e0"``, ...).
    units : str
        Units of the observable (``"eV"``).
    anchors, values, errors : ndarray, shape (n,)
        Known quantity, observed value and its one-sigma error for each anchor.
    labels : tuple of str
        Anchor names.
    intercept, slope : float
        Fitted parameters (units of the observable, per unit quantity).
    covariance : ndarray, shape (2, 2)
        Covariance of ``(intercept, slope)``, scaled as described in
        :mod:`spectro.calibration_line`.
    residuals : ndarray, shape (n,)
        ``values - (intercept + slope * anchors)``.
    chi2 : float
        Weighted sum of squared residuals (NaN for an unweighted fit).
    dof : int
        ``n - 2``.
    scale : float
        Factor applied to the covariance (1 for two anchors).
    method : str
        ``"two-point line"``, ``"weighted least squares"`` or
        ``"unweighted least squares"``.
    anchor_mismatch : tuple of (str, str)
        The conditions that differ between the anchors (``temperature``,
        ``beamline``, ``beamtime``), each with the anchors' values in words;
        empty when none differ or none are known
        (:func:`spectro.valence.with_conditions` sets it).
    anchor_conditions : tuple of str
        Each anchor's conditions in words, when known.
    """

    quantity: str
    observable: str
    units: str
    anchors: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    labels: tuple[str, ...]
    intercept: float
    slope: float
    covariance: np.ndarray
    residuals: np.ndarray
    chi2: float
    dof: int
    scale: float
    method: str
    anchor_mismatch: tuple[tuple[str, str], ...] = ()
    anchor_conditions: tuple[str, ...] = ()

    def mismatch_attrs(self) -> dict[str, str]:
        """``anchor_mismatch`` (the conditions that differ, comma-separated), ``anchor_mismatch_detail`` and
        ``anchor_conditions``, as the results placed on the line carry them in their attrs.

        Examples
        --------
        >>> linear_calibration([2, 3], [8345.0, 8347.0]).mismatch_attrs()["anchor_mismatch"]
        ''
        """
        return {
            "anchor_mismatch": ",".join(k for k, _ in self.anchor_mismatch),
            "anchor_mismatch_detail": " | ".join(f"{k}: {v}" for k, v in self.anchor_mismatch),
            "anchor_conditions": " | ".join(self.anchor_conditions),
        }

    @property
    def range(self) -> tuple[float, float]:
        """Smallest and largest anchor quantity."""
        return float(np.min(self.anchors)), float(np.max(self.anchors))

    def predict(
        self,
        values: np.typing.ArrayLike,
        errors: np.typing.ArrayLike = 0.0,
        *,
        calibration_errors: np.typing.ArrayLike = 0.0,
        warn: bool = True,
    ) -> Estimate:
        """Quantity for observed values, with the three-term error budget.

        Parameters
        ----------
        values : array_like
            Observed values (units of the observable); any shape; NaN gives NaN.
        errors : array_like, default 0
            Their one-sigma statistical errors.
        calibration_errors : array_like, default 0
            One-sigma uncertainty of each value's energy calibration
            (reference-channel alignment), kept as a separate term.
        warn : bool, default True
            Issue an :class:`~spectro.errors.ExtrapolationWarning` when any
            value lies outside the anchor range.

        Returns
        -------
        Estimate

        Examples
        --------
        >>> cal = linear_calibration([2, 3], [8345.0, 8347.0])
        >>> est = cal.predict([8346.0, 8346.5])
        >>> est.value
        array([2.5 , 2.75])
        """
        x = np.asarray(values, dtype=float)
        sx = np.asarray(errors, dtype=float)
        sc = np.asarray(calibration_errors, dtype=float)
        b = self.slope
        q = (x - self.intercept) / b
        var_ref = (
            self.covariance[0, 0] + q**2 * self.covariance[1, 1] + 2 * q * self.covariance[0, 1]
        ) / b**2
        err_sample = np.abs(sx / b) * np.ones_like(q)
        err_cal = np.abs(sc / b) * np.ones_like(q)
        err_ref = np.sqrt(np.clip(var_ref, 0.0, None))
        lo, hi = self.range
        tol = 1e-9 * (hi - lo)
        extrapolated = (q < lo - tol) | (q > hi + tol)
        if warn and np.any(extrapolated):
            warnings.warn(
                f"{int(np.count_nonzero(extrapolated))} {self.quantity} value(s) outside the "
                f"anchor range [{lo:g}, {hi:g}]: extrapolated",
                ExtrapolationWarning,
                stacklevel=2,
            )
        return Estimate(
            value=q,
            err=np.sqrt(err_sample**2 + err_ref**2 + err_cal**2),
            err_sample=err_sample,
            err_references=err_ref,
            err_calibration=err_cal,
            extrapolated=extrapolated,
            calibration=self,
        )

    def summary(self) -> str:
        """Readable description of the fit: parameters, anchors and residuals.

        Examples
        --------
        >>> cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05], labels=["NiO", "LaNiO3"])
        >>> print(cal.summary())  # doctest: +NORMALIZE_WHITESPACE
        e0 = a + b * valence (two-point line, 2 anchors)
          a = 8341.000 +- 0.180 eV
          b = 2.000 +- 0.071 eV per unit valence
          anchor  valence  e0 (eV)  error  residual
          NiO     2        8345.000   0.050   0.000
          LaNiO3  3        8347.000   0.050   0.000
        """
        sa, sb = np.sqrt(np.diag(self.covariance))
        width = max(6, *(len(s) for s in self.labels))
        qw = max(len(self.quantity), 7)
        head = [
            f"{self.observable} = a + b * {self.quantity} ({self.method}, {self.anchors.size} anchors)",
            f"  a = {self.intercept:.3f} +- {sa:.3f} {self.units}",
            f"  b = {self.slope:.3f} +- {sb:.3f} {self.units} per unit {self.quantity}",
            f"  {'anchor'.ljust(width)}  {self.quantity.ljust(qw)}  {self.observable} ({self.units})  error  residual",
        ]
        if self.dof > 0 and np.isfinite(self.chi2):
            head.insert(3, f"  chi2 = {self.chi2:.3g} for {self.dof} dof (covariance scale {self.scale:.3g})")
        rows = [
            f"  {lab.ljust(width)}  {q:<{qw}g}  {x:.3f}  {e:6.3f}  {r:6.3f}"
            for lab, q, x, e, r in zip(self.labels, self.anchors, self.values, self.errors, self.residuals)
        ]
        return "\n".join(head + rows)


def linear_calibration(
    anchors: np.typing.ArrayLike,
    values: np.typing.ArrayLike,
    errors: np.typing.ArrayLike | None = None,
    *,
    labels: Sequence[str] | None = None,
    observable: str = "e0",
    quantity: str = "valence",
    units: str = "eV",
) -> LinearCalibration:
    """Fit ``observable = a + b * quantity`` on anchors of known quantity.

    Parameters
    ----------
    anchors : array_like, shape (n,)
        Known quantity of each anchor (e.g. valence 2 for NiO, 3 for LaNiO3).
    values : array_like, shape (n,)
        The observable measured on each anchor.
    errors : array_like, shape (n,), optional
        One-sigma errors of ``values`` (default 0: unweighted fit).
    labels : sequence of str, optional
        Anchor names for :meth:`LinearCalibration.summary`.
    observable, quantity, units : str
        Names recorded on the result.

    Returns
    -------
    LinearCalibration

    Raises
    ------
    DataError
        Fewer than two distinct anchors, non-finite values, negative or
        mixed zero/non-zero errors, or a zero slope.

    Notes
    -----
    Two anchors give the exact line and its covariance from the two errors.
    More anchors are fitted by weighted least squares; see
    :mod:`spectro.calibration_line` for the covariance scaling.

    Examples
    --------
    >>> cal = linear_calibration([2, 3, 3], [8345.0, 8347.1, 8346.9], [0.05, 0.05, 0.05])
    >>> round(cal.slope, 6), cal.method
    (2.0, 'weighted least squares')
    """
    q = np.asarray(anchors, dtype=float).ravel()
    x = np.asarray(values, dtype=float).ravel()
    s = np.zeros_like(x) if errors is None else np.broadcast_to(np.asarray(errors, dtype=float), x.shape).copy()
    names = tuple(labels) if labels is not None else tuple(f"anchor {i}" for i in range(q.size))
    if not (q.shape == x.shape == s.shape) or len(names) != q.size:
        raise DataError(
            f"anchors, values, errors and labels differ in length ({q.size}, {x.size}, {s.size}, {len(names)})"
        )
    bad = ~(np.isfinite(q) & np.isfinite(x) & np.isfinite(s))
    if bad.any():
        raise DataError(f"non-finite {observable} or error for anchor(s) {[names[i] for i in np.flatnonzero(bad)]}")
    if np.unique(q).size < 2:
        raise DataError(f"need anchors of at least two different {quantity} values, got {q.tolist()}")
    if np.any(s < 0) or (np.any(s == 0) and np.any(s > 0)):
        raise DataError(f"errors must be all positive or all zero, got {s.tolist()}")
    design = np.column_stack([np.ones_like(q), q])
    weighted = bool(np.all(s > 0))
    w = 1.0 / s**2 if weighted else np.ones_like(q)
    normal = design.T @ (w[:, None] * design)
    cov = np.linalg.inv(normal)
    intercept, slope = cov @ (design.T @ (w * x))
    residuals = x - (intercept + slope * q)
    dof = q.size - 2
    scale = 1.0
    if weighted:
        chi2 = float(np.sum(w * residuals**2))
        method = "two-point line" if q.size == 2 else "weighted least squares"
        if dof > 0:
            scale = max(1.0, chi2 / dof)
    else:
        chi2 = np.nan
        method = "two-point line" if q.size == 2 else "unweighted least squares"
        scale = float(np.sum(residuals**2) / dof) if dof > 0 else 0.0
    if not np.isfinite(slope) or abs(slope) * np.ptp(q) <= 1e-12 * np.max(np.abs(x)):
        raise DataError(f"{observable} does not change with {quantity} across the anchors (slope {slope})")
    return LinearCalibration(
        quantity=quantity,
        observable=observable,
        units=units,
        anchors=q,
        values=x,
        errors=s,
        labels=names,
        intercept=float(intercept),
        slope=float(slope),
        covariance=cov * scale,
        residuals=residuals,
        chi2=chi2,
        dof=dof,
        scale=scale,
        method=method,
    )


def _error_of(results: xr.Dataset, name: str) -> xr.DataArray:
    err = f"{name}_err"
    return results[err] if err in results else xr.zeros_like(results[name])


def _calibration_error(results: xr.Dataset, calibration_err: float | None) -> xr.DataArray:
    if calibration_err is not None:
        return xr.full_like(results["scan"], float(calibration_err), dtype=float)
    if "calibration_shift_err" in results:
        return results["calibration_shift_err"].fillna(0.0)
    return xr.zeros_like(results["scan"], dtype=float)


def _uncalibrated(results: xr.Dataset) -> xr.DataArray:
    if "calibration_shift" in results:
        return results["calibration_shift"].isnull()
    return xr.ones_like(results["scan"], dtype=bool)


def _on_edge(results: xr.Dataset, name: str) -> xr.DataArray:
    """Scans whose quality ``flags`` carry :data:`ON_EDGE` (none where the results have no such flag)."""
    flags = results.get("flags")
    meanings = str(flags.attrs.get("flag_meanings", "")).split() if flags is not None else []
    if ON_EDGE not in meanings:
        return xr.zeros_like(results[name], dtype=bool)
    bit = int(flags.attrs["flag_masks"][meanings.index(ON_EDGE)])
    return (flags.astype(np.int64) & bit) > 0


def per_scan_values(results: xr.Dataset, values: Any, *, what: str) -> Any:
    """One value per scan of ``results``, given as a variable name, a mapping or a sequence.

    Parameters
    ----------
    results : xarray.Dataset
        Results along ``scan``.
    values : str, mapping or array_like
        The name of a per-scan variable of ``results``, a mapping from
        scan label to value, or the values themselves in scan order
        (returned unchanged).
    what : str
        What the values are, for the error message.

    Returns
    -------
    array_like
        The values in scan order (not converted).

    Raises
    ------
    DataError
        A mapping without a value for some scan.

    Examples
    --------
    >>> res = xr.Dataset(coords={"scan": ["NiO", "LaNiO3"], "q": ("scan", [2.0, 3.0])})
    >>> per_scan_values(res, {"LaNiO3": 3, "NiO": 2}, what="valence")
    [2, 3]
    >>> per_scan_values(res, "q", what="valence").tolist()
    [2.0, 3.0]
    """
    if isinstance(values, str):
        return results[values].values
    if isinstance(values, Mapping):
        labels = [str(s) for s in results["scan"].values]
        missing = [s for s in labels if s not in values]
        if missing:
            raise DataError(f"no {what} given for scan(s) {missing}")
        return [values[s] for s in labels]
    return values


def calibration_from_results(
    results: xr.Dataset,
    known: np.typing.ArrayLike | Mapping[str, float] | str,
    *,
    observable: str,
    quantity: str,
    calibration_err: float | None = None,
) -> LinearCalibration:
    """The line ``observable = a + b * quantity`` fitted on the analysis results of anchor spectra.

    Parameters
    ----------
    results : xarray.Dataset
        Results along ``scan`` (from :func:`spectro.xanes.analyze` or
        :func:`spectro.xes.analyze`) holding ``observable`` and, when
        known, ``<observable>_err`` and ``calibration_shift_err``.
    known : array_like, mapping or str
        Known quantity of each scan: an array along ``scan``, a mapping
        from scan label to value, or the name of a per-scan variable.
    observable : str
        The per-scan variable of ``results`` on the line (``"e0"``,
        ``"iad"``, ...).
    quantity : str
        Name of what ``known`` measures (``"valence"``,
        ``"high_spin_fraction"``).
    calibration_err : float, optional
        Energy-calibration uncertainty of every anchor (units of the
        observable); by default ``calibration_shift_err`` from ``results``
        (0 when absent). Added in quadrature to each anchor's error.

    Returns
    -------
    LinearCalibration

    Raises
    ------
    DataError
        ``results`` without ``observable``, a mapping without a value for
        some scan, or anchors the line cannot be fitted on (see
        :func:`linear_calibration`).

    Examples
    --------
    >>> res = xr.Dataset({"e0": ("scan", [8345.0, 8347.0]), "e0_err": ("scan", [0.02, 0.02])},
    ...                  coords={"scan": ["NiO", "LaNiO3"]})
    >>> cal = calibration_from_results(res, {"NiO": 2, "LaNiO3": 3}, observable="e0", quantity="valence")
    >>> round(cal.slope, 6), cal.labels
    (2.0, ('NiO', 'LaNiO3'))
    """
    if observable not in results:
        raise DataError(f"results have no {observable!r}; available: {sorted(results.data_vars)}")
    x = results[observable]
    q = np.asarray(per_scan_values(results, known, what=quantity), dtype=float)
    err = np.hypot(_error_of(results, observable), _calibration_error(results, calibration_err))
    return linear_calibration(
        q,
        np.asarray(x.values, dtype=float),
        np.asarray(err.values, dtype=float),
        labels=[str(s) for s in results["scan"].values],
        observable=observable,
        quantity=quantity,
        units=x.attrs.get("units", "eV"),
    )


#: An energy observable (eV) further than this from every anchor's is another element's or edge's (eV):
#: its scan gets no value, flagged ``"other_edge"`` (the Ni K edge is 624 eV from Co's, 646 eV from Cu's).
OTHER_EDGE_EV = 50.0


def other_edge(x: np.ndarray, calibration: LinearCalibration) -> np.ndarray:
    """Where an energy observable ``x`` lies more than :data:`OTHER_EDGE_EV` from every anchor's value.

    Always False for an observable not in eV (an IAD, an intensity ratio).

    Examples
    --------
    >>> cal = linear_calibration([2, 3], [8345.0, 8347.4])
    >>> other_edge(np.array([8346.0, 7120.0, np.nan]), cal).tolist()
    [False, True, False]
    """
    x = np.asarray(x, dtype=float)
    if calibration.units != "eV":
        return np.zeros(x.shape, bool)
    gap = np.min(np.abs(x[..., None] - np.asarray(calibration.values, dtype=float)), axis=-1)
    with np.errstate(invalid="ignore"):
        return gap > OTHER_EDGE_EV


def _predict_kernel(x, sx, sc, uncalibrated, on_edge, *, calibration):
    est = calibration.predict(x, sx, calibration_errors=sc, warn=False)
    flags = np.zeros(np.shape(x), dtype=_FLAG_WIDTH)
    mismatch = np.full(np.shape(x), bool(calibration.anchor_mismatch))
    for name, where in (("extrapolated", est.extrapolated), ("uncalibrated", uncalibrated), (ON_EDGE, on_edge),
                        (ANCHOR_MISMATCH, mismatch)):
        flags = add_flag(flags, name, where)
    flags = flags.astype(_FLAG_WIDTH)
    far = other_edge(x, calibration)
    flags = np.where(far, "other_edge", flags).astype(_FLAG_WIDTH)
    numbers = (est.value, est.err, est.err_sample, est.err_references, est.err_calibration)
    return (*(np.where(far, np.nan, v) for v in numbers), flags)


def apply_calibration(
    results: xr.Dataset,
    calibration: LinearCalibration,
    *,
    calibration_err: float | None = None,
    flag_uncalibrated: bool = True,
) -> xr.Dataset:
    """Quantity of each scan from its observable and a calibration line.

    Parameters
    ----------
    results : xarray.Dataset
        Results along ``scan`` holding ``calibration.observable`` and, when
        known, ``<observable>_err``, ``calibration_shift`` and
        ``calibration_shift_err``. May be dask-backed.
    calibration : LinearCalibration
    calibration_err : float, optional
        Energy-calibration uncertainty of every scan (units of the
        observable); by default ``calibration_shift_err`` from ``results``
        (0 when absent).
    flag_uncalibrated : bool, default True
        Flag scans without a ``calibration_shift`` as ``"uncalibrated"``.

    Returns
    -------
    xarray.Dataset
        ``<q>``, ``<q>_err``, ``<q>_err_sample``, ``<q>_err_references``,
        ``<q>_err_calibration`` and ``<q>_flags`` for the calibration's
        quantity ``<q>``. The flags, comma-separated: ``extrapolated``
        (outside the anchors' range), ``uncalibrated``, ``preedge_on_edge``
        (the scan's XANES ``flags`` say its edge rises through the pre-edge
        window, as metals and sulfides do and oxide anchors do not: the
        value is not an oxide's valence), ``anchor_mismatch`` (the line's
        anchors were measured under different conditions; every scan), or
        ``other_edge`` alone (no value). Their attrs hold the line's
        :meth:`~LinearCalibration.mismatch_attrs`.

    Examples
    --------
    >>> res = xr.Dataset({"iad": ("scan", [0.0, 0.05, 0.1])})
    >>> cal = linear_calibration([0, 1], [0.0, 0.1], observable="iad", quantity="f", units="1")
    >>> apply_calibration(res, cal, flag_uncalibrated=False).f.values
    array([0. , 0.5, 1. ])
    """
    name = calibration.observable
    if name not in results:
        raise DataError(f"results have no {name!r}, the calibration's observable")
    uncalibrated = _uncalibrated(results) if flag_uncalibrated else xr.zeros_like(results[name], dtype=bool)
    outputs = xr.apply_ufunc(
        _predict_kernel,
        results[name],
        _error_of(results, name),
        _calibration_error(results, calibration_err),
        uncalibrated,
        _on_edge(results, name),
        kwargs={"calibration": calibration},
        output_core_dims=[[]] * 6,
        dask="parallelized",
        output_dtypes=[float] * 5 + [_FLAG_WIDTH],
    )
    quantity = calibration.quantity
    described = [
        (quantity, "1", f"{quantity} from {name}"),
        (f"{quantity}_err", "1", f"{quantity} uncertainty (1 sigma): the sample's, the line's and the energy "
                                 "calibration's errors, without the systematic parts of a budget"),
        (f"{quantity}_err_sample", "1", f"{quantity} uncertainty from the sample's {name} error"),
        (f"{quantity}_err_references", "1", f"{quantity} uncertainty from the calibration line"),
        (f"{quantity}_err_calibration", "1", f"{quantity} uncertainty from the energy calibration"),
        (f"{quantity}_flags", "", f"{quantity} flags"),
    ]
    attrs = {
        "method": f"linear calibration {name} = a + b * {quantity} ({calibration.method})",
        "intercept": calibration.intercept,
        "slope": calibration.slope,
        "anchors": ", ".join(f"{lab}={q:g}" for lab, q in zip(calibration.labels, calibration.anchors)),
        "observable": name,
        **calibration.mismatch_attrs(),
    }
    data = {
        var: out.assign_attrs(units=units, long_name=long_name, **attrs)
        for (var, units, long_name), out in zip(described, outputs)
    }
    out = xr.Dataset(data)
    flags = out[f"{quantity}_flags"]
    if flags.chunks is None:
        scans = results["scan"].values if "scan" in results.coords else np.arange(flags.size)
        for warning in flag_warnings(flags.values, scans, calibration):
            warnings.warn(warning, stacklevel=2)
    return out


def add_flag(flags: np.ndarray, name: str, where: np.ndarray) -> np.ndarray:
    """``flags`` (comma-separated names, "" for none) with ``name`` added where ``where`` is true.

    Examples
    --------
    >>> add_flag(np.array(["", "extrapolated", ""]), "uncalibrated", np.array([True, True, False])).tolist()
    ['uncalibrated', 'extrapolated,uncalibrated', '']
    """
    flags = np.asarray(flags, dtype=str)
    return np.where(where, np.char.add(np.char.add(flags, np.where(flags == "", "", ",")), name), flags)


def has_flag(flags: np.ndarray, name: str) -> np.ndarray:
    """Where the comma-separated ``flags`` hold ``name``.

    Examples
    --------
    >>> has_flag(np.array(["", "extrapolated,preedge_on_edge", "other_edge"]), "preedge_on_edge").tolist()
    [False, True, False]
    """
    return np.char.find(np.char.add(np.char.add(",", np.asarray(flags).astype(str)), ","), f",{name},") >= 0


def flag_warnings(flags: np.ndarray, scans: np.ndarray, calibration: LinearCalibration, *,
                  file: str = "") -> list[ValenceFlagWarning]:
    """The warnings the flags of :func:`apply_calibration` give: how many scans are extrapolated, which are
    of another edge or have an edge unlike the oxide anchors', and that the anchors differ in their conditions
    (``file`` prefixes the latter three).

    Every door that computes a calibrated quantity (:func:`apply_calibration`,
    :func:`spectro.budget.valence_from_budgets`, the batch for each input) says it with these.

    Examples
    --------
    >>> cal = linear_calibration([2, 3], [8345.0, 8347.0])
    >>> said = flag_warnings(np.array(["extrapolated", "other_edge"]), np.array(["a", "b"]), cal, file="f.xdi")
    >>> [type(w).__name__ for w in said], str(said[1])[:32]
    (['ExtrapolationWarning', 'ValenceFlagWarning'], "f.xdi: scans 'b': e0 more than 5")
    """
    out: list[ValenceFlagWarning] = []
    extrapolated = extrapolation_warning(flags, calibration)
    if extrapolated is not None:
        out.append(extrapolated)
    prefix = f"{file}: " if file else ""
    far = (f"{calibration.observable} more than {OTHER_EDGE_EV:g} {calibration.units} from every anchor's "
           f"(another element or edge): no {calibration.quantity}")
    for name, reason in (("other_edge", far), (ON_EDGE, ON_EDGE_REASON)):
        hit = has_flag(flags, name)
        if hit.any():
            names = ", ".join(repr(str(s)) for s in np.asarray(scans)[hit])
            out.append(ValenceFlagWarning(f"{prefix}scans {names}: {reason}"))
    if has_flag(flags, ANCHOR_MISMATCH).any():
        differ = " and ".join(f"{k} ({v})" for k, v in calibration.anchor_mismatch) or "their conditions"
        out.append(ValenceFlagWarning(
            f"{prefix}the anchors differ in {differ}: their {calibration.observable} may differ for that reason as "
            f"well as for their {calibration.quantity} (flagged '{ANCHOR_MISMATCH}')"))
    return out


def extrapolation_warning(flags: np.ndarray, calibration: LinearCalibration) -> ExtrapolationWarning | None:
    """The warning for the scans whose ``flags`` say "extrapolated"; None when there are none.

    Examples
    --------
    >>> cal = linear_calibration([2, 3], [8345.0, 8347.0])
    >>> str(extrapolation_warning(np.array(["", "extrapolated,uncalibrated"]), cal))
    "1 scan(s) with valence outside the anchor range [2, 3]: flagged 'extrapolated'"
    >>> extrapolation_warning(np.array([""]), cal) is None
    True
    """
    n = int(np.count_nonzero(has_flag(flags, "extrapolated")))
    if not n:
        return None
    lo, hi = calibration.range
    return ExtrapolationWarning(
        f"{n} scan(s) with {calibration.quantity} outside the anchor range [{lo:g}, {hi:g}]: "
        "flagged 'extrapolated'"
    )


