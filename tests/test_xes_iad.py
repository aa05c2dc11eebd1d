"""IAD against a reference and the spin estimate."""

from __future__ import annotations

import numpy as np
import pytest

import spectro
from spectro.errors import ExtrapolationWarning, MissingRegionWarning, ValidationError
from spectro.simulate import xes
from spectro.xes._iad import _interp_rows, iad

FRACTIONS = np.linspace(0.0, 1.0, 11)


@pytest.fixture(scope="module")
def series():
    return xes(n_scans=FRACTIONS.size, high_spin_fraction=FRACTIONS)


@pytest.fixture(scope="module")
def low():
    return xes(spin="low")


@pytest.fixture(scope="module")
def high():
    return xes(spin="high")


def test_iad_rises_monotonically_with_high_spin_fraction(series, low):
    r = spectro.xes.iad(series, low)
    values = r.iad.values
    assert values[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(values) > 0)


def test_iad_of_identical_spectra_is_zero_whatever_the_scale_and_offset(low):
    scaled = low.copy(data={"intensity": 7.0 * low.intensity})
    assert float(spectro.xes.iad(scaled, low).iad[0]) == pytest.approx(0.0, abs=1e-12)
    shifted = xes(spin="low", energy_offset=1.7)
    r = spectro.xes.iad(shifted, low)
    # alignment by first moments removes the offset; what is left is the linear-interpolation
    # error on a 0.25 eV grid, about 1 % of the high-spin IAD
    assert float(r.iad[0]) < 0.01
    assert float(r.iad_shift[0]) == pytest.approx(1.7, abs=0.01)


def test_iad_equals_direct_integration_of_area_normalized_difference(high, low):
    """Independent computation on one common grid, aligned spectra (no shift needed)."""
    r = spectro.xes.iad(high, low)
    e = high.emission_energy.values
    peak = float(spectro.xes.kbeta(high).kb13_energy[0])
    win = (e >= peak - 20) & (e <= peak + 8)
    bh = spectro.xes.normalize(high, norm="none").norm.values[0]
    bl = spectro.xes.normalize(low, norm="none").norm.values[0]
    shift = float(r.iad_shift[0])
    bl_shifted = np.interp(e - shift, e, bl)
    a = bh[win] / np.trapezoid(bh[win], e[win])
    b = bl_shifted[win] / np.trapezoid(bl_shifted[win], e[win])
    d = a - b
    w = np.gradient(e[win]) * np.r_[0.5, np.ones(d.size - 2), 0.5]  # trapezoid weights (uniform grid)
    neighbours = np.r_[0.0, 0.0, d[:-2]] + np.r_[d[2:], 0.0, 0.0]  # the points 2 steps either side
    assert float(r.iad[0]) == pytest.approx(np.sum(w * np.sign(neighbours) * d), rel=1e-9)
    # noise-free, the sign of the neighbours is that of the point but at the zero crossings: |d| integrated
    assert float(r.iad[0]) == pytest.approx(np.trapezoid(np.abs(d), e[win]), rel=1e-4)


def test_iad_error_matches_scatter(high, low):
    noisy = xes(spin="high", noise=0.01, n_scans=300, seed=2)
    r = spectro.xes.iad(noisy, low)
    ratio = float(r.iad.std()) / float(r.iad_err.median())
    assert 0.7 < ratio < 1.4
    assert abs(float(r.iad.mean()) - float(spectro.xes.iad(high, low).iad[0])) < 3 * float(r.iad_err.median())


def test_spin_estimate_by_iad_recovers_fraction(series, high, low):
    r = spectro.xes.spin(series, high=high, low=low, metric="iad")
    np.testing.assert_allclose(r.high_spin_fraction, FRACTIONS, atol=0.05)
    assert r.high_spin_fraction.attrs["observable"] == "iad"


@pytest.mark.parametrize("metric", ["kb_prime_ratio", "kb13_m1"])
def test_spin_estimate_other_metrics_are_monotonic_and_anchored(series, high, low, metric):
    r = series.xes.spin(high=high, low=low, metric=metric)
    f = r.high_spin_fraction.values
    assert f[0] == pytest.approx(0.0, abs=1e-9) and f[-1] == pytest.approx(1.0, abs=1e-9)
    assert np.all(np.diff(f) > 0)


def test_spin_estimate_flags_extrapolation_and_rejects_unknown_metric(series):
    partly_high, partly_low = xes(high_spin_fraction=0.7), xes(high_spin_fraction=0.3)
    with pytest.warns(ExtrapolationWarning):
        r = spectro.xes.spin(series, high=partly_high, low=partly_low, metric="kb_prime_ratio")
    truth = series.true_high_spin_fraction.values
    flagged = r.high_spin_fraction_flags.values == "extrapolated"
    assert flagged[(truth < 0.25) | (truth > 0.75)].all()
    assert not flagged[(truth > 0.35) & (truth < 0.65)].any()
    with pytest.raises(ValidationError):
        spectro.xes.spin(xes(), high=xes(), low=xes(spin="low"), metric="fwhm")


def test_reference_not_covering_the_range_gives_nan_and_warning(series):
    short = xes(spin="low", emission_energy=np.arange(8255.0, 8345.0, 0.25))
    with pytest.warns(MissingRegionWarning, match="IAD range"):
        r = spectro.xes.iad(series, short)
    assert np.isnan(r.iad.values).all()
    assert (r.flags.values == int(spectro.xes.XesFlag.IAD_RANGE_MISSING)).all()


def test_reference_must_be_one_scan(series):
    with pytest.raises(spectro.errors.DataError, match="3 scans"):
        spectro.xes.iad(series, series.isel(scan=[0, 1, 2]))


def test_interpolation_of_many_rows_equals_numpy_interp(rng):
    xp = np.sort(rng.uniform(0, 10, size=(4, 30)), axis=-1)
    fp = rng.normal(size=(4, 30))
    xp[1, 25:] = np.nan  # a NaN-padded row
    x = rng.uniform(-1, 11, size=(4, 50))
    out = _interp_rows(x, xp, fp)
    for i in range(4):
        ok = np.isfinite(xp[i])
        ref = np.interp(x[i], xp[i][ok], fp[i][ok], left=np.nan, right=np.nan)
        np.testing.assert_allclose(out[i], ref, rtol=1e-12, atol=1e-12)


def test_kernel_accepts_one_reference_per_row(series, low):
    e = series.emission_energy.values
    y = series.intensity.values
    ref = np.repeat(low.intensity.values, y.shape[0], axis=0)
    a = iad(e, y, e, low.intensity.values[0]).iad
    b = iad(e, y, e, ref).iad
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
