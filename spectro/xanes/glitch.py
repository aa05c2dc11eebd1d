"""Glitch (spike) detection in XANES spectra.

A point is a glitch when it departs from the running median of its
neighbours (``size`` points centred on it) by more than ``k`` robust
standard deviations of that residual: ``|y - median| > k * s`` with ``s =
1.4826 * MAD(residual)`` per spectrum. ``s`` is floored at
``floor * (P95 - P5)`` of the spectrum, so noise-free spectra, whose
residual is zero except where the spectrum curves, are not riddled with
false positives. A running median follows monotonic stretches exactly (the
rising edge gives no residual) and is not pulled by a single spike.
Removing glitches sets them to NaN ("no point here"), which every kernel
understands.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .. import _apply
from . import _arrays

__all__ = ["Glitches", "find_glitches", "find_glitches_arrays", "remove_glitches"]


@dataclass(frozen=True)
class Glitches:
    """Glitch mask and the numbers behind it.

    Attributes
    ----------
    mask : ndarray of bool, shape (..., n)
        True at glitches.
    residual : ndarray, shape (..., n)
        Data minus running median.
    threshold : ndarray, shape (...)
        ``k * s`` per spectrum.
    size, k, floor : parameters used.
    """

    mask: np.ndarray
    residual: np.ndarray
    threshold: np.ndarray
    size: int
    k: float
    floor: float


def find_glitches_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    *,
    size: int = 5,
    k: float = 6.0,
    floor: float = 0.005,
) -> Glitches:
    """Flag spikes: points far from the running median of their neighbours.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    mu : ndarray, shape (..., n)
        Spectra.
    size : int, keyword-only
        Running-median window, points (odd, >= 3).
    k : float, keyword-only
        Threshold in robust standard deviations.
    floor : float, keyword-only
        Smallest threshold scale, as a fraction of the spectrum's P95 - P5 range.

    Returns
    -------
    Glitches

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8300.0, 8400.0, 0.5)
    >>> mu = np.arctan((e - 8340) / 2)
    >>> mu[50] += 0.3
    >>> np.flatnonzero(find_glitches_arrays(e, mu).mask).tolist()
    [50]
    """
    size = max(3, int(size) | 1)
    x, y = _arrays.as_rows(energy, mu)
    _xs, ys, order = _arrays.compact(x, y)
    half = size // 2
    padded = np.concatenate(
        [
            np.full(ys.shape[:-1] + (half,), np.nan),
            ys,
            np.full(ys.shape[:-1] + (half,), np.nan),
        ],
        axis=-1,
    )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = _running_median(padded, size)
        r = ys - med
        complete = _arrays.all_finite(ys)  # then r is finite too: medians and quantiles without the NaN sort
        median = _arrays.row_median if complete else _arrays.nan_row_median
        mad = median(np.abs(r - median(r)[..., None]))
        p5, p95 = (_quantiles if complete else _arrays.nan_row_quantiles)(ys, (0.05, 0.95))
        spread = p95 - p5
    scale = np.maximum(1.4826 * mad, floor * spread)
    thr = k * scale
    mask = np.abs(r) > thr[..., None]
    in_place = complete or bool((order == np.arange(order.shape[-1])).all())
    return Glitches(
        mask=mask if in_place else _arrays.scatter(mask, order),
        residual=r if in_place else _arrays.scatter(r, order),
        threshold=thr,
        size=size,
        k=float(k),
        floor=float(floor),
    )


def _quantiles(a: np.ndarray, qs: tuple[float, ...]) -> list[np.ndarray]:
    """:func:`~spectro.xanes._arrays.nan_row_quantiles` of rows without NaN, by one partition instead of a sort.

    The values at the two ranks around each quantile are those of the
    sorted rows, so the quantiles are the same to the bit.
    """
    n = a.shape[-1]
    if n == 0:
        return [np.full(a.shape[:-1], np.nan) for _ in qs]
    ranks = []
    for q in qs:
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        ranks.append((pos, lo, min(lo + 1, n - 1)))
    part = np.partition(a, sorted({r for _, lo, hi in ranks for r in (lo, hi)}), axis=-1)
    with np.errstate(all="ignore"):
        return [part[..., lo] + (pos - lo) * (part[..., hi] - part[..., lo]) for pos, lo, hi in ranks]


def _running_median(padded: np.ndarray, size: int) -> np.ndarray:
    """``nan_row_median`` of every window of ``size`` points of ``padded`` (..., n + size - 1).

    For windows of 5 the median is ``med3(e, max(min(a, b), min(c, d)),
    min(max(a, b), max(c, d)))`` on the five shifted rows: six elementwise
    operations instead of a sort per window, and the same value (one of the
    five). Windows with a missing point (the ends, NaN gaps) are sorted.
    """
    windows = np.lib.stride_tricks.sliding_window_view(padded, size, axis=-1)
    if size != 5:
        return _arrays.nan_row_median(windows)
    n = padded.shape[-1] - 4
    a, b, c, d, e = (padded[..., k : k + n] for k in range(5))
    f = np.maximum(np.minimum(a, b), np.minimum(c, d))
    g = np.minimum(np.maximum(a, b), np.maximum(c, d))
    med = np.maximum(np.minimum(e, f), np.minimum(np.maximum(e, f), g))
    med[..., :2] = _arrays.nan_row_median(windows[..., :2, :])  # the padded ends
    med[..., -2:] = _arrays.nan_row_median(windows[..., -2:, :])
    partial = np.isnan(med)
    if partial.any():  # NaN gaps inside
        med[partial] = _arrays.nan_row_median(windows[partial])
    return med


def find_glitches(
    ds: xr.Dataset,
    *,
    size: int = 5,
    k: float = 6.0,
    floor: float = 0.005,
    variable: str = "mu",
) -> xr.DataArray:
    """Boolean glitch mask ``(scan, energy)`` of ``ds[variable]``.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(glitches=2, noise=0.002, seed=3)
    >>> bool((find_glitches(ds) == ds.true_glitch).all())
    True
    """

    def kernel(mu, *, energy):
        return (find_glitches_arrays(energy, mu, size=size, k=k, floor=floor).mask,)

    out = _apply.run(
        kernel,
        _apply.signal(ds, variable),
        outputs={"glitch": (["energy"], "", f"glitch mask of {variable}")},
    )
    mask = out["glitch"].astype(bool)
    mask.attrs = {
        "units": "",
        "long_name": f"glitch mask of {variable}",
        "method": "running median",
        "size": int(size),
        "k": float(k),
        "floor": float(floor),
    }
    return mask


def remove_glitches(ds: xr.Dataset, **options) -> xr.Dataset:
    """A copy of ``ds`` with glitches of ``mu`` set to NaN (see :func:`find_glitches`).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(glitches=3, seed=1)
    >>> int(remove_glitches(ds).mu.isnull().sum())
    3
    """
    mask = find_glitches(ds, **options)
    out = ds.copy()
    out["mu"] = ds.mu.where(~mask)
    out["mu"].attrs = dict(ds.mu.attrs)
    return out
