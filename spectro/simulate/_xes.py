"""Simulated Kbeta emission spectra (Kbeta', Kbeta1,3, Kbeta'', Kbeta2,5) with known truth.

Each spin state is a sum of pseudo-Voigt lines (:func:`lmfit.lineshapes.pvoigt`,
FWHM = 2 sigma). Line energies are placed relative to the tabulated Kbeta1,3
(``E13``, intensity-weighted Kb1/Kb3) and Kb5 (``E5``) of the element
(xraydb). The shapes below are *chosen* to look like NiO (high spin, S = 1)
and LaNiO3 (low spin, S = 1/2); they are plausible, not measured values:

================  =======================  =======================
line              high spin (NiO-like)     low spin (LaNiO3-like)
================  =======================  =======================
Kbeta1,3          E13 + 0.10, FWHM 3.6     E13 - 0.10, FWHM 3.2
Kbeta'            Kbeta1,3 + d, FWHM 6,    Kbeta1,3 + d, FWHM 6,
                  area 0.15 x Kbeta1,3     area 0.03 x Kbeta1,3
Kbeta2,5          E5 - 0.90, FWHM 4.0,     E5 + 0.95, FWHM 4.0,
                  height 0.0225            height 0.0300
Kbeta''           Kbeta2,5 - 15, FWHM 4,   same
                  height 0.25 x Kbeta2,5
================  =======================  =======================

``d`` is the element's :data:`spectro.xes.KB_PRIME_OFFSET` (Ni: -9 eV).
The low-spin Kbeta2,5 lies 1.85 eV above the high-spin one and the high-spin
peak is 25 % lower, so that a La3Ni2O7-like spectrum
(``spin="low", kb25_shift=-0.35``) sits +1.50 eV above NiO and -0.35 eV below
LaNiO3, as reported by Mijit *et al.* (2024). Kbeta1,3 lines have Lorentzian
fraction 0.6, Kbeta' 0.3, valence-to-core lines 0.5.

A spectrum with high-spin fraction ``f`` is ``f * HS + (1 - f) * LS``, each
state's main lines (Kbeta1,3 + Kbeta') scaled to unit area (the Kbeta
intensity is conserved between spin states). Valence-to-core heights are
fractions of the maximum of the main lines. The whole spectrum is scaled so
that its Kbeta1,3 maximum is ``amplitude`` counts.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..errors import ValidationError
from ..model import Scan, build
from ..xes import KB_PRIME_OFFSET, line_energies

__all__ = ["SPIN_STATES", "xes"]

#: Line parameters of each spin state (offsets in eV; see the module docs).
SPIN_STATES: dict[str, dict[str, float]] = {
    "high": {"kb13": 0.10, "kb13_fwhm": 3.6, "kbp_area": 0.15, "kb25": -0.90, "kb25_height": 0.0225},
    "low": {"kb13": -0.10, "kb13_fwhm": 3.2, "kbp_area": 0.03, "kb25": 0.95, "kb25_height": 0.0300},
}
_KBP_FWHM = 6.0
_KBPP_OFFSET, _KBPP_FWHM, _KBPP_REL = -15.0, 4.0, 0.25
_VTC_FWHM = 4.0
_ETA_MAIN, _ETA_PRIME, _ETA_VTC = 0.6, 0.3, 0.5


def _pv(x, center, fwhm, eta, area=1.0):
    from lmfit.lineshapes import pvoigt  # lmfit imports matplotlib: keep it off `import spectro`

    return pvoigt(x, amplitude=area, center=center, sigma=fwhm / 2.0, fraction=eta)


def _pv_height(fwhm, eta):
    sigma = fwhm / 2.0
    sigma_g = sigma / math.sqrt(2.0 * math.log(2.0))
    return (1.0 - eta) / (sigma_g * math.sqrt(2.0 * math.pi)) + eta / (math.pi * sigma)


def _per_scan(name, value, n):
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)) if np.ndim(value) == 0 else np.asarray(value, dtype=float)
    if arr.shape != (n,):
        raise ValidationError(f"{name} must be a scalar or have length n_scans={n}, has shape {arr.shape}")
    return np.array(arr, dtype=float)


class _Model:
    """Noise-free spectrum of each scan as separate main and VtC parts."""

    def __init__(self, element, f, kb25_shift, kb25_scale, offset):
        e = line_energies(element)
        self.kbp_offset = KB_PRIME_OFFSET.get(element, -12.0)
        self.f = f[:, None]
        self.offset = offset[:, None]
        hs, ls = SPIN_STATES["high"], SPIN_STATES["low"]
        self.states = []
        for s, w in ((hs, self.f), (ls, 1.0 - self.f)):
            c13 = e["Kb13"] + s["kb13"]
            total = 1.0 + s["kbp_area"]
            self.states.append(
                {"weight": w, "c13": c13, "w13": s["kb13_fwhm"], "a13": 1.0 / total,
                 "a_p": s["kbp_area"] / total,
                 "c25": e["Kb5"] + s["kb25"] + kb25_shift[:, None],
                 "h25": s["kb25_height"] * kb25_scale[:, None]}
            )
        grid = np.arange(e["Kb13"] - 6.0, e["Kb13"] + 6.0, 0.01)
        self.main_max = self.main(grid[None, :] + self.offset).max(axis=-1, keepdims=True)

    def main(self, x):
        out = 0.0
        for s in self.states:
            x0 = x - self.offset
            out = out + s["weight"] * (
                _pv(x0, s["c13"], s["w13"], _ETA_MAIN, s["a13"])
                + _pv(x0, s["c13"] + self.kbp_offset, _KBP_FWHM, _ETA_PRIME, s["a_p"])
            )
        return out

    def vtc(self, x):
        """Valence-to-core part in units of the main-line maximum."""
        out = 0.0
        for s in self.states:
            x0 = x - self.offset
            h25 = s["h25"] / _pv_height(_VTC_FWHM, _ETA_VTC)
            out = out + s["weight"] * (
                _pv(x0, s["c25"], _VTC_FWHM, _ETA_VTC, h25)
                + _pv(x0, s["c25"] + _KBPP_OFFSET, _VTC_FWHM, _ETA_VTC, _KBPP_REL * h25)
            )
        return out

    def total(self, x):
        return self.main(x) / self.main_max + self.vtc(x)

    def peak_main(self):
        return _golden_max(lambda x: self.main(x) / self.main_max, self._center(0))

    def peak_vtc(self):
        return _golden_max(self.vtc, self._center(1))

    def _center(self, which):
        key = "c13" if which == 0 else "c25"
        hs, ls = self.states
        c = np.where(self.f >= 0.5, hs[key], ls[key]) + self.offset
        return np.broadcast_to(c, self.f.shape)


def _golden_max(fun, center, half_width=3.0, n_coarse=601, n_iter=60):
    """Vectorized maximum of ``fun`` near ``center`` (one value per row)."""
    coarse = center + np.linspace(-half_width, half_width, n_coarse)[None, :]
    y = fun(coarse)
    i = np.argmax(y, axis=-1)
    step = 2.0 * half_width / (n_coarse - 1)
    best = np.take_along_axis(coarse, i[:, None], axis=-1)
    a, b = best - step, best + step
    g = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(n_iter):
        c, d = b - g * (b - a), a + g * (b - a)
        left = fun(c) > fun(d)
        b = np.where(left, d, b)
        a = np.where(left, a, c)
    x = (a + b) / 2.0
    return x[:, 0], fun(x)[:, 0]


def xes(
    *,
    element: str = "Ni",
    spin: str | None = None,
    high_spin_fraction: float | np.ndarray | None = None,
    kb25_shift: float | np.ndarray = 0.0,
    kb25_scale: float | np.ndarray = 1.0,
    emission_energy: np.ndarray | None = None,
    n_scans: int = 1,
    noise: float = 0.0,
    energy_offset: float | np.ndarray = 0.0,
    background: float | np.ndarray = 0.0,
    amplitude: float = 1000.0,
    pressure: float | np.ndarray = np.nan,
    temperature: float | np.ndarray = np.nan,
    run: str = "",
    sample: str = "",
    seed: int = 0,
) -> xr.Dataset:
    """Simulate Kbeta XES spectra ``intensity(scan, emission_energy)`` with known truth.

    Parameters
    ----------
    element : str, default "Ni"
        Line energies follow the element's tabulated Kb1, Kb3, Kb5 (xraydb).
    spin : {"high", "low"}, optional
        Shortcut for ``high_spin_fraction`` 1 or 0. Default high spin.
    high_spin_fraction : float or array of length n_scans, optional
        Fraction ``f`` of the high-spin spectrum in ``f HS + (1 - f) LS``.
    kb25_shift : float or array, default 0
        Shift (eV) of Kbeta2,5 and Kbeta'' from the spin state's position.
    kb25_scale : float or array, default 1
        Factor on the Kbeta2,5 and Kbeta'' heights.
    emission_energy : array, optional
        Grid in eV. Default ``E13 - 45`` to ``E5 + 16`` eV in 0.25 eV steps
        (8221.25 to 8345 eV for Ni).
    n_scans : int, default 1
    noise : float, default 0
        Counting noise: Gaussian with standard deviation
        ``noise * sqrt(I * amplitude)``, i.e. a fraction ``noise`` of the
        peak at the Kbeta1,3 maximum and Poisson-like elsewhere. Stored as
        ``intensity_err`` when ``noise > 0``.
    energy_offset : float or array, default 0
        Miscalibration (eV) added to every line energy.
    background : float or array, default 0
        Constant background as a fraction of the Kbeta1,3 maximum.
    amplitude : float, default 1000
        Kbeta1,3 maximum in counts.
    pressure, temperature : float or array
        Per-scan coordinates (GPa, K).
    run, sample : str
    seed : int
        Seed of the noise generator.

    Returns
    -------
    xarray.Dataset
        Model XES Dataset with the truth as per-scan coordinates:
        ``true_kb13_energy`` (maximum of the noise-free Kbeta main lines,
        eV), ``true_kb25_energy`` and ``true_kb25_intensity`` (position and
        height of the maximum of the noise-free valence-to-core part,
        Kbeta2,5 + Kbeta'', in units of the Kbeta1,3 maximum),
        ``true_kb_prime_ratio`` (area of the Kbeta' lines over that of the
        Kbeta1,3 lines) and ``true_high_spin_fraction``. Truth energies
        include ``energy_offset``.

    Examples
    --------
    >>> ds = xes(spin="low", kb25_shift=-0.35, seed=1)
    >>> ds.intensity.dims
    ('scan', 'emission_energy')
    >>> round(ds.true_kb_prime_ratio.item(), 3)
    0.03
    """
    if spin is not None and high_spin_fraction is not None:
        raise ValidationError("give spin or high_spin_fraction, not both")
    if spin is None:
        f = 1.0 if high_spin_fraction is None else high_spin_fraction
    elif spin in ("high", "low"):
        f = 1.0 if spin == "high" else 0.0
    else:
        raise ValidationError(f"spin must be 'high' or 'low', not {spin!r}")
    n = int(n_scans)
    if n < 1:
        raise ValidationError(f"n_scans must be >= 1, not {n_scans}")
    f = _per_scan("high_spin_fraction", f, n)
    if np.any((f < 0) | (f > 1)):
        raise ValidationError("high_spin_fraction must lie in [0, 1]")
    shift = _per_scan("kb25_shift", kb25_shift, n)
    scale = _per_scan("kb25_scale", kb25_scale, n)
    offset = _per_scan("energy_offset", energy_offset, n)
    bkg = _per_scan("background", background, n)
    lines = line_energies(element)
    if emission_energy is None:
        emission_energy = np.arange(lines["Kb13"] - 45.0, lines["Kb5"] + 16.0 + 1e-9, 0.25)
        emission_energy = np.round(emission_energy, 6)
    energy = np.asarray(emission_energy, dtype=float)
    model = _Model(element, f, shift, scale, offset)
    clean = model.total(energy[None, :]) + bkg[:, None]
    intensity = amplitude * clean
    rng = np.random.default_rng(seed)
    err = None
    if noise > 0:
        err = noise * np.sqrt(np.clip(intensity, 0.0, None) * amplitude)
        intensity = intensity + err * rng.standard_normal(intensity.shape)
    e13, _ = model.peak_main()
    e25, h25 = model.peak_vtc()
    ratio = sum(s["weight"][:, 0] * s["a_p"] for s in model.states) / sum(
        s["weight"][:, 0] * s["a13"] for s in model.states
    )
    press = _per_scan("pressure", pressure, n)
    temp = _per_scan("temperature", temperature, n)
    scans = []
    for i in range(n):
        signals = {"intensity": intensity[i]}
        if err is not None:
            signals["intensity_err"] = err[i]
        coords = {"pressure": press[i], "temperature": temp[i], "run": run, "sample": sample,
                  "source": "simulated"}
        scans.append(Scan(energy, signals, label=str(i), coords=coords))
    ds = build(scans, kind="xes", attrs={"simulated": "spectro.simulate.xes", "element": element,
                                         "seed": int(seed), "noise": float(noise),
                                         "amplitude": float(amplitude)})
    truth = {
        "true_kb13_energy": (e13, "eV", "true Kbeta1,3 peak energy"),
        "true_kb25_energy": (e25, "eV", "true Kbeta2,5 peak energy"),
        "true_kb25_intensity": (h25, "1",
                                "true Kbeta2,5 peak height (Kbeta1,3 maximum = 1)"),
        "true_kb_prime_ratio": (ratio, "1", "true Kbeta' / Kbeta1,3 area ratio"),
        "true_high_spin_fraction": (f, "1", "true high-spin fraction"),
        "true_kb25_shift": (shift, "eV", "Kbeta2,5 shift applied"),
    }
    return ds.assign_coords(
        {k: ("scan", np.asarray(v, dtype=float), {"units": u, "long_name": ln})
         for k, (v, u, ln) in truth.items()}
    )
