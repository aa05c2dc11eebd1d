"""Ruby and diamond-Raman pressure gauges, and the ruby doublet fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spectro.errors import DataError, ValidationError
from spectro.pressure import (
    diamond_raman_pressure,
    fit_ruby,
    ruby_lambda0,
    ruby_pressure,
    ruby_wavelength,
)

# Published constants, written out here from the papers' abstracts.
RUBY2020 = {"A": 1870.0, "B": 5.63, "lambda0": 694.25}  # Shen et al. 2020
MAO1986 = {"A": 1904.0, "B": 7.665, "lambda0": 694.24}  # Mao, Xu & Bell 1986
AKAHAMA = {"K0": 547.0, "K0p": 3.75, "nu0": 1334.0}  # Akahama & Kawamura 2006


@pytest.mark.parametrize("lam", [694.25, 696.0, 700.0, 705.0, 720.0, 740.0])
def test_ruby2020_matches_published_relation(lam):
    x = (lam - RUBY2020["lambda0"]) / RUBY2020["lambda0"]
    expected = RUBY2020["A"] * x * (1 + RUBY2020["B"] * x)
    assert float(ruby_pressure(lam).pressure) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("lam", [694.24, 696.0, 700.0, 705.0, 720.0, 740.0])
def test_mao1986_matches_published_relation(lam):
    r = lam / MAO1986["lambda0"]
    expected = MAO1986["A"] / MAO1986["B"] * (r ** MAO1986["B"] - 1)
    assert float(ruby_pressure(lam, scale="mao1986").pressure) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("scale,tol", [("mao1986", 0.002), ("ruby2020", 0.02)])
def test_low_pressure_shift_is_piermarini_coefficient(scale, tol):
    """Piermarini et al., J. Appl. Phys. 46, 2774 (1975): R1 moves 0.365 nm/GPa."""
    lam = ruby_wavelength([0.0, 0.1], scale=scale)
    slope = (lam[1] - lam[0]) / 0.1
    assert slope == pytest.approx(0.365, rel=tol)


def test_scales_agree_at_moderate_and_diverge_at_high_pressure():
    """Ruby2020 and Mao 1986 agree within 2 % at 5-30 GPa (same measured λ0);
    at 100 GPa Mao 1986 reads several % lower, the known underestimate of the
    1986 calibration that Ruby2020 corrects."""
    p = np.array([5.0, 10.0, 20.0, 30.0])
    lam = ruby_wavelength(p, lambda0=694.25)
    mao = ruby_pressure(lam, scale="mao1986", lambda0=694.25).pressure
    np.testing.assert_allclose(mao, p, rtol=0.02)
    lam100 = ruby_wavelength(100.0, lambda0=694.25)
    mao100 = float(ruby_pressure(lam100, scale="mao1986", lambda0=694.25).pressure)
    assert 0.03 < (100.0 - mao100) / 100.0 < 0.10


@given(p=st.floats(0.0, 150.0), scale=st.sampled_from(["ruby2020", "mao1986"]),
       t=st.one_of(st.none(), st.floats(15.0, 600.0)))
def test_wavelength_inverts_pressure(p, scale, t):
    lam = ruby_wavelength(p, scale=scale, temperature=t)
    assert float(ruby_pressure(lam, scale=scale, temperature=t).pressure) == pytest.approx(p, abs=1e-8)


def test_pressure_error_propagation_matches_monte_carlo(rng):
    lam, lam_err = 712.0, 0.05
    r = ruby_pressure(lam, wavelength_err=lam_err)
    n = 200_000
    a = rng.normal(1870.0, 10.0, n)
    b = rng.normal(5.63, 0.03, n)
    x = (rng.normal(lam, lam_err, n) - 694.25) / 694.25
    samples = a * x * (1 + b * x)
    assert float(r.pressure_err) == pytest.approx(np.std(samples), rel=0.03)
    assert float(r.pressure_err) ** 2 == pytest.approx(
        float(r.measurement_err) ** 2 + float(r.scale_err) ** 2)
    assert float(ruby_pressure(lam, scale="mao1986").scale_err) == 0.0


def test_lambda0_error_enters_measurement_part():
    base = ruby_pressure(700.0, wavelength_err=0.0)
    with_ref = ruby_pressure(700.0, wavelength_err=0.0, lambda0=694.25, lambda0_err=0.02)
    assert float(base.measurement_err) == 0.0
    h = 1e-4
    dp_dlam0 = float(ruby_pressure(700.0, lambda0=694.25 + h).pressure
                     - ruby_pressure(700.0, lambda0=694.25 - h).pressure) / (2 * h)
    assert float(with_ref.measurement_err) == pytest.approx(abs(dp_dlam0) * 0.02, rel=1e-6)


def test_temperature_correction():
    assert float(ruby_lambda0(296.0)) == pytest.approx(694.25, abs=1e-12)
    # Near room temperature R1 moves by about 0.0068 nm/K
    # (Barnett, Block & Piermarini, Rev. Sci. Instrum. 44, 1 (1973)).
    slope = float(ruby_lambda0(306.0) - ruby_lambda0(286.0)) / 20.0
    assert slope == pytest.approx(0.0068, rel=0.1)
    # A ruby at 10 K and zero pressure reads zero once corrected, and a
    # large negative pressure without the correction.
    lam_cold = float(ruby_lambda0(10.0))
    assert float(ruby_pressure(lam_cold, temperature=10.0).pressure) == pytest.approx(0.0, abs=1e-9)
    assert float(ruby_pressure(lam_cold).pressure) < -2.0
    r = ruby_pressure(700.0, temperature=10.0)
    assert r.params["temperature_correction"] != "none"
    assert r.params["lambda0"] == pytest.approx(lam_cold)


def test_unknown_scale():
    with pytest.raises(ValidationError):
        ruby_pressure(700.0, scale="ruby1978")


@pytest.mark.parametrize("nu", [1334.0, 1350.0, 1400.0, 1500.0, 1700.0])
def test_diamond_raman_matches_published_relation(nu):
    x = (nu - AKAHAMA["nu0"]) / AKAHAMA["nu0"]
    expected = AKAHAMA["K0"] * x * (1 + 0.5 * (AKAHAMA["K0p"] - 1) * x)
    assert float(diamond_raman_pressure(nu).pressure) == pytest.approx(expected, abs=1e-9)


def test_diamond_raman_errors_match_monte_carlo(rng):
    nu, nu_err = 1500.0, 1.5
    r = diamond_raman_pressure(nu, wavenumber_err=nu_err)
    n = 200_000
    k0 = rng.normal(547.0, 11.0, n)
    k0p = rng.normal(3.75, 0.20, n)
    x = (rng.normal(nu, nu_err, n) - 1334.0) / 1334.0
    samples = k0 * x * (1 + 0.5 * (k0p - 1) * x)
    assert float(r.pressure_err) == pytest.approx(np.std(samples), rel=0.03)


def test_vectorized_inputs_are_not_modified():
    lam = np.array([[695.0, 700.0], [705.0, np.nan]])
    before = lam.copy()
    r = ruby_pressure(lam, wavelength_err=np.full((2, 2), 0.01))
    assert r.pressure.shape == (2, 2) and np.isnan(r.pressure[1, 1])
    np.testing.assert_array_equal(lam, before)


# ------------------------------------------------------------------ ruby fit


def doublet(lam, r1, *, fwhm=0.5, ratio=0.6, splitting=1.4, height=1000.0, eta=0.7):
    def pv(center):
        g = np.exp(-4 * np.log(2) * ((lam - center) / fwhm) ** 2)
        lor = 1 / (1 + 4 * ((lam - center) / fwhm) ** 2)
        return eta * lor + (1 - eta) * g

    return height * (pv(r1) + ratio * pv(r1 - splitting)) + 40.0 + 2.0 * (lam - lam[0])


@pytest.mark.parametrize("p_true", [0.0, 8.0, 25.0])
def test_fit_ruby_recovers_pressure(p_true, rng):
    r1 = float(ruby_wavelength(p_true))
    lam = np.linspace(r1 - 5.0, r1 + 4.0, 600)
    y = doublet(lam, r1)
    counts = rng.poisson(y).astype(float)
    fit = fit_ruby(lam, counts, intensity_err=np.sqrt(np.maximum(counts, 1.0)))
    assert abs(fit.r1 - r1) < 4 * fit.r1_err
    assert fit.r1 - fit.r2 == pytest.approx(1.4, abs=0.02)
    assert fit.r1_fwhm == pytest.approx(0.5, rel=0.05)
    assert abs(fit.pressure - p_true) < 4 * fit.pressure_err
    assert fit.pressure_err >= float(fit.reading.scale_err)
    assert 0.7 < fit.reduced_chi2 < 1.4


def test_fit_ruby_position_errors_match_scatter(rng):
    r1 = float(ruby_wavelength(12.0))
    lam = np.linspace(r1 - 5.0, r1 + 4.0, 300)
    y = doublet(lam, r1, height=200.0)
    pulls = []
    for _ in range(25):
        counts = rng.poisson(y).astype(float)
        fit = fit_ruby(lam, counts)
        pulls.append((fit.r1 - r1) / fit.r1_err)
    assert 0.6 < np.std(pulls) < 1.5


def test_fit_ruby_rejects_short_or_narrow_spectra():
    with pytest.raises(DataError):
        fit_ruby(np.linspace(690, 700, 5), np.ones(5))
    with pytest.raises(DataError):
        fit_ruby(np.linspace(694, 695, 50), np.ones(50))
