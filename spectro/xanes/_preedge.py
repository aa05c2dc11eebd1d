"""Pre-edge (1s -> 3d) peak of normalized Ni K-edge spectra.

Two estimates, both on the normalized spectrum inside ``fit_range``:

Model fit (default result)
    lmfit model: baseline + one or two peaks (``"gaussian"`` or
    ``"pseudovoigt"``), fitted by least squares per spectrum. Baselines
    (the tail of the main edge under the peak): ``"linear"`` (line),
    ``"arctan"`` or ``"erf"`` (constant + step of free centre, width and
    height, the height bounded to 0.3-3 times the normalized jump),
    ``"lorentzian"`` (line + Lorentzian of free centre, width and
    amplitude, as larch's ``pre_edge_baseline``). The fit is lmfit's
    ``least_squares`` (scipy's trust-region reflective method, which treats
    bounds as bounds: a parameter whose optimum lies on one, typically a
    pseudo-Voigt fraction of 0, converges there), then ``leastsq`` from the
    same start if it did not converge, each capped at 2000 function
    evaluations; a fit that converges with neither keeps its values but
    gets NaN uncertainties and a warning. Centroid: the peak centre
    (one peak) or the area-weighted mean of the two centres; area: the
    summed peak areas; height: the maximum of the fitted peak sum. Their
    uncertainties come from the lmfit covariance matrix (scaled by the
    reduced chi-square), propagated to the two-peak centroid and area with
    the full covariance (first-order, i.e. the delta method).

Model-free cross-check (vectorized over all spectra)
    A baseline that is linear in its parameters is fitted by least squares
    to the points of ``fit_range`` outside ``peak_range``: ``"linear"``
    (``a + b E``) or, with a per-spectrum edge energy ``edge`` and width
    ``tail_width``, ``"lorentzian"`` (``a + b L(E)``, ``L`` a Lorentzian of
    HWHM ``tail_width`` at ``edge``) or ``"arctan"``/``"erf"`` (``a + b
    S(E)``, the step of that width). The residual inside ``peak_range`` is
    integrated with the trapezoid rule: ``area = sum r dE``, ``centroid =
    sum E r dE / area``. Noise sigma (high-frequency residual) gives
    ``var(area) = sigma**2 sum dE**2`` and ``var(centroid) = sigma**2 sum
    ((E - centroid) dE / area)**2``; the baseline uncertainty is not
    included.

Windows are absolute energies in eV on the energy scale of the data; the
defaults suit the Ni K pre-edge near 8333 eV on a calibrated scale.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import xarray as xr
from scipy.special import erf

from ..errors import FitError, FitWarning
from ..options import XanesOptions, options_of
from .. import _apply
from . import _arrays

__all__ = [
    "FIT_RANGE",
    "PEAK_RANGE",
    "PreedgeCentroid",
    "PreedgeFit",
    "preedge",
    "preedge_centroid_arrays",
    "preedge_fit_arrays",
]

#: Default energy range of the pre-edge fit (Ni K), eV.
FIT_RANGE: tuple[float, float] = XanesOptions().fit_range
#: Default energy range of the pre-edge peak (Ni K), eV.
PEAK_RANGE: tuple[float, float] = XanesOptions().peak_range
#: Default width of the edge tail of linear-parameter baselines, eV.
TAIL_WIDTH: float = 3.0


@dataclass(frozen=True)
class PreedgeCentroid:
    """Model-free pre-edge centroid, area and height.

    Attributes
    ----------
    centroid, centroid_err : ndarray, shape (...)
        Centroid of the baseline-subtracted peak and its 1-sigma error, eV.
    area, area_err : ndarray, shape (...)
        Integrated area (normalized units x eV) and its error.
    height : ndarray, shape (...)
        Maximum of the baseline-subtracted signal in ``peak_range``.
    baseline : ndarray, shape (..., n)
        Baseline (NaN outside ``fit_range``), built on first access.
    fit_range, peak_range : tuple of float
    baseline_form : str
        Form of the baseline (``"linear"``, ``"lorentzian"``, ...).
    baseline_part : ndarray, shape (..., m)
        Baseline on the columns ``columns`` of the input.
    columns : slice
    """

    centroid: np.ndarray
    centroid_err: np.ndarray
    area: np.ndarray
    area_err: np.ndarray
    height: np.ndarray
    fit_range: tuple[float, float]
    peak_range: tuple[float, float]
    baseline_form: str
    baseline_part: np.ndarray = field(repr=False)
    columns: slice = field(repr=False)
    n_points: int = field(repr=False)

    @cached_property
    def baseline(self) -> np.ndarray:
        """Baseline on the input's energy axis (NaN outside ``fit_range``)."""
        return _embed(self.baseline_part, self.columns, self.n_points)


def _tail(e, edge, width, form):
    z = (e - edge) / width
    if form == "lorentzian":
        return 1.0 / (1.0 + z * z)
    if form == "arctan":
        return 0.5 + np.arctan(z) / np.pi
    if form == "erf":
        return 0.5 * (1.0 + erf(z / np.sqrt(2.0)))
    raise FitError(
        f"unknown baseline form {form!r}; use 'linear', 'lorentzian', 'arctan' or 'erf'"
    )


def preedge_centroid_arrays(
    energy: np.ndarray,
    norm: np.ndarray,
    *,
    fit_range: tuple[float, float] = FIT_RANGE,
    peak_range: tuple[float, float] = PEAK_RANGE,
    baseline: str = "linear",
    edge: np.ndarray | float | None = None,
    tail_width: float = TAIL_WIDTH,
    sigma: np.ndarray | float | None = None,
) -> PreedgeCentroid:
    """Model-free centroid of the baseline-subtracted pre-edge, all spectra at once.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    norm : ndarray, shape (..., n)
        Normalized spectra.
    fit_range, peak_range : (float, float), keyword-only
        Baseline fit range and peak range, eV.
    baseline : {"linear", "lorentzian", "arctan", "erf"}, keyword-only
        Baseline form (see the module docstring).
    edge : float or ndarray, optional
        Edge energy of the tail forms, eV (required unless ``baseline="linear"``).
    tail_width : float, keyword-only
        Width of the tail, eV.
    sigma : float or ndarray, optional
        Noise standard deviation of ``norm``; estimated when None.

    Returns
    -------
    PreedgeCentroid

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8320.0, 8345.0, 0.25)
    >>> norm = 0.01 + 0.001 * (e - 8320) + 0.05 * np.exp(-0.5 * ((e - 8333.2) / 0.8) ** 2)
    >>> r = preedge_centroid_arrays(e, norm)
    >>> round(float(r.centroid), 2), round(float(r.area), 3)
    (8333.2, 0.1)
    """
    lo, hi = fit_range
    plo, phi = peak_range
    energy = np.asarray(energy, dtype=float)
    if sigma is None:
        xa, ya, finite = _arrays.prepare(energy, norm)
        sigma = _arrays.noise_sigma(xa, ya, finite=finite)
    full = np.asarray(norm).shape[-1]
    cols = slice(None)
    if energy.ndim == 1:
        idx = np.flatnonzero((energy >= lo) & (energy <= hi))
        if idx.size:
            cols = slice(idx[0], idx[-1] + 1)
            energy = energy[cols]
            norm = np.asarray(norm)[..., cols]
    x, y = _arrays.as_rows(energy, norm)
    inside = np.isfinite(y) & (x >= lo) & (x <= hi)
    peak = inside & (x >= plo) & (x <= phi)
    w = (inside & ~peak).astype(float)
    xc = np.where(inside, x, 0.0)
    u = (xc - 0.5 * (lo + hi)) / max(hi - lo, 1e-9)
    if baseline == "linear":
        basis = [np.ones_like(u), u]
    else:
        if edge is None:
            raise FitError(f"baseline form {baseline!r} needs the edge energy (edge=...)")
        edge_arr = np.asarray(edge, dtype=float)[..., None]
        basis = [
            np.ones_like(u),
            np.where(inside, _tail(xc, edge_arr, tail_width, baseline), 0.0),
        ]
    basis = np.broadcast_arrays(*basis, y)[:-1]
    a = np.stack(
        [np.stack([np.sum(w * bi * bj, -1) for bj in basis], -1) for bi in basis], -2
    )
    t = np.stack([np.sum(w * bi * np.where(inside, y, 0.0), -1) for bi in basis], -1)
    ok = np.sum(w > 0, -1) >= len(basis) + 1
    a = np.where(ok[..., None, None], a, np.eye(len(basis)))
    coef = np.linalg.solve(a, t[..., None])[..., 0]
    base = sum(coef[..., k, None] * basis[k] for k in range(len(basis)))
    pcols = np.flatnonzero((energy >= max(lo, plo)) & (energy <= min(hi, phi)))
    if (
        energy.ndim == 1
        and pcols.size
        and pcols[-1] - pcols[0] + 1 == pcols.size
        and _arrays.all_finite(y)
    ):  # one grid, no missing point: the peak is a block of columns
        part = slice(pcols[0], pcols[-1] + 1)
        xs, rs = x[..., part], y[..., part] - base[..., part]
    else:
        r = np.where(peak, y - base, np.nan)
        xs, rs, _ = _arrays.compact(np.where(peak, x, np.nan), r)
    dx = np.diff(xs, axis=-1)
    mid_r = 0.5 * (rs[..., 1:] + rs[..., :-1])
    mid_x = 0.5 * (xs[..., 1:] + xs[..., :-1])
    good = np.isfinite(dx) & np.isfinite(mid_r)
    dx = np.where(good, dx, 0.0)
    area = np.sum(np.where(good, mid_r, 0.0) * dx, -1)
    with np.errstate(all="ignore"):
        centroid = np.sum(np.where(good, mid_r * mid_x, 0.0) * dx, -1) / area
        sigma = np.asarray(sigma, dtype=float)
        # trapezoid weights per point: (dx_left + dx_right) / 2
        wpt = 0.5 * (
            np.concatenate([dx, np.zeros(dx.shape[:-1] + (1,))], -1)
            + np.concatenate([np.zeros(dx.shape[:-1] + (1,)), dx], -1)
        )
        area_err = sigma * np.sqrt(np.sum(wpt**2, -1))
        centroid_err = sigma * np.sqrt(
            np.nansum(((xs - centroid[..., None]) * wpt / area[..., None]) ** 2, -1)
        )
        height = np.nanmax(np.where(np.isfinite(rs), rs, -np.inf), -1)
    fail = ~ok | (np.sum(good, -1) < 2)
    nan = np.nan
    return PreedgeCentroid(
        centroid=np.where(fail, nan, centroid),
        centroid_err=np.where(fail, nan, centroid_err),
        area=np.where(fail, nan, area),
        area_err=np.where(fail, nan, area_err),
        height=np.where(fail | ~np.isfinite(height), nan, height),
        fit_range=(float(lo), float(hi)),
        peak_range=(float(plo), float(phi)),
        baseline_form=baseline,
        baseline_part=np.where(inside, base, np.nan),
        columns=cols,
        n_points=full,
    )


def _embed(part: np.ndarray, cols: slice, full: int) -> np.ndarray:
    """Put columns ``cols`` of a full-width NaN array."""
    if cols == slice(None):
        return part
    out = np.full(part.shape[:-1] + (full,), np.nan)
    out[..., cols] = part
    return out


@dataclass(frozen=True)
class PreedgeFit:
    """lmfit pre-edge fits of many spectra.

    Attributes
    ----------
    centroid, centroid_err, area, area_err, height, height_err : ndarray, shape (...)
        Peak centroid (eV), area (normalized units x eV) and height, with
        1-sigma uncertainties from the fit covariance.
    redchi : ndarray, shape (...)
        Reduced chi-square of each fit (NaN where the fit failed).
    ok : ndarray of bool, shape (...)
        True where the fit converged with a covariance matrix.
    model : str
        Description of the model (baseline + peaks).
    fit_range : tuple of float
    """

    centroid: np.ndarray
    centroid_err: np.ndarray
    area: np.ndarray
    area_err: np.ndarray
    height: np.ndarray
    height_err: np.ndarray
    redchi: np.ndarray
    ok: np.ndarray
    model: str
    fit_range: tuple[float, float]


def _build_model(baseline: str, peak: str, npeaks: int):
    from lmfit import models

    peak_cls = {
        "gaussian": models.GaussianModel,
        "pseudovoigt": models.PseudoVoigtModel,
    }
    if peak not in peak_cls:
        raise FitError(f"unknown peak model {peak!r}; use 'gaussian' or 'pseudovoigt'")
    if npeaks not in (1, 2):
        raise FitError(f"npeaks must be 1 or 2, not {npeaks}")
    if baseline == "linear":
        model = models.LinearModel(prefix="b_")
    elif baseline in ("arctan", "erf"):
        model = models.ConstantModel(prefix="b_") + models.StepModel(
            form=baseline, prefix="s_"
        )
    elif baseline == "lorentzian":
        model = models.LinearModel(prefix="b_") + models.LorentzianModel(prefix="s_")
    else:
        raise FitError(
            f"unknown baseline {baseline!r}; use 'linear', 'arctan', 'erf' or 'lorentzian'"
        )
    for k in range(npeaks):
        model = model + peak_cls[peak](prefix=f"p{k}_")
    return model


#: Minimizers tried in turn until one converges with a covariance. Trust-region
#: reflective handles bounds as bounds, so a parameter whose optimum lies on
#: one (a pseudo-Voigt fraction of 0) converges there instead of crawling
#: towards it through leastsq's bound transform; leastsq from the same start
#: converges on the few spectra where it does not (a step centre far beyond
#: the fit range, on simulated spectra).
_METHODS = ("least_squares", "leastsq")


def _fit_one(model, e, y, baseline, npeaks, peak_range, guess):
    """Fit one spectrum, in energies relative to its first point (conditioning)."""
    from lmfit import minimize

    origin = float(e[0])
    e = e - origin
    params = _start(model, e, y, baseline, npeaks, (peak_range[0] - origin, peak_range[1] - origin), guess - origin)
    evaluate = _evaluator(model)
    gradient = _gradient(model)

    def residual(params, x, data):
        return data - sum(evaluate(params.valuesdict(), x).values())

    def jacobian(params, x, data):
        grads = gradient(params.valuesdict(), x)
        return -np.stack([grads[name] for name, p in params.items() if p.vary], axis=-1)

    fits = []
    for method in _METHODS:
        fits.append(minimize(residual, params, args=(e, y), nan_policy="omit", max_nfev=2000, method=method,
                             Dfun=jacobian))
        if fits[-1].success and fits[-1].covar is not None:
            return fits[-1], origin
    return fits[0], origin


def _start(model, e, y, baseline, npeaks, peak_range, guess):
    """Starting values and bounds of the fit of ``y`` on energies ``e`` (all relative to the origin)."""
    plo, phi = peak_range
    params = model.make_params()
    for name in _derived(model):  # lmfit would evaluate them at every step; nothing here uses them
        del params[name]
    if baseline == "linear":
        params["b_slope"].set(value=0.0)
        params["b_intercept"].set(value=float(y[0]))
    elif baseline in ("arctan", "erf"):
        params["b_c"].set(value=float(y[0]))
        params["s_amplitude"].set(value=1.0, min=0.3, max=3.0)
        params["s_center"].set(
            value=float(e[-1]) + 2.0, min=phi, max=float(e[-1]) + 15.0
        )
        params["s_sigma"].set(value=2.0, min=0.3, max=10.0)
    else:
        params["b_slope"].set(value=0.0)
        params["b_intercept"].set(value=0.0)
        params["s_amplitude"].set(value=5.0, min=0.0)
        params["s_center"].set(
            value=float(e[-1]) + 5.0, min=phi, max=float(e[-1]) + 20.0
        )
        params["s_sigma"].set(value=3.0, min=0.5, max=20.0)
    cen = guess if np.isfinite(guess) else 0.5 * (plo + phi)
    span = phi - plo
    for k in range(npeaks):
        c = cen if npeaks == 1 else cen + (k - 0.5) * min(2.0, span / 3)
        params[f"p{k}_center"].set(value=c, min=plo, max=phi)
        params[f"p{k}_sigma"].set(value=0.8, min=0.2, max=span / 2)
        params[f"p{k}_amplitude"].set(value=0.05 / npeaks, min=0.0)
    return params


def _evaluator(model):
    """``evaluate(values, x)``: each component of ``model`` by prefix, from a dict of parameter values.

    The components' lmfit functions with their arguments looked up once: a
    ``Model.fit`` spends more time matching parameters to arguments at every
    step than evaluating them. Summed in order, the components give what the
    composite model gives, to the last bit (so do the fits).
    """
    parts = []
    for comp in model.components:
        names = [a for a in inspect.signature(comp.func).parameters
                 if a not in comp.independent_vars and a not in comp.opts]
        parts.append((comp.prefix, comp.func, [(a, comp.prefix + a) for a in names], dict(comp.opts)))

    def evaluate(values, x):
        return {prefix: func(x, **{a: values[n] for a, n in args}, **opts) for prefix, func, args, opts in parts}

    return evaluate


def _gradient(model):
    """``gradient(values, x)``: the derivative of ``model`` with respect to each parameter, by name.

    Analytic derivatives of lmfit's constant, linear, step (arctan, erf),
    Gaussian, Lorentzian and pseudo-Voigt lineshapes, for parameters inside
    the bounds the fit sets (every width positive).
    """
    parts = [(comp.prefix, comp.func.__name__, dict(comp.opts)) for comp in model.components]

    def gradient(values, x):
        out = {}
        for prefix, name, opts in parts:
            v = {k[len(prefix):]: val for k, val in values.items() if k.startswith(prefix)}
            out.update({prefix + k: g for k, g in _lineshape_gradient(name, x, v, opts).items()})
        return out

    return gradient


def _lineshape_gradient(name: str, x: np.ndarray, v: dict, opts: dict) -> dict[str, np.ndarray]:
    if name == "constant":
        return {"c": np.ones(x.shape)}
    if name == "linear":
        return {"slope": x, "intercept": np.ones(x.shape)}
    a, c, s = v["amplitude"], v["center"], v["sigma"]
    u = (x - c) / s
    if name == "step":
        if opts["form"] == "erf":
            shape, slope = 0.5 * (1.0 + erf(u)), np.exp(-u * u) / np.sqrt(np.pi)
        else:
            shape, slope = 0.5 + np.arctan(u) / np.pi, 1.0 / (np.pi * (1.0 + u * u))
        return {"amplitude": shape, "center": -a * slope / s, "sigma": -a * slope * u / s}
    if name in ("gaussian", "lorentzian"):
        return _peak_gradient(name, x, a, c, s)[0]
    f, to_gauss = v["fraction"], 1.0 / np.sqrt(2.0 * np.log(2.0))
    g, g_value = _peak_gradient("gaussian", x, a, c, s * to_gauss)
    lo, l_value = _peak_gradient("lorentzian", x, a, c, s)
    return {
        "amplitude": (1.0 - f) * g["amplitude"] + f * lo["amplitude"],
        "center": (1.0 - f) * g["center"] + f * lo["center"],
        "sigma": (1.0 - f) * g["sigma"] * to_gauss + f * lo["sigma"],
        "fraction": l_value - g_value,
    }


def _peak_gradient(name, x, a, c, s):
    """Derivatives of a Gaussian or Lorentzian of area ``a``, centre ``c`` and width ``s``; and its values."""
    u = (x - c) / s
    if name == "gaussian":
        shape = np.exp(-0.5 * u * u) / (np.sqrt(2.0 * np.pi) * s)
        value = a * shape
        return {"amplitude": shape, "center": value * u / s, "sigma": value * (u * u - 1.0) / s}, value
    shape = 1.0 / (np.pi * s * (1.0 + u * u))
    value = a * shape
    along = -2.0 * u / (1.0 + u * u) * value
    return {"amplitude": shape, "center": -along / s, "sigma": -(value + along * u) / s}, value


def _derived(model) -> list[str]:
    """The parameters a model derives from the others for display (``fwhm``, ``height``)."""
    return [c.prefix + name for c in model.components for name, hint in c.param_hints.items() if "expr" in hint]


def _height_err(result, model) -> float:
    """Uncertainty of the height of peak ``p0_`` from the fit covariance (delta method).

    The height is the peak's value at its centre, so its gradient is that
    of the lineshape there.
    """
    [peak] = [c for c in model.components if c.prefix == "p0_"]
    values = {k[3:]: v for k, v in result.params.valuesdict().items() if k.startswith("p0_")}
    grads = _lineshape_gradient(peak.func.__name__, np.array([values["center"]]), values, peak.opts)
    free = list(result.var_names)
    idx = [(free.index(f"p0_{n}"), float(g[0])) for n, g in grads.items() if f"p0_{n}" in free]
    return float(np.sqrt(sum(ga * gb * result.covar[i, j] for i, ga in idx for j, gb in idx)))


def _centroid_stats(result, npeaks):
    names = [f"p{k}_{n}" for k in range(npeaks) for n in ("amplitude", "center")]
    vals = np.array([result.params[n].value for n in names])
    cov = np.zeros((len(names), len(names)))
    if result.covar is not None:
        free = list(result.var_names)
        idx = [free.index(n) if n in free else None for n in names]
        for i, a in enumerate(idx):
            for j, b in enumerate(idx):
                if a is not None and b is not None:
                    cov[i, j] = result.covar[a, b]
    amps, cens = vals[0::2], vals[1::2]
    area = amps.sum()
    centroid = float(np.dot(amps, cens) / area)
    grad_c = np.zeros(len(names))
    grad_a = np.zeros(len(names))
    grad_c[0::2] = (cens - centroid) / area
    grad_c[1::2] = amps / area
    grad_a[0::2] = 1.0
    ok = result.covar is not None
    c_err = float(np.sqrt(grad_c @ cov @ grad_c)) if ok else np.nan
    a_err = float(np.sqrt(grad_a @ cov @ grad_a)) if ok else np.nan
    return centroid, c_err, float(area), a_err


def preedge_fit_arrays(
    energy: np.ndarray,
    norm: np.ndarray,
    *,
    fit_range: tuple[float, float] = FIT_RANGE,
    peak_range: tuple[float, float] = PEAK_RANGE,
    baseline: str = "arctan",
    peak: str = "pseudovoigt",
    npeaks: int = 1,
) -> PreedgeFit:
    """Fit baseline + one or two peaks to the pre-edge of each spectrum (lmfit).

    The fits are independent, one per spectrum (a loop over spectra).

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    norm : ndarray, shape (..., n)
        Normalized spectra.
    fit_range, peak_range : (float, float), keyword-only
        Fit range and the range allowed for the peak centres, eV.
    baseline : {"arctan", "erf", "lorentzian", "linear"}, keyword-only
        Baseline model (the tail of the edge).
    peak : {"pseudovoigt", "gaussian"}, keyword-only
        Peak shape.
    npeaks : {1, 2}, keyword-only
        Number of peaks.

    Returns
    -------
    PreedgeFit

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8320.0, 8340.0, 0.25)
    >>> norm = 0.01 + 0.002 * (e - 8320) + 0.05 * np.exp(-0.5 * ((e - 8333.2) / 0.8) ** 2)
    >>> r = preedge_fit_arrays(e, norm, baseline="linear", peak="gaussian")
    >>> round(float(r.centroid), 3)
    8333.2
    """
    x, y = _arrays.as_rows(energy, norm)
    lead = y.shape[:-1]
    xf = x.reshape(-1, x.shape[-1])
    yf = y.reshape(-1, y.shape[-1])
    out = np.full((6, xf.shape[0]), np.nan)
    redchi = np.full(xf.shape[0], np.nan)
    model = _build_model(baseline, peak, npeaks)
    guess = preedge_centroid_arrays(
        xf, yf, fit_range=fit_range, peak_range=peak_range
    ).centroid
    ok = np.zeros(xf.shape[0], dtype=bool)
    for i in range(xf.shape[0]):
        m = np.isfinite(yf[i]) & (xf[i] >= fit_range[0]) & (xf[i] <= fit_range[1])
        if m.sum() < len(model.param_names) + 2:
            continue
        try:
            res, origin = _fit_one(
                model, xf[i][m], yf[i][m], baseline, npeaks, peak_range, guess[i]
            )
        except (ValueError, TypeError, RuntimeError):
            continue
        c, ce, a, ae = _centroid_stats(res, npeaks)
        c += origin
        comps = _evaluator(model)(res.params.valuesdict(), xf[i][m] - origin)
        psum = sum(comps[f"p{k}_"] for k in range(npeaks))
        height = float(np.max(psum))
        h_err = np.nan
        if res.covar is not None and npeaks == 1:
            h_err = _height_err(res, model)
        if not res.success:  # stopped before converging: no error bars to trust
            ce = ae = h_err = np.nan
        out[:, i] = (c, ce, a, ae, height, h_err)
        redchi[i] = res.redchi
        ok[i] = res.covar is not None and res.success
    centroid, centroid_err, area, area_err, height, height_err = out.reshape((6,) + lead)
    return PreedgeFit(
        centroid=centroid,
        centroid_err=centroid_err,
        area=area,
        area_err=area_err,
        height=height,
        height_err=height_err,
        redchi=redchi.reshape(lead),
        ok=ok.reshape(lead),
        model=f"{baseline} baseline + {npeaks} {peak}",
        fit_range=(float(fit_range[0]), float(fit_range[1])),
    )


def preedge(
    ds: xr.Dataset,
    options: XanesOptions | None = None,
    /,
    *,
    variable: str = "norm",
    **changes: Any,
) -> xr.Dataset:
    """Pre-edge centroid, area and height of every scan (fit and model-free).

    Parameters
    ----------
    ds : xarray.Dataset
        Dataset with normalized spectra ``norm(scan, energy)`` (e.g. from
        :func:`spectro.xanes.normalize`).
    options : XanesOptions, optional
        Its pre-edge options are used (``fit_range``, ``peak_range``,
        ``baseline``, ``peak``, ``npeaks``); the model-free centroid has a
        linear baseline.
    variable : str, keyword-only
        Normalized variable to use.
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``preedge_centroid``, ``preedge_centroid_err``, ``preedge_area``,
        ``preedge_area_err``, ``preedge_height`` (fit) and
        ``preedge_centroid_free``, ``preedge_centroid_free_err``,
        ``preedge_area_free`` (model-free). Scans whose fit failed get a
        :class:`~spectro.errors.FitWarning` naming them.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> r = spectro.xanes.preedge(spectro.xanes.normalize(ds))
    >>> abs(float(r.preedge_centroid[0] - ds.true_preedge_centroid[0])) < 0.05
    True
    """
    opts = options_of(XanesOptions, options, changes)
    windows = {"fit_range": opts.fit_range, "peak_range": opts.peak_range}

    def kernel(norm, *, energy):
        f = preedge_fit_arrays(energy, norm, baseline=opts.baseline, peak=opts.peak, npeaks=opts.npeaks, **windows)
        c = preedge_centroid_arrays(energy, norm, **windows)
        return (f.centroid, f.centroid_err, f.area, f.area_err, f.height, f.ok,
                c.centroid, c.centroid_err, c.area, c.area_err)

    out = _apply.run(
        kernel,
        _apply.signal(ds, variable),
        outputs={
            "preedge_centroid": ([], "eV", "pre-edge centroid (fit)"),
            "preedge_centroid_err": ([], "eV", "pre-edge centroid uncertainty (1 sigma)"),
            "preedge_area": ([], "eV", "pre-edge peak area (normalized units x eV)"),
            "preedge_area_err": ([], "eV", "pre-edge area uncertainty (1 sigma)"),
            "preedge_height": ([], "1", "pre-edge peak height (normalized)"),
            "_ok": ([], "1", "fit converged"),
            "preedge_centroid_free": ([], "eV", "pre-edge centroid (model-free)"),
            "preedge_centroid_free_err": ([], "eV", "model-free centroid uncertainty (1 sigma)"),
            "preedge_area_free": ([], "eV", "pre-edge area (model-free)"),
            "preedge_area_free_err": ([], "eV", "model-free area uncertainty (1 sigma)"),
        },
    )
    fit_attrs = {
        "method": "least-squares fit (lmfit)",
        "model": f"{opts.baseline} baseline + {opts.npeaks} {opts.peak}",
        "fit_range_ev": list(opts.fit_range),
        "peak_range_ev": list(opts.peak_range),
    }
    free_attrs = {
        "method": "model-free centroid",
        "baseline": "linear",
        "fit_range_ev": list(opts.fit_range),
        "peak_range_ev": list(opts.peak_range),
    }
    for name, v in out.data_vars.items():
        v.attrs.update(free_attrs if "free" in name else fit_attrs)
    if not _apply.is_lazy(out):
        bad = [str(s) for s, ok in zip(ds["scan"].values, out["_ok"].values) if not ok]
        if bad:
            warnings.warn(FitWarning(f"scans {', '.join(repr(b) for b in bad)}: pre-edge fit failed or gave "
                                     "no covariance"), stacklevel=2)
    return out.drop_vars("_ok").assign_coords(_apply.scan_coords(ds))
