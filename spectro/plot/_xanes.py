"""XANES overlay: normalized spectra with edge and pre-edge markers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ._style import (
    INSET_LOWER_RIGHT,
    LABELS,
    finite_curve,
    get_ax,
    overlay,
    require,
    scan_energies,
    window_inset,
    window_mask,
)

__all__ = ["xanes", "marker_bars"]

#: Pre-edge window (eV) of the inset when the results hold no pre-edge centroid.
DEFAULT_PREEDGE_WINDOW = (8327.0, 8338.0)
#: Half height of the vertical marker bars, in normalized-absorption units.
BAR_HALF_HEIGHT = 0.07


def marker_bars(
    ax: Axes,
    energy: np.ndarray,
    curves: np.ndarray,
    positions: np.ndarray,
    *,
    colors: Sequence,
    half_height: float,
    gid: str,
    label: str | None = None,
    offsets: np.ndarray | None = None,
):
    """Draw one vertical bar per curve at ``positions``, centred on the curve.

    Parameters
    ----------
    ax : Axes
    energy : ndarray, shape (m, n)
        Energies of each curve in eV.
    curves : ndarray, shape (m, n)
        The plotted curves (NaN where a scan has no point), before ``offsets``.
    positions : ndarray, shape (m,)
        Marker energies in eV; NaN draws no bar for that curve.
    colors : sequence of m colours
    half_height : float
        Half the bar length, in y-data units.
    gid : str
        Group id of the returned LineCollection (for finding it later).
    label : str, optional
        Legend label of the bars.
    offsets : ndarray, shape (m,), optional
        Vertical offsets added to the curves (stacked plots).

    Returns
    -------
    matplotlib.collections.LineCollection
        Segments ``[(x, y - h), (x, y + h)]`` for the curves with a finite
        position, in curve order.

    Examples
    --------
    >>> import numpy as np
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> e = np.linspace(0.0, 10.0, 11)[None, :]
    >>> bars = marker_bars(ax, e, 2.0 * e, np.array([2.5]), colors=["k"], half_height=0.5, gid="x")
    >>> bars.get_segments()[0].tolist()
    [[2.5, 4.5], [2.5, 5.5]]
    """
    positions = np.asarray(positions, dtype=float)
    offsets = np.zeros(len(positions)) if offsets is None else np.asarray(offsets, dtype=float)
    xs, ys, cs = [], [], []
    for i, pos in enumerate(positions):
        e, y = finite_curve(energy[i], curves[i])
        if not np.isfinite(pos) or e.size < 2:
            continue
        xs.append(pos)
        ys.append(np.interp(pos, e, y) + offsets[i])
        cs.append(colors[i])
    ys_arr = np.asarray(ys, dtype=float)
    return ax.vlines(
        np.asarray(xs, dtype=float), ys_arr - half_height, ys_arr + half_height,
        colors=cs or None, linewidth=2.0, gid=gid, label=label, zorder=3,
    )


def preedge_window(results: xr.Dataset, below: float = 6.0, above: float = 4.5) -> tuple[float, float]:
    """Inset window (eV): lowest centroid - ``below`` to highest + ``above``, else the default.

    The window stops short of the rising edge so that the inset's y range
    magnifies the pre-edge peak.
    """
    if "preedge_centroid" in results:
        c = np.asarray(results["preedge_centroid"].values, dtype=float)
        if np.isfinite(c).any():
            return float(np.nanmin(c) - below), float(np.nanmax(c) + above)
    return DEFAULT_PREEDGE_WINDOW


def xanes(
    results: xr.Dataset,
    *,
    ax: Axes | None = None,
    variable: str = "norm",
    xlim: tuple[float, float] | None = None,
    inset: bool = True,
    inset_window: tuple[float, float] | None = None,
    labels: Sequence[str] | None = None,
    colors: Sequence | None = None,
    calibrated: bool = True,
) -> Axes:
    """Overlay normalized XANES with E0 and pre-edge markers (vertical bars).

    One curve per scan. A vertical bar marks each scan's edge energy ``e0``
    (0.8 of the normalized jump, so the bar is centred near 0.8); a
    magnified inset of the pre-edge marks each ``preedge_centroid`` the same
    way, as in Fig. 2(a) of Mijit et al. (2024).

    Parameters
    ----------
    results : xarray.Dataset
        XANES results along ``scan`` holding ``norm(scan, energy)`` (or
        ``variable``) and ``e0``; ``preedge_centroid`` when present is marked
        in the inset.
    ax : Axes, optional
        Where to draw; a new figure when None.
    variable : str
        The spectrum variable to plot, ``"norm"`` (default) or ``"flat"``.
    xlim : (float, float), optional
        Energy range in eV; default 25 eV below the lowest E0 to 60 eV above
        the highest.
    inset : bool
        Draw the magnified pre-edge inset.
    inset_window : (float, float), optional
        Energy range of the inset in eV; default 6 eV below the lowest
        pre-edge centroid to 4.5 eV above the highest (8327-8338 eV when
        there is no centroid).
    labels : sequence of str, optional
        One legend label per scan; default sample (or scan), P and T.
    colors : sequence, optional
        One colour per scan.
    calibrated : bool
        Draw each spectrum on the calibrated energy scale (measured energy
        + ``calibration_shift`` where known), the scale of ``e0`` and
        ``preedge_centroid`` in :func:`spectro.xanes.analyze` results.

    Returns
    -------
    Axes
        The main axes. The E0 bars are the LineCollection with gid ``"e0"``;
        the inset is ``ax.child_axes[0]`` with the pre-edge bars of gid
        ``"preedge_centroid"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> res = spectro.xanes.analyze(spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2))
    >>> ax = spectro.plot.xanes(res)
    >>> len(ax.get_lines()), ax.get_xlabel()
    (2, 'Energy (eV)')
    """
    require(results, [variable, "e0"], "plot.xanes")
    ax = get_ax(ax)
    energy = scan_energies(results, calibrated=calibrated)
    curves = np.asarray(results[variable].transpose("scan", "energy").values, dtype=float)
    colors = overlay(ax, results, energy, curves, labels=labels, colors=colors)
    e0 = np.asarray(results["e0"].values, dtype=float)
    marker_bars(ax, energy, curves, e0, colors=colors, half_height=BAR_HALF_HEIGHT, gid="e0",
                label="E0 (0.8 of jump)")
    if xlim is None and np.isfinite(e0).any():
        xlim = (float(np.nanmin(e0)) - 25.0, float(np.nanmax(e0)) + 60.0)
    if xlim is not None:
        ax.set_xlim(*xlim)
        part = np.where(window_mask(energy, xlim), curves, np.nan)
        if np.isfinite(part).any():
            ax.set_ylim(min(-0.05, float(np.nanmin(part)) - 0.05), float(np.nanmax(part)) * 1.08)
    ax.set_xlabel(LABELS["energy"])
    ax.set_ylabel(LABELS.get(variable, variable))
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    if inset:
        window = inset_window or preedge_window(results)
        sub, (lo, hi) = window_inset(ax, INSET_LOWER_RIGHT, energy, curves, window, colors=colors,
                                     title="pre-edge", xlabel=LABELS["energy"])
        if "preedge_centroid" in results:
            marker_bars(sub, energy, curves, np.asarray(results["preedge_centroid"].values, dtype=float),
                        colors=colors, half_height=0.12 * (hi - lo), gid="preedge_centroid")
    return ax
