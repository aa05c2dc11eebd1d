"""Simulated Ni K-edge XANES with known ground truth.

The model is built as a *normalized* spectrum (edge jump 1, pre-edge 0) and
then dressed with a background, a scale, noise and glitches, like a measured
transmission scan::

    mu(E) = offset + scale * [ b * (E / E_ni)**-3  +  d(E) * n(E - dE) ] + noise

``n`` is the normalized model, ``b`` a Victoreen-like pre-edge background
(absorption of everything else in the beam, falling as E**-3), ``d(E)`` a
slow post-edge decay ``1 - POST_DECAY * (E - E_edge) / 100 eV`` (1 below
the edge) and ``dE``
the ``energy_offset`` (a miscalibration of the monochromator: every feature
appears ``energy_offset`` eV higher, in the sample and in the reference
channel alike). Per scan, ``scale`` is drawn from U(0.5, 3), ``offset``
from U(-1.5, 1.5) and ``b`` from U(0.1, 0.6) (seeded); the noise is
Gaussian with standard deviation ``noise * scale``.

The normalized model ``n`` is the sum of

* an edge step: an error function of FWHM
  ``sqrt(CORE_WIDTH**2 + RESOLUTION**2 + EDGE_SPREAD**2)`` (the Ni 1s
  core-hole width, :data:`CORE_WIDTH` = 1.44 eV from
  ``xraydb.core_width('Ni', 'K')``, the Si(111) resolution,
  :data:`RESOLUTION` = 1.1 eV, and the intrinsic spread of the unresolved
  1s->4p transitions, :data:`EDGE_SPREAD`), centred at
  ``E_edge = EDGE_NI2 + EV_PER_VALENCE * (valence - 2) + edge_shift``.
  The Lorentzian core hole is folded into the Gaussian width (rather than
  an arctangent step) so that the step reaches exactly 1 a few eV above the
  edge: an arctangent approaches 1 as ``0.23 eV / (E - E_edge)``, which
  makes "the jump" depend on the post-edge window at the 1 % level and the
  true 0.8 crossing ill-defined;
* a white line: a Voigt peak of height :data:`WHITE_LINE_HEIGHT` at
  ``E_edge + WHITE_LINE_OFFSET``;
* post-edge oscillations, ``OSC_AMP * sin(2 k R + phase) * exp(-2 s2 k**2)``
  with ``k = sqrt(0.2625 * (E - E_edge))`` (1/Angstrom), switched on smoothly
  above the white line; they dip below 0.8 of the jump about 20 eV above
  the edge, so the 0.8 level is crossed again after the edge;
* the pre-edge peak (1s->3d), a Voigt peak of height
  :data:`PREEDGE_HEIGHT` centred at
  ``PREEDGE_NI2 + PREEDGE_EV_PER_VALENCE * (valence - 2) + preedge_shift``;
* the feature "C", a Voigt peak of height ``feature_c`` at
  ``E_edge + FEATURE_C_OFFSET`` (8358 eV for valence 2 and no shift).

Peaks are broadened by the core hole (Lorentzian) and the resolution
(Gaussian) and scaled so that each contributes exactly its nominal height
at its centre.

The reference channel ``mu_ref`` is a Ni-foil-like edge: an error-function
step with a broad shoulder 15 eV above it, placed so that the maximum of
its first derivative, the foil convention for E0, is at
``FOIL_E0 + energy_offset`` (``FOIL_E0`` = 8333.0 eV, the tabulated Ni K
edge, ``xraydb.xray_edge('Ni', 'K').energy``).

Ground truth is stored as per-scan coordinates:

``true_e0``
    the first upward crossing of 0.8 of the noise-free normalized model
    ``n(E - energy_offset)`` on the rising edge, in the energy scale of the
    returned Dataset (so it includes ``energy_offset``), found by bisection
    to 1e-9 eV;
``true_valence``, ``true_edge_shift``, ``true_feature_c``,
``true_energy_offset``
    the inputs;
``true_preedge_centroid``
    the centre of the pre-edge peak, including ``energy_offset``.

With ``glitches > 0`` a boolean variable ``true_glitch(scan, energy)``
marks the spiked points.

Systematics (keyword-only, off by default, drawn from a generator of their
own so the default draws are unchanged): ``model="mixture"`` (the weighted
sum of the end members :data:`NIO_LIKE` and :data:`LANIO3_LIKE`, of
different edge width, white line and pre-edge; ``true_mixture``, and
``true_e0`` the 0.8 crossing of the mixture), ``self_absorption``
(``n -> n (1 + a) / (1 + a n)``; ``true_e0_measured``), ``drift`` (a random
cubic or random walk added to ``mu``; ``true_drift``), ``noise_color``
(white, AR(1) of lag-1 autocorrelation ``noise_corr``, or 1/f),
``counting`` (noise growing as the square root of the signal) and ``foil``
(:data:`FOIL_MODELS`: a Ni foil with its four derivative maxima, or an
ambiguous one). See ``docs/simulate.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xarray as xr
import xraydb
from scipy.signal import lfilter
from scipy.special import erf, voigt_profile

from ..errors import DataError
from ..model import Scan, build
from ..xanes._derivative import DERIVATIVE_WINDOW
from ..xanes.edge import e0_derivative_arrays
from ..xanes.energy_calibration import FIRST_PEAK

__all__ = [
    "CORE_WIDTH",
    "EDGE_NI2",
    "EV_PER_VALENCE",
    "FOIL_E0",
    "RESOLUTION",
    "xanes",
]

#: Ni K-shell core-hole width, eV (Lorentzian FWHM).
CORE_WIDTH: float = float(xraydb.core_width("Ni", "K"))
#: Si(111) monochromator resolution at 8.3 keV, eV (Gaussian FWHM).
RESOLUTION: float = 1.1
#: Intrinsic Gaussian spread of the rising edge, eV (FWHM).
EDGE_SPREAD: float = 3.0
#: Centre of the edge step of a NiO-like Ni2+ compound (valence 2), eV.
EDGE_NI2: float = 8341.5
#: Edge shift per unit of Ni valence, eV.
EV_PER_VALENCE: float = 2.0
#: White-line height (normalized units) and offset above the edge centre, eV.
WHITE_LINE_HEIGHT: float = 0.55
WHITE_LINE_OFFSET: float = 6.5
WHITE_LINE_FWHM: float = 6.0
#: Pre-edge (1s->3d) peak centre for Ni2+, eV; shift per valence unit, eV.
PREEDGE_NI2: float = 8333.0
PREEDGE_EV_PER_VALENCE: float = 0.7
PREEDGE_HEIGHT: float = 0.04
PREEDGE_FWHM: float = 1.5
#: Feature C offset above the edge centre (8358 eV at valence 2), eV.
FEATURE_C_OFFSET: float = 8358.0 - EDGE_NI2
FEATURE_C_FWHM: float = 5.0
#: Post-edge oscillations: amplitude, half path length R (Angstrom),
#: phase (rad), mean-square disorder s2 (Angstrom**2).
OSC_AMP: float = 2.2
OSC_R: float = 2.08
OSC_PHASE: float = 1.0
OSC_S2: float = 0.2
#: Relative post-edge decay per 100 eV above the edge.
POST_DECAY: float = 0.02
#: Tabulated Ni K edge, eV: where the foil's derivative maximum is placed.
FOIL_E0: float = float(xraydb.xray_edge("Ni", "K").energy)
#: Level of the edge position reported as ``true_e0``.
E0_LEVEL: float = 0.8

_KCONST = 0.2624682917  # 2 m_e / hbar**2 in 1/(eV Angstrom**2)
_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def _gauss_sigma(*fwhms: float) -> float:
    return float(np.sqrt(sum(f * f for f in fwhms)) * _FWHM_TO_SIGMA)


def _step(x: np.ndarray, sigma: float) -> np.ndarray:
    """Error-function edge step of Gaussian standard deviation ``sigma``."""
    return 0.5 * (1.0 + erf(x / (np.sqrt(2.0) * sigma)))


def _peak(x: np.ndarray, sigma: float, gamma: float) -> np.ndarray:
    """Voigt profile of unit height at x = 0."""
    return voigt_profile(x, sigma, gamma) / voigt_profile(0.0, sigma, gamma)


@dataclass(frozen=True)
class EndMember:
    """The normalized-model parameters of one end member (energies in eV, heights in units of the jump)."""

    name: str
    valence: float
    edge: float
    edge_spread: float
    white_line_height: float
    white_line_offset: float
    white_line_fwhm: float
    preedge: float
    preedge_height: float
    osc_amp: float
    osc_r: float
    osc_phase: float


#: The Ni2+ end member: the rigid model at valence 2 (every constant above).
NIO_LIKE = EndMember("NiO-like Ni2+", 2.0, EDGE_NI2, EDGE_SPREAD, WHITE_LINE_HEIGHT, WHITE_LINE_OFFSET,
                     WHITE_LINE_FWHM, PREEDGE_NI2, PREEDGE_HEIGHT, OSC_AMP, OSC_R, OSC_PHASE)
#: The Ni3+ end member: edge 2 eV higher and broader (FWHM 4.5 eV), lower and broader white line
#: (0.30 at 8 eV, FWHM 9 eV), pre-edge 0.7 eV higher and stronger (0.06), shorter Ni-O (1.93 Angstrom),
#: weaker oscillations; the shapes of LaNiO3 against NiO, in a model.
LANIO3_LIKE = EndMember("LaNiO3-like Ni3+", 3.0, EDGE_NI2 + EV_PER_VALENCE, 4.5, 0.30, 8.0, 9.0,
                        PREEDGE_NI2 + PREEDGE_EV_PER_VALENCE, 0.06, 1.6, 1.93, OSC_PHASE)


def _shape(energy, e_edge, e_pre, feature_c, m: EndMember):
    """Noise-free normalized model of end member ``m`` with its edge at ``e_edge`` and pre-edge at ``e_pre``."""
    gamma = CORE_WIDTH / 2.0
    rel = energy - e_edge
    step = _step(rel, _gauss_sigma(CORE_WIDTH, RESOLUTION, m.edge_spread))
    white = m.white_line_height * _peak(
        rel - m.white_line_offset, _gauss_sigma(RESOLUTION, m.white_line_fwhm), gamma
    )
    pre = m.preedge_height * _peak(
        energy - e_pre, _gauss_sigma(RESOLUTION, PREEDGE_FWHM), gamma
    )
    feat = feature_c * _peak(
        rel - FEATURE_C_OFFSET, _gauss_sigma(RESOLUTION, FEATURE_C_FWHM), gamma
    )
    k = np.sqrt(_KCONST * np.clip(rel, 0.0, None))
    onset = 0.5 * (1.0 + np.tanh((rel - 12.0) / 3.0))
    osc = (
        m.osc_amp
        * onset
        * np.sin(2.0 * k * m.osc_r + m.osc_phase)
        * np.exp(-2.0 * OSC_S2 * k * k)
    )
    return step + white + pre + feat + osc


def _normalized(energy, e_edge, e_pre, feature_c):
    """Noise-free normalized model n(E) of the rigid model; parameters broadcast against energy."""
    return _shape(energy, e_edge, e_pre, feature_c, NIO_LIKE)


def _mixture(energy, fraction, shift, pshift, feature_c):
    """Normalized model of a mixture: ``1 - fraction`` of :data:`NIO_LIKE` and ``fraction`` of :data:`LANIO3_LIKE`.

    Both end members are moved by the structural ``shift`` (pre-edge by
    ``pshift``) and carry feature C of height ``feature_c`` above their edge.
    """
    a, b = NIO_LIKE, LANIO3_LIKE
    return (1.0 - fraction) * _shape(energy, a.edge + shift, a.preedge + pshift, feature_c, a) + fraction * _shape(
        energy, b.edge + shift, b.preedge + pshift, feature_c, b
    )


def _damped(n, a):
    """Thickness/self-absorption damping ``n (1 + a) / (1 + a n)`` of a normalized spectrum (``a = 0``: none)."""
    return n * (1.0 + a) / (1.0 + a * n)


_FOIL_SHOULDER = (0.35, 15.0, 8.0)  # height, offset (eV), FWHM (eV)


def _foil_shape(rel: np.ndarray) -> np.ndarray:
    gamma = CORE_WIDTH / 2.0
    height, offset, fwhm = _FOIL_SHOULDER
    step = _step(rel, _gauss_sigma(CORE_WIDTH, RESOLUTION))
    shoulder = height * _peak(rel - offset, _gauss_sigma(RESOLUTION, fwhm), gamma)
    return step + shoulder


#: Components of the realistic foils: (centre relative to the first, eV; FWHM, eV; height of its
#: derivative peak relative to the first). "ni" follows measured Ni foils (derivative maxima at 0, +6,
#: +12 and +23 eV of relative heights 1, 0.43, 0.86-0.95 and 0.31, and a normalized maximum near 1.2
#: at +25 eV); "ambiguous" has three maxima of similar height (0.62, 0.80 and 1).
FOIL_MODELS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "ni": ((0.0, 2.6, 1.0), (6.0, 3.0, 0.40), (12.3, 4.0, 0.95), (23.0, 4.0, 0.30), (32.0, 6.0, -0.24)),
    "ambiguous": ((-5.0, 2.6, 0.62), (0.0, 2.6, 0.80), (6.0, 3.0, 0.35), (12.3, 4.0, 1.0), (23.0, 4.0, 0.30),
                  (32.0, 6.0, -0.24)),
}


def _foil_model(rel: np.ndarray, kind: str) -> np.ndarray:
    """Normalized foil of ``kind``: a sum of error-function steps (Gaussian derivative peaks), jump 1."""
    if kind == "simple":
        return _foil_shape(rel)
    parts = FOIL_MODELS[kind]
    amps = [h * _gauss_sigma(f) * np.sqrt(2.0 * np.pi) for _, f, h in parts]
    out = sum(a * _step(rel - c, _gauss_sigma(f)) for a, (c, f, _) in zip(amps, parts))
    return out / sum(amps)


@lru_cache(maxsize=4)
def _foil_center_offset(kind: str = "simple") -> float:
    """Offset of the foil's origin that puts its first derivative maximum (the calibration convention) at 0.

    For the realistic foils, the first local maximum of the derivative
    smoothed over the default 1.5 eV reaching ``FIRST_PEAK`` (0.7) of the
    largest, as :func:`spectro.xanes.calibration_arrays` takes it (on a
    0.05 eV grid): the reference foil's edge is defined the same way.
    """
    if kind == "simple":
        x = np.linspace(-3.0, 3.0, 600001)
        d = np.gradient(_foil_shape(x), x)
        return -float(x[np.argmax(d)])
    x = np.arange(-25.0, 25.0, 0.05)
    pos = e0_derivative_arrays(x, _foil_model(x, kind), window=DERIVATIVE_WINDOW, first=FIRST_PEAK, sigma=0.0)
    return -float(pos.e0)


def _first_crossing(f, start, fine, level: float) -> np.ndarray:
    """First upward crossing of ``level`` by ``f`` (rows of energies -> values) on ``start + fine``, bisected."""
    grid = start[:, None] + fine
    vals = f(grid)
    above = vals >= level
    up = ~above[:, :-1] & above[:, 1:]
    if not np.all(up.any(axis=1)):
        raise DataError(
            f"the model never reaches {level} of the jump below the white line"
        )
    i = np.argmax(up, axis=1)
    rows = np.arange(grid.shape[0])
    lo, hi = grid[rows, i], grid[rows, i + 1]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        vm = f(mid[:, None])[:, 0]
        below = vm < level
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _true_crossing(e_edge, e_pre, feature_c, level: float, step: float = 0.01) -> np.ndarray:
    """First upward crossing of ``level`` below the white-line maximum (bracketed on a ``step`` eV grid)."""
    fine = np.arange(-30.0, WHITE_LINE_OFFSET + step / 2, step)
    return _first_crossing(
        lambda grid: _normalized(grid, e_edge[:, None], e_pre[:, None], feature_c[:, None]), e_edge, fine, level
    )


def _noise(eps: np.ndarray, color: str, corr: float) -> np.ndarray:
    """Unit-variance noise of ``color`` made from the standard normal draws ``eps`` (white: ``eps`` itself)."""
    if color == "white":
        return eps
    if color == "ar1":
        c = np.sqrt(1.0 - corr * corr)
        out = np.empty_like(eps)
        out[..., 0] = eps[..., 0]
        out[..., 1:] = lfilter([c], [1.0, -corr], eps[..., 1:], axis=-1, zi=corr * eps[..., :1])[0]
        return out
    spec = np.fft.rfft(eps, axis=-1)
    f = np.fft.rfftfreq(eps.shape[-1])
    spec *= np.where(f > 0, 1.0 / np.sqrt(np.where(f > 0, f, 1.0)), 0.0)
    out = np.fft.irfft(spec, n=eps.shape[-1], axis=-1)
    return out / out.std(axis=-1, keepdims=True)


def _drift(rng, shape: tuple[int, int], kind: str) -> np.ndarray:
    """Slow drift curves of unit RMS: a random cubic (Legendre) or a random walk, per row."""
    n = shape[-1]
    if kind == "polynomial":
        x = np.linspace(-1.0, 1.0, n)
        coef = rng.standard_normal((shape[0], 4))
        curve = np.polynomial.legendre.legval(x, coef.T).reshape(shape)
    else:
        curve = np.cumsum(rng.standard_normal(shape), axis=-1)
    return curve / np.sqrt(np.mean(curve * curve, axis=-1, keepdims=True))


def _per_scan(name: str, value, n_scans: int, dtype=float) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n_scans, arr, dtype=dtype)
    if arr.shape != (n_scans,):
        raise DataError(
            f"{name} must be a scalar or have length n_scans={n_scans}, got shape {arr.shape}"
        )
    return arr


_CHOICES = {
    "model": ("rigid", "mixture"),
    "drift_kind": ("polynomial", "walk"),
    "noise_color": ("white", "ar1", "pink"),
    "foil": ("simple", "ni", "ambiguous"),
}


def xanes(
    *,
    valence=2.0,
    edge_shift=0.0,
    preedge_shift=0.0,
    feature_c=0.0,
    energy: np.ndarray | None = None,
    n_scans: int = 1,
    noise: float = 0.0,
    energy_offset=0.0,
    reference: bool = False,
    glitches: int = 0,
    pressure=np.nan,
    temperature=np.nan,
    run: str = "",
    sample: str = "",
    seed: int = 0,
    model: str = "rigid",
    self_absorption=0.0,
    drift: float = 0.0,
    drift_kind: str = "polynomial",
    noise_color: str = "white",
    noise_corr: float = 0.0,
    counting: float = 0.0,
    foil: str = "simple",
) -> xr.Dataset:
    """Simulate Ni K-edge XANES scans with known edge, pre-edge and feature C.

    Parameters
    ----------
    valence : float or array of shape (n_scans,)
        Ni valence; moves the edge by :data:`EV_PER_VALENCE` eV per unit
        (valence 2 is NiO-like) and the pre-edge by 0.7 eV per unit. With
        ``model="mixture"``: between 2 and 3, the fraction ``valence - 2``
        of the Ni3+ end member.
    edge_shift : float or array
        Additional structural shift of the edge (and feature C), eV.
    preedge_shift : float or array
        Additional shift of the pre-edge peak, eV.
    feature_c : float or array
        Height of feature C (normalized units, added at its centre).
    energy : ndarray, optional
        Energy grid, eV, strictly increasing. Default 8200-8700 eV in
        0.25 eV steps.
    n_scans : int
        Number of scans.
    noise : float
        Gaussian noise, standard deviation relative to the edge step.
    energy_offset : float or array
        Monochromator miscalibration, eV: every feature of ``mu`` and
        ``mu_ref`` appears this much higher.
    reference : bool
        Add a Ni-foil reference channel ``mu_ref`` (derivative maximum at
        8333.0 eV + ``energy_offset``), with the same relative noise.
    glitches : int
        Number of spikes per scan (5 to 20 times the noise, at least 0.2
        of the step, either sign) at random energies 8320-8600 eV; marked in
        ``true_glitch``.
    pressure, temperature : float or array
        Stored as the ``pressure`` (GPa) and ``temperature`` (K) coordinates.
    run, sample : str
        Stored as coordinates.
    seed : int
        Seed of the random generator (scale, offset, background, noise,
        glitches).
    model : {"rigid", "mixture"}, keyword-only
        ``"rigid"``: one edge shape moved with the valence (the default).
        ``"mixture"``: the weighted sum of the end members :data:`NIO_LIKE`
        and :data:`LANIO3_LIKE` (different edge width, white line,
        pre-edge), weights ``3 - valence`` and ``valence - 2``; stored in
        ``true_mixture``.
    self_absorption : float or array, keyword-only
        Damping ``a >= 0`` of the normalized spectrum (thickness or
        fluorescence self-absorption), ``n -> n (1 + a) / (1 + a n)``: the
        white line flattens, the rising edge moves down. ``true_e0`` stays
        that of the undamped sample; ``true_e0_measured`` is that of the
        damped spectrum. 0: none.
    drift : float, keyword-only
        RMS of a slow drift added to ``mu`` (an I0 gain drifting during the
        scan), relative to the edge step; stored in ``true_drift``. 0: none.
    drift_kind : {"polynomial", "walk"}, keyword-only
        A random cubic (Legendre coefficients drawn from N(0, 1)) or a
        random walk over the scan's points, each scaled to RMS 1.
    noise_color : {"white", "ar1", "pink"}, keyword-only
        The noise: white (the default), AR(1) with lag-1 autocorrelation
        ``noise_corr``, or 1/f; always of standard deviation ``noise``
        (relative to the step), made from the same draws.
    noise_corr : float, keyword-only
        Lag-1 autocorrelation of the AR(1) noise, in [0, 1).
    counting : float, keyword-only
        Poisson-like noise added on top: standard deviation
        ``counting * sqrt(max(n, 0))`` (relative to the step) at a point of
        normalized absorption ``n``. 0: none.
    foil : {"simple", "ni", "ambiguous"}, keyword-only
        Shape of ``mu_ref``: today's step with a shoulder (``"simple"``), a
        Ni foil with its four derivative maxima (``"ni"``,
        :data:`FOIL_MODELS`), or a foil whose derivative has three maxima of
        similar height (``"ambiguous"``). Its first derivative maximum
        reaching 0.7 of the largest is at 8333.0 eV + ``energy_offset``.

    Returns
    -------
    xarray.Dataset
        A XANES model Dataset with ``mu`` (and ``mu_ref``) and the truth
        coordinates ``true_e0``, ``true_valence``,
        ``true_preedge_centroid``, ``true_edge_shift``, ``true_feature_c``,
        ``true_energy_offset`` (with ``model="mixture"`` also
        ``true_mixture``; with ``self_absorption`` also
        ``true_self_absorption`` and ``true_e0_measured``; with ``drift``
        the variable ``true_drift``); the settings of the systematics in
        ``simulation_*`` attrs when they are used.

    Examples
    --------
    >>> from spectro.simulate import xanes
    >>> ds = xanes(valence=[2.0, 3.0], n_scans=2, seed=1)
    >>> ds.mu.shape
    (2, 2001)
    >>> round(float(ds.true_e0[1] - ds.true_e0[0]), 2)
    2.0
    >>> mix = xanes(valence=2.5, model="mixture", noise=0.002, noise_color="ar1", noise_corr=0.8, seed=1)
    >>> float(mix.true_mixture[0]), float(mix.true_valence[0])
    (0.5, 2.5)
    """
    if n_scans < 1:
        raise DataError(f"n_scans must be >= 1, got {n_scans}")
    if noise < 0 or glitches < 0 or drift < 0 or counting < 0:
        raise DataError("noise, glitches, drift and counting must be >= 0")
    for name, value in (("model", model), ("drift_kind", drift_kind), ("noise_color", noise_color), ("foil", foil)):
        if value not in _CHOICES[name]:
            raise DataError(f"{name}={value!r}: one of {', '.join(_CHOICES[name])}")
    if not 0.0 <= noise_corr < 1.0:
        raise DataError(f"noise_corr must be in [0, 1), got {noise_corr}")
    e = (
        np.arange(8200.0, 8700.0 + 0.125, 0.25)
        if energy is None
        else np.asarray(energy, float)
    )
    if e.ndim != 1 or e.size < 5 or not np.all(np.diff(e) > 0):
        raise DataError(
            "energy must be a strictly increasing 1-D array of at least 5 points"
        )
    val = _per_scan("valence", valence, n_scans)
    shift = _per_scan("edge_shift", edge_shift, n_scans)
    pshift = _per_scan("preedge_shift", preedge_shift, n_scans)
    fc = _per_scan("feature_c", feature_c, n_scans)
    off = _per_scan("energy_offset", energy_offset, n_scans)
    pres = _per_scan("pressure", pressure, n_scans)
    temp = _per_scan("temperature", temperature, n_scans)
    damp = _per_scan("self_absorption", self_absorption, n_scans)
    if np.any(damp < 0):
        raise DataError("self_absorption must be >= 0")
    if model == "mixture" and not np.all((val >= 2.0) & (val <= 3.0)):
        raise DataError(f"model='mixture' takes valences between 2 and 3 (end members), got {val.tolist()}")

    rng = np.random.default_rng(seed)
    # the systematics draw from their own generator, so the default draws stay as they were
    extra = np.random.default_rng([seed, 1])
    e_edge = EDGE_NI2 + EV_PER_VALENCE * (val - 2.0) + shift
    e_pre = PREEDGE_NI2 + PREEDGE_EV_PER_VALENCE * (val - 2.0) + pshift
    scale = rng.uniform(0.5, 3.0, n_scans)
    offset = rng.uniform(-1.5, 1.5, n_scans)
    vict = rng.uniform(0.1, 0.6, n_scans)

    def dress(shape, centre, scl, ofs, vic):
        decay = 1.0 - POST_DECAY * np.clip(e - centre[:, None], 0.0, None) / 100.0
        body = vic[:, None] * (e / FOIL_E0) ** -3 + decay * shape
        clean = ofs[:, None] + scl[:, None] * body
        out = clean + noise * scl[:, None] * _noise(rng.standard_normal(clean.shape), noise_color, noise_corr)
        if counting:
            out = out + counting * scl[:, None] * np.sqrt(np.clip(shape, 0.0, None)) * extra.standard_normal(
                clean.shape)
        return out

    shifted = e[None, :] - off[:, None]
    frac = val - 2.0
    if model == "mixture":
        def sample_model(grid, rows=slice(None)):
            return _mixture(grid, frac[rows, None], shift[rows, None], pshift[rows, None], fc[rows, None])
    else:
        def sample_model(grid, rows=slice(None)):
            return _normalized(grid, e_edge[rows, None], e_pre[rows, None], fc[rows, None])
    clean_norm = sample_model(shifted)
    norm = clean_norm if not np.any(damp) else _damped(clean_norm, damp[:, None])
    mu = dress(norm, e_edge + off, scale, offset, vict)
    drift_curve = None
    if drift:
        drift_curve = drift * scale[:, None] * _drift(extra, mu.shape, drift_kind)
        mu = mu + drift_curve
    glitch_mask = np.zeros(mu.shape, bool)
    if glitches:
        window = np.flatnonzero((e >= 8320.0) & (e <= 8600.0))
        if window.size == 0:
            window = np.arange(e.size)
        idx = rng.choice(window, size=(n_scans, glitches))
        amp = np.maximum(rng.uniform(5.0, 20.0, idx.shape) * noise, 0.2)
        sign = rng.choice([-1.0, 1.0], size=idx.shape)
        rows = np.repeat(np.arange(n_scans), glitches)
        np.add.at(mu, (rows, idx.ravel()), (sign * amp * scale[:, None]).ravel())
        glitch_mask[rows, idx.ravel()] = True

    signals = {"mu": mu}
    if reference:
        foil_centre = FOIL_E0 + _foil_center_offset(foil) + off
        ref_scale = rng.uniform(0.3, 1.5, n_scans)
        ref_offset = rng.uniform(-1.5, 0.5, n_scans)
        ref_vict = rng.uniform(0.05, 0.3, n_scans)
        shape = _foil_model(e[None, :] - foil_centre[:, None], foil)
        signals["mu_ref"] = dress(shape, foil_centre, ref_scale, ref_offset, ref_vict)

    if model == "mixture":
        a, b = NIO_LIKE, LANIO3_LIKE
        start = a.edge + shift
        fine = np.arange(-30.0, b.edge - a.edge + b.white_line_offset + 0.005, 0.01)
        areas = (1.0 - frac) * a.preedge_height, frac * b.preedge_height
        pre_centroid = (areas[0] * (a.preedge + pshift) + areas[1] * (b.preedge + pshift)) / (areas[0] + areas[1])
    else:
        start = e_edge
        fine = np.arange(-30.0, WHITE_LINE_OFFSET + 0.01 / 2, 0.01)
        pre_centroid = e_pre
    rows_all = np.arange(n_scans)
    true_e0 = _first_crossing(lambda grid: sample_model(grid, rows_all), start, fine, E0_LEVEL) + off
    scans = [
        Scan(
            e,
            {k: v[i] for k, v in signals.items()},
            f"sim{i:04d}",
            coords={
                "pressure": pres[i],
                "temperature": temp[i],
                "run": run,
                "sample": sample,
                "source": "spectro.simulate.xanes",
            },
        )
        for i in range(n_scans)
    ]
    attrs = {
        "simulation": "spectro.simulate.xanes",
        "simulation_seed": int(seed),
        "simulation_noise": float(noise),
        "simulation_glitches": int(glitches),
        "core_width_ev": CORE_WIDTH,
        "resolution_ev": RESOLUTION,
        "edge_ni2_ev": EDGE_NI2,
        "ev_per_valence": EV_PER_VALENCE,
        "foil_e0_ev": FOIL_E0,
    }
    used = {
        "simulation_model": (model, "rigid"),
        "simulation_drift": (float(drift), 0.0),
        "simulation_drift_kind": (drift_kind if drift else "polynomial", "polynomial"),
        "simulation_noise_color": (noise_color, "white"),
        "simulation_noise_corr": (float(noise_corr), 0.0),
        "simulation_counting": (float(counting), 0.0),
        "simulation_foil": (foil if reference else "simple", "simple"),
    }
    attrs.update({k: v for k, (v, default) in used.items() if v != default})
    ds = build(scans, kind="xanes", attrs=attrs)
    truth = {
        "true_e0": (true_e0, "eV", "true edge position (0.8 of the normalized jump)"),
        "true_valence": (val, "1", "true Ni valence"),
        "true_preedge_centroid": (pre_centroid + off, "eV", "true pre-edge peak centroid"),
        "true_edge_shift": (shift, "eV", "true structural edge shift"),
        "true_feature_c": (fc, "1", "true feature C height (normalized)"),
        "true_energy_offset": (off, "eV", "true energy miscalibration"),
    }
    if model == "mixture":
        truth["true_mixture"] = (frac, "1", "true fraction of the Ni3+ (LaNiO3-like) end member")
    if np.any(damp):
        measured = _first_crossing(lambda grid: _damped(sample_model(grid, rows_all), damp[:, None]), start, fine,
                                   E0_LEVEL) + off
        truth["true_self_absorption"] = (damp, "1", "true thickness/self-absorption damping a")
        truth["true_e0_measured"] = (measured, "eV", "true edge position of the damped spectrum (0.8 crossing)")
    ds = ds.assign_coords(
        {
            k: ("scan", v, {"units": u, "long_name": ln})
            for k, (v, u, ln) in truth.items()
        }
    )
    if glitches:
        ds["true_glitch"] = (
            ("scan", "energy"),
            glitch_mask,
            {"units": "", "long_name": "true glitch mask"},
        )
    if drift_curve is not None:
        ds["true_drift"] = (
            ("scan", "energy"),
            drift_curve,
            {"units": "1", "long_name": "true drift added to mu (units of mu)"},
        )
    return ds
