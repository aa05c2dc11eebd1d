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
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import xarray as xr
import xraydb
from scipy.special import erf, voigt_profile

from ..errors import DataError
from ..model import Scan, build

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


def _normalized(energy, e_edge, e_pre, feature_c):
    """Noise-free normalized model n(E); parameters broadcast against energy."""
    gamma = CORE_WIDTH / 2.0
    rel = energy - e_edge
    step = _step(rel, _gauss_sigma(CORE_WIDTH, RESOLUTION, EDGE_SPREAD))
    white = WHITE_LINE_HEIGHT * _peak(
        rel - WHITE_LINE_OFFSET, _gauss_sigma(RESOLUTION, WHITE_LINE_FWHM), gamma
    )
    pre = PREEDGE_HEIGHT * _peak(
        energy - e_pre, _gauss_sigma(RESOLUTION, PREEDGE_FWHM), gamma
    )
    feat = feature_c * _peak(
        rel - FEATURE_C_OFFSET, _gauss_sigma(RESOLUTION, FEATURE_C_FWHM), gamma
    )
    k = np.sqrt(_KCONST * np.clip(rel, 0.0, None))
    onset = 0.5 * (1.0 + np.tanh((rel - 12.0) / 3.0))
    osc = (
        OSC_AMP
        * onset
        * np.sin(2.0 * k * OSC_R + OSC_PHASE)
        * np.exp(-2.0 * OSC_S2 * k * k)
    )
    return step + white + pre + feat + osc


_FOIL_SHOULDER = (0.35, 15.0, 8.0)  # height, offset (eV), FWHM (eV)


def _foil_shape(rel: np.ndarray) -> np.ndarray:
    gamma = CORE_WIDTH / 2.0
    height, offset, fwhm = _FOIL_SHOULDER
    step = _step(rel, _gauss_sigma(CORE_WIDTH, RESOLUTION))
    shoulder = height * _peak(rel - offset, _gauss_sigma(RESOLUTION, fwhm), gamma)
    return step + shoulder


@lru_cache(maxsize=1)
def _foil_center_offset() -> float:
    """Offset of the foil step centre that puts its derivative maximum at 0."""
    x = np.linspace(-3.0, 3.0, 600001)
    d = np.gradient(_foil_shape(x), x)
    return -float(x[np.argmax(d)])


def _true_crossing(e_edge, e_pre, feature_c, level: float, step: float = 0.01) -> np.ndarray:
    """First upward crossing of ``level`` below the white-line maximum (bracketed on a ``step`` eV grid)."""
    fine = np.arange(-30.0, WHITE_LINE_OFFSET + step / 2, step)
    grid = e_edge[:, None] + fine
    vals = _normalized(grid, e_edge[:, None], e_pre[:, None], feature_c[:, None])
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
        vm = _normalized(mid, e_edge, e_pre, feature_c)
        below = vm < level
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def _per_scan(name: str, value, n_scans: int, dtype=float) -> np.ndarray:
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(n_scans, arr, dtype=dtype)
    if arr.shape != (n_scans,):
        raise DataError(
            f"{name} must be a scalar or have length n_scans={n_scans}, got shape {arr.shape}"
        )
    return arr


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
) -> xr.Dataset:
    """Simulate Ni K-edge XANES scans with known edge, pre-edge and feature C.

    Parameters
    ----------
    valence : float or array of shape (n_scans,)
        Ni valence; moves the edge by :data:`EV_PER_VALENCE` eV per unit
        (valence 2 is NiO-like) and the pre-edge by 0.7 eV per unit.
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

    Returns
    -------
    xarray.Dataset
        A XANES model Dataset with ``mu`` (and ``mu_ref``) and the truth
        coordinates ``true_e0``, ``true_valence``,
        ``true_preedge_centroid``, ``true_edge_shift``, ``true_feature_c``,
        ``true_energy_offset``.

    Examples
    --------
    >>> from spectro.simulate import xanes
    >>> ds = xanes(valence=[2.0, 3.0], n_scans=2, seed=1)
    >>> ds.mu.shape
    (2, 2001)
    >>> round(float(ds.true_e0[1] - ds.true_e0[0]), 2)
    2.0
    """
    if n_scans < 1:
        raise DataError(f"n_scans must be >= 1, got {n_scans}")
    if noise < 0 or glitches < 0:
        raise DataError("noise and glitches must be >= 0")
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

    rng = np.random.default_rng(seed)
    e_edge = EDGE_NI2 + EV_PER_VALENCE * (val - 2.0) + shift
    e_pre = PREEDGE_NI2 + PREEDGE_EV_PER_VALENCE * (val - 2.0) + pshift
    scale = rng.uniform(0.5, 3.0, n_scans)
    offset = rng.uniform(-1.5, 1.5, n_scans)
    vict = rng.uniform(0.1, 0.6, n_scans)

    def dress(shape, centre, scl, ofs, vic):
        decay = 1.0 - POST_DECAY * np.clip(e - centre[:, None], 0.0, None) / 100.0
        body = vic[:, None] * (e / FOIL_E0) ** -3 + decay * shape
        clean = ofs[:, None] + scl[:, None] * body
        return clean + noise * scl[:, None] * rng.standard_normal(clean.shape)

    shifted = e[None, :] - off[:, None]
    norm = _normalized(shifted, e_edge[:, None], e_pre[:, None], fc[:, None])
    mu = dress(norm, e_edge + off, scale, offset, vict)
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
        foil_centre = FOIL_E0 + _foil_center_offset() + off
        ref_scale = rng.uniform(0.3, 1.5, n_scans)
        ref_offset = rng.uniform(-1.5, 0.5, n_scans)
        ref_vict = rng.uniform(0.05, 0.3, n_scans)
        foil = _foil_shape(e[None, :] - foil_centre[:, None])
        signals["mu_ref"] = dress(foil, foil_centre, ref_scale, ref_offset, ref_vict)

    true_e0 = _true_crossing(e_edge, e_pre, fc, E0_LEVEL) + off
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
    ds = build(scans, kind="xanes", attrs=attrs)
    truth = {
        "true_e0": (true_e0, "eV", "true edge position (0.8 of the normalized jump)"),
        "true_valence": (val, "1", "true Ni valence"),
        "true_preedge_centroid": (e_pre + off, "eV", "true pre-edge peak centroid"),
        "true_edge_shift": (shift, "eV", "true structural edge shift"),
        "true_feature_c": (fc, "1", "true feature C height (normalized)"),
        "true_energy_offset": (off, "eV", "true energy miscalibration"),
    }
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
    return ds
