"""Edge shift against Ni-O contraction: slopes, their difference, a verdict.

If an edge shift under pressure is purely structural, E0 moves with the
Ni-O distance the same way in the sample as in a reference whose valence
does not change (NiO, Ni²⁺): the slopes ``dE0/d(Ni-O)`` agree. A valence
change adds a shift that the contraction does not explain, and the
sample's slope departs from NiO's.

Line fit (:func:`fit_line`): errors in both variables, minimizing York's
objective (York et al., Am. J. Phys. 72, 367 (2004), uncorrelated errors)::

    S = sum_i (y_i - a_g(i) - b x_i)**2 / (sy_i**2 + b**2 sx_i**2)

with one intercept ``a_g`` per group (path), by Levenberg-Marquardt
(``scipy.optimize.least_squares``) from the weighted least-squares start.
Standard errors are the square roots of the diagonal of ``(JᵀJ)⁻¹`` at the
minimum, with the stated errors taken as absolute (not rescaled by the
reduced chi-square unless ``scale_covar=True``).

Slope comparison (:func:`compare_slopes`): two-sided z test on the
difference, ``z = (b1 - b2) / sqrt(σ1² + σ2²)`` (the two fits use disjoint
data, so they are independent); the shift is called *consistent with a
purely structural shift* at confidence ``1 - alpha`` when ``|z|`` is below
the normal quantile ``z_(1 - alpha/2)`` (1.96 for 95 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import xarray as xr
from scipy import optimize, stats

from ..errors import DataError, FitError
from .structure import NIO

__all__ = [
    "BondModel",
    "ContractionResult",
    "LineFit",
    "SlopeComparison",
    "bond_contraction",
    "compare_slopes",
    "edge_shift_vs_contraction",
    "fit_line",
]


class BondModel(Protocol):
    """Anything with ``distance(p)`` (Å) and ``slope(p)`` (Å/GPa)."""

    def distance(self, p: np.ndarray | float) -> np.ndarray: ...

    def slope(self, p: np.ndarray | float) -> np.ndarray: ...


@dataclass(frozen=True)
class LineFit:
    """A straight-line fit with errors in both variables.

    Attributes
    ----------
    slope, slope_err : float
        ``b`` and its standard error (units of y per unit of x).
    intercepts, intercepts_err : ndarray
        One per group, in the order of ``groups``.
    groups : tuple of str
    chi2, reduced_chi2 : float
        York objective at the minimum and divided by ``n - 1 - n_groups``.
    n_points : int
    method : str
    """

    slope: float
    slope_err: float
    intercepts: np.ndarray
    intercepts_err: np.ndarray
    groups: tuple[str, ...]
    chi2: float
    reduced_chi2: float
    n_points: int
    method: str


def fit_line(
    x: np.ndarray,
    y: np.ndarray,
    *,
    x_err: np.ndarray | float | None = None,
    y_err: np.ndarray | float | None = None,
    groups: np.ndarray | None = None,
    scale_covar: bool = False,
) -> LineFit:
    """Fit ``y = a_g + b x`` with errors in x and y and one intercept per group.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Data; points where either is NaN are left out.
    x_err, y_err : array_like or float, optional
        One-sigma errors. Without ``y_err`` every point has unit y weight
        and ``scale_covar`` is forced on.
    groups : array_like of str, shape (n,), optional
        Group label per point (one intercept each); default one group.
    scale_covar : bool
        Rescale the covariance by the reduced chi-square.

    Returns
    -------
    LineFit

    Raises
    ------
    DataError
        Too few finite points (need at least the number of parameters + 1).
    FitError
        If the minimization fails.

    Examples
    --------
    York's test data (Pearson 1901 with York's 1966 weights):

    >>> x = np.array([0.0, 0.9, 1.8, 2.6, 3.3, 4.4, 5.2, 6.1, 6.5, 7.4])
    >>> y = np.array([5.9, 5.4, 4.4, 4.6, 3.5, 3.7, 2.8, 2.8, 2.4, 1.5])
    >>> wx = np.array([1000, 1000, 500, 800, 200, 80, 60, 20, 1.8, 1])
    >>> wy = np.array([1, 1.8, 4, 8, 20, 20, 70, 70, 100, 500])
    >>> fit = fit_line(x, y, x_err=wx**-0.5, y_err=wy**-0.5)
    >>> round(fit.slope, 4), round(float(fit.intercepts[0]), 4)
    (-0.4805, 5.4799)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise DataError(f"x and y must be 1-D of one length, got {x.shape} and {y.shape}")
    sx = np.broadcast_to(np.asarray(0.0 if x_err is None else x_err, dtype=float), x.shape)
    sy = np.broadcast_to(np.asarray(1.0 if y_err is None else y_err, dtype=float), x.shape)
    if y_err is None:
        scale_covar = True
    g = np.full(x.shape, "", dtype=object) if groups is None else np.asarray(groups).astype(str)
    good = np.isfinite(x) & np.isfinite(y) & np.isfinite(sx) & np.isfinite(sy)
    x, y, sx, sy, g = x[good], y[good], sx[good], sy[good], g[good]
    names, code = np.unique(g, return_inverse=True)
    n_par = 1 + names.size
    if x.size < n_par + 1:
        raise DataError(f"{x.size} finite points for {n_par} line parameters; need {n_par + 1}")
    if np.any(sy**2 + sx**2 <= 0):
        raise DataError("every point needs a positive x or y error")
    onehot = np.eye(names.size)[code]

    def residual(theta: np.ndarray) -> np.ndarray:
        b, a = theta[0], theta[1:]
        return (y - onehot @ a - b * x) / np.sqrt(sy**2 + b**2 * sx**2)

    design = np.column_stack([x, onehot]) / sy[:, None]
    start, *_ = np.linalg.lstsq(design, y / sy, rcond=None)
    sol = optimize.least_squares(residual, start, method="lm", xtol=1e-14, ftol=1e-14)
    if not sol.success:
        raise FitError(f"line fit failed: {sol.message}")
    chi2 = float(np.sum(sol.fun**2))
    dof = max(x.size - n_par, 1)
    try:
        cov = np.linalg.inv(sol.jac.T @ sol.jac)
    except np.linalg.LinAlgError:
        raise FitError("line fit covariance is singular (x values all equal within a group?)") from None
    if scale_covar:
        cov = cov * chi2 / dof
    err = np.sqrt(np.diag(cov))
    return LineFit(
        slope=float(sol.x[0]), slope_err=float(err[0]),
        intercepts=sol.x[1:].copy(), intercepts_err=err[1:].copy(),
        groups=tuple(str(n) for n in names), chi2=chi2, reduced_chi2=chi2 / dof,
        n_points=int(x.size),
        method="York objective, errors in x and y, one intercept per group"
               + (", covariance scaled by reduced chi2" if scale_covar else ""),
    )


@dataclass(frozen=True)
class SlopeComparison:
    """Two-sided z test of the difference of two slopes.

    Attributes
    ----------
    difference, difference_err : float
        ``b1 - b2`` and ``sqrt(σ1² + σ2²)``.
    z : float
        Difference in standard deviations.
    p_value : float
        Two-sided, ``2 (1 - Φ(|z|))``.
    alpha : float
    consistent : bool
        ``p_value >= alpha``.
    verdict : str
    """

    difference: float
    difference_err: float
    z: float
    p_value: float
    alpha: float
    consistent: bool
    verdict: str


def compare_slopes(
    slope: float, slope_err: float, reference: float, reference_err: float, *, alpha: float = 0.05
) -> SlopeComparison:
    """Test whether a sample's slope agrees with a reference slope.

    Parameters
    ----------
    slope, slope_err : float
        Sample slope and standard error.
    reference, reference_err : float
        Reference (NiO) slope and standard error.
    alpha : float
        Significance level; the verdict is stated at confidence ``1 - alpha``.

    Returns
    -------
    SlopeComparison

    Examples
    --------
    >>> c = compare_slopes(-14.0, 1.0, -15.0, 1.0)
    >>> round(c.z, 3), c.consistent
    (0.707, True)
    >>> c.verdict
    'consistent with a purely structural shift at 95 % (z = 0.71, p = 0.48)'
    """
    diff = slope - reference
    err = float(np.hypot(slope_err, reference_err))
    if not err > 0:
        raise DataError("slope errors must be positive to compare slopes")
    z = diff / err
    p = float(2.0 * stats.norm.sf(abs(z)))
    ok = bool(p >= alpha)
    level = f"{100 * (1 - alpha):g} %"
    verdict = (f"{'consistent' if ok else 'not consistent'} with a purely structural shift "
               f"at {level} (z = {z:.2f}, p = {p:.2g})")
    return SlopeComparison(float(diff), err, float(z), p, float(alpha), ok, verdict)


def bond_contraction(series: xr.Dataset, bond: BondModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ni-O distance, its contraction from the path reference, and its error.

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`spectro.pressure.relative_series` (needs ``pressure``
        and ``reference_pressure``; ``pressure_err`` is used when present).
    bond : BondModel
        E.g. :data:`spectro.pressure.structure.NIO` or a
        :class:`~spectro.pressure.structure.BondTable`.

    Returns
    -------
    distance : ndarray
        Å per scan.
    delta : ndarray
        ``d(P) - d(P_ref)``, Å.
    distance_err : ndarray
        ``|dd/dP| σ_P``, Å (0 where ``pressure_err`` is unknown).

    Examples
    --------
    >>> import xarray as xr
    >>> from spectro.pressure import relative_series
    >>> res = xr.Dataset({"e0": ("scan", [0.0, 0.1])}, coords={
    ...     "scan": ["a", "b"], "pressure": ("scan", [0.0, 10.0]), "run": ("scan", ["r", "r"])})
    >>> d, dd, err = bond_contraction(relative_series(res), NIO)
    >>> [round(float(v), 4) for v in dd]
    [0.0, -0.0308]
    """
    p = np.asarray(series["pressure"].values, dtype=float)
    p_ref = np.asarray(series["reference_pressure"].values, dtype=float)
    d = np.asarray(bond.distance(p), dtype=float)
    sp = (np.asarray(series["pressure_err"].values, dtype=float) if "pressure_err" in series.coords
          else np.zeros_like(p))
    err = np.abs(np.asarray(bond.slope(p), dtype=float)) * np.nan_to_num(sp, nan=0.0)
    return d, d - np.asarray(bond.distance(p_ref), dtype=float), err


@dataclass(frozen=True)
class ContractionResult:
    """Edge shift against Ni-O contraction for a sample and a reference.

    Attributes
    ----------
    sample, reference : LineFit
        Fits of ``Δvariable`` (eV) against ``Δd`` (Å); slopes in eV/Å.
    comparison : SlopeComparison
        Sample against reference, with the verdict.
    variable : str
    sample_bond, reference_bond : str
        Names of the distances used.
    """

    sample: LineFit
    reference: LineFit
    comparison: SlopeComparison
    variable: str
    sample_bond: str
    reference_bond: str

    @property
    def verdict(self) -> str:
        """The verdict sentence of :attr:`comparison`."""
        return self.comparison.verdict


def _is_reference(series: xr.Dataset, reference: str) -> np.ndarray:
    name = "compound" if "compound" in series.coords else "sample"
    if name not in series.coords:
        raise DataError("series need a 'compound' or 'sample' coordinate to find the reference scans")
    values = np.char.lower(np.asarray(series[name].values).astype(str))
    return values == reference.lower()


def edge_shift_vs_contraction(
    series: xr.Dataset,
    *,
    sample_bond: BondModel,
    reference_bond: BondModel = NIO,
    reference: str = "NiO",
    variable: str = "e0",
    path_kinds: tuple[str, ...] = ("isothermal",),
    alpha: float = 0.05,
) -> ContractionResult:
    """Fit the edge shift against Ni-O contraction for sample and NiO; compare.

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`spectro.pressure.relative_series`, holding the sample
        scans and the reference scans, told apart by a ``compound``
        coordinate (or else ``sample``) equal to ``reference``.
    sample_bond : BondModel
        The sample's Ni-O distance against pressure. Required: which
        distance (in-plane, apical, mean) is a choice the caller makes.
    reference_bond : BondModel
        Default :data:`spectro.pressure.structure.NIO` (BM3, a/2).
    reference : str
        Compound label of the reference scans.
    variable : str
        Observable (``delta_<variable>`` against ``Δd``).
    path_kinds : tuple of str
        Which paths enter the fits (compression paths by default; cooling
        paths hardly change the distance).
    alpha : float
        Significance level of the verdict.

    Returns
    -------
    ContractionResult
        Slopes in eV/Å with standard errors, their difference in standard
        deviations and the verdict.

    Notes
    -----
    Each path has its own intercept, and y errors are the per-scan errors
    ``<variable>_err`` (not ``delta_<variable>_err``): the shared error of
    the path reference is absorbed by the intercept. x errors are the
    pressure errors carried through ``dd/dP``.

    Examples
    --------
    See :func:`spectro.simulate.pressure_series` and ``docs/pressure.md``.
    """
    ref_mask = _is_reference(series, reference)
    kinds = np.asarray(series["path_kind"].values).astype(str)
    use = np.isin(kinds, path_kinds)
    key = f"delta_{variable}"
    if key not in series:
        raise DataError(f"series has no {key}")
    err = series[f"{variable}_err"].values if f"{variable}_err" in series else None
    fits = []
    for mask, bond, what in ((~ref_mask & use, sample_bond, "sample"),
                             (ref_mask & use, reference_bond, reference)):
        if not mask.any():
            raise DataError(f"no {what} scans on {'/'.join(path_kinds)} paths in the series")
        sub = series.isel(scan=np.flatnonzero(mask))
        _, dd, dd_err = bond_contraction(sub, bond)
        y_err = None if err is None else np.asarray(err, dtype=float)[mask]
        fits.append(fit_line(dd, np.asarray(sub[key].values, dtype=float), x_err=dd_err,
                             y_err=y_err, groups=np.asarray(sub["path"].values).astype(str)))
    comparison = compare_slopes(fits[0].slope, fits[0].slope_err, fits[1].slope, fits[1].slope_err,
                                alpha=alpha)
    name = getattr(sample_bond, "name", type(sample_bond).__name__)
    ref_name = getattr(reference_bond, "name", type(reference_bond).__name__)
    return ContractionResult(fits[0], fits[1], comparison, variable, str(name), str(ref_name))
