"""Repeated scans of one sample: does their scatter agree with their errors?

Scans of one sample under the same conditions should scatter as their
scan-to-scan errors say (``<name>_err_scan``, the part of a scan's error
computed from that scan alone; a plain analysis's ``<name>_err`` when there
is no budget). For each group of repeats, with values ``x_i`` and errors
``s_i``, weights ``w = 1/s**2`` and their weighted mean ``xbar``::

    chi2/dof = sum w (x - xbar)**2 / (n - 1)

Above 1 the repeats scatter more than their errors say (Birge): each scan
gets the scatter term ``s_i sqrt(chi2/dof - 1)`` (:func:`repeat_scatter`),
and the group's mean its error ``sqrt(1 / sum w) * sqrt(max(1, chi2/dof))``
(:func:`repeat_table`). :func:`repeat_groups` finds the groups in a batch's
or an analysis's results: the same ``sample``, ``pressure``,
``temperature`` and ``run``; a scan without a sample name is a repeat of
the other scans of its file; merged spectra (an Athena project's merges)
are no repeats, and a group's scan whose value and error equal another's
to the bit (a project holding one scan twice) is counted once.

On the real spectra of ``../shared/data`` these numbers are far from 1
for some groups (``docs/uncertainty.md``, "Repeats against each scan's own
error"): that is what the check is for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .errors import DataError

__all__ = ["REPEAT_KEYS", "repeat_groups", "repeat_scatter", "repeat_table"]

#: The per-scan coordinates that repeats share.
REPEAT_KEYS: tuple[str, ...] = ("sample", "pressure", "temperature", "run")


def _scan_dim(results: xr.Dataset, name: str) -> str:
    """The one dimension of ``results[name]`` (``scan`` for an analysis, ``spectrum`` for a batch's results)."""
    if name not in results:
        raise DataError(f"the results have no {name!r}")
    dims = results[name].dims
    if len(dims) != 1:
        raise DataError(f"{name!r} is not one number per scan (dims {dims})")
    return str(dims[0])


def _text(values: np.ndarray) -> np.ndarray:
    """Per-scan labels as text; an unknown number (NaN) is ``""``."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return np.array(["" if not np.isfinite(v) else repr(float(v)) for v in values], dtype=object)
    return np.array([str(v) for v in values], dtype=object)


def repeat_groups(results: xr.Dataset, by: Sequence[str] = REPEAT_KEYS, *, name: str = "e0") -> np.ndarray:
    """The group of repeats of each scan: a label made of the coordinates ``by`` ("" for a merge, in no group).

    Parameters
    ----------
    results : xarray.Dataset
        Per-scan results (along ``scan``, or a batch's ``spectrum``).
    by : sequence of str
        Per-scan coordinates or variables that repeats share (missing ones
        are left out). An empty ``sample`` stands for the scan's ``file``
        (or ``source``).
    name : str, keyword-only
        A per-scan result, whose dimension the groups are along.

    Returns
    -------
    ndarray of str
        ``"sample=NiO; pressure=3.2"``-like labels, one per scan.

    Examples
    --------
    >>> res = xr.Dataset({"e0": ("scan", [1.0, 1.1, 2.0, 1.05])},
    ...                  coords={"sample": ("scan", ["", "", "NiS", ""]),
    ...                          "file": ("scan", ["a.prj", "a.prj", "b.xdi", "a.prj"]),
    ...                          "athena_is_merge": ("scan", [0.0, 0.0, np.nan, 1.0])})
    >>> repeat_groups(res).tolist()
    ['file=a.prj', 'file=a.prj', 'sample=NiS', '']
    """
    dim = _scan_dim(results, name)
    n = results.sizes[dim]
    parts = []
    for key in by:
        if key not in results or results[key].dims != (dim,):
            continue
        text = _text(results[key].values)
        if key == "sample":
            where = next((k for k in ("file", "source") if k in results and results[k].dims == (dim,)), None)
            if where is not None:
                own = _text(results[where].values)
                text = np.array([f"sample={t}" if t else f"{where}={o}" for t, o in zip(text, own)], dtype=object)
                parts.append(text)
                continue
        parts.append(np.array([f"{key}={t}" if t else "" for t in text], dtype=object))
    labels = np.array(["; ".join(p for p in row if p) for row in zip(*parts)] if parts else [""] * n, dtype=object)
    if "athena_is_merge" in results and results["athena_is_merge"].dims == (dim,):  # NaN: not a project's scan
        labels[np.nan_to_num(np.asarray(results["athena_is_merge"].values, dtype=float), nan=0.0) != 0] = ""
    return labels.astype(str)


def _used(x: np.ndarray, s: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """The scans that count: in a group, with a value and a positive error, and not another's copy to the bit."""
    ok = (groups != "") & np.isfinite(x) & np.isfinite(s) & (s > 0)
    copy = pd.DataFrame({"group": groups.astype(str), "x": x, "s": s}).duplicated().to_numpy()
    return ok & ~copy


def _error_name(results: xr.Dataset, name: str) -> str:
    for candidate in (f"{name}_err_scan", f"{name}_err"):
        if candidate in results:
            return candidate
    raise DataError(f"the results have no error of {name!r} ({name}_err_scan or {name}_err)")


def repeat_scatter(
    results: xr.Dataset,
    by: str | Sequence[Any] | None = None,
    *,
    name: str = "valence",
) -> xr.Dataset:
    """Widen the errors of repeated scans of one sample by their excess scatter (Birge ratio).

    For each group of scans (one sample), with ``x_i`` = ``results[name]`` and
    ``s_i`` = ``results[name + "_err_scan"]`` (the part of each scan's error
    that varies from scan to scan), ``chi2/dof = sum w (x - xbar)**2 / (n - 1)``
    with weights ``w = 1/s**2`` and ``xbar`` their weighted mean. When it
    exceeds 1, each scan gets the scatter term ``s_i sqrt(chi2/dof - 1)``, so
    that its scan-to-scan error becomes ``s_i * sqrt(chi2/dof)``; it is
    added in quadrature to ``<name>_stat`` and ``<name>_err``. Results
    without a budget have no ``<name>_err_scan``: their ``<name>_err`` (the
    statistical error, from each scan alone) takes its place.

    Parameters
    ----------
    results : xarray.Dataset
        Per-scan results (along ``scan``, or a batch's ``spectrum``) with
        ``name``, ``name_err_scan`` (or ``name_err``), and ``name_stat``
        and ``name_err`` when present.
    by : str or sequence, optional
        The group of each scan: the name of a per-scan variable or
        coordinate, or one label per scan ("" for none, as
        :func:`repeat_groups` gives a merge; default: all scans one sample).
    name : str, keyword-only
        The result (``"valence"``, ``"e0"``, ...).

    Returns
    -------
    xarray.Dataset
        ``results`` with ``<name>_chi2`` (chi2/dof of the scan's group, NaN
        for a single scan), ``<name>_scatter`` and the widened errors.

    Examples
    --------
    >>> res = xr.Dataset({"e0": ("scan", [1.0, 1.2, 0.8, 5.0, 5.0]),
    ...                   "e0_err_scan": ("scan", [0.1] * 5)})
    >>> out = repeat_scatter(res, ["a", "a", "a", "b", "b"], name="e0")
    >>> out.e0_chi2.values.round(2).tolist(), out.e0_scatter.values.round(3).tolist()
    ([4.0, 4.0, 4.0, nan, nan], [0.173, 0.173, 0.173, 0.0, 0.0])
    """
    dim = _scan_dim(results, name)
    x = np.asarray(results[name].values, dtype=float)
    s = np.asarray(results[_error_name(results, name)].values, dtype=float)
    if by is None:
        groups = np.full(x.shape, "all", dtype=object)
    elif isinstance(by, str):
        groups = np.asarray(results[by].values).astype(str).astype(object)
    else:
        groups = np.asarray(by).astype(str).astype(object)
    if groups.shape != x.shape:
        raise DataError(f"one group per scan is needed: {groups.size} for {x.size} scans")
    chi2 = _group_chi2(x, s, groups)[0]
    scatter = np.where(np.isfinite(chi2), s * np.sqrt(np.maximum(np.nan_to_num(chi2) - 1.0, 0.0)), 0.0)
    units = results[name].attrs.get("units", "1")
    out = results.assign({
        f"{name}_chi2": (dim, chi2, {"units": "1", "long_name": f"chi2/dof of the repeated scans' {name}",
                                     "method": "weights 1/err_scan**2 about the weighted mean of the group"}),
        f"{name}_scatter": (dim, scatter, {"units": units, "long_name": f"{name} scatter term of repeats",
                                           "method": "err_scan * sqrt(max(0, chi2/dof - 1)) (Birge)"}),
    })
    for part in (f"{name}_stat", f"{name}_err"):
        if part in out:
            out[part] = np.hypot(out[part], out[f"{name}_scatter"]).assign_attrs(out[part].attrs)
    return out


def _group_chi2(x: np.ndarray, s: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, dict[str, tuple]]:
    """chi2/dof of each scan's group (NaN for fewer than two scans that count) and, per group, (n, mean,
    sqrt(1/sum w), chi2/dof, copies)."""
    used = _used(x, s, groups)
    chi2 = np.full(x.shape, np.nan)
    table = {}
    for g in dict.fromkeys(groups[groups != ""]):  # a loop over samples, not over spectra
        member = groups == g
        rows = member & used
        n = int(rows.sum())
        copies = int((member & np.isfinite(x)).sum()) - n if n else 0
        if not n:
            table[str(g)] = (0, np.nan, np.nan, np.nan, copies)
            continue
        w = 1.0 / s[rows] ** 2
        mean = float(np.sum(w * x[rows]) / np.sum(w))
        c = float(np.sum(w * (x[rows] - mean) ** 2) / (n - 1)) if n > 1 else np.nan
        chi2[member] = c
        table[str(g)] = (n, mean, float(np.sqrt(1.0 / np.sum(w))), c, copies)
    return chi2, table


def repeat_table(results: xr.Dataset, groups: np.ndarray | None = None, *, name: str = "valence") -> xr.Dataset:
    """Per group of repeats: how many scans, their weighted mean and its error, and chi2/dof.

    Parameters
    ----------
    results : xarray.Dataset
        Per-scan results with ``name`` and ``<name>_err_scan`` (or, without
        a budget, ``<name>_err``).
    groups : ndarray of str, optional
        One label per scan, "" for none (default :func:`repeat_groups`).
    name : str, keyword-only
        The result.

    Returns
    -------
    xarray.Dataset
        Along ``group``: ``n`` (scans that count), ``copies`` (scans left
        out as another's copy to the bit), ``<name>_mean``,
        ``<name>_mean_err`` (the weighted mean's error, widened by
        ``sqrt(chi2/dof)`` when above 1), ``<name>_chi2`` (NaN for one
        scan); attr ``error`` names the errors used.

    Examples
    --------
    >>> res = xr.Dataset({"e0": ("scan", [1.0, 1.2, 0.8, 5.0]), "e0_err_scan": ("scan", [0.1] * 4)})
    >>> t = repeat_table(res, np.array(["a", "a", "a", "b"]), name="e0")
    >>> t.n.values.tolist(), t.e0_chi2.values.round(2).tolist(), t.e0_mean_err.values.round(3).tolist()
    ([3, 1], [4.0, nan], [0.115, 0.1])
    """
    err = _error_name(results, name)
    x = np.asarray(results[name].values, dtype=float)
    s = np.asarray(results[err].values, dtype=float)
    groups = repeat_groups(results, name=name) if groups is None else np.asarray(groups).astype(str)
    _, table = _group_chi2(x, s, groups.astype(object))
    labels = list(table)
    n, mean, mean_err, chi2, copies = (np.array([table[g][k] for g in labels]) for k in range(5))
    widened = mean_err * np.sqrt(np.maximum(1.0, np.nan_to_num(chi2, nan=1.0)))
    units = results[name].attrs.get("units", "1")
    return xr.Dataset(
        {
            "n": ("group", n.astype(int), {"units": "1", "long_name": "scans that count"}),
            "copies": ("group", copies.astype(int), {"units": "1",
                                                       "long_name": "scans left out as another's copy to the bit"}),
            f"{name}_mean": ("group", mean, {"units": units,
                                             "long_name": f"weighted mean {name} (weights 1/{err}**2)"}),
            f"{name}_mean_err": ("group", widened, {"units": units, "long_name": f"error of the mean {name}",
                                                    "method": "sqrt(1/sum w) * sqrt(max(1, chi2/dof)) (Birge)"}),
            f"{name}_chi2": ("group", chi2, {"units": "1", "long_name": f"chi2/dof of the repeats' {name}"}),
        },
        coords={"group": labels},
        attrs={"error": err},
    )
