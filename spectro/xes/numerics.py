"""Row-wise numerics on NaN-padded spectra: windows, integrals, moments, peaks.

Every function works on arrays shaped ``(..., n)`` whose rows have been
*compacted* by :func:`compact`: each row's finite points first, in energy
order, NaN after. A row's own energies are therefore ``E[..., :n_valid]``;
rows of a union grid (NaN where a scan has no point) need no interpolation.

Uncertainties are first-order propagations of the pointwise standard
deviations ``s`` (assumed independent between points).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "compact",
    "covered",
    "estimate_noise",
    "first_moment",
    "half_max_width",
    "in_window",
    "integrate",
    "local_peak",
    "step",
    "trapezoid_weights",
    "uncompact",
]


def compact(energy: np.ndarray, intensity: np.ndarray, *others: np.ndarray | None):
    """Move each row's finite points to the front, keeping energy order.

    Returns
    -------
    e, y, *others : ndarray, shape (..., n)
        Per-row energies and values, NaN after the row's last finite point.
        ``None`` entries of ``others`` stay ``None``.
    n_valid : ndarray of int, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> e, y, n = compact(np.arange(4.0), np.array([[np.nan, 1.0, np.nan, 3.0]]))
    >>> e.tolist(), n.tolist()
    ([[1.0, 3.0, nan, nan]], [2])
    """
    y = np.asarray(intensity, dtype=float)
    e = np.broadcast_to(np.asarray(energy, dtype=float), y.shape)
    valid = np.isfinite(y) & np.isfinite(e)
    order = np.argsort(~valid, axis=-1, kind="stable")
    valid_c = np.take_along_axis(valid, order, -1)

    def take(a):
        if a is None:
            return None
        a = np.broadcast_to(np.asarray(a, dtype=float), y.shape)
        return np.where(valid_c, np.take_along_axis(a, order, -1), np.nan)

    return (take(e), take(y), *[take(o) for o in others], valid.sum(axis=-1))


def uncompact(values: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Put compacted row values back at the finite positions of ``like``.

    Examples
    --------
    >>> import numpy as np
    >>> uncompact(np.array([[10.0, 30.0, np.nan]]), np.array([[1.0, np.nan, 3.0]])).tolist()
    [[10.0, nan, 30.0]]
    """
    valid = np.isfinite(like)
    order = np.argsort(~valid, axis=-1, kind="stable")
    out = np.empty(like.shape)
    np.put_along_axis(out, order, np.broadcast_to(values, like.shape), -1)
    return np.where(valid, out, np.nan)


def step(e: np.ndarray) -> np.ndarray:
    """Median energy step of each compacted row (eV), shape (...).

    Examples
    --------
    >>> import numpy as np
    >>> float(step(np.array([0.0, 0.3, 0.6, 1.0])))
    0.3
    """
    with np.errstate(all="ignore"):
        d = np.diff(e, axis=-1)
    if d.shape[-1] == 0:
        return np.full(e.shape[:-1], np.nan)
    with np.errstate(all="ignore"):
        all_nan = np.all(np.isnan(d), axis=-1)
        d = np.where(all_nan[..., None], 0.0, d)
        out = np.nanmedian(d, axis=-1)
    return np.where(all_nan, np.nan, out)


def covered(e: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """True where a row's data span ``[lo, hi]`` (to within one step).

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(0.0, 10.0, 0.5)
    >>> bool(covered(e, np.float64(1.0), np.float64(9.6))), bool(covered(e, np.float64(-2.0), np.float64(5.0)))
    (True, False)
    """
    with np.errstate(invalid="ignore"):
        first = np.nanmin(np.where(np.isnan(e), np.inf, e), axis=-1)
        last = np.nanmax(np.where(np.isnan(e), -np.inf, e), axis=-1)
        tol = np.nan_to_num(step(e), nan=0.0)
        return (first <= lo + tol) & (last >= hi - tol) & np.isfinite(lo) & np.isfinite(hi)


def in_window(e: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Boolean mask of points with ``lo <= e <= hi`` (``lo``, ``hi`` shape (...)).

    Examples
    --------
    >>> import numpy as np
    >>> in_window(np.arange(5.0), np.float64(1.0), np.float64(3.0)).tolist()
    [False, True, True, True, False]
    """
    with np.errstate(invalid="ignore"):
        return (e >= np.asarray(lo)[..., None]) & (e <= np.asarray(hi)[..., None])


def trapezoid_weights(e: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Trapezoid-rule weights (eV) of the masked points of each compacted row.

    Examples
    --------
    >>> import numpy as np
    >>> trapezoid_weights(np.arange(4.0), np.array([True, True, True, False])).tolist()
    [0.5, 1.0, 0.5, 0.0]
    """
    e0 = np.where(mask, e, np.nan)
    nxt = np.full_like(e0, np.nan)
    prv = np.full_like(e0, np.nan)
    nxt[..., :-1] = e0[..., 1:] - e0[..., :-1]
    prv[..., 1:] = e0[..., 1:] - e0[..., :-1]
    w = 0.5 * (np.nan_to_num(nxt) + np.nan_to_num(prv))
    return np.where(mask, w, 0.0)


def integrate(e, y, s, mask):
    """Trapezoid integral over the masked points and its standard deviation.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(5.0)
    >>> area, err = integrate(e, np.ones(5), np.full(5, 0.1), e <= 2)
    >>> float(area), round(float(err), 4)
    (2.0, 0.1225)
    """
    w = trapezoid_weights(e, mask)
    yy = np.where(mask, y, 0.0)
    ss = np.where(mask, s, 0.0)
    return np.sum(w * yy, axis=-1), np.sqrt(np.sum((w * ss) ** 2, axis=-1))


def first_moment(e, y, s, mask):
    """First moment sum(E I)/sum(I) over the masked points, and its error.

    The error is ``sqrt(sum((w_i (E_i - m1) s_i / S)^2))`` with trapezoid
    weights ``w_i`` and ``S = sum(w_i I_i)``.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(5.0)
    >>> m1, err = first_moment(e, np.array([0.0, 1.0, 2.0, 1.0, 0.0]), np.zeros(5), e >= 0)
    >>> float(m1)
    2.0
    """
    w = trapezoid_weights(e, mask)
    ee = np.where(mask, e, 0.0)
    yy = np.where(mask, y, 0.0)
    ss = np.where(mask, s, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.sum(w * yy, axis=-1)
        m1 = np.sum(w * ee * yy, axis=-1) / total
        err = np.sqrt(np.sum((w * (ee - m1[..., None]) * ss) ** 2, axis=-1)) / np.abs(total)
    return m1, err


def local_peak(e, y, s, mask, half_width):
    """Maximum inside ``mask``, refined by a local least-squares parabola.

    The grid maximum inside the mask is found first; a parabola is fitted
    (unweighted) to the finite points within ``half_width`` eV of it. The
    vertex gives the peak energy and height; their standard deviations come
    from the parameter covariance ``M^-1 X^T diag(s^2) X M^-1`` of that fit.
    Where the parabola opens upwards or has fewer than 3 points, the grid
    maximum is returned with an error of half a step.

    Returns
    -------
    energy, energy_err, height, height_err, index : ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(0.0, 10.0, 0.25)
    >>> y = 1.0 - (e - 5.1) ** 2
    >>> pe, pe_err, h, h_err, i = local_peak(e, y, np.zeros_like(e), e > 0, 0.6)
    >>> round(float(pe), 6), round(float(h), 6)
    (5.1, 1.0)
    """
    search = np.where(mask & np.isfinite(y), y, -np.inf)
    idx = np.argmax(search, axis=-1)
    found = np.isfinite(np.take_along_axis(search, idx[..., None], -1)[..., 0])
    e0 = np.take_along_axis(e, idx[..., None], -1)
    y0 = np.take_along_axis(y, idx[..., None], -1)[..., 0]
    hw_row = np.broadcast_to(np.asarray(half_width, dtype=float), idx.shape)
    hw = hw_row[..., None]
    x = e - e0
    with np.errstate(invalid="ignore"):
        local = np.isfinite(y) & (np.abs(x) <= hw)
    xs = np.where(local, x, 0.0)
    ys = np.where(local, y, 0.0)
    s2 = np.where(local, np.nan_to_num(s) ** 2, 0.0)
    lw = local.astype(float)
    pw = [lw * xs**k for k in range(5)]
    S = [np.sum(p, axis=-1) for p in pw]
    T = [np.sum(pw[k] * ys, axis=-1) for k in range(3)]
    U = [np.sum(pw[k] * s2, axis=-1) for k in range(5)]
    M = np.stack([np.stack(S[i:i + 3], -1) for i in range(3)], -2)
    V = np.stack([np.stack(U[i:i + 3], -1) for i in range(3)], -2)
    npts = S[0]
    det = np.linalg.det(M)
    good = found & (npts >= 3) & (np.abs(det) > 0)
    M_safe = np.where(good[..., None, None], M, np.eye(3))
    Minv = np.linalg.inv(M_safe)
    c = np.einsum("...ij,...j->...i", Minv, np.stack(T, -1))
    cov = Minv @ V @ Minv
    c0, c1, c2 = c[..., 0], c[..., 1], c[..., 2]
    good &= c2 < 0
    with np.errstate(all="ignore"):
        xv = -c1 / (2 * c2)
        good &= np.abs(xv) <= hw_row
        hv = c0 - c1**2 / (4 * c2)
        jx = np.stack([np.zeros_like(c1), -1 / (2 * c2), c1 / (2 * c2**2)], -1)
        jh = np.stack([np.ones_like(c1), -c1 / (2 * c2), c1**2 / (4 * c2**2)], -1)
        ex = np.sqrt(np.einsum("...i,...ij,...j->...", jx, cov, jx))
        eh = np.sqrt(np.einsum("...i,...ij,...j->...", jh, cov, jh))
    e0 = e0[..., 0]
    half_step = 0.5 * step(e)
    s0 = np.take_along_axis(np.nan_to_num(s), idx[..., None], -1)[..., 0]
    energy = np.where(good, e0 + xv, e0)
    energy_err = np.where(good, ex, half_step)
    height = np.where(good, hv, y0)
    height_err = np.where(good, eh, s0)
    nan = ~found
    return (
        np.where(nan, np.nan, energy),
        np.where(nan, np.nan, energy_err),
        np.where(nan, np.nan, height),
        np.where(nan, np.nan, height_err),
        idx,
    )


def half_max_width(e, y, s, idx, height, height_err):
    """Full width at half maximum around the peak at index ``idx`` (eV).

    The two crossings of ``height / 2`` nearest the peak are interpolated
    linearly between grid points; each crossing's error is
    ``sqrt(s^2 + (height_err / 2)^2) / |slope|``. NaN where a side never
    drops below half height.

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(0.0, 10.0, 0.01)
    >>> y = np.exp(-0.5 * ((e - 5.0) / 1.0) ** 2)
    >>> w, err = half_max_width(e, y, np.zeros_like(e), np.int64(500), np.float64(1.0), np.float64(0.0))
    >>> round(float(w), 3)
    2.355
    """
    n = y.shape[-1]
    half = 0.5 * height[..., None]
    pos = np.arange(n)
    with np.errstate(invalid="ignore"):
        below = np.isfinite(y) & (y < half)
    ii = idx[..., None]
    left = np.where(below & (pos < ii), pos, -1).max(axis=-1)
    right = np.where(below & (pos > ii), pos, n).min(axis=-1)
    ok_l = left >= 0
    ok_r = right < n

    def crossing(j0, j1, ok):
        j0 = np.clip(j0, 0, n - 1)[..., None]
        j1 = np.clip(j1, 0, n - 1)[..., None]
        ea, eb = np.take_along_axis(e, j0, -1)[..., 0], np.take_along_axis(e, j1, -1)[..., 0]
        ya, yb = np.take_along_axis(y, j0, -1)[..., 0], np.take_along_axis(y, j1, -1)[..., 0]
        sa = np.take_along_axis(np.nan_to_num(s), j0, -1)[..., 0]
        with np.errstate(all="ignore"):
            slope = (yb - ya) / (eb - ea)
            x = ea + (half[..., 0] - ya) / slope
            err = np.sqrt(sa**2 + (0.5 * height_err) ** 2) / np.abs(slope)
        return np.where(ok, x, np.nan), np.where(ok, err, np.nan)

    xl, el = crossing(left, left + 1, ok_l)
    xr, er = crossing(right - 1, right, ok_r)
    return xr - xl, np.sqrt(el**2 + er**2)


def estimate_noise(e: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pointwise noise (one sigma) of each compacted row, shape (..., n).

    Counting statistics are assumed when at least 90 % of a row is
    positive: ``sigma_i = k sqrt(max(y_i, floor))`` with ``floor`` 0.1 % of
    the row maximum, and ``k`` from the second differences
    ``d2_i = y[i+1] - 2 y[i] + y[i-1]`` divided by their expected scale
    ``sqrt(y[i-1] + 4 y[i] + y[i+1])`` (Poisson-like noise on a locally
    linear signal). Otherwise the noise is taken as constant,
    ``sigma = 1.4826 MAD(d2) / sqrt(6)``. The robust MAD keeps sharp lines
    from inflating the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).normal(0.0, 0.5, 2000)
    >>> round(float(estimate_noise(np.arange(2000.0), y)[0]), 1)
    0.5
    """
    if y.shape[-1] < 3:
        return np.full(y.shape, np.nan)
    with np.errstate(all="ignore"):
        n_pos = np.sum(y > 0, axis=-1)
        poisson = n_pos >= 0.9 * np.sum(np.isfinite(y), axis=-1)
        top = np.nanmax(np.where(np.isnan(y), -np.inf, y), axis=-1)
        yc = np.fmax(y, 1e-3 * top[..., None])
        d2 = y[..., 2:] - 2.0 * y[..., 1:-1] + y[..., :-2]
        var = np.where(poisson[..., None], yc[..., 2:] + 4.0 * yc[..., 1:-1] + yc[..., :-2], 6.0)
        z = d2 / np.sqrt(var)
        all_nan = np.all(np.isnan(z), axis=-1)
        z = np.where(all_nan[..., None], 0.0, z)
        med = np.nanmedian(z, axis=-1)
        k = 1.4826 * np.nanmedian(np.abs(z - med[..., None]), axis=-1)
        sigma = np.where(poisson[..., None], k[..., None] * np.sqrt(yc), k[..., None])
    return np.where(all_nan[..., None] | np.isnan(y), np.nan, sigma)
