"""Edge position: crossing of a level of the normalized jump, derivative maximum.

Level crossing (default, level 0.8)
    The edge energy is the point on the rising edge where the normalized
    absorption first reaches ``level`` (0.8 of the jump in the La3Ni2O7
    study). The crossing is *located* on a lightly smoothed copy (local
    quadratic over ``smooth`` eV): the first point from which the smoothed
    spectrum stays at or above ``level`` for ``persist`` eV. A noise spike
    or glitch below the edge does not persist, and later recrossings of the
    level by post-edge oscillations come after the first persistent one, so
    the crossing found is the one on the rising edge, below the white-line
    maximum. The energy is then *interpolated on the data*: linearly between
    the two measured points that straddle ``level`` nearest the located
    crossing.

    Uncertainty (1 sigma): with ``E0 = E_i + t h``, ``t = (L - y_i) /
    (y_{i+1} - y_i)``, white noise sigma on each normalized point gives
    ``sigma_E**2 = sigma**2 h**2 [(1 - t)**2 + t**2] / (y_{i+1} - y_i)**2``
    (``sigma / slope`` for a crossing on a grid point). ``sigma`` is
    estimated from the high-frequency residual of the spectrum
    (:func:`spectro.xanes._arrays.noise_sigma`). Added in quadrature: the
    uncertainty of the level itself (from the normalization, ``level_err``)
    divided by the slope, and the linear-interpolation error
    ``|y''| t (1 - t) h**2 / 2 / slope`` with ``y''`` from the smoothed copy.

Derivative maximum
    The maximum of the smoothed first derivative (local quadratic over
    ``window`` eV, :func:`spectro.xanes.derivative_arrays`), refined below the grid
    step by the vertex of the parabola through the maximum and its two
    neighbours (optionally the first local maximum above a fraction of
    the largest, for foils). The first and last 2 % of the points are ignored (as larch's
    ``find_e0`` does, against end glitches). Uncertainty: the noise of the
    smoothed derivative propagated through the vertex formula (neighbouring
    derivative values treated as independent).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..options import XanesOptions
from . import _arrays
from ._derivative import DERIVATIVE_WINDOW

__all__ = ["E0_LEVEL", "EdgePosition", "e0_crossing_arrays", "e0_crossings", "e0_derivative_arrays"]

#: Default level of the normalized jump that defines E0.
E0_LEVEL: float = XanesOptions().level
#: Default smoothing window used to locate the crossing, eV.
CROSSING_SMOOTH: float = 1.0
#: Default distance the smoothed spectrum must stay above the level, eV.
CROSSING_PERSIST: float = 1.5


@dataclass(frozen=True)
class EdgePosition:
    """Edge positions of spectra.

    Attributes
    ----------
    e0, e0_err : ndarray, shape (...)
        Edge energy and its 1-sigma uncertainty, eV (NaN when not found).
    method : str
        ``"crossing"`` or ``"derivative"``.
    level : float
        Level of the normalized jump (crossing method), else NaN.
    window : float
        Smoothing window used, eV.
    sigma : ndarray, shape (...)
        Noise standard deviation of the input used for the uncertainty.
    """

    e0: np.ndarray
    e0_err: np.ndarray
    method: str
    level: float
    window: float
    sigma: np.ndarray


def _take_rows(a: np.ndarray, i: np.ndarray) -> np.ndarray:
    """:func:`spectro.xanes._arrays.take_rows`; from the single row of an array that is one row broadcast.

    (``take_rows`` would copy the broadcast array whole first: the energies of spectra on one grid.)
    """
    row = _arrays.one_row(a)
    if row.ndim == 1 and a.ndim > 1 and a.shape[:-1] == i.shape[:-1]:
        return row[i]
    return _arrays.take_rows(a, i)


def _take(a: np.ndarray, i: np.ndarray) -> np.ndarray:
    return _take_rows(a, i[..., None])[..., 0]


def e0_crossing_arrays(
    energy: np.ndarray,
    norm: np.ndarray,
    *,
    level: float = E0_LEVEL,
    smooth: float = CROSSING_SMOOTH,
    persist: float = CROSSING_PERSIST,
    sigma: np.ndarray | float | None = None,
    level_err: np.ndarray | float = 0.0,
    search: tuple[np.ndarray | float, np.ndarray | float] | None = None,
) -> EdgePosition:
    """Energy where the normalized spectrum first crosses ``level`` upwards.

    :func:`e0_crossings` gives several levels from one smoothing.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    norm : ndarray, shape (..., n)
        Normalized spectra (pre-edge 0, jump 1).
    level : float, keyword-only
        Level of the jump, 0.8 by default (0.5 gives the half height).
    smooth : float, keyword-only
        Full width of the smoothing used to locate the crossing, eV.
    persist : float, keyword-only
        The smoothed spectrum must stay above ``level`` this long, eV.
    sigma : float or ndarray, optional
        Noise standard deviation of ``norm``; estimated when None.
    level_err : float or ndarray, keyword-only
        Uncertainty of ``level`` coming from the normalization.
    search : (lo, hi), optional
        Only look for the crossing between these energies, eV: floats, or
        arrays of the leading shape for one range per spectrum. The
        smoothing and the persistence test see the data just outside the
        range, so a spectrum's result depends only on its own range (only
        the points near the ranges are processed: the columns near them on
        a shared 1-D grid, each row's own run of points otherwise).

    Returns
    -------
    EdgePosition

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8320.0, 8380.0, 0.25)
    >>> norm = 0.5 + np.arctan((e - 8340.0) / 2.0) / np.pi
    >>> r = e0_crossing_arrays(e, norm)
    >>> round(float(r.e0), 2), round(float(8340.0 + 2.0 * np.tan(0.3 * np.pi)), 2)
    (8342.75, 8342.75)
    """
    return e0_crossings(
        energy, norm, levels=(level,), smooth=smooth, persist=persist, sigma=sigma,
        level_err=level_err, search=search,
    )[0]


def e0_crossings(
    energy: np.ndarray,
    norm: np.ndarray,
    *,
    levels: tuple[float, ...] = (E0_LEVEL,),
    smooth: float = CROSSING_SMOOTH,
    persist: float = CROSSING_PERSIST,
    sigma: np.ndarray | float | None = None,
    level_err: np.ndarray | float | list = 0.0,
    search: tuple[np.ndarray | float, np.ndarray | float] | None = None,
) -> list[EdgePosition]:
    """:func:`e0_crossing_arrays` at each of ``levels``, smoothing the spectra once.

    Parameters are those of :func:`e0_crossing_arrays` (``levels``: a
    sequence of levels of the jump; ``level_err``: one value for every
    level, or a list of one per level); one :class:`EdgePosition` per level.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8320.0, 8380.0, 0.25)
    >>> norm = 0.5 + np.arctan((e - 8340.0) / 2.0) / np.pi
    >>> [round(float(r.e0), 2) for r in e0_crossings(e, norm, levels=(0.8, 0.5))]
    [8342.75, 8340.0]
    """
    energy = np.asarray(energy, dtype=float)
    lead = np.shape(norm)[:-1]
    lo = hi = None
    if search is not None:
        lo = np.broadcast_to(np.asarray(search[0], dtype=float), lead)
        hi = np.broadcast_to(np.asarray(search[1], dtype=float), lead)
        if energy.ndim == 1 and np.isfinite(lo).any():
            margin = 2.0 * (smooth + persist)
            near = (energy >= np.nanmin(lo) - margin) & (energy <= np.nanmax(hi) + margin)
            cols = np.flatnonzero(near)
            if cols.size:
                energy = energy[cols[0] : cols[-1] + 1]
                # one contiguous copy of the columns: the smoothing and the picks
                # along the rows would each copy a strided view whole
                norm = np.ascontiguousarray(np.asarray(norm)[..., cols[0] : cols[-1] + 1], dtype=float)
    xs, ys, finite = _arrays.prepare(energy, norm)
    if lo is not None and _arrays.one_row(xs).ndim > 1:
        margin = 2.0 * (smooth + persist)
        xs, ys, cropped = _near(xs, ys, lo - margin, hi + margin)
        finite = finite and not cropped
    if xs.shape[-1] < 2:
        nan = np.full(ys.shape[:-1], np.nan)
        return [
            EdgePosition(e0=nan, e0_err=nan, method="crossing", level=float(level),
                         window=float(smooth), sigma=nan)
            for level in levels
        ]
    if sigma is None:
        sigma = _arrays.noise_sigma(xs, ys, finite=finite)
    coef, _ = _arrays.local_poly(xs, ys, smooth, 2, orders=(0, 2), finite=finite)
    within, reach = _persistence(xs, persist)
    errs = level_err if isinstance(level_err, list) else [level_err] * len(levels)
    return [
        _crossing(xs, ys, coef[0], 2.0 * coef[2], level, within=within, reach=reach, smooth=smooth,
                  sigma=sigma, level_err=err, lo=lo, hi=hi)
        for level, err in zip(levels, errs, strict=True)
    ]


def _near(xs: np.ndarray, ys: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """The points of each compacted row from ``lo`` to ``hi`` (one range per row), at its front.

    Rows on their own grids keep only what the crossing search looks at;
    the rows become as long as the longest such run (NaN after each run).
    Returns the rows unchanged, and False, when that would save little.
    """
    with np.errstate(invalid="ignore"):
        near = (xs >= lo[..., None]) & (xs <= hi[..., None])
    count = near.sum(axis=-1)
    width = int(count.max(initial=0))
    if width > 0.8 * xs.shape[-1]:
        return xs, ys, False
    columns = np.arange(width)
    idx = np.minimum(np.argmax(near, axis=-1)[..., None] + columns, xs.shape[-1] - 1)
    keep = columns < count[..., None]
    return (
        np.where(keep, np.take_along_axis(xs, idx, -1), np.nan),
        np.where(keep, np.take_along_axis(ys, idx, -1), np.nan),
        True,
    )


def _persistence(xs: np.ndarray, persist: float) -> tuple[list[np.ndarray], np.ndarray]:
    """The grid geometry of the persistence test, the same for every level.

    ``within[k - 1]`` marks the points whose ``k``-th neighbour to the right
    lies within ``persist`` eV; ``reach`` the points from which the data go
    on for at least ``persist`` eV.
    """
    k_max = min(_arrays.max_offset(xs, persist, limit=256) + 1, xs.shape[-1] - 1)
    x1 = _arrays.one_row(xs)  # 1-D when all rows share one grid
    within = []
    reach = np.zeros(x1.shape, bool)
    for k in range(1, k_max + 1):
        gap = x1[..., k:] - x1[..., :-k]
        with np.errstate(invalid="ignore"):
            within.append(gap <= persist)
            reach[..., :-k] |= gap >= persist
    return within, reach


def _crossing(xs, ys, s, curv, level, *, within, reach, smooth, sigma, level_err, lo, hi) -> EdgePosition:
    """The first persistent crossing of ``level`` by the smoothed spectra ``s``, interpolated on ``ys``."""
    n = xs.shape[-1]
    valid = np.isfinite(s)
    above = np.where(valid, s >= level, False)
    stays = above.copy()
    for k, near in enumerate(within, start=1):
        stays[..., :-k] &= ~near | above[..., k:]
    stays &= reach
    prev_below = np.concatenate(
        [np.zeros(above.shape[:-1] + (1,), bool), ~above[..., :-1] & valid[..., :-1]],
        -1,
    )
    start = stays & prev_below
    if lo is not None:
        with np.errstate(invalid="ignore"):
            start &= (xs >= lo[..., None]) & (xs <= hi[..., None])
    found = start.any(axis=-1)
    j = np.argmax(start, axis=-1)
    p = max(1, _arrays.max_offset(xs, smooth))
    # data intervals [i, i + 1] crossing the level, nearest to j - 1 (within
    # the smoothing width, or next to it)
    off = np.arange(-(p + 1), p + 2)
    cand = np.clip(j[..., None] - 1 + off, 0, n - 2)
    crosses = j[..., None] - 1 + off == cand  # inside the data
    crosses &= _take_rows(ys, cand) < level
    crosses &= _take_rows(ys, cand + 1) >= level
    with np.errstate(invalid="ignore"):
        gap = np.abs(_take_rows(xs, cand) - _take(xs, np.maximum(j - 1, 0))[..., None])
        crosses &= (gap <= smooth) | (np.abs(off) <= 1)
    dist = np.where(crosses, np.abs(off).astype(float), np.inf)
    best = np.argmin(dist, axis=-1)
    i = _take(cand, best)
    found &= np.isfinite(_take(dist, best))
    x0, x1 = _take(xs, i), _take(xs, i + 1)
    y0, y1 = _take(ys, i), _take(ys, i + 1)
    h = x1 - x0
    dy = y1 - y0
    with np.errstate(all="ignore"):
        t = (level - y0) / dy
        e0 = x0 + t * h
        sigma = np.broadcast_to(np.asarray(sigma, float), e0.shape)
        slope = dy / h
        c = 0.5 * (_take(curv, i) + _take(curv, i + 1))
        var = (sigma * h) ** 2 * ((1 - t) ** 2 + t**2) / dy**2
        var = (
            var
            + (np.asarray(level_err) / slope) ** 2
            + (np.abs(c) * t * (1 - t) * h**2 / 2 / slope) ** 2
        )
        err = np.sqrt(var)
    e0 = np.where(found, e0, np.nan)
    err = np.where(found, err, np.nan)
    return EdgePosition(
        e0=e0,
        e0_err=err,
        method="crossing",
        level=float(level),
        window=float(smooth),
        sigma=sigma,
    )


def _vertex(x0, x1, x2, d0, d1, d2):
    a = (x1 - x0) * (d1 - d2)
    b = (x1 - x2) * (d1 - d0)
    with np.errstate(all="ignore"):
        v = x1 - 0.5 * ((x1 - x0) * a - (x1 - x2) * b) / (a - b)
    return np.where(np.isfinite(v), np.clip(v, x0, x2), x1)


def _derivative_correlation(m: np.ndarray, lag: int) -> np.ndarray:
    """Correlation of the white noise of two first derivatives ``lag`` points apart, each from a local quadratic
    over ``2 m + 1`` evenly spaced points.

    The quadratic's slope at the centre weighs the points by ``j`` (``j =
    -m .. m``), so the correlation is ``sum_j j (j + lag) / sum_j j**2``:
    ``(F(m) + F(m - lag) - lag**2 (2 m - lag + 1) / 2) / (2 F(m))`` with
    ``F(n) = n (n + 1) (2 n + 1) / 6``. On an uneven grid ``m`` is taken
    from the local step, an approximation.

    Examples
    --------
    >>> _derivative_correlation(np.array([3.0]), 1).round(4).tolist(), _derivative_correlation(np.array([3.0]), 2).round(4).tolist()
    ([0.5714], [0.1786])
    """
    def f(n):
        return n * (n + 1) * (2 * n + 1) / 6.0

    return (f(m) + f(m - lag) - lag**2 * (2 * m - lag + 1) / 2.0) / (2.0 * f(m))


def _columns(n: int, nvalid, x, search):
    """Points where the derivative maximum may lie: not in the first and last 2 %, in ``search``."""
    idx = np.arange(n)
    edge = np.maximum(2, np.ceil(0.02 * nvalid))
    ok = (idx >= edge) & (idx < nvalid - edge)
    if search is not None:
        ok &= (x >= search[0]) & (x <= search[1])
    return ok


def _argmax_shared(xs, d, search):
    """Index of the derivative maximum when all rows share one grid without missing points.

    Only the allowed columns are scanned; returns (None, None) when a
    derivative there is NaN. ``d`` is overwritten outside the allowed columns
    and their two neighbours.
    """
    x1, n = _arrays.one_row(xs), xs.shape[-1]
    cols = np.flatnonzero(_columns(n, n, x1, search))
    if cols.size == 0 or cols[-1] - cols[0] + 1 != cols.size:
        return None, None
    a, b = cols[0], cols[-1] + 1  # 2 <= a < b <= n - 2
    # argmax of the contiguous rows (a column slice would be copied): mask
    # the excluded columns, keeping the two that can be neighbours
    keep = d[..., [a - 1, b]]
    d[..., :a] = -np.inf
    d[..., b:] = -np.inf
    k = np.argmax(d, axis=-1)
    d[..., [a - 1, b]] = keep
    if not np.isfinite(_take(d, k)).all():  # argmax stops at the first NaN
        return None, None
    return k, np.ones(k.shape, bool)


def _argmax_rows(xs, ys, d, search):
    """Index of the derivative maximum of each row (any grid, missing points)."""
    nvalid = np.isfinite(ys).sum(axis=-1)[..., None]
    ok = np.isfinite(d) & _columns(xs.shape[-1], nvalid, xs, search)
    dd = np.where(ok, d, -np.inf)
    return np.argmax(dd, axis=-1), ok.any(axis=-1), dd


def e0_derivative_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    *,
    window: float = DERIVATIVE_WINDOW,
    search: tuple[float, float] | None = None,
    first: float | None = None,
    sigma: np.ndarray | float | None = None,
) -> EdgePosition:
    """Energy of the maximum of the smoothed first derivative.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    mu : ndarray, shape (..., n)
        Spectra (raw or normalized; the position does not depend on scale).
    window : float, keyword-only
        Full width of the local quadratic fit of the derivative, eV.
    search : (float, float), optional
        Only look for the maximum between these energies, eV.
    first : float, optional
        Take the first (lowest-energy) local maximum that reaches this
        fraction of the largest derivative, instead of the largest one (the
        first-inflection-point convention of metal foils, whose derivative
        has two nearly equal maxima).
    sigma : float or ndarray, optional
        Noise standard deviation of ``mu``; estimated when None.

    Returns
    -------
    EdgePosition

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8300.0, 8400.0, 0.5)
    >>> mu = np.arctan((e - 8333.1) / 1.5)
    >>> round(float(e0_derivative_arrays(e, mu).e0), 2)
    8333.1
    """
    xs, ys, finite = _arrays.prepare(energy, mu)
    return derivative_max_prepared(
        xs, ys, finite, window=window, search=search, first=first, sigma=sigma
    )


def derivative_max_prepared(xs, ys, finite, *, window, search, first, sigma) -> EdgePosition:
    """:func:`e0_derivative_arrays` on rows already through :func:`spectro.xanes._arrays.prepare`.

    For the kernels that prepared the rows for other steps too (the
    normalization's window anchor), so that the rows are not prepared twice.
    """
    n = xs.shape[-1]
    coef, var = _arrays.local_poly(xs, ys, window, 2, orders=(1,), finite=finite)
    d = coef[1]
    use_shared = finite and first is None and _arrays.one_row(xs).ndim == 1
    k, found = _argmax_shared(xs, d, search) if use_shared else (None, None)
    if k is None:
        k, found, dd = _argmax_rows(xs, ys, d, search)
    if first is not None:
        peak = (dd >= _arrays.shifted(dd, -1)) & (dd >= _arrays.shifted(dd, 1))
        peak &= dd >= first * _take_rows(dd, k[..., None])
        k = np.where(peak.any(axis=-1), np.argmax(peak, axis=-1), k)
    k = np.clip(k, 1, n - 2)
    x0, x1, x2 = _take(xs, k - 1), _take(xs, k), _take(xs, k + 1)
    d0, d1, d2 = _take(d, k - 1), _take(d, k), _take(d, k + 1)
    e0 = _vertex(x0, x1, x2, d0, d1, d2)
    if sigma is None:
        sigma = _arrays.noise_sigma(xs, ys, finite=finite)
    sigma = np.broadcast_to(np.asarray(sigma, float), e0.shape)
    dsig = sigma * np.sqrt(_take(var[1], k))
    eps = np.where(dsig > 0, dsig, 1e-12)
    g0, g1, g2 = (
        (_vertex(x0, x1, x2, d0 + eps, d1, d2) - e0) / eps,
        (_vertex(x0, x1, x2, d0, d1 + eps, d2) - e0) / eps,
        (_vertex(x0, x1, x2, d0, d1, d2 + eps) - e0) / eps,
    )
    # the three derivatives share most of their points: their noise is correlated (lag 1 and 2)
    m = _arrays.window_points(window, 0.5 * (x2 - x0))
    rho1, rho2 = _derivative_correlation(m, 1), _derivative_correlation(m, 2)
    quad = g0 * g0 + g1 * g1 + g2 * g2 + 2.0 * rho1 * (g0 * g1 + g1 * g2) + 2.0 * rho2 * g0 * g2
    err = dsig * np.sqrt(np.maximum(quad, 0.0))
    ok3 = found & np.isfinite(x0) & np.isfinite(x2)
    e0 = np.where(ok3, e0, np.nan)
    err = np.where(ok3, err, np.nan)
    return EdgePosition(
        e0=e0,
        e0_err=err,
        method="derivative",
        level=float("nan"),
        window=float(window),
        sigma=sigma,
    )
