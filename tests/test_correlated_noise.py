"""Errors that see correlated (AR(1)) noise: the same as before on white noise, covering on AR(1) noise.

The spectra are :func:`spectro.simulate.xanes` with a reference foil, white
or AR(1) noise of the same standard deviation; the truth of each number is
the analysis of the same spectra without noise (so what is tested is the
statistical error alone). Coverage is the fraction of draws within 1 and 2
stated errors; the issue's bands are 60-80 % and 93-98 %.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.signal import lfilter

import spectro
from spectro.xanes import analyze_arrays
from spectro.xanes._correlated import POINT_KERNEL, ar1_phi, inflation, slope_inflation, slope_kernel

NAMES = ("e0", "e0_half", "e0_derivative", "calibration_shift")
DRAWS = 150  # per noise correlation: 450 AR(1) draws


def _errors_and_misses(corr: float, seed: int, n: int = DRAWS) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per number: (stated error, value - noise-free value), on the measured energy scale."""
    kw = dict(valence=2.5, n_scans=n, reference=True, seed=seed)
    noisy = spectro.simulate.xanes(noise=0.004, noise_color="ar1" if corr else "white", noise_corr=corr, **kw)
    clean = spectro.simulate.xanes(noise=0.0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r, t = (analyze_arrays(d.energy.values, d.mu.values, d.mu_ref.values, preedge="centroid")
                for d in (noisy, clean))
    out = {"calibration_shift": (r.calibration_shift_err, r.calibration_shift - t.calibration_shift)}
    for name in NAMES[:3]:  # the sample's own numbers: without the shift (its error is the foil's)
        miss = (getattr(r, name) - r.calibration_shift) - (getattr(t, name) - t.calibration_shift)
        out[name] = (getattr(r, f"{name}_err"), miss)
    return out


def _coverage(err: np.ndarray, miss: np.ndarray) -> tuple[float, float]:
    z = np.abs(miss / err)
    assert np.isfinite(z).all()
    return float(np.mean(z < 1)), float(np.mean(z < 2))


@pytest.fixture(scope="module")
def ar1_draws():
    parts = [_errors_and_misses(corr, seed) for corr, seed in ((0.2, 1), (0.4, 2), (0.6, 3))]
    return {name: tuple(np.concatenate([p[name][k] for p in parts]) for k in (0, 1)) for name in NAMES}


@pytest.fixture(scope="module")
def white_draws():
    return _errors_and_misses(0.0, 5, 3 * DRAWS)


@pytest.mark.parametrize("name", NAMES)
def test_ar1_noise_is_covered_as_white_noise_is(ar1_draws, white_draws, name):
    """With AR(1) noise each error covers as it does on white noise (with the white-noise errors these draws covered 0.47-0.60 / 0.78-0.88)."""
    ar1, white = _coverage(*ar1_draws[name]), _coverage(*white_draws[name])
    print(f"\n{name}: covers {ar1[0]:.3f}/{ar1[1]:.3f} on AR(1) noise (phi 0.2/0.4/0.6, "
          f"{ar1_draws[name][0].size} draws), {white[0]:.3f}/{white[1]:.3f} on white noise")
    # 450 draws: binomial sd of a difference about 0.03 (1 sigma) and 0.015 (2 sigma)
    assert abs(ar1[0] - white[0]) < 0.07 and abs(ar1[1] - white[1]) < 0.045, (ar1, white)
    assert ar1[0] >= 0.60 and ar1[1] >= 0.93, ar1


@pytest.mark.parametrize("name", NAMES)
def test_ar1_noise_coverage_is_in_the_band(ar1_draws, name):
    """The derivative maximum's error counts the correlation of the three smoothed derivatives its vertex uses
    (they share most of their points); counted as independent, it covered 0.807 (1 sigma, e0_derivative) and
    0.987 (2 sigma, calibration_shift) on these draws."""
    one, two = _coverage(*ar1_draws[name])
    assert 0.60 <= one <= 0.80 and 0.93 <= two <= 0.98, (one, two)


def test_white_noise_errors_are_unchanged():
    """On white noise the measured correlation is about 0: the errors are the white-noise ones within a few %."""
    ds = spectro.simulate.xanes(valence=2.5, n_scans=300, reference=True, noise=0.004, seed=4)
    e = ds.energy.values
    for y, edge in ((ds.mu.values, 8345.0), (ds.mu_ref.values, 8333.0)):
        phi = ar1_phi(e, y, edge=edge)
        assert np.isfinite(phi).all()
        for factor in (inflation(phi, POINT_KERNEL), slope_inflation(phi, e, y, np.full(phi.shape, edge), 1.5)):
            assert 1.0 <= float(np.median(factor)) < 1.02 and float(np.mean(factor)) < 1.05, factor
    one, two = _coverage(*_errors_and_misses(0.0, 5, 300)["e0"])
    assert 0.60 <= one <= 0.80 and 0.93 <= two <= 0.98, (one, two)


def test_phi_is_measured_on_ar1_noise():
    """The lag-one correlation of AR(1) noise on a line, measured from each row alone (200 rows of 2000 points)."""
    rng = np.random.default_rng(7)
    e = 8000.0 + 0.25 * np.arange(2000)
    for phi in (0.0, 0.3, 0.6):
        noise = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], rng.standard_normal((200, 2000)), axis=-1)
        got = ar1_phi(e, 0.01 * (e - e[0]) + noise)
        assert abs(float(np.mean(got)) - phi) < 0.05 and float(np.std(got)) < 0.2, (phi, got.mean(), got.std())


def test_inflation_is_the_ar1_variance_of_the_kernel():
    """F(phi) against the variance of the kernel on simulated AR(1) noise over that of the residual's white size."""
    rng = np.random.default_rng(3)
    phi = 0.5
    noise = lfilter([np.sqrt(1 - phi**2)], [1.0, -phi], rng.standard_normal((400, 4000)), axis=-1)[:, 200:]
    residual = np.array([1 / 6, -2 / 3, 1.0, -2 / 3, 1 / 6])
    white_sigma = np.std(np.apply_along_axis(np.convolve, -1, noise, residual, "valid")) / np.linalg.norm(residual)
    for kernel in (np.array(POINT_KERNEL), slope_kernel(3)):
        measured = np.std(np.apply_along_axis(np.convolve, -1, noise, kernel, "valid"))
        want = measured / (white_sigma * np.linalg.norm(kernel))
        assert float(inflation(np.array(phi), kernel)) == pytest.approx(want, rel=0.03)


def test_no_measure_on_coarse_or_short_data():
    """Where the grid is coarse (post-edge k grids of real files) or the edge is all there is, no correlation is
    measured and the errors stay white-noise ones (factor 1)."""
    rng = np.random.default_rng(0)
    coarse = 8000.0 + 3.0 * np.arange(400)
    assert np.isnan(ar1_phi(coarse, rng.standard_normal(400)))
    fine = 8320.0 + 0.25 * np.arange(300)
    assert np.isnan(ar1_phi(fine, rng.standard_normal(300), edge=8340.0))
    assert float(inflation(np.array(np.nan), POINT_KERNEL)) == 1.0


def test_phi_of_several_edges_in_one_call_is_each_edge_s():
    """Edges of shape (k, rows): each row's phi with each edge, the one a call with that edge alone gives, to the
    bit; an edge that leaves a row too few points gives NaN there only, and a single spectrum takes (k,) edges."""
    rng = np.random.default_rng(11)
    e = 8000.0 + 0.25 * np.arange(1200)
    noise = lfilter([np.sqrt(1 - 0.4**2)], [1.0, -0.4], rng.standard_normal((3, 1200)), axis=-1)
    y = 0.01 * (e - e[0]) + noise
    edges = np.array([[8100.0, 8150.0, 8200.0], [8100.3, 8100.0, 8210.7], [8050.0, 8075.0, 8249.0]])
    got = ar1_phi(e, y, edge=edges)
    assert got.shape == (3, 3) and np.isfinite(got).all()
    for k in range(3):
        assert ar1_phi(e, y, edge=edges[k]).tobytes() == got[k].tobytes()
    short = e[:220]  # 90 eV excluded of 55 eV: no row has points left with this edge, the other leaves enough
    both = ar1_phi(short, y[:, :220], edge=np.array([[8027.0] * 3, [8200.0] * 3]))
    assert np.isnan(both[0]).all() and both[1].tobytes() == ar1_phi(short, y[:, :220], edge=8200.0).tobytes()
    one = ar1_phi(e, y[0], edge=edges[:, 0])
    assert one.shape == (3,) and one.tobytes() == got[:, 0].tobytes()
    assert ar1_phi(short, y[0, :220], edge=np.array([8027.0, 8030.0])).shape == (2,)
