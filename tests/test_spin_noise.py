"""The IAD without noise bias, and the spin fraction's statistical and systematic errors, on simulated spectra."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.simulate import xes

NOISE = 0.01


@pytest.fixture(scope="module")
def refs():
    return xes(spin="high"), xes(spin="low")


def _spin(ds, refs, **changes):
    high, low = refs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spectro.errors.ExtrapolationWarning)  # fractions just below 0
        return spectro.xes.spin(ds, high=high, low=low, metric="iad", **changes)


def test_pure_low_spin_sample_reads_zero_within_its_error(refs):
    """200 noisy copies of the low-spin spectrum: mean fraction 0, scatter and coverage as stated.

    With |difference| integrated point by point the same copies read 3.3 % high-spin (6 errors).
    """
    ds = xes(spin="low", n_scans=200, noise=NOISE, seed=11)
    r = _spin(ds, refs)
    f, stat = r.high_spin_fraction.values, r.high_spin_fraction_stat.values
    assert abs(f.mean()) < 3 * f.std() / np.sqrt(f.size), f.mean()
    assert 0.85 < f.std() / stat.mean() < 1.2
    assert 0.55 < np.mean(np.abs(f) < r.high_spin_fraction_err.values) < 0.8  # 0.68 +- 3 x 0.033
    # the naive integral of |difference| on the same normalized spectra is biased by about sqrt(2/pi) sum w sigma
    naive = np.trapezoid(np.abs(_normalized_difference(ds, refs[1])), dx=0.25, axis=-1)
    assert naive.mean() > 3 * r.iad_err.values.mean()
    assert abs(r.iad.values.mean()) < 3 * r.iad.values.std() / np.sqrt(f.size)


def _normalized_difference(ds, low):
    """Unit-area difference of each scan and ``low`` over the default IAD window (same grid, no shift)."""
    e = ds.emission_energy.values
    peak = float(spectro.xes.kbeta(low).kb13_energy[0])
    win = (e >= peak - 20) & (e <= peak + 8)
    a = spectro.xes.normalize(ds, norm="none").norm.values[:, win]
    b = spectro.xes.normalize(low, norm="none").norm.values[0, win]
    return a / a.sum(-1, keepdims=True) / 0.25 - b / b.sum() / 0.25


@pytest.mark.parametrize("fraction", [0.3, 1.0])
def test_mixtures_read_their_noise_free_fraction(refs, fraction):
    noisy = xes(high_spin_fraction=[fraction] * 100, n_scans=100, noise=NOISE, seed=12)
    truth = float(_spin(xes(high_spin_fraction=[fraction]), refs).high_spin_fraction[0])
    r = _spin(noisy, refs)
    f = r.high_spin_fraction.values
    assert abs(f.mean() - truth) < 3 * f.std() / np.sqrt(f.size)
    assert 0.55 < np.mean(np.abs(f - truth) < r.high_spin_fraction_err.values) < 0.82


def test_errors_add_up_and_the_window_term_is_the_spread_over_moved_windows(refs):
    """Noise-free mixtures: the window term is the largest change with an IAD window edge moved by 2 eV."""
    ds = xes(high_spin_fraction=[0.2, 0.5, 0.8], n_scans=3)
    r = _spin(ds, refs)
    lo, hi = spectro.XesOptions().iad_window
    moved = [_spin(ds, refs, iad_window=w).high_spin_fraction for w in
             [(lo - 2, hi), (lo + 2, hi), (lo, hi - 2), (lo, hi + 2)]]
    spread = np.max([np.abs(m.values - r.high_spin_fraction.values) for m in moved], axis=0)
    np.testing.assert_allclose(r.high_spin_fraction_sys_window.values, spread, atol=1e-4)
    # read on the references' own mixtures, an exact mixture's fraction barely depends on the window
    assert np.all(r.high_spin_fraction_sys_window.values < 1e-3)
    stat, sys = r.high_spin_fraction_stat, r.high_spin_fraction_sys
    np.testing.assert_allclose(sys**2, r.high_spin_fraction_err_references**2
                               + r.high_spin_fraction_err_calibration**2 + r.high_spin_fraction_sys_window**2)
    np.testing.assert_allclose(r.high_spin_fraction_err**2, stat**2 + sys**2)
    np.testing.assert_array_equal(stat, r.high_spin_fraction_err_sample)


def test_reference_term_is_the_high_anchors_error_only():
    """The low anchor (the low-spin reference against itself) is zero exactly; the high anchor's error moves f."""
    high, low = xes(spin="high", noise=NOISE, seed=21), xes(spin="low", noise=NOISE, seed=22)
    ds = xes(high_spin_fraction=[0.0, 0.4, 1.0], n_scans=3, noise=NOISE, seed=23)
    r = _spin(ds, (high, low))
    anchor = spectro.xes.iad(high, low)
    expected = np.abs(r.high_spin_fraction.values) * float(anchor.iad_err[0]) / float(anchor.iad[0])
    # the mixture curve's local slope stands for the straight line's: within 10 % of it, and 0 at 0
    np.testing.assert_allclose(r.high_spin_fraction_err_references.values, expected, rtol=0.1, atol=1e-4)
    assert float(r.high_spin_fraction_err_references[0]) < 0.02 * float(r.high_spin_fraction_err_references[2])


def test_results_level_fraction_has_the_same_split():
    res = xr.Dataset({"kb_prime_ratio": ("scan", [0.05, 0.20, 0.11]),
                      "kb_prime_ratio_err": ("scan", [0.004, 0.004, 0.006])}, coords={"scan": ["LS", "HS", "x"]})
    cal = spectro.spin.fit_calibration(res.isel(scan=[0, 1]), ["low", "high"], metric="kb_prime_ratio")
    out = spectro.spin.high_spin_fraction(res.isel(scan=[2]), cal)
    assert float(out.high_spin_fraction_stat[0]) == pytest.approx(0.006 / 0.15)
    assert float(out.high_spin_fraction_sys[0]) == pytest.approx(float(out.high_spin_fraction_err_references[0]))
    assert float(out.high_spin_fraction_err[0]) == pytest.approx(
        float(np.hypot(out.high_spin_fraction_stat[0], out.high_spin_fraction_sys[0])))
