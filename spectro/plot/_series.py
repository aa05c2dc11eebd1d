"""Spectra stacked along pressure or temperature, and first-derivative stacks."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..errors import ValidationError
from ..xanes._derivative import DERIVATIVE_WINDOW, derivative_arrays
from ._style import (
    CMAPS,
    INSET_TOP_LEFT,
    LABELS,
    STACK_HEADROOM,
    finite_curve,
    get_ax,
    require,
    scan_energies,
    scan_labels,
    value_colours,
    window_inset,
    window_mask,
)
from ._xanes import marker_bars, preedge_window
from ._xes import vtc_window

__all__ = ["stack", "derivative_stack"]


def _order(ds: xr.Dataset, by: str) -> np.ndarray:
    if by not in ds.coords:
        raise ValidationError(f"cannot stack by {by!r}: no such per-scan coordinate")
    values = np.asarray(ds[by].values, dtype=float)
    return np.argsort(np.where(np.isfinite(values), values, np.inf), kind="stable")


def _draw_stack(
    ax: Axes,
    ds: xr.Dataset,
    energy: np.ndarray,
    curves: np.ndarray,
    *,
    by: str,
    offset: float,
    cmap: str | None,
    colorbar: bool,
    inset_window: tuple[float, float] | None,
    inset_title: str,
    xlim: tuple[float, float] | None,
) -> tuple[np.ndarray, list, np.ndarray]:
    order = _order(ds, by)
    values = np.asarray(ds[by].values, dtype=float)[order]
    curves = curves[order]
    labels = [scan_labels(ds)[i] for i in order]
    colors, mappable = value_colours(values, cmap or CMAPS.get(by, "viridis"))
    offsets = offset * np.arange(len(order))
    unit = ds[by].attrs.get("units", "")
    for i in range(len(order)):
        e, y = finite_curve(energy[order[i]], curves[i])
        ax.plot(e, y + offsets[i], color=colors[i], label=labels[i], lw=1.3)
        if e.size and np.isfinite(values[i]):
            visible = window_mask(e, xlim) if xlim is not None else np.ones(e.size, bool)
            if visible.any():
                ax.annotate(f"{values[i]:.3g} {unit}", (e[visible][-1], y[visible][-1] + offsets[i]),
                            xytext=(2, 0), textcoords="offset points", fontsize="x-small", va="center",
                            color=colors[i], annotation_clip=False)
    if colorbar:
        ax.figure.colorbar(mappable, ax=ax, label=LABELS.get(by, by), pad=0.1, shrink=0.8, aspect=30)
    if xlim is not None:
        ax.set_xlim(*xlim)
    shown = np.where(window_mask(energy[order], xlim) if xlim is not None else True, curves + offsets[:, None], np.nan)
    if np.isfinite(shown).any():
        lo, hi = float(np.nanmin(shown)), float(np.nanmax(shown))
        span = hi - lo if hi > lo else 1.0
        ax.set_ylim(lo - 0.03 * span, hi + (STACK_HEADROOM if inset_window is not None else 0.05) * span)
    if inset_window is not None:
        window_inset(ax, INSET_TOP_LEFT, energy[order], curves, inset_window, colors=colors,
                     title=inset_title, lw=1.0, title_size="x-small")
    return order, colors, offsets


def stack(
    results: xr.Dataset,
    *,
    by: str = "pressure",
    ax: Axes | None = None,
    variable: str = "norm",
    offset: float = 0.15,
    xlim: tuple[float, float] | None = None,
    inset: bool = True,
    inset_window: tuple[float, float] | None = None,
    element: str | None = None,
    cmap: str | None = None,
    colorbar: bool = True,
    markers: bool = True,
    calibrated: bool = True,
) -> Axes:
    """Spectra stacked with a vertical offset, coloured by pressure or temperature.

    Scans are sorted by ``by`` and drawn bottom to top, each shifted by
    ``offset``; colour follows ``by`` with a colorbar, and the value is
    written at the right end of each curve. XANES get a magnified pre-edge
    inset (curves not offset there), XES (Kbeta1,3 max = 1) a
    valence-to-core inset, as in Figs. 3 and 4 of Mijit et al. (2024). For
    XANES results holding ``e0``, vertical bars (gid ``"e0"``) mark each
    edge position.

    Parameters
    ----------
    results : xarray.Dataset
        Results of :func:`spectro.xanes.analyze` (``norm(scan, energy)``)
        or of :func:`spectro.xes.analyze` (``norm(scan, emission_energy)``).
    by : {"pressure", "temperature"} or str
        Per-scan coordinate to sort and colour by.
    ax : Axes, optional
        Where to draw; a new figure when None.
    variable : str
        The spectrum variable to plot.
    offset : float
        Vertical shift between consecutive curves (normalized units).
    xlim : (float, float), optional
        Energy range in eV; default the full grid.
    inset : bool
        Draw the magnified inset.
    inset_window : (float, float), optional
        Inset energy range in eV (default pre-edge or VtC window).
    element : str, optional
        Emitting element of XES results (line windows); default the
        ``xes_element`` of the results' attrs, else Ni.
    cmap : str, optional
        Colormap; default viridis for pressure, coolwarm for temperature.
    colorbar : bool
        Add a colorbar labelled with ``by`` and its units.
    markers : bool
        Mark E0 on XANES curves.
    calibrated : bool
        Draw XANES on the calibrated energy scale (measured energy +
        ``calibration_shift`` where known), the scale of the results.

    Returns
    -------
    Axes
        The main axes; curve ``k`` (bottom to top) is ``ax.get_lines()[k]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> sim = spectro.simulate.xanes(n_scans=3, edge_shift=[0.0, 0.3, 0.6], pressure=[1.0, 5.0, 10.0])
    >>> ax = spectro.plot.stack(spectro.xanes.analyze(sim), by="pressure")
    >>> len(ax.get_lines())
    3
    """
    require(results, [variable], "plot.stack")
    kind = "xes" if "emission_energy" in results[variable].dims else "xanes"
    ax = get_ax(ax, figsize=(6.4, 6.4))
    curves = np.asarray(results[variable].transpose("scan", ...).values, dtype=float)
    if kind == "xes":
        energy = scan_energies(results, "emission_energy")
        window = inset_window or vtc_window(element or results.attrs.get("xes_element", "Ni"))
        title = "valence-to-core"
        xlabel, ylabel = LABELS["emission_energy"], LABELS["xes"] + " + offset"
    else:
        energy = scan_energies(results, calibrated=calibrated)
        window = inset_window or preedge_window(results)
        title = "pre-edge"
        xlabel, ylabel = LABELS["energy"], LABELS.get(variable, variable) + " + offset"
    order, colors, offsets = _draw_stack(
        ax, results, energy, curves, by=by, offset=offset, cmap=cmap, colorbar=colorbar,
        inset_window=window if inset else None, inset_title=title, xlim=xlim,
    )
    if markers and kind == "xanes" and "e0" in results:
        e0 = np.asarray(results["e0"].values, dtype=float)[order]
        marker_bars(ax, energy[order], curves[order], e0, colors=colors, half_height=0.05, gid="e0", offsets=offsets)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def derivative_stack(
    results: xr.Dataset,
    *,
    by: str = "pressure",
    ax: Axes | None = None,
    variable: str = "norm",
    offset: float | None = None,
    window: float = DERIVATIVE_WINDOW,
    xlim: tuple[float, float] | None = None,
    inset: bool = True,
    inset_window: tuple[float, float] | None = None,
    cmap: str | None = None,
    colorbar: bool = True,
    calibrated: bool = True,
) -> Axes:
    """First derivatives of normalized XANES, stacked along pressure or temperature.

    The derivative is the local-quadratic (Savitzky-Golay-like) smoothed
    derivative of :func:`spectro.xanes.derivative_arrays` over ``window``
    eV, on each scan's own points.
    The maximum of each curve (feature beta of Fig. S2 of Mijit et al. 2024)
    follows the edge; the inset magnifies the pre-edge (feature alpha).
    When ``results`` hold ``e0_derivative``, bars (gid ``"e0_derivative"``) mark it.

    Parameters
    ----------
    results : xarray.Dataset
        Results of :func:`spectro.xanes.analyze` (``norm(scan, energy)``).
    by : {"pressure", "temperature"} or str
        Per-scan coordinate to sort and colour by.
    ax : Axes, optional
        Where to draw; a new figure when None.
    variable : str
        Spectrum variable to differentiate.
    offset : float, optional
        Vertical shift between curves in 1/eV; default half the largest
        derivative maximum.
    window : float
        Full width of the smoothing window of the derivative, eV.
    xlim : (float, float), optional
        Energy range in eV; default 20 eV below the lowest E0 to 50 eV above
        the highest when ``e0`` is known, else the full grid.
    inset : bool
        Draw the pre-edge inset.
    inset_window : (float, float), optional
        Inset energy range in eV.
    cmap : str, optional
        Colormap.
    colorbar : bool
        Add a colorbar.
    calibrated : bool
        Differentiate and draw on the calibrated energy scale (see :func:`stack`).

    Returns
    -------
    Axes
        The main axes; one line per scan, bottom to top by ``by``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> sim = spectro.simulate.xanes(n_scans=2, edge_shift=[0.0, 0.5], pressure=[1.0, 15.0])
    >>> ax = spectro.plot.derivative_stack(spectro.xanes.analyze(sim))
    >>> ax.get_ylabel()
    'dμ/dE (normalized, 1/eV) + offset'
    """
    require(results, [variable], "plot.derivative_stack")
    ax = get_ax(ax, figsize=(6.4, 6.4))
    energy = scan_energies(results, calibrated=calibrated)
    curves = derivative_arrays(energy, np.asarray(results[variable].transpose("scan", ...).values, dtype=float),
                               window=window).d1
    if offset is None:
        peak = np.nanmax(curves) if np.isfinite(curves).any() else 1.0
        offset = 0.5 * float(peak)
    if xlim is None and "e0" in results and np.isfinite(results["e0"].values).any():
        xlim = (float(np.nanmin(results["e0"].values)) - 20.0, float(np.nanmax(results["e0"].values)) + 50.0)
    order, colors, offsets = _draw_stack(
        ax, results, energy, curves, by=by, offset=offset, cmap=cmap, colorbar=colorbar,
        inset_window=(inset_window or preedge_window(results)) if inset else None, inset_title="pre-edge",
        xlim=xlim,
    )
    if "e0_derivative" in results:
        marker_bars(ax, energy[order], curves[order], np.asarray(results["e0_derivative"].values, dtype=float)[order],
                    colors=colors, half_height=0.1 * offset, gid="e0_derivative", offsets=offsets)
    ax.set_xlabel(LABELS["energy"])
    ax.set_ylabel(LABELS["derivative"] + " + offset")
    return ax
