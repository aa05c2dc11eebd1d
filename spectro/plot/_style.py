"""Shared helpers of the plot functions: axes, labels, colours, curve labels."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from ..errors import ValidationError

#: Axis labels, with units, used by every plot function.
LABELS = {
    "energy": "Energy (eV)",
    "emission_energy": "Emission energy (eV)",
    "norm": "Normalized absorption",
    "flat": "Normalized absorption (flattened)",
    "derivative": "dμ/dE (normalized, 1/eV)",
    "xes": "Intensity (Kβ1,3 max = 1)",
    "pressure": "Pressure (GPa)",
    "temperature": "Temperature (K)",
    "delta_e0": "ΔE0 (eV)",
    "delta_d": "Δd(Ni–O) (Å)",
    "e0": "E0 (eV)",
    "valence": "Ni valence",
}

#: Colormaps used when curves are coloured by a per-scan coordinate.
CMAPS = {"pressure": "viridis", "temperature": "coolwarm"}

#: Fraction of the axes width/height used by the insets: (x0, y0, width, height).
INSET_LOWER_RIGHT = (0.6, 0.08, 0.37, 0.38)
INSET_UPPER_RIGHT = (0.55, 0.45, 0.42, 0.5)
INSET_TOP_LEFT = (0.07, 0.7, 0.42, 0.26)
#: Extra room above stacked curves (fraction of their y range) that holds the inset.
STACK_HEADROOM = 0.5


def get_ax(ax: Axes | None, *, figsize: tuple[float, float] = (6.4, 4.8)) -> Axes:
    """Return ``ax``, or new Axes on a new pyplot figure when ``ax`` is None."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def require(ds: xr.Dataset, names: Sequence[str], what: str) -> None:
    """Raise ValidationError unless every variable of ``names`` is in ``ds``."""
    missing = [n for n in names if n not in ds.variables]
    if missing:
        raise ValidationError(
            f"{what} needs variables {missing}; the Dataset has {sorted(map(str, ds.data_vars))}",
            file=ds.attrs.get("source_file"),
        )


def _fmt(value: float, unit: str) -> str:
    return f"{value:.3g} {unit}" if np.isfinite(value) else ""


def scan_labels(ds: xr.Dataset) -> list[str]:
    """One legend label per scan: sample (or scan label), pressure and temperature.

    The sample names label the curves when they tell every scan apart,
    else the scan labels do; pressure and temperature are added when known.

    Examples
    --------
    >>> import spectro
    >>> scan_labels(spectro.simulate.xanes(n_scans=2, pressure=[1.0, 5.0], temperature=10.0, sample="NiO"))
    ['sim0000 (1 GPa, 10 K)', 'sim0001 (5 GPa, 10 K)']
    """
    n = ds.sizes["scan"]
    scan = [str(s) for s in ds["scan"].values] if "scan" in ds.coords else [str(i) for i in range(n)]

    def coord(name: str, fill):
        return ds[name].values if name in ds.coords else np.full(n, fill)

    sample = [str(s) for s in coord("sample", "")]
    pressure, temperature = coord("pressure", np.nan), coord("temperature", np.nan)
    heads = sample if all(sample) and len(set(sample)) == n else scan
    labels = []
    for i in range(n):
        extras = [t for t in (_fmt(float(pressure[i]), "GPa"), _fmt(float(temperature[i]), "K")) if t]
        labels.append(f"{heads[i]} ({', '.join(extras)})" if extras else heads[i])
    return labels


def colours(n: int, cmap: str = "tab10") -> list:
    """``n`` distinct colours from a qualitative or sequential colormap."""
    cm = plt.get_cmap(cmap)
    if getattr(cm, "N", 256) <= 20:
        return [cm(i % cm.N) for i in range(n)]
    return [cm(x) for x in np.linspace(0.05, 0.9, max(n, 1))]


def value_colours(values: np.ndarray, cmap: str) -> tuple[list, ScalarMappable]:
    """Colours of a per-scan value on a colormap, and the mappable for a colorbar."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    mappable = ScalarMappable(Normalize(lo, hi), plt.get_cmap(cmap))
    return [mappable.to_rgba(v) if np.isfinite(v) else (0.5, 0.5, 0.5, 1.0) for v in values], mappable


def small_ticks(ax: Axes, n: int = 4) -> None:
    """At most ``n`` ticks per axis and small labels (for insets)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(n))
    ax.yaxis.set_major_locator(MaxNLocator(n))
    ax.tick_params(labelsize="xx-small")


def finite_curve(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop the NaN padding of one scan (points the scan does not have)."""
    keep = np.isfinite(y)
    return x[keep], y[keep]


def window_mask(x: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """Boolean mask of ``window[0] <= x <= window[1]``."""
    return (x >= window[0]) & (x <= window[1])


def scan_energies(ds: xr.Dataset, dim: str = "energy", *, calibrated: bool = True) -> np.ndarray:
    """Energy axis of each scan, shape (scan, energy), in eV.

    XANES results hold spectra on the measured grid and every energy result
    on the calibrated scale (measured + ``calibration_shift``). With
    ``calibrated`` the curves are moved by each scan's finite
    ``calibration_shift`` so that they line up with those results.
    """
    energy = np.asarray(ds[dim].values, dtype=float)
    n = ds.sizes["scan"]
    shift = np.zeros(n)
    if calibrated and "calibration_shift" in ds:
        given = np.asarray(ds["calibration_shift"].values, dtype=float)
        shift = np.where(np.isfinite(given), given, 0.0)
    return energy[None, :] + shift[:, None]


def inset_ylim(energy: np.ndarray, curves: np.ndarray, window: tuple[float, float]) -> tuple[float, float]:
    """y-limits that frame ``curves`` (energies ``energy``, same shape) inside ``window``, 10 % margin."""
    part = np.where(window_mask(energy, window), curves, np.nan)
    if not np.isfinite(part).any():
        return 0.0, 1.0
    lo, hi = float(np.nanmin(part)), float(np.nanmax(part))
    pad = 0.1 * (hi - lo) if hi > lo else 0.05
    return lo - pad, hi + pad


def overlay(
    ax: Axes,
    ds: xr.Dataset,
    energy: np.ndarray,
    curves: np.ndarray,
    *,
    labels: Sequence[str] | None,
    colors: Sequence | None,
) -> list:
    """Plot one curve per scan (NaN padding dropped); return the colours used.

    Default labels are :func:`scan_labels` of ``ds``, default colours
    :func:`colours`.
    """
    labels = list(labels) if labels is not None else scan_labels(ds)
    colors = list(colors) if colors is not None else colours(curves.shape[0])
    for i in range(curves.shape[0]):
        ax.plot(*finite_curve(energy[i], curves[i]), color=colors[i], label=labels[i], lw=1.4)
    return colors


def window_inset(
    ax: Axes,
    position: tuple[float, float, float, float],
    energy: np.ndarray,
    curves: np.ndarray,
    window: tuple[float, float],
    *,
    colors: Sequence,
    title: str,
    lw: float = 1.2,
    title_size: str = "small",
    xlabel: str | None = None,
) -> tuple[Axes, tuple[float, float]]:
    """Inset of ``ax`` at ``position`` (axes fractions) magnifying the curves inside ``window`` (eV).

    Returns the inset and its y-limits (:func:`inset_ylim`).
    """
    sub = ax.inset_axes(position)
    for i in range(curves.shape[0]):
        e, y = finite_curve(energy[i], curves[i])
        keep = window_mask(e, window)
        sub.plot(e[keep], y[keep], color=colors[i], lw=lw)
    ylim = inset_ylim(energy, curves, window)
    sub.set_xlim(*window)
    sub.set_ylim(*ylim)
    sub.set_title(title, fontsize=title_size)
    small_ticks(sub)
    if xlabel is not None:
        sub.set_xlabel(xlabel, fontsize="x-small")
    return sub, ylim
