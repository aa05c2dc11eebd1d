"""xarray wrappers of the Kbeta kernels: Datasets in, results along ``scan`` out.

Each wrapper calls its NumPy kernel through :func:`xarray.apply_ufunc` with
``dask="parallelized"``, so a dask-backed ``intensity`` is processed chunk by
chunk. Results keep the per-scan coordinates (pressure, temperature, run,
sample, source, ...) and carry ``units``, ``long_name`` and the method and
windows used as flat attrs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..calibration_line import apply_calibration, calibration_from_results
from ..errors import DataError, ValidationError
from ..model import energy_dim, kind_of
from . import _iad, _vtc
from . import _kbeta as _kb
from . import background as _bg
from . import fit as _fit
from ._windows import Windows
from ._windows import windows as make_windows

__all__ = ["METRICS", "analyze", "iad", "kbeta", "kbeta_fit", "normalize", "spin", "vtc"]

#: Result variables: name -> (units for norm="max", long name).
METRICS: dict[str, tuple[str, str]] = {
    "kb13_energy": ("eV", "Kbeta1,3 peak energy"),
    "kb13_m1": ("eV", "Kbeta1,3 first moment"),
    "kb13_fwhm": ("eV", "Kbeta1,3 full width at half maximum"),
    "kb13_area": ("eV", "Kbeta1,3 window area (normalized intensity x eV)"),
    "kb_prime": ("eV", "Kbeta' window area (normalized intensity x eV)"),
    "kb_prime_ratio": ("1", "Kbeta' / Kbeta1,3 window-area ratio"),
    "kb25_energy": ("eV", "Kbeta2,5 peak energy"),
    "kb25_centroid": ("eV", "Kbeta2,5 centroid (first moment)"),
    "kb25_intensity": ("1", "Kbeta2,5 peak height (Kbeta1,3 maximum = 1)"),
    "kb25_area": ("eV", "Kbeta2,5 area (normalized intensity x eV)"),
    "kbpp_energy": ("eV", "Kbeta'' peak energy"),
    "kbpp_centroid": ("eV", "Kbeta'' centroid (first moment)"),
    "kbpp_intensity": ("1", "Kbeta'' peak height (Kbeta1,3 maximum = 1)"),
    "kbpp_area": ("eV", "Kbeta'' area (normalized intensity x eV)"),
    "iad": ("1", "integrated absolute difference against the reference"),
    "iad_shift": ("eV", "energy shift aligning the reference's first moment"),
    "kb_prime_ratio_fit": ("1", "Kbeta' / Kbeta1,3 fitted area ratio"),
    "kb13_center_fit": ("eV", "fitted Kbeta1,3 centre"),
    "kb_prime_center_fit": ("eV", "fitted Kbeta' centre"),
    "high_spin_fraction": ("1", "high-spin fraction"),
}
_INTENSITY_UNITS = {"max": ("1", "eV"), "area": ("1/eV", "1"), "none": ("counts", "counts eV")}


def _check(ds: xr.Dataset) -> str:
    if not isinstance(ds, xr.Dataset) or kind_of(ds) != "xes" or "intensity" not in ds:
        raise ValidationError("expected an XES Dataset with intensity(scan, emission_energy)")
    return energy_dim(ds)


def _windows(element: str, windows: Windows | Mapping[str, Any] | None) -> Windows:
    if isinstance(windows, Windows):
        return windows
    return make_windows(element, **dict(windows or {}))


def _err(ds: xr.Dataset) -> xr.DataArray:
    if "intensity_err" in ds:
        return ds["intensity_err"]
    return xr.full_like(ds["intensity"], np.nan)


def _units(name: str, norm: str) -> str:
    height, area = _INTENSITY_UNITS[norm]
    if name.endswith("_area") or name == "kb_prime":
        return area
    if name.endswith("_intensity"):
        return height
    return METRICS[name][0]


def _results(outs, names, norm, attrs) -> xr.Dataset:
    data = {}
    for name, out in zip(names, outs):
        base = name.removesuffix("_err")
        units = _units(base, norm)
        long_name = METRICS[base][1] + (" uncertainty (1 sigma)" if name.endswith("_err") else "")
        data[name] = out.assign_attrs(units=units, long_name=long_name, **attrs)
    return xr.Dataset(data)


def _ufunc(core, ds, n_out, *, n_spectra=0, vectorize=False):
    """``core(energy, intensity, intensity_err)`` over every scan; the first
    ``n_spectra`` of its ``n_out`` outputs are on the energy grid, the rest per scan."""
    dim = _check(ds)
    outs = xr.apply_ufunc(
        core, ds[dim], ds["intensity"], _err(ds),
        input_core_dims=[[dim]] * 3,
        output_core_dims=[[dim]] * n_spectra + [[]] * (n_out - n_spectra),
        vectorize=vectorize,
        dask="parallelized",
        output_dtypes=[float] * n_out,
    )
    return outs if isinstance(outs, tuple) else (outs,)


def _apply(kernel, ds, fields, *, vectorize=False, **kw):
    """The ``fields`` of ``kernel(energy, intensity, intensity_err, **kw)`` per scan."""

    def core(e, y, s):
        r = kernel(e, y, s, **kw)
        return tuple(np.asarray(getattr(r, f), dtype=float) for f in fields)

    return _ufunc(core, ds, len(fields), vectorize=vectorize)


def _method_attrs(method: str, w: Windows, background: str, norm: str) -> dict[str, Any]:
    return {"method": method, "background": background, "norm": norm, **w.to_attrs()}


def normalize(
    ds: xr.Dataset,
    *,
    element: str = "Ni",
    background: str = "constant",
    norm: str = "max",
    windows: Windows | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Background-subtracted, normalized spectra ``norm(scan, emission_energy)``.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset (``intensity``, optional ``intensity_err``).
    element : str, default "Ni"
    background : {"constant", "linear", "none"}
        See :mod:`spectro.xes.background`.
    norm : {"max", "area", "none"}
        ``"max"``: Kbeta1,3 maximum = 1 (default).
    windows : Windows or mapping, optional
        Window overrides (:func:`spectro.xes.windows`).

    Returns
    -------
    xarray.Dataset
        ``norm``, ``norm_err``, ``background`` on the input grid and
        ``norm_scale``, ``norm_scale_err`` along ``scan``.

    Examples
    --------
    >>> import spectro
    >>> out = normalize(spectro.simulate.xes(seed=0))
    >>> round(float(out.norm.max()), 2)
    1.0
    """
    w = _windows(element, windows)

    def core(e, y, s):
        r = _bg.normalize(e, y, s, background=background, norm=norm, windows=w)
        return r.intensity, r.intensity_err, r.background, r.scale, r.scale_err

    outs = _ufunc(core, ds, 5, n_spectra=3)
    attrs = _method_attrs("background removal and normalization", w, background, norm)
    height_units = _INTENSITY_UNITS[norm][0]
    raw_units = ds["intensity"].attrs.get("units", "counts")
    names = {
        "norm": (height_units, "normalized intensity"),
        "norm_err": (height_units, "normalized intensity uncertainty (1 sigma)"),
        "background": (raw_units, "subtracted background"),
        "norm_scale": (raw_units, "normalization constant"),
        "norm_scale_err": (raw_units, "normalization constant uncertainty (1 sigma)"),
    }
    data = {k: o.assign_attrs(units=u, long_name=ln, **attrs)
            for (k, (u, ln)), o in zip(names.items(), outs)}
    return xr.Dataset(data, attrs={"kind": "xes_normalized"})


_KB_FIELDS = ("kb13_energy", "kb13_energy_err", "kb13_m1", "kb13_m1_err", "kb13_fwhm",
              "kb13_fwhm_err", "kb13_area", "kb13_area_err", "kb_prime", "kb_prime_err",
              "kb_prime_ratio", "kb_prime_ratio_err")
_VTC_FIELDS = tuple(f"{line}_{k}{e}" for line in ("kb25", "kbpp")
                    for k in ("energy", "centroid", "intensity", "area") for e in ("", "_err"))


def kbeta(
    ds: xr.Dataset,
    *,
    element: str = "Ni",
    background: str = "constant",
    norm: str = "max",
    windows: Windows | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Kbeta1,3 peak, first moment, FWHM and Kbeta' intensity of every scan.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset.
    element, background, norm, windows
        As in :func:`normalize`; definitions in ``docs/xes.md``.

    Returns
    -------
    xarray.Dataset
        Along ``scan``: ``kb13_energy``, ``kb13_m1``, ``kb13_fwhm``,
        ``kb13_area``, ``kb_prime``, ``kb_prime_ratio``, each with ``_err``.

    Examples
    --------
    >>> import spectro
    >>> r = kbeta(spectro.simulate.xes(spin="high", seed=0))
    >>> r.kb13_m1.attrs["units"]
    'eV'
    """
    w = _windows(element, windows)
    outs = _apply(_kb.kbeta, ds, _KB_FIELDS, background=background, norm=norm, windows=w)
    return _results(outs, _KB_FIELDS, norm, _method_attrs("window", w, background, norm))


def vtc(
    ds: xr.Dataset,
    *,
    element: str = "Ni",
    background: str = "constant",
    norm: str = "max",
    windows: Windows | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Kbeta2,5 and Kbeta'' metrics after removal of the Kbeta1,3 tail.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset covering Kbeta1,3 and the valence-to-core region.
    element, background, norm, windows
        As in :func:`normalize`; definitions in ``docs/xes.md``.

    Returns
    -------
    xarray.Dataset
        ``kb25_energy``, ``kb25_centroid``, ``kb25_intensity``,
        ``kb25_area`` and the same for ``kbpp``, each with ``_err``.

    Examples
    --------
    >>> import spectro
    >>> r = vtc(spectro.simulate.xes(spin="low", seed=0))
    >>> bool(abs(r.kb25_energy - r.true_kb25_energy).max() < 0.05)
    True
    """
    w = _windows(element, windows)
    outs = _apply(_vtc.vtc, ds, _VTC_FIELDS, background=background, norm=norm, windows=w)
    attrs = _method_attrs("Kbeta1,3 tail a/x^2 + b/x^3 + c removed", w, background, norm)
    return _results(outs, _VTC_FIELDS, norm, attrs)


def _reference_arrays(reference: xr.Dataset | xr.DataArray):
    if isinstance(reference, xr.Dataset):
        _check(reference)
        if reference.sizes.get("scan", 1) != 1:
            raise DataError(
                f"the reference has {reference.sizes['scan']} scans; select one "
                "(e.g. reference.isel(scan=[0]))",
                file=reference.attrs.get("source_file"),
            )
        dim = energy_dim(reference)
        e = np.asarray(reference[dim].values, dtype=float)
        y = np.asarray(reference["intensity"].values, dtype=float).reshape(-1)
        err = reference.get("intensity_err")
        s = None if err is None else np.asarray(err.values, dtype=float).reshape(-1)
        return e, y, s
    if isinstance(reference, xr.DataArray) and reference.ndim == 1:
        dim = reference.dims[0]
        return np.asarray(reference[dim].values, float), np.asarray(reference.values, float), None
    raise ValidationError("reference must be an XES Dataset with one scan or a 1-D DataArray")


def _reference_name(reference: xr.Dataset | xr.DataArray) -> str:
    if "source" in reference.coords:
        return str(np.asarray(reference["source"].values).reshape(-1)[0])
    return str(reference.attrs.get("source_file", reference.name or ""))


def iad(
    ds: xr.Dataset,
    reference: xr.Dataset | xr.DataArray,
    *,
    element: str = "Ni",
    background: str = "constant",
    iad_window: tuple[float, float] = (-20.0, 8.0),
    windows: Windows | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Integrated absolute difference of every scan against one reference spectrum.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset.
    reference : xarray.Dataset or DataArray
        XES Dataset with one scan, or a 1-D intensity with its energy
        coordinate.
    element, background, windows
        As in :func:`normalize`.
    iad_window : tuple of float, default (-20, 8)
        IAD range relative to each scan's Kbeta1,3 peak, eV.

    Returns
    -------
    xarray.Dataset
        ``iad``, ``iad_err`` and ``iad_shift`` along ``scan``; method in
        ``docs/xes.md``.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(high_spin_fraction=[0.0, 0.5, 1.0], n_scans=3)
    >>> r = iad(ds, spectro.simulate.xes(spin="low"))
    >>> bool((r.iad.diff("scan") > 0).all())
    True
    """
    _check(ds)
    w = _windows(element, windows)
    re, ry, rs = _reference_arrays(reference)

    def kernel(e, y, s):
        return _iad.iad(e, y, re, ry, s, rs, background=background, iad_window=iad_window, windows=w)

    outs = _apply(kernel, ds, ("iad", "iad_err", "shift"))
    attrs = _method_attrs("IAD, area-normalized, first-moment aligned (Vanko 2006)", w,
                          background, "area")
    attrs["iad_window_ev"] = list(iad_window)
    attrs["reference"] = _reference_name(reference)
    return _results(outs, ("iad", "iad_err", "iad_shift"), "max", attrs)


def kbeta_fit(
    ds: xr.Dataset,
    *,
    element: str = "Ni",
    background: str = "constant",
    fit_window: tuple[float, float] = (-25.0, 10.0),
    kb_prime_offset: float | None = None,
    windows: Windows | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """Kbeta'/Kbeta1,3 ratio from a fitted pseudo-Voigt model, per scan.

    Parameters
    ----------
    ds : xarray.Dataset
    element, background, windows
        As in :func:`normalize`.
    fit_window, kb_prime_offset
        See :func:`spectro.xes.fit.fit_kbeta`.

    Returns
    -------
    xarray.Dataset
        ``kb_prime_ratio_fit``, ``kb13_center_fit``, ``kb_prime_center_fit``
        with ``_err``.

    Examples
    --------
    >>> import spectro
    >>> r = kbeta_fit(spectro.simulate.xes(spin="high", seed=0))
    >>> round(float(r.kb_prime_ratio_fit[0]), 2)
    0.15
    """
    w = _windows(element, windows)
    fields = ("kb_prime_ratio", "kb_prime_ratio_err", "kb13_center", "kb13_center_err",
              "kb_prime_center", "kb_prime_center_err")

    def kernel(e, y, s):
        s = None if np.all(np.isnan(s)) else s
        return _fit.fit_kbeta(e, y, s, background=background, fit_window=fit_window,
                              kb_prime_offset=kb_prime_offset, windows=w)

    outs = _apply(kernel, ds, fields, vectorize=True)
    names = ("kb_prime_ratio_fit", "kb_prime_ratio_fit_err", "kb13_center_fit",
             "kb13_center_fit_err", "kb_prime_center_fit", "kb_prime_center_fit_err")
    attrs = _method_attrs("lmfit pseudo-Voigt Kbeta1,3 + Kbeta' + constant", w, background, "max")
    attrs["fit_window_ev"] = list(fit_window)
    return _results(outs, names, "max", attrs)


def spin(
    ds: xr.Dataset,
    *,
    high: xr.Dataset,
    low: xr.Dataset,
    metric: str = "iad",
    element: str = "Ni",
    background: str = "constant",
    windows: Windows | Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """High-spin fraction by linear interpolation of a metric between two references.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset of the samples.
    high, low : xarray.Dataset
        One-scan XES Datasets of the high-spin and the low-spin reference.
    metric : {"iad", "kb_prime_ratio", "kb13_m1"}
        ``"iad"``: IAD against ``low`` (so ``m_LS = 0`` and
        ``m_HS = IAD(high, low)``).
    element, background, windows
        As in :func:`normalize`.

    Returns
    -------
    xarray.Dataset
        ``high_spin_fraction`` and ``high_spin_fraction_err`` along ``scan``
        (with its sample, reference and calibration terms and flags) plus
        the metric itself: the line of :mod:`spectro.calibration_line`
        through the two references, as :func:`spectro.spin.fit_calibration`
        and :func:`spectro.spin.high_spin_fraction` do for any number of
        references. With ``"iad"`` the low-spin reference's own IAD against
        itself anchors the low end.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(high_spin_fraction=[0.2, 0.7], n_scans=2)
    >>> r = spin(ds, high=spectro.simulate.xes(spin="high"), low=spectro.simulate.xes(spin="low"))
    >>> [round(v, 1) for v in r.high_spin_fraction.values.tolist()]
    [0.2, 0.7]
    """
    opts = {"element": element, "background": background, "windows": windows}
    if metric == "iad":
        sample = iad(ds, low, **opts)
        refs = [iad(high, low, **opts), iad(low, low, **opts)]
    elif metric in ("kb_prime_ratio", "kb13_m1"):
        sample = kbeta(ds, **opts)
        refs = [kbeta(high, **opts), kbeta(low, **opts)]
    else:
        raise ValidationError(f"metric must be 'iad', 'kb_prime_ratio' or 'kb13_m1', not {metric!r}")
    names = [metric, f"{metric}_err"]
    refs = xr.concat([r[names].isel(scan=[0]) for r in refs], dim="scan", coords="minimal")
    refs = refs.assign_coords(scan=["high", "low"])
    cal = calibration_from_results(refs, [1.0, 0.0], observable=metric, quantity="high_spin_fraction",
                                   calibration_err=0.0)
    out = apply_calibration(sample[names], cal, calibration_err=0.0, flag_uncalibrated=False)
    return out.assign({n: sample[n] for n in names})


def analyze(
    ds: xr.Dataset,
    *,
    element: str = "Ni",
    reference: xr.Dataset | xr.DataArray | None = None,
    background: str = "constant",
    norm: str = "max",
    windows: Windows | Mapping[str, Any] | None = None,
    iad_window: tuple[float, float] = (-20.0, 8.0),
    fit: bool = False,
) -> xr.Dataset:
    """Every Kbeta metric of every scan: Kbeta1,3, Kbeta', valence-to-core, IAD.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset ``intensity(scan, emission_energy)``.
    element : str, default "Ni"
        Windows follow this element's tabulated Kbeta lines.
    reference : xarray.Dataset or DataArray, optional
        One reference spectrum for the IAD; without it ``iad`` is NaN.
    background, norm, windows
        As in :func:`normalize`.
    iad_window : tuple of float
        See :func:`iad`.
    fit : bool, default False
        Also fit Kbeta1,3 + Kbeta' (:func:`kbeta_fit`).

    Returns
    -------
    xarray.Dataset
        Along ``scan`` (per-scan coordinates kept): the variables of
        :func:`kbeta`, :func:`vtc` and :func:`iad` (and :func:`kbeta_fit`),
        plus ``norm(scan, emission_energy)``. Regions a scan does not cover
        give NaN with a :class:`~spectro.errors.MissingRegionWarning`.

    Examples
    --------
    >>> import spectro
    >>> r = analyze(spectro.simulate.xes(spin="high", seed=0))
    >>> sorted(v for v in r.data_vars if not v.endswith("_err"))[:4]
    ['iad', 'iad_shift', 'kb13_area', 'kb13_energy']
    """
    w = _windows(element, windows)
    opts = {"background": background, "norm": norm, "windows": w}

    def core(e, y, s):
        n = _bg.normalize(e, y, s, **opts)
        k = _kb.kbeta(e, y, s, normalized=n, **opts)
        v = _vtc.vtc(e, y, s, normalized=n, **opts)
        return (n.intensity, n.intensity_err,
                *(np.asarray(getattr(k, f), dtype=float) for f in _KB_FIELDS),
                *(np.asarray(getattr(v, f), dtype=float) for f in _VTC_FIELDS))

    outs = _ufunc(core, ds, 2 + len(_KB_FIELDS) + len(_VTC_FIELDS), n_spectra=2)
    n_kb = 2 + len(_KB_FIELDS)
    height_units = _INTENSITY_UNITS[norm][0]
    norm_attrs = _method_attrs("background removal and normalization", w, background, norm)
    normed = xr.Dataset({
        "norm": outs[0].assign_attrs(units=height_units, long_name="normalized intensity", **norm_attrs),
        "norm_err": outs[1].assign_attrs(units=height_units, **norm_attrs,
                                         long_name="normalized intensity uncertainty (1 sigma)"),
    })
    parts = [
        _results(outs[2:n_kb], _KB_FIELDS, norm, _method_attrs("window", w, background, norm)),
        _results(outs[n_kb:], _VTC_FIELDS, norm,
                 _method_attrs("Kbeta1,3 tail a/x^2 + b/x^3 + c removed", w, background, norm)),
    ]
    if reference is not None:
        parts.append(iad(ds, reference, background=background, iad_window=iad_window, windows=w))
    else:
        nan = xr.full_like(parts[0]["kb13_energy"], np.nan).assign_attrs({})
        parts.append(_results((nan, nan.copy(), nan.copy()), ("iad", "iad_err", "iad_shift"),
                              "max", {"method": "no reference given"}))
    if fit:
        parts.append(kbeta_fit(ds, background=background, windows=w))
    parts.append(normed)
    out = xr.merge(parts, compat="override", join="exact", combine_attrs="override")
    out.attrs = {}
    out.attrs.update({"kind": "xes_results", "element": element, "background": background,
                      "norm": norm, **w.to_attrs()})
    return out
