"""Correlated noise: how much more a point or a smoothed slope moves than white noise of the same residual says.

The statistical errors of the analysis take the noise of a spectrum as
white, of the standard deviation :func:`spectro.xanes._arrays.noise_sigma`
finds in the residual ``r_i = y_i - p_i`` of each point against the cubic
through its four neighbours. A detector or amplifier with a time constant
of a point or two (a continuous scan) makes neighbouring points' noise
correlated: the point-to-point residual then sees less of it than a point
or a smoothed derivative does, and the errors are too small.

Here the noise is taken as a first-order autoregressive process (AR(1),
lag-one correlation ``phi``) in the order of the points, and ``phi`` is
measured on each spectrum alone (:func:`ar1_phi`): the point-to-point
residual ``r`` (filter ``f = (1/6, -2/3, 1, -2/3, 1/6)``) and the same
residual taken on every other point have the same variance for white
noise, and their ratio ``c(phi**2) / c(phi)`` grows with ``phi``
(``c(phi) = sum_ab f_a f_b phi**|a - b|``, the residual's variance).

A quantity that is a linear function ``sum_i w_i y_i`` of the data then
has the variance ``s**2 sum_k phi**|k| a_w(k)`` (``a_w`` the kernel's
autocorrelation, ``s`` the points' standard deviation), where white noise
of the residual's size gives ``sigma**2 a_w(0)`` with ``sigma**2 = s**2
c(phi) / c(0)`` (``c`` as above). The error is therefore multiplied by the :func:`inflation`

``F(phi) = sqrt(sum_k phi**|k| a_w(k) / a_w(0) * c(0) / c(phi))``,

which is 1 for ``phi = 0``: on white noise the errors stay what they were
(``phi`` is clipped to ``[0, PHI_MAX]``). This is the variance inflation of
autocorrelated data, the "effective number of independent points"
``n (1 - phi) / (1 + phi)`` for a mean (Bretherton et al., J. Climate 12,
1990 (1999)), written for the kernel of each estimate. Two kernels are
used: the linear interpolation between the two points that bracket a level
crossing (:data:`POINT_KERNEL`), and the slope of a smoothed derivative at
its maximum (:func:`slope_kernel`, the derivative maximum of a foil and the
whole-foil alignment, whose error weights are the reference's third
derivative).
"""

from __future__ import annotations

import functools

import numpy as np

from . import _arrays

__all__ = ["EDGE_EXCLUDED", "MAX_SPAN", "MIN_POINTS", "PHI_MAX", "POINT_KERNEL", "ar1_phi", "inflation",
           "slope_inflation", "slope_kernel"]

#: Largest lag-one correlation taken from a spectrum (above it the residual cannot tell the noise from the signal).
PHI_MAX: float = 0.9
#: The kernel of a level crossing interpolated between two points (its middle: ``t = 1/2``).
POINT_KERNEL: tuple[float, ...] = (0.5, 0.5)
#: The residual filter of :func:`spectro.xanes._arrays.noise_sigma` on a uniform grid.
_RESIDUAL = _arrays._RESIDUAL
_PHIS = np.linspace(0.0, 0.999, 1000)
#: Longest nine-point span (eV) on which the noise's correlation is measured (a 0.5 eV grid).
MAX_SPAN: float = 4.0
#: Energies (eV, relative to the edge) whose points are not used to measure the noise's correlation (the edge,
#: its pre-edge peak and first oscillations: structure a cubic over nine points does not follow).
EDGE_EXCLUDED: tuple[float, float] = (-30.0, 60.0)
#: Fewest usable points for a measure of the noise's correlation (else none: the errors stay white-noise ones).
MIN_POINTS: int = 100


def _ar1_quadratic(w: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``sum_ab w_a w_b phi**|a - b|`` for each ``phi`` (the variance of ``w . y`` for AR(1) noise of unit
    variance)."""
    w = np.asarray(w, dtype=float)
    lags = np.arange(w.size)
    auto = np.array([np.dot(w[: w.size - k], w[k:]) for k in lags])
    weights = np.where(lags == 0, 1.0, 2.0)
    return (weights * auto * np.power.outer(np.asarray(phi, float), lags)).sum(axis=-1)


@functools.cache
def _ratio_table() -> tuple[np.ndarray, np.ndarray]:
    """``R(phi) = c(phi**2) / c(phi)`` (increasing) on :data:`_PHIS`, and ``c(phi)``."""
    c = _ar1_quadratic(_RESIDUAL, _PHIS)
    return _ar1_quadratic(_RESIDUAL, _PHIS**2) / c, c


def ar1_phi(
    energy: np.ndarray,
    y: np.ndarray,
    *,
    edge: np.ndarray | float | None = None,
) -> np.ndarray:
    """Lag-one noise correlation of each row, in ``[0, PHI_MAX]``, from its point-to-point residuals.

    The residual ``r`` of each point against the cubic through its four
    neighbours (``noise_sigma``'s) and the same residual ``q`` on every
    other point (the cubic through the neighbours at -4, -2, +2, +4 points)
    have the same variance for white noise; for AR(1) noise ``q`` sees more
    of it: ``var(q) / var(r) = c(phi**2) / c(phi)``, inverted on a table.
    Both variances are squared median absolute values (the few points of
    sharp structure do not count). Only points whose nine-point span is a
    uniform grid (steps within 10 %) of at most :data:`MAX_SPAN` eV and lies
    outside :data:`EDGE_EXCLUDED` of ``edge`` are used, where a cubic describes the
    spectrum well below the noise; a row with fewer than :data:`MIN_POINTS`
    such points gets NaN (no estimate).

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (the points are taken in increasing energy, the order
        of a scan); NaN = no point.
    y : ndarray, shape (..., n)
        Spectra; NaN marks missing points.
    edge : float or ndarray, keyword-only
        Edge energy, eV (a scalar or one per row): the points from
        ``edge + EDGE_EXCLUDED[0]`` to ``edge + EDGE_EXCLUDED[1]`` are not
        used. None: every point may be. An array of shape ``(k, ...)``
        gives ``k`` edges per row, each row's ``phi`` with each of them in
        one call (the residuals are taken once; each ``phi`` is the one a
        call with that edge alone gives).

    Returns
    -------
    ndarray, shape (...) or (k, ...)
        ``phi`` (about 0 for white noise).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.signal import lfilter
    >>> rng = np.random.default_rng(0)
    >>> e = rng.standard_normal((2, 4000))
    >>> y = np.stack([e[0], lfilter([1.0], [1.0, -0.5], e[1])])
    >>> phi = ar1_phi(np.arange(4000.0) * 0.25, y)
    >>> round(float(phi[0]), 1), bool(0.3 < phi[1] < 0.7)
    (0.0, True)
    """
    xs, ys, _ = _arrays.prepare(energy, y)
    n = ys.shape[-1]
    lead = ys.shape[:-1] if edge is None else np.broadcast_shapes(np.shape(edge), ys.shape[:-1])
    if n < 9:
        return np.full(lead, np.nan)
    with _arrays.quiet():
        use = _uniform_spans(_arrays.one_row(xs))  # on the one grid of all rows when they share one
        if edge is not None:
            centre = xs[..., 4:-4]
            at = np.asarray(edge, dtype=float)[..., None]
            use = use & ~((centre >= at + EDGE_EXCLUDED[0]) & (centre <= at + EDGE_EXCLUDED[1]))
        if not np.any(use.sum(axis=-1) >= MIN_POINTS):  # no row's grid allows an estimate (the usual scan)
            return np.full(lead, np.nan)
        q = sum(w * ys[..., 2 * k : n - 8 + 2 * k] for k, w in enumerate(_RESIDUAL))
        r = sum(w * ys[..., 2 + k : n - 6 + k] for k, w in enumerate(_RESIDUAL))
        use = use & np.isfinite(q) & np.isfinite(r)
        count = use.sum(axis=-1)
        ratio = (_arrays.nan_row_median(np.where(use, np.abs(q), np.nan))
                 / _arrays.nan_row_median(np.where(use, np.abs(r), np.nan))) ** 2
    table, _ = _ratio_table()
    phi = np.clip(np.interp(ratio, table, _PHIS), 0.0, PHI_MAX)
    return np.where((count >= MIN_POINTS) & np.isfinite(ratio), phi, np.nan)


def _uniform_spans(x: np.ndarray) -> np.ndarray:
    """For each nine-point span of the rows ``x``: a uniform grid (steps within 10 %) of at most MAX_SPAN eV."""
    n = x.shape[-1]
    steps = np.diff(x, axis=-1)
    lo_step = np.minimum.reduce([steps[..., k : n - 8 + k] for k in range(8)])
    hi_step = np.maximum.reduce([steps[..., k : n - 8 + k] for k in range(8)])
    return (x[..., 8:] - x[..., :-8] <= MAX_SPAN) & (hi_step <= 1.1 * lo_step) & (lo_step > 0)


def inflation(phi: np.ndarray, kernel: np.ndarray | tuple[float, ...]) -> np.ndarray:
    """Factor by which AR(1) noise of lag-one correlation ``phi`` widens the white-noise error of
    ``kernel . y``, the white noise being of the size the point-to-point residual shows.

    Parameters
    ----------
    phi : ndarray
        Lag-one correlations (:func:`ar1_phi`); NaN gives 1.
    kernel : sequence of float
        The estimate's weights on consecutive points.

    Returns
    -------
    ndarray
        ``F(phi)`` (see the module doc), 1 for ``phi = 0``.

    Examples
    --------
    >>> inflation(np.array([0.0, 0.5]), POINT_KERNEL).round(2).tolist()
    [1.0, 2.0]
    """
    phi = np.nan_to_num(np.clip(np.asarray(phi, dtype=float), 0.0, PHI_MAX))
    grid, table = _inflation_table(tuple(np.asarray(kernel, dtype=float).tolist()))
    return np.interp(phi, grid, table)


@functools.cache
def _inflation_table(kernel: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`inflation` of a kernel on a grid of ``phi`` from 0 to :data:`PHI_MAX` (found once per kernel)."""
    w = np.asarray(kernel, dtype=float)
    _, c = _ratio_table()
    grid = np.linspace(0.0, PHI_MAX, 181)
    table = np.sqrt(_ar1_quadratic(w, grid) / _ar1_quadratic(w, np.zeros(1)) * c[0] / np.interp(grid, _PHIS, c))
    grid.flags.writeable = table.flags.writeable = False
    return grid, table


@functools.cache
def slope_kernel(half: int) -> np.ndarray:
    """Weights of the slope of a derivative smoothed by a local quadratic over ``2 half + 1`` points.

    The derivative maximum moves by the noise of this slope over the
    derivative's curvature (and the whole-foil alignment by a smooth
    third-derivative kernel of the same width).

    Examples
    --------
    >>> k = slope_kernel(3)
    >>> k.size, bool(abs(k.sum()) < 1e-12)
    (9, True)
    """
    d1 = _arrays.savgol_weights(2 * max(int(half), 1) + 1, 2, deriv=1)
    return np.convolve(d1, [0.5, 0.0, -0.5])


def slope_inflation(phi: np.ndarray, energy: np.ndarray, y: np.ndarray, at: np.ndarray, window: float) -> np.ndarray:
    """:func:`inflation` of the slope kernel of a derivative smoothed over ``window`` eV, on the grid of each of
    the spectra ``y`` (NaN: no point).

    The kernel's half-width in points is ``window / 2`` over the row's
    median step among the eight around ``at`` (eV, one per row), at least 2
    (as :func:`spectro.xanes._arrays.local_poly` takes).

    Examples
    --------
    >>> e = np.arange(8300.0, 8400.0, 0.25)
    >>> at = np.array([8333.0, 8333.0])
    >>> slope_inflation(np.array([0.0, 0.5]), e, np.zeros((2, e.size)), at, 1.5).round(2).tolist()
    [1.0, 1.8]
    """
    phi = np.asarray(phi, dtype=float)
    if not np.isfinite(phi).any():  # nothing measured: every kernel's inflation at no correlation is 1
        return np.ones(phi.shape)
    xs, _, _ = _arrays.prepare(energy, y)
    at = np.broadcast_to(np.asarray(at, dtype=float), phi.shape)
    n = xs.shape[-1]
    with _arrays.quiet():
        x1 = _arrays.one_row(xs)
        i = np.searchsorted(x1, at) if x1.ndim == 1 else (xs < at[..., None]).sum(axis=-1)
        around = np.clip(i[..., None] + np.arange(-4, 5), 0, n - 1)
        steps = np.abs(np.diff(np.take_along_axis(np.broadcast_to(xs, phi.shape + (n,)), around, -1), axis=-1))
        half = _arrays.window_points(window, np.nanmedian(steps, axis=-1))
    half = np.where(np.isfinite(half), half, 2.0).astype(int)
    out = np.ones(phi.shape)
    for h in np.unique(half):  # a few grids: one kernel each
        out = np.where(half == h, inflation(phi, slope_kernel(int(h))), out)
    return out
