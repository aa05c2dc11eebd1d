"""The XES analysis kernel: arrays in, one frozen :class:`XesResult` out.

Order of operations for every spectrum (all spectra at once but the lmfit
fits, one per spectrum):

1. background and normalization, and the Kbeta1,3 peak
   (:func:`spectro.xes.background.normalize`);
2. the Kbeta1,3 and Kbeta' window metrics (``kb13_*``, ``kb_prime*``) and
   the valence-to-core lines after removal of the Kbeta1,3 tail
   (``kb25_*``, ``kbpp_*``) on that normalized spectrum;
3. with a reference spectrum, the IAD against it (``iad``, ``iad_shift``);
4. with the option ``fit``, the Kbeta1,3 + Kbeta' fit (``*_fit``).

What could not be determined is NaN and marked in the per-scan ``flags``
(:class:`~spectro.xes.XesFlag`); the kernel never warns, so it is safe in
threads (dask). :func:`spectro.xes.analyze` runs it on a Dataset through
:func:`xarray.apply_ufunc` and turns the flags of in-memory results into
warnings naming the file and the scans (:func:`flag_warnings`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..errors import DataError, FitWarning, MissingRegionWarning, SpectroWarning
from ..options import XesOptions, options_of
from .. import _apply
from ._element import with_element
from ._flags import XesFlag
from ._iad import iad
from ._kbeta import kbeta
from ._vtc import vtc
from ._windows import windows_of
from .background import normalize
from .fit import fit_kbeta

__all__ = [
    "FIT",
    "OUTPUTS",
    "RESULTS",
    "XesResult",
    "analyze_arrays",
    "flag_reasons",
    "flag_warnings",
    "flagged",
    "result_attrs",
]

#: Units of heights and areas of the normalized spectrum for each ``norm``.
_INTENSITY_UNITS = {"max": ("1", "eV"), "area": ("1/eV", "1"), "none": ("counts", "counts eV")}


def _scan(group: str, units: str, long_name: str, scale: str | None = None, *, err: bool = True) -> Any:
    """A per-scan result; ``scale`` "height"/"area" when its units follow ``norm``."""
    meta = {"dims": (), "units": units, "long_name": long_name, "group": group, "scale": scale, "err": err}
    return field(metadata=meta)


def _error() -> Any:
    """The one-sigma uncertainty of the field before it."""
    return field(metadata={"error": True})


def _spectrum(group: str, long_name: str, scale: str | None) -> Any:
    return field(metadata={"dims": ("energy",), "units": "1", "long_name": long_name, "group": group,
                           "scale": scale, "err": False})


@dataclass(frozen=True)
class XesResult:
    """What :func:`analyze_arrays` finds for spectra shaped ``(..., n)``.

    Per-spectrum fields have shape ``(...)``; ``norm``, ``norm_err`` and
    ``background`` have the shape of the input. Each value is followed by
    its one-sigma uncertainty (``<name>_err``). Units and meaning are in the
    fields' metadata (:data:`OUTPUTS`; units of intensities and areas for
    ``norm="max"``, :func:`result_attrs` gives them for the options).
    """

    kb13_energy: np.ndarray = _scan("kbeta", "eV", "Kbeta1,3 peak energy")
    kb13_energy_err: np.ndarray = _error()
    kb13_m1: np.ndarray = _scan("kbeta", "eV", "Kbeta1,3 first moment")
    kb13_m1_err: np.ndarray = _error()
    kb13_fwhm: np.ndarray = _scan("kbeta", "eV", "Kbeta1,3 full width at half maximum")
    kb13_fwhm_err: np.ndarray = _error()
    kb13_area: np.ndarray = _scan("kbeta", "eV", "Kbeta1,3 window area (normalized intensity x eV)", "area")
    kb13_area_err: np.ndarray = _error()
    kb_prime: np.ndarray = _scan("kbeta", "eV", "Kbeta' window area (normalized intensity x eV)", "area")
    kb_prime_err: np.ndarray = _error()
    kb_prime_ratio: np.ndarray = _scan("kbeta", "1", "Kbeta' / Kbeta1,3 window-area ratio")
    kb_prime_ratio_err: np.ndarray = _error()
    kb25_energy: np.ndarray = _scan("vtc", "eV", "Kbeta2,5 peak energy")
    kb25_energy_err: np.ndarray = _error()
    kb25_centroid: np.ndarray = _scan("vtc", "eV", "Kbeta2,5 centroid (first moment)")
    kb25_centroid_err: np.ndarray = _error()
    kb25_intensity: np.ndarray = _scan("vtc", "1", "Kbeta2,5 peak height (Kbeta1,3 maximum = 1)", "height")
    kb25_intensity_err: np.ndarray = _error()
    kb25_area: np.ndarray = _scan("vtc", "eV", "Kbeta2,5 area (normalized intensity x eV)", "area")
    kb25_area_err: np.ndarray = _error()
    kbpp_energy: np.ndarray = _scan("vtc", "eV", "Kbeta'' peak energy")
    kbpp_energy_err: np.ndarray = _error()
    kbpp_centroid: np.ndarray = _scan("vtc", "eV", "Kbeta'' centroid (first moment)")
    kbpp_centroid_err: np.ndarray = _error()
    kbpp_intensity: np.ndarray = _scan("vtc", "1", "Kbeta'' peak height (Kbeta1,3 maximum = 1)", "height")
    kbpp_intensity_err: np.ndarray = _error()
    kbpp_area: np.ndarray = _scan("vtc", "eV", "Kbeta'' area (normalized intensity x eV)", "area")
    kbpp_area_err: np.ndarray = _error()
    iad: np.ndarray = _scan("iad", "1", "integrated absolute difference against the reference")
    iad_err: np.ndarray = _error()
    iad_shift: np.ndarray = _scan("iad", "eV", "energy shift aligning the reference's first moment", err=False)
    kb_prime_ratio_fit: np.ndarray = _scan("fit", "1", "Kbeta' / Kbeta1,3 fitted area ratio")
    kb_prime_ratio_fit_err: np.ndarray = _error()
    kb13_center_fit: np.ndarray = _scan("fit", "eV", "fitted Kbeta1,3 centre")
    kb13_center_fit_err: np.ndarray = _error()
    kb_prime_center_fit: np.ndarray = _scan("fit", "eV", "fitted Kbeta' centre")
    kb_prime_center_fit_err: np.ndarray = _error()
    norm_scale: np.ndarray = _scan("scale", "counts", "normalization constant")
    norm_scale_err: np.ndarray = _error()
    flags: np.ndarray = _scan("flags", "1", "quality flags (XesFlag bits; 0: none)", err=False)
    norm: np.ndarray = _spectrum("norm", "normalized intensity", "height")
    norm_err: np.ndarray = _spectrum("norm", "normalized intensity statistical uncertainty (1 sigma)", "height")
    background: np.ndarray = _spectrum("scale", "subtracted background", None)


def _outputs() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    last: dict[str, Any] = {}
    for f in fields(XesResult):
        if f.metadata.get("error"):
            meta = {**last, "long_name": last["long_name"] + " statistical uncertainty (1 sigma)"}
        else:
            meta = last = dict(f.metadata)
        out[f.name] = meta
    return out


_META: dict[str, dict[str, Any]] = _outputs()

#: Every output of the kernel: name -> (core dims, units for ``norm="max"``, long_name);
#: the core dim ``"energy"`` is the energy axis of the input.
OUTPUTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    name: (m["dims"], m["units"], m["long_name"]) for name, m in _META.items()
}

#: Per-scan results: name -> (units for ``norm="max"``, long_name).
RESULTS: dict[str, tuple[str, str]] = {k: (u, ln) for k, (dims, u, ln) in OUTPUTS.items() if not dims}

#: The outputs of the Kbeta1,3 + Kbeta' fit (NaN unless the option ``fit`` is set).
FIT: tuple[str, ...] = tuple(name for name, m in _META.items() if m["group"] == "fit")


def analyze_arrays(
    energy: np.ndarray,
    intensity: np.ndarray,
    intensity_err: np.ndarray | None = None,
    options: XesOptions | None = None,
    /,
    *,
    reference: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    **changes: Any,
) -> XesResult:
    """The Kbeta analysis of spectra over their last axis.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Emission energies, eV, increasing (NaN = no point).
    intensity : ndarray, shape (..., n)
        Raw intensities (NaN = no point).
    intensity_err : ndarray, shape (..., n), optional
        One-sigma errors (estimated from the data where missing or NaN).
    options : XesOptions, optional
        The analysis options (element, background, norm, windows, IAD
        window, fit); without an element, the one the spectra show
        (:func:`spectro.xes.element_of`).
    reference : (energy, intensity, intensity_err or None), optional
        One reference spectrum (1-D arrays) for the IAD; without it ``iad``,
        ``iad_err`` and ``iad_shift`` are NaN.
    **changes
        Changes to ``options``, by name.

    Returns
    -------
    XesResult
        Each spectrum's numbers depend only on its own row (and on the
        reference).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(spin="high", noise=0.01, seed=0)
    >>> r = analyze_arrays(ds.emission_energy.values, ds.intensity.values, ds.intensity_err.values)
    >>> abs(float(r.kb13_energy[0] - ds.true_kb13_energy[0])) < 0.05, int(r.flags[0])
    (True, 0)
    >>> short = analyze_arrays(ds.emission_energy.values[150:], ds.intensity.values[:, 150:], element="Ni")
    >>> XesFlag(int(short.flags[0])), bool(np.isnan(short.kb_prime[0]))
    (<XesFlag.KB_PRIME_MISSING: 4>, True)
    """
    opts = options_of(XesOptions, options, changes)
    if intensity_err is not None:
        with np.errstate(invalid="ignore"):
            bad = np.asarray(intensity_err, dtype=float) <= 0
        if bad.any():
            raise DataError(f"intensity_err must be positive: {int(bad.sum())} point(s) are zero or negative "
                            "(NaN marks a point without an error, which is then estimated)")
    opts = with_element(opts, energy, intensity)
    n = normalize(energy, intensity, intensity_err, opts)
    k = kbeta(energy, intensity, intensity_err, opts, normalized=n)
    v = vtc(energy, intensity, intensity_err, opts, normalized=n)
    lead = n.scale.shape
    flags = k.flags | v.flags
    if reference is not None:
        ref_energy, ref_intensity, ref_err = reference
        i = iad(energy, intensity, ref_energy, ref_intensity, intensity_err, ref_err, opts)
        values = {"iad": i.iad, "iad_err": i.iad_err, "iad_shift": i.shift}
        flags = flags | i.flags
    else:
        values = {name: np.full(lead, np.nan) for name in ("iad", "iad_err", "iad_shift")}
    fitted = {name: np.full(lead, np.nan) for name in FIT}
    if opts.fit:
        fitted, fit_flags = _fits(energy, intensity, intensity_err, opts)
        flags = flags | fit_flags
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without a number
        peak = np.max(np.where(np.isfinite(n.intensity), n.intensity, -np.inf), axis=-1)
        noise = np.nanmedian(np.where(n.intensity_err > 0, n.intensity_err, np.nan), axis=-1)
        below = ~(peak > PEAK_SIGMAS * noise) & ((flags & XesFlag.KB13_NOT_FOUND) == 0)
    flags = flags | np.where(below, np.int64(XesFlag.NO_PEAK_ABOVE_NOISE), np.int64(0))
    result = XesResult(
        **{name: getattr(k, name) for name in OUTPUTS if _META[name]["group"] == "kbeta"},
        **{name: getattr(v, name) for name in OUTPUTS if _META[name]["group"] == "vtc"},
        **values,
        **fitted,
        norm_scale=n.scale,
        norm_scale_err=n.scale_err,
        flags=np.asarray(flags, dtype=np.int64),
        norm=n.intensity,
        norm_err=n.intensity_err,
        background=n.background,
    )
    if not below.any():
        return result
    kept = {"flags", "norm", "norm_err", "background", "norm_scale", "norm_scale_err"}
    return XesResult(**{f.name: getattr(result, f.name) if f.name in kept
                        else np.where(below, np.nan, getattr(result, f.name)) for f in fields(result)})


#: A Kbeta1,3 peak stands at least this many median point errors above the background.
PEAK_SIGMAS = 10.0


def _fits(energy, intensity, intensity_err, opts: XesOptions) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The Kbeta1,3 + Kbeta' fit of every spectrum (one least-squares problem each) and its flags."""
    y = np.asarray(intensity, dtype=float)
    e = np.asarray(energy, dtype=float)
    s = None if intensity_err is None else np.asarray(intensity_err, dtype=float)
    lead = y.shape[:-1]
    out = {name: np.full(lead, np.nan) for name in FIT}
    flags = np.zeros(lead, dtype=np.int64)
    for idx in np.ndindex(lead):
        row_s = None if s is None or np.all(np.isnan(s[idx])) else s[idx]
        r = fit_kbeta(e if e.ndim == 1 else e[idx], y[idx], row_s, opts)
        for name in FIT:
            out[name][idx] = getattr(r, name.replace("_fit", ""))
        flags[idx] = r.flags
    return out, flags


# --- attrs and flags ---------------------------------------------------------------------


def _units(name: str, norm: str) -> str:
    meta = _META[name]
    if meta["scale"] is None:
        return meta["units"]
    height, area = _INTENSITY_UNITS[norm]
    return area if meta["scale"] == "area" else height


def result_attrs(opts: XesOptions, *, reference: str | None = None) -> dict[str, dict[str, Any]]:
    """The attrs of every output of :func:`analyze_arrays`: units, long name and how it was obtained.

    The options' element must be set (:func:`spectro.xes.element_of`).
    They depend on the options and on the name of the IAD reference
    (None: no reference given), never on the data, so every way of running
    the analysis records the same attrs.

    Examples
    --------
    >>> a = result_attrs(XesOptions(element="Ni", norm="area"))
    >>> a["kb_prime"]["units"], a["kb13_m1"]["window_kb13_ev"], a["iad"]["method"]
    ('1', [-5.0, 5.0], 'no reference given')
    """
    w = windows_of(opts).to_attrs()

    def method(text: str, norm: str = opts.norm) -> dict[str, Any]:
        return {"method": text, "background": opts.background, "norm": norm, **w}

    if reference is None:
        iad_attrs: dict[str, Any] = {"method": "no reference given"}
    else:
        iad_attrs = {**method("IAD, area-normalized, first-moment aligned (Vanko 2006)", "area"),
                     "iad_window_ev": list(opts.iad_window), "reference": reference}
    groups = {
        "norm": method("background removal and normalization"),
        "scale": method("background removal and normalization"),
        "kbeta": method("window"),
        "vtc": method("Kbeta1,3 tail a/x^2 + b/x^3 + c removed"),
        "iad": iad_attrs,
        "fit": {**method("lmfit pseudo-Voigt Kbeta1,3 + Kbeta' + constant", "max"),
                "fit_window_ev": list(opts.fit_window)},
        "flags": {"flag_masks": [int(f) for f in XesFlag],
                  "flag_meanings": " ".join(f.name.lower() for f in XesFlag)},
    }
    out = {}
    for name, meta in _META.items():
        norm = "max" if meta["group"] in ("fit", "iad") else opts.norm
        out[name] = {"units": _units(name, norm), "long_name": meta["long_name"], **groups[meta["group"]]}
    return out


def flag_reasons(options: XesOptions | None = None) -> dict[XesFlag, str]:
    """What each flag means with these options' windows, as the warnings and ``warnings.csv`` say it.

    Examples
    --------
    >>> flag_reasons(XesOptions(element="Mn"))[XesFlag.KB_PRIME_MISSING]
    "the Kbeta' window (-21 to -11 eV around the Kbeta1,3 peak) is not covered: kb_prime and kb_prime_ratio are NaN"
    """
    opts = options_of(XesOptions, options, {})
    w = windows_of(opts)

    def span(window: tuple[float, float]) -> str:
        return f"{window[0]:+g} to {window[1]:+g} eV"

    vtc_anchor = f"the Kbeta1,3 peak {w.vtc_offset:+.1f} eV"
    return {
        XesFlag.KB13_NOT_FOUND: f"no Kbeta1,3 maximum inside the search window ({span(w.kb13_search)} around "
                                f"{w.kb13_tabulated:.1f} eV): every metric is NaN",
        XesFlag.KB13_WINDOW_MISSING: f"the Kbeta1,3 window ({span(w.kb13)} around the peak) is not covered: "
                                     "kb13_m1, kb13_area, kb_prime and kb_prime_ratio are NaN",
        XesFlag.KB_PRIME_MISSING: f"the Kbeta' window ({span(w.kb_prime)} around the Kbeta1,3 peak) is not "
                                  "covered: kb_prime and kb_prime_ratio are NaN",
        XesFlag.KB25_MISSING: f"the Kbeta2,5 window ({span(w.kb25)} around {vtc_anchor}) is not covered: "
                              "the kb25 and kbpp metrics are NaN",
        XesFlag.KBPP_MISSING: f"the Kbeta'' window ({span(w.kbpp)} around {vtc_anchor}) is not covered: "
                              "the kbpp metrics are NaN",
        XesFlag.TAIL_FIT_FAILED: f"fewer than 6 points from {w.tail_start:+g} eV above the Kbeta1,3 peak to the "
                                 "Kbeta'' window to fit the Kbeta1,3 tail: the kb25 and kbpp metrics are NaN",
        XesFlag.IAD_RANGE_MISSING: f"the IAD range ({span(opts.iad_window)} around the Kbeta1,3 peak) is not "
                                   "covered by the scan or the aligned reference: iad is NaN",
        XesFlag.FIT_FAILED: "the Kbeta1,3 + Kbeta' fit could not be made (fewer points than parameters) or gave "
                            "no covariance: its values or errors are NaN",
        XesFlag.NO_PEAK_ABOVE_NOISE: f"no emission peak {PEAK_SIGMAS:g} point errors above the background: "
                                     "every metric is NaN",
    }


_FLAG_WARNINGS: dict[XesFlag, type[SpectroWarning]] = {XesFlag.FIT_FAILED: FitWarning}


def flagged(flags: np.ndarray, labels: np.ndarray) -> dict[XesFlag, list[str]]:
    """The scans that carry each flag.

    Examples
    --------
    >>> flagged(np.array([0, 4, 5]), np.array(["a", "b", "c"]))
    {<XesFlag.KB13_NOT_FOUND: 1>: ['c'], <XesFlag.KB_PRIME_MISSING: 4>: ['b', 'c']}
    """
    return _apply.flagged(flags, labels, XesFlag)


def flag_warnings(flags: np.ndarray, labels: np.ndarray, options: XesOptions | None = None, *,
                  file: str = "") -> list[SpectroWarning]:
    """One warning per flag that some scans carry, naming the file and those scans.

    Regions are :class:`~spectro.errors.MissingRegionWarning`, a failed fit
    a :class:`~spectro.errors.FitWarning`.

    Examples
    --------
    >>> w, = flag_warnings(np.array([0, 16]), np.array(["a", "b"]), XesOptions(element="Ni"), file="x.dat")
    >>> type(w).__name__, str(w).split(" is not covered")[0]
    ('MissingRegionWarning', "x.dat: scans 'b': the Kbeta'' window (-24 to -8 eV around the Kbeta1,3 peak +62.8 eV)")
    """
    return _apply.flag_warnings(flags, labels, XesFlag, flag_reasons(options), file=file, categories=_FLAG_WARNINGS,
                                default=MissingRegionWarning)
