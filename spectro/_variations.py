"""Systematic terms from variations of an analysis: what XANES and XES budgets share.

A budget re-runs an analysis with its options varied and takes each
number's change; these helpers turn changes into terms.
"""

from __future__ import annotations

import numpy as np

__all__ = ["less_noise", "row_rms"]


def row_rms(a: np.ndarray) -> np.ndarray:
    """Root mean square over the last axis ignoring NaN (NaN for a row without a number).

    The squares are added column by column, so that a row's sum is the
    same whatever the number of rows (``np.nanmean`` over a short last
    axis sums a single row pairwise and many rows one column at a time,
    which rounds differently from nine columns on).

    Examples
    --------
    >>> row_rms(np.array([[3.0, np.nan, 4.0], [np.nan, np.nan, np.nan]])).tolist()
    [3.5355339059327378, nan]
    """
    squares = np.square(a)
    seen = ~np.isnan(squares)
    total = np.zeros(a.shape[:-1])
    for k in range(a.shape[-1]):
        total = total + np.where(seen[..., k], squares[..., k], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(total / seen.sum(axis=-1))


def less_noise(change: np.ndarray, err: np.ndarray, err_nominal: np.ndarray) -> np.ndarray:
    """``change`` without the variance ``|err**2 - err_nominal**2|`` that noise alone gives it (sign kept).

    ``sign(D) sqrt(max(0, D**2 - |err**2 - err_nominal**2|))``; a NaN change
    stays NaN, a NaN error counts as 0.

    Examples
    --------
    >>> less_noise(np.array([0.5, -0.5, 0.1, np.nan]), np.full(4, 0.5), np.full(4, 0.4)).round(3).tolist()
    [0.4, -0.4, 0.0, nan]
    """
    noise = np.nan_to_num(np.abs(np.asarray(err, float) ** 2 - np.asarray(err_nominal, float) ** 2))
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(change), np.sign(change) * np.sqrt(np.fmax(change**2 - noise, 0.0)), change)
