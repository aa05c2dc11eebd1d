"""The realistic simulator's reference foils against the real ones.

:func:`spectro.simulate.realistic_xanes` puts in ``mu_ref`` the tabulated Ni
foil broadened by a Gaussian and damped by a thickness, per scan. The sizes of
those draws (``XANES_DRAWS``) are what the real foils of seven beamlines show:
each real foil is fitted as the tabulated foil broadened (``sigma``, eV),
damped (``a``), shifted and on a linear background, over 8300-8400 eV; a
beamline's value is the mean over its foils, and the draw's scale is the rms
over the beamlines (``pytest -s`` prints them).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator
from scipy.optimize import least_squares

import spectro
from spectro.simulate import realistic_xanes
from spectro.simulate._realistic import XANES_DRAWS
from spectro.xanes.energy_calibration import calibration_arrays, reference_foil

#: The real foils of each beamline other than the reference's own (APS 13-ID-C): (file, scan pattern or None,
#: channel). The two XASLIB sets are two SSRL 4-1 beamtimes (their foils differ by 0.45 eV of broadening).
BEAMLINES = {
    "NSLS-II BMM": [(f"xanes/bmm_Ni-K-{n}.xdi", None, "mu_ref")
                    for n in ("NickelOxide", "LanthanumNickelate", "NickelBorateHydrate", "NickelFoil")],
    "ESRF BM08": [("xanes/ceric_NiO_111.xdi", None, "mu_ref"), ("xanes/ceric_LaNiO3_Ni_80K_111.xdi", None, "mu_ref"),
                  ("xanes/ceric_Ni_foil_111.xdi", None, "mu")],
    "NSLS X23A2": [("xanes/larch_NiO.prj", r"NiO\.\d{3}", "mu_ref")],
    "SSRL 4-1 (NiS)": [(f"xanes/xaslib_NiS_rt_0{i}.xdi", None, "mu_ref") for i in (1, 2, 3)],
    "SSRL 4-1 (Ni2O3)": [(f"xanes/xaslib_Ni2O3_rt_0{i}.xdi", None, "mu_ref") for i in (1, 2, 3)],
    "NSLS-II QAS": [("xanes/xasref_Nifoil_QAS.prj", None, "mu")],
    "NSLS X18B": [("xanes/xasref_Nifoil.prj", None, "mu")],
}

_STEP = 0.05  # eV, the fine grid of the broadened tabulated foil


def _tabulated():
    e, mu = reference_foil()
    x = np.arange(8250.0, 8450.0, _STEP)
    base = PchipInterpolator(e, mu, extrapolate=False)(x)
    return x, np.fft.rfft(base), np.fft.rfftfreq(x.size, _STEP)


def _fit(energy: np.ndarray, mu: np.ndarray, tab) -> tuple[float, float]:
    """(sigma, a) of the tabulated foil broadened by sigma, damped by a, shifted, on a line, fitted to ``mu``."""
    x, spectrum, freq = tab
    keep = (energy > 8300.0) & (energy < 8400.0) & np.isfinite(mu)
    e, m = energy[keep], mu[keep]

    def model(p):
        shift, sigma, a, c0, c1, c2 = p
        fine = np.fft.irfft(spectrum * np.exp(-2.0 * (np.pi * freq * sigma) ** 2), n=x.size)
        return c0 + c1 * (e - 8333.0) + c2 * np.interp(e - shift, x, fine * (1 + a) / (1 + a * fine))

    start = [-float(calibration_arrays(e, m[None]).shift[0]), 0.3, 0.05, m[0], 0.0, m[-1] - m[0]]
    fit = least_squares(lambda p: model(p) - m, start,
                        bounds=([-10, 0, 0, -np.inf, -np.inf, 0], [10, 3, 3, np.inf, np.inf, np.inf]))
    return float(fit.x[1]), float(fit.x[2])


@pytest.fixture(scope="module")
def real_foils(data_dir):
    tab = _tabulated()
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for beamline, files in BEAMLINES.items():
            fits = []
            for name, pattern, channel in files:
                ds = spectro.read(data_dir / name)
                rows = [i for i, s in enumerate(ds.scan.values) if pattern is None or re.fullmatch(pattern, str(s))]
                fits += [_fit(ds.energy.values, ds[channel].values[i], tab) for i in rows]
            out[beamline] = np.mean(fits, axis=0)
            print(f"\n{beamline}: {len(fits)} foils, broadening {out[beamline][0]:.3f} eV, damping "
                  f"{out[beamline][1]:.3f}", end="")
    return np.array(list(out.values()))


@pytest.mark.realdata
def test_foil_draws_are_the_real_foils_spread(real_foils):
    """The half-normal scales of the broadening and the thickness are the rms of the beamlines' fitted values."""
    rms = np.sqrt(np.mean(real_foils**2, axis=0))
    print(f"\nrms over {len(real_foils)} beamlines: broadening {rms[0]:.3f} eV, damping {rms[1]:.3f}")
    assert XANES_DRAWS["foil_broadening"] == (0.0, pytest.approx(rms[0], abs=0.01))
    assert XANES_DRAWS["foil_thickness"] == (0.0, pytest.approx(rms[1], abs=0.01))


def test_fit_recovers_a_simulated_foil():
    """The fit finds the broadening and damping a simulated foil was made with (noise, drift and ripple included).

    Within 0.2 eV and 0.04: ripples read as up to 0.16 eV of broadening on the sharpest foils.
    """
    ds = realistic_xanes(2, 8, seed=3)
    tab = _tabulated()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = np.array([_fit(ds.energy.values, ds.mu_ref.values[i], tab) for i in range(ds.sizes["scan"])])
    np.testing.assert_allclose(fits[:, 0], ds.true_foil_broadening.values, atol=0.2)
    np.testing.assert_allclose(fits[:, 1], ds.true_foil_thickness.values, atol=0.04)
