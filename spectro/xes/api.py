"""The Kbeta analysis of Datasets: one kernel, one ``analyze`` for NumPy and dask alike.

:func:`analyze` runs the kernel :func:`spectro.xes.analyze_arrays` on the
``intensity`` (and ``intensity_err``) of an XES Dataset through
:func:`xarray.apply_ufunc` with ``dask="parallelized"``, so a dask-backed
Dataset is processed chunk by chunk and gives the same numbers. The other
functions (:func:`normalize`, :func:`kbeta`, :func:`vtc`, :func:`iad`,
:func:`kbeta_fit`) run the same kernel and keep their part of its outputs;
:func:`spin` places their metrics between two references.

Every function takes an :class:`~spectro.options.XesOptions` and keyword
changes to it. Results keep the per-scan coordinates (pressure,
temperature, run, sample, source, ...) in the input's order; their variables
carry ``units``, ``long_name`` and the method and windows used, which
depend only on the options; the Dataset's attrs record the options
(:meth:`~spectro.options.Options.to_attrs`). What could not be determined
is NaN and marked in the per-scan ``flags`` (:class:`~spectro.xes.XesFlag`);
for in-memory data each flag also gives one warning naming the file and
the scans.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import xarray as xr

from ..calibration_line import apply_calibration, calibration_from_results
from ..errors import DataError, SpectroWarning, ValidationError
from ..model import energy_dim, kind_of, source_file
from ..options import XesOptions, options_of
from .. import _apply
from ._analyze import FIT, OUTPUTS, analyze_arrays, flag_warnings, result_attrs
from ._budget import (COMPONENTS, IAD_WINDOW_STEP, KB_PRIME_STEP, budget_arrays, budgeted, in_total,
                      variations)
from ._element import element_from_peaks, element_of, peak_energies
from ._flags import XesFlag
from .background import normalize as _normalize_arrays

__all__ = ["IAD_WINDOW_STEP", "analyze", "budget", "iad", "kbeta", "kbeta_fit", "normalize", "spin", "spin_errors",
           "vtc"]

_KBETA = tuple(n for n in OUTPUTS if n.startswith(("kb13_", "kb_prime")) and n not in FIT)
_VTC = tuple(n for n in OUTPUTS if n.startswith(("kb25_", "kbpp_")))
_IAD = ("iad", "iad_err", "iad_shift")
_ALL = XesFlag(sum(XesFlag))

_ANALYZE_FLAGS = _ALL
_NORMALIZE_FLAGS = XesFlag.KB13_NOT_FOUND
_NO_PEAK = XesFlag.KB13_NOT_FOUND | XesFlag.NO_PEAK_ABOVE_NOISE
_KBETA_FLAGS = _NO_PEAK | XesFlag.KB13_WINDOW_MISSING | XesFlag.KB_PRIME_MISSING
_VTC_FLAGS = _NO_PEAK | XesFlag.KB25_MISSING | XesFlag.KBPP_MISSING | XesFlag.TAIL_FIT_FAILED
_IAD_FLAGS = _NO_PEAK | XesFlag.IAD_RANGE_MISSING
_FIT_FLAGS = _NO_PEAK | XesFlag.KB_PRIME_MISSING | XesFlag.FIT_FAILED


def _check(ds: xr.Dataset) -> str:
    if not isinstance(ds, xr.Dataset) or kind_of(ds) != "xes" or "intensity" not in ds:
        raise ValidationError("expected an XES Dataset with intensity(scan, emission_energy)")
    return energy_dim(ds)


def _reference_arrays(reference: xr.Dataset | xr.DataArray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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


def _with_element(ds: xr.Dataset, dim: str, opts: XesOptions, *, file: str) -> XesOptions:
    """``opts`` with the element the scans show (:func:`spectro.xes.element_of`), for NumPy and dask alike."""
    intensity = ds["intensity"].transpose(..., dim)
    found = xr.apply_ufunc(peak_energies, ds[dim], intensity, input_core_dims=[[dim], [dim]],
                           output_core_dims=[[], [], []], dask="parallelized", output_dtypes=[float] * 3)
    computed = xr.Dataset(dict(zip(("peak", "low", "high"), found))).compute()
    peak, low, high = (np.asarray(computed[name].values) for name in ("peak", "low", "high"))
    labels = ds["scan"].values if intensity.dims[:-1] == ("scan",) and "scan" in ds.coords else None
    element = element_from_peaks(peak, low, high, given=opts.element, labels=labels, file=file or None)
    return opts if element == opts.element else opts.replace(element=element)


def _prepared(ds: xr.Dataset, opts: XesOptions, reference: xr.Dataset | xr.DataArray | None
              ) -> tuple[str, str, str | None, XesOptions, tuple | None]:
    """(energy dim, source file, the element as given, the options with the element, the reference's arrays)."""
    dim = _check(ds)
    file = source_file(ds.attrs, ds.source.values if "source" in ds.coords else [])
    given = opts.element
    opts = _with_element(ds, dim, opts, file=file)
    ref = None
    if reference is not None:
        ref = _reference_arrays(reference)
        element_of(ref[0], ref[1], given=opts.element, file=_reference_name(reference) or None)
    return dim, file, given, opts, ref


def _finished(out: xr.Dataset, ds: xr.Dataset, opts: XesOptions, *, kind: str, given: str | None, file: str,
              stacklevel: int) -> xr.Dataset:
    """``out`` with the options in its attrs; in memory, one warning per flag (at the caller's caller's level)."""
    out.attrs = {"kind": kind, "source_file": ds.attrs.get("source_file", ""), **opts.to_attrs(),
                 "xes_element_from": "data" if given is None else "option"}
    if not _apply.is_lazy(out):
        for w in flag_warnings(out["flags"].values, out["scan"].values, opts, file=file):
            warnings.warn(w, stacklevel=stacklevel)
    return out


def _run(
    ds: xr.Dataset,
    opts: XesOptions,
    names: tuple[str, ...],
    *,
    kind: str,
    mask: XesFlag,
    reference: xr.Dataset | xr.DataArray | None = None,
) -> xr.Dataset:
    """The outputs ``names`` (and ``flags``, those of ``mask``) of the kernel on every scan of ``ds``."""
    dim, file, given, opts, ref = _prepared(ds, opts, reference)
    names = tuple(n for n in OUTPUTS if n in names or n == "flags")
    intensity = ds["intensity"].transpose(..., dim)
    args = [ds["intensity_err"].transpose(..., dim)] if "intensity_err" in ds.data_vars else []

    def kernel(y, *rest, energy):
        r = analyze_arrays(energy, y, rest[0] if rest else None, opts, reference=ref)
        return tuple(r.flags & int(mask) if n == "flags" else getattr(r, n) for n in names)

    attrs = result_attrs(opts, reference=None if reference is None else _reference_name(reference))
    out = _apply.run(kernel, intensity, outputs={n: OUTPUTS[n] for n in names}, args=args,
                     attrs={n: attrs[n] for n in names}, integers=("flags",), coords_of=ds)
    return _finished(out, ds, opts, kind=kind, given=given, file=file, stacklevel=4)


def analyze(
    ds: xr.Dataset,
    options: XesOptions | None = None,
    /,
    *,
    reference: xr.Dataset | xr.DataArray | None = None,
    **changes: Any,
) -> xr.Dataset:
    """Every Kbeta metric of every scan: Kbeta1,3, Kbeta', valence-to-core, IAD (and the fit).

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset ``intensity(scan, emission_energy)`` (optional
        ``intensity_err``), in memory or dask-backed.
    options : XesOptions, optional
        The analysis options (:class:`spectro.options.XesOptions`: element,
        background, normalization, windows, IAD window, fit).
    reference : xarray.Dataset or DataArray, optional
        One reference spectrum for the IAD (an XES Dataset with one scan, or
        a 1-D intensity with its energy coordinate); without it ``iad`` is
        NaN.
    **changes
        Changes to ``options`` by name, e.g. ``element="Mn"``, ``fit=True``.

    Returns
    -------
    xarray.Dataset
        Along ``scan`` (per-scan coordinates carried over): the Kbeta1,3 and
        Kbeta' metrics (as :func:`kbeta`), the valence-to-core metrics (as
        :func:`vtc`), ``iad``, ``iad_err``, ``iad_shift``, with ``fit`` the
        fitted ratio and centres (as :func:`kbeta_fit`), ``flags``
        (:class:`~spectro.xes.XesFlag` bits), and ``norm``, ``norm_err``
        along (scan, emission_energy). The options are recorded in the
        Dataset's attrs. In memory, one warning per kind of flag names the
        file and the scans concerned; dask-backed, the flags say it when
        computed.

    Raises
    ------
    OptionError
        An option has a value it cannot take.
    ValidationError
        ``ds`` is not an XES Dataset.

    Examples
    --------
    >>> import spectro
    >>> r = analyze(spectro.simulate.xes(spin="high", seed=0))
    >>> sorted(v for v in r.data_vars if not v.endswith("_err"))[:4]
    ['flags', 'iad', 'iad_shift', 'kb13_area']
    >>> r.attrs["xes_element"], int(r.flags[0])
    ('Ni', 0)
    """
    opts = options_of(XesOptions, options, changes)
    if opts.budget:
        return budget(ds, opts, reference=reference)
    return _run(ds, opts, _analyzed(opts), kind="xes_results", mask=_ANALYZE_FLAGS, reference=reference)


def _analyzed(opts: XesOptions) -> tuple[str, ...]:
    """The outputs of :func:`analyze`."""
    return tuple(n for n, (dims, _, _) in OUTPUTS.items()
                 if n not in ("norm_scale", "norm_scale_err", "background", "flags") and (opts.fit or n not in FIT))


def budget(
    ds: xr.Dataset,
    options: XesOptions | None = None,
    /,
    *,
    reference: xr.Dataset | xr.DataArray | None = None,
    **changes: Any,
) -> xr.Dataset:
    """:func:`analyze` with each metric's statistical and systematic uncertainty (``budget=True``).

    The variations and components are those of :mod:`spectro.xes._budget`
    (the other background model; the Kbeta' window and, with a reference,
    the IAD window moved edge by edge).

    Parameters are those of :func:`analyze`.

    Returns
    -------
    xarray.Dataset
        The variables of :func:`analyze`, the same numbers, and for each
        metric ``<m>`` with an error: ``<m>_stat`` (the statistical error of
        :func:`analyze`), ``<m>_sys_background``, ``<m>_sys_window``,
        ``<m>_sys`` (in quadrature, without the window term of a metric
        that window defines: ``kb_prime``, ``kb_prime_ratio``, ``iad``),
        ``<m>_err`` the total (``stat`` and ``sys`` in quadrature) and
        ``<m>_variation`` (scan, variation): the
        change under each variation (coordinates ``variation``, its label,
        and ``variation_component``). Attrs ``xes_budget`` 1.

    Examples
    --------
    >>> import spectro
    >>> r = budget(spectro.simulate.xes(spin="high", noise=0.01, seed=0))
    >>> bool(r.kb_prime_err[0] > r.kb_prime_stat[0]), r.variation.values[:2].tolist()
    (True, ['background=linear', 'kb_prime=-16:-5'])
    """
    opts = options_of(XesOptions, options, changes)
    dim, file, given, opts, ref = _prepared(ds, opts, reference)
    plain = tuple(n for n in OUTPUTS if n in _analyzed(opts) or n == "flags")
    names = budgeted(opts)
    plan = variations(opts, reference=ref is not None)
    labels, components = [label for _, label, _ in plan], [c for c, _, _ in plan]
    attrs = result_attrs(opts, reference=None if reference is None else _reference_name(reference))
    outputs = {n: OUTPUTS[n] for n in plain}
    for n in names:
        parts = ["sys", *(f"sys_{c}" for c in COMPONENTS), *(f"variation__{k}" for k in range(len(plan)))]
        outputs.update({f"{n}_{part}": ((), OUTPUTS[n][1], "") for part in parts})

    def kernel(y, *rest, energy):
        b = budget_arrays(energy, y, rest[0] if rest else None, opts, reference=ref)
        out = [getattr(b.result, n) for n in plain]
        for n in names:
            out += [b.sys(n), *(b.sys(n, c) for c in COMPONENTS), *(b.delta[n][..., k] for k in range(len(plan)))]
        return tuple(out)

    intensity = ds["intensity"].transpose(..., dim)
    args = [ds["intensity_err"].transpose(..., dim)] if "intensity_err" in ds.data_vars else []
    data, coords = _apply.run_parts(kernel, intensity, outputs=outputs, args=args,
                                    attrs={n: attrs[n] for n in plain}, integers=("flags",), coords_of=ds)
    iad_step = f" and the IAD window's by {IAD_WINDOW_STEP:g} eV" if ref is not None else ""
    methods = {
        "background": "the other background model (" + ", ".join(
            label for label, c in zip(labels, components) if c == "background") + ")",
        "window": f"the Kbeta' window's edges moved by {KB_PRIME_STEP:g} eV{iad_step}, each change less the "
                  "noise of the points moved in or out",
    }
    for n in names:
        units, long_name = attrs[n]["units"], OUTPUTS[n][2]
        data[f"{n}_stat"] = data.pop(f"{n}_err")
        data[f"{n}_stat"].attrs.update(long_name=f"{long_name} statistical uncertainty (1 sigma)",
                                       method="the noise, propagated (the error of spectro.xes.analyze)")
        for c in COMPONENTS:
            data[f"{n}_sys_{c}"].attrs = {"units": units, "method": f"rms change with {methods[c]}",
                                          "long_name": f"{long_name} systematic uncertainty from the {c}"}
        total = [c for c in COMPONENTS if in_total(n, c)]
        data[f"{n}_sys"].attrs = {"units": units, "method": " and ".join(total) + " in quadrature" + (
            "" if len(total) == len(COMPONENTS) else " (its window defines it: the window term is reported apart)"),
            "long_name": f"{long_name} systematic uncertainty (1 sigma)"}
        stat, sys_ = data[f"{n}_stat"], data[f"{n}_sys"]
        data[f"{n}_err"] = xr.Variable(stat.dims, np.hypot(stat.data, sys_.data), {
            "units": units, "long_name": f"{long_name} total uncertainty (1 sigma)",
            "method": "stat and sys in quadrature"})
        cols = [data.pop(f"{n}_variation__{k}") for k in range(len(plan))]
        data[f"{n}_variation"] = xr.Variable(
            cols[0].dims + ("variation",), np.stack([c.data for c in cols], axis=-1),
            {"units": units, "long_name": f"change of {n} under each variation of the options",
             "method": "kernel re-run with the variation's options"})
    variation = xr.Coordinates({"variation": ("variation", labels)})
    out = xr.Dataset(data, coords=xr.Coordinates(
        {**coords.variables, **variation.variables, "variation_component": xr.Variable("variation", components)},
        indexes={**coords.xindexes, **variation.xindexes}))
    return _finished(out, ds, opts, kind="xes_results", given=given, file=file, stacklevel=3)



def normalize(ds: xr.Dataset, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
    """Background-subtracted, normalized spectra ``norm(scan, emission_energy)``.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset (``intensity``, optional ``intensity_err``).
    options : XesOptions, optional
        ``element``, ``background`` (see :mod:`spectro.xes.background`) and
        ``norm`` (``"max"``: Kbeta1,3 maximum = 1, the default).
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``norm``, ``norm_err``, ``background`` on the input grid and
        ``norm_scale``, ``norm_scale_err`` and ``flags`` along ``scan``;
        the background and the scale are in the units of ``intensity``.

    Examples
    --------
    >>> import spectro
    >>> out = normalize(spectro.simulate.xes(seed=0))
    >>> round(float(out.norm.max()), 2)
    1.0
    """
    opts = options_of(XesOptions, options, changes).replace(fit=False)
    names = ("norm", "norm_err", "background", "norm_scale", "norm_scale_err")
    out = _run(ds, opts, names, kind="xes_normalized", mask=_NORMALIZE_FLAGS)
    units = ds["intensity"].attrs.get("units", "counts")
    for name in ("background", "norm_scale", "norm_scale_err"):
        out[name].attrs["units"] = units
    return out


def kbeta(ds: xr.Dataset, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
    """Kbeta1,3 peak, first moment, FWHM and Kbeta' intensity of every scan.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset.
    options : XesOptions, optional
        Element, background, normalization, windows; definitions in
        ``docs/xes.md``.
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        Along ``scan``: ``kb13_energy``, ``kb13_m1``, ``kb13_fwhm``,
        ``kb13_area``, ``kb_prime``, ``kb_prime_ratio``, each with ``_err``,
        and ``flags``.

    Examples
    --------
    >>> import spectro
    >>> r = kbeta(spectro.simulate.xes(spin="high", seed=0))
    >>> r.kb13_m1.attrs["units"]
    'eV'
    """
    opts = options_of(XesOptions, options, changes).replace(fit=False)
    return _run(ds, opts, _KBETA, kind="xes_results", mask=_KBETA_FLAGS)


def vtc(ds: xr.Dataset, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
    """Kbeta2,5 and Kbeta'' metrics after removal of the Kbeta1,3 tail.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset covering Kbeta1,3 and the valence-to-core region.
    options : XesOptions, optional
        Element, background, normalization; definitions in ``docs/xes.md``.
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``kb25_energy``, ``kb25_centroid``, ``kb25_intensity``,
        ``kb25_area`` and the same for ``kbpp``, each with ``_err``, and
        ``flags``.

    Examples
    --------
    >>> import spectro
    >>> r = vtc(spectro.simulate.xes(spin="low", seed=0))
    >>> bool(abs(r.kb25_energy - r.true_kb25_energy).max() < 0.05)
    True
    """
    opts = options_of(XesOptions, options, changes).replace(fit=False)
    return _run(ds, opts, _VTC, kind="xes_results", mask=_VTC_FLAGS)


def iad(
    ds: xr.Dataset,
    reference: xr.Dataset | xr.DataArray,
    options: XesOptions | None = None,
    /,
    **changes: Any,
) -> xr.Dataset:
    """Integrated absolute difference of every scan against one reference spectrum.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset.
    reference : xarray.Dataset or DataArray
        XES Dataset with one scan, or a 1-D intensity with its energy
        coordinate.
    options : XesOptions, optional
        Element, background and ``iad_window`` (IAD range relative to each
        scan's Kbeta1,3 peak, eV; default -20 to +8).
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``iad``, ``iad_err``, ``iad_shift`` and ``flags`` along ``scan``;
        method in ``docs/xes.md``.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(high_spin_fraction=[0.0, 0.5, 1.0], n_scans=3)
    >>> r = iad(ds, spectro.simulate.xes(spin="low"))
    >>> bool((r.iad.diff("scan") > 0).all())
    True
    """
    opts = options_of(XesOptions, options, changes).replace(fit=False)
    return _run(ds, opts, _IAD, kind="xes_results", mask=_IAD_FLAGS, reference=reference)


def kbeta_fit(ds: xr.Dataset, options: XesOptions | None = None, /, **changes: Any) -> xr.Dataset:
    """Kbeta'/Kbeta1,3 ratio from a fitted pseudo-Voigt model, per scan.

    Parameters
    ----------
    ds : xarray.Dataset
    options : XesOptions, optional
        Element, background, ``fit_window``, ``kb_prime_offset`` and
        ``kb_prime`` (see :func:`spectro.xes.fit.fit_kbeta`); ``fit`` is
        implied.
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``kb_prime_ratio_fit``, ``kb13_center_fit``, ``kb_prime_center_fit``
        with ``_err``, and ``flags``.

    Examples
    --------
    >>> import spectro
    >>> r = kbeta_fit(spectro.simulate.xes(spin="high", seed=0))
    >>> round(float(r.kb_prime_ratio_fit[0]), 2)
    0.15
    """
    opts = options_of(XesOptions, options, changes).replace(fit=True)
    return _run(ds, opts, FIT, kind="xes_results", mask=_FIT_FLAGS)



def spin_errors(out: xr.Dataset, *, window: xr.DataArray | None = None,
                quantity: str = "high_spin_fraction") -> xr.Dataset:
    """Split a calibrated fraction's error into its statistical and systematic parts.

    ``<q>_stat`` is the sample's own measurement error (``<q>_err_sample``),
    different for every scan; ``<q>_sys`` the errors every scan measured
    against the same references shares: the references' metrics
    (``<q>_err_references``), the energy calibration (``<q>_err_calibration``)
    and, when given, the choice of window (``<q>_sys_window``), in
    quadrature; ``<q>_err`` becomes ``sqrt(stat^2 + sys^2)``.

    Parameters
    ----------
    out : xarray.Dataset
        The output of :func:`spectro.calibration_line.apply_calibration`.
    window : xarray.DataArray, optional
        The window systematic of each scan (same units as ``<q>``).
    quantity : str
        The calibrated quantity.

    Returns
    -------
    xarray.Dataset

    Examples
    --------
    >>> out = xr.Dataset({f"f_err_{k}": ("scan", [v]) for k, v in
    ...                   (("sample", 0.03), ("references", 0.03), ("calibration", 0.04))})
    >>> r = spin_errors(out, quantity="f")
    >>> float(r.f_stat[0]), float(r.f_sys[0]), round(float(r.f_err[0]), 6)
    (0.03, 0.05, 0.05831)
    """
    stat = out[f"{quantity}_err_sample"]
    parts = [out[f"{quantity}_err_references"], out[f"{quantity}_err_calibration"]]
    extra = {}
    if window is not None:
        missed = window.attrs.get("windows_not_covered")
        extra[f"{quantity}_sys_window"] = window.assign_attrs(
            units="1", long_name=f"{quantity} systematic uncertainty from the choice of window",
            method=f"largest change of {quantity} with each edge of the IAD window moved by "
                   f"+-{IAD_WINDOW_STEP:g} eV, less the noise of the points moved in or out"
                   + (f" (the references do not cover the windows {missed}: left out)" if missed else ""))
        parts.append(window)
    sys = np.sqrt(sum(p**2 for p in parts))
    return out.assign(**extra, **{
        f"{quantity}_stat": stat.copy().assign_attrs(
            units="1", long_name=f"{quantity} statistical uncertainty (1 sigma: the sample's own noise)"),
        f"{quantity}_sys": sys.assign_attrs(
            units="1", long_name=f"{quantity} systematic uncertainty (1 sigma: references, energy "
                                 f"calibration{', window' if window is not None else ''})"),
        f"{quantity}_err": np.sqrt(stat**2 + sys**2).assign_attrs(
            {**out[f"{quantity}_err"].attrs, "long_name": f"{quantity} uncertainty (1 sigma, total: "
                                                          "stat and sys in quadrature)"})
        if f"{quantity}_err" in out else np.sqrt(stat**2 + sys**2),
    })


def _fraction(ds, opts, high, low, metric) -> tuple[xr.Dataset, xr.Dataset]:
    """The fraction of every scan of ``ds`` on the line through ``high`` and ``low``, and the metric."""
    names = [metric, f"{metric}_err"]
    if metric == "iad":
        sample = iad(ds, low, opts)
        refs = [iad(high, low, opts), iad(low, low, opts)]
    else:
        sample = kbeta(ds, opts)
        refs = [kbeta(high, opts), kbeta(low, opts)]
    refs = xr.concat([r[names].isel(scan=[0]) for r in refs], dim="scan", coords="minimal")
    refs = refs.assign_coords(scan=["high", "low"])
    if metric != "iad":
        cal = calibration_from_results(refs, [1.0, 0.0], observable=metric, quantity="high_spin_fraction",
                                       calibration_err=0.0)
        return apply_calibration(sample[names], cal, calibration_err=0.0, flag_uncalibrated=False), sample
    # the low anchor, the low-spin reference against itself, is zero exactly, with no error of its own
    # (its noise is in every sample's IAD error): only the high anchor's error moves the line
    high_err = float(refs["iad_err"].values[0])
    cal = calibration_from_results(refs.assign(iad_err=refs["iad_err"] * 0.0), [1.0, 0.0], observable=metric,
                                   quantity="high_spin_fraction", calibration_err=0.0)
    out = apply_calibration(sample[names], cal, calibration_err=0.0, flag_uncalibrated=False)
    # the IAD of a mixture is not linear in its fraction (the alignment by first moments moves with it): the
    # fraction is read on the IAD of the references' own mixtures instead of the straight line
    grid = np.linspace(0.0, 1.0, MIXTURE_STEPS)
    curve = np.asarray(iad(_mixtures(high, low, opts, grid), low, opts)["iad"].values, dtype=float)
    value = np.asarray(sample["iad"].values, dtype=float)
    f, slope = _on_curve(value, grid, curve)
    frac = out["high_spin_fraction"].copy(data=np.broadcast_to(f, out["high_spin_fraction"].shape))
    out["high_spin_fraction"] = frac.assign_attrs(
        out["high_spin_fraction"].attrs, method=f"IAD against the low-spin reference, read on the IAD of "
                                                f"{MIXTURE_STEPS} mixtures of the two references")
    with np.errstate(divide="ignore", invalid="ignore"):
        sample_err = np.asarray(sample["iad_err"].values, dtype=float) / slope
        term = np.abs(value) * high_err / abs(curve[-1]) / slope
    out["high_spin_fraction_err_sample"] = out["high_spin_fraction_err_sample"].copy(data=sample_err)
    out["high_spin_fraction_err_references"] = out["high_spin_fraction_err_references"].copy(data=term)
    out["high_spin_fraction_err"] = np.sqrt(out["high_spin_fraction_err_sample"] ** 2
                                            + out["high_spin_fraction_err_references"] ** 2).assign_attrs(
        out["high_spin_fraction_err"].attrs)
    return out, sample


#: Number of mixtures of the two references (fractions 0 to 1) on whose IAD a sample's fraction is read.
MIXTURE_STEPS = 21


def _mixtures(high: xr.Dataset, low: xr.Dataset, opts: XesOptions, grid: np.ndarray) -> xr.Dataset:
    """The spectra ``g H + (1 - g) L`` for ``g`` in ``grid``, on the low-spin reference's energies.

    Each reference is taken without its background (``opts.background``) and
    scaled to unit area over the energies both cover, so that ``g`` is the
    fraction of the Kbeta intensity (of the absorbers) in the high-spin
    state; the high-spin spectrum is interpolated linearly onto the
    low-spin one's points (the references are taken to share their energy
    scale). Errors are propagated pointwise.
    """
    (eh, yh, sh), (el, yl, sl) = _reference_arrays(high), _reference_arrays(low)
    nh, nl = _normalize_arrays(eh, yh, sh, opts, norm="none"), _normalize_arrays(el, yl, sl, opts, norm="none")
    lo, hi = max(eh[0], el[0]), min(eh[-1], el[-1])

    def unit(e, y, err):
        ok = np.isfinite(y) & (e >= lo) & (e <= hi)
        area = np.trapezoid(y[ok], e[ok])
        return y / area, err / abs(area)

    h, h_err = unit(eh, nh.intensity, nh.intensity_err)
    low_y, low_err = unit(el, nl.intensity, nl.intensity_err)
    ok = np.isfinite(h)
    h_on, h_err_on = (np.interp(el, eh[ok], v[ok], left=np.nan, right=np.nan) for v in (h, h_err))
    g = grid[:, None]
    mix = g * h_on + (1.0 - g) * low_y
    err = np.sqrt((g * h_err_on) ** 2 + ((1.0 - g) * low_err) ** 2)
    dim = energy_dim(low)
    return xr.Dataset({"intensity": (("scan", dim), mix), "intensity_err": (("scan", dim), err)},
                      coords={dim: el, "scan": [f"mixture {v:g}" for v in grid]}, attrs=dict(low.attrs))


def _on_curve(value: np.ndarray, grid: np.ndarray, curve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fraction of each IAD ``value`` on the piecewise-linear ``curve(grid)``, and the curve's slope there.

    Beyond the ends the end segments are extended (extrapolated fractions).
    """
    slopes = np.diff(curve) / np.diff(grid)
    i = np.clip(np.searchsorted(curve, value, side="right") - 1, 0, grid.size - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = grid[i] + (value - curve[i]) / slopes[i]
    return np.where(np.isfinite(value), f, np.nan), slopes[i]


def spin(
    ds: xr.Dataset,
    options: XesOptions | None = None,
    /,
    *,
    high: xr.Dataset,
    low: xr.Dataset,
    metric: str = "iad",
    **changes: Any,
) -> xr.Dataset:
    """High-spin fraction by linear interpolation of a metric between two references.

    Parameters
    ----------
    ds : xarray.Dataset
        XES Dataset of the samples.
    options : XesOptions, optional
        Element, background, normalization, windows of the metric.
    high, low : xarray.Dataset
        One-scan XES Datasets of the high-spin and the low-spin reference.
    metric : {"iad", "kb_prime_ratio", "kb13_m1"}
        ``"iad"``: IAD against ``low`` (so ``m_LS = 0`` and
        ``m_HS = IAD(high, low)``).
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset
        ``high_spin_fraction`` along ``scan`` on the line of
        :mod:`spectro.calibration_line` through the two references (as
        :func:`spectro.spin.fit_calibration` and
        :func:`spectro.spin.high_spin_fraction` do for any number of
        references); for ``"iad"`` read instead on the IAD of
        :data:`MIXTURE_STEPS` mixtures of the two references (the IAD is not
        linear in the fraction), the errors with the curve's local slope;
        its errors (:func:`spin_errors`):
        ``high_spin_fraction_stat`` (the sample's noise),
        ``high_spin_fraction_sys`` (the references, and for ``"iad"`` the
        window: ``high_spin_fraction_sys_window``, the largest change of the
        fraction when each edge of ``iad_window`` is moved by
        +-:data:`IAD_WINDOW_STEP` eV with the references recomputed alike,
        each change ``D`` taken as ``sqrt(max(0, D^2 - |err'^2 - err^2|))``:
        the windows are nested, so ``|err'^2 - err^2|`` is the variance the
        noise of the points moved in or out gives ``D``),
        ``high_spin_fraction_err`` (both in quadrature) with the
        ``_err_sample``, ``_err_references`` and ``_err_calibration`` terms,
        the flags, and the metric itself. With ``"iad"`` the low-spin
        reference's IAD against itself anchors the low end: exactly zero,
        with no error (its noise is in every sample's IAD error); a pure
        low-spin sample reads zero on average, the IAD being estimated
        without noise bias.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(high_spin_fraction=[0.2, 0.7], n_scans=2)
    >>> r = spin(ds, high=spectro.simulate.xes(spin="high"), low=spectro.simulate.xes(spin="low"))
    >>> [round(v, 1) for v in r.high_spin_fraction.values.tolist()]
    [0.2, 0.7]
    """
    opts = options_of(XesOptions, options, changes)
    if metric not in ("iad", "kb_prime_ratio", "kb13_m1"):
        raise ValidationError(f"metric must be 'iad', 'kb_prime_ratio' or 'kb13_m1', not {metric!r}")
    out, sample = _fraction(ds, opts, high, low, metric)
    window = None
    if metric == "iad":
        lo, hi = opts.iad_window
        step = IAD_WINDOW_STEP
        variants = [(lo - step, hi), (lo + step, hi), (lo, hi - step), (lo, hi + step)]
        moved, uncovered = [], []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpectroWarning)  # the variants' flags are not the result's
            for w in (w for w in variants if w[0] < 0.0 < w[1]):
                try:
                    moved.append(_fraction(ds, opts.replace(iad_window=w), high, low, metric)[0])
                except DataError:  # the references do not cover the moved window: no IAD there
                    uncovered.append(f"{w[0]:g}..{w[1]:g} eV")
        if moved:
            f, err = out["high_spin_fraction"], out["high_spin_fraction_err"]
            # the change with the window, less the noise of the points the moved edge adds or removes
            changes = [np.sqrt(np.fmax(0.0, (m["high_spin_fraction"] - f) ** 2
                                       - abs(m["high_spin_fraction_err"] ** 2 - err**2))) for m in moved]
            window = xr.concat(changes, dim="variant").max("variant")
            if uncovered:
                window.attrs["windows_not_covered"] = ", ".join(uncovered)
    return spin_errors(out, window=window).assign({n: sample[n] for n in (metric, f"{metric}_err")})
