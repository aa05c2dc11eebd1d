"""The XANES analysis: one kernel, one ``analyze`` for NumPy and dask alike.

Order of operations for every scan (all scans at once, the pre-edge
fits too):

1. if a reference channel ``mu_ref`` is present (and the option
   ``reference_channel`` is true), the calibration shift that puts the
   foil's derivative maximum at the tabulated edge
   (:mod:`spectro.xanes.energy_calibration`); otherwise NaN;
2. normalization on the measured energies (:func:`spectro.xanes.normalize_arrays`,
   windows relative to the anchoring E0, by default the derivative maximum
   of ``mu``); a Dataset whose ``mu`` is already normalized
   (``attrs["normalized"] == 1``, set by the readers) is not normalized
   again: ``norm = flat = mu``, edge step 1 by definition (error 0, no
   window used: NaN, ``nnorm`` 0), only the anchoring E0 is found;
3. E0 at ``level`` (0.8) of the jump and the half-height crossing,
   searched from 30 eV below to 40 eV above the anchoring E0
   (:data:`EDGE_REGION`), and the derivative maximum of the normalized
   spectrum (:mod:`spectro.xanes.edge`);
4. pre-edge fit and model-free centroid (:func:`spectro.xanes.preedge_fit_arrays`)
   and the feature-C intensity (:mod:`spectro.xanes.features`), with their
   windows on the calibrated scale.

Every reported energy is on the calibrated scale (measured energy +
``calibration_shift``) when the shift is known, else on the measured scale;
``attrs["calibrated"]`` of each energy variable says which applies.

:func:`analyze_arrays` is the kernel: arrays in, one frozen
:class:`XanesResult` out, each spectrum's numbers from its own row only.
:func:`analyze` runs it through :func:`xarray.apply_ufunc` on a Dataset
(in memory or dask-backed); the batch and the cube call the same kernel.
What could not be determined is NaN and marked in the per-scan ``flags``
variable (:class:`XanesFlag`), never left to the text of a warning.
"""

from __future__ import annotations

import dataclasses
import enum
import warnings
from dataclasses import dataclass, field, fields
from collections.abc import Iterable
from typing import Any

import numpy as np
import xarray as xr

from ..errors import DataError, FitWarning, MissingRegionWarning, SpectroWarning
from ..model import Spectra, source_file
from ..options import XanesOptions, options_of
from .. import _apply
from . import _arrays
from ._correlated import POINT_KERNEL, ar1_phi, inflation, slope_inflation
from ._derivative import DERIVATIVE_WINDOW
from ._normalize import Normalization, anchored, normalize_arrays
from ._preedge import (MODEL_FREE_BASELINE, MODEL_FREE_BASELINE_TEXT, checked, preedge_centroid_arrays,
                       preedge_fit_arrays)
from .edge import e0_crossings, e0_derivative_arrays
from .energy_calibration import FOIL_EDGE_METHODS, NI_K_EDGE, Calibration, calibration_arrays
from .features import feature_intensity_arrays
from .glitch import find_glitches_arrays

__all__ = [
    "EDGE_REGION",
    "RESULTS",
    "XanesFlag",
    "XanesResult",
    "analyze_arrays",
    "flagged",
    "is_normalized",
    "result_attrs",
]


class XanesFlag(enum.IntFlag):
    """Why a XANES result of a scan is missing or not to be trusted (bits of ``flags``)."""

    #: Too few points in the pre-edge or post-edge window: no normalization, no result.
    NORMALIZATION_FAILED = 1
    #: No crossing of the level on the rising edge: ``e0`` is NaN.
    E0_NOT_FOUND = 2
    #: A reference channel was measured but its edge was not found: ``calibration_shift`` is NaN.
    CALIBRATION_FAILED = 4
    #: The pre-edge fit did not converge (or had too few points): its errors are NaN.
    PREEDGE_FIT_FAILED = 8
    #: A pre-edge centroid (fitted or model-free) lies outside its peak window: it is NaN.
    PREEDGE_OUTSIDE_WINDOW = 16
    #: A fitted pre-edge peak centre is on a bound of the peak window, or a peak has zero area: the fitted centroid is NaN.
    PREEDGE_ON_BOUND = 32
    #: The model-free pre-edge area is not positive: the model-free centroid is NaN.
    PREEDGE_AREA_NOT_POSITIVE = 64
    #: The fitted and model-free pre-edge centroids differ by more than 3 combined errors (values kept).
    PREEDGE_CENTROIDS_DISAGREE = 128
    #: The pre-edge fit has no usable covariance (singular, or a centroid error wider than the window): errors NaN.
    PREEDGE_FIT_SINGULAR = 256
    #: No edge: a step that is not positive or below five times the noise of a point or of the step
    #: itself (noise, a constant, an inverted edge): every number of the scan but the calibration is NaN.
    NO_EDGE = 512
    #: Isolated spikes of ``mu`` or ``mu_ref`` were dropped before the analysis (the numbers are usable).
    GLITCHES_REMOVED = 1024
    #: The reference foil's edge is ambiguous (derivative maxima of similar height, or a shift beyond 3 eV).
    AMBIGUOUS_FOIL = 2048
    #: The edge has risen to ``ON_EDGE_LEVEL`` (0.15) of its jump at the top of the pre-edge peak window (Ni metal,
    #: sulfides, or a window beyond the edge): no pre-edge peak apart from the edge; the pre-edge numbers are NaN.
    PREEDGE_ON_EDGE = 4096


#: What each flag means, as the warnings and the batch's ``warnings.csv`` say it.
FLAG_REASONS: dict[XanesFlag, str] = {
    XanesFlag.NORMALIZATION_FAILED: "too few points in the pre-edge or post-edge window: normalization is NaN",
    XanesFlag.E0_NOT_FOUND: "no crossing of the edge level on the rising edge: e0 is NaN",
    XanesFlag.CALIBRATION_FAILED: "the reference foil's edge was not found: calibration_shift is NaN",
    XanesFlag.PREEDGE_FIT_FAILED: "pre-edge fit did not converge: its uncertainties are NaN",
    XanesFlag.PREEDGE_OUTSIDE_WINDOW: "a pre-edge centroid (fitted or model-free) outside its peak window: it is NaN",
    XanesFlag.PREEDGE_ON_BOUND: "pre-edge peak centre on the edge of its window or peak of zero area: the fitted "
                                "centroid is NaN",
    XanesFlag.PREEDGE_AREA_NOT_POSITIVE: "model-free pre-edge area not positive: the model-free centroid is NaN",
    XanesFlag.PREEDGE_CENTROIDS_DISAGREE: "fitted and model-free pre-edge centroids differ by more than 3 combined "
                                          "errors",
    XanesFlag.PREEDGE_FIT_SINGULAR: "pre-edge fit without a usable covariance (singular): its uncertainties are NaN",
    XanesFlag.NO_EDGE: "no edge above the noise (step not positive, or below 5 sigma): its numbers are NaN",
    XanesFlag.GLITCHES_REMOVED: "isolated spikes were dropped before the analysis",
    XanesFlag.AMBIGUOUS_FOIL: "the reference foil's edge is ambiguous (derivative maxima of similar height, or "
                              "a calibration shift beyond 3 eV): check calibration_shift",
    XanesFlag.PREEDGE_ON_EDGE: "the edge has risen to 0.15 of its jump at the top of the pre-edge peak window: no "
                               "pre-edge peak apart from the edge, the pre-edge numbers are NaN",
}

#: Which check of :class:`~spectro.xanes._preedge.PreedgeChecked` sets which flag.
_PREEDGE_CHECKS: dict[str, XanesFlag] = {
    "failed": XanesFlag.PREEDGE_FIT_FAILED,
    "outside": XanesFlag.PREEDGE_OUTSIDE_WINDOW,
    "on_bound": XanesFlag.PREEDGE_ON_BOUND,
    "not_positive": XanesFlag.PREEDGE_AREA_NOT_POSITIVE,
    "disagree": XanesFlag.PREEDGE_CENTROIDS_DISAGREE,
    "singular": XanesFlag.PREEDGE_FIT_SINGULAR,
    "on_edge": XanesFlag.PREEDGE_ON_EDGE,
}

_FLAG_WARNINGS: dict[XanesFlag, type[SpectroWarning]] = {
    XanesFlag.NORMALIZATION_FAILED: MissingRegionWarning,
    XanesFlag.PREEDGE_FIT_FAILED: FitWarning,
    XanesFlag.NO_EDGE: MissingRegionWarning,
    XanesFlag.PREEDGE_FIT_SINGULAR: FitWarning,
}


def _scan(units: str, long_name: str) -> Any:
    return field(metadata={"dims": (), "units": units, "long_name": long_name})


#: What an energy's statistical error leaves out (it is on the calibrated scale).
_SHIFT_APART = "the calibration shift's error apart"


def _stat(units: str, what: str, apart: str = "") -> Any:
    """A statistical error's field: its long_name says that the systematic parts are not in it."""
    return _scan(units, f"{what} statistical uncertainty (1 sigma: the noise{', ' + apart if apart else ''}; "
                        "no systematic part, which budget=True adds)")


def _spectrum(long_name: str) -> Any:
    return field(metadata={"dims": ("energy",), "units": "1", "long_name": long_name})


@dataclass(frozen=True)
class XanesResult:
    """What :func:`analyze_arrays` finds for spectra shaped ``(..., n)``.

    Per-spectrum fields have shape ``(...)``; ``norm`` and ``flat`` have the
    shape of the input. Units and meaning are in each field's metadata
    (:data:`RESULTS`); :func:`analyze` makes them Dataset variables.
    """

    e0: np.ndarray = _scan("eV", "edge energy (first crossing of the level of the normalized jump)")
    e0_err: np.ndarray = _stat("eV", "edge energy", _SHIFT_APART)
    e0_derivative: np.ndarray = _scan("eV", "edge energy (maximum of the smoothed derivative)")
    e0_derivative_err: np.ndarray = _stat("eV", "derivative-maximum", _SHIFT_APART)
    e0_half: np.ndarray = _scan("eV", "edge energy at half height (0.5 crossing)")
    e0_half_err: np.ndarray = _stat("eV", "half-height edge energy", _SHIFT_APART)
    e0_anchor: np.ndarray = _scan("eV", "E0 anchoring the normalization windows (measured scale)")
    edge_step: np.ndarray = _scan("1", "edge step at E0 (units of mu)")
    edge_step_err: np.ndarray = _stat("1", "edge step")
    preedge_centroid: np.ndarray = _scan("eV", "pre-edge centroid")
    preedge_centroid_err: np.ndarray = _stat("eV", "pre-edge centroid", _SHIFT_APART)
    preedge_area: np.ndarray = _scan("eV", "pre-edge area (normalized units x eV)")
    preedge_area_err: np.ndarray = _stat("eV", "pre-edge area")
    preedge_height: np.ndarray = _scan("1", "pre-edge peak height (normalized)")
    preedge_centroid_free: np.ndarray = _scan("eV", "pre-edge centroid (model-free)")
    preedge_centroid_free_err: np.ndarray = _stat("eV", "model-free centroid", _SHIFT_APART)
    calibration_shift: np.ndarray = _scan("eV", "energy calibration shift (added to measured energies)")
    calibration_shift_err: np.ndarray = _stat("eV", "calibration shift")
    feature_c: np.ndarray = _scan("1", "normalized absorption at feature C")
    feature_c_err: np.ndarray = _stat("1", "feature C")
    pre1: np.ndarray = _scan("eV", "pre-edge window start used, relative to E0 anchor")
    pre2: np.ndarray = _scan("eV", "pre-edge window end used, relative to E0 anchor")
    norm1: np.ndarray = _scan("eV", "post-edge window start used, relative to E0 anchor")
    norm2: np.ndarray = _scan("eV", "post-edge window end used, relative to E0 anchor")
    nnorm: np.ndarray = _scan("1", "post-edge polynomial order used")
    flags: np.ndarray = _scan("1", "quality flags (XanesFlag bits; 0: none)")
    norm: np.ndarray = _spectrum("normalized mu")
    flat: np.ndarray = _spectrum("flattened normalized mu")

    def arrays(self, names: Iterable[str] = ()) -> tuple[np.ndarray, ...]:
        """The fields ``names`` (default: every field, in the order of :data:`OUTPUTS`)."""
        return tuple(getattr(self, name) for name in (names or OUTPUTS))


#: Every output of the kernel: name -> (core dims, units, long_name).
OUTPUTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    f.name: (f.metadata["dims"], f.metadata["units"], f.metadata["long_name"]) for f in fields(XanesResult)
}

#: Per-scan results: name -> (units, long_name).
RESULTS: dict[str, tuple[str, str]] = {k: (u, ln) for k, (dims, u, ln) in OUTPUTS.items() if not dims}

#: The crossings are searched from this far below to this far above the anchoring E0, eV.
EDGE_REGION: tuple[float, float] = (-30.0, 40.0)


def analyze_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    mu_ref: np.ndarray | None = None,
    options: XanesOptions | None = None,
    /,
    *,
    normalized: bool = False,
    spectra: bool = True,
    **changes: Any,
) -> XanesResult:
    """The XANES analysis of spectra over their last axis.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV (NaN = no point).
    mu : ndarray, shape (..., n)
        Absorption, any scale and offset (NaN = no point).
    mu_ref : ndarray, shape (..., n), optional
        Reference foil measured with each spectrum; enables calibration.
    options : XanesOptions, optional
        The analysis options (``reference_channel`` is the caller's: here
        ``mu_ref`` is used when given).
    normalized : bool, keyword-only
        ``mu`` is already normalized (edge step 1): it is taken as ``norm``
        and ``flat``, not normalized again (see the module documentation).
    spectra : bool, keyword-only
        Also return the normalized spectra ``norm`` and ``flat`` (False:
        they are empty, of length 0; the numbers are the same).
    **changes
        Changes to ``options``, by name.

    Returns
    -------
    XanesResult
        Each spectrum's numbers depend only on its own row.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> r = analyze_arrays(ds.energy.values, ds.mu.values, preedge="centroid")
    >>> abs(float(r.e0[0] - ds.true_e0[0])) < 0.02, int(r.flags[0])
    (True, 0)
    """
    opts = options_of(XanesOptions, options, changes)
    return _analyzed(energy, mu, mu_ref, opts, normalized=normalized, spectra=spectra)


def _analyzed(energy, mu, mu_ref, opts: XanesOptions, *, normalized: bool, spectra: bool,
              calibration: Calibration | None = None) -> XanesResult:
    """:func:`analyze_arrays` with its options made.

    ``calibration``, when given, is what :func:`calibration_arrays` gives
    for ``mu_ref`` with the foil options of ``opts`` (with ``opts.deglitch``,
    for ``mu_ref`` without its spikes, :func:`without_spikes`): the caller
    has it already (the budget calibrates the foil for all its variations in
    one pass, and its normalization variations share the nominal run's
    foil), so it is not computed again.
    """
    spiked = np.zeros(np.shape(mu)[:-1], bool)
    if opts.deglitch:
        if mu_ref is None:
            mu, spiked = without_spikes(energy, mu)
        else:  # both channels in one search (each spectrum's spikes found from its own row)
            (mu, mu_ref), spiked = without_spikes(energy, np.stack(np.broadcast_arrays(mu, mu_ref)))
            spiked = spiked[0] | spiked[1]
    complete = _complete_rows(energy, mu, mu_ref)
    if complete is not None:
        r = _apart(complete, energy, mu, mu_ref, opts.replace(deglitch=False), normalized, spectra)
        return dataclasses.replace(r, flags=r.flags | np.where(spiked, XanesFlag.GLITCHES_REMOVED, 0))
    n = _normalization(energy, mu, opts, normalized=normalized)
    return _from_normalization(energy, mu_ref, n, opts, spiked=spiked, spectra=spectra, calibration=calibration)


def _normalization(energy, mu, opts: XanesOptions, *, normalized: bool) -> Normalization:
    """Step 2 of the analysis: the normalization of ``mu`` with the options' windows (or ``mu`` as it is)."""
    if normalized:
        return _as_normalized(energy, mu, e0=opts.e0_anchor)
    return normalize_arrays(
        energy, mu, e0=opts.e0_anchor, pre1=opts.pre1, pre2=opts.pre2, norm1=opts.norm1, norm2=opts.norm2,
        nnorm=opts.nnorm, nvict=opts.nvict,
    )


#: The options of the normalization (step 2): the variations of :func:`normalization_variations` change only them.
_NORMALIZATION_OPTIONS: tuple[str, ...] = ("pre1", "pre2", "norm1", "norm2", "nnorm")


def normalization_variations(energy, mu, mu_ref, variants: list[XanesOptions], *,
                             calibration: Calibration | None = None) -> list[XanesResult]:
    """``analyze_arrays(energy, mu, mu_ref, o, spectra=False)`` for each ``o`` of ``variants``, the same numbers.

    The variants (the budget's normalization variations) differ only in
    the options of :data:`_NORMALIZATION_OPTIONS` and do not deglitch:
    each is normalized apart, and the rest of the analysis runs once on
    all of them stacked along a new leading axis (each spectrum's numbers
    come from its own row). ``calibration`` is as for :func:`_analyzed`.
    A single spectrum given as a 1-D array (whose sums the kernels do
    apart from those of rows), or spectra of a shared grid of which some
    but not all are complete (the kernel then analyses the two groups
    apart), are analysed variant by variant.
    """
    if not variants:
        return []
    first = variants[0]
    if first.deglitch or any(o.replace(**{k: getattr(first, k) for k in _NORMALIZATION_OPTIONS}) != first
                             for o in variants):
        raise ValueError("the variants must differ only in their normalization options and not deglitch")
    if np.ndim(mu) < 2 or _complete_rows(energy, mu, mu_ref) is not None:
        return [_analyzed(energy, mu, mu_ref, o, normalized=False, spectra=False, calibration=calibration)
                for o in variants]
    parts = [_normalization(energy, mu, o, normalized=False) for o in variants]
    n = Normalization(**{f.name: _stack([getattr(p, f.name) for p in parts]) for f in fields(Normalization)
                         if f.name != "energy"},
                      energy=parts[0].energy if np.ndim(parts[0].energy) == 1 else _stack([p.energy for p in parts]))
    size = (len(variants),)
    if np.ndim(energy) > 1:  # spectra on their own grids: each variant's rows on them
        energy = np.broadcast_to(energy, size + np.shape(energy))
    if mu_ref is not None:
        mu_ref = np.broadcast_to(mu_ref, size + np.shape(mu_ref))
    if calibration is not None:
        calibration = dataclasses.replace(calibration, **{
            k: np.broadcast_to(getattr(calibration, k), size + np.shape(getattr(calibration, k)))
            for k in ("shift", "shift_err", "foil_e0", "ambiguous")})
    r = _from_normalization(energy, mu_ref, n, first, spiked=np.zeros(n.edge_step.shape, bool), spectra=False,
                            calibration=calibration)
    return [XanesResult(**{f.name: getattr(r, f.name)[i] for f in fields(XanesResult)}) for i in range(len(parts))]


def _stack(values: list[Any]) -> Any:
    """One field of the variants' normalizations: arrays along a new leading axis, scalars (the same) as they are.

    The post-edge coefficients of different orders are padded with zero
    coefficients of the higher powers.
    """
    first = values[0]
    if not isinstance(first, (np.ndarray, np.generic)):
        if any(v != first for v in values):
            raise ValueError("variants differ in a scalar of their normalization")
        return first
    width = max(np.shape(v)[-1] for v in values) if np.ndim(first) else 0
    if np.ndim(first) and any(np.shape(v)[-1] != width for v in values):
        values = [np.concatenate([v, np.zeros(v.shape[:-1] + (width - v.shape[-1],))], axis=-1) for v in values]
    return np.stack(values)


def _from_normalization(energy, mu_ref, n: Normalization, opts: XanesOptions, *, spiked: np.ndarray,
                        spectra: bool, calibration: Calibration | None) -> XanesResult:
    """Steps 1, 3 and 4 of the analysis on the normalization ``n`` (step 2)."""
    lead = n.edge_step.shape
    flags = np.where(n.ok, 0, XanesFlag.NORMALIZATION_FAILED)
    with np.errstate(invalid="ignore"):
        edge = (n.edge_step > 0) & (n.sigma < 1 / NO_EDGE_SIGMAS) & (n.edge_step > NO_EDGE_SIGMAS * n.edge_step_err)
        edge &= ~(_preedge_rms(energy, n) > NO_EDGE_PREEDGE_RMS)
    no_edge = n.ok & ~edge
    flags = flags | np.where(no_edge, XanesFlag.NO_EDGE, 0) | np.where(spiked, XanesFlag.GLITCHES_REMOVED, 0)
    if mu_ref is not None:
        cal = calibration if calibration is not None else calibration_arrays(
            energy, mu_ref, edge_energy=opts.edge_energy, window=opts.foil_smoothing, convention=opts.foil_edge)
        shift, shift_err = cal.shift, cal.shift_err
        measured = np.isfinite(mu_ref).any(axis=-1)
        flags = flags | np.where(measured & ~np.isfinite(shift), XanesFlag.CALIBRATION_FAILED, 0)
        flags = flags | np.where(cal.ambiguous, XanesFlag.AMBIGUOUS_FOIL, 0)
    else:
        shift = np.full(lead, np.nan)
        shift_err = np.full(lead, np.nan)
    s = np.where(np.isfinite(shift), shift, 0.0)
    search = (n.e0 + EDGE_REGION[0], n.e0 + EDGE_REGION[1])
    cross, half = e0_crossings(
        energy, n.norm, levels=(opts.level, 0.5), sigma=n.sigma,
        level_err=[_level_err(n, opts.level), _level_err(n, 0.5)], search=search,
    )
    flags = flags | np.where(n.ok & ~np.isfinite(cross.e0), XanesFlag.E0_NOT_FOUND, 0)
    deriv_e0, deriv_err = _derivative_of_norm(energy, n, given_e0=opts.e0_anchor is not None)
    # correlated noise (AR(1) measured on the spectrum away from its edge) widens the white-noise errors
    at = np.where(np.isfinite(n.e0), n.e0, np.nanmedian(energy))
    phi = ar1_phi(energy, n.norm, edge=at)
    point = inflation(phi, POINT_KERNEL)
    slope = slope_inflation(phi, energy, n.norm, at, DERIVATIVE_WINDOW)
    # Without a reference channel nothing is shifted: the measured grid stays
    # shared (the kernels' fast paths). That depends on the call's data, never
    # on the other rows' values, so every door takes the same path.
    ecal = np.asarray(energy, dtype=float)
    if mu_ref is not None:
        ecal = ecal + s[..., None]
    windows = {"fit_range": opts.fit_range, "peak_range": opts.peak_range}
    free = preedge_centroid_arrays(ecal, n.norm, sigma=n.sigma, baseline=MODEL_FREE_BASELINE, **windows)
    fit = None
    if opts.preedge == "fit":
        fit = preedge_fit_arrays(ecal, n.norm, baseline=opts.baseline, peak=opts.peak, npeaks=opts.npeaks, **windows)
    top = feature_intensity_arrays(ecal, n.norm, at=opts.peak_range[1], sigma=n.sigma).intensity
    with np.errstate(invalid="ignore"):
        pre = checked(fit, free, opts.peak_range, top_level=top)
    for name, flag in _PREEDGE_CHECKS.items():
        flags = flags | np.where(n.ok & getattr(pre, name), flag, 0)
    feat = feature_intensity_arrays(ecal, n.norm, at=opts.feature_energy, sigma=n.sigma)
    result = XanesResult(
        e0=cross.e0 + s,
        e0_err=cross.e0_err * point,
        e0_derivative=deriv_e0 + s,
        e0_derivative_err=deriv_err * slope,
        e0_half=half.e0 + s,
        e0_half_err=half.e0_err * point,
        e0_anchor=n.e0,
        edge_step=n.edge_step,
        edge_step_err=n.edge_step_err,
        preedge_centroid=pre.centroid,
        preedge_centroid_err=pre.centroid_err,
        preedge_area=pre.area,
        preedge_area_err=pre.area_err,
        preedge_height=pre.height,
        preedge_centroid_free=pre.centroid_free,
        preedge_centroid_free_err=pre.centroid_free_err,
        calibration_shift=shift,
        calibration_shift_err=shift_err,
        feature_c=feat.intensity,
        feature_c_err=feat.intensity_err,
        pre1=n.pre1,
        pre2=n.pre2,
        norm1=n.norm1,
        norm2=n.norm2,
        nnorm=n.nnorm,
        flags=np.asarray(flags, dtype=np.int64),
        norm=n.norm if spectra else np.empty(lead + (0,)),
        flat=n.flat if spectra else np.empty(lead + (0,)),
    )
    return _without_numbers(result, no_edge) if no_edge.any() else result


#: An edge is a positive step above this many standard deviations of a point and of the step itself.
NO_EDGE_SIGMAS = 5.0

#: Largest rms of the normalized spectrum over its pre-edge window for an edge (a fraction of the step):
#: a measured pre-edge is a line within the noise; an inverted edge or a window anchored on a post-edge
#: wiggle leaves a jump there.
NO_EDGE_PREEDGE_RMS = 0.1


def _preedge_rms(energy: np.ndarray, n: Normalization) -> np.ndarray:
    """Root mean square of ``n.norm`` over each spectrum's pre-edge window (NaN without a window)."""
    rel = np.asarray(energy, dtype=float) - n.e0[..., None]
    with np.errstate(invalid="ignore"):
        inside = (rel >= n.pre1[..., None]) & (rel <= n.pre2[..., None]) & np.isfinite(n.norm)
        squares = np.where(inside, n.norm, 0.0) ** 2
        return np.sqrt(squares.sum(axis=-1) / inside.sum(axis=-1))


#: Per-scan results that stay when a scan has no edge: the foil's, the windows and the flags.
_KEPT_WITHOUT_EDGE = ("calibration_shift", "calibration_shift_err", "pre1", "pre2", "norm1", "norm2", "nnorm",
                      "flags", "norm", "flat")


def _without_numbers(result: XanesResult, rows: np.ndarray) -> XanesResult:
    """``result`` with the numbers of ``rows`` (scans without an edge) NaN; spectra and windows kept."""
    changes = {
        f.name: np.where(rows, np.nan, getattr(result, f.name))
        for f in fields(result) if f.name not in _KEPT_WITHOUT_EDGE
    }
    return dataclasses.replace(result, **changes)


def without_spikes(energy: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mu`` with isolated spikes as NaN (:func:`spectro.xanes.find_glitches_arrays`), and which rows had any.

    ``mu`` itself is returned, not a copy, when there is none.
    """
    mask = find_glitches_arrays(energy, mu).mask
    rows = mask.any(axis=-1)
    if not rows.any():
        return mu, rows
    return np.where(mask, np.nan, mu), rows


def _level_err(n: Normalization, level: float) -> np.ndarray:
    """Uncertainty of ``level`` of the normalized jump from the normalization fits (normalized units).

    ``n.level_err`` is ``sqrt(var(pre) + 0.8**2 var(step)) / step`` and
    ``n.edge_step_err**2`` is ``var(step)``, so at another level ``L`` it is
    ``sqrt(level_err**2 + (L**2 - 0.64) (edge_step_err / step)**2)``.
    """
    with np.errstate(all="ignore"):
        rel = n.edge_step_err / np.abs(n.edge_step)
        return np.sqrt(np.maximum(n.level_err**2 + (level**2 - 0.64) * rel**2, 0.0))


def _as_normalized(energy, mu, *, e0: float | None) -> Normalization:
    """The :class:`Normalization` of spectra that are already normalized: ``norm = mu``, nothing fitted.

    The edge step is 1 by definition (error 0, and no normalization error
    in the levels); the pre-edge line is 0 and the post-edge a constant 1
    (order 0, so ``flat = norm``); no window is used (NaN). The anchoring
    E0 that places the edge search is found as for raw spectra (the
    derivative maximum of ``mu``) unless given.
    """
    _, ys, shared, sigma, e0s, e0_err = anchored(energy, mu, e0)
    lead = ys.shape[:-1]
    x, y = (np.asarray(energy, dtype=float), np.array(mu, dtype=float)) if shared else _arrays.as_rows(energy, mu)
    unused = np.full(lead, np.nan)
    return Normalization(
        norm=np.array(y, dtype=float), ok=np.isfinite(y).any(axis=-1), edge_step=np.ones(lead),
        edge_step_err=np.zeros(lead), level_err=np.zeros(lead), sigma=sigma, e0=np.asarray(e0s, dtype=float),
        e0_err=np.asarray(e0_err, dtype=float), pre1=unused, pre2=unused, norm1=unused, norm2=unused,
        nnorm=np.zeros(lead, dtype=np.int64), nvict=0.0, npre=0, pre_coef=np.zeros(lead + (1,)),
        post_coef=np.ones(lead + (1,)), origin=0.0, energy=x,
    )


def _derivative_of_norm(energy, n, *, given_e0: bool) -> tuple[np.ndarray, np.ndarray]:
    """Position and error of the maximum of the smoothed derivative of ``n.norm``.

    When the windows were anchored on the derivative maximum of ``mu``,
    the pre-edge is a line (``nvict`` 0) and the edge step is positive,
    this is that anchor: ``norm = (mu - line) / step``, the local quadratic
    keeps a line exactly, and so the derivative of ``norm`` is that of
    ``mu`` less a constant over a positive step, with its maximum (and the
    parabola through it) at the same energy and the same error. Otherwise
    it is found on ``norm`` itself. The choice is made per spectrum.
    """
    step = n.edge_step
    if given_e0 or n.nvict != 0:
        deriv = e0_derivative_arrays(energy, n.norm, sigma=n.sigma)
        return deriv.e0, deriv.e0_err
    positive = np.isfinite(step) & (step > 0)
    e0, e0_err = np.where(positive, n.e0, np.nan), np.where(positive, n.e0_err, np.nan)
    negative = np.isfinite(step) & ~positive
    if negative.any():
        deriv = e0_derivative_arrays(energy, n.norm, sigma=n.sigma)
        e0, e0_err = np.where(negative, deriv.e0, e0), np.where(negative, deriv.e0_err, e0_err)
    return e0, e0_err


def _complete_rows(energy, mu, mu_ref) -> np.ndarray | None:
    """Which spectra on a shared grid have every point, when only some do (else None).

    Those take the kernels' shared-grid paths, as they do in any call
    where every spectrum is complete: a spectrum's path never depends on
    the other spectra of the call.
    """
    energy, mu = np.asarray(energy), np.asarray(mu)
    if energy.ndim != 1 or mu.ndim < 2 or not np.isfinite(energy).all():
        return None
    complete = np.isfinite(mu).all(axis=-1)
    if mu_ref is not None:
        complete &= np.isfinite(mu_ref).all(axis=-1)
    return complete if 0 < complete.sum() < complete.size else None


def _apart(complete, energy, mu, mu_ref, opts: XanesOptions, normalized: bool, spectra: bool) -> XanesResult:
    """:func:`analyze_arrays` on the complete and the other spectra apart, put back in place."""
    parts = []
    for rows in (complete, ~complete):
        ref = None if mu_ref is None else np.asarray(mu_ref)[rows]
        parts.append((rows, analyze_arrays(energy, np.asarray(mu)[rows], ref, opts, normalized=normalized,
                                           spectra=spectra)))
    out = {}
    for name in OUTPUTS:
        first = getattr(parts[0][1], name)
        whole = np.empty(complete.shape + first.shape[1:], dtype=first.dtype)
        for rows, r in parts:
            whole[rows] = getattr(r, name)
        out[name] = whole
    return XanesResult(**out)


# --- on Datasets -------------------------------------------------------------------------


def result_attrs(opts: XanesOptions, *, calibrated: bool, normalized: bool = False) -> dict[str, dict[str, Any]]:
    """The attrs of every output of :func:`analyze`: units, long name and how it was obtained.

    They depend on the options, on whether a reference channel was used
    and on whether the input was already normalized, never on the data, so
    every way of running the analysis records the same attrs.
    """
    free = {
        "method": "model-free centroid",
        "baseline": MODEL_FREE_BASELINE_TEXT,
        "fit_range_ev": list(opts.fit_range),
        "peak_range_ev": list(opts.peak_range),
    }
    fitted = {
        "method": "least-squares fit (Levenberg-Marquardt)",
        "model": f"{opts.baseline} baseline + {opts.npeaks} {opts.peak}",
        "fit_range_ev": list(opts.fit_range),
        "peak_range_ev": list(opts.peak_range),
    }
    method: dict[str, dict[str, Any]] = {
        "e0": {"method": "first persistent upward crossing, interpolated on the data", "level": opts.level},
        "e0_half": {"method": "first persistent upward crossing", "level": 0.5},
        "e0_derivative": {"method": "maximum of smoothed derivative of norm, parabolic refinement"},
        "calibration_shift": {
            "method": FOIL_EDGE_METHODS[opts.foil_edge],
            "edge_energy_ev": NI_K_EDGE if opts.edge_energy is None else opts.edge_energy,
            "foil_smoothing_ev": opts.foil_smoothing,
        },
        "edge_step": {
            "pre_window_ev": [opts.pre1, opts.pre2],
            "norm_window_ev": [opts.norm1, opts.norm2],
            "nvict": opts.nvict,
            "e0_anchor": "given" if opts.e0_anchor is not None else "derivative maximum of mu",
            "nnorm": "by post-edge span" if opts.nnorm is None else opts.nnorm,
        },
        "preedge_centroid": fitted if opts.preedge == "fit" else dict(free),
        "preedge_centroid_free": dict(free),
        "feature_c": {"energy_ev": opts.feature_energy},
        "flags": {
            "flag_masks": [int(f) for f in XanesFlag],
            "flag_meanings": " ".join(f.name.lower() for f in XanesFlag),
        },
    }
    for name in ("e0", "e0_derivative", "e0_half", "preedge_centroid", "preedge_centroid_free"):
        method[name] = {**method[name], "calibrated": int(calibrated)}
    if normalized:
        given = "input already normalized: mu taken as it is, edge step 1 by definition"
        method["edge_step"] = {"method": given, "e0_anchor": method["edge_step"]["e0_anchor"]}
        method["norm"] = {"method": given}
    return {
        name: {"units": units, "long_name": long_name, **method.get(name, {})}
        for name, (_, units, long_name) in OUTPUTS.items()
    }


def is_normalized(data: xr.Dataset | Spectra) -> bool:
    """True when the ``mu`` of a Dataset (or of a reader's :class:`~spectro.model.Spectra`) is already normalized.

    The readers mark it with ``attrs["normalized"] = 1``. Scans that
    differ (a ``scan_normalized`` coordinate) are a
    :class:`~spectro.errors.DataError`: analyse them apart.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> is_normalized(ds), is_normalized(ds.assign_attrs(normalized=1))
    (False, True)
    """
    if "scan_normalized" in data.coords:
        spectra = data if isinstance(data, Spectra) else Spectra.from_dataset(data)
        marked = np.asarray(spectra.coords["scan_normalized"][0], dtype=float) == 1
        raise DataError(
            f"scans {spectra.labels[marked].tolist()} are already normalized and the others are not: "
            "analyse them apart", file=spectra.file or None,
        )
    return bool(int(data.attrs.get("normalized", 0) or 0))


def finish(out: xr.Dataset, ds: xr.Dataset, opts: XanesOptions, *, normalized: bool, **attrs: Any) -> str:
    """Give the results ``out`` of ``ds`` their Dataset attrs and, in memory, warn of their flags.

    The attrs are the options' (:meth:`~spectro.options.Options.to_attrs`),
    the kind, the source file, ``normalized`` and ``attrs``; one warning per
    flag names the file and the scans (as the caller's, two frames up).
    Returns the file name used in the warnings.
    """
    out.attrs = {"kind": "xanes_results", "source_file": ds.attrs.get("source_file", ""), **opts.to_attrs(), **attrs}
    if normalized:
        out.attrs["normalized"] = 1
    file = source_file(ds.attrs, ds.variables["source"].values if "source" in ds.coords else [])
    flags = out.variables["flags"]  # the Variable: no DataArray is built
    if flags.chunks is None and flags.values.any():
        for w in flag_warnings(flags.values, out["scan"].values, file=file):
            warnings.warn(w, stacklevel=3)
    return file


def flagged(flags: np.ndarray, labels: np.ndarray) -> dict[XanesFlag, list[str]]:
    """The scans that carry each flag.

    Examples
    --------
    >>> flagged(np.array([0, 8, 9]), np.array(["a", "b", "c"]))
    {<XanesFlag.NORMALIZATION_FAILED: 1>: ['c'], <XanesFlag.PREEDGE_FIT_FAILED: 8>: ['b', 'c']}
    """
    return _apply.flagged(flags, labels, XanesFlag)


def flag_warnings(flags: np.ndarray, labels: np.ndarray, *, file: str = "") -> list[SpectroWarning]:
    """One warning per flag that some scans carry, naming the file and those scans."""
    return _apply.flag_warnings(flags, labels, XanesFlag, FLAG_REASONS, file=file, categories=_FLAG_WARNINGS)
