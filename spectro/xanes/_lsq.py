"""Bounded nonlinear least squares for many small problems at once (Levenberg–Marquardt).

Each row is its own problem: ``minimize sum_j mask_j (y_j - f_j(p))**2``
over ``lower <= p <= upper``, with ``f`` and its Jacobian given for all
rows together. The normal equations of every row still iterating are
solved in one :func:`numpy.linalg.solve` on the stacked ``(k, k)``
matrices; damping, step acceptance and convergence are per row, and every
sum runs over the row's own points, so a row's result does not depend on
the other rows of the call.

Method (Marquardt 1963, kept strictly inside the bounds): the step solves
``(A + lam diag(A)) dp = J^T r`` (``A = J^T J``); a parameter whose step
would cross a bound goes ``theta`` (0.5) of the way to it instead, so
parameters stay inside the bounds and approach one geometrically (a zero
amplitude never freezes the centre and width of its peak); a parameter
within ``snap`` of a bound whose gradient points outwards is put within
``hold`` of it (where the geometric approach would end after many more
steps) and held there for the step (the step of the others solves their
own equations). The trial point is accepted if it lowers the sum of
squares; the damping then shrinks by the gain ratio ``rho`` (actual over
predicted reduction, Nielsen 1999: ``lam *= max(1/3, 1 - (2 rho - 1)**3)``),
else grows (``lam *= nu``, ``nu`` doubling at each rejection in a row).
A row has converged when an accepted step lowers the sum of squares by
less than ``ftol`` of it, or a step changes no parameter by more than
``xtol`` of its scale; it fails after ``max_iter`` steps.

The covariance is ``inv(J^T J) * chisqr / (n - k)`` at the solution, as
lmfit gives it; it is NaN (and ``singular`` True) when ``J^T J`` scaled to
unit diagonal has a reciprocal condition number below ``rcond``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Model of the rows ``rows`` at parameters ``p`` (shape (len(rows), k)):
#: values (len(rows), m) and Jacobian d value / d p (len(rows), k, m), new
#: arrays at each call (the solver keeps them as its state and updates them).
Model = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class LsqResult:
    """Solutions of many least-squares problems.

    Attributes
    ----------
    p : ndarray, shape (N, k)
        Best parameters.
    cov : ndarray, shape (N, k, k)
        Covariance of ``p`` (scaled by the reduced chi-square); NaN where singular.
    chisqr : ndarray, shape (N,)
        Sum of squared residuals at ``p``.
    nfree : ndarray of int, shape (N,)
        Points less parameters.
    converged, singular : ndarray of bool, shape (N,)
        The row converged; its ``J^T J`` is singular.
    jac : ndarray, shape (N, k, m)
        The Jacobian at ``p`` (zero at masked points).
    """

    p: np.ndarray
    cov: np.ndarray
    chisqr: np.ndarray
    nfree: np.ndarray
    converged: np.ndarray
    singular: np.ndarray
    jac: np.ndarray


def _normal(jac: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``J^T J`` and ``J^T r`` of each row: a product per row of the stack, the same whatever the other rows."""
    return jac @ jac.transpose(0, 2, 1), (jac @ r[:, :, None])[:, :, 0]


def least_squares(
    model: Model,
    y: np.ndarray,
    mask: np.ndarray,
    p0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    max_iter: int = 400,
    ftol: float = 1e-8,
    xtol: float = 1e-8,
    rcond: float = 1e-13,
    theta: float = 0.5,
    hold: float = 1e-7,
    lam0: float = 0.1,
    snap: float = 1e-4,
) -> LsqResult:
    """Fit every row of ``y`` (where ``mask``) with ``model``, within bounds.

    Parameters
    ----------
    model : callable
        ``model(p, rows) -> (values, jacobian)`` for the rows ``rows`` (an
        index array) at parameters ``p`` of shape ``(len(rows), k)``.
    y, mask : ndarray, shape (N, m)
        Data and which points count (finite ``y`` where True).
    p0, lower, upper : ndarray, shape (N, k)
        Start and bounds (``-inf``/``inf`` for none).
    max_iter : int, keyword-only
        Steps allowed per row.
    ftol, xtol, rcond : float, keyword-only
        Convergence tolerances and the singularity threshold.
    theta : float, keyword-only
        A step that would cross a bound goes this fraction of the way to it.
    hold : float, keyword-only
        Held parameters are put this close to their bound (relative to
        their scale), if not closer already.
    lam0 : float, keyword-only
        Starting damping.
    snap : float, keyword-only
        A parameter this close to a bound (relative to its scale) whose
        gradient points outwards is held for the step (``snap >= hold``).

    Returns
    -------
    LsqResult

    Examples
    --------
    >>> x = np.linspace(0.0, 1.0, 20)[None]
    >>> def line(p, rows):
    ...     return p[:, :1] + p[:, 1:] * x, np.stack([np.ones_like(x), x], 1).repeat(len(rows), 0)
    >>> y = 1.0 + 2.0 * x
    >>> r = least_squares(line, y, np.ones(y.shape, bool), np.zeros((1, 2)), np.full((1, 2), -np.inf),
    ...                   np.full((1, 2), np.inf))
    >>> np.round(r.p, 6).tolist(), bool(r.converged[0])
    ([[1.0, 2.0]], True)
    """
    n, k = p0.shape
    y = np.where(mask, y, 0.0)
    p = np.clip(p0, lower, upper)
    f, jac = model(p, np.arange(n))
    jac = np.where(mask[:, None, :], jac, 0.0)
    r = np.where(mask, y - f, 0.0)
    cost = np.sum(r * r, axis=-1)
    converged = np.zeros(n, dtype=bool)
    scale = np.maximum(np.abs(p), 1.0) * np.where(np.isfinite(upper - lower), np.minimum(upper - lower, 1.0), 1.0)
    eye = np.eye(k)
    full = bool(mask.all())  # no masked point: residuals and Jacobians need no masking
    # The rows still iterating (``live``) and their state, compacted: a row leaves when it has converged, so
    # no row is looked up or copied while it iterates. The normal equations are kept per row.
    live = np.flatnonzero(np.isfinite(cost))
    pw, jw, rw, cw, yw, mw, low, hiw, sw = (v[live] for v in (p, jac, r, cost, y, mask, lower, upper, scale))
    far, near = snap * sw, hold * sw
    aw, gw = _normal(jw, rw)
    lam, nu = np.full(live.size, lam0), np.full(live.size, 2.0)
    for _ in range(max_iter):
        if not live.size:
            break
        d = aw.reshape(-1, k * k)[:, ::k + 1]  # the diagonals
        damping = np.maximum(d, 1e-12 * np.maximum.reduce(d, axis=-1, keepdims=True) + 1e-300)
        to_lo, to_hi = (pw - low <= far) & (gw < 0), (hiw - pw <= far) & (gw > 0)
        held = to_lo | to_hi
        any_held = np.count_nonzero(held) > 0
        m = aw.copy()
        m.reshape(-1, k * k)[:, ::k + 1] += lam[:, None] * damping  # on the diagonal
        free = gw
        if any_held:
            m = np.where((held[:, :, None] | held[:, None, :]), eye, m)
            free = np.where(held, 0.0, gw)
        step = np.linalg.solve(m, free[:, :, None])[:, :, 0]
        # a parameter whose step crosses a bound goes theta of the way to it; the others are solved again
        # with that one fixed
        trial = pw + step
        below, above = trial < low, trial > hiw
        cross = below | above
        if np.count_nonzero(cross):
            to_low, to_high = theta * (low - pw), theta * (hiw - pw)
            fixed = np.where(below, to_low, np.where(above, to_high, 0.0))
            rhs = np.where(cross, fixed, free - (m @ fixed[:, :, None])[:, :, 0])
            m = np.where((cross[:, :, None] | cross[:, None, :]), eye, m)
            step = np.linalg.solve(m, rhs[:, :, None])[:, :, 0]
            trial = pw + step
            below, above = trial < low, trial > hiw
            trial = np.where(below, pw + to_low, np.where(above, pw + to_high, trial))
        if any_held:
            trial = np.where(to_lo, low + np.minimum(pw - low, near),
                             np.where(to_hi, hiw - np.minimum(hiw - pw, near), trial))
        ft, jt = model(trial, live)
        rt = yw - ft if full else np.where(mw, yw - ft, 0.0)
        ct = np.add.reduce(rt * rt, axis=-1)
        better = ct < cw  # False where ct is NaN; a sum of squares below a finite one is finite
        taken = trial - pw
        stuck = np.maximum.reduce(np.abs(taken) / sw, axis=-1) <= xtol
        gain = cw - ct
        small = better & (gain <= ftol * cw)
        # the gain ratio: actual over predicted reduction (Nielsen 1999); 0 where none is predicted
        predicted = (2.0 * np.add.reduce(taken * gw, axis=-1)
                     - (taken[:, None, :] @ aw @ taken[:, :, None])[:, 0, 0])
        rho = gain / np.where(predicted > 0, predicted, np.inf)
        # rho >= 0 where the step is taken (gain > 0), the only rows whose damping shrinks
        shrink = np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.minimum(rho, 1.0) - 1.0) ** 3)
        # the rows whose step is taken move to the trial point; the normal equations of the others come out
        # the same as before (the same product of the same values)
        row = better[:, None]
        np.copyto(pw, trial, where=row)
        np.copyto(rw, rt, where=row)
        np.copyto(jw, jt, where=row[:, :, None] if full else row[:, :, None] & mw[:, None, :])
        np.copyto(cw, ct, where=better)
        aw, gw = _normal(jw, rw)
        lam = np.where(better, np.maximum(lam * shrink, 1e-12), lam * nu)
        nu = np.where(better, 2.0, 2.0 * nu)
        finished = small | stuck | (lam > 1e16)
        if np.count_nonzero(finished):
            out = live[finished]
            p[out], jac[out], cost[out], converged[out] = pw[finished], jw[finished], cw[finished], True
            keep = ~finished
            live = live[keep]
            pw, jw, rw, cw, yw, mw, low, hiw, sw, far, near, aw, gw, lam, nu = (
                v[keep] for v in (pw, jw, rw, cw, yw, mw, low, hiw, sw, far, near, aw, gw, lam, nu))
    p[live], jac[live], cost[live] = pw, jw, cw  # rows out of steps
    nfree = np.sum(mask, axis=-1) - k
    cov, singular = covariance(jac, cost, nfree, rcond=rcond)
    return LsqResult(p=p, cov=cov, chisqr=cost, nfree=nfree, converged=converged & np.isfinite(cost),
                     singular=singular, jac=jac)


def covariance(jac: np.ndarray, chisqr: np.ndarray, nfree: np.ndarray, *, rcond: float = 1e-13
               ) -> tuple[np.ndarray, np.ndarray]:
    """Covariance ``inv(J^T J) * chisqr / nfree`` of each row, and which rows are singular (their covariance NaN).

    A row is singular when ``J^T J`` scaled to unit diagonal has a
    reciprocal condition number below ``rcond`` (or a zero column).

    Examples
    --------
    >>> jac = np.array([[[1.0, 1.0, 1.0], [0.0, 1.0, 2.0]], [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]])
    >>> cov, singular = covariance(jac, np.array([1.0, 1.0]), np.array([1, 1]))
    >>> singular.tolist(), np.round(cov[0], 3).tolist()
    ([False, True], [[0.833, -0.5], [-0.5, 0.5]])
    """
    k = jac.shape[1]
    eye = np.eye(k)
    a, _ = _normal(jac, np.zeros(jac.shape[:1] + jac.shape[2:]))
    d = np.sqrt(np.diagonal(a, axis1=1, axis2=2))
    with np.errstate(all="ignore"):
        unit = a / (d[:, :, None] * d[:, None, :])
        good = np.all(d > 0, axis=-1) & np.all(np.isfinite(unit), axis=(-2, -1))
        unit = np.where(good[:, None, None], unit, eye)
        ev = np.linalg.eigvalsh(unit)
        singular = ~good | (ev[:, 0] <= rcond * ev[:, -1])
        inv = np.linalg.inv(np.where(singular[:, None, None], eye, unit)) / (d[:, :, None] * d[:, None, :])
        cov = inv * (chisqr / np.maximum(nfree, 1))[:, None, None]
    return np.where(singular[:, None, None], np.nan, cov), singular
