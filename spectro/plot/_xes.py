"""Kbeta XES overlay of the results of spectro.xes.analyze, with a valence-to-core inset."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..xes import line_energies
from ._style import (
    INSET_UPPER_RIGHT,
    LABELS,
    get_ax,
    overlay,
    require,
    scan_energies,
    window_inset,
)
from ._xanes import marker_bars

__all__ = ["vtc_window", "xes"]

#: Valence-to-core inset, relative to the tabulated Kbeta2,5 (Kb5) energy, in eV.
VTC_WINDOW = (-25.0, 10.0)


def vtc_window(element: str = "Ni") -> tuple[float, float]:
    """Energy range (eV) of the valence-to-core inset: Kb5 - 25 eV (Kbeta'') to Kb5 + 10 eV.

    Kb5 is the tabulated line of ``element``
    (:func:`spectro.xes.line_energies`).

    Examples
    --------
    >>> lo, hi = vtc_window("Ni")
    >>> lo < 8329.0 < hi
    True
    """
    kb5 = line_energies(element)["Kb5"]
    return kb5 + VTC_WINDOW[0], kb5 + VTC_WINDOW[1]


def xes(
    results: xr.Dataset,
    *,
    ax: Axes | None = None,
    variable: str = "norm",
    element: str | None = None,
    xlim: tuple[float, float] | None = None,
    inset: bool = True,
    inset_window: tuple[float, float] | None = None,
    labels: Sequence[str] | None = None,
    colors: Sequence | None = None,
) -> Axes:
    """Overlay the normalized Kbeta spectra of XES results, with a valence-to-core inset.

    One curve per scan: ``norm`` of :func:`spectro.xes.analyze`, its
    background removed and, with the default ``norm="max"``, scaled so that
    its Kbeta1,3 maximum is 1 (as in Figs. 2(b) and 3 of Mijit et al.
    2024). The inset magnifies the valence-to-core region (Kbeta'' and
    Kbeta2,5). Vertical bars mark ``kb13_energy`` on the curves and
    ``kb25_energy`` in the inset (gids ``"kb13_energy"`` and
    ``"kb25_energy"``).

    Parameters
    ----------
    results : xarray.Dataset
        Results of :func:`spectro.xes.analyze`: ``norm(scan,
        emission_energy)`` (or ``variable``) and, when present,
        ``kb13_energy`` and ``kb25_energy``.
    ax : Axes, optional
        Where to draw; a new figure when None.
    variable : str
        The spectrum variable to plot.
    element : str, optional
        Emitting element (tabulated line energies of the default windows);
        default the ``xes_element`` of the results' attrs (the option
        they were analysed with), else Ni.
    xlim : (float, float), optional
        Emission-energy range in eV; default Kbeta1,3 - 30 eV to the end of
        the VtC window.
    inset : bool
        Draw the valence-to-core inset.
    inset_window : (float, float), optional
        Energy range of the inset in eV; default Kb5 - 25 to Kb5 + 10 eV.
    labels : sequence of str, optional
        One legend label per scan; default sample (or scan), P and T.
    colors : sequence, optional
        One colour per scan; default one distinct colour each.

    Returns
    -------
    Axes
        The main axes; the inset is ``ax.child_axes[0]``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> res = spectro.xes.analyze(spectro.simulate.xes(spin="low", n_scans=2))
    >>> ax = spectro.plot.xes(res)
    >>> len(ax.get_lines()), round(float(max(l.get_ydata().max() for l in ax.get_lines())), 2)
    (2, 1.0)
    """
    require(results, [variable], "plot.xes")
    element = element or results.attrs.get("xes_element", "Ni")
    ax = get_ax(ax)
    energy = scan_energies(results, "emission_energy")
    curves = np.asarray(results[variable].transpose("scan", "emission_energy").values, dtype=float)
    colors = overlay(ax, results, energy, curves, labels=labels, colors=colors)
    if "kb13_energy" in results:
        marker_bars(ax, energy, curves, np.asarray(results["kb13_energy"].values, dtype=float),
                    colors=colors, half_height=0.05, gid="kb13_energy", label="Kβ1,3")
    vtc = inset_window or vtc_window(element)
    if xlim is None:
        xlim = (line_energies(element)["Kb13"] - 30.0, vtc[1])
    ax.set_xlim(*xlim)
    if results[variable].attrs.get("norm", "max") == "max":
        ax.set_ylim(-0.03, 1.08)
        ax.set_ylabel(LABELS["xes"])
    else:
        ax.set_ylabel(f"{variable} ({results[variable].attrs.get('units', '')})")
    ax.set_xlabel(LABELS["emission_energy"])
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    if inset:
        sub, (lo, hi) = window_inset(ax, INSET_UPPER_RIGHT, energy, curves, vtc, colors=colors,
                                     title="valence-to-core (Kβ'', Kβ2,5)", xlabel=LABELS["emission_energy"])
        if "kb25_energy" in results:
            marker_bars(sub, energy, curves, np.asarray(results["kb25_energy"].values, dtype=float),
                        colors=colors, half_height=0.1 * (hi - lo), gid="kb25_energy")
    return ax
