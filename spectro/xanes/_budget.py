"""The uncertainty budget of the XANES results: statistical and systematic parts, by component.

The kernel :func:`spectro.xanes.analyze_arrays` gives each number with its
statistical error (white noise of the spectrum, and of its reference foil
for calibrated energies; for E0 and the calibration shift widened by the
AR(1) correlation of the noise each spectrum shows,
:mod:`spectro.xanes._correlated`). What it does not give is how much the number
depends on choices that are equally reasonable: the normalization windows,
the edge definition, the smoothing of the foil's derivative, the pre-edge
baseline. :func:`budget` measures that on the data: it runs the analysis
again over a documented neighbourhood of the chosen options
(:func:`variations`), each variation one vectorized call over all spectra
(the normalization variations: each normalized apart, the rest of the
analysis one call over variations x spectra), and takes the root-mean-square
change of every number per component.

Components (``<name>_sys_<component>``; see ``docs/uncertainty.md``):

``normalization``
    The kernel re-run with ``pre1`` +-50 eV, ``pre2`` -20 eV, ``norm1``
    -20/+25 eV, ``norm2`` -100/+100 eV and the post-edge order -1/+1
    (9 runs, pre-edge by the model-free centroid).
``edge_definition``
    ``e0`` at ``level`` +-0.05, ``e0_half`` at 0.45 and 0.55,
    ``e0_derivative`` with a derivative smoothing of 1.0 and 2.0 eV
    (instead of 1.5), on the normalized spectra of the nominal run.
``foil``
    The calibration shift with the foil's derivative smoothed over
    ``foil_smoothing`` -+0.5 eV (1.0 and 2.0 eV by default) and over 0.6 and
    4.0 eV (:data:`~spectro.xanes.energy_calibration.SPREAD_SMOOTHINGS`),
    each change ``D`` less the part the foil's noise gives it,
    ``sign(D) sqrt(max(0, D**2 - |err'**2 - err**2|))`` (nested estimates of
    one point; that noise is in the statistical part already), and with the
    whole foil aligned on the reference Ni foil (the ``xcorr`` convention;
    ``derivative`` when ``xcorr`` is the nominal, left out on a foil it
    flags ambiguous; Ni K only; less its own noise likewise); with ``xcorr``
    as the nominal also the alignment over the compared ranges of
    :data:`~spectro.xanes.energy_calibration.SPREAD_RANGES`;
    it moves every calibrated energy alike.
``preedge_model``
    The pre-edge fit with the other baseline (arctan <-> erf), when the
    pre-edge is fitted; for the model-free centroid, the change of its
    edge-tail baseline (:attr:`~spectro.xanes.PreedgeCentroid.centroid_sys`:
    the tail width moved to its neighbours and the peak window's edges
    moved), one variation of its own (the fitted numbers do not take it, the
    model-free ones do not take the fit's).

``<name>_stat`` is the kernel's error, with the calibration shift's error
in quadrature for the calibrated energies; ``<name>_sys`` the components in
quadrature, except the ``edge_definition`` component of the numbers a level
defines (:data:`LEVEL_DEFINED`: ``e0`` is *the* 0.8 crossing, so how much
another level would move it is how far it is from a differently defined
edge, not an error of it; the component is still reported, and the valence
keeps it); ``<name>_err`` the total. ``<name>_err_scan`` is the part that
changes from one scan of a sample to the next, from the scan alone: the
statistical error and the foil's change under the small smoothing steps
(``foil_smoothing`` -+0.5 eV) only; the wide smoothings move the point of
a clean foil by the asymmetry of its derivative peak, alike on every
repeat, and the other components move repeated scans alike too. A scan whose normalization variations move
``e0`` by more than :data:`UNSTABLE_E0` eV or the edge step by more than
:data:`UNSTABLE_STEP` of itself, or fail where the nominal did not, gets the
``NORMALIZATION_UNSTABLE`` bit of ``budget_flags`` (:class:`BudgetFlag`).
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import SpectroWarning
from .._variations import less_noise, row_rms
from ..options import XanesOptions, options_of
from .. import _apply
from ._analyze import (EDGE_REGION, OUTPUTS, XanesResult, _analyzed, finish, is_normalized,
                       normalization_variations, result_attrs, without_spikes)
from ._derivative import DERIVATIVE_WINDOW
from ._preedge import MODEL_FREE_BASELINE, preedge_centroid_arrays, preedge_fit_arrays
from .edge import e0_crossings, e0_derivative_arrays
from .energy_calibration import SPREAD_RANGES, SPREAD_SMOOTHINGS, XCORR_RANGE, _calibrations

__all__ = ["BUDGETED", "COMPONENTS", "LEVEL_DEFINED", "BudgetFlag", "BudgetResult", "budget", "budget_arrays",
           "budget_columns", "budget_flag_warnings", "in_total", "variations"]


class BudgetFlag(enum.IntFlag):
    """What the budget found wrong with a scan (bits of ``budget_flags``)."""

    #: A small change of the normalization windows or order moves e0 or the edge step a lot.
    NORMALIZATION_UNSTABLE = 1
    #: Another reasonable foil convention (smoothing, whole-foil alignment) moves the calibration shift by more
    #: than :data:`FOIL_DISAGREE`: the energy scale is uncertain by as much as the edge shifts under study.
    FOIL_CONVENTIONS_DISAGREE = 2


#: A normalization variation moving e0 by more than this (eV) flags the scan unstable.
UNSTABLE_E0: float = 1.0
#: A normalization variation changing the edge step by more than this fraction flags the scan unstable.
UNSTABLE_STEP: float = 0.2
#: A foil variation moving the calibration shift by more than this (eV, less the foil's noise) flags the scan: the
#: edge shift La3Ni2O7 shows at 15.6 GPa, and 0.2 in valence on the NiO-LaNiO3 line (2.3-2.4 eV per unit).
FOIL_DISAGREE: float = 0.5
#: What each budget flag means, as its warning says it.
BUDGET_FLAG_REASONS: dict[BudgetFlag, str] = {
    BudgetFlag.NORMALIZATION_UNSTABLE: f"normalization unstable (a small change of the windows or the post-edge "
                                       f"order moves e0 by more than {UNSTABLE_E0:g} eV or the edge step by more "
                                       f"than {UNSTABLE_STEP:.0%})",
    BudgetFlag.FOIL_CONVENTIONS_DISAGREE: f"the reference foil's conventions disagree (another smoothing or the "
                                          f"whole-foil alignment moves the calibration shift by more than "
                                          f"{FOIL_DISAGREE:g} eV): the energy scale is uncertain by as much as the "
                                          f"edge shifts under pressure; see calibration_shift_sys_foil",
}
#: Half-width of the band of edge levels around the chosen one (fraction of the jump).
LEVEL_BAND: float = 0.05
#: Derivative smoothing windows (eV) around the nominal :data:`DERIVATIVE_WINDOW` (1.5 eV).
WINDOW_BAND: tuple[float, float] = (DERIVATIVE_WINDOW - 0.5, DERIVATIVE_WINDOW + 0.5)
#: The small steps of the foil smoothing (eV, -+ around ``foil_smoothing``): the scan-to-scan part of the foil term.
FOIL_STEP: float = 0.5

#: The systematic components, in order.
COMPONENTS: tuple[str, ...] = ("normalization", "edge_definition", "foil", "preedge_model")

#: Numbers defined by their level of the jump: their ``edge_definition`` component (another level) is reported
#: but left out of ``<name>_sys`` and ``<name>_err`` (it is the distance to a differently defined edge, which
#: matters when comparing with such a value, not the error of this one; see docs/uncertainty.md).
LEVEL_DEFINED: frozenset[str] = frozenset({"e0", "e0_half"})


def in_total(name: str) -> tuple[str, ...]:
    """The components of :data:`COMPONENTS` that make up ``<name>_sys`` (all but, for :data:`LEVEL_DEFINED`, the
    edge definition).

    Examples
    --------
    >>> in_total("e0")
    ('normalization', 'foil', 'preedge_model')
    >>> len(in_total("preedge_centroid")) == len(COMPONENTS)
    True
    """
    return tuple(c for c in COMPONENTS if not (c == "edge_definition" and name in LEVEL_DEFINED))

#: Results with a budget: name -> (units, whether the number is on the calibrated energy scale).
BUDGETED: dict[str, tuple[str, bool]] = {
    "e0": ("eV", True),
    "e0_half": ("eV", True),
    "e0_derivative": ("eV", True),
    "calibration_shift": ("eV", True),
    "edge_step": ("1", False),
    "preedge_centroid": ("eV", True),
    "preedge_area": ("eV", False),
    "preedge_height": ("1", False),
    "preedge_centroid_free": ("eV", True),
    "feature_c": ("1", False),
}


def variations(options: XanesOptions | None = None, /, **changes: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """The neighbourhood of ``options`` the budget explores: (component, label, changes) per variation.

    Normalization variations are option changes for the kernel; the
    others are described by their label (they are computed on the nominal
    run). A normalization variation the options cannot take (a window
    crossing its neighbour) is left out. Depends on the options only.

    Examples
    --------
    >>> [label for comp, label, _ in variations() if comp == "normalization"][:3]
    ['pre1=-200', 'pre1=-100', 'pre2=-50']
    >>> sum(comp == "edge_definition" for comp, _, _ in variations())
    2
    """
    opts = options_of(XanesOptions, options, changes)
    order = 2 if opts.nnorm is None else opts.nnorm
    candidates = [
        {"pre1": opts.pre1 - 50.0}, {"pre1": opts.pre1 + 50.0}, {"pre2": opts.pre2 - 20.0},
        {"norm1": opts.norm1 - 20.0}, {"norm1": opts.norm1 + 25.0},
        {"norm2": opts.norm2 - 100.0}, {"norm2": opts.norm2 + 100.0},
        {"nnorm": order - 1}, {"nnorm": order + 1},
    ]
    out = []
    for change in candidates:
        (key, value), = change.items()
        if key == "nnorm" and not 0 <= value <= 3:
            continue
        try:
            opts.replace(**change)
        except ValueError:
            continue
        out.append(("normalization", f"{key}={value:g}", change))
    lo, hi = max(opts.level - LEVEL_BAND, 0.01), min(opts.level + LEVEL_BAND, 0.99)
    out += [("edge_definition", f"level={lo:g}", {}), ("edge_definition", f"level={hi:g}", {})]
    out += [("foil", f"foil_window={w:g}", {"foil_smoothing": w}) for w in _foil_windows(opts)]
    other_edge = "derivative" if opts.foil_edge == "xcorr" else "xcorr"
    try:  # the whole-foil alignment is placed on the Ni reference foil: Ni K only
        opts.replace(foil_edge=other_edge)
        out.append(("foil", f"foil_edge={other_edge}", {"foil_edge": other_edge}))
    except ValueError:
        pass
    if opts.foil_edge == "xcorr":  # the whole-foil alignment on other parts of the foil
        out += [("foil", f"xcorr_range={lo:g}:{hi:g}", {"xcorr_range": (lo, hi)}) for lo, hi in SPREAD_RANGES]
    if opts.preedge == "fit":
        other = "erf" if opts.baseline == "arctan" else "arctan"
        out.append(("preedge_model", f"baseline={other}", {"baseline": other}))
    out.append(("preedge_model", "model_free_baseline", {}))
    return out


def _foil_windows(opts: XanesOptions) -> tuple[float, ...]:
    """The foil smoothings (eV) the budget tries: the small steps around ``foil_smoothing``, then the wide ones.

    On a grid of 0.5 eV or coarser the small steps take the same two
    neighbours each side as 1.5 eV (the local fit's minimum): only the wide
    smoothings then change the foil's point.
    """
    w = opts.foil_smoothing
    small = [v for v in (w - FOIL_STEP, w + FOIL_STEP) if v > 0]
    return tuple(dict.fromkeys(small + [v for v in SPREAD_SMOOTHINGS if v != w and v not in small]))


def _small_foil_step(change: dict[str, Any], opts: XanesOptions) -> bool:
    """Whether the foil variation ``change`` is one of the small smoothing steps (the scan-to-scan part)."""
    w = change.get("foil_smoothing")
    return w is not None and abs(abs(w - opts.foil_smoothing) - FOIL_STEP) < 1e-9


@dataclass(frozen=True)
class BudgetResult:
    """What :func:`budget_arrays` finds: the nominal analysis and the change of each number per variation.

    Attributes
    ----------
    result : XanesResult
        The nominal analysis (the numbers of :func:`analyze_arrays`, unchanged).
    labels, components : tuple of str
        Each variation's label and component (:func:`variations`).
    delta : dict of str to ndarray, shape (..., n_variations)
        For each name of :data:`BUDGETED`, the change of the number under
        each variation (0 where the variation does not touch it).
    stat, err_scan : dict of str to ndarray, shape (...)
        Statistical error and the scan-to-scan error of each number.
    flags : ndarray of int, shape (...)
        :class:`BudgetFlag` bits.
    """

    result: XanesResult
    labels: tuple[str, ...]
    components: tuple[str, ...]
    delta: dict[str, np.ndarray]
    stat: dict[str, np.ndarray]
    err_scan: dict[str, np.ndarray]
    flags: np.ndarray

    def sys(self, name: str, component: str | None = None) -> np.ndarray:
        """Root-mean-square change of ``name`` over the variations of ``component`` (none: the components of
        :func:`in_total` in quadrature)."""
        if component is None:
            return np.sqrt(sum(self.sys(name, c) ** 2 for c in in_total(name)))
        cols = [i for i, c in enumerate(self.components) if c == component]
        if not cols:
            return np.zeros(self.result.e0.shape)
        return row_rms(self.delta[name][..., cols])


def budget_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    mu_ref: np.ndarray | None = None,
    options: XanesOptions | None = None,
    /,
    *,
    normalized: bool = False,
    spectra: bool = True,
    **changes: Any,
) -> BudgetResult:
    """The XANES analysis of spectra with the uncertainty budget of every number (see the module doc).

    Parameters are those of :func:`spectro.xanes.analyze_arrays`.

    Returns
    -------
    BudgetResult

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, seed=0)
    >>> b = budget_arrays(ds.energy.values, ds.mu.values, ds.mu_ref.values, preedge="centroid")
    >>> bool(b.sys("e0", "edge_definition")[0] > 0.1), int(b.flags[0])
    (True, 0)
    """
    opts = options_of(XanesOptions, options, changes)
    plan = variations(opts)
    # the spikes are found once: the variations run on the spectra without them (each row's spikes are found
    # from that row alone, so the foil without its spikes is the one the nominal analysis calibrates on)
    clean_ref = mu_ref if mu_ref is None or not opts.deglitch else without_spikes(energy, mu_ref)[0]
    # the foil's calibrations, the nominal one and those of the foil variations, in one pass over the foil
    foil = [{}] + [change for c, _, change in plan if c == "foil"]
    cals = [None] if mu_ref is None else _calibrations(
        energy, clean_ref, [(change.get("foil_smoothing", opts.foil_smoothing), change.get("foil_edge", opts.foil_edge),
                             change.get("xcorr_range", XCORR_RANGE)) for change in foil], edge_energy=opts.edge_energy)
    nominal = _analyzed(energy, mu, mu_ref, opts, normalized=normalized, spectra=True, calibration=cals[0])
    foil_cal, foil_cals = cals[0], cals[1:]
    if opts.deglitch:
        mu, _ = without_spikes(energy, mu)
        mu_ref = clean_ref
        opts = opts.replace(deglitch=False)
    shift = nominal.calibration_shift
    s = np.where(np.isfinite(shift), shift, 0.0)
    lead = nominal.e0.shape
    deltas: dict[str, list[np.ndarray]] = {name: [] for name in BUDGETED}
    zero = np.zeros(lead)
    flags = np.zeros(lead, dtype=np.int64)

    def add(**given: np.ndarray) -> None:
        for name in BUDGETED:
            deltas[name].append(given.get(name, zero))

    energy = np.asarray(energy, dtype=float)
    # the normalization variations in one run of the analysis after their normalizations (they change no foil
    # option: the nominal calibration is theirs)
    varied = [] if normalized else normalization_variations(
        energy, mu, mu_ref, [opts.replace(preedge="centroid", **change) for c, _, change in plan
                             if c == "normalization"], calibration=foil_cal)
    for component, label, change in plan:
        if component == "normalization":
            if normalized:  # nothing is normalized: no window to vary
                add()
                continue
            r = varied.pop(0)
            d = {name: getattr(r, name) - getattr(nominal, name) for name in BUDGETED if name != "calibration_shift"}
            # the fitted pre-edge numbers move with the normalization as the model-free ones do
            d["preedge_centroid"] = r.preedge_centroid_free - nominal.preedge_centroid_free
            with np.errstate(all="ignore"):
                ratio = nominal.edge_step / r.edge_step
                d["preedge_area"] = nominal.preedge_area * (ratio - 1.0)
                d["preedge_height"] = nominal.preedge_height * (ratio - 1.0)
                unstable = (np.abs(d["e0"]) > UNSTABLE_E0) | (np.abs(ratio - 1.0) > UNSTABLE_STEP)
            failed = np.isfinite(nominal.e0) & ~np.isfinite(r.e0)
            flags |= np.where(unstable | failed, int(BudgetFlag.NORMALIZATION_UNSTABLE), 0)
            add(**{k: np.where(np.isfinite(nominal.e0) & ~np.isfinite(v), np.nan, v) for k, v in d.items()})
        elif component == "edge_definition":
            level = float(label.split("=")[1])
            search = (nominal.e0_anchor + EDGE_REGION[0], nominal.e0_anchor + EDGE_REGION[1])
            at, half = e0_crossings(energy, nominal.norm, levels=(level, 0.5 + (level - opts.level)),
                                    sigma=0.0, search=search)
            window = WINDOW_BAND[0] if level < opts.level else WINDOW_BAND[1]
            deriv = e0_derivative_arrays(energy, nominal.norm, window=window)
            add(e0=at.e0 + s - nominal.e0, e0_half=half.e0 + s - nominal.e0_half,
                e0_derivative=deriv.e0 + s - nominal.e0_derivative)
        elif component == "foil":
            if mu_ref is None:
                add()
                continue
            cal = foil_cals.pop(0)
            # less the part the foil's noise gives the change (the smoothings are nested estimates of one point,
            # so that part has the variance |err'**2 - err**2|; another convention's noise is its own, not a
            # systematic of the nominal's): the nominal's noise is in the stat part already
            ds_ = less_noise(cal.shift - shift, cal.shift_err, nominal.calibration_shift_err)
            if change.get("foil_edge") == "derivative":
                # a convention that finds no single point on this foil (ambiguous) says nothing of the others
                ds_ = np.where(cal.ambiguous, np.nan, ds_)
            flags |= np.where(np.abs(ds_) > FOIL_DISAGREE, int(BudgetFlag.FOIL_CONVENTIONS_DISAGREE), 0)
            add(**{name: ds_ for name, (_, calibrated) in BUDGETED.items() if calibrated})
        else:  # preedge_model: a number takes the variation of its own pre-edge model only (NaN: not its column)
            ecal = energy + s[..., None] if mu_ref is not None else energy
            windows = {"fit_range": opts.fit_range, "peak_range": opts.peak_range}
            fitted = opts.preedge == "fit"
            if change:  # the fit with the other baseline
                fit = preedge_fit_arrays(ecal, nominal.norm, peak=opts.peak, npeaks=opts.npeaks, **windows, **change)
                add(preedge_centroid=fit.centroid - nominal.preedge_centroid,
                    preedge_area=fit.area - nominal.preedge_area, preedge_height=fit.height - nominal.preedge_height,
                    preedge_centroid_free=np.full(lead, np.nan))
            else:  # the model-free centroid's edge-tail baseline: its size of change, as the kernel measures it
                # the kernel's estimate again (the result carries the centroid, not its spread); its spread does
                # not use the noise, so none is estimated (sigma 0)
                free = preedge_centroid_arrays(ecal, nominal.norm, baseline=MODEL_FREE_BASELINE, sigma=0.0, **windows)
                spread = np.where(np.isfinite(nominal.preedge_centroid_free), free.centroid_sys, np.nan)
                other = np.full(lead, np.nan) if fitted else zero  # the model-free area's change is not estimated
                add(preedge_centroid_free=spread, preedge_centroid=other if fitted else spread,
                    preedge_area=other, preedge_height=other)
    delta = {name: np.stack(v, axis=-1) if v else np.zeros(lead + (0,)) for name, v in deltas.items()}
    stat = _statistical(nominal)
    err_scan = dict(stat)
    foil = [i for i, (c, _, change) in enumerate(plan) if c == "foil" and _small_foil_step(change, opts)]
    for name, (_, calibrated) in BUDGETED.items():
        if calibrated and foil and mu_ref is not None:
            err_scan[name] = np.hypot(stat[name], row_rms(delta[name][..., foil]))
    if not spectra:
        nominal = XanesResult(**{**{k: getattr(nominal, k) for k in OUTPUTS},
                                 "norm": np.empty(lead + (0,)), "flat": np.empty(lead + (0,))})
    return BudgetResult(
        result=nominal, labels=tuple(label for _, label, _ in plan), components=tuple(c for c, _, _ in plan),
        delta=delta, stat=stat, err_scan=err_scan, flags=flags,
    )


def _statistical(r: XanesResult) -> dict[str, np.ndarray]:
    """Statistical error of each budgeted number (see :func:`budget`)."""
    shift_err = np.where(np.isfinite(r.calibration_shift), r.calibration_shift_err, 0.0)
    with np.errstate(all="ignore"):
        height = np.abs(r.preedge_height * r.preedge_area_err / r.preedge_area)
    stat = {
        "e0": np.hypot(r.e0_err, shift_err),
        "e0_half": np.hypot(r.e0_half_err, shift_err),
        "e0_derivative": np.hypot(r.e0_derivative_err, shift_err),
        "calibration_shift": r.calibration_shift_err,
        "edge_step": r.edge_step_err,
        "preedge_centroid": np.hypot(r.preedge_centroid_err, shift_err),
        "preedge_area": r.preedge_area_err,
        "preedge_height": height,
        "preedge_centroid_free": np.hypot(r.preedge_centroid_free_err, shift_err),
        "feature_c": r.feature_c_err,
    }
    return stat


# --- on Datasets -------------------------------------------------------------------------


def _budget_outputs(labels: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], str, str]]:
    out: dict[str, tuple[tuple[str, ...], str, str]] = {}
    for name, (units, _) in BUDGETED.items():
        out[f"{name}_stat"] = ((), units, f"{name} statistical uncertainty (1 sigma)")
        out[f"{name}_sys"] = ((), units, f"{name} systematic uncertainty (1 sigma, components in quadrature)")
        for c in COMPONENTS:
            out[f"{name}_sys_{c}"] = ((), units, f"{name} systematic uncertainty from the {c.replace('_', ' ')}")
        out[f"{name}_err_scan"] = ((), units, f"{name} uncertainty that varies from scan to scan (stat and foil)")
        for k in range(len(labels)):
            out[f"{name}_variation__{k}"] = ((), units, "")
    out["budget_flags"] = ((), "1", "uncertainty budget flags (BudgetFlag bits; 0: none)")
    return out


_METHODS = {
    "normalization": "rms change over the normalization variations (pre1 +-50 eV, pre2 -20 eV, norm1 -20/+25 eV, "
                     "norm2 -100/+100 eV, post-edge order -1/+1)",
    "edge_definition": f"rms change with the edge level +-{LEVEL_BAND:g} (e0, e0_half) or the derivative "
                       f"smoothing {WINDOW_BAND[0]:g}/{WINDOW_BAND[1]:g} eV (e0_derivative)",
    "foil": f"rms change of the calibration shift with the foil derivative smoothed over foil_smoothing "
            f"-+{FOIL_STEP:g} eV and over {SPREAD_SMOOTHINGS[0]:g} and {SPREAD_SMOOTHINGS[1]:g} eV (each less the "
            "part the foil's noise gives it), and with the whole foil aligned on the reference Ni foil (xcorr; "
            "derivative when xcorr is the nominal, left out where it flags the foil ambiguous; with xcorr the "
            "alignment over -10..20 and -20..60 eV too)",
    "preedge_model": "change with the other pre-edge fit baseline (arctan <-> erf) for the fitted numbers; for the "
                     "model-free centroid, the change of its edge-tail baseline (tail width to its neighbours, peak "
                     "window edges moved)",
}


def _column_methods(name: str, *, calibrated: bool) -> dict[str, str]:
    """The ``method`` attr of each per-scan budget column of the number ``name``."""
    stat = "statistical error of the analysis" + (
        ", calibration shift error in quadrature" if BUDGETED[name][1] and calibrated else "")
    return {
        f"{name}_stat": stat,
        f"{name}_sys": "components in quadrature: " + ", ".join(in_total(name)) + (
            " (edge_definition reported, not included: the level defines the number)"
            if name in LEVEL_DEFINED else ""),
        **{f"{name}_sys_{c}": _METHODS[c] for c in COMPONENTS},
        f"{name}_err_scan": (f"statistical error and the foil term of the smoothing steps foil_smoothing "
                             f"-+{FOIL_STEP:g} eV in quadrature"),
        f"{name}_err": "statistical and systematic parts in quadrature",
    }


def budget_columns(b: BudgetResult, *, calibrated: bool) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
    """The per-scan numbers of a budget with their attrs, as tables (the batch) keep them.

    For each name of :data:`BUDGETED`: ``<name>_stat``, ``<name>_sys``,
    ``<name>_sys_<component>``, ``<name>_err_scan`` and ``<name>_err``
    (the total, as in :func:`budget`); and ``budget_flags``. The changes
    under each variation are left out.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> b = budget_arrays(ds.energy.values, ds.mu.values, preedge="centroid")
    >>> columns = budget_columns(b, calibrated=False)
    >>> columns["e0_err"][1]["units"], bool(columns["e0_err"][0][0] >= columns["e0_stat"][0][0])
    ('eV', True)
    """
    described = _budget_outputs(())
    out: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
    for name, (units, _) in BUDGETED.items():
        values = {f"{name}_stat": b.stat[name], f"{name}_sys": b.sys(name),
                  **{f"{name}_sys_{c}": b.sys(name, c) for c in COMPONENTS}, f"{name}_err_scan": b.err_scan[name]}
        values[f"{name}_err"] = np.hypot(values[f"{name}_stat"], values[f"{name}_sys"])
        for column, method in _column_methods(name, calibrated=calibrated).items():
            long_name = (f"{name} total uncertainty (1 sigma)" if column == f"{name}_err"
                         else described[column][2])
            out[column] = (np.asarray(values[column], dtype=float),
                           {"units": units, "long_name": long_name, "method": method})
    out["budget_flags"] = (np.asarray(b.flags, dtype=np.int64),
                           {"units": "1", "long_name": described["budget_flags"][2],
                            "flag_masks": [int(f) for f in BudgetFlag],
                            "flag_meanings": " ".join(f.name.lower() for f in BudgetFlag)})
    return out


def budget(
    ds: xr.Dataset, options: XanesOptions | None = None, /, *, spectra: bool = True, **changes: Any
) -> xr.Dataset:
    """:func:`spectro.xanes.analyze` with the uncertainty budget of every number.

    The Dataset of :func:`~spectro.xanes.analyze` (the same numbers), in
    which, for each name of :data:`BUDGETED` (``e0``, ``e0_half``,
    ``e0_derivative``, ``calibration_shift``, ``edge_step``, the pre-edge
    results, ``feature_c``):

    * ``<name>_stat``: statistical uncertainty (the analysis's error, with
      the calibration shift's error in quadrature for calibrated energies);
    * ``<name>_sys`` and ``<name>_sys_<component>`` for the components of
      :data:`COMPONENTS`;
    * ``<name>_err``: the total, ``stat`` and ``sys`` in quadrature (it
      replaces the analysis's statistical ``<name>_err``);
    * ``<name>_err_scan``: the part that varies from scan to scan;
    * ``<name>_variation`` along (``scan``, ``variation``): the change under
      each variation (what :func:`spectro.budget.valence_budget` uses);

    and ``budget_flags`` (:class:`BudgetFlag`). Every variable has
    ``units``, ``long_name`` and ``method`` attrs; ``attrs["budget"]`` is 1.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset (``mu``, optional ``mu_ref``), in memory or dask-backed.
    options : XanesOptions, optional
        The analysis options; the variations are taken around them.
    spectra : bool, keyword-only
        Also return ``norm`` and ``flat``.
    **changes
        Changes to ``options`` by name.

    Returns
    -------
    xarray.Dataset

    Warns
    -----
    SpectroWarning
        For scans whose normalization is unstable (in memory).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, reference=True, seed=0)
    >>> res = budget(ds, preedge="centroid")
    >>> bool(np.allclose(res.e0_err**2, res.e0_stat**2 + res.e0_sys**2))
    True
    >>> sorted(set(res.variation_component.values.tolist()))
    ['edge_definition', 'foil', 'normalization', 'preedge_model']
    """
    opts = options_of(XanesOptions, options, changes)
    mu = _apply.signal(ds, "mu")
    use_ref = opts.reference_channel and "mu_ref" in ds.data_vars
    normalized = is_normalized(ds)
    plan = variations(opts)
    labels = tuple(label for _, label, _ in plan)
    components = tuple(c for c, _, _ in plan)
    plain = {k: v for k, v in OUTPUTS.items() if spectra or not v[0]}
    extra = _budget_outputs(labels)
    outputs = {**plain, **extra}

    def kernel(mu, *rest, energy):
        b = budget_arrays(energy, mu, rest[0] if rest else None, opts, normalized=normalized, spectra=spectra)
        out = list(b.result.arrays(plain))
        for name in BUDGETED:
            parts = {c: b.sys(name, c) for c in COMPONENTS}  # each component once, the total from them
            total = np.sqrt(sum(parts[c] ** 2 for c in in_total(name)))
            out += [b.stat[name], total] + [parts[c] for c in COMPONENTS] + [b.err_scan[name]]
            out += [b.delta[name][..., k] for k in range(len(labels))]
        return tuple(out + [b.flags])

    attrs = result_attrs(opts, calibrated=use_ref, normalized=normalized)
    data, coords = _apply.run_parts(
        kernel, mu, args=[ds.mu_ref] if use_ref else [], outputs=outputs,
        attrs={name: attrs[name] for name in plain}, integers=("flags", "nnorm", "budget_flags"), coords_of=ds)
    # The Dataset is built once from the Variables (each Dataset built or variable added merges them all).
    data["budget_flags"].attrs.update(flag_masks=[int(f) for f in BudgetFlag],
                                      flag_meanings=" ".join(f.name.lower() for f in BudgetFlag))
    for name, (units, _) in BUDGETED.items():
        cols = [data.pop(f"{name}_variation__{k}") for k in range(len(labels))]
        if cols:
            data[f"{name}_variation"] = xr.Variable(
                cols[0].dims + ("variation",), np.stack([c.data for c in cols], axis=-1),
                {"units": units, "long_name": f"change of {name} under each variation of the options",
                 "method": "kernel re-run or re-evaluation with the variation's options"})
        methods = _column_methods(name, calibrated=use_ref)
        for column, method in methods.items():
            if column != f"{name}_err":
                data[column].attrs["method"] = method
        stat, sys_ = data[f"{name}_stat"], data[f"{name}_sys"]
        data[f"{name}_err"] = xr.Variable(stat.dims, np.hypot(stat.data, sys_.data), {
            "units": units, "long_name": f"{name} total uncertainty (1 sigma)", "method": methods[f"{name}_err"]})
    variation = xr.Coordinates({"variation": ("variation", list(labels))})  # with its index
    out = xr.Dataset(data, coords=xr.Coordinates(
        {**coords.variables, **variation.variables,
         "variation_component": xr.Variable("variation", list(components))},
        indexes={**coords.xindexes, **variation.xindexes}))
    file = finish(out, ds, opts, normalized=normalized, budget=1)
    if not _apply.is_lazy(out):
        for warning in budget_flag_warnings(out["budget_flags"].values, out["scan"].values, file=file):
            warnings.warn(warning, stacklevel=2)
    return out


def budget_flag_warnings(flags: np.ndarray, labels: np.ndarray, *, file: str = "") -> list[SpectroWarning]:
    """One warning per budget flag that some scans carry, naming the file and those scans.

    Examples
    --------
    >>> [str(w) for w in budget_flag_warnings(np.array([0, 2]), np.array(["a", "b"]), file="x.xdi")]  # doctest: +ELLIPSIS
    ["x.xdi: scans 'b': the reference foil's conventions disagree (...)..."]
    """
    return _apply.flag_warnings(flags, labels, BudgetFlag, BUDGET_FLAG_REASONS, file=file)
