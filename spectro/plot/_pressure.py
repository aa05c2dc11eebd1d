"""Edge shift against pressure (with the anomaly fit) and against Ni-O contraction."""

from __future__ import annotations

import textwrap

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ..pressure import NIO, bond_contraction
from ..pressure.anomaly import Breakpoint
from ..pressure.contraction import BondModel, ContractionResult
from ._style import LABELS, colours, get_ax, require

__all__ = ["edge_shift_pressure", "edge_shift_contraction", "kink"]


def kink(x: np.ndarray, anomaly: Breakpoint) -> np.ndarray:
    """Shape of the anomaly fit without intercept: ``b1 x + (b2 - b1) max(x - xb, 0)``.

    Parameters
    ----------
    x : ndarray
        Pressures, GPa.
    anomaly : Breakpoint
        From :func:`spectro.pressure.find_anomaly`.

    Returns
    -------
    ndarray
        eV (units of the fitted observable).

    Examples
    --------
    >>> import numpy as np
    >>> from spectro.pressure import find_breakpoint
    >>> p = np.arange(0.0, 25.0)
    >>> bp = find_breakpoint(p, 0.03 * p + 0.02 * np.clip(p - 14.0, 0, None), y_err=0.01)
    >>> np.round(kink(np.array([10.0, 20.0]), bp), 3).tolist()
    [0.3, 0.72]
    """
    x = np.asarray(x, dtype=float)
    b1, b2 = anomaly.slope_below, anomaly.slope_above
    return b1 * x + (b2 - b1) * np.clip(x - anomaly.breakpoint, 0.0, None)


def _path_label(sub: xr.Dataset) -> str:
    """Path name with its sample and (median) temperature."""
    extras = [str(sub["sample"].values[0])] if "sample" in sub.coords else []
    t = np.asarray(sub["temperature"].values, dtype=float) if "temperature" in sub.coords else np.array([np.nan])
    if np.isfinite(t).any():
        extras.append(f"{np.nanmedian(t):.0f} K")
    extras = [e for e in extras if e]
    return f"{sub['path'].values[0]} ({', '.join(extras)})" if extras else str(sub["path"].values[0])


def _selected(series: xr.Dataset, path_kinds: tuple[str, ...], select: np.ndarray | None) -> xr.Dataset:
    use = np.isin(np.asarray(series["path_kind"].values).astype(str), path_kinds)
    if select is not None:
        use &= np.asarray(select, dtype=bool)
    return series.isel(scan=np.flatnonzero(use))


def edge_shift_pressure(
    series: xr.Dataset,
    *,
    anomaly: Breakpoint | None = None,
    ax: Axes | None = None,
    variable: str = "e0",
    path_kinds: tuple[str, ...] = ("isothermal",),
    select: np.ndarray | None = None,
) -> Axes:
    """ΔE0 against pressure, one series per path, with the anomaly fit (Fig. 5(a)).

    Points are ``delta_<variable>`` with error bars ``delta_<variable>_err``
    and ``pressure_err``. With ``anomaly``, each path gets the fitted
    two-slope curve (its intercept is the weighted mean offset of that
    path from the curve, which is the least-squares intercept at the fitted
    slopes and breakpoint), a vertical line at the breakpoint (gid
    ``"breakpoint"``) and a shaded band over its 1-sigma interval (gid
    ``"breakpoint_band"``); the legend gives the breakpoint, both slopes and
    the p value of the F test.

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`spectro.pressure.relative_series`.
    anomaly : Breakpoint, optional
        From :func:`spectro.pressure.find_anomaly` on the same scans.
    ax : Axes, optional
        Where to draw; a new figure when None.
    variable : str
        Observable, default ``"e0"``.
    path_kinds : tuple of str
        Paths drawn (compressions by default, as the anomaly fit uses).
    select : ndarray of bool, optional
        Further selection of scans (e.g. the sample only), as for
        :func:`spectro.pressure.find_anomaly`.

    Returns
    -------
    Axes
        One errorbar series per path; fitted curves have gid ``"anomaly_fit"``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> import xarray as xr
    >>> res = xr.Dataset(
    ...     {"e0": ("scan", [8345.0, 8345.2, 8345.5]), "e0_err": ("scan", [0.03, 0.04, 0.03])},
    ...     coords={"pressure": ("scan", [1.0, 5.0, 10.0]),
    ...             "temperature": ("scan", [300.0] * 3), "run": ("scan", ["r3"] * 3)})
    >>> ax = spectro.plot.edge_shift_pressure(spectro.pressure.relative_series(res))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Pressure (GPa)', 'ΔE0 (eV)')
    """
    key = f"delta_{variable}"
    require(series, [key, "path", "path_kind"], "plot.edge_shift_pressure")
    ax = get_ax(ax)
    sub = _selected(series, path_kinds, select)
    paths = list(dict.fromkeys(np.asarray(sub["path"].values).astype(str)))
    cols = colours(len(paths))
    x_all = np.asarray(sub["pressure"].values, dtype=float)
    for path, color in zip(paths, cols):
        part = sub.isel(scan=np.flatnonzero(np.asarray(sub["path"].values).astype(str) == path))
        x = np.asarray(part["pressure"].values, dtype=float)
        y = np.asarray(part[key].values, dtype=float)
        yerr = np.asarray(part[f"{key}_err"].values, dtype=float) if f"{key}_err" in part else None
        xerr = np.asarray(part["pressure_err"].values, dtype=float) if "pressure_err" in part.coords else None
        order = np.argsort(x)
        ax.errorbar(x[order], y[order], yerr=None if yerr is None else yerr[order],
                    xerr=None if xerr is None else xerr[order], fmt="o", ms=4, color=color, capsize=2,
                    label=_path_label(part))
        if anomaly is not None:
            err = np.asarray(part[f"{variable}_err"].values, dtype=float) if f"{variable}_err" in part else None
            w = 1.0 / err**2 if err is not None and np.all(err > 0) else np.ones_like(x)
            good = np.isfinite(x) & np.isfinite(y)
            if good.any():
                offset = np.average(y[good] - kink(x[good], anomaly), weights=w[good])
                xs = np.linspace(np.nanmin(x), np.nanmax(x), 200)
                ax.plot(xs, kink(xs, anomaly) + offset, "-", color=color, lw=1.2, gid="anomaly_fit")
    if anomaly is not None:
        lo, hi = anomaly.interval
        ax.axvspan(lo, hi, color="0.8", alpha=0.6, zorder=0, gid="breakpoint_band")
        ax.axvline(anomaly.breakpoint, color="k", ls="--", lw=1.0, gid="breakpoint",
                   label=(f"breakpoint {anomaly.breakpoint:.1f} ± {anomaly.breakpoint_err:.1f} GPa\n"
                          f"slopes {1e3 * anomaly.slope_below:.0f} ± {1e3 * anomaly.slope_below_err:.0f}"
                          f" / {1e3 * anomaly.slope_above:.0f} ± {1e3 * anomaly.slope_above_err:.0f} meV/GPa"
                          f"\nF test p = {anomaly.p_value:.2g}"
                          f" ({'kink' if anomaly.real else 'no significant kink'})"))
    if x_all.size:
        ax.set_xlim(left=min(0.0, float(np.nanmin(x_all)) - 0.5))
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(LABELS["pressure"])
    ax.set_ylabel(LABELS["delta_e0"] if variable == "e0" else f"Δ{variable} ({series[key].attrs.get('units', '')})")
    ax.legend(fontsize="small", frameon=False, loc="upper left")
    return ax


def edge_shift_contraction(
    series: xr.Dataset,
    result: ContractionResult,
    *,
    sample_bond: BondModel,
    reference_bond: BondModel = NIO,
    reference: str = "NiO",
    ax: Axes | None = None,
    path_kinds: tuple[str, ...] = ("isothermal",),
) -> Axes:
    """ΔE0 against Ni-O contraction for sample and NiO, both fits and the verdict (Fig. 5(b)).

    Each scan on the fitted paths is a point at ``(Δd, ΔE0)`` with error
    bars (Δd from the bond models and the pressure errors, as in
    :func:`spectro.pressure.bond_contraction`). Each fit of ``result`` is
    drawn over its data (one line per path, with that path's intercept);
    the legend gives the slopes dE0/dd with their statistical and systematic
    errors, and the slope difference with z, p and the headline of the
    verdict (:attr:`~spectro.pressure.ContractionResult.headline`) are
    written in a text box (gid ``"verdict"``).

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`spectro.pressure.relative_series`.
    result : ContractionResult
        From :func:`spectro.pressure.edge_shift_vs_contraction` on ``series``
        with the same bond models.
    sample_bond, reference_bond : BondModel
        The Ni-O distance models used for ``result``.
    reference : str
        Compound (``compound`` or ``sample`` coordinate) of the reference scans.
    ax : Axes, optional
        Where to draw; a new figure when None.
    path_kinds : tuple of str
        Paths drawn (as fitted).

    Returns
    -------
    Axes
        Fit lines have gids ``"sample_fit"`` and ``"reference_fit"``.
    """
    key = f"delta_{result.variable}"
    require(series, [key, "path", "path_kind"], "plot.edge_shift_contraction")
    ax = get_ax(ax)
    sub = _selected(series, path_kinds, None)
    name = "compound" if "compound" in sub.coords else "sample"
    is_ref = np.char.lower(np.asarray(sub[name].values).astype(str)) == reference.lower()
    sample_name = next(iter(dict.fromkeys(np.asarray(sub[name].values[~is_ref]).astype(str))), "sample")
    for mask, bond, fit, sys_err, color, what, gid in (
        (~is_ref, sample_bond, result.sample, result.sample_sys, "tab:red", sample_name, "sample_fit"),
        (is_ref, reference_bond, result.reference, result.reference_sys, "tab:blue", reference, "reference_fit"),
    ):
        part = sub.isel(scan=np.flatnonzero(mask))
        _, dd, dd_err = bond_contraction(part, bond)
        y = np.asarray(part[key].values, dtype=float)
        yerr = np.asarray(part[f"{key}_err"].values, dtype=float) if f"{key}_err" in part else None
        bond_name = str(getattr(bond, "name", ""))
        ax.errorbar(dd, y, xerr=dd_err, yerr=yerr, fmt="o", ms=4, color=color, capsize=2,
                    label=bond_name if what in bond_name else f"{what}, {bond_name} Ni–O")
        paths = np.asarray(part["path"].values).astype(str)
        for k, (group, intercept) in enumerate(zip(fit.groups, np.atleast_1d(fit.intercepts))):
            on = paths == group if group else np.ones(paths.size, bool)
            if not on.any():
                continue
            xs = np.linspace(min(0.0, np.nanmin(dd[on])), max(0.0, np.nanmax(dd[on])), 50)
            ax.plot(xs, intercept + fit.slope * xs, "-", color=color, lw=1.2, gid=gid,
                    label=(f"{what}: dE0/dd = {fit.slope:.1f} ± {fit.slope_err:.1f} (stat) ± {sys_err:.1f} (sys) eV/Å"
                           if k == 0 else None))
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.axvline(0.0, color="0.6", lw=0.6)
    ax.set_xlabel(LABELS["delta_d"])
    ax.set_ylabel(LABELS["delta_e0"] if result.variable == "e0" else f"Δ{result.variable}")
    ax.legend(fontsize="small", frameon=False, loc="upper right")
    c = result.comparison
    text = (f"Δslope = {c.difference:.2f} ± {c.difference_stat:.2f} (stat) ± {c.difference_sys:.2f} (sys) eV/Å, "
            f"z = {c.z:.2f}, p = {c.p_value:.2g}\n" + "\n".join(textwrap.wrap(result.headline, 70)))
    ax.text(0.02, 0.03, text,
            transform=ax.transAxes, fontsize="small", va="bottom", ha="left", gid="verdict",
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.6"})
    return ax
