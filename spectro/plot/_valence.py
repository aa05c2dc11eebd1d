"""The valence line: references on it, and the scans of spectro.valence.valence results placed on it."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..calibration_line import LinearCalibration
from ._style import LABELS, colours, get_ax, require, scan_labels

__all__ = ["valence"]


def _values(results: xr.Dataset, name: str, like: np.ndarray) -> np.ndarray:
    """``results[name]`` as floats, zeros like ``like`` when absent."""
    return np.asarray(results[name].values, dtype=float) if name in results else np.zeros_like(like)


def valence(
    results: xr.Dataset | None,
    calibration: LinearCalibration,
    *,
    ax: Axes | None = None,
) -> Axes:
    """Draw the valence of each scan on its calibration line, with the references.

    The line ``observable = a + b * valence`` of ``calibration`` is drawn
    (gid ``"calibration_line"``) with its 1-sigma band from the parameter
    covariance (gid ``"calibration_band"``); the anchors are points with
    their errors (gid ``"references"``). Each scan of ``results`` is a point
    at its valence with horizontal error bars ``valence_err``, in its own
    colour, labelled with its sample (or scan), pressure and temperature.
    Its observable is taken from ``results`` when present (e.g. results of
    :func:`spectro.valence.from_spectra`, or :func:`spectro.valence.valence`
    merged with the analysis results); otherwise it is the point of the line
    at that valence, with the sample's own error ``|b| valence_err_sample``
    (the two are the same: the valence is read off the line).

    Parameters
    ----------
    results : xarray.Dataset or None
        Results of :func:`spectro.valence.valence` along ``scan``
        (``valence``, ``valence_err``, ``valence_err_sample``); None draws
        the line and its references only. For a line of another quantity
        (e.g. :func:`spectro.spin.high_spin_fraction` results), the
        variables named after ``calibration.quantity``.
    calibration : spectro.calibration_line.LinearCalibration
        The line the valences were read from
        (:func:`spectro.valence.fit_calibration` or
        :func:`spectro.valence.from_spectra`).
    ax : Axes, optional
        Where to draw; a new figure when None.

    Returns
    -------
    Axes
        x is the valence, y the observable (eV).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import xarray as xr
    >>> import spectro, spectro.plot
    >>> from spectro.calibration_line import linear_calibration
    >>> cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05], labels=["NiO", "LaNiO3"])
    >>> res = xr.Dataset({"e0": ("scan", [8346.06]), "calibration_shift": ("scan", [0.0])})
    >>> val = spectro.valence.valence(res, cal)
    >>> ax = spectro.plot.valence(val, cal)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Ni valence', 'E0 (eV)')
    """
    ax = get_ax(ax)
    q_lo, q_hi = calibration.range
    points = None
    if results is not None:
        name, obs = calibration.quantity, calibration.observable
        require(results, [name], "plot.valence")
        q = np.asarray(results[name].values, dtype=float)
        sq = _values(results, f"{name}_err", q)
        if obs in results:
            x = np.asarray(results[obs].values, dtype=float)
            sx = _values(results, f"{obs}_err", q)
        else:
            x = calibration.intercept + calibration.slope * q
            sx = abs(calibration.slope) * _values(results, f"{name}_err_sample", q)
        points = (q, sq, x, sx)
        if np.isfinite(q).any():
            q_lo, q_hi = min(q_lo, float(np.nanmin(q))), max(q_hi, float(np.nanmax(q)))
    pad = 0.1 * (q_hi - q_lo)
    qs = np.linspace(q_lo - pad, q_hi + pad, 100)
    line = calibration.intercept + calibration.slope * qs
    cov = calibration.covariance
    band = np.sqrt(np.clip(cov[0, 0] + qs**2 * cov[1, 1] + 2 * qs * cov[0, 1], 0.0, None))
    ax.fill_between(qs, line - band, line + band, color="0.8", alpha=0.7, gid="calibration_band",
                    label="calibration ±1σ")
    sb = float(np.sqrt(cov[1, 1]))
    ax.plot(qs, line, "k-", lw=1.2, gid="calibration_line",
            label=f"{calibration.observable} = {calibration.intercept:.2f} + ({calibration.slope:.2f} ± {sb:.2f})"
                  f" × {calibration.quantity}")
    ax.errorbar(calibration.anchors, calibration.values, yerr=calibration.errors, fmt="s", ms=7,
                color="k", mfc="white", capsize=3, gid="references", label="references", zorder=3)
    for q in np.unique(calibration.anchors):
        at = calibration.anchors == q
        names = ", ".join(name for name, a in zip(calibration.labels, at) if a)
        ax.annotate(names, (q, float(np.mean(calibration.values[at]))), xytext=(6, -12), textcoords="offset points",
                    fontsize="small")
    if points is not None:
        q, sq, x, sx = points
        labels = scan_labels(results)
        for i, color in enumerate(colours(q.size)):
            ax.errorbar(q[i], x[i], xerr=sq[i], yerr=sx[i], fmt="o", ms=6, color=color, capsize=3,
                        label=f"{labels[i]}: {q[i]:.2f} ± {sq[i]:.2f}", zorder=4)
    ax.set_xlabel(LABELS["valence"] if calibration.quantity == "valence" else calibration.quantity)
    ax.set_ylabel(LABELS.get(calibration.observable, f"{calibration.observable} ({calibration.units})"))
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax
