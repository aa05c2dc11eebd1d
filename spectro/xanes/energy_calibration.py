"""Energy calibration on a reference foil, and alignment of scans to one another.

Calibration convention
    Each scan is shifted so that its simultaneously measured reference foil
    (``mu_ref``) has its edge at the tabulated energy, by default the Ni K
    edge 8333.0 eV (``xraydb.xray_edge('Ni', 'K').energy``). The foil edge
    is the maximum of the smoothed first derivative (the usual convention
    for metal foils, e.g. Kraft et al., Rev. Sci. Instrum. 67, 681 (1996)),
    found within ``search`` eV of the tabulated energy and refined below the
    grid step (:func:`spectro.xanes.edge.e0_derivative_arrays`). The shift
    ``calibration_shift = E_tab - E_foil`` is added to every energy of the
    scan: calibrated energy = measured energy + shift.

Other foil-edge conventions (option ``foil_edge``)
    ``"inflection"`` (the first inflection point of the edge: the first
    local maximum of the smoothed derivative reaching
    :data:`INFLECTION_FLOOR` of the largest, so a weak first maximum that
    the ``"derivative"`` rule skips is taken), ``"half"`` (the first crossing of half the
    normalized foil jump) and ``"xcorr"`` (the shift that best aligns the
    smoothed derivative of the whole foil edge with that of the reference
    foil, by correlation). Each convention's point (and the ``"derivative"``
    point at another smoothing than 1.5 eV) is placed where it lies on
    the reference foil :func:`reference_foil` (a measured Ni foil whose
    ``"derivative"`` point, at the default smoothing, is at 8333.0 eV), so
    every convention gives the same shift for a foil of that shape; on
    another foil they differ by what its shape differs, which
    :func:`calibration_spread` measures.

Ambiguous foils
    :func:`calibration_arrays` marks a foil ``ambiguous`` when the
    first-maximum rule is close to choosing another maximum (a local
    maximum of the smoothed derivative before the chosen one, more than two
    smoothing widths away, reaches ``FIRST_PEAK - AMBIGUITY_MARGIN`` of the
    largest, or the chosen one is below ``FIRST_PEAK + AMBIGUITY_MARGIN``),
    or when the shift is farther than :data:`FAR_SHIFT` eV from zero.

Alignment
    Scans without a foil can be aligned to a chosen scan: the shift ``s``
    minimizing the summed squared difference between the smoothed
    derivative of the scan, evaluated at ``E - s``, and that of the
    reference scan over the common range, searched on a grid of candidate
    shifts (all scans at once for each candidate) and refined by a
    parabola through the best candidate and its neighbours.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np
import xarray as xr

from ..errors import DataError
from ..options import XanesOptions, options_of
from . import _arrays
from ._correlated import POINT_KERNEL, ar1_phi, inflation, slope_inflation
from ._derivative import DERIVATIVE_WINDOW, derivative_arrays
from ._normalize import normalize_arrays
from .edge import derivative_max_prepared, e0_crossing_arrays, e0_derivative_arrays

#: A foil's edge is the first derivative maximum reaching this fraction of the largest.
FIRST_PEAK: float = 0.7
#: The conventions of the foil edge (option ``foil_edge``).
FOIL_EDGES: tuple[str, ...] = ("derivative", "inflection", "half", "xcorr")
#: The first inflection point is the first derivative maximum reaching this fraction of the largest.
INFLECTION_FLOOR: float = 0.3
#: A maximum within this fraction of :data:`FIRST_PEAK` makes the first-maximum rule ambiguous.
AMBIGUITY_MARGIN: float = 0.15
#: A calibration shift farther than this from zero (eV) marks the foil ambiguous.
FAR_SHIFT: float = 3.0
#: Smoothing widths (eV) besides the chosen one in :func:`calibration_spread`.
SPREAD_SMOOTHINGS: tuple[float, ...] = (0.6, 4.0)
#: The energy range (eV, relative to the tabulated edge) the ``xcorr`` convention compares.
XCORR_RANGE: tuple[float, float] = (-20.0, 40.0)
#: Compared ranges (eV) besides :data:`XCORR_RANGE` in the uncertainty budget: the edge and its first maxima
#: only, and the edge with 60 eV of the foil above it. A foil shaped like the reference aligns alike on each.
SPREAD_RANGES: tuple[tuple[float, float], ...] = ((-10.0, 20.0), (-20.0, 60.0))
#: How each convention finds the foil edge, as the results' ``method`` attr says it.
FOIL_EDGE_METHODS: dict[str, str] = {
    "derivative": "reference foil derivative maximum",
    "inflection": "reference foil first inflection point, placed on the reference Ni foil",
    "half": "reference foil half-height crossing, placed on the reference Ni foil",
    "xcorr": "reference foil derivative aligned with the reference Ni foil's (correlation)",
}
#: Grid step of the ``xcorr`` alignment, eV (refined below it by a parabola).
XCORR_STEP: float = 0.05
#: The Ni K edge, eV: ``xraydb.xray_edge("Ni", "K").energy`` (Elam tables), which ``tests/test_energy_calibration.py``
#: checks. A constant so that an analysis does not import xraydb (about 0.9 s of CPU) for this one number;
#: :func:`tabulated_edge` looks up any other edge.
NI_K_EDGE: float = 8333.0

__all__ = [
    "NI_K_EDGE",
    "Calibration",
    "align",
    "align_arrays",
    "calibrate_energy",
    "calibration_arrays",
    "calibration_shifts",
    "calibration_spread",
    "reference_foil",
    "tabulated_edge",
]


@functools.lru_cache(maxsize=64)
def tabulated_edge(element: str = "Ni", edge: str = "K") -> float:
    """Tabulated absorption-edge energy, eV (xraydb).

    Examples
    --------
    >>> tabulated_edge("Mn", "K")
    6539.0
    """
    import xraydb  # about 0.9 s at import: only for the edges the analysis does not carry (NI_K_EDGE)

    return float(xraydb.xray_edge(element, edge).energy)


@dataclass(frozen=True)
class Calibration:
    """Calibration of spectra on their reference foils.

    Attributes
    ----------
    shift, shift_err : ndarray, shape (...)
        Energy shift to add to the measured energies, eV, and its 1-sigma
        uncertainty (that of the foil E0: from the foil's noise, widened by
        the AR(1) correlation it shows, :mod:`spectro.xanes._correlated`).
    foil_e0 : ndarray, shape (...)
        Measured foil edge (the convention's point), eV.
    edge_energy : float
        Tabulated edge energy used, eV.
    ambiguous : ndarray of bool, shape (...)
        The foil edge is ambiguous (see the module documentation).
    convention : str
        The foil-edge convention (:data:`FOIL_EDGES`).
    """

    shift: np.ndarray
    shift_err: np.ndarray
    foil_e0: np.ndarray
    edge_energy: float
    ambiguous: np.ndarray
    convention: str = "derivative"


@functools.lru_cache(maxsize=1)
def reference_foil() -> tuple[np.ndarray, np.ndarray]:
    """The reference Ni foil: energies (eV) and normalized absorption.

    A measured Ni metal foil (XAS Data Library, APS 13-ID-C, CC0; see the
    header of ``spectro/references/ni_foil_13idc.csv``), shifted so that
    its ``"derivative"`` point (first derivative maximum at the default
    smoothing) is at the tabulated Ni K edge, 8333.0 eV.

    Examples
    --------
    >>> e, mu = reference_foil()
    >>> round(float(calibration_arrays(e, mu).foil_e0), 2)
    8333.0
    """
    text = resources.files("spectro.references").joinpath("ni_foil_13idc.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith(("#", "energy"))]
    data = np.array(rows, dtype=float)
    return data[:, 0], data[:, 1]


def calibration_arrays(
    energy: np.ndarray,
    mu_ref: np.ndarray,
    *,
    edge_energy: float | None = None,
    search: float = 25.0,
    window: float = DERIVATIVE_WINDOW,
    convention: str = "derivative",
    xcorr_range: tuple[float, float] = XCORR_RANGE,
) -> Calibration:
    """Shift that puts each reference foil's edge at the tabulated edge.

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV.
    mu_ref : ndarray, shape (..., n)
        Reference-foil absorption (NaN = no point).
    edge_energy : float, optional
        Tabulated edge, eV; default the Ni K edge from xraydb (8333.0 eV).
    search : float, keyword-only
        Look for the foil edge within this many eV of ``edge_energy``.
    window : float, keyword-only
        Derivative smoothing window, eV.
    convention : str, keyword-only
        The foil edge (:data:`FOIL_EDGES`): ``"derivative"`` (the first
        maximum of the smoothed derivative reaching :data:`FIRST_PEAK` of
        the largest), ``"inflection"``, ``"half"`` or ``"xcorr"`` (see the
        module documentation). Conventions other than ``"derivative"`` are
        placed on the Ni reference foil, so they need an ``edge_energy``
        within ``search`` of the Ni K edge.
    xcorr_range : (float, float), keyword-only
        The energies compared by ``"xcorr"``, eV relative to the Ni K edge.

    Returns
    -------
    Calibration

    Raises
    ------
    DataError
        An unknown ``convention``, or one that needs the Ni reference foil
        with another ``edge_energy``.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, energy_offset=1.5, seed=0)
    >>> c = calibration_arrays(ds.energy.values, ds.mu_ref.values)
    >>> round(float(c.shift[0]), 2), bool(c.ambiguous[0])
    (-1.5, False)
    """
    return _calibrations(energy, mu_ref, [(window, convention, xcorr_range)], edge_energy=edge_energy,
                         search=search)[0]


def _calibrations(
    energy: np.ndarray,
    mu_ref: np.ndarray,
    variants: list[tuple[float, str, tuple[float, float]]],
    *,
    edge_energy: float | None = None,
    search: float = 25.0,
) -> list[Calibration]:
    """:func:`calibration_arrays` of the same foils for each (``window``, ``convention``, ``xcorr_range``) of
    ``variants``, in one pass over the foils: the same numbers.

    What does not depend on the variant is done once: the foils are
    prepared and their noise (:func:`spectro.xanes._arrays.noise_sigma`)
    estimated once; the derivative maximum and the ambiguity check once
    for each smoothing (variants of one smoothing share them); the AR(1)
    correlation of every smoothing's foil edge in one call. The uncertainty
    budget's foil variations (:func:`spectro.xanes.budget_arrays`) take it.

    Parameters
    ----------
    energy, mu_ref : ndarray
        As in :func:`calibration_arrays`.
    variants : list of (float, str, (float, float))
        ``window`` (eV), ``convention`` and ``xcorr_range`` (eV) of each
        calibration, as in :func:`calibration_arrays`.
    edge_energy, search : float, keyword-only
        As in :func:`calibration_arrays`.

    Returns
    -------
    list of Calibration
        One per variant, in their order.

    Raises
    ------
    DataError
        As :func:`calibration_arrays`, for any variant.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, foil="ni", energy_offset=1.0, seed=0)
    >>> e, ref = ds.energy.values, ds.mu_ref.values
    >>> cals = _calibrations(e, ref, [(1.5, "derivative", XCORR_RANGE), (4.0, "xcorr", XCORR_RANGE)])
    >>> [bool((c.shift == calibration_arrays(e, ref, window=w, convention=k).shift).all())
    ...  for c, (w, k) in zip(cals, [(1.5, "derivative"), (4.0, "xcorr")])]
    [True, True]
    """
    e_tab = NI_K_EDGE if edge_energy is None else float(edge_energy)
    for _, convention, _ in variants:
        if convention not in FOIL_EDGES:
            raise DataError(f"unknown foil-edge convention {convention!r}: one of {', '.join(FOIL_EDGES)}")
        if convention != "derivative" and abs(e_tab - NI_K_EDGE) > search:
            raise DataError(f"the {convention!r} foil-edge convention is placed on a Ni foil: it cannot calibrate "
                            f"on an edge at {e_tab} eV (use 'derivative')")
    lo, hi = e_tab - search, e_tab + search
    xs, ys, finite = _arrays.prepare(energy, mu_ref)
    sigma = _arrays.noise_sigma(xs, ys, finite=finite)  # the foil's noise: the same for every smoothing
    windows = tuple(dict.fromkeys(window for window, _, _ in variants))
    pos = {w: derivative_max_prepared(xs, ys, finite, window=w, search=(lo, hi), first=FIRST_PEAK, sigma=sigma)
           for w in windows}
    ambiguous = {w: _ambiguous(energy, mu_ref, window=w, search=(lo, hi)) for w in windows}
    # correlated noise of the foil (AR(1) measured away from its edge) widens the white-noise error; each
    # smoothing's edge leaves out its own points: all of them in one call
    at = {w: np.where(np.isfinite(pos[w].e0), pos[w].e0, e_tab) for w in windows}
    phi = dict(zip(windows, ar1_phi(energy, mu_ref, edge=np.stack([at[w] for w in windows]))))
    out = []
    for window, convention, xcorr_range in variants:
        if convention == "derivative":
            point, err = pos[window].e0, pos[window].e0_err
            edge = e_tab if window == DERIVATIVE_WINDOW else e_tab + _on_reference("derivative", window)
        else:
            point, err = _foil_point(convention, energy, mu_ref, pos[window], window=window, search=(lo, hi),
                                     compared=xcorr_range)
            edge = e_tab + _on_reference(convention, window, tuple(xcorr_range))
        widen = (inflation(phi[window], POINT_KERNEL) if convention == "half"
                 else slope_inflation(phi[window], energy, mu_ref, at[window], window))
        err = err * widen
        shift = edge - point
        out.append(Calibration(shift=shift, shift_err=err, foil_e0=point, edge_energy=e_tab,
                               ambiguous=(ambiguous[window] | (np.abs(shift) > FAR_SHIFT)) & np.isfinite(shift),
                               convention=convention))
    return out


def _foil_point(convention, energy, mu_ref, pos, *, window, search, compared=XCORR_RANGE):
    """The foil's point of ``convention`` (not ``"derivative"``) and its white-noise error, eV.

    ``pos`` is the foil's derivative maximum: ``"half"`` normalizes the
    foil about it. Each convention's error is its own (``"xcorr"``: that of
    the least-squares alignment, :func:`_xcorr`).
    """
    if convention == "inflection":
        first = e0_derivative_arrays(energy, mu_ref, window=window, search=search, first=INFLECTION_FLOOR)
        return first.e0, first.e0_err
    if convention == "half":
        with _arrays.quiet():
            n = normalize_arrays(energy, mu_ref, e0=np.where(np.isfinite(pos.e0), pos.e0, np.nanmean(search)))
        half = e0_crossing_arrays(energy, n.norm, level=0.5, sigma=n.sigma, level_err=n.level_err, search=search)
        ok = n.ok & np.isfinite(pos.e0)
        return np.where(ok, half.e0, np.nan), np.where(ok, half.e0_err, np.nan)
    shift, err = _xcorr(energy, mu_ref, window=window, search=search, compared=compared)
    # the point of the measured foil that lands on the reference's tabulated edge
    return NI_K_EDGE - shift, err


def _xcorr(energy, mu_ref, *, window, search, compared) -> tuple[np.ndarray, np.ndarray]:
    """Shift (eV) maximizing the correlation of the smoothed foil derivative with the reference foil's
    (:func:`reference_foil`), and its error from the foil's white noise.

    The smoothed derivatives are read on a uniform grid of
    :data:`XCORR_STEP`; for each candidate shift ``s`` (every grid step
    within ``search``) the reference derivative over ``compared`` (eV of
    the tabulated edge, :data:`XCORR_RANGE` by default) is correlated
    (Pearson) with the measured one at ``E - s`` (all candidates at once,
    by FFT), and the best candidate is refined by a parabola through its neighbours. NaN when the foil covers
    less than half of the compared range.

    The error is that of the least-squares alignment the correlation
    stands for, ``d(E) = a r1(E + s)`` with ``r1``, ``r2``, ``r3`` the
    reference's smoothed first derivative and its next two: a noise ``dmu``
    of the foil moves the shift by ``int r2 dd dE / (a int r2**2 dE) = -int
    r3 dmu dE / (a int r2**2 dE)`` (by parts, ``dd`` the noise of the
    derivative), so for white noise of standard deviation ``sigma`` per
    point (:func:`spectro.xanes._arrays.noise_sigma`) the variance is
    ``sigma**2 sum_j (r3(E_j + s) dE_j)**2 / (a int r2**2 dE)**2`` over the
    foil's points in the compared range, ``a`` the regression slope of the
    measured derivative on the reference's.
    """
    from scipy import fft  # imported on first use: only this alignment needs it (about 0.2 s to import)

    e_tab = NI_K_EDGE
    lo, hi = e_tab + compared[0], e_tab + compared[1]
    h = XCORR_STEP
    m = int(round((hi - lo) / h)) + 1
    k_half = int(round(0.5 * (search[1] - search[0]) / h))
    n_cand = 2 * k_half + 1
    grid_ref = lo + h * np.arange(m)
    grid = lo - k_half * h + h * np.arange(m + n_cand - 1)
    margin = 10.0 + 2.0 * window
    energy, mu_ref = _near(energy, mu_ref, grid[0] - margin, grid[-1] + margin)
    x, _ = _arrays.as_rows(energy, mu_ref)
    xs, ds, _ = _arrays.compact(x, derivative_arrays(energy, mu_ref, window=window).d1)
    d = _arrays.interp_rows(grid, xs, ds)
    e_ref, r_ref, r2, r3 = _reference_derivatives(window)
    r = np.interp(grid_ref, e_ref, r_ref)
    seen = np.isfinite(d)
    dz = np.where(seen, d, 0.0)

    def sliding(a):  # sums over every window of m points: (..., n_cand)
        c = np.concatenate([np.zeros(a.shape[:-1] + (1,)), np.cumsum(a, axis=-1)], axis=-1)
        return c[..., m:] - c[..., :-m]

    size = fft.next_fast_len(grid.size)
    spectra = np.fft.rfft(np.stack([dz, seen.astype(float)]), size)

    def correlate(b):  # sum_j a[i + j] b[j] for both a = dz and a = seen: (2, ..., n_cand)
        return np.fft.irfft(spectra * np.conj(np.fft.rfft(b, size)), size)[..., :n_cand]

    (s_dr, s_r), (_, s_rr) = correlate(r), correlate(r * r)
    n, s_d, s_dd = sliding(seen.astype(float)), sliding(dz), sliding(dz * dz)
    with _arrays.quiet():
        cov = s_dr - s_d * s_r / n
        corr = cov / np.sqrt((s_dd - s_d * s_d / n) * (s_rr - s_r * s_r / n))
    corr = np.where((n > 0.5 * m) & np.isfinite(corr), corr, -np.inf)
    i = np.clip(np.argmax(corr, axis=-1), 1, n_cand - 2)
    c0, c1, c2 = (np.take_along_axis(corr, (i + j)[..., None], -1)[..., 0] for j in (-1, 0, 1))
    with _arrays.quiet():
        frac = 0.5 * (c0 - c2) / (c0 - 2 * c1 + c2)
    frac = np.where(np.isfinite(frac), np.clip(frac, -1, 1), 0.0)
    # window i compares the measured E = reference E - s with s = (k_half - i) h
    shift = np.where(np.isfinite(c1), (k_half - i - frac) * h, np.nan)
    with _arrays.quiet():
        slope = np.take_along_axis(cov / (s_rr - s_r * s_r / n), i[..., None], -1)[..., 0]
    return shift, _xcorr_err(energy, mu_ref, e_ref, r2, r3, shift, slope, (lo, hi))


@functools.lru_cache(maxsize=16)
def _reference_derivatives(window: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reference foil's energies (eV) and its first derivative smoothed over ``window`` eV with the next
    two (by finite differences), which :func:`_xcorr` compares every foil with (found once per smoothing).
    """
    e_ref, mu = reference_foil()
    r1 = derivative_arrays(e_ref, mu, window=window).d1
    r2 = np.gradient(r1, e_ref)
    r3 = np.gradient(r2, e_ref)
    for a in (r1, r2, r3):
        a.flags.writeable = False
    return e_ref, r1, r2, r3


def _xcorr_err(energy, mu_ref, e_ref, r2, r3, shift, slope, compared) -> np.ndarray:
    """White-noise error of the ``xcorr`` shift (see :func:`_xcorr`), eV."""
    inside = (e_ref >= compared[0]) & (e_ref <= compared[1])
    i2 = np.trapezoid(r2[inside] ** 2, e_ref[inside])
    xs, ys, _ = _arrays.compact(*_arrays.as_rows(energy, mu_ref))
    sigma = _arrays.noise_sigma(xs, ys)
    at_ref = xs + np.where(np.isfinite(shift), shift, 0.0)[..., None]
    with _arrays.quiet():
        use = (at_ref >= compared[0]) & (at_ref <= compared[1]) & np.isfinite(ys)
        step = np.abs(np.gradient(xs, axis=-1))
        terms = np.where(use, (np.interp(at_ref, e_ref, r3) * step) ** 2, 0.0)
        err = sigma * np.sqrt(terms.sum(axis=-1)) / (np.abs(slope) * i2)
    return np.where(np.isfinite(shift), err, np.nan)


def _ambiguous(energy, mu_ref, *, window, search) -> np.ndarray:
    """Whether the first-maximum rule is close to choosing another derivative maximum (see the module)."""
    energy, mu_ref = _near(energy, mu_ref, search[0] - 10.0 - 2.0 * window, search[1] + 10.0 + 2.0 * window)
    x, _ = _arrays.as_rows(energy, mu_ref)
    # the measured points of each row side by side (a union grid has gaps), so neighbours are neighbours
    x, d, _ = _arrays.compact(x, derivative_arrays(energy, mu_ref, window=window).d1)
    inside = (x >= search[0]) & (x <= search[1]) & np.isfinite(d)
    dd = np.where(inside, d, -np.inf)
    with _arrays.quiet():
        h = dd / np.max(dd, axis=-1, keepdims=True)
    peak = inside & (dd >= _arrays.shifted(dd, -1)) & (dd >= _arrays.shifted(dd, 1))
    chosen = peak & (h >= FIRST_PEAK)
    k = np.argmax(chosen, axis=-1)[..., None]
    xc = np.take_along_axis(x, k, -1)
    hc = np.take_along_axis(h, k, -1)[..., 0]
    before = peak & (h >= FIRST_PEAK - AMBIGUITY_MARGIN) & (x < xc - 2.0 * window)
    return chosen.any(axis=-1) & (before.any(axis=-1) | (hc < FIRST_PEAK + AMBIGUITY_MARGIN))


def _near(energy, mu, lo: float, hi: float):
    """The columns of ``energy`` and ``mu`` from the first to the last where some energy is in [lo, hi]."""
    energy, mu = np.asarray(energy, dtype=float), np.asarray(mu, dtype=float)
    inside = (energy >= lo) & (energy <= hi)
    cols = np.flatnonzero(inside.reshape(-1, inside.shape[-1]).any(axis=0))
    if cols.size == 0:
        return energy, mu
    part = slice(cols[0], cols[-1] + 1)
    return energy[..., part], mu[..., part]


@functools.lru_cache(maxsize=32)
def _on_reference(convention: str, window: float, compared: tuple[float, float] = XCORR_RANGE) -> float:
    """Where ``convention`` puts the reference foil's edge, relative to the tabulated edge, eV."""
    e, mu = reference_foil()
    search = (NI_K_EDGE - 25.0, NI_K_EDGE + 25.0)
    pos = e0_derivative_arrays(e, mu[None, :], window=window, search=search, first=FIRST_PEAK)
    point = pos.e0 if convention == "derivative" else _foil_point(convention, e, mu[None, :], pos, window=window,
                                                                  search=search, compared=compared)[0]
    return float(point[0] - NI_K_EDGE)


def calibration_shifts(
    energy: np.ndarray, mu_ref: np.ndarray, options: XanesOptions | None = None, /, **changes
) -> tuple[tuple[tuple[str, float], ...], np.ndarray]:
    """The calibration shift of each foil under every convention and smoothing of the neighbourhood.

    The neighbourhood of the options' (``foil_edge``, ``foil_smoothing``)
    is every convention of :data:`FOIL_EDGES` at the smoothing
    ``foil_smoothing`` and at each of :data:`SPREAD_SMOOTHINGS` (the
    ``"half"`` convention does not smooth: once).

    Parameters
    ----------
    energy : ndarray, shape (n,) or (..., n)
        Energies, eV.
    mu_ref : ndarray, shape (..., n)
        Reference-foil absorption (NaN = no point).
    options : XanesOptions, optional
        ``edge_energy`` and ``foil_smoothing`` are used.
    **changes
        Changes to ``options``, by name.

    Returns
    -------
    labels : tuple of (str, float)
        (convention, smoothing in eV) of each column; NaN smoothing for ``"half"``.
    shifts : ndarray, shape (..., k)
        The shifts, eV (NaN where that convention found no edge).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, foil="ni", energy_offset=1.0, seed=0)
    >>> labels, shifts = calibration_shifts(ds.energy.values, ds.mu_ref.values)
    >>> labels[:2], shifts.shape
    ((('derivative', 1.5), ('derivative', 0.6)), (1, 10))
    """
    opts = options_of(XanesOptions, options, changes)
    windows = tuple(dict.fromkeys((opts.foil_smoothing, *SPREAD_SMOOTHINGS)))
    labels = tuple((c, w) for c in FOIL_EDGES if c != "half" for w in windows)
    labels = labels[: 2 * len(windows)] + (("half", float("nan")),) + labels[2 * len(windows):]
    cals = _calibrations(energy, mu_ref, [(opts.foil_smoothing if c == "half" else w, c, XCORR_RANGE)
                                          for c, w in labels], edge_energy=opts.edge_energy)
    return labels, np.stack([cal.shift for cal in cals], axis=-1)


def calibration_spread(
    energy: np.ndarray, mu_ref: np.ndarray, options: XanesOptions | None = None, /, **changes
) -> np.ndarray:
    """Systematic uncertainty of each calibration shift: its spread over the conventions and smoothings.

    The standard deviation (``ddof=1``) of the shifts of
    :func:`calibration_shifts` (4 conventions at 3 smoothings, the
    half-height once: 10 values), NaN where fewer than two are finite. A
    foil shaped like the reference Ni foil gives 0; the spread says how much
    the choice of convention moves this foil's shift. It is a systematic
    error: the same convention on every scan of a beamtime does not remove
    it when the foils differ (thickness, resolution, harmonics).

    Parameters
    ----------
    energy, mu_ref, options, **changes
        As in :func:`calibration_shifts`.

    Returns
    -------
    ndarray, shape (...)
        eV, one per foil.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, foil="ni", n_scans=2, seed=0)
    >>> sys = calibration_spread(ds.energy.values, ds.mu_ref.values)
    >>> sys.shape, bool((sys < 1.0).all())
    ((2,), True)
    """
    _, shifts = calibration_shifts(energy, mu_ref, options, **changes)
    enough = np.isfinite(shifts).sum(axis=-1) >= 2
    with _arrays.quiet():
        spread = np.nanstd(shifts, axis=-1, ddof=1)
    return np.where(enough, spread, np.nan)


def calibrate_energy(
    ds: xr.Dataset,
    *,
    edge_energy: float | None = None,
    search: float = 25.0,
    window: float = DERIVATIVE_WINDOW,
    convention: str = "derivative",
) -> xr.Dataset:
    """Calibrate every scan on its reference channel ``mu_ref``.

    The signals are re-interpolated (linearly, NaN outside the measured
    range) onto the Dataset's energy grid after shifting, so every scan is
    on the calibrated energy scale.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset with ``mu`` and ``mu_ref``.
    edge_energy, search, window, convention
        As in :func:`calibration_arrays`.

    Returns
    -------
    xarray.Dataset
        A new Dataset with shifted ``mu`` and ``mu_ref`` and the variables
        ``calibration_shift`` and ``calibration_shift_err`` (eV).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(reference=True, energy_offset=2.0, seed=0)
    >>> out = calibrate_energy(ds)
    >>> round(float(out.calibration_shift[0]), 2)
    -2.0
    """
    if "mu_ref" not in ds.data_vars:
        raise DataError(
            "no reference channel 'mu_ref' to calibrate on",
            file=ds.attrs.get("source_file"),
        )
    cal = calibration_arrays(
        ds.energy.values,
        ds.mu_ref.values,
        edge_energy=edge_energy,
        search=search,
        window=window,
        convention=convention,
    )
    out = shift_energy(ds, cal.shift)
    attrs = {
        "method": FOIL_EDGE_METHODS[convention],
        "edge_energy_ev": cal.edge_energy,
        "foil_smoothing_ev": float(window),
    }
    out["calibration_shift"] = (
        "scan",
        cal.shift,
        {"units": "eV", "long_name": "energy calibration shift", **attrs},
    )
    out["calibration_shift_err"] = (
        "scan",
        cal.shift_err,
        {
            "units": "eV",
            "long_name": "calibration shift statistical uncertainty (1 sigma)",
            **attrs,
        },
    )
    return out


def shift_energy(ds: xr.Dataset, shift: np.ndarray) -> xr.Dataset:
    """Shift each scan's signals by ``shift`` eV (value at E becomes the value at E - shift).

    Examples
    --------
    >>> import spectro, numpy as np
    >>> ds = spectro.simulate.xanes(seed=0)
    >>> out = shift_energy(ds, np.array([0.25]))
    >>> float(out.mu[0, 1]) == float(ds.mu[0, 0])
    True
    """
    e = ds.energy.values
    shift = np.asarray(shift, dtype=float)
    out = ds.copy()
    for name in ("mu", "mu_ref"):
        if name in ds.data_vars:
            x, y = _arrays.as_rows(e, ds[name].values)
            xs, ys, _ = _arrays.compact(x, y)
            q = e[None, :] - np.where(np.isfinite(shift), shift, 0.0)[:, None]
            out[name] = (
                ds[name].dims,
                _arrays.interp_rows(q, xs, ys),
                dict(ds[name].attrs),
            )
    return out


def align_arrays(
    energy: np.ndarray,
    mu: np.ndarray,
    reference: np.ndarray,
    *,
    max_shift: float = 5.0,
    step: float = 0.05,
    window: float = DERIVATIVE_WINDOW,
    fit_range: tuple[float, float] | None = None,
) -> np.ndarray:
    """Shift (eV) to add to each spectrum's energies to match ``reference``.

    Parameters
    ----------
    energy : ndarray, shape (n,)
        Common energy grid, eV.
    mu : ndarray, shape (..., n)
        Spectra to align (normalized or raw; derivatives are compared after
        scaling each to unit maximum).
    reference : ndarray, shape (n,)
        The spectrum to align to.
    max_shift, step : float, keyword-only
        Candidate shifts ``-max_shift ... max_shift`` in steps of ``step``, eV.
    window : float, keyword-only
        Derivative smoothing window, eV.
    fit_range : (float, float), optional
        Energy range compared, eV (default: all).

    Returns
    -------
    ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> e = np.arange(8300.0, 8400.0, 0.25)
    >>> ref = np.arctan((e - 8340) / 2)
    >>> float(np.round(align_arrays(e, np.arctan((e - 8341.3) / 2), ref), 2))
    -1.3
    """
    e = np.asarray(energy, dtype=float)
    d = derivative_arrays(e, mu, window=window).d1
    dref = derivative_arrays(e, reference, window=window).d1
    with _arrays.quiet():
        d = d / np.nanmax(np.abs(d), axis=-1, keepdims=True)
        dref = dref / np.nanmax(np.abs(dref))
    sel = (
        np.ones(e.shape, bool)
        if fit_range is None
        else (e >= fit_range[0]) & (e <= fit_range[1])
    )
    sel &= np.isfinite(dref)
    xs, ds_, _ = _arrays.compact(np.broadcast_to(e, d.shape), d)
    shifts = np.arange(-max_shift, max_shift + 0.5 * step, step)
    cost = np.empty(d.shape[:-1] + shifts.shape)
    with _arrays.quiet():
        for k, s in enumerate(shifts):
            moved = _arrays.interp_rows(e[sel] - s, xs, ds_)
            cost[..., k] = np.nanmean((moved - dref[sel]) ** 2, axis=-1)
    cost = np.where(np.isfinite(cost), cost, np.inf)
    k = np.clip(np.argmin(cost, axis=-1), 1, shifts.size - 2)
    c0 = np.take_along_axis(cost, (k - 1)[..., None], -1)[..., 0]
    c1 = np.take_along_axis(cost, k[..., None], -1)[..., 0]
    c2 = np.take_along_axis(cost, (k + 1)[..., None], -1)[..., 0]
    with np.errstate(all="ignore"):
        frac = 0.5 * (c0 - c2) / (c0 - 2 * c1 + c2)
    frac = np.where(np.isfinite(frac), np.clip(frac, -1, 1), 0.0)
    return shifts[k] + frac * step


def align(
    ds: xr.Dataset,
    *,
    to: int | str = 0,
    variable: str = "mu",
    max_shift: float = 5.0,
    step: float = 0.05,
    window: float = DERIVATIVE_WINDOW,
) -> xr.Dataset:
    """Align every scan to scan ``to`` by matching derivatives.

    Parameters
    ----------
    ds : xarray.Dataset
        XANES Dataset.
    to : int or str, keyword-only
        Position or label of the scan to align to.
    variable, max_shift, step, window
        As in :func:`align_arrays`.

    Returns
    -------
    xarray.Dataset
        A new Dataset with shifted signals and ``alignment_shift`` (eV).

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xanes(n_scans=2, energy_offset=[0.0, 1.0], seed=0)
    >>> [round(float(s), 1) + 0.0 for s in align(ds).alignment_shift]
    [0.0, -1.0]
    """
    ref = (
        ds[variable].isel(scan=to) if isinstance(to, int) else ds[variable].sel(scan=to)
    )
    shift = align_arrays(
        ds.energy.values,
        ds[variable].values,
        ref.values,
        max_shift=max_shift,
        step=step,
        window=window,
    )
    out = shift_energy(ds, shift)
    out["alignment_shift"] = (
        "scan",
        shift,
        {
            "units": "eV",
            "long_name": "alignment shift",
            "method": "derivative matching",
            "reference_scan": str(ref.scan.values),
        },
    )
    return out
