"""Linear-combination fitting (LCF) of spectra with reference spectra.

A spectrum ``y(E)`` (normalized XANES, or normalized XES) is modelled as a
non-negative combination of ``k`` reference spectra, each optionally shifted
in energy::

    y(E) ~ sum_j w_j r_j(E - s_j),    w_j >= 0   [and sum_j w_j = 1]

Weights
    Non-negative least squares (:func:`scipy.optimize.nnls`, Lawson-Hanson).
    With ``sum_to_one`` the constraint is imposed by the fully constrained
    least-squares augmentation (Heinz & Chang, IEEE TGRS 39, 529 (2001)):
    a row ``delta * (1, ..., 1) = delta`` with a large ``delta`` is appended
    to the system, and the weights are renormalized to sum to exactly 1.
Shifts
    ``shift="none"`` (default), ``"global"`` (one ``s`` for every reference)
    or ``"each"`` (one per reference), bounded by ``max_shift`` (eV), fitted
    by :func:`scipy.optimize.least_squares` around the weight solve
    (variable projection); references are shifted by cubic-spline interpolation (smooth in the shift).
Uncertainties
    From the linearized model at the solution: Jacobian ``J`` over the
    weights away from the zero bound and the fitted shifts, covariance
    ``M = s**2 (J^T J)^-1`` with the residual variance
    ``s**2 = RSS / (m - p)`` (``m`` points, ``p`` free parameters). With
    ``sum_to_one`` the equality constraint is applied exactly,
    ``C = M - M u (u^T M u)^-1 u^T M`` (``u`` selects the weights). A weight
    at the zero bound has an undefined Gaussian error, reported as NaN.
R-factor
    ``sum (y - fit)**2 / sum y**2`` over the fitted points (Athena's
    definition).
Valence
    With reference valences ``v_j``, the implied valence is
    ``sum w_j v_j / sum w_j``, its error propagated from ``C``.

Points where the spectrum or any reference is NaN, or outside
``fit_range``, are left out of each spectrum's fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.interpolate import CubicSpline
from scipy.optimize import least_squares, nnls

from .errors import DataError

__all__ = ["LCFResult", "fit_arrays", "fit"]

_SHIFTS = ("none", "global", "each")
_DELTA = 1e4


@dataclass(frozen=True)
class LCFResult:
    """Result of :func:`fit_arrays`; leading shape ``(...)`` is that of the spectra.

    Attributes
    ----------
    weights, weights_err : ndarray, shape (..., k)
        Weights and one-sigma errors (NaN error at the zero bound).
    shifts, shifts_err : ndarray, shape (..., k)
        Energy shift of each reference (eV; 0 with error 0 when not fitted).
    fit : ndarray, shape (..., n)
        The fitted combination on the spectra's grid (NaN outside the fit).
    r_factor : ndarray, shape (...)
        ``sum (y - fit)**2 / sum y**2``.
    chi2_reduced : ndarray, shape (...)
        ``RSS / (m - p)``, the residual variance per point.
    n_points : ndarray of int, shape (...)
        Points used.
    valence, valence_err : ndarray, shape (...)
        Implied valence and its error (NaN without reference valences).
    labels : tuple of str
        Reference names.
    valences : ndarray, shape (k,)
        Reference valences used (NaN when not given).
    sum_to_one : bool
    shift : str
    fit_range : tuple of float
        Energy window (eV) actually used.
    """

    weights: np.ndarray
    weights_err: np.ndarray
    shifts: np.ndarray
    shifts_err: np.ndarray
    fit: np.ndarray
    r_factor: np.ndarray
    chi2_reduced: np.ndarray
    n_points: np.ndarray
    valence: np.ndarray
    valence_err: np.ndarray
    labels: tuple[str, ...]
    valences: np.ndarray
    sum_to_one: bool
    shift: str
    fit_range: tuple[float, float]

    def summary(self) -> str:
        """Readable table of weights (and valence) for each spectrum.

        Examples
        --------
        >>> e = np.linspace(0, 10, 201)
        >>> refs = np.stack([np.tanh(e - 4), np.tanh(e - 6)])
        >>> res = fit_arrays(0.3 * refs[0] + 0.7 * refs[1], refs, energy=e, labels=["A", "B"])
        >>> print(res.summary())
        spectrum 0: R = 0.0000, A 0.300 +- 0.000, B 0.700 +- 0.000
        """
        lines = []
        w = self.weights.reshape(-1, len(self.labels))
        we = self.weights_err.reshape(w.shape)
        r = self.r_factor.ravel()
        v, ve = self.valence.ravel(), self.valence_err.ravel()
        for i in range(w.shape[0]):
            parts = [f"{lab} {a:.3f} +- {b:.3f}" for lab, a, b in zip(self.labels, w[i], we[i])]
            val = f", valence {v[i]:.3f} +- {ve[i]:.3f}" if np.isfinite(v[i]) else ""
            lines.append(f"spectrum {i}: R = {r[i]:.4f}, " + ", ".join(parts) + val)
        return "\n".join(lines)


def _splines(references: np.ndarray, energy: np.ndarray) -> list[CubicSpline]:
    """Cubic splines through each reference's finite points (smooth in the shift)."""
    out = []
    for ref in references:
        ok = np.isfinite(ref)
        out.append(CubicSpline(energy[ok], ref[ok], extrapolate=False))
    return out


def _shifted(splines: list[CubicSpline], energy: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """References evaluated at ``E - s_j`` (NaN outside each reference's points)."""
    return np.stack([spl(energy - s) for spl, s in zip(splines, shifts)])


def _weights(design: np.ndarray, y: np.ndarray, sum_to_one: bool) -> np.ndarray:
    if not sum_to_one:
        return nnls(design, y)[0]
    delta = _DELTA * max(np.sqrt(np.mean(design**2)), np.finfo(float).tiny)
    aug = np.vstack([design, np.full(design.shape[1], delta)])
    w = nnls(aug, np.append(y, delta))[0]
    total = w.sum()
    return w / total if total > 0 else w


def _fit_one(y, refs, splines, energy, inside, sum_to_one, shift, max_shift):
    k = refs.shape[0]
    n_shift = {"none": 0, "global": 1, "each": k}[shift]

    def design_for(s):
        shifted = _shifted(splines, energy, np.broadcast_to(s, (k,))) if n_shift else refs
        return shifted.T

    def mask_for(design):
        return inside & np.isfinite(y) & np.all(np.isfinite(design), axis=1)

    s = np.zeros(n_shift)
    if n_shift:
        base = mask_for(design_for(np.zeros(k)))

        def resid(p):
            d = design_for(p)
            m = base & np.all(np.isfinite(d), axis=1)
            r = np.zeros(y.size)
            r[m] = y[m] - d[m] @ _weights(d[m], y[m], sum_to_one)
            return r[base]

        s = least_squares(resid, s, bounds=(-max_shift, max_shift), diff_step=1e-3).x
    design = design_for(s)
    m = mask_for(design)
    if n_shift:
        step = 1e-3
        d_plus, d_minus = design_for(s + step), design_for(s - step)
        m &= np.all(np.isfinite(d_plus) & np.isfinite(d_minus), axis=1)
    n = int(m.sum())
    if n < k + n_shift + 1:
        nan = np.full(k, np.nan)
        return nan, nan, nan, nan, m, np.full((k, k), np.nan)
    w = _weights(design[m], y[m], sum_to_one)
    active = w > 1e-12 * max(w.max(), 1e-300)
    cols = [design[m][:, active]]
    if n_shift:
        deriv = (d_plus[m] - d_minus[m]) / (2 * step) * w
        cols.append(deriv if shift == "each" else deriv.sum(axis=1, keepdims=True))
    jac = np.hstack(cols)
    n_w = int(active.sum())
    p = jac.shape[1] - (1 if sum_to_one else 0)
    rss = float(np.sum((y[m] - design[m] @ w) ** 2))
    var = rss / max(n - p, 1)
    cov = var * np.linalg.pinv(jac.T @ jac)
    if sum_to_one:
        u = np.zeros(jac.shape[1])
        u[:n_w] = 1.0
        mu = cov @ u
        if u @ mu > 0:
            cov = cov - np.outer(mu, mu) / (u @ mu)
    err_all = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    w_err = np.full(k, np.nan)
    w_err[active] = err_all[:n_w]
    cov_w = np.zeros((k, k))
    cov_w[np.ix_(active, active)] = cov[:n_w, :n_w]
    shifts = np.broadcast_to(s, (k,)).astype(float) if n_shift else np.zeros(k)
    if shift == "each":
        s_err = err_all[n_w:]
    elif shift == "global":
        s_err = np.full(k, err_all[n_w])
    else:
        s_err = np.zeros(k)
    return w, w_err, shifts, s_err, m, cov_w


def fit_arrays(
    spectra: np.typing.ArrayLike,
    references: np.typing.ArrayLike,
    *,
    energy: np.typing.ArrayLike,
    valences: np.typing.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    sum_to_one: bool = True,
    shift: str = "none",
    max_shift: float = 5.0,
    fit_range: tuple[float, float] | None = None,
) -> LCFResult:
    """Fit spectra as non-negative combinations of references (NumPy kernel).

    Parameters
    ----------
    spectra : array_like, shape (..., n)
        Spectra on the grid ``energy``; NaN marks missing points.
    references : array_like, shape (k, n)
        Reference spectra on the same grid (NaN where undefined).
    energy : array_like, shape (n,)
        Energies in eV, increasing.
    valences : array_like, shape (k,), optional
        Reference valences, for the implied valence.
    labels : sequence of str, optional
        Reference names.
    sum_to_one : bool, default True
        Constrain the weights to sum to 1.
    shift : {"none", "global", "each"}, default "none"
        Energy shift of the references: none, one common, or one each.
    max_shift : float, default 5.0
        Bound on the absolute shift (eV).
    fit_range : (float, float), optional
        Energy window (eV); default the whole grid.

    Returns
    -------
    LCFResult

    Raises
    ------
    DataError
        Mismatched shapes, fewer than two energy points per parameter, or
        an unknown ``shift``.

    Examples
    --------
    >>> e = np.linspace(8320.0, 8380.0, 241)
    >>> a = 1 / (1 + np.exp(-(e - 8345.0)))
    >>> b = 1 / (1 + np.exp(-(e - 8347.0)))
    >>> res = fit_arrays(0.47 * a + 0.53 * b, np.stack([a, b]), energy=e, valences=[2, 3])
    >>> res.weights.round(3), round(float(res.valence), 3)
    (array([0.47, 0.53]), 2.53)
    """
    y_all = np.asarray(spectra, dtype=float)
    refs = np.atleast_2d(np.asarray(references, dtype=float))
    e = np.asarray(energy, dtype=float)
    k = refs.shape[0]
    if shift not in _SHIFTS:
        raise DataError(f"shift must be one of {_SHIFTS}, not {shift!r}")
    if y_all.shape[-1:] != e.shape or refs.shape[1:] != e.shape:
        raise DataError(
            f"spectra {y_all.shape}, references {refs.shape} and energy {e.shape} "
            "must share the last (energy) axis"
        )
    v = np.full(k, np.nan) if valences is None else np.asarray(valences, dtype=float)
    names = tuple(labels) if labels is not None else tuple(f"reference {j}" for j in range(k))
    if v.shape != (k,) or len(names) != k:
        raise DataError(f"{k} references need {k} valences and labels")
    lo, hi = (float(e.min()), float(e.max())) if fit_range is None else map(float, fit_range)
    inside = (e >= lo) & (e <= hi)
    lead = y_all.shape[:-1]
    y2 = y_all.reshape(-1, e.size)
    m_spec = y2.shape[0]
    weights = np.full((m_spec, k), np.nan)
    weights_err = np.full((m_spec, k), np.nan)
    shifts = np.zeros((m_spec, k))
    shifts_err = np.zeros((m_spec, k))
    masks = np.zeros((m_spec, e.size), dtype=bool)
    splines = _splines(refs, e) if shift != "none" else []
    covs = np.zeros((m_spec, k, k))
    for i in range(m_spec):
        w, we, s, se, mask, cov = _fit_one(y2[i], refs, splines, e, inside, sum_to_one, shift, max_shift)
        weights[i], weights_err[i], shifts[i], shifts_err[i], masks[i] = w, we, s, se, mask
        covs[i] = cov
    if shift == "none":
        model = weights @ refs
    else:
        model = np.einsum("ij,ijn->in", weights, np.stack([_shifted(splines, e, s) for s in shifts]))
    model = np.where(masks, model, np.nan)
    resid = np.where(masks, y2 - model, 0.0)
    rss = np.sum(resid**2, axis=-1)
    n_pts = masks.sum(axis=-1)
    n_par = np.sum(np.isfinite(weights_err), axis=-1) + {"none": 0, "global": 1, "each": k}[shift]
    n_par = n_par - (1 if sum_to_one else 0)
    r_factor = rss / np.sum(np.where(masks, y2, 0.0) ** 2, axis=-1)
    chi2 = rss / np.maximum(n_pts - n_par, 1)
    total = weights.sum(axis=-1)
    val = weights @ v / total
    grad = (v[None, :] - val[:, None]) / total[:, None]
    val_err = np.sqrt(np.clip(np.einsum("ij,ijk,ik->i", grad, covs, grad), 0.0, None))
    return LCFResult(
        weights=weights.reshape(lead + (k,)),
        weights_err=weights_err.reshape(lead + (k,)),
        shifts=shifts.reshape(lead + (k,)),
        shifts_err=shifts_err.reshape(lead + (k,)),
        fit=model.reshape(y_all.shape),
        r_factor=r_factor.reshape(lead),
        chi2_reduced=chi2.reshape(lead),
        n_points=n_pts.reshape(lead),
        valence=val.reshape(lead),
        valence_err=val_err.reshape(lead),
        labels=names,
        valences=v,
        sum_to_one=sum_to_one,
        shift=shift,
        fit_range=(lo, hi),
    )


def _as_tuple(y, *, references, energy, **options):
    res = fit_arrays(y, references, energy=energy, **options)
    return (
        res.weights, res.weights_err, res.shifts, res.shifts_err, res.fit,
        res.r_factor, res.chi2_reduced, res.valence, res.valence_err,
    )


def fit(
    spectra: xr.DataArray,
    references: xr.DataArray,
    *,
    valences: np.typing.ArrayLike | None = None,
    sum_to_one: bool = True,
    shift: str = "none",
    max_shift: float = 5.0,
    fit_range: tuple[float, float] | None = None,
) -> xr.Dataset:
    """Linear-combination fit of each spectrum (xarray wrapper of :func:`fit_arrays`).

    Parameters
    ----------
    spectra : xarray.DataArray
        Spectra along an energy dimension (``energy`` or
        ``emission_energy``), e.g. ``norm(scan, energy)``; may be dask-backed.
    references : xarray.DataArray
        Reference spectra ``(reference, <energy dim>)``, interpolated
        linearly onto the spectra's grid (NaN outside their range, never
        extrapolated). Their valences come from ``valences`` or from a
        ``valence`` coordinate along ``reference``.
    valences : array_like, optional
        Valence of each reference.
    sum_to_one, shift, max_shift, fit_range
        As in :func:`fit_arrays`.

    Returns
    -------
    xarray.Dataset
        ``weight``, ``weight_err``, ``shift``, ``shift_err`` along
        (..., ``reference``); ``lcf_fit`` on the spectra's grid;
        ``r_factor``, ``chi2_reduced``, ``valence``, ``valence_err``.
        Per-scan coordinates are carried over; the options are in attrs.

    Examples
    --------
    >>> e = np.linspace(8320.0, 8380.0, 121)
    >>> refs = xr.DataArray(
    ...     np.stack([np.tanh(e - 8345.0), np.tanh(e - 8347.0)]),
    ...     dims=("reference", "energy"),
    ...     coords={"reference": ["NiO", "LaNiO3"], "energy": e, "valence": ("reference", [2.0, 3.0])},
    ... )
    >>> w = xr.DataArray([[0.5, 0.5], [0.75, 0.25]], dims=("scan", "reference"))
    >>> spectra = (w * refs).sum("reference")
    >>> fit(spectra, refs).valence.values.round(3)
    array([2.5 , 2.25])
    """
    dim = next((d for d in ("energy", "emission_energy") if d in spectra.dims), None)
    if dim is None or dim not in references.dims or "reference" not in references.dims:
        raise DataError(
            "spectra need an 'energy' or 'emission_energy' dimension and references "
            "('reference', same energy dimension)"
        )
    refs = references.transpose("reference", dim).interp({dim: spectra[dim]})
    if valences is None and "valence" in references.coords:
        valences = references["valence"].values
    labels = [str(r) for r in references["reference"].values]
    k = len(labels)
    options = dict(
        valences=valences, labels=labels, sum_to_one=sum_to_one, shift=shift,
        max_shift=max_shift, fit_range=fit_range,
    )
    outs = xr.apply_ufunc(
        _as_tuple,
        spectra,
        input_core_dims=[[dim]],
        output_core_dims=[["reference"]] * 4 + [[dim]] + [[]] * 4,
        kwargs=dict(references=np.asarray(refs.values), energy=np.asarray(spectra[dim].values), **options),
        dask="parallelized",
        output_dtypes=[float] * 9,
        dask_gufunc_kwargs={"output_sizes": {"reference": k}},
    )
    described = [
        ("weight", "1", "LCF weight"),
        ("weight_err", "1", "LCF weight uncertainty (1 sigma)"),
        ("shift", "eV", "LCF energy shift of the reference"),
        ("shift_err", "eV", "LCF energy shift uncertainty (1 sigma)"),
        ("lcf_fit", spectra.attrs.get("units", "1"), "LCF model"),
        ("r_factor", "1", "LCF R-factor sum((y - fit)^2) / sum(y^2)"),
        ("chi2_reduced", "1", "LCF residual variance per point"),
        ("valence", "1", "valence implied by the LCF weights"),
        ("valence_err", "1", "valence uncertainty from the LCF weights (1 sigma)"),
    ]
    attrs = {
        "method": "non-negative least squares (scipy.optimize.nnls)",
        "sum_to_one": int(sum_to_one),
        "shift_mode": shift,
        "max_shift_ev": max_shift,
        "fit_range_ev": [float("nan")] * 2 if fit_range is None else list(map(float, fit_range)),
    }
    data = {
        name: out.assign_attrs(units=units, long_name=long_name, **attrs)
        for (name, units, long_name), out in zip(described, outs)
    }
    coords = {"reference": ("reference", labels, {"units": "", "long_name": "reference spectrum"})}
    if valences is not None:
        coords["reference_valence"] = ("reference", np.asarray(valences, dtype=float), {"units": "1", "long_name": "reference valence"})
    return xr.Dataset(data).assign_coords(coords)
