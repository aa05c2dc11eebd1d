"""Array helpers shared by the XANES kernels (NaN means "no point here").

Every kernel works on arrays shaped ``(..., n)`` whose last axis is energy.
A spectrum on a shared (union) grid is NaN where it has no point, so some
rows have gaps. :func:`compact` moves each row's valid points to the front
(keeping their order) so that neighbouring points are true neighbours; the
tail is NaN. :func:`scatter` puts per-point results back.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from math import factorial

import numpy as np


@contextmanager
def quiet() -> Iterator[None]:
    """Silence floating-point and all-NaN warnings (NaN results are the answer)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


#: numpy's ufunc buffer size inside :func:`row_broadcast` (numpy's default is 8192).
ROW_BUFFER = 256


@contextmanager
def row_broadcast() -> Iterator[None]:
    """Elementwise operations of (..., n) arrays with a column of one value per row, ``c[..., None]``, faster.

    numpy (2.4 at least; its issue 13307) runs an operation whose operands
    broadcast differently in chunks of up to its ufunc buffer size, and a
    chunk that spans several rows makes it copy the column into a buffer
    first, which costs more than the operation itself: ``a <
    c[:, None]`` on a (2000, 2001) array takes 2.9 ms, 1.0 ms in chunks of
    :data:`ROW_BUFFER`, which stay inside rows of a few hundred points or
    more. The buffer size is restored on exit (``np.errstate`` keeps it).

    For elementwise arithmetic and comparisons only: their results do not
    depend on the chunks, whereas those of buffered sums (``np.einsum``
    among them) may.

    Examples
    --------
    >>> with row_broadcast():
    ...     below = np.arange(6.0).reshape(2, 3) < np.array([1.0, 5.0])[:, None]
    >>> below.tolist(), np.getbufsize()
    ([[True, False, False], [True, True, False]], 8192)
    """
    with np.errstate():
        np.setbufsize(ROW_BUFFER)
        yield


def as_rows(energy, mu) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast energy (n,) or (..., n) against mu (..., n); NaN where either is NaN."""
    mu = np.asarray(mu, dtype=float)
    energy = np.asarray(energy, dtype=float)
    if energy.ndim == 1 and np.isfinite(energy).all() and all_finite(mu):
        return np.broadcast_to(energy, mu.shape), mu
    energy = np.broadcast_to(energy, mu.shape)
    bad = ~(np.isfinite(mu) & np.isfinite(energy))
    if bad.any():
        energy = np.where(bad, np.nan, energy)
        mu = np.where(bad, np.nan, mu)
    return energy, mu


def all_finite(a: np.ndarray) -> bool:
    """True if no element of ``a`` is NaN or infinite.

    A finite sum answers for the whole array in one pass without a
    temporary; a sum that is not (a NaN or infinity, or an overflow) is
    checked element by element.
    """
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(a, axis=None)):
            return True
    return bool(np.isfinite(a).all())


def prepare(energy, mu) -> tuple[np.ndarray, np.ndarray, bool]:
    """:func:`as_rows` then :func:`compact`: (x, y, finite).

    ``finite`` is True when all rows share one 1-D grid and no point is
    missing (then ``x`` is that grid broadcast and ``y`` the input, uncopied).
    """
    mu = np.asarray(mu, dtype=float)
    energy = np.asarray(energy, dtype=float)
    if energy.ndim == 1 and np.isfinite(energy).all() and all_finite(mu):
        return np.broadcast_to(energy, mu.shape), mu, True
    xs, ys, _ = compact(*as_rows(energy, mu))
    return xs, ys, False


def compact(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move valid points to the front of each row; return (x, y, order)."""
    if np.isfinite(one_row(x)).all() and all_finite(y):
        return x, y, np.broadcast_to(np.arange(x.shape[-1]), x.shape)
    valid = np.isfinite(x) & np.isfinite(y)
    if (valid[..., :-1] >= valid[..., 1:]).all():  # valid points already lead every row
        return (
            np.where(valid, x, np.nan),
            np.where(valid, y, np.nan),
            np.broadcast_to(np.arange(x.shape[-1]), valid.shape),
        )
    order = np.argsort(~valid, axis=-1, kind="stable")
    xs = np.take_along_axis(np.where(valid, x, np.nan), order, axis=-1)
    ys = np.take_along_axis(np.where(valid, y, np.nan), order, axis=-1)
    return xs, ys, order


def scatter(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Inverse of :func:`compact` for a per-point array."""
    out = np.empty_like(values)
    np.put_along_axis(out, order, values, axis=-1)
    return out


def rows_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for rows ``a`` (..., n) and a matrix ``b`` (n, k), each row summed alike.

    One matrix product of all the rows would let BLAS sum a row in an order
    that depends on how many rows there are (it blocks the product, and one
    row is a matrix-vector product), so a spectrum's numbers would depend on
    the other spectra of the call. Here every row is its own product of a
    stacked matrix multiplication, the same whatever the other rows, at
    about the speed of the single product. The suite checks that rows give
    the same bits in any company (``tests/test_xanes_row_independence.py``).
    """
    rows = a.reshape(-1, 1, a.shape[-1])
    return (rows @ b)[:, 0, :].reshape(a.shape[:-1] + b.shape[1:])


def take_rows(a: np.ndarray, i: np.ndarray) -> np.ndarray:
    """``np.take_along_axis(a, i, -1)`` for ``a`` (..., n) and integer ``i`` (..., k), with less overhead.

    When ``a`` and ``i`` share their leading shape the values are taken by
    one flat index (the kernels call this tens of times per spectrum);
    otherwise :func:`numpy.take_along_axis` broadcasts them.

    Examples
    --------
    >>> take_rows(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([[2], [0]]))
    array([[3.],
           [4.]])
    """
    if a.shape[:-1] != i.shape[:-1]:
        return np.take_along_axis(a, i, -1)
    n = a.shape[-1]
    rows = i.reshape(-1, i.shape[-1]) if i.ndim else i.reshape(1, 1)
    flat = rows + n * np.arange(rows.shape[0])[:, None]
    return np.take(a, flat).reshape(i.shape)


def shifted(a: np.ndarray, j: int) -> np.ndarray:
    """``a[..., i + j]`` with NaN beyond the ends."""
    if j == 0:
        return a
    out = np.full_like(a, np.nan)
    if j > 0:
        out[..., :-j] = a[..., j:]
    else:
        out[..., -j:] = a[..., :j]
    return out


def median_step(x: np.ndarray) -> np.ndarray:
    """Median energy step of each (compacted) row, eV."""
    with quiet():
        return nan_row_median(np.diff(x, axis=-1))


def one_row(x: np.ndarray) -> np.ndarray:
    """The single row of an array that is one row broadcast to all, else the array."""
    if x.ndim > 1 and not any(x.strides[:-1]):
        return x[(0,) * (x.ndim - 1)]
    return x


def uniform_step(x: np.ndarray, y: np.ndarray, *, finite: bool = False) -> float | None:
    """The step if every row has the same uniform grid and no missing point, else None.

    ``finite=True`` says that ``y`` is known to have no NaN (not checked again).
    """
    x = one_row(x)
    if x.shape[-1] < 7 or not (np.isfinite(x).all() and (finite or all_finite(y))):
        return None
    d = np.diff(x, axis=-1)
    h = float(d.flat[0])
    if h > 0 and np.all(np.abs(d - h) <= 1e-6 * h) and np.all(x[..., :1] == x.flat[0]):
        return h
    return None


def max_offset(x: np.ndarray, width: float, limit: int = 64) -> int:
    """Largest offset (points) between two points of a row that lie within ``width`` eV.

    Exact over every row of ``x`` (compacted: ascending, NaN tail), at
    least 1 and at most ``limit``. A loop over offsets up to this bound
    therefore visits every neighbour within ``width`` of every point, so a
    row's result never depends on the other rows.

    In ascending rows the smallest gap between points ``k`` apart grows
    with ``k``, so the answer is found by doubling ``k`` and then bisecting:
    a few whole-array comparisons. ``width`` is widened by a relative
    1e-9 and 1e-9 eV, so that rounding never drops a neighbour.
    """
    x1 = one_row(x)
    rows = x1.reshape(-1, x1.shape[-1]) if x1.ndim else x1.reshape(1, -1)
    top = min(limit, rows.shape[-1] - 1)
    reach = width * (1 + 1e-9) + 1e-9

    def near(k: int) -> bool:
        with np.errstate(invalid="ignore"):
            return bool((rows[:, k:] - rows[:, :-k] <= reach).any())

    if top < 1 or not near(1):
        return 1
    lo, hi = 1, 2  # near(lo); hi untested
    while hi <= top and near(hi):
        lo, hi = hi, 2 * hi
    hi = min(hi, top + 1)  # not near(hi), or beyond the limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if near(mid) else (lo, mid)
    return lo


def window_points(width: float, step, degree: int = 2):
    """Half-width ``m`` (points) of the local polynomial fit over ``width`` eV on a grid of ``step`` eV.

    ``max(floor(width / 2 / step), degree // 2 + 1)`` (the window of
    :func:`local_poly`: ``2 m + 1`` points on a uniform grid); ``step`` may
    be an array (a float array back).

    Examples
    --------
    >>> float(window_points(1.5, 0.25)), window_points(1.5, np.array([0.5, 0.1])).tolist()
    (3.0, [2.0, 7.0])
    """
    return np.maximum(np.floor(0.5 * width / np.asarray(step, dtype=float) * (1 + 1e-9)), degree // 2 + 1)[()]


def local_poly(
    x: np.ndarray,
    y: np.ndarray,
    width: float,
    degree: int,
    orders: tuple[int, ...] | None = None,
    *,
    finite: bool = False,
) -> tuple[list, list]:
    """Local polynomial regression (Savitzky-Golay on any grid).

    At every point a polynomial of ``degree`` in ``(E - E_i)`` is fitted by
    least squares to the neighbours within ``width / 2`` eV, always
    including at least ``degree // 2 + 1`` points on each side when
    available (fewer at the ends and next to gaps). On a uniform grid this
    is the Savitzky-Golay filter of ``2 m + 1`` points with
    ``m = max(floor(width / 2 / step), degree // 2 + 1)``, and when all rows
    share one uniform grid without missing points the Savitzky-Golay
    convolution (:func:`savgol_weights`) computes it (the first and
    last ``m`` points, where the window is cut by the end of the data, come
    from the general path, whose weights are computed once for that grid;
    their ``inv_diag`` is that of the full window, a slight underestimate).
    When all rows share one non-uniform grid without missing points, the
    fit weights of every point are computed once for that grid and applied
    to all rows as a band of multiply-adds (:func:`apply_band`).
    Rows must be compacted.

    Returns
    -------
    coef : list of degree + 1 ndarrays, shape (..., n)
        Coefficients: value, first derivative, half the second derivative...
    inv_diag : list of degree + 1 ndarrays, shape (..., n)
        Diagonal of ``(X^T X)^-1``: the variance of each coefficient per
        unit noise variance.

    ``orders`` limits the coefficients computed (the others are None; on
    the general path, their ``inv_diag`` too). ``finite=True`` says that
    ``y`` has no NaN.
    """
    half = 0.5 * width
    scale = max(half, 1e-6)
    idx = np.arange(degree + 1)
    powers = scale ** -idx.astype(float)
    wanted = tuple(range(degree + 1)) if orders is None else tuple(orders)
    h = uniform_step(x, y, finite=finite)
    if h is not None and 2 * int(window_points(width, h, degree)) + 1 <= x.shape[-1]:
        m = int(window_points(width, h, degree))
        coef = [
            convolve_rows(y, _savgol_weights(m, degree, k, h)) if k in wanted else None
            for k in range(degree + 1)
        ]
        design = (np.arange(-m, m + 1) * h / scale)[:, None] ** idx
        inv_diag = np.diagonal(np.linalg.inv(design.T @ design)) * powers**2
        x1 = x.reshape(-1, x.shape[-1])[0]  # every row has this grid
        for ends, part in (
            (slice(None, m), slice(None, 2 * m + 1)),
            (slice(-m, None), slice(-2 * m - 1, None)),
        ):
            weights = _end_weights(tuple(x1[part]), ends.start is None, width, degree)
            c_end = rows_dot(y[..., part], weights).reshape(y.shape[:-1] + (m, degree + 1))
            for k in wanted:
                coef[k][..., ends] = c_end[..., k]
        return coef, [np.broadcast_to(v, y.shape) for v in inv_diag]
    x1 = one_row(x)
    if x1.ndim == 1 and np.isfinite(x1).all() and (finite or all_finite(y)):
        weights, inv_diag = _grid_weights(tuple(x1.tolist()), width, degree)
        coef = [
            apply_band(y, weights[..., k]) if k in wanted else None
            for k in range(degree + 1)
        ]
        return coef, [np.broadcast_to(inv_diag[:, k], y.shape) for k in range(degree + 1)]
    coef, inv_diag = _local_poly_general(x, y, width, degree, wanted)
    return (
        [coef[wanted.index(k)] if k in wanted else None for k in range(degree + 1)],
        [inv_diag[wanted.index(k)] if k in wanted else None for k in range(degree + 1)],
    )


def apply_band(y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``out[..., i] = sum_j weights[j, i] * y[..., i + j - m]`` for a band of 2 m + 1 offsets.

    ``weights`` (2 m + 1, n) holds per-column weights; terms beyond the
    ends of the rows are left out. A NaN weight makes that column NaN.
    """
    m = weights.shape[0] // 2
    n = y.shape[-1]
    out = y * weights[m]
    for j in range(-m, m + 1):
        lo, hi = max(0, -j), min(n, n - j)
        if j == 0 or hi <= lo:
            continue
        out[..., lo:hi] += y[..., lo + j : hi + j] * weights[j + m, lo:hi]
    return out


@lru_cache(maxsize=64)
def _grid_weights(x: tuple, width: float, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights and ``inv_diag`` of the local fits at every point of one grid ``x``.

    Returns ``weights`` (2 m + 1, n, degree + 1), the weight of
    ``y[i + j - m]`` in the coefficients at point ``i``, and ``inv_diag``
    (n, degree + 1), as :func:`_local_poly_general` gives them for any row
    on ``x``. The fits are linear in ``y`` with weights set by the grid, and
    a fit only sees offsets ``-m..m``: row ``c`` of the comb ``y_p = 1``
    for ``p = c (mod 2 m + 1)`` holds, at point ``i``, the weight of the
    one offset ``j`` in the window with ``i + j - m = c (mod 2 m + 1)``.
    """
    grid = np.asarray(x, dtype=float)
    n = grid.size
    m = max(max_offset(grid, 0.5 * width), degree // 2 + 1)
    band = 2 * m + 1
    comb = (np.arange(n)[None, :] % band == np.arange(band)[:, None]).astype(float)
    unit, inv_diag = _local_poly_general(
        np.broadcast_to(grid, comb.shape), comb, width, degree
    )
    row = (np.arange(n)[None, :] + np.arange(band)[:, None] - m) % band
    weights = np.moveaxis(unit, 0, -1)[row, np.arange(n)[None, :], :]
    weights.setflags(write=False)
    inv_diag = np.ascontiguousarray(inv_diag[:, 0].T)
    inv_diag.setflags(write=False)
    return weights, inv_diag


def savgol_weights(points: int, degree: int, *, deriv: int = 0, delta: float = 1.0,
                   convolve: bool = False) -> np.ndarray:
    """Savitzky-Golay weights: the ``deriv``-th derivative at the centre of a least-squares polynomial.

    ``y[i - m : i + m + 1] @ w`` is the ``deriv``-th derivative (per
    ``delta**deriv``) at point ``i`` of the polynomial of order ``degree``
    fitted to the ``points = 2 m + 1`` points around it; with
    ``convolve=True`` the weights are reversed for ``np.convolve``. The
    minimum-norm solution of ``A w = e_deriv deriv! / delta**deriv``,
    ``A[j, k] = k**j`` (LAPACK ``gelsd``), as ``scipy.signal.savgol_coeffs``
    computes it (the same numbers), without importing ``scipy.signal``
    (a second at start-up).

    Parameters
    ----------
    points : int
        Odd window length, points.
    degree : int
        Polynomial order, less than ``points``.
    deriv : int, keyword-only
        Derivative order.
    delta : float, keyword-only
        Grid step (eV) the derivative is per.
    convolve : bool, keyword-only
        Weights for ``np.convolve`` (reversed) instead of a dot product.

    Returns
    -------
    ndarray, shape (points,)

    Examples
    --------
    >>> savgol_weights(3, 1).round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    >>> from scipy.signal import savgol_coeffs
    >>> w = savgol_weights(7, 2, deriv=1, delta=0.25)
    >>> bool(np.array_equal(w, savgol_coeffs(7, 2, deriv=1, delta=0.25, use="dot")))
    True
    """
    if not 0 <= deriv <= degree < points:
        raise ValueError(f"need 0 <= deriv <= degree < points, got {deriv}, {degree}, {points}")
    x = np.arange(-(points // 2), points - points // 2, dtype=float)
    if convolve:
        x = x[::-1]
    rhs = np.zeros(degree + 1)
    rhs[deriv] = factorial(deriv) / delta**deriv
    return np.linalg.lstsq(x ** np.arange(degree + 1).reshape(-1, 1), rhs, rcond=None)[0]


@lru_cache(maxsize=64)
def _savgol_weights(m: int, degree: int, k: int, h: float) -> np.ndarray:
    """Convolution weights of the ``k``-th Savitzky-Golay coefficient (2 m + 1 points)."""
    weights = savgol_weights(2 * m + 1, degree, deriv=k, delta=h, convolve=True) / factorial(k)
    weights.setflags(write=False)
    return weights


@lru_cache(maxsize=64)
def _end_weights(x: tuple, first: bool, width: float, degree: int) -> np.ndarray:
    """Weights of the local fits at the first (or last) ``len(x) // 2`` points of ``x``.

    Shape (len(x), points x coefficients): ``y @ weights`` gives the
    coefficients of rows ``y`` on the grid ``x``.

    The fits are linear in ``y`` with weights set by the grid: fitting the
    unit vectors once gives them for every row sharing that grid.
    """
    size = len(x)
    unit, _ = _local_poly_general(
        np.broadcast_to(np.asarray(x), (size, size)), np.eye(size), width, degree
    )
    ends = slice(None, size // 2) if first else slice(-(size // 2), None)
    weights = np.moveaxis(unit, 0, -1)[:, ends, :].reshape(size, -1)
    weights.setflags(write=False)
    return weights


def _local_poly_general(
    x: np.ndarray, y: np.ndarray, width: float, degree: int, orders: tuple[int, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`local_poly` on any grid, with gaps (one loop over neighbour offsets).

    Each pair of points ``(i, i + j)`` is visited once: its power ``dx**k``
    is added to the sums of both points, with the sign ``(-1)**k`` at the
    right-hand one. Rows must be compacted (ascending, NaN tail); rows
    padded by more than a fifth are joined end to end first. Returns the
    coefficients and ``inv_diag`` of the ``orders`` (default: all), each of
    shape ``(len(orders),) + y.shape``.
    """
    orders = tuple(range(degree + 1)) if orders is None else tuple(orders)
    m = max(max_offset(x, 0.5 * width), degree // 2 + 1)
    x, y = np.broadcast_arrays(x, y)
    points = np.isfinite(x)
    if x.ndim == 2 and x.shape[0] > 1 and points.sum() + m * x.shape[0] < 0.8 * x.size:
        return _on_joined_rows(x, y, points, m, width, degree, orders)
    return _pair_sums_fit(x, y, m, width, degree, orders)


def _on_joined_rows(x, y, points, m, width, degree, orders):
    """:func:`_pair_sums_fit` on ragged rows joined end to end, ``m`` missing points apart.

    Rows of very different lengths padded to the longest waste work; joined
    into one row, separated by more missing points than any fit reaches
    across, each point sees the same neighbours and gets the same fit.
    """
    length = points.sum(axis=-1)
    start = np.cumsum(length + m) - (length + m)
    at = (np.cumsum(points, axis=-1) + (start - 1)[:, None])[points]
    joined_x = np.full(int(start[-1] + length[-1] + m), np.nan)
    joined_y = np.full(joined_x.shape, np.nan)
    joined_x[at] = x[points]
    joined_y[at] = y[points]
    coef_j, inv_j = _pair_sums_fit(joined_x, joined_y, m, width, degree, orders)
    coef = np.full((len(orders),) + x.shape, np.nan)
    inv_diag = np.full(coef.shape, np.nan)
    coef[:, points] = coef_j[:, at]
    inv_diag[:, points] = inv_j[:, at]
    return coef, inv_diag


def _pair_sums_fit(x, y, m, width, degree, orders):
    """The local fits from sums over the pairs of points at most ``m`` apart.

    See :func:`_local_poly_general`.
    """
    half = 0.5 * width
    always = degree // 2 + 1
    scale = max(half, 1e-6)
    npow = 2 * degree + 1
    n = x.shape[-1]
    good = np.isfinite(x) & np.isfinite(y)
    y0 = np.where(good, y, 0.0)
    s = np.zeros((npow,) + x.shape)
    t = np.zeros((degree + 1,) + x.shape)
    s[0] = good
    t[0] = y0
    limit = half * (1 + 1e-9)
    for j in range(1, min(m, n - 1) + 1):
        left, right = (..., slice(0, n - j)), (..., slice(j, n))
        dx = x[right] - x[left]
        ok = good[left] & good[right]
        if j > always:
            with np.errstate(invalid="ignore"):
                ok &= dx <= limit
        p = ok.astype(float)
        dx = np.where(ok, dx, 0.0)
        dx /= scale
        for k in range(npow):
            to_right = np.subtract if k % 2 else np.add  # (-dx)**k at the right-hand point
            s[k][left] += p
            to_right(s[k][right], p, out=s[k][right])
            if k <= degree:
                t[k][left] += p * y0[right]
                to_right(t[k][right], p * y0[left], out=t[k][right])
            p *= dx
    enough = s[0] > degree
    if degree == 2:
        coef, inv_diag = _solve_quadratic(s, t, orders)
    else:
        idx = np.arange(degree + 1)
        a = np.moveaxis(s, 0, -1)[..., idx[:, None] + idx[None, :]]
        a = np.where(enough[..., None, None], a, np.eye(degree + 1))
        inv = np.linalg.inv(a)
        coef = np.moveaxis(np.einsum("...ij,...j->...i", inv, np.moveaxis(t, 0, -1)), -1, 0)[list(orders)]
        inv_diag = np.moveaxis(np.diagonal(inv, axis1=-2, axis2=-1), -1, 0)[list(orders)]
    powers = (scale ** -np.asarray(orders, dtype=float)).reshape((-1,) + (1,) * x.ndim)
    bad = ~enough | ~np.isfinite(y)
    coef = np.where(bad, np.nan, coef * powers)
    inv_diag = np.where(bad, np.nan, inv_diag * powers**2)
    return coef, inv_diag


def _solve_quadratic(s: np.ndarray, t: np.ndarray, orders: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Normal equations of local quadratic fits, solved by cofactors.

    ``s`` (5, ...) holds the power sums ``sum dx**k`` and ``t`` (3, ...) the
    sums ``sum y dx**k``: the normal matrix is the Hankel matrix of ``s``.
    Returns the coefficients of the ``orders`` and those diagonal elements
    of the inverse, shape (len(orders), ...) (NaN or inf where the matrix
    is singular).
    """
    s0, s1, s2, s3, s4 = s
    with np.errstate(all="ignore"):
        c00, c01, c02 = s2 * s4 - s3 * s3, s2 * s3 - s1 * s4, s1 * s3 - s2 * s2
        c11, c12, c22 = s0 * s4 - s2 * s2, s1 * s2 - s0 * s3, s0 * s2 - s1 * s1
        det = s0 * c00 + s1 * c01 + s2 * c02
        cofactors = ((c00, c01, c02), (c01, c11, c12), (c02, c12, c22))
        coef = np.stack([sum(c * tk for c, tk in zip(cofactors[k], t)) / det for k in orders])
        inv_diag = np.stack([cofactors[k][k] / det for k in orders])
    return coef, inv_diag


#: y_i minus the cubic through its two neighbours on each side (uniform grid).
_RESIDUAL = np.array([1.0, -4.0, 6.0, -4.0, 1.0]) / 6.0


def convolve_rows(y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Convolution of every row of ``y`` with ``weights`` (odd length), same size.

    The rows are convolved as one long 1-D array (``numpy.convolve``), so
    the first and last ``len(weights) // 2`` points of each row mix in the
    neighbouring rows: the caller must not use them.
    """
    if y.size == 0:
        return np.empty(y.shape)
    flat = np.ascontiguousarray(y, dtype=float).reshape(-1)
    return np.convolve(flat, weights, mode="same").reshape(y.shape)


def noise_sigma(x: np.ndarray, y: np.ndarray, *, finite: bool = False) -> np.ndarray:
    """Robust noise standard deviation of each row from its high-frequency residual.

    Each point is predicted by the cubic through its four nearest
    neighbours (two on each side); the residual ``r_i = y_i - p_i`` has
    variance ``sigma**2 * (1 + sum w_k**2)`` for white noise, with ``w_k``
    the interpolation weights. ``sigma`` is 1.4826 times the median of
    ``|r_i| / sqrt(1 + sum w_k**2)`` (median absolute deviation), which
    ignores the few points where the spectrum's own curvature dominates.
    Rows must be compacted; ``finite=True`` says that ``y`` has no NaN.
    """
    n = y.shape[-1]
    if uniform_step(x, y, finite=finite) is not None:
        r = convolve_rows(y, _RESIDUAL)
        np.abs(r, out=r)
        scale = 1.4826 / np.sqrt(1.0 + 2.0 * (1 / 36 + 4 / 9))
        if n - 4 < SELECT_MIN:
            return scale * row_median(r[..., 2:-2], inplace=True)
        # the median of the points 2 .. n - 3 on the whole rows (no copy), the two at each end NaN (last)
        r[..., :2] = np.nan
        r[..., -2:] = np.nan
        rows = r.reshape(-1, n)
        return scale * _counted_median(rows, np.full(rows.shape[0], n - 4)).reshape(y.shape[:-1])
    if n < 5:
        return np.full(y.shape[:-1], np.nan)
    x1 = one_row(x)
    if x1.ndim == 1 and np.isfinite(x1).all() and (finite or all_finite(y)):
        weights, norm = _residual_weights(tuple(x1.tolist()))
        if np.isfinite(norm).all():
            return 1.4826 * row_median(_scaled_residual(y, weights, norm), inplace=True)
    with quiet():
        weights, norm = _interp_weights(x)
        return 1.4826 * nan_row_median(_scaled_residual(y, weights, norm))


#: Neighbour offsets of the cubic prediction in :func:`noise_sigma`.
_NEIGHBOURS = (-2, -1, 1, 2)


def _scaled_residual(y: np.ndarray, weights, norm: np.ndarray) -> np.ndarray:
    """``|y_i - p_i| * norm_i`` at the points ``2 .. n - 3`` of each row (see :func:`noise_sigma`)."""
    n = y.shape[-1]
    pred = np.zeros(y.shape[:-1] + (n - 4,))
    for w, j in zip(weights, _NEIGHBOURS):
        pred += w * y[..., 2 + j : n - 2 + j]
    r = y[..., 2:-2] - pred
    np.abs(r, out=r)
    r *= norm
    return r


def _interp_weights(x: np.ndarray) -> tuple[list, np.ndarray]:
    """Weights of ``y[i + j]`` (j in :data:`_NEIGHBOURS`) in the cubic prediction of ``y_i``.

    At the points ``2 .. n - 3`` of each row (shape ``(..., n - 4)``, ``n``
    at least 5); also returns ``1 / sqrt(1 + sum w**2)``. NaN where a
    neighbour is missing. With ``d_j = x_{i+j} - x_i``, the Lagrange weight
    of neighbour ``a`` is the product over the others ``b`` of
    ``d_b / (d_b - d_a)``.
    """
    n = x.shape[-1]
    centre = x[..., 2 : n - 2]
    d = [x[..., 2 + j : n - 2 + j] - centre for j in _NEIGHBOURS]
    weights = []
    wsum = np.zeros(centre.shape)
    for a in range(4):
        others = [b for b in range(4) if b != a]
        w = d[others[0]] / (d[others[0]] - d[a])
        for b in others[1:]:
            w *= d[b] / (d[b] - d[a])
        weights.append(w)
        wsum += w * w
    return weights, 1.0 / np.sqrt(1.0 + wsum)


@lru_cache(maxsize=64)
def _residual_weights(x: tuple) -> tuple[tuple, np.ndarray]:
    """:func:`_interp_weights` on one grid (read-only arrays)."""
    with quiet():
        weights, norm = _interp_weights(np.asarray(x, dtype=float))
    out = tuple(weights) + (norm,)
    for a in out:
        a.setflags(write=False)
    return out[:-1], out[-1]


def nan_row_median(a: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN for a row without a number).

    Each row's middle element(s) are taken at its own count of numbers:
    by :func:`order_statistics` for long rows, else from the rows sorted
    once (NaN last), instead of ``np.nanmedian``'s row-by-row loop.
    """
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan)
    count = a.shape[-1] - np.count_nonzero(np.isnan(a), axis=-1)
    if a.shape[-1] >= SELECT_MIN:
        return _counted_median(a.reshape(-1, a.shape[-1]), count.reshape(-1)).reshape(count.shape)
    ordered = np.sort(a, axis=-1)
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = (count // 2)[..., None]
    low, high = np.take_along_axis(ordered, lo, -1)[..., 0], np.take_along_axis(ordered, hi, -1)[..., 0]
    with np.errstate(all="ignore"):
        median = np.where(count % 2 == 1, low, 0.5 * (low + high))
    return np.where(count > 0, median, np.nan)


def _counted_median(rows: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Median of the first ``count`` values of each sorted row (rows, n), NaN last, by :func:`order_statistics`.

    Half the sum of the two middle values for an even count (as ``np.median``); NaN for a count of 0.
    """
    low, high = order_statistics(rows, np.maximum((count - 1) // 2, 0), count // 2)
    with np.errstate(all="ignore"):
        median = np.where(count % 2 == 1, low, 0.5 * (low + high))
    return np.where(count > 0, median, np.nan)


def nan_row_quantiles(a: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """Quantiles ``qs`` (fractions) over the last axis ignoring NaN, numpy's linear rule, one sort.

    Examples
    --------
    >>> [q.tolist() for q in nan_row_quantiles(np.array([[1.0, np.nan, 3.0, 2.0]]), (0.0, 0.5, 0.75))]
    [[1.0], [2.0], [2.5]]
    """
    count = a.shape[-1] - np.count_nonzero(np.isnan(a), axis=-1)
    ordered = np.sort(a, axis=-1)
    out = []
    for q in qs:
        pos = q * np.maximum(count - 1, 0)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
        low = take_rows(ordered, lo[..., None])[..., 0]
        high = take_rows(ordered, hi[..., None])[..., 0]
        with np.errstate(all="ignore"):
            value = low + (pos - lo) * (high - low)
        out.append(np.where(count > 0, value, np.nan))
    return out


def row_median(a: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """Median over the last axis of finite values (``np.median`` without its NaN scan).

    Rows of at least :data:`SELECT_MIN` points take their middle values
    from :func:`order_statistics`; shorter ones from a partition
    (``inplace=True`` partitions ``a`` itself, reordering its rows, instead
    of a copy). Both give the values of the sorted row at the middle
    rank(s), so the same median to the bit (for an even count, half the
    sum of the two middle values, as ``np.median``).
    """
    n = a.shape[-1]
    k = n // 2
    if n >= SELECT_MIN:
        rows = a.reshape(-1, n)
        return _counted_median(rows, np.full(rows.shape[0], n)).reshape(a.shape[:-1])
    if inplace:
        a.partition(k, axis=-1)
        part = a
    else:
        part = np.partition(a, k, axis=-1)
    if n % 2:
        return part[..., k]
    return 0.5 * (part[..., :k].max(axis=-1) + part[..., k])


#: Rows at least this long take their medians from :func:`order_statistics`.
SELECT_MIN = 512
#: Rows up to this long are sorted whole by :func:`order_statistics` (numpy sorts short rows
#: with sorting networks, several times faster a value than longer ones).
_SORTED = 256
#: Half-width of the bracket of :func:`order_statistics`, in standard deviations of a sample rank.
_MARGIN = 2.5


def _count(mask: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(mask, axis=-1)`` of a 2-D boolean array, summed as bytes into 16 bits when rows allow."""
    if mask.shape[-1] >= 2**16:
        return np.count_nonzero(mask, axis=-1)
    return np.add.reduce(mask.view(np.uint8), axis=-1, dtype=np.uint16).astype(np.intp)


def order_statistics(a: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The values at ranks ``low`` and ``high`` of each sorted row of ``a`` (rows, n), NaN last.

    ``low`` and ``high`` are integer arrays (rows,) with ``0 <= low <= high
    < n``. The result is that of ``np.sort(a)[r, low[r]]`` (and ``high``),
    found without sorting long rows: a sorted strided sample of at most
    :data:`_SORTED` values of each row gives two values ``lo <= hi``
    expected to bracket both ranks (no bound at the ends of the sample's
    numbers); one pass counts the points below ``lo`` and picks the
    numbers from ``lo`` to ``hi``, packed into shorter rows (each row's
    picks in order, padded with NaN) in which the ranks are the wanted
    ones minus the count below, found the same way. Where the bracket misses a rank, the row is sorted
    whole. Every row's values are exact, whatever its sample, so they never
    depend on the other rows. (A tie of -0.0 and 0.0 may give either zero,
    as a sort may.)

    Examples
    --------
    >>> a = np.random.default_rng(0).normal(size=(3, 1001))
    >>> low, high = order_statistics(a, np.array([0, 500, 999]), np.array([10, 500, 1000]))
    >>> ordered = np.sort(a)
    >>> bool((low == ordered[[0, 1, 2], [0, 500, 999]]).all() and (high == ordered[[0, 1, 2], [10, 500, 1000]]).all())
    True
    """
    rows, n = a.shape
    if n <= _SORTED or rows == 0:
        ordered = np.sort(a, axis=-1)
        return take_rows(ordered, low[:, None])[:, 0], take_rows(ordered, high[:, None])[:, 0]
    sample = np.sort(a[:, :: -(-n // _SORTED)], axis=-1)
    m = sample.shape[-1]
    numbers = m - np.count_nonzero(np.isnan(sample), axis=-1)
    half = _MARGIN * 0.5 * np.sqrt(m) + 1.0  # the spread of a sample rank, and the rounding
    i_lo = np.floor((low + 0.5) * (m / n) - half).astype(np.intp)
    i_hi = np.ceil((high + 0.5) * (m / n) + half).astype(np.intp)
    lo = np.where(i_lo > 0, take_rows(sample, np.clip(i_lo, 0, m - 1)[:, None])[:, 0], -np.inf)
    hi = np.where(i_hi < numbers - 1, take_rows(sample, np.clip(i_hi, 0, m - 1)[:, None])[:, 0], np.inf)
    with row_broadcast():
        below = a < lo[:, None]
        inside = a <= hi[:, None]
    n_below = _count(below)
    np.greater(inside, below, out=inside)  # lo <= a <= hi
    count = _count(inside)
    j_lo, j_hi = low - n_below, high - n_below
    hit = (j_lo >= 0) & (j_hi < count)
    out_lo, out_hi = np.empty(rows), np.empty(rows)
    if hit.any():
        width = int(count.max())
        box = np.full((rows, width), np.nan)
        picks = np.take(a.reshape(-1), np.flatnonzero(inside))  # (a boolean index is slower)
        box[np.arange(width) < count[:, None]] = picks  # each row's picks, in order, at its front
        if not hit.all():
            box = box[hit]
        if width < n:
            out_lo[hit], out_hi[hit] = order_statistics(box, j_lo[hit], j_hi[hit])
        else:  # no narrower than the rows: sorted
            box.sort(axis=-1)
            out_lo[hit] = take_rows(box, j_lo[hit][:, None])[:, 0]
            out_hi[hit] = take_rows(box, j_hi[hit][:, None])[:, 0]
    if not hit.all():
        ordered = np.sort(a[~hit], axis=-1)
        out_lo[~hit] = take_rows(ordered, low[~hit][:, None])[:, 0]
        out_hi[~hit] = take_rows(ordered, high[~hit][:, None])[:, 0]
    return out_lo, out_hi


def interp_rows(xq: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Linear interpolation of each compacted row at ``xq`` (..., q); NaN outside."""
    x, y = np.broadcast_arrays(x, y)
    lead = x.shape[:-1]
    xq = np.broadcast_to(np.asarray(xq, dtype=float), lead + np.shape(xq)[-1:])
    n = x.shape[-1]
    xf = x.reshape(-1, n)
    yf = y.reshape(-1, n)
    qf = xq.reshape(xf.shape[0], -1)
    finite = np.isfinite(xf)
    lo = np.nanmin(xf) if finite.any() else 0.0
    span = (np.nanmax(xf) - lo if finite.any() else 0.0) + 1.0
    base = 3.0 * span * np.arange(xf.shape[0])[:, None]
    key = np.where(finite, xf - lo, 2.0 * span) + base
    qk = np.clip(np.nan_to_num(qf - lo, nan=-1.0), -1.0, 1.5 * span) + base
    pos = np.searchsorted(key.ravel(), qk.ravel(), side="right").reshape(qf.shape)
    pos = pos - n * np.arange(xf.shape[0])[:, None]
    i0 = np.clip(pos - 1, 0, n - 1)
    i1 = np.clip(pos, 0, n - 1)
    x0 = take_rows(xf, i0)
    x1 = take_rows(xf, i1)
    y0 = take_rows(yf, i0)
    y1 = take_rows(yf, i1)
    with np.errstate(all="ignore"):
        out = y0 + (qf - x0) / (x1 - x0) * (y1 - y0)
    out = np.where((pos >= 1) & (qf > x0) & (qf < x1), out, np.nan)
    out = np.where((pos >= 1) & (qf == x0), y0, out)
    return out.reshape(lead + qf.shape[-1:])
