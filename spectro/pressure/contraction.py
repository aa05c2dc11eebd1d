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

Systematics (:func:`edge_shift_vs_contraction`): the Ni-O distances of both
compounds come from models with uncertain parameters, and the pressures
from a gauge whose scale is uncertain. These errors are common to all points
of a compound (or of both compounds), so they are not x errors of the fit.
They are propagated by Monte Carlo around the fit: for each of ``n_draws``
draws of

* the reference's equation-of-state parameters (:meth:`EOS.draw
  <spectro.pressure.eos.EOS.draw>`, correlated across all NiO points),
* the sample's Ni-O model (per-row and scale errors of a
  :class:`~spectro.pressure.structure.BondTable`),
* a relative pressure-scale error per gauge (``pressure_gauge``
  coordinate; one shared gauge by default, so the scale error is common to
  sample and reference and largely cancels in their difference),

both contractions are recomputed and both slopes refitted (weighted least
squares with the York weights, batched over the draws). The standard
deviation of the draws of each slope, and of their difference, is its
systematic part (``sys``); the York standard errors are the statistical
part (``stat``, from the E0 errors and the per-point pressure errors).

Slope comparison (:func:`compare_slopes`): two-sided z test on the
difference, ``z = (b1 - b2) / sqrt(σ1² + σ2² + σ_sys²)`` (the statistical
parts are independent: the two fits use disjoint data; ``σ_sys`` is the
systematic part of the difference, correlations included). Not rejecting
is not a proof: the result also states the smallest difference the test
would have detected, ``(z_(1 - alpha/2) + z_power) σ`` (2.80 σ for 95 % and
power 80 %), and, given the eV per valence unit, the valence change this
corresponds to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import xarray as xr
from scipy import optimize, stats

from ..errors import DataError, FitError
from .structure import NIO

#: Relative one-sigma uncertainty of a pressure scale (default of
#: :func:`edge_shift_vs_contraction`): 1 % covers the stated error of
#: IPPS-Ruby2020 (0.5 %, from A = 1870 ± 10 GPa) and the difference between
#: the Mao et al. (1986) and Ruby2020 scales (-0.2 % to -1.1 % from 20 to
#: 30 GPa, +0.9 % at 10 GPa including their λ0 difference).
PRESSURE_SCALE_ERR = 0.01

__all__ = [
    "PRESSURE_SCALE_ERR",
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
    """Two-sided z test of the difference of two slopes, with its power.

    Attributes
    ----------
    difference : float
        ``b1 - b2``.
    difference_stat, difference_sys, difference_err : float
        Statistical part ``sqrt(σ1² + σ2²)``, systematic part, and their
        quadrature sum (the error used by the test).
    z : float
        Difference in standard deviations.
    p_value : float
        Two-sided, ``2 (1 - Φ(|z|))``.
    alpha : float
    consistent : bool
        ``p_value >= alpha``: no evidence for a difference (not a proof of
        equality, see ``detectable``).
    power : float
    detectable : float
        Smallest ``|b1 - b2|`` the test detects with probability ``power``:
        ``(z_(1 - alpha/2) + z_power) difference_err``.
    verdict : str
    """

    difference: float
    difference_stat: float
    difference_sys: float
    difference_err: float
    z: float
    p_value: float
    alpha: float
    consistent: bool
    power: float
    detectable: float
    verdict: str


def compare_slopes(
    slope: float, slope_err: float, reference: float, reference_err: float, *,
    systematic: float = 0.0, alpha: float = 0.05, power: float = 0.8,
) -> SlopeComparison:
    """Test whether a sample's slope agrees with a reference slope.

    Parameters
    ----------
    slope, slope_err : float
        Sample slope and its statistical standard error.
    reference, reference_err : float
        Reference (NiO) slope and its statistical standard error.
    systematic : float
        Systematic standard error of the difference, correlations between
        the two slopes included (see :func:`edge_shift_vs_contraction`).
    alpha : float
        Significance level; the verdict is stated at confidence ``1 - alpha``.
    power : float
        Probability of detection used for ``detectable``.

    Returns
    -------
    SlopeComparison

    Examples
    --------
    >>> c = compare_slopes(-14.0, 1.0, -15.0, 1.0)
    >>> round(c.z, 3), c.consistent, round(c.detectable, 2)
    (0.707, True, 3.96)
    >>> c.verdict
    'no evidence for a difference at 95 % (z = 0.71, p = 0.48): difference +1.00 ± 1.41 (stat) ± 0.00 (sys); a difference larger than 3.96 would have been detected with 80 % power'
    """
    diff = slope - reference
    stat = float(np.hypot(slope_err, reference_err))
    err = float(np.hypot(stat, systematic))
    if not err > 0:
        raise DataError("slope errors must be positive to compare slopes")
    z = diff / err
    p = float(2.0 * stats.norm.sf(abs(z)))
    ok = bool(p >= alpha)
    detectable = float((stats.norm.isf(alpha / 2.0) + stats.norm.ppf(power)) * err)
    level = f"{100 * (1 - alpha):g} %"
    head = (f"{'no evidence for a difference' if ok else 'evidence for a difference'} at {level} "
            f"(z = {z:.2f}, p = {p:.2g}): difference {diff:+.2f} ± {stat:.2f} (stat) ± {systematic:.2f} (sys)")
    verdict = head + (f"; a difference larger than {detectable:.3g} would have been detected with "
                      f"{100 * power:g} % power" if ok else "")
    return SlopeComparison(float(diff), stat, float(systematic), err, float(z), p, float(alpha), ok,
                           float(power), detectable, verdict)


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
    [0.0, -0.0316]
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
        York fits of ``Δvariable`` (eV) against ``Δd`` (Å); slopes in eV/Å
        with their statistical errors (``slope_err``).
    sample_sys, reference_sys : float
        Systematic standard errors of the two slopes, eV/Å.
    systematics : dict of str to float
        Systematic error of the slope difference from each source alone
        (``"reference_model"``, ``"sample_model"``, ``"pressure_scale"``)
        and from all together (``"total"``), eV/Å.
    comparison : SlopeComparison
        Sample against reference, with stat and sys parts, z, p and the
        smallest detectable difference.
    variable : str
    sample_bond, reference_bond : str
        Names of the distances used.
    ev_per_valence : float or None
        Edge shift per valence unit used to express the result in valence
        units (None: only slopes are reported).
    valence_onset : float
        Pressure (GPa) above which the valence change of the alternative
        acts.
    detectable_rate : float or None
        Smallest valence change per GPa above ``valence_onset`` that the
        test detects with the stated power.
    detectable_per_angstrom : float or None
        The same for a valence change proportional to the Ni-O contraction,
        valence units per Å.
    valence_rate, valence_rate_err : float or None
        The slope difference read as a valence change per GPa above
        ``valence_onset``, with its total error.
    n_draws : int
        Monte Carlo draws of the systematics.
    """

    sample: LineFit
    reference: LineFit
    sample_sys: float
    reference_sys: float
    systematics: dict
    comparison: SlopeComparison
    variable: str
    sample_bond: str
    reference_bond: str
    ev_per_valence: float | None
    valence_onset: float
    detectable_rate: float | None
    detectable_per_angstrom: float | None
    valence_rate: float | None
    valence_rate_err: float | None
    n_draws: int

    @property
    def headline(self) -> str:
        """The verdict without the numbers of the slopes (for figures)."""
        c = self.comparison
        level = f"{100 * (1 - c.alpha):g} %"
        onset = f"above {self.valence_onset:.3g} GPa"
        if c.consistent:
            limit = (f"{c.detectable:.2f} eV/Å in the slope" if self.detectable_rate is None
                     else f"{self.detectable_rate:.2g} valence units per GPa {onset}")
            return (f"no evidence for a valence change at {level}; a change above {limit} "
                    f"would have been detected (power {100 * c.power:g} %)")
        if self.valence_rate is None:
            return f"evidence for a valence change at {level} (z = {c.z:.2f})"
        return (f"evidence for a valence change at {level}: {self.valence_rate:.2g} ± "
                f"{self.valence_rate_err:.2g} valence units per GPa {onset}")

    @property
    def verdict(self) -> str:
        """What the data show and what they can exclude, in one sentence."""
        c = self.comparison
        level = f"{100 * (1 - c.alpha):g} %"
        slopes = (f"dE0/d(Ni-O) sample {self.sample.slope:.2f} ± {self.sample.slope_err:.2f} (stat) "
                  f"± {self.sample_sys:.2f} (sys), NiO {self.reference.slope:.2f} ± "
                  f"{self.reference.slope_err:.2f} (stat) ± {self.reference_sys:.2f} (sys) eV/Å, difference "
                  f"{c.difference:+.2f} ± {c.difference_stat:.2f} (stat) ± {c.difference_sys:.2f} (sys) eV/Å, "
                  f"z = {c.z:.2f}, p = {c.p_value:.2g}")
        onset = f"above {self.valence_onset:.3g} GPa"
        if c.consistent:
            if self.detectable_rate is None:
                limit = f"a slope difference larger than {c.detectable:.2f} eV/Å"
            else:
                limit = (f"a valence change larger than {self.detectable_rate:.2g} valence units per GPa "
                         f"{onset} (or {self.detectable_per_angstrom:.2g} per Å of Ni-O contraction; "
                         f"{c.detectable:.2f} eV/Å in the slope)")
            return (f"no evidence for a valence change at {level} ({slopes}); {limit} would have been "
                    f"detected with {100 * c.power:g} % power")
        if self.valence_rate is None:
            return f"evidence for a valence change at {level} ({slopes})"
        return (f"evidence for a valence change at {level}: {self.valence_rate:.2g} ± "
                f"{self.valence_rate_err:.2g} valence units per GPa {onset} ({slopes})")


def _is_reference(series: xr.Dataset, reference: str) -> np.ndarray:
    name = "compound" if "compound" in series.coords else "sample"
    if name not in series.coords:
        raise DataError("series need a 'compound' or 'sample' coordinate to find the reference scans")
    values = np.char.lower(np.asarray(series[name].values).astype(str))
    return values == reference.lower()


def _batched_slopes(x: np.ndarray, y: np.ndarray, sy: np.ndarray, sx: np.ndarray, onehot: np.ndarray,
                    b: float) -> np.ndarray:
    """Slopes of ``y = a_g + b x`` for each row of ``x`` (draws), York weights, two reweightings."""
    slope = np.full(x.shape[0], b)
    design = np.concatenate([x[..., None], np.broadcast_to(onehot, (*x.shape, onehot.shape[1]))], axis=-1)
    for _ in range(2):
        w = 1.0 / (sy**2 + slope[:, None] ** 2 * sx**2)
        aw = design * w[..., None]
        theta = np.linalg.solve(np.swapaxes(aw, -1, -2) @ design, (np.swapaxes(aw, -1, -2) @ y)[..., None])
        slope = theta[:, 0, 0]
    return slope


def _draw_distances(bond: BondModel, p: np.ndarray, rng: np.random.Generator, size: int,
                    vary: bool) -> np.ndarray:
    if vary and hasattr(bond, "distance_draws"):
        return np.asarray(bond.distance_draws(p, rng=rng, size=size), dtype=float)
    return np.asarray(bond.distance(p), dtype=float)


def _slope_draws(parts: list[dict], bonds: list, gauges: np.ndarray, scale_err: float, rng, size: int,
                 vary: set[str]) -> list[np.ndarray]:
    """Slopes of each part for ``size`` draws of the systematics named in ``vary``."""
    names, code = np.unique(gauges, return_inverse=True)
    eps = (scale_err * rng.standard_normal((size, names.size)) if "pressure_scale" in vary
           else np.zeros((size, names.size)))
    out = []
    for part, bond, key in zip(parts, bonds, ("sample_model", "reference_model")):
        factor = 1.0 + eps[:, code[part["index"]]]
        both = np.concatenate([part["p"] * factor, part["p_ref"] * factor], axis=1)
        d = np.broadcast_to(_draw_distances(bond, both, rng, size, key in vary), both.shape)
        n = part["p"].size
        x = d[:, :n] - d[:, n:]
        out.append(_batched_slopes(x, part["y"], part["sy"], part["sx"], part["onehot"], part["slope"]))
    return out


def edge_shift_vs_contraction(
    series: xr.Dataset,
    *,
    sample_bond: BondModel,
    reference_bond: BondModel = NIO,
    reference: str = "NiO",
    variable: str = "e0",
    path_kinds: tuple[str, ...] = ("isothermal",),
    alpha: float = 0.05,
    power: float = 0.8,
    pressure_scale_err: float = PRESSURE_SCALE_ERR,
    ev_per_valence: float | None = None,
    valence_onset: float | None = None,
    n_draws: int = 4000,
    seed: int = 0,
) -> ContractionResult:
    """Fit the edge shift against Ni-O contraction for sample and NiO; compare with all errors.

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`spectro.pressure.relative_series`, holding the sample
        scans and the reference scans, told apart by a ``compound``
        coordinate (or else ``sample``) equal to ``reference``. An optional
        ``pressure_gauge`` coordinate names the pressure scale of each scan;
        scans with the same name share its scale error (default: one gauge
        for all, so the scale error is common to sample and reference).
    sample_bond : BondModel
        The sample's Ni-O distance against pressure. Required: which
        distance (in-plane, apical, mean) is a choice the caller makes. Its
        uncertainty (``value_err``, ``scale_err`` of a
        :class:`~spectro.pressure.structure.BondTable`) is propagated.
    reference_bond : BondModel
        Default :data:`spectro.pressure.structure.NIO` (Holland & Powell
        2011 modified Tait, a/2, with its parameter uncertainties).
    reference : str
        Compound label of the reference scans.
    variable : str
        Observable (``delta_<variable>`` against ``Δd``).
    path_kinds : tuple of str
        Which paths enter the fits (compression paths by default; cooling
        paths hardly change the distance).
    alpha : float
        Significance level of the verdict.
    power : float
        Probability of detection for the smallest detectable change.
    pressure_scale_err : float
        Relative one-sigma error of each pressure scale
        (:data:`PRESSURE_SCALE_ERR`, 1 %).
    ev_per_valence : float, optional
        Edge shift per valence unit, eV (e.g. the slope of
        :func:`spectro.valence.fit_calibration`); without it the result is
        stated in eV/Å only.
    valence_onset : float, optional
        GPa above which the valence change of the alternative hypothesis
        acts, ``Δv = rate (P - onset)``; default the lowest sample pressure.
    n_draws : int
        Monte Carlo draws of the systematics (the relative sampling error of
        the systematic parts is about ``1 / sqrt(2 n_draws)``, 1 % for 4000).
    seed : int
        Seed of the draws (the result is reproducible).

    Returns
    -------
    ContractionResult
        Slopes in eV/Å with statistical and systematic errors, their
        difference, z, p, the smallest detectable change and the verdict.

    Notes
    -----
    Each path has its own intercept, and y errors are the per-scan errors
    ``<variable>_err`` (not ``delta_<variable>_err``): the shared error of
    the path reference is absorbed by the intercept. x errors are the
    per-point pressure errors carried through ``dd/dP``. The E0 errors are
    those of the analysis; when they are underestimated the statistical
    parts are too.

    The valence statements use the linear response of the sample's fitted
    slope to an added edge shift ``ev_per_valence · rate · max(P - onset, 0)``
    (weighted least squares at the fitted weights): a rate ``r`` moves the
    slope by ``r · ev_per_valence · L·h``, so the smallest detectable rate is
    ``detectable / |ev_per_valence · L·h|``. A valence change proportional
    to the contraction, ``Δv = κ |Δd|``, moves it by ``κ · ev_per_valence``.

    Examples
    --------
    See :func:`spectro.simulate.pressure_results` and ``docs/pressure.md``.
    """
    ref_mask = _is_reference(series, reference)
    kinds = np.asarray(series["path_kind"].values).astype(str)
    use = np.isin(kinds, path_kinds)
    key = f"delta_{variable}"
    if key not in series:
        raise DataError(f"series has no {key}")
    err = series[f"{variable}_err"].values if f"{variable}_err" in series else None
    gauges = (np.asarray(series["pressure_gauge"].values).astype(str) if "pressure_gauge" in series.coords
              else np.full(series.sizes["scan"], "", dtype=object).astype(str))
    fits, parts, bonds = [], [], (sample_bond, reference_bond)
    for mask, bond, what in ((~ref_mask & use, sample_bond, "sample"),
                             (ref_mask & use, reference_bond, reference)):
        if not mask.any():
            raise DataError(f"no {what} scans on {'/'.join(path_kinds)} paths in the series")
        sub = series.isel(scan=np.flatnonzero(mask))
        _, dd, dd_err = bond_contraction(sub, bond)
        y = np.asarray(sub[key].values, dtype=float)
        y_err = None if err is None else np.asarray(err, dtype=float)[mask]
        groups = np.asarray(sub["path"].values).astype(str)
        fit = fit_line(dd, y, x_err=dd_err, y_err=y_err, groups=groups)
        fits.append(fit)
        good = np.isfinite(dd) & np.isfinite(y) & (np.ones_like(y, bool) if y_err is None else np.isfinite(y_err))
        sy = np.ones_like(y) * np.sqrt(fit.reduced_chi2) if y_err is None else y_err
        _, code = np.unique(groups[good], return_inverse=True)
        parts.append({
            "index": np.flatnonzero(mask)[good],
            "p": np.asarray(sub["pressure"].values, dtype=float)[good],
            "p_ref": np.asarray(sub["reference_pressure"].values, dtype=float)[good],
            "y": y[good], "sy": sy[good], "sx": dd_err[good], "x": dd[good],
            "onehot": np.eye(code.max() + 1)[code], "slope": fit.slope,
        })
    rng = np.random.default_rng(seed)
    sources = {"reference_model": {"reference_model"}, "sample_model": {"sample_model"},
               "pressure_scale": {"pressure_scale"}}
    systematics = {}
    for name, vary in sources.items():
        b_s, b_r = _slope_draws(parts, bonds, gauges, pressure_scale_err, rng, n_draws, vary)
        systematics[name] = float(np.std(b_s - b_r))
    b_s, b_r = _slope_draws(parts, bonds, gauges, pressure_scale_err, rng, n_draws,
                            set().union(*sources.values()))
    systematics["total"] = float(np.std(b_s - b_r))
    comparison = compare_slopes(fits[0].slope, fits[0].slope_err, fits[1].slope, fits[1].slope_err,
                                systematic=systematics["total"], alpha=alpha, power=power)
    part = parts[0]
    onset = float(np.min(part["p"])) if valence_onset is None else float(valence_onset)
    rate = rate_err = detect_rate = detect_kappa = None
    if ev_per_valence is not None:
        # linear response of the sample slope to an added shift (weighted LS at the fitted weights)
        w = 1.0 / (part["sy"] ** 2 + fits[0].slope ** 2 * part["sx"] ** 2)
        design = np.column_stack([part["x"], part["onehot"]])
        hat = np.linalg.solve(design.T @ (design * w[:, None]), (design * w[:, None]).T)[0]
        response = float(ev_per_valence * hat @ np.clip(part["p"] - onset, 0.0, None))
        detect_kappa = comparison.detectable / abs(ev_per_valence)
        if response != 0:
            detect_rate = comparison.detectable / abs(response)
            rate = comparison.difference / response
            rate_err = comparison.difference_err / abs(response)
    name = getattr(sample_bond, "name", type(sample_bond).__name__)
    ref_name = getattr(reference_bond, "name", type(reference_bond).__name__)
    return ContractionResult(
        sample=fits[0], reference=fits[1], sample_sys=float(np.std(b_s)), reference_sys=float(np.std(b_r)),
        systematics=systematics, comparison=comparison, variable=variable, sample_bond=str(name),
        reference_bond=str(ref_name), ev_per_valence=None if ev_per_valence is None else float(ev_per_valence),
        valence_onset=onset, detectable_rate=detect_rate, detectable_per_angstrom=detect_kappa,
        valence_rate=rate, valence_rate_err=rate_err, n_draws=int(n_draws),
    )
