"""Pressure-temperature paths of the runs of a beamtime."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from ._style import LABELS, colours, get_ax

__all__ = ["pt_paths"]

#: Orthorhombic (Amam) to tetragonal (I4/mmm) transition range of La3Ni2O7, GPa (Mijit et al. 2024).
TRANSITION_GPA = (13.0, 15.0)
#: Superconducting domain of La3Ni2O7 quoted by Mijit et al. (2024): P > 14 GPa and T < 80 K.
SC_DOMAIN = (14.0, 80.0)


def _runs(data: xr.Dataset | Sequence[xr.Dataset]) -> dict[str, tuple[np.ndarray, np.ndarray, str]]:
    datasets = [data] if isinstance(data, xr.Dataset) else list(data)
    runs: dict[str, list] = {}
    for ds in datasets:
        n = ds.sizes["scan"]
        run = ds["run"].values if "run" in ds.coords else np.full(n, "")
        sample = ds["sample"].values if "sample" in ds.coords else np.full(n, "")
        p = np.asarray(ds["pressure"].values, dtype=float)
        t = np.asarray(ds["temperature"].values, dtype=float)
        for i in range(n):
            key = f"{run[i]}" if str(run[i]) else f"{sample[i]}"
            runs.setdefault(key, [[], [], str(sample[i])])
            runs[key][0].append(p[i])
            runs[key][1].append(t[i])
    return {k: (np.asarray(p), np.asarray(t), s) for k, (p, t, s) in runs.items()}


def pt_paths(
    data: xr.Dataset | Sequence[xr.Dataset],
    *,
    ax: Axes | None = None,
    phase_diagram: bool = False,
    arrows: bool = True,
) -> Axes:
    """Draw the pressure-temperature path of each run, in measurement order.

    One line with markers per run (per sample when ``run`` is empty), its
    points in scan order, with arrows along the path, as in Fig. 1 of
    Mijit et al. (2024). Scans without a finite pressure or temperature
    are left out.

    Parameters
    ----------
    data : Dataset or sequence of Datasets
        Any spectro Datasets (raw or results) with the per-scan coordinates
        ``pressure`` (GPa), ``temperature`` (K) and ``run``.
    ax : Axes, optional
        Where to draw; a new figure when None.
    phase_diagram : bool
        Shade the La3Ni2O7 Amam/I4/mmm transition range (13-15 GPa) and the
        superconducting domain (P > 14 GPa, T < 80 K) quoted by Mijit et al.
    arrows : bool
        Draw an arrow on each step of a path.

    Returns
    -------
    Axes
        One Line2D per run, labelled with the run (and sample).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import spectro, spectro.plot
    >>> ds = spectro.simulate.xanes(n_scans=3, pressure=[1.0, 5.0, 9.0], temperature=10.0, run="run-2")
    >>> ax = spectro.plot.pt_paths(ds)
    >>> [line.get_label() for line in ax.get_lines()], ax.get_xlabel()
    (['run-2'], 'Pressure (GPa)')
    """
    ax = get_ax(ax)
    runs = _runs(data)
    cols = colours(len(runs))
    for (name, (p, t, sample)), color in zip(runs.items(), cols):
        keep = np.isfinite(p) & np.isfinite(t)
        p, t = p[keep], t[keep]
        label = f"{name} ({sample})" if sample and sample != name else name
        ax.plot(p, t, "o-", color=color, label=label, ms=4, lw=1.2)
        if arrows:
            for k in range(p.size - 1):
                if (p[k], t[k]) != (p[k + 1], t[k + 1]):
                    ax.annotate("", xy=((p[k] + p[k + 1]) / 2, (t[k] + t[k + 1]) / 2), xytext=(p[k], t[k]),
                                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0})
    if phase_diagram:
        ax.axvspan(*TRANSITION_GPA, color="0.85", zorder=0, label="Amam → I4/mmm (13–15 GPa)")
        p_sc, t_sc = SC_DOMAIN
        right = max(ax.get_xlim()[1], p_sc + 5.0)
        ax.fill_between([p_sc, right], 0, t_sc, color="tab:blue", alpha=0.12, zorder=0,
                        label="superconducting (P > 14 GPa, T < 80 K)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(LABELS["pressure"])
    ax.set_ylabel(LABELS["temperature"])
    ax.legend(fontsize="small", frameon=False, loc="best")
    return ax
