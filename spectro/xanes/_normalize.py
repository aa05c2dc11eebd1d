"""Pre-edge subtraction and normalization of XANES spectra (batched).

The conventions are those of xraylarch's ``pre_edge`` (Newville, J.
Synchrotron Rad. 20, 2013; Athena: Ravel & Newville, J. Synchrotron Rad. 12,
537 (2005)):

* ``E0`` anchors the windows. By default it is the maximum of the smoothed
  first derivative of ``mu`` (:func:`spectro.xanes.edge.e0_derivative_arrays`),
  as larch's ``find_e0``. It is NOT the reported edge position (the 0.8
  crossing, which lies a few eV higher on the rising edge); the two are
  recorded separately.
* pre-edge line: ``mu * E**nvict`` is fitted by a straight line (``npre=1``)
  or a constant (``npre=0``) over ``[E0 + pre1, E0 + pre2]`` and the line is
  divided by ``E**nvict`` (``nvict=0``: a straight line; ``nvict=3``: the
  Victoreen form ``(a + b E) / E**3``).
* post-edge: a polynomial of order ``nnorm`` (0 to 3) is fitted to
  ``mu - pre_edge`` over ``[E0 + norm1, E0 + norm2]``.
* the edge step is that polynomial at ``E0``; ``norm = (mu - pre_edge) /
  edge_step``; ``flat`` subtracts the post-edge curvature above ``E0``
  (``flat = norm - (post - pre) / step + 1`` for ``E >= E0``).

Windows are in eV relative to ``E0`` (``pre1 < pre2 < 0 < norm1 < norm2``,
a negative ``norm2`` meaning "this far below the end of the data" as in
larch). As in larch, a window runs from the last point at or below its
start up to, but excluding, the point nearest its end. A window that reaches beyond the data is clipped to the data; the
windows actually used are returned per spectrum. A window with fewer points
than its fit needs gives NaN for that spectrum (``ok`` False); the Dataset
functions warn, naming the scans.

All spectra are fitted at once: normal equations of the stacked systems,
inverted with ``numpy.linalg.inv``. On one shared grid without missing
points each window is an index range per spectrum: the sums are matrix
products of the spectra with powers of the energy, and those of the
pre-edge line over the post-edge window come from its coefficients.
Otherwise 0/1 weights mark the windows and the missing points (NaN). The
edge-step uncertainty is propagated from the fit covariances with the noise
estimated from the high-frequency residual. ``flat``, ``pre_edge`` and
``post_edge`` are built from the coefficients when first used.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any
from functools import cached_property

import numpy as np
import xarray as xr

from ..errors import DataError, MissingRegionWarning
from ..options import XanesOptions, options_of
from .. import _apply
from . import _arrays
from ._derivative import DERIVATIVE_WINDOW
from .edge import derivative_max_prepared

__all__ = ["DEFAULT_WINDOWS", "Normalization", "normalize", "normalize_arrays"]

#: Default windows relative to E0, eV, and post-edge order (None = by span).
DEFAULT_WINDOWS = {k: getattr(XanesOptions(), k) for k in ("pre1", "pre2", "norm1", "norm2")}
_SCALE = 100.0  # eV: energies are fitted as (E - mean E0) / 100 eV for conditioning


@dataclass(frozen=True)
class Normalization:
    """Normalized spectra and everything used to make them.

    Attributes
    ----------
    norm, flat, pre_edge, post_edge : ndarray, shape (..., n)
        Normalized and flattened spectra, pre-edge line and post-edge curve
        (in units of the input). ``flat``, ``pre_edge`` and ``post_edge``
        are computed from the fitted coefficients on first access.
    ok : ndarray of bool, shape (...)
        False where a window had fewer points than its fit needs (then
        ``norm`` and ``edge_step`` are NaN).
    edge_step, edge_step_err : ndarray, shape (...)
        Edge jump at E0 and its 1-sigma uncertainty (input units).
    level_err : ndarray, shape (...)
        Uncertainty of a level of the normalized jump near E0 (normalized
        units): ``sqrt(var(pre) + L**2 var(step)) / step`` evaluated for
        L = 0.8.
    sigma : ndarray, shape (...)
        Noise standard deviation of ``norm`` (normalized units).
    e0, e0_err : ndarray, shape (...)
        E0 that anchored the windows, eV, and its 1-sigma uncertainty when
        found here (the maximum of the smoothed derivative of ``mu``; NaN
        when given).
    pre1, pre2, norm1, norm2 : ndarray, shape (...)
        Windows actually used, eV relative to ``e0`` (after clipping).
    nnorm : ndarray of int, shape (...)
        Post-edge order used for each spectrum.
    nvict, npre : float, int
        Energy exponent and pre-edge order used.
    pre_coef, post_coef : ndarray, shape (..., npre + 1) and (..., max(nnorm) + 1)
        Coefficients of the pre-edge line (of ``mu * E**nvict``) and of the
        post-edge polynomial, in powers of ``(E - origin) / 100 eV``.
    origin : float or ndarray, shape (...)
        Energy origin of the polynomials, eV: the middle of the shared grid,
        or of each spectrum's own energies.
    energy : ndarray, shape (n,) or (..., n)
        Energies of the points, eV (NaN = no point).
    """

    norm: np.ndarray
    ok: np.ndarray
    edge_step: np.ndarray
    edge_step_err: np.ndarray
    level_err: np.ndarray
    sigma: np.ndarray
    e0: np.ndarray
    e0_err: np.ndarray
    pre1: np.ndarray
    pre2: np.ndarray
    norm1: np.ndarray
    norm2: np.ndarray
    nnorm: np.ndarray
    nvict: float
    npre: int
    pre_coef: np.ndarray = field(repr=False)
    post_coef: np.ndarray = field(repr=False)
    origin: float | np.ndarray = field(repr=False)
    energy: np.ndarray = field(repr=False)

    @cached_property
    def _u(self) -> np.ndarray:
        return (self.energy - _column(self.origin)) / _SCALE

    @cached_property
    def pre_edge(self) -> np.ndarray:
        """Pre-edge line, input units (NaN where there is no point)."""
        line = _polyval(self.pre_coef, self._u)
        if self.nvict:
            with _arrays.quiet():
                line = line / self.energy**self.nvict
        return line

    @cached_property
    def post_edge(self) -> np.ndarray:
        """Pre-edge line plus post-edge polynomial, input units."""
        return self.pre_edge + _polyval(self.post_coef, self._u)

    @cached_property
    def flat(self) -> np.ndarray:
        """``norm`` with the post-edge curvature removed above E0."""
        with _arrays.quiet(), _arrays.row_broadcast():
            curve = _polyval(self.post_coef, self._u) / self.edge_step[..., None]
            above = self.energy >= self.e0[..., None]
        return np.where(above, self.norm - curve + 1.0, self.norm)


def _column(origin: float | np.ndarray) -> float | np.ndarray:
    """A per-spectrum origin as a column against (..., n) energies; a scalar as it is."""
    return origin[..., None] if np.ndim(origin) else origin


def _solve(s, t, count, order, row_order=None):
    """Normal equations from power sums ``s`` (..., 2 order + 1) and ``t`` (..., order + 1).

    Returns (coef, inverse normal matrix, ok); ``ok`` needs more than
    ``order`` points (``count``). ``row_order`` (..., ints <= ``order``)
    fits each row with its own order: the higher coefficients and their
    rows and columns of the inverse are zero.
    """
    idx = np.arange(order + 1)
    a = s[..., idx[:, None] + idx[None, :]]
    if row_order is None:
        enough = count > order
    else:
        enough = count > row_order
        free = idx <= row_order[..., None]
        both = free[..., :, None] & free[..., None, :]
        a = np.where(both, a, np.eye(order + 1))
        t = np.where(free, t, 0.0)
    a = np.where(enough[..., None, None], a, np.eye(order + 1))
    inv = np.linalg.inv(a)
    if row_order is not None:
        inv = np.where(both, inv, 0.0)
    coef = np.einsum("...ij,...j->...i", inv, t)
    coef = np.where(enough[..., None], coef, np.nan)
    return coef, inv, enough


def _polyfit(u, y, w, order, row_order=None):
    """Weighted polynomial fits along the last axis; returns (coef, inverse normal matrix, ok).

    ``u`` is 1-D (shared by all rows: the sums are matrix products) or has
    the shape of ``y``; ``row_order`` as in :func:`_solve`.
    """
    powers = np.arange(2 * order + 1)
    wy = w * y if np.isfinite(y).all() else np.where(w > 0, y, 0.0)
    if u.ndim == 1:
        up = u[:, None] ** powers
        s = _arrays.rows_dot(w, up)
        t = _arrays.rows_dot(wy, up[:, : order + 1])
    else:
        u = np.where(w > 0, u, 0.0)
        wu = w  # w * u**k, one power at a time
        s, t = [], []
        for k in powers:
            s.append(np.sum(wu, axis=-1))
            if k <= order:
                t.append(np.einsum("...n,...n->...", wu, wy))
            wu = wu * u
        s, t = np.stack(s, -1), np.stack(t, -1)
    return _solve(s, t, np.sum(w > 0, axis=-1), order, row_order)


def _at(coef, inv, u0):
    """Polynomial value at ``u0`` (one per row) and its variance per unit noise variance."""
    g = u0[..., None] ** np.arange(coef.shape[-1])
    return np.sum(coef * g, -1), np.einsum("...i,...ij,...j->...", g, inv, g)


def _polyval(coef, u):
    """``sum(coef[..., k] * u**k)`` by Horner's rule, in place (``u`` (n,) or (..., n))."""
    shape = np.broadcast_shapes(coef.shape[:-1] + (1,), np.shape(u))
    top = coef.shape[-1] - 1
    if top == 0:
        return np.broadcast_to(coef, shape).copy()
    with _arrays.row_broadcast():
        out = np.multiply(coef[..., top:], u)
        for k in range(top - 1, 0, -1):
            out += coef[..., k : k + 1]
            out *= u
        out += coef[..., :1]
    return out


def _bounds(grid, e0, lo, hi):
    """Index range [start, end) of a fit window on a shared grid, larch's rule.

    From the last point at or below ``e0 + lo`` (the first point if none) up
    to, but excluding, the point nearest ``e0 + hi`` (binary search).
    """
    n = grid.size
    start = np.clip(np.searchsorted(grid, e0 + lo, side="right") - 1, 0, n - 1)
    right = np.clip(np.searchsorted(grid, e0 + hi), 1, n - 1)
    end = np.where(
        np.abs(grid[right - 1] - (e0 + hi)) <= np.abs(grid[right] - (e0 + hi)),
        right - 1,
        right,
    )
    return start, np.maximum(end, start)


def _window(rel, valid, lo, hi):
    """Points of a fit window (boolean mask), with the rule of :func:`_bounds`."""
    r = np.where(valid, rel, np.nan)
    with _arrays.quiet():
        below = np.where(r <= lo[..., None], r, -np.inf).max(axis=-1)
        first = np.where(valid, r, np.inf).min(axis=-1)
        start = np.where(np.isfinite(below), below, first)
        dist = np.where(valid, np.abs(r - hi[..., None]), np.inf)
        end = np.take_along_axis(r, np.argmin(dist, axis=-1)[..., None], -1)[..., 0]
        return valid & (r >= start[..., None]) & (r < end[..., None])


def _range_sums(y, basis, start, end):
    """``sum(y[r, i] * basis[i], i = start[r] .. end[r] - 1)`` for every row ``r``.

    ``y`` is (rows, n) float, ``basis`` (n, k), ``0 <= start <= end <= n``.
    Every row is summed over the whole grid with zeros outside its range, so
    that its sums never depend on the ranges of the other rows. The zeros
    come from a bit mask: along the flattened rows the ranges are runs of
    all-one 64-bit words between runs of zero words (one ``numpy.repeat`` of
    the run lengths), and ``y AND mask`` keeps ``y`` inside and gives +0.0
    outside, as ``np.where(inside, y, 0.0)`` would, in fewer passes.
    """
    rows, n = y.shape
    offset = n * np.arange(rows)
    changes = np.stack([start + offset, end + offset], -1).reshape(-1)
    lengths = np.diff(changes, prepend=0, append=rows * n)
    words = np.where(np.arange(lengths.size) % 2 == 1, -1, 0).astype(np.int64)
    masked = np.repeat(words, lengths).reshape(rows, n)
    np.bitwise_and(y.view(np.int64), masked, out=masked)
    return _arrays.rows_dot(masked.view(float), basis)


def _cumulative(columns):
    """Prefix sums of columns (n, k) with a leading zero row: sums over [a, b) are C[b] - C[a]."""
    return np.concatenate([np.zeros((1, columns.shape[1])), np.cumsum(columns, 0)])


def _fit_shared(grid, y, e0, used, origin, npre, order, nvict, row_order=None):
    """Pre- and post-edge fits of spectra (..., n) on one grid without missing points.

    Returns the two fits (coef, inverse normal matrix, ok).
    """
    n = grid.size
    lead = y.shape[:-1]
    rows = y.reshape(-1, n)
    e0 = e0.reshape(-1)
    u = (grid - origin) / _SCALE
    ev = grid**nvict if nvict else np.ones(n)
    powers = u[:, None] ** np.arange(2 * max(npre, order) + 1)
    cum = _cumulative(powers)
    cum_ev = _cumulative(powers / ev[:, None]) if nvict else cum
    pre_s, pre_e = _bounds(grid, e0, used["pre1"].reshape(-1), used["pre2"].reshape(-1))
    post_s, post_e = _bounds(
        grid, e0, used["norm1"].reshape(-1), used["norm2"].reshape(-1)
    )
    # pre-edge: mu * E**nvict against powers of u
    s = cum[pre_e, : 2 * npre + 1] - cum[pre_s, : 2 * npre + 1]
    t = _range_sums(rows, powers[:, : npre + 1] * ev[:, None], pre_s, pre_e)
    pre_c, pre_inv, pre_ok = _solve(s, t, pre_e - pre_s, npre)
    # post-edge: mu - pre_edge, the sums of pre_edge from its coefficients
    s = cum[post_e, : 2 * order + 1] - cum[post_s, : 2 * order + 1]
    t = _range_sums(rows, powers[:, : order + 1], post_s, post_e)
    sums_ev = cum_ev[post_e] - cum_ev[post_s]
    for j in range(npre + 1):
        t -= pre_c[:, j : j + 1] * sums_ev[:, j : j + order + 1]
    if row_order is not None:
        row_order = row_order.reshape(-1)
    post_c, post_inv, post_ok = _solve(s, t, post_e - post_s, order, row_order)
    return (
        tuple(a.reshape(lead + a.shape[1:]) for a in (pre_c, pre_inv, pre_ok)),
        tuple(a.reshape(lead + a.shape[1:]) for a in (post_c, post_inv, post_ok)),
    )


def _fit_rows(u_energy, x, y, e0, used, origin, npre, order, nvict, row_order=None):
    """Pre- and post-edge fits with 0/1 window weights (any grid, missing points).

    ``u_energy`` is the 1-D shared grid or ``x``. Returns the two fits
    (coef, inverse normal matrix, ok) and the pre-edge line.
    """
    valid = np.isfinite(y)
    rel = x - e0[..., None]
    wpre = _window(rel, valid, used["pre1"], used["pre2"]).astype(float)
    wpost = _window(rel, valid, used["norm1"], used["norm2"]).astype(float)
    u = (u_energy - origin) / _SCALE
    ev = np.where(valid, x, 1.0) ** nvict if nvict else 1.0
    pre = _polyfit(u, y * ev, wpre, npre)
    pre_edge = _polyval(pre[0], u) / ev
    post = _polyfit(u, y - pre_edge, wpost, order, row_order)
    return pre, post, pre_edge


def _nnorm_default(span: np.ndarray) -> np.ndarray:
    """Post-edge order of each spectrum from its window span (larch's rule)."""
    span = np.where(np.isfinite(span), span, 0.0)
    return np.where(span >= 300, 2, np.where(span >= 30, 1, 0))


def anchored(energy: np.ndarray, mu: np.ndarray, e0: np.ndarray | float | None):
    """The prepared rows of ``mu``, their noise and the E0 that anchors the windows, with its error.

    Returns ``(xs, ys, shared, sigma, e0, e0_err)`` (:func:`spectro.xanes._arrays.prepare`; ``sigma`` the
    noise of a point of ``mu``); ``e0`` is the maximum of the smoothed derivative of ``mu`` unless given
    (then its error is NaN). Raw and already-normalized spectra are anchored alike.
    """
    xs, ys, shared = _arrays.prepare(energy, mu)
    lead = ys.shape[:-1]
    sigma = _arrays.noise_sigma(xs, ys, finite=shared)
    if e0 is None:
        anchor = derivative_max_prepared(xs, ys, shared, window=DERIVATIVE_WINDOW, search=None, first=None,
                                         sigma=sigma)
        e0, e0_err = anchor.e0, anchor.e0_err
    else:
        e0_err = np.full(lead, np.nan)
    return xs, ys, shared, sigma, np.broadcast_to(np.asarray(e0, dtype=float), lead), e0_err


def normalize_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    *,
    e0: np.ndarray | float | None = None,
    pre1: float = DEFAULT_WINDOWS["pre1"],
    pre2: float = DEFAULT_WINDOWS["pre2"],
    norm1: float = DEFAULT_WINDOWS["norm1"],
    norm2: float = DEFAULT_WINDOWS["norm2"],
    nnorm: int | None = None,
    nvict: float = 0.0,
    npre: int = 1,
) -> Normalization:
    """Normalize XANES spectra over the last axis.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    mu : ndarray, shape (..., n)
        Absorption, any scale and offset; NaN = no point.
    e0 : float or ndarray of shape (...), optional
        E0 anchoring the windows, eV. Default: maximum of the smoothed
        derivative of ``mu``.
    pre1, pre2 : float, keyword-only
        Pre-edge window, eV relative to E0 (default -150, -30).
    norm1, norm2 : float, keyword-only
        Post-edge window, eV relative to E0 (default 50, 400; a negative
        ``norm2`` counts back from the end of the data).
    nnorm : int, optional
        Post-edge polynomial order 0-3. Default: 2 if the post-edge window
        spans >= 300 eV, 1 if >= 30 eV, else 0 (larch's rule).
    nvict : float, keyword-only
        Energy exponent of the pre-edge fit (``mu * E**nvict``).
    npre : {0, 1}, keyword-only
        Pre-edge order: constant or line.

    Returns
    -------
    Normalization

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8200.0, 8700.0, 0.5)
    >>> from scipy.special import erf
    >>> mu = 0.2 + 1e-4 * (e - 8200) + 2.5 * 0.5 * (1 + erf((e - 8340) / 2))
    >>> r = normalize_arrays(e, mu)
    >>> round(float(r.edge_step), 2), round(float(r.e0), 1)
    (2.5, 8340.0)
    """
    if not 0 <= (nnorm if nnorm is not None else 0) <= 3:
        raise DataError(f"nnorm must be 0, 1, 2 or 3, not {nnorm}")
    if npre not in (0, 1):
        raise DataError(f"npre must be 0 or 1, not {npre}")
    xs, ys, shared, sigma_mu, e0, e0_err = anchored(energy, mu, e0)
    lead = ys.shape[:-1]
    e_in = np.asarray(energy, dtype=float)
    x, y = (xs, ys) if shared else _arrays.as_rows(energy, mu)
    if shared:
        emin = np.full(lead, e_in.min())
        emax = np.full(lead, e_in.max())
    else:
        with _arrays.quiet():
            emin = np.nanmin(x, axis=-1)
            emax = np.nanmax(x, axis=-1)
    n2 = np.where(norm2 < 0, emax - e0 + norm2, norm2)
    p1, p2 = min(pre1, pre2), max(pre1, pre2)
    used = {
        "pre1": np.maximum(p1, emin - e0),
        "pre2": np.minimum(p2, emax - e0),
        "norm1": np.maximum(norm1, emin - e0),
        "norm2": np.minimum(n2, emax - e0),
    }
    if nnorm is None:
        orders = _nnorm_default(used["norm2"] - used["norm1"])
        order = int(orders.max(initial=0))
        row_order = None if (orders == order).all() else orders
    else:
        order, row_order = int(nnorm), None
        orders = np.full(lead, order)
    # The polynomials' origin comes from each spectrum's own energies, so
    # that no row's numbers depend on the other rows of the call.
    if shared:
        origin: float | np.ndarray = 0.5 * (float(e_in.min()) + float(e_in.max()))
    else:
        origin = np.where(np.isfinite(emin + emax), 0.5 * (emin + emax), 0.0)
    u0 = (e0 - origin) / _SCALE
    on_grid = shared and bool(np.isfinite(e0).all())
    with _arrays.quiet():
        if on_grid:
            pre, post = _fit_shared(e_in, y, e0, used, origin, npre, order, nvict, row_order)
        else:
            pre, post, pre_edge = _fit_rows(
                e_in if shared else x, x, y, e0, used, _column(origin), npre, order, nvict, row_order
            )
        (pre_c, pre_inv, pre_ok), (post_c, post_inv, post_ok) = pre, post
        step, var_post = _at(post_c, post_inv, u0)
        _, var_pre = _at(pre_c, pre_inv, u0)
        e0_pow = np.where(np.isfinite(e0), e0, 1.0) ** nvict
        var_pre0 = sigma_mu**2 * var_pre * e0_pow**-2
        var_step = sigma_mu**2 * var_post + var_pre0
        if on_grid:
            pre_edge = _polyval(pre_c, (e_in - origin) / _SCALE)
            if nvict:
                pre_edge /= e_in**nvict
        with _arrays.row_broadcast():
            norm = np.subtract(y, pre_edge, out=pre_edge if on_grid else None)
            norm /= step[..., None]
    step_abs = np.abs(step)
    return Normalization(
        norm=norm,
        ok=pre_ok & post_ok,
        edge_step=step,
        edge_step_err=np.sqrt(var_step),
        level_err=np.sqrt(var_pre0 + 0.64 * var_step) / step_abs,
        sigma=sigma_mu / step_abs,
        e0=np.asarray(e0, dtype=float),
        e0_err=np.asarray(e0_err, dtype=float),
        pre1=used["pre1"],
        pre2=used["pre2"],
        norm1=used["norm1"],
        norm2=used["norm2"],
        nnorm=orders,
        nvict=float(nvict),
        npre=int(npre),
        pre_coef=pre_c,
        post_coef=post_c,
        origin=origin,
        energy=e_in if shared else x,
    )


def normalize(
    ds: xr.Dataset,
    options: XanesOptions | None = None,
    /,
    *,
    variable: str = "mu",
    **changes: Any,
) -> xr.Dataset:
    """Normalize every scan of a XANES Dataset (see :func:`normalize_arrays`).

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset with ``mu(scan, energy)``.
    options : XanesOptions, optional
        Its normalization options are used (``e0_anchor``, ``pre1`` ...
        ``norm2``, ``nnorm``, ``nvict``, ``npre``).
    variable : str, keyword-only
        Signal to normalize (``mu`` or ``mu_ref``).
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``norm`` and ``flat`` (scan, energy); ``edge_step``,
        ``edge_step_err``, ``e0_anchor``, the windows and the post-edge
        order used per scan. Scans whose windows hold too few points are
        NaN, with a :class:`~spectro.errors.MissingRegionWarning` naming them.

    Examples
    --------
    >>> import spectro
    >>> out = spectro.xanes.normalize(spectro.simulate.xanes(seed=0))
    >>> round(float(out.edge_step[0] / out.edge_step[0]), 1), out.norm.dims
    (1.0, ('scan', 'energy'))
    """
    opts = options_of(XanesOptions, options, changes)

    def kernel(mu, *, energy):
        r = normalize_arrays(
            energy, mu, e0=opts.e0_anchor, pre1=opts.pre1, pre2=opts.pre2, norm1=opts.norm1, norm2=opts.norm2,
            nnorm=opts.nnorm, nvict=opts.nvict, npre=opts.npre,
        )
        return (r.norm, r.flat, r.pre_edge, r.post_edge, r.edge_step, r.edge_step_err, r.e0,
                r.pre1, r.pre2, r.norm1, r.norm2, r.nnorm, r.ok)

    units = ds[variable].attrs.get("units", "1") if variable in ds else "1"
    out = _apply.run(
        kernel,
        _apply.signal(ds, variable),
        outputs={
            "norm": (["energy"], "1", f"normalized {variable}"),
            "flat": (["energy"], "1", f"flattened normalized {variable}"),
            "pre_edge": (["energy"], units, "pre-edge line"),
            "post_edge": (["energy"], units, "post-edge curve"),
            "edge_step": ([], units, "edge step at E0"),
            "edge_step_err": ([], units, "edge step statistical uncertainty (1 sigma)"),
            "e0_anchor": ([], "eV", "E0 anchoring the normalization windows"),
            "pre1": ([], "eV", "pre-edge window start used, relative to E0"),
            "pre2": ([], "eV", "pre-edge window end used, relative to E0"),
            "norm1": ([], "eV", "post-edge window start used, relative to E0"),
            "norm2": ([], "eV", "post-edge window end used, relative to E0"),
            "nnorm": ([], "1", "post-edge polynomial order used"),
            "_ok": ([], "1", "normalized"),
        },
    )
    method = {
        "e0_anchor": "given" if opts.e0_anchor is not None else "derivative maximum",
        "nvict": opts.nvict,
        "npre": opts.npre,
        "requested_windows_ev": [opts.pre1, opts.pre2, opts.norm1, opts.norm2],
        "nnorm": "by post-edge span" if opts.nnorm is None else opts.nnorm,
    }
    for name in ("norm", "flat", "edge_step"):
        out[name].attrs.update(method)
    out["nnorm"] = out["nnorm"].astype(np.int64, keep_attrs=True)
    out = out.assign_coords(_apply.scan_coords(ds))
    if not _apply.is_lazy(out):
        bad = [str(s) for s, ok in zip(out["scan"].values, out["_ok"].values) if not ok]
        if bad:
            warnings.warn(
                MissingRegionWarning(
                    f"scans {', '.join(repr(b) for b in bad)}: too few points in the pre-edge or post-edge "
                    "window: normalization is NaN"
                ),
                stacklevel=2,
            )
    return out.drop_vars("_ok")
