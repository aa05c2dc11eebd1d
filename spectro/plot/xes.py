"""Kbeta XES overlay normalized to the Kbeta1,3 maximum, with a valence-to-core inset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..xes.background import normalize as normalize_kbeta
from ..xes.windows import line_energies
from ._style import (
    INSET_UPPER_RIGHT,
    LABELS,
    get_ax,
    overlay,
    require,
    scan_energies,
    window_inset,
)
from .xanes import marker_bars

__all__ = ["xes", "kb13_normalized", "vtc_window"]

#: Valence-to-core inset, relative to the tabulated Kbeta2,5 (Kb5) energy, in eV.
VTC_WINDOW = (-25.0, 10.0)


def vtc_window(element: str = "Ni") -> tuple[float, float]:
    """Energy range (eV) of the valence-to-core inset: Kb5 - 25 eV (Kbeta'') to Kb5 + 10 eV.

    Kb5 is the tabulated line of ``element``
    (:func:`spectro.xes.windows.line_energies`).

    Examples
    --------
    >>> lo, hi = vtc_window("Ni")
    >>> lo < 8329.0 < hi
    True
    """
    kb5 = line_energies(element)["Kb5"]
    return kb5 + VTC_WINDOW[0], kb5 + VTC_WINDOW[1]


def kb13_normalized(ds: xr.Dataset, *, variable: str = "intensity", element: str = "Ni") -> np.ndarray:
    """Spectra of ``ds`` with the background removed and the Kbeta1,3 maximum scaled to 1.

    The normalization of :func:`spectro.xes.normalize` (constant background
    from the ends of each spectrum, ``norm="max"``), as in Mijit et al. (2024).

    Returns
    -------
    ndarray, shape (scan, emission_energy)
        NaN where a scan has no point.

    Examples
    --------
    >>> import spectro
    >>> y = kb13_normalized(spectro.simulate.xes(spin="high", amplitude=5000.0))
    >>> y.shape, round(float(y.max()), 2)
    ((1, 496), 1.0)
    """
    energy = np.asarray(ds["emission_energy"].values, dtype=float)
    err = ds[f"{variable}_err"].transpose("scan", ...).values if f"{variable}_err" in ds else None
    return normalize_kbeta(energy, np.asarray(ds[variable].transpose("scan", ...).values, dtype=float), err,
                           element=element, background="constant", norm="max").intensity


def xes(
    ds: xr.Dataset,
    *,
    results: xr.Dataset | None = None,
    ax: Axes | None = None,
    element: str = "Ni",
    variable: str = "intensity",
    xlim: tuple[float, float] | None = None,
    inset: bool = True,
    inset_window: tuple[float, float] | None = None,
    labels: Sequence[str] | None = None,
    colors: Sequence | None = None,
) -> Axes:
    """Overlay Kbeta emission spectra normalized to Kbeta1,3 maximum = 1, with a VtC inset.

    One curve per scan, its constant background removed and scaled so that
    its Kbeta1,3 maximum is 1 (:func:`kb13_normalized`, as in Figs. 2(b)
    and 3 of Mijit et al. 2024). The inset magnifies the
    valence-to-core region (Kbeta'' and Kbeta2,5). When ``results`` holds
    ``kb13_energy`` and ``kb25_energy``, vertical bars mark them on the
    curves (gids ``"kb13_energy"`` and ``"kb25_energy"``).

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset with ``intensity(scan, emission_energy)`` (or ``variable``).
    results : xarray.Dataset, optional
        Kbeta results along the same ``scan`` (``spectro.xes.analyze``).
    ax : Axes, optional
        Where to draw; a new figure when None.
    element : str
        Emitting element (tabulated line energies).
    variable : str
        Intensity variable to plot.
    xlim : (float, float), optional
        Emission-energy range in eV; default Kbeta1,3 - 30 eV to the end of
        the VtC window.
    inset : bool
        Draw the valence-to-core inset.
    inset_window : (float, float), optional
        Energy range of the inset in eV; default Kb5 - 25 to Kb5 + 10 eV.
    labels : sequence of str, optional
        One legend label per scan.
    colors : sequence, optional
        One colour per scan.

    Returns
    -------
    Axes
        The main axes; the inset is ``ax.child_axes[0]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> ds = spectro.simulate.xes(spin="low", n_scans=2)
    >>> ax = spectro.plot.xes(ds)
    >>> len(ax.get_lines()), round(float(max(l.get_ydata().max() for l in ax.get_lines())), 2)
    (2, 1.0)
    """
    require(ds, [variable], "plot.xes")
    ax = get_ax(ax)
    energy = scan_energies(ds, "emission_energy")
    curves = kb13_normalized(ds, variable=variable, element=element)
    colors = overlay(ax, ds, energy, curves, labels=labels, colors=colors)
    if results is not None and "kb13_energy" in results:
        marker_bars(ax, energy, curves, np.asarray(results["kb13_energy"].values, dtype=float),
                    colors=colors, half_height=0.05, gid="kb13_energy", label="Kβ1,3")
    vtc = inset_window or vtc_window(element)
    if xlim is None:
        xlim = (line_energies(element)["Kb13"] - 30.0, vtc[1])
    ax.set_xlim(*xlim)
    ax.set_ylim(-0.03, 1.08)
    ax.set_xlabel(LABELS["emission_energy"])
    ax.set_ylabel(LABELS["xes"])
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    if inset:
        sub, (lo, hi) = window_inset(ax, INSET_UPPER_RIGHT, energy, curves, vtc, colors=colors,
                                     title="valence-to-core (Kβ'', Kβ2,5)", xlabel=LABELS["emission_energy"])
        if results is not None and "kb25_energy" in results:
            marker_bars(sub, energy, curves, np.asarray(results["kb25_energy"].values, dtype=float),
                        colors=colors, half_height=0.1 * (hi - lo), gid="kb25_energy")
    return ax
