"""One-call XANES analysis: calibrate, normalize, edge positions, pre-edge, feature C.

Order of operations for every scan (all scans at once except the lmfit
pre-edge fits):

1. if a reference channel ``mu_ref`` is present (and ``reference_channel``
   is true), the calibration shift that puts the foil's derivative maximum
   at the tabulated edge (:mod:`spectro.xanes.energy_calibration`); otherwise NaN;
2. normalization on the measured energies (:mod:`spectro.xanes.normalize`,
   windows relative to the anchoring E0, default the derivative maximum of
   ``mu``);
3. E0 at ``level`` (0.8) of the jump and the half-height crossing,
   searched from 30 eV below to 40 eV above the anchoring E0
   (:data:`EDGE_REGION`), and the derivative maximum of the normalized
   spectrum (:mod:`spectro.xanes.edge`);
4. pre-edge fit and model-free centroid (:mod:`spectro.xanes.preedge`)
   and the feature-C intensity (:mod:`spectro.xanes.features`), with their
   windows on the calibrated scale.

Every reported energy is on the calibrated scale (measured energy +
``calibration_shift``) when the shift is known, else on the measured scale;
``attrs["calibrated"]`` of each energy variable says which applies to the
Dataset as a whole.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import DataError, SpectroWarning
from ..model import Spectra, source_file
from . import _xr
from .edge import E0_LEVEL, e0_crossings, e0_derivative_arrays
from .energy_calibration import calibration_arrays, tabulated_edge
from .features import FEATURE_C_ENERGY, feature_intensity_arrays
from .normalize import DEFAULT_WINDOWS, normalize_arrays
from .preedge import FIT_RANGE, PEAK_RANGE, preedge_centroid_arrays, preedge_fit_arrays

__all__ = ["RESULTS", "Stacked", "analyze", "analyze_arrays", "analyze_many", "analyze_stacked"]

#: Per-scan results: name -> (units, long_name).
RESULTS: dict[str, tuple[str, str]] = {
    "e0": ("eV", "edge energy (first crossing of the level of the normalized jump)"),
    "e0_err": ("eV", "edge energy uncertainty (1 sigma)"),
    "e0_derivative": ("eV", "edge energy (maximum of the smoothed derivative)"),
    "e0_derivative_err": ("eV", "derivative-maximum uncertainty (1 sigma)"),
    "e0_half": ("eV", "edge energy at half height (0.5 crossing)"),
    "e0_half_err": ("eV", "half-height edge energy uncertainty (1 sigma)"),
    "e0_anchor": ("eV", "E0 anchoring the normalization windows (measured scale)"),
    "edge_step": ("1", "edge step at E0 (units of mu)"),
    "edge_step_err": ("1", "edge step uncertainty (1 sigma)"),
    "preedge_centroid": ("eV", "pre-edge centroid"),
    "preedge_centroid_err": ("eV", "pre-edge centroid uncertainty (1 sigma)"),
    "preedge_area": ("eV", "pre-edge area (normalized units x eV)"),
    "preedge_area_err": ("eV", "pre-edge area uncertainty (1 sigma)"),
    "preedge_height": ("1", "pre-edge peak height (normalized)"),
    "preedge_centroid_free": ("eV", "pre-edge centroid (model-free)"),
    "preedge_centroid_free_err": ("eV", "model-free centroid uncertainty (1 sigma)"),
    "calibration_shift": (
        "eV",
        "energy calibration shift (added to measured energies)",
    ),
    "calibration_shift_err": ("eV", "calibration shift uncertainty (1 sigma)"),
    "feature_c": ("1", "normalized absorption at feature C"),
    "feature_c_err": ("1", "feature C uncertainty (1 sigma)"),
    "pre1": ("eV", "pre-edge window start used, relative to E0 anchor"),
    "pre2": ("eV", "pre-edge window end used, relative to E0 anchor"),
    "norm1": ("eV", "post-edge window start used, relative to E0 anchor"),
    "norm2": ("eV", "post-edge window end used, relative to E0 anchor"),
}


#: The crossings are searched from this far below to this far above the anchoring E0, eV.
EDGE_REGION: tuple[float, float] = (-30.0, 40.0)


def _edge_region(anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-spectrum search range of the crossings around the anchoring E0, eV."""
    return anchor + EDGE_REGION[0], anchor + EDGE_REGION[1]


def analyze_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    mu_ref: np.ndarray | None = None,
    *,
    e0: np.ndarray | float | None = None,
    pre1: float = DEFAULT_WINDOWS["pre1"],
    pre2: float = DEFAULT_WINDOWS["pre2"],
    norm1: float = DEFAULT_WINDOWS["norm1"],
    norm2: float = DEFAULT_WINDOWS["norm2"],
    nnorm: int | None = None,
    nvict: float = 0.0,
    level: float = E0_LEVEL,
    edge_energy: float | None = None,
    fit_range: tuple[float, float] = FIT_RANGE,
    peak_range: tuple[float, float] = PEAK_RANGE,
    baseline: str = "arctan",
    peak: str = "pseudovoigt",
    npeaks: int = 1,
    preedge: str = "fit",
    feature_energy: float = FEATURE_C_ENERGY,
) -> dict[str, np.ndarray]:
    """Analyze spectra over the last axis; return a dict of arrays (see :data:`RESULTS`).

    Parameters are those of :func:`analyze`; ``mu_ref`` (same shape as
    ``mu``) enables calibration. Also returns ``norm`` and ``flat``.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> r = analyze_arrays(ds.energy.values, ds.mu.values)
    >>> abs(float(r["e0"][0] - ds.true_e0[0])) < 0.02
    True
    """
    options = dict(
        e0=e0, pre1=pre1, pre2=pre2, norm1=norm1, norm2=norm2, nnorm=nnorm, nvict=nvict, level=level,
        edge_energy=edge_energy, fit_range=fit_range, peak_range=peak_range, baseline=baseline, peak=peak,
        npeaks=npeaks, preedge=preedge, feature_energy=feature_energy,
    )
    complete = _complete_rows(energy, mu, mu_ref)
    if complete is not None:
        return _apart(complete, energy, mu, mu_ref, options)
    n = normalize_arrays(
        energy,
        mu,
        e0=e0,
        pre1=pre1,
        pre2=pre2,
        norm1=norm1,
        norm2=norm2,
        nnorm=nnorm,
        nvict=nvict,
    )
    lead = n.edge_step.shape
    if mu_ref is not None:
        cal = calibration_arrays(energy, mu_ref, edge_energy=edge_energy)
        shift, shift_err = cal.shift, cal.shift_err
    else:
        shift = np.full(lead, np.nan)
        shift_err = np.full(lead, np.nan)
    s = np.where(np.isfinite(shift), shift, 0.0)
    search = _edge_region(n.e0)
    cross, half = e0_crossings(
        energy, n.norm, levels=(level, 0.5), sigma=n.sigma, level_err=n.level_err, search=search
    )
    deriv_e0, deriv_err = _derivative_of_norm(energy, n, given_e0=e0 is not None)
    ecal = np.asarray(energy, dtype=float) + s[..., None]
    free = preedge_centroid_arrays(
        ecal, n.norm, fit_range=fit_range, peak_range=peak_range, sigma=n.sigma
    )
    if preedge == "fit":
        fit = preedge_fit_arrays(
            ecal,
            n.norm,
            fit_range=fit_range,
            peak_range=peak_range,
            baseline=baseline,
            peak=peak,
            npeaks=npeaks,
        )
    elif preedge == "centroid":
        fit = free
    else:
        raise DataError(f"preedge must be 'fit' or 'centroid', not {preedge!r}")
    feat = feature_intensity_arrays(ecal, n.norm, at=feature_energy, sigma=n.sigma)
    return {
        "e0": cross.e0 + s,
        "e0_err": cross.e0_err,
        "e0_derivative": deriv_e0 + s,
        "e0_derivative_err": deriv_err,
        "e0_half": half.e0 + s,
        "e0_half_err": half.e0_err,
        "e0_anchor": n.e0,
        "edge_step": n.edge_step,
        "edge_step_err": n.edge_step_err,
        "preedge_centroid": fit.centroid,
        "preedge_centroid_err": fit.centroid_err,
        "preedge_area": fit.area,
        "preedge_area_err": fit.area_err,
        "preedge_height": fit.height,
        "preedge_centroid_free": free.centroid,
        "preedge_centroid_free_err": free.centroid_err,
        "calibration_shift": shift,
        "calibration_shift_err": shift_err,
        "feature_c": feat.intensity,
        "feature_c_err": feat.intensity_err,
        "pre1": n.pre1,
        "pre2": n.pre2,
        "norm1": n.norm1,
        "norm2": n.norm2,
        "norm": n.norm,
        "flat": n.flat,
        "_nnorm": n.nnorm.astype(float),
    }


def _derivative_of_norm(energy, n, *, given_e0: bool) -> tuple[np.ndarray, np.ndarray]:
    """Position and error of the maximum of the smoothed derivative of ``n.norm``.

    When the windows were anchored on the derivative maximum of ``mu``,
    the pre-edge is a line (``nvict`` 0) and every edge step is positive,
    this is that anchor: ``norm = (mu - line) / step``, the local quadratic
    keeps a line exactly, and so the derivative of ``norm`` is that of
    ``mu`` less a constant over a positive step, with its maximum (and the
    parabola through it) at the same energy and the same error. Otherwise
    it is found on ``norm`` itself.
    """
    step = n.edge_step
    if not given_e0 and n.nvict == 0 and np.all(step[np.isfinite(step)] > 0):
        ok = np.isfinite(step)
        return np.where(ok, n.e0, np.nan), np.where(ok, n.e0_err, np.nan)
    deriv = e0_derivative_arrays(energy, n.norm, sigma=n.sigma)
    return deriv.e0, deriv.e0_err


def _complete_rows(energy, mu, mu_ref) -> np.ndarray | None:
    """Which spectra on a shared grid have every point, when only some do (else None).

    Those take the kernels' shared-grid paths, which one spectrum with a
    missing point would otherwise deny to all of them.
    """
    energy, mu = np.asarray(energy), np.asarray(mu)
    if energy.ndim != 1 or mu.ndim < 2 or not np.isfinite(energy).all():
        return None
    complete = np.isfinite(mu).all(axis=-1)
    if mu_ref is not None:
        complete &= np.isfinite(mu_ref).all(axis=-1)
    return complete if 0 < complete.sum() < complete.size else None


def _apart(complete, energy, mu, mu_ref, options) -> dict[str, np.ndarray]:
    """:func:`analyze_arrays` on the complete and the other spectra apart, put back in place."""
    e0 = options.pop("e0")
    parts = []
    for rows in (complete, ~complete):
        e0_rows = None if e0 is None else np.broadcast_to(np.asarray(e0, dtype=float), complete.shape)[rows]
        ref = None if mu_ref is None else np.asarray(mu_ref)[rows]
        parts.append((rows, analyze_arrays(energy, np.asarray(mu)[rows], ref, e0=e0_rows, **options)))
    out = {}
    for name, values in parts[0][1].items():
        whole = np.empty(complete.shape + values.shape[1:], dtype=values.dtype)
        for rows, r in parts:
            whole[rows] = r[name]
        out[name] = whole
    return out


def _named(caught, file: str, labels: Sequence[str], values: Mapping[str, np.ndarray] | None, *,
           only_concerned: bool = False):
    """The kernels' spectro warnings reworded to name the file and the scans concerned.

    ``values`` holds the results of the scans ``labels`` of ``file`` (None
    when lazy: the warnings pass through). Returns (passed-through
    warnings, list of warning instances). With ``only_concerned`` a
    warning is dropped for an input none of whose scans it concerns (the
    kernel ran on several inputs at once).
    """
    other, named = [], []
    for w in caught:
        if not issubclass(w.category, SpectroWarning) or values is None:
            other.append(w)
            continue
        key = "edge_step" if "normalization" in str(w.message) else "preedge_centroid_err"
        bad = [str(lab) for lab, v in zip(labels, values[key]) if not np.isfinite(v)]
        if only_concerned and not bad:
            continue
        scans = f"scans {', '.join(repr(b) for b in bad)}: " if bad else ""
        prefix = f"{file}: " if file else ""
        named.append(w.category(f"{prefix}{scans}{w.message}"))
    return other, named


def _warn_with_scans(caught, ds: xr.Dataset, out: xr.Dataset) -> None:
    """Re-issue the kernels' warnings naming the file and the scans concerned."""
    lazy = not isinstance(out["e0"].data, np.ndarray)
    values = None if lazy else {k: out[k].values for k in ("edge_step", "preedge_centroid_err")}
    file = source_file(ds.attrs, ds.source.values if "source" in ds.coords else [])
    other, named = _named(caught, file, ds.scan.values, values)
    for w in other:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for w in named:
        warnings.warn(w, stacklevel=3)


#: Variables the kernel returns, in order: the results, the spectra, the post-edge order.
_NAMES = list(RESULTS) + ["norm", "flat", "_nnorm"]
_SPECTRA = {"norm": "normalized mu", "flat": "flattened normalized mu"}


def _method_attrs(opts: dict, *, calibrated: bool, has_e0: bool, nnorm_used: np.ndarray | None) -> dict[str, dict]:
    """The attrs that say how each result was obtained (``nnorm_used``: None when lazy)."""
    nnorm, edge_energy = opts["nnorm"], opts["edge_energy"]
    fit_range, peak_range = list(opts["fit_range"]), list(opts["peak_range"])
    free = {
        "method": "model-free centroid, linear baseline",
        "fit_range_ev": fit_range,
        "peak_range_ev": peak_range,
    }
    if nnorm is not None or nnorm_used is None:
        nnorm_attr = "default" if nnorm is None else int(nnorm)
    else:
        nnorm_attr = int(np.nanmax(nnorm_used)) if nnorm_used.size else 0
    method = {
        "e0": {
            "method": "first persistent upward crossing, interpolated on the data",
            "level": float(opts["level"]),
        },
        "e0_half": {"method": "first persistent upward crossing", "level": 0.5},
        "e0_derivative": {
            "method": "maximum of smoothed derivative of norm, parabolic refinement"
        },
        "calibration_shift": {
            "method": "reference foil derivative maximum",
            "edge_energy_ev": tabulated_edge() if edge_energy is None else float(edge_energy),
        },
        "edge_step": {
            "pre_window_ev": [opts["pre1"], opts["pre2"]],
            "norm_window_ev": [opts["norm1"], opts["norm2"]],
            "nvict": float(opts["nvict"]),
            "e0_anchor": "given" if has_e0 else "derivative maximum of mu",
            "nnorm": nnorm_attr,
        },
        "preedge_centroid": {
            "method": "lmfit",
            "model": f"{opts['baseline']} baseline + {opts['npeaks']} {opts['peak']}",
            "fit_range_ev": fit_range,
            "peak_range_ev": peak_range,
        }
        if opts["preedge"] == "fit"
        else dict(free),
        "preedge_centroid_free": dict(free),
        "feature_c": {"energy_ev": float(opts["feature_energy"])},
    }
    for name in ("e0", "e0_derivative", "e0_half", "preedge_centroid", "preedge_centroid_free"):
        method[name]["calibrated"] = int(calibrated)
    return method


def _finish(out: xr.Dataset, ds: xr.Dataset, opts: dict, *, calibrated: bool, has_e0: bool) -> xr.Dataset:
    """Attach the method attrs and the per-scan coordinates to the kernel's (lazy) output."""
    out = out.drop_vars("_nnorm")
    for name, attrs in _method_attrs(opts, calibrated=calibrated, has_e0=has_e0, nnorm_used=None).items():
        out[name].attrs.update(attrs)
    out.attrs = {"kind": "xanes_results", "source_file": ds.attrs.get("source_file", "")}
    return out.assign_coords(_xr.scan_coords(ds))


def analyze(
    ds: xr.Dataset,
    *,
    reference_channel: bool = True,
    e0: xr.DataArray | float | None = None,
    pre1: float = DEFAULT_WINDOWS["pre1"],
    pre2: float = DEFAULT_WINDOWS["pre2"],
    norm1: float = DEFAULT_WINDOWS["norm1"],
    norm2: float = DEFAULT_WINDOWS["norm2"],
    nnorm: int | None = None,
    nvict: float = 0.0,
    level: float = E0_LEVEL,
    edge_energy: float | None = None,
    fit_range: tuple[float, float] = FIT_RANGE,
    peak_range: tuple[float, float] = PEAK_RANGE,
    baseline: str = "arctan",
    peak: str = "pseudovoigt",
    npeaks: int = 1,
    preedge: str = "fit",
    feature_energy: float = FEATURE_C_ENERGY,
) -> xr.Dataset:
    """Calibrate, normalize and extract edge, pre-edge and feature-C results.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset (``mu``, optional ``mu_ref``).
    reference_channel : bool, keyword-only
        Calibrate on ``mu_ref`` when present (else ``calibration_shift`` is NaN).
    e0 : DataArray along scan or float, optional
        E0 anchoring the normalization windows, eV on the measured scale;
        default the maximum of the smoothed derivative of ``mu``.
    pre1, pre2, norm1, norm2, nnorm, nvict
        Normalization windows (eV relative to E0) and orders, with
        xraylarch's meaning (:func:`spectro.xanes.normalize_arrays`).
    level : float, keyword-only
        Level of the jump defining ``e0`` (0.8).
    edge_energy : float, optional
        Tabulated foil edge, eV (default Ni K, 8333.0 eV).
    fit_range, peak_range, baseline, peak, npeaks
        Pre-edge options (:func:`spectro.xanes.preedge_fit_arrays`), energies
        on the calibrated scale.
    preedge : {"fit", "centroid"}, keyword-only
        ``"fit"`` (default): ``preedge_*`` come from the lmfit peak model,
        one fit per spectrum. ``"centroid"``: they come from the vectorized
        model-free centroid of the baseline-subtracted window (the same as
        ``preedge_centroid_free``), about twenty times faster, for
        batches and maps; the edge tail under the window biases it by up
        to about 0.2 eV on simulated Ni spectra (the fit is within
        0.05 eV), so compare such centroids only within a series.
    feature_energy : float, keyword-only
        Energy of feature C, eV (calibrated scale).

    Returns
    -------
    xarray.Dataset
        Along ``scan`` (per-scan coordinates carried over): the variables of
        :data:`RESULTS`, and ``norm``, ``flat`` along (scan, energy) on the
        measured energy grid.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, reference=True,
    ...                             energy_offset=1.0, seed=0)
    >>> res = spectro.xanes.analyze(ds)
    >>> [round(float(x), 1) for x in res.calibration_shift]
    [-1.0, -1.0]
    >>> round(float(res.e0[1] - res.e0[0]), 1)
    2.0
    """
    opts = dict(
        pre1=pre1, pre2=pre2, norm1=norm1, norm2=norm2, nnorm=nnorm, nvict=nvict,
        level=level, edge_energy=edge_energy, fit_range=fit_range, peak_range=peak_range,
        baseline=baseline, peak=peak, npeaks=npeaks, preedge=preedge,
        feature_energy=feature_energy,
    )
    use_ref = reference_channel and "mu_ref" in ds.data_vars
    has_e0 = e0 is not None
    if not _xr.is_lazy(ds):
        e0_rows = None
        if has_e0:
            e0_rows = np.broadcast_to(
                np.asarray(e0.values if isinstance(e0, xr.DataArray) else e0, dtype=float),
                (ds.sizes["scan"],),
            )
        stacked = _stack([Spectra.from_dataset(ds)], opts, [use_ref], e0_rows)
        for w in stacked.warnings[0]:
            warnings.warn(w, stacklevel=2)
        return _with_other_coords(stacked.dataset(0), ds)

    def kernel(mu, *rest, energy):
        ref = rest[0] if use_ref else None
        e0_arg = rest[-1] if has_e0 else None
        r = analyze_arrays(energy, mu, ref, e0=e0_arg, **opts)
        return tuple(r[k] for k in _NAMES)

    args = [ds.mu_ref] if use_ref else []
    if has_e0:
        args.append(
            e0
            if isinstance(e0, xr.DataArray)
            else xr.DataArray(np.full(ds.sizes["scan"], float(e0)), dims="scan")
        )
    outputs = {k: ([], u, ln) for k, (u, ln) in RESULTS.items()}
    outputs.update({k: (["energy"], "1", ln) for k, ln in _SPECTRA.items()})
    outputs["_nnorm"] = ([], "1", "post-edge order")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _xr.run(kernel, _xr.signal(ds, "mu"), args=args, outputs=outputs)
    _warn_with_scans(caught, ds, out)
    return _finish(out, ds, opts, calibrated=bool(use_ref), has_e0=has_e0)


def analyze_many(
    datasets: Sequence[xr.Dataset], *, reference_channel: bool = True, **options: Any
) -> list[tuple[xr.Dataset, list[Warning]]]:
    """:func:`analyze` of several Datasets in one array call, with each one's warnings.

    The scans of all Datasets become the rows of one array, each on its own
    energies (padded with NaN), so that many small files cost one kernel
    call; every result depends only on its own row, and each Dataset gets
    what :func:`analyze` gives it (to about 1e-12). Nothing is warned:
    each Dataset's warnings, naming its file and scans, are returned with it.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        XANES Datasets, e.g. one per file (in memory, not dask-backed).
    reference_channel : bool, keyword-only
        As in :func:`analyze`.
    **options
        The keyword options of :func:`analyze` except ``e0``.

    Returns
    -------
    list of (xarray.Dataset, list of Warning)
        One per input, in order.

    Raises
    ------
    DataError
        An option is invalid or a Dataset has no ``mu``.

    Examples
    --------
    >>> import spectro
    >>> a = spectro.simulate.xanes(valence=2.0, seed=0)
    >>> b = spectro.simulate.xanes(valence=3.0, energy=a.energy.values[::2], seed=1)
    >>> out = analyze_many([a, b], preedge="centroid")
    >>> round(float(out[1][0].e0[0] - out[0][0].e0[0]), 1)
    2.0
    """
    stacked = analyze_stacked(datasets, reference_channel=reference_channel, **options)
    return [(_with_other_coords(stacked.dataset(i), ds), list(stacked.warnings[i])) for i, ds in enumerate(datasets)]


def analyze_stacked(
    inputs: Sequence[xr.Dataset | Spectra], *, reference_channel: bool = True, **options: Any
) -> Stacked:
    """:func:`analyze_many` without building a results Dataset per input.

    For callers that want the numbers of many small inputs as arrays (a
    batch writes them as columns): the inputs may be the arrays of their
    Datasets (:class:`spectro.model.Spectra`, e.g. from
    :func:`spectro.io.parse`), the results of all scans stay stacked along
    one row axis, and :meth:`Stacked.dataset` gives any one input's
    results Dataset with its per-scan coordinates.

    Parameters and errors are those of :func:`analyze_many`.

    Returns
    -------
    Stacked

    Examples
    --------
    >>> import spectro
    >>> a = spectro.simulate.xanes(valence=2.0, seed=0)
    >>> b = spectro.simulate.xanes(valence=3.0, n_scans=2, energy=a.energy.values[::2], seed=1)
    >>> st = analyze_stacked([a, b], preedge="centroid")
    >>> st.rows(1), st.values["e0"].shape, st.attrs[1]["e0"]["units"]
    (slice(1, 3, None), (3,), 'eV')
    >>> bool(st.values["e0"][1] == st.dataset(1).e0[0])
    True
    """
    if "e0" in options:
        raise DataError("analyze_many takes no e0: each spectrum is anchored on its own derivative maximum")
    parameters = inspect.signature(analyze).parameters
    opts = {k: options.get(k, p.default) for k, p in parameters.items()
            if k not in ("ds", "reference_channel", "e0")}
    unknown = set(options) - set(opts)
    if unknown:
        raise DataError(f"unknown options {sorted(unknown)}")
    spectra = [x if isinstance(x, Spectra) else Spectra.from_dataset(x) for x in inputs]
    refs = [reference_channel and "mu_ref" in sp.signals for sp in spectra]
    return _stack(spectra, opts, refs, None)


@dataclass(frozen=True)
class Stacked:
    """Results of several XANES inputs from one kernel call, their scans stacked as rows.

    Attributes
    ----------
    inputs : tuple of spectro.model.Spectra
        The inputs' arrays, in order.
    values : dict of str to ndarray
        Every variable of :data:`RESULTS`, shape (rows,), and the spectra
        ``norm`` and ``flat``, shape (rows, points) padded with NaN (input
        ``i``'s spectra in its first ``inputs[i].energy.size`` points); the
        rows of input ``i`` are :meth:`rows` ``(i)``.
    bounds : ndarray of int
        Row of the first scan of each input, and the number of rows last.
    attrs : tuple of dict
        Per input, the attrs of each variable of :data:`RESULTS` (units,
        long name, method) and of the spectra.
    warnings : tuple of tuple of Warning
        Each input's warnings, naming its file and the scans concerned.
    """

    inputs: tuple[Spectra, ...]
    values: dict[str, np.ndarray]
    bounds: np.ndarray
    attrs: tuple[dict[str, dict], ...]
    warnings: tuple[tuple[Warning, ...], ...]

    def rows(self, i: int) -> slice:
        """The rows of input ``i``."""
        return slice(int(self.bounds[i]), int(self.bounds[i + 1]))

    def dataset(self, i: int) -> xr.Dataset:
        """Input ``i``'s results with its per-scan coordinates."""
        sp, rows, attrs = self.inputs[i], self.rows(i), self.attrs[i]
        n = sp.energy.size
        data = {}
        for k in _NAMES[:-1]:
            if k in _SPECTRA:
                data[k] = (("scan", "energy"), self.values[k][rows, :n], attrs[k])
            else:
                data[k] = ("scan", np.array(self.values[k][rows], dtype=float), attrs[k])
        return xr.Dataset(data, coords=sp.coordinates(),
                          attrs={"kind": "xanes_results", "source_file": sp.attrs.get("source_file", "")})


def _with_other_coords(out: xr.Dataset, ds: xr.Dataset) -> xr.Dataset:
    """``out`` with the coordinates of ``ds`` that are neither along energy nor per scan (scalars)."""
    other = {k: v for k, v in _xr.scan_coords(ds).items() if k not in out.coords}
    return out.assign_coords(other) if other else out


def _stack(spectra: Sequence[Spectra], opts, refs, e0_rows) -> Stacked:
    """The kernel on the scans of several inputs as rows of one array.

    Inputs that share one energy grid keep it 1-D (the kernels' fast
    paths); otherwise each row has its own energies, padded with NaN.
    ``e0_rows`` (one per scan of all inputs) anchors the windows when given.
    """
    for sp in spectra:
        if "mu" not in sp.signals:
            raise DataError("no variable 'mu' in the Dataset", file=sp.file or None)
    mus = [np.asarray(sp.signals["mu"][0], dtype=float) for sp in spectra]
    grids = [sp.energy for sp in spectra]
    width = max((m.shape[-1] for m in mus), default=0)
    bounds = np.cumsum([0] + [m.shape[0] for m in mus])
    shared = all(g.shape == grids[0].shape and np.array_equal(g, grids[0]) for g in grids[1:])
    energy = grids[0] if shared and grids else np.full((bounds[-1], width), np.nan)
    mu = np.full((bounds[-1], width), np.nan)
    mu_ref = np.full((bounds[-1], width), np.nan) if any(refs) else None
    for sp, m, g, ref, a, b in zip(spectra, mus, grids, refs, bounds[:-1], bounds[1:]):
        n = m.shape[-1]
        if not shared:
            energy[a:b, :n] = g
        mu[a:b, :n] = m
        if ref:
            mu_ref[a:b, :n] = sp.signals["mu_ref"][0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = analyze_arrays(energy, mu, mu_ref, e0=e0_rows, **opts) if spectra else {}
    nnorm_used = r.pop("_nnorm", np.zeros(0))
    spectra_attrs = {k: {"units": "1", "long_name": long_name} for k, long_name in _SPECTRA.items()}
    attrs, named = [], []
    for sp, ref, a, b in zip(spectra, refs, bounds[:-1], bounds[1:]):
        method = _method_attrs(opts, calibrated=bool(ref), has_e0=e0_rows is not None, nnorm_used=nnorm_used[a:b])
        attrs.append({k: {"units": units, "long_name": long_name, **method.get(k, {})}
                      for k, (units, long_name) in RESULTS.items()} | spectra_attrs)
        rows = {k: r[k][a:b] for k in ("edge_step", "preedge_centroid_err")}
        other, mine = _named(caught, sp.file, sp.labels, rows, only_concerned=len(spectra) > 1)
        named.append(tuple(w.message for w in other) + tuple(mine))
    return Stacked(
        inputs=tuple(spectra),
        values=r,
        bounds=bounds,
        attrs=tuple(attrs),
        warnings=tuple(named),
    )
