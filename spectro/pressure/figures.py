"""Two small figures of a pressure series (matplotlib, drawn on a given Axes).

:func:`plot_shift_vs_pressure`
    ΔE0 against pressure per path, with the kink model of
    :func:`spectro.pressure.find_anomaly`.
:func:`plot_shift_vs_contraction`
    ΔE0 against Ni-O contraction for sample and reference with both line
    fits of :func:`spectro.pressure.edge_shift_vs_contraction`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .anomaly import Breakpoint
from .contraction import BondModel, ContractionResult, bond_contraction

__all__ = ["plot_shift_vs_contraction", "plot_shift_vs_pressure"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.0, 3.8), layout="constrained")
    return ax


def plot_shift_vs_pressure(series: xr.Dataset, breakpoint: Breakpoint | None = None, *,
                           variable: str = "e0", ax=None):
    """Plot ``delta_<variable>`` against pressure, one marker series per path.

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`spectro.pressure.relative_series`.
    breakpoint : Breakpoint, optional
        Kink fit to overlay (drawn for the paths it was fitted to).
    variable : str
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import xarray as xr
    >>> from spectro.pressure import relative_series
    >>> res = xr.Dataset({"e0": ("scan", [0.0, 0.2, 0.5])}, coords={
    ...     "pressure": ("scan", [1.0, 6.0, 12.0]), "run": ("scan", ["r"] * 3)})
    >>> ax = plot_shift_vs_pressure(relative_series(res))
    >>> ax.get_xlabel()
    'pressure (GPa)'
    """
    ax = _axes(ax)
    paths = np.asarray(series["path"].values).astype(str)
    p = np.asarray(series["pressure"].values, dtype=float)
    y = np.asarray(series[f"delta_{variable}"].values, dtype=float)
    err = np.asarray(series[f"delta_{variable}_err"].values, dtype=float)
    units = series[f"delta_{variable}"].attrs.get("units", "")
    for name in dict.fromkeys(paths):
        m = paths == name
        kind = str(series["path_kind"].values[m][0])
        line = ax.errorbar(p[m], y[m], yerr=err[m], fmt="o", ms=4, capsize=2, label=f"{name} ({kind})")
        if breakpoint is not None and name in breakpoint.groups:
            x = np.linspace(np.nanmin(p[m]), np.nanmax(p[m]), 200)
            ref = np.asarray(series[variable].values, dtype=float)[m][
                np.asarray(series["path_position"].values)[m] == 0][0]
            ax.plot(x, breakpoint.model(x, name) - ref, color=line[0].get_color(), lw=1)
    if breakpoint is not None:
        ax.axvline(breakpoint.breakpoint, color="0.4", ls="--", lw=1)
        ax.axvspan(*breakpoint.interval, color="0.85", zorder=0)
    ax.set_xlabel("pressure (GPa)")
    ax.set_ylabel(f"Δ{variable} ({units})" if units else f"Δ{variable}")
    ax.legend(fontsize="small")
    return ax


def plot_shift_vs_contraction(series: xr.Dataset, result: ContractionResult, *,
                              sample_bond: BondModel, reference_bond: BondModel,
                              reference: str = "NiO", ax=None):
    """Plot ΔE0 against Ni-O contraction for sample and reference with their fits.

    Parameters
    ----------
    series : xarray.Dataset
        The series passed to :func:`spectro.pressure.edge_shift_vs_contraction`.
    result : ContractionResult
    sample_bond, reference_bond : BondModel
        The distance models used for ``result``.
    reference : str
        Compound label of the reference scans.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from .contraction import _is_reference

    ax = _axes(ax)
    variable = result.variable
    is_ref = _is_reference(series, reference)
    kinds = np.asarray(series["path_kind"].values).astype(str)
    for mask, bond, fit, label in ((~is_ref, sample_bond, result.sample, "sample"),
                                   (is_ref, reference_bond, result.reference, reference)):
        sub = series.isel(scan=np.flatnonzero(mask & (kinds == "isothermal")))
        if sub.sizes["scan"] == 0:
            continue
        _, dd, dd_err = bond_contraction(sub, bond)
        y = np.asarray(sub[f"delta_{variable}"].values, dtype=float)
        yerr = np.asarray(sub[f"delta_{variable}_err"].values, dtype=float)
        pts = ax.errorbar(dd, y, xerr=dd_err, yerr=yerr, fmt="o", ms=4, capsize=2,
                          label=f"{label}: {fit.slope:.1f} ± {fit.slope_err:.1f} eV/Å")
        x = np.linspace(np.nanmin(dd), np.nanmax(dd), 2)
        ax.plot(x, fit.slope * x + float(np.mean(fit.intercepts)), color=pts[0].get_color(), lw=1)
    ax.set_xlabel("Δd(Ni–O) (Å)")
    ax.set_ylabel(f"Δ{variable} (eV)")
    ax.set_title(result.verdict, fontsize="small")
    ax.legend(fontsize="small")
    return ax
