"""The linear valence calibration: references on the line, samples placed on it."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..calibration_line import LinearCalibration
from ._style import LABELS, colours, get_ax, scan_labels

__all__ = ["valence_line"]


def valence_line(
    calibration: LinearCalibration,
    *,
    samples: xr.Dataset | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw an observable-against-valence calibration with its references and samples.

    The line ``observable = a + b * valence`` of ``calibration`` is drawn
    (gid ``"calibration_line"``) with its 1-sigma band from the parameter
    covariance (gid ``"calibration_band"``); the anchors are points with
    their errors (gid ``"references"``). Each sample scan is a point at its
    valence and observable, with horizontal error bars ``valence_err`` and
    vertical ones ``<observable>_err``, labelled with its scan (or sample,
    pressure, temperature).

    Parameters
    ----------
    calibration : LinearCalibration
        From :func:`spectro.valence.fit_calibration` or
        :func:`spectro.calibration_line.linear_calibration`.
    samples : xarray.Dataset, optional
        Results along ``scan`` holding the observable (e.g. ``e0``) and
        optionally ``<observable>_err``, ``valence`` and ``valence_err``
        (e.g. the XANES results merged with :func:`spectro.valence.valence`);
        when ``valence`` is absent it is predicted with ``calibration``.
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
    >>> import spectro.plot
    >>> from spectro.calibration_line import linear_calibration
    >>> cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05], labels=["NiO", "LaNiO3"])
    >>> ax = spectro.plot.valence_line(cal)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Ni valence', 'E0 (eV)')
    """
    ax = get_ax(ax)
    q_lo, q_hi = calibration.range
    points = None
    if samples is not None:
        obs = calibration.observable
        x = np.asarray(samples[obs].values, dtype=float)
        sx = np.asarray(samples[f"{obs}_err"].values, dtype=float) if f"{obs}_err" in samples else np.zeros_like(x)
        if "valence" in samples:
            q = np.asarray(samples["valence"].values, dtype=float)
            sq = (np.asarray(samples["valence_err"].values, dtype=float) if "valence_err" in samples
                  else np.zeros_like(q))
        else:
            est = calibration.predict(x, sx, warn=False)
            q, sq = np.asarray(est.value, dtype=float), np.asarray(est.err, dtype=float)
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
        labels = scan_labels(samples)
        for i, color in enumerate(colours(q.size)):
            ax.errorbar(q[i], x[i], xerr=sq[i], yerr=sx[i], fmt="o", ms=6, color=color, capsize=3,
                        label=f"{labels[i]}: {q[i]:.2f} ± {sq[i]:.2f}", zorder=4)
    ax.set_xlabel(LABELS["valence"] if calibration.quantity == "valence" else calibration.quantity)
    ax.set_ylabel(LABELS.get(calibration.observable, f"{calibration.observable} ({calibration.units})"))
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax
