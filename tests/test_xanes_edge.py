"""Edge position: 0.8 crossing, half height, derivative maximum, uncertainties."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spectro
from spectro.xanes import e0_crossing_arrays, e0_derivative_arrays, normalize_arrays


def _e0(ds, **kw):
    n = normalize_arrays(ds.energy.values, ds.mu.values)
    return n, e0_crossing_arrays(
        ds.energy.values, n.norm, sigma=n.sigma, level_err=n.level_err, **kw
    )


def test_e0_within_002_ev_without_noise():
    ds = spectro.simulate.xanes(
        valence=np.linspace(2.0, 3.0, 12),
        edge_shift=np.linspace(-0.6, 0.6, 12),
        energy_offset=np.linspace(-1.3, 1.1, 12),
        feature_c=np.linspace(0, 0.3, 12),
        n_scans=12,
        seed=3,
    )
    _, r = _e0(ds)
    np.testing.assert_allclose(r.e0, ds.true_e0.values, atol=0.02)


def test_e0_is_robust_to_post_edge_recrossings():
    ds = spectro.simulate.xanes(seed=1)
    n, r = _e0(ds)
    e = ds.energy.values
    later = (e > r.e0[0] + 5) & (e < r.e0[0] + 40)
    # the normalized spectrum really drops below 0.8 again after the white line ...
    assert np.any(n.norm[0][later] < 0.8)
    # ... and E0 is still the first crossing on the rising edge
    assert abs(r.e0[0] - ds.true_e0.values[0]) < 0.02


def test_e0_ignores_a_spike_below_the_edge():
    ds = spectro.simulate.xanes(seed=1)
    n = normalize_arrays(ds.energy.values, ds.mu.values)
    norm = n.norm.copy()
    i = int(np.searchsorted(ds.energy.values, 8320.0))
    norm[0, i] = 1.2
    r = e0_crossing_arrays(ds.energy.values, norm)
    assert abs(r.e0[0] - ds.true_e0.values[0]) < 0.02


def test_error_covers_true_error_in_about_68_percent_of_draws():
    ds = spectro.simulate.xanes(valence=2.4, n_scans=400, noise=0.01, seed=12)
    _, r = _e0(ds)
    z = np.abs(r.e0 - ds.true_e0.values) / r.e0_err
    assert 0.6 <= np.mean(z < 1.0) <= 0.76


@given(shift=st.floats(-20.0, 20.0))
def test_e0_moves_exactly_with_an_energy_shift(shift):
    ds = spectro.simulate.xanes(noise=0.005, seed=5)
    e, mu = ds.energy.values, ds.mu.values
    a = normalize_arrays(e, mu)
    b = normalize_arrays(e + shift, mu)
    ra = e0_crossing_arrays(e, a.norm)
    rb = e0_crossing_arrays(e + shift, b.norm)
    assert rb.e0[0] - ra.e0[0] == pytest.approx(shift, abs=1e-6)
    da = e0_derivative_arrays(e, mu).e0
    db = e0_derivative_arrays(e + shift, mu).e0
    assert db[0] - da[0] == pytest.approx(shift, abs=1e-6)


@given(seed=st.integers(0, 10_000))
def test_inputs_not_mutated(seed):
    ds = spectro.simulate.xanes(noise=0.01, seed=seed)
    e, mu = ds.energy.values.copy(), ds.mu.values.copy()
    e_keep, mu_keep = e.copy(), mu.copy()
    e0_crossing_arrays(e, mu)
    e0_derivative_arrays(e, mu)
    np.testing.assert_array_equal(e, e_keep)
    np.testing.assert_array_equal(mu, mu_keep)


def test_levels_of_an_analytic_step():
    e = np.arange(8300.0, 8400.0, 0.3)
    norm = 0.5 + np.arctan((e - 8345.0) / 1.5) / np.pi
    for level in (0.5, 0.8, 0.3):
        r = e0_crossing_arrays(e, norm, level=level)
        assert r.e0 == pytest.approx(
            8345.0 + 1.5 * np.tan(np.pi * (level - 0.5)), abs=0.01
        )


def test_derivative_maximum_below_the_grid_step():
    e = np.arange(8300.0, 8400.0, 1.0)
    centres = np.array([8333.0, 8333.3, 8333.55, 8333.9])
    mu = np.arctan((e - centres[:, None]) / 3.0)
    np.testing.assert_allclose(
        e0_derivative_arrays(e, mu, window=3.0).e0, centres, atol=0.05
    )


def test_crossing_on_a_nan_padded_union_grid():
    ds = spectro.simulate.xanes(n_scans=2, seed=2)
    n = normalize_arrays(ds.energy.values, ds.mu.values)
    norm = n.norm.copy()
    norm[1, 1::2] = np.nan
    r = e0_crossing_arrays(ds.energy.values, norm)
    assert abs(r.e0[1] - ds.true_e0.values[1]) < 0.05


@pytest.mark.parametrize(
    "rel",
    [
        "xanes/ceric_NiO_111.xdi",
        "xanes/ceric_LaNiO3_Ni_80K_111.xdi",
        "xanes/ceric_Ni_foil_111.xdi",
        "xanes/larch_ni_metal_rt.xdi",
    ],
)
def test_derivative_maximum_agrees_with_larch_find_e0(rel, data_file, larch):
    from larch.xafs import find_e0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spectro.read(data_file(rel))
    e, mu = ds.energy.values, ds.mu.values[0]
    ours = e0_derivative_arrays(e, mu).e0
    step = np.median(np.diff(e[(e > ours - 5) & (e < ours + 5)]))
    assert abs(ours - find_e0(e, mu)) <= max(0.5, 2 * step)


def test_uniform_fast_path_equals_the_general_local_fit():
    from spectro.xanes import derivative_arrays

    ds = spectro.simulate.xanes(noise=0.01, seed=8)
    e, mu = ds.energy.values, ds.mu.values[0]
    fast = derivative_arrays(e, mu)
    gap = mu.copy()
    gap[1000] = np.nan  # a missing point forces the general path
    slow = derivative_arrays(e, gap)
    far = np.abs(np.arange(e.size) - 1000) > 10
    np.testing.assert_allclose(fast.d1[far], slow.d1[far], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.d2[far], slow.d2[far], rtol=1e-9, atol=1e-12)


def test_crossing_outside_the_data_is_nan_not_an_exception():
    e = np.arange(8300.0, 8310.0, 0.5)
    r = e0_crossing_arrays(e, np.linspace(0.0, 0.3, e.size)[None, :], search=(8309.9, 8400.0))
    assert r.e0.shape == (1,) and np.isnan(r.e0).all() and np.isnan(r.e0_err).all()
