"""Pressure and temperature series: shifts of XANES observables along a path.

A *path* is a sequence of scans of one run along which either temperature
(isothermal compression) or pressure (isobaric cooling or heating) stays
constant. Each observable is referred to the path's reference point:

* isothermal path: the scan at the lowest pressure;
* isobaric path: the first scan of the path (its starting temperature);
  points are ordered by their distance in temperature from it.

Paths come from a ``path`` coordinate (labels, unique within a run) or are
inferred run by run, in scan order (see :func:`assign_paths`).

Uncertainties. For a scan ``i`` with reference ``r`` on the same path,
``Δ_i = x_i - x_r`` has ``σ(Δ_i)² = σ_i² + σ_r²`` (independent scans) and
``Δ_r = 0`` exactly. The shifts of one path share the reference's error:
``cov(Δ_i, Δ_j) = σ_r²`` for ``i ≠ j``, neither the reference. Fits across a
path (:mod:`spectro.pressure.contraction`, :mod:`spectro.pressure.anomaly`)
therefore use the uncorrelated errors ``σ_i`` with one intercept per path,
which absorbs the common reference term exactly.

Energies calibrated on a reference foil (variables with attribute
``calibrated = 1``, as :func:`spectro.xanes.analyze` marks them) also carry
the error of their scan's calibration shift: with ``calibration_error=True``
(default) and a ``calibration_shift_err`` variable present, the per-scan
error is ``hypot(x_err, calibration_shift_err)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats

from ..errors import DataError, ValidationError

__all__ = ["SERIES_VARIABLES", "Stability", "assign_paths", "preedge_stability", "relative_series"]

#: Observables referred to the path start by default: name -> (units, long name).
SERIES_VARIABLES: dict[str, tuple[str, str]] = {
    "e0": ("eV", "edge position E0"),
    "preedge_centroid": ("eV", "pre-edge centroid"),
    "feature_c": ("1", "feature C intensity"),
}


def _coord(ds: xr.Dataset, name: str, fill, dtype) -> np.ndarray:
    if name in ds.coords or name in ds.data_vars:
        return np.asarray(ds[name].values, dtype=dtype)
    return np.full(ds.sizes["scan"], fill, dtype=dtype)


def assign_paths(
    pressure: np.ndarray,
    temperature: np.ndarray,
    run: np.ndarray,
    *,
    path: np.ndarray | None = None,
    temperature_tol: float = 5.0,
    pressure_tol: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Label each scan with its path and the path's kind.

    Parameters
    ----------
    pressure, temperature : ndarray, shape (n,)
        GPa and K, per scan in measurement order.
    run : ndarray of str, shape (n,)
        Run label per scan.
    path : ndarray of str, shape (n,), optional
        Explicit path labels (empty string: infer for that run). The kind
        of a labelled path follows from its spread: temperature within
        ``temperature_tol`` -> isothermal, else pressure within
        ``pressure_tol`` -> isobaric.
    temperature_tol : float
        K. Largest temperature excursion from the path's first point on an
        isothermal path.
    pressure_tol : float
        GPa. Largest pressure excursion from the path's first point on an
        isobaric path (quasi-isobaric cooling in a diamond anvil cell drifts
        by 1-2 GPa).

    Returns
    -------
    labels : ndarray of str
        ``"<run>/<path>"``; inferred paths are numbered ``p1``, ``p2``, ...
        within their run.
    kinds : ndarray of str
        ``"isothermal"``, ``"isobaric"`` or ``"single"`` (one scan).

    Notes
    -----
    Inference walks the scans of a run in order. A path grows while every
    scan stays within ``temperature_tol`` of the path's first temperature
    (isothermal), or within ``pressure_tol`` of its first pressure while
    the temperature keeps changing from scan to scan (isobaric). The kind is
    fixed by the first scan that differs from the path's start in only one
    of the two. The first scan that breaks a path starts the next one, so a
    turning point belongs to the earlier path; a scan repeated at the
    turning point (same temperature) starts the next path and becomes its
    reference. Give explicit ``path`` labels when this rule does not fit.

    Raises
    ------
    DataError
        A labelled path along which both pressure and temperature change.

    Examples
    --------
    >>> p = np.array([1.0, 1.5, 2.0, 3.0, 8.0, 15.0])
    >>> t = np.array([300.0, 150.0, 10.0, 10.0, 10.0, 10.0])
    >>> labels, kinds = assign_paths(p, t, np.array(["r2"] * 6))
    >>> labels.tolist(), kinds.tolist()
    (['r2/p1', 'r2/p1', 'r2/p1', 'r2/p2', 'r2/p2', 'r2/p2'], ['isobaric', 'isobaric', 'isobaric', 'isothermal', 'isothermal', 'isothermal'])
    """
    p = np.asarray(pressure, dtype=float)
    t = np.asarray(temperature, dtype=float)
    run = np.asarray(run).astype(str)
    n = p.size
    given = np.full(n, "", dtype=object) if path is None else np.asarray(path).astype(str).astype(object)
    labels = np.empty(n, dtype=object)
    kinds = np.empty(n, dtype=object)

    def same_t(i: int, j: int) -> bool:
        return not abs(t[i] - t[j]) > temperature_tol

    def same_p(i: int, j: int) -> bool:
        return not abs(p[i] - p[j]) > pressure_tol

    for r in dict.fromkeys(run):
        idx = np.flatnonzero(run == r)
        labelled = idx[given[idx] != ""]
        for name in dict.fromkeys(given[labelled]):
            members = labelled[given[labelled] == name]
            first = members[0]
            if all(same_t(first, j) for j in members):
                kind = "isothermal" if members.size > 1 else "single"
            elif all(same_p(first, j) for j in members):
                kind = "isobaric"
            else:
                raise DataError(
                    f"path {name!r} of run {r!r}: both temperature "
                    f"({np.nanmin(t[members]):g}-{np.nanmax(t[members]):g} K) and pressure "
                    f"({np.nanmin(p[members]):g}-{np.nanmax(p[members]):g} GPa) change; "
                    "split it or widen temperature_tol / pressure_tol"
                )
            labels[members] = f"{r}/{name}"
            kinds[members] = kind
        free = idx[given[idx] == ""]
        count = 0
        start, kind = None, None
        for j in free:
            if start is not None:
                t_ok, p_ok = same_t(start[0], j), same_p(start[0], j)
                if kind is None and (t_ok or p_ok):
                    if not (t_ok and p_ok):
                        kind = "isothermal" if t_ok else "isobaric"
                    start.append(j)
                    continue
                if kind == "isothermal" and t_ok:
                    start.append(j)
                    continue
                if kind == "isobaric" and p_ok and not same_t(start[-1], j):
                    start.append(j)
                    continue
                count += 1
                _close(labels, kinds, start, kind, f"{r}/p{count}")
            start, kind = [j], None
        if start is not None:
            count += 1
            _close(labels, kinds, start, kind, f"{r}/p{count}")
    return labels.astype(str), kinds.astype(str)


def _close(labels, kinds, members: list[int], kind: str | None, name: str) -> None:
    labels[members] = name
    if len(members) == 1:
        kinds[members] = "single"
    else:
        kinds[members] = kind or "isothermal"


def _references(
    labels: np.ndarray, kinds: np.ndarray, p: np.ndarray, t: np.ndarray, usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reference scan index and position along the path, per scan (vectorized)."""
    n = labels.size
    order_idx = np.arange(n)
    _, code = np.unique(labels, return_inverse=True)
    iso_t = kinds != "isobaric"
    # Sort key: unusable scans last, then lowest pressure (isothermal) or
    # measurement order (isobaric); the first scan of each path is its reference.
    key = np.where(iso_t, np.nan_to_num(p, nan=np.inf), order_idx.astype(float))
    sort = np.lexsort((order_idx, key, ~usable, code))
    first_of_code = np.full(code.max() + 1, -1)
    seen = np.r_[True, code[sort][1:] != code[sort][:-1]]
    first_of_code[code[sort][seen]] = sort[seen]
    ref = first_of_code[code]
    distance = np.where(iso_t, p - p[ref], np.abs(t - t[ref]))
    pos_sort = np.lexsort((order_idx, distance, code))
    position = np.empty(n, dtype=int)
    starts = np.flatnonzero(np.r_[True, code[pos_sort][1:] != code[pos_sort][:-1]])
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    position[pos_sort] = rank
    return ref, position


def relative_series(
    results: xr.Dataset,
    *,
    variables: Sequence[str] | None = None,
    temperature_tol: float = 5.0,
    pressure_tol: float = 2.0,
    calibration_error: bool = True,
) -> xr.Dataset:
    """Refer XANES observables to the start of their pressure or temperature path.

    Parameters
    ----------
    results : xarray.Dataset
        Results along ``scan`` (e.g. from ``spectro.xanes.analyze``) with
        per-scan coordinates ``pressure`` (GPa), ``temperature`` (K) and
        ``run``; optional ``path`` labels and ``<name>_err`` uncertainties.
    variables : sequence of str, optional
        Observables to refer; default those of :data:`SERIES_VARIABLES`
        present in ``results``. The first is the primary one: the path
        reference is the first scan (in the path's order) where it is
        finite.
    temperature_tol, pressure_tol : float
        See :func:`assign_paths`.
    calibration_error : bool
        Add ``calibration_shift_err`` in quadrature to the error of
        variables marked ``calibrated = 1`` (see the module docstring).

    Returns
    -------
    xarray.Dataset
        Along ``scan``, with the coordinates of ``results`` plus ``path``,
        ``path_kind``, ``reference_scan``, ``reference_pressure``,
        ``reference_temperature`` and ``path_position`` (0 at the
        reference, then by pressure or by temperature distance), and for each
        observable ``x``: ``x``, ``x_err`` (as given), ``delta_x`` and
        ``delta_x_err`` (see the module docstring for the error model);
        ``x_err`` includes the calibration error where it was added.

    Raises
    ------
    ValidationError
        Missing ``scan`` dimension or pressure coordinate, or no observable.

    Examples
    --------
    >>> import xarray as xr
    >>> res = xr.Dataset(
    ...     {"e0": ("scan", [8345.0, 8345.2, 8345.5]), "e0_err": ("scan", [0.03, 0.04, 0.03])},
    ...     coords={"pressure": ("scan", [1.0, 5.0, 10.0]),
    ...             "temperature": ("scan", [300.0] * 3), "run": ("scan", ["r3"] * 3)})
    >>> s = relative_series(res)
    >>> [round(float(x), 2) for x in s.delta_e0], round(float(s.delta_e0_err[1]), 3)
    ([0.0, 0.2, 0.5], 0.05)
    """
    if "scan" not in results.dims:
        raise ValidationError("results need a 'scan' dimension")
    if "pressure" not in results.coords and "pressure" not in results.data_vars:
        raise ValidationError("results need a per-scan 'pressure' coordinate (GPa)")
    names = [v for v in (variables or SERIES_VARIABLES) if v in results.data_vars]
    if variables is not None and len(names) != len(variables):
        missing = sorted(set(variables) - set(names))
        raise ValidationError(f"results have no variable(s) {missing}")
    if not names:
        raise ValidationError(f"results have none of {list(SERIES_VARIABLES)}")
    p = _coord(results, "pressure", np.nan, float)
    t = _coord(results, "temperature", np.nan, float)
    run = _coord(results, "run", "", object).astype(str)
    given = _coord(results, "path", "", object).astype(str) if "path" in results.coords else None
    labels, kinds = assign_paths(
        p, t, run, path=given, temperature_tol=temperature_tol, pressure_tol=pressure_tol
    )
    primary = np.asarray(results[names[0]].values, dtype=float)
    ref, position = _references(labels, kinds, p, t, np.isfinite(primary))
    scan_labels = np.asarray(results["scan"].values).astype(str)
    is_ref = ref == np.arange(ref.size)
    out = xr.Dataset(coords=results.coords)
    out = out.assign_coords(
        path=("scan", labels, {"units": "", "long_name": "pressure/temperature path"}),
        path_kind=("scan", kinds, {"units": "", "long_name": "path kind"}),
        reference_scan=("scan", scan_labels[ref], {"units": "", "long_name": "reference scan of the path"}),
        path_position=("scan", position, {"units": "", "long_name": "position along the path"}),
        reference_pressure=("scan", p[ref], {"units": "GPa", "long_name": "pressure of the path reference"}),
        reference_temperature=("scan", t[ref], {"units": "K", "long_name": "temperature of the path reference"}),
    )
    for name in names:
        x = np.asarray(results[name].values, dtype=float)
        err_name = f"{name}_err"
        sx = (np.asarray(results[err_name].values, dtype=float) if err_name in results
              else np.zeros_like(x))
        with_cal = (calibration_error and "calibration_shift_err" in results
                    and int(results[name].attrs.get("calibrated", 0)) == 1)
        if with_cal:
            sx = np.hypot(sx, np.nan_to_num(results["calibration_shift_err"].values.astype(float)))
        units, long_name = SERIES_VARIABLES.get(name, (results[name].attrs.get("units", ""), name))
        units = results[name].attrs.get("units", units)
        long_name = results[name].attrs.get("long_name", long_name)
        delta = x - x[ref]
        delta_err = np.where(is_ref, 0.0, np.hypot(sx, sx[ref]))
        out[name] = ("scan", x, {"units": units, "long_name": long_name})
        out[err_name] = ("scan", sx, {
            "units": units, "long_name": f"{long_name} uncertainty (1 sigma)",
            "includes_calibration_error": int(with_cal),
        })
        out[f"delta_{name}"] = ("scan", delta, {
            "units": units, "long_name": f"shift of {long_name} from the path reference",
        })
        out[f"delta_{name}_err"] = ("scan", delta_err, {
            "units": units,
            "long_name": f"uncertainty of delta_{name} (1 sigma)",
            "method": "sqrt(err_i**2 + err_ref**2); 0 at the reference; "
                      "shifts of one path share covariance err_ref**2",
        })
    out.attrs.update({
        "kind": "pressure_series",
        "temperature_tol": temperature_tol,
        "pressure_tol": pressure_tol,
        "reference_rule": "isothermal: lowest pressure; isobaric: first scan of the path",
    })
    return out


@dataclass(frozen=True)
class Stability:
    """Whether an observable stays put along its paths.

    Attributes
    ----------
    variable : str
    max_abs_delta : float
        Largest ``|Δ|`` over all scans (units of the variable).
    scan : str
        Scan where it occurs.
    significance : float
        That ``|Δ|`` divided by its uncertainty (NaN without errors).
    tolerance : float
    within : bool
        ``max_abs_delta <= tolerance``.
    compatible : bool
        Every shift is compatible with the tolerance within its error at
        the confidence ``confidence``: ``|Δ_i| - z σ(Δ_i) <= tolerance``
        (``z`` the two-sided normal quantile). Noisy data can exceed the
        tolerance by chance; this tells whether they have to.
    confidence : float
    per_path : dict of str to float
        Largest ``|Δ|`` on each path.
    """

    variable: str
    max_abs_delta: float
    scan: str
    significance: float
    tolerance: float
    within: bool
    compatible: bool
    confidence: float
    per_path: dict


def preedge_stability(
    series: xr.Dataset,
    *,
    tolerance: float = 0.1,
    variable: str = "preedge_centroid",
    confidence: float = 0.95,
) -> Stability:
    """Largest shift of the pre-edge centroid and whether it is within ``tolerance``.

    The study reports the pre-edge feature fixed within ±0.1 eV over its
    pressure and temperature paths; ``tolerance`` (eV) is that bound.

    Parameters
    ----------
    series : xarray.Dataset
        From :func:`relative_series`.
    tolerance : float
        eV.
    variable : str
        Observable to check (any referred variable works, e.g. ``"e0"``).
    confidence : float
        Confidence level of :attr:`Stability.compatible`.

    Returns
    -------
    Stability

    Raises
    ------
    DataError
        If the series has no finite shift of ``variable``.

    Examples
    --------
    >>> import xarray as xr
    >>> res = xr.Dataset({"preedge_centroid": ("scan", [8333.1, 8333.15, 8333.05])},
    ...                  coords={"pressure": ("scan", [1.0, 5.0, 9.0]), "run": ("scan", ["a"] * 3)})
    >>> st = preedge_stability(relative_series(res))
    >>> round(st.max_abs_delta, 3), st.within, st.compatible
    (0.05, True, True)
    """
    key = f"delta_{variable}"
    if key not in series:
        raise DataError(f"series has no {key}; run relative_series with {variable!r}")
    d = np.abs(np.asarray(series[key].values, dtype=float))
    if not np.any(np.isfinite(d)):
        raise DataError(f"no finite {key} in the series")
    i = int(np.nanargmax(d))
    err = np.asarray(series[f"{key}_err"].values, dtype=float)
    sig = float(d[i] / err[i]) if err[i] > 0 else float("nan")
    paths = np.asarray(series["path"].values).astype(str)
    per_path = {str(name): float(np.nanmax(np.where(paths == name, d, np.nan)))
                for name in dict.fromkeys(paths)}
    z = float(stats.norm.isf((1.0 - confidence) / 2.0))
    compatible = bool(np.all((d - z * np.nan_to_num(err))[np.isfinite(d)] <= tolerance))
    scan = str(series["scan"].values[i]) if "scan" in series.coords else str(i)
    return Stability(variable, float(d[i]), scan, sig, float(tolerance), bool(d[i] <= tolerance),
                     compatible, float(confidence), per_path)
