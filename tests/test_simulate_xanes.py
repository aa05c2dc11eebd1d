"""The XANES simulator follows its contract and its truth is what it claims."""

import importlib

import numpy as np
import pytest
import xraydb

import spectro
from spectro.errors import DataError

sim = importlib.import_module("spectro.simulate._xanes")


def test_contract_variables_coords_and_default_grid():
    ds = spectro.simulate.xanes(n_scans=3, reference=True, seed=4)
    spectro.validate(ds)
    assert ds.mu.shape == (3, 2001)
    assert float(ds.energy[0]) == 8200.0 and float(ds.energy[-1]) == 8700.0
    assert np.allclose(np.diff(ds.energy.values), 0.25)
    for name in (
        "true_e0",
        "true_valence",
        "true_preedge_centroid",
        "true_edge_shift",
        "true_feature_c",
    ):
        assert ds[name].dims == ("scan",)
        assert "units" in ds[name].attrs and "long_name" in ds[name].attrs
    assert "mu_ref" in ds.data_vars


def test_true_e0_is_the_08_crossing_of_the_normalized_model():
    ds = spectro.simulate.xanes(
        valence=[2.0, 2.5, 3.0], edge_shift=[0.0, 0.3, -0.2], n_scans=3, seed=1
    )
    e_edge = (
        sim.EDGE_NI2
        + sim.EV_PER_VALENCE * (ds.true_valence.values - 2)
        + ds.true_edge_shift.values
    )
    e_pre = ds.true_preedge_centroid.values
    at = sim._normalized(ds.true_e0.values, e_edge, e_pre, ds.true_feature_c.values)
    np.testing.assert_allclose(at, 0.8, atol=1e-8)
    # no earlier upward crossing on a 1 meV grid
    for i in range(3):
        fine = np.arange(ds.true_e0.values[i] - 30, ds.true_e0.values[i] - 0.001, 0.001)
        assert np.all(sim._normalized(fine, e_edge[i], e_pre[i], 0.0) < 0.8)


def test_valence_moves_the_edge_by_the_documented_constant():
    ds = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, seed=0)
    assert abs(float(ds.true_e0[1] - ds.true_e0[0]) - sim.EV_PER_VALENCE) < 0.01


def test_energy_offset_moves_sample_and_reference_together():
    a = spectro.simulate.xanes(reference=True, seed=2)
    b = spectro.simulate.xanes(reference=True, energy_offset=1.0, seed=2)
    assert float(b.true_e0[0] - a.true_e0[0]) == pytest.approx(1.0, abs=1e-9)
    # 1 eV = 4 grid steps: the spectra are the same, moved by 4 points
    # (the Victoreen background and the post-edge decay are not shifted: compare
    # the rising edge, where they change by far less than the tolerance)
    edge = slice(560, 620)
    moved = slice(556, 616)
    np.testing.assert_allclose(b.mu.values[0, edge], a.mu.values[0, moved], atol=2e-3)
    np.testing.assert_allclose(
        b.mu_ref.values[0, edge], a.mu_ref.values[0, moved], atol=2e-3
    )


def test_foil_derivative_maximum_is_the_tabulated_edge():
    e = np.arange(8320.0, 8350.0, 0.001)
    ds = spectro.simulate.xanes(energy=e, reference=True, energy_offset=0.4, seed=5)
    d = np.gradient(ds.mu_ref.values[0], e)
    assert abs(e[np.argmax(d)] - (xraydb.xray_edge("Ni", "K").energy + 0.4)) < 0.005


def test_core_width_comes_from_xraydb():
    assert sim.CORE_WIDTH == xraydb.core_width("Ni", "K")


def test_post_edge_recrosses_08_after_the_white_line():
    e = np.arange(8300.0, 8450.0, 0.05)
    norm = sim._normalized(e, sim.EDGE_NI2, sim.PREEDGE_NI2, 0.0)
    above = norm >= 0.8
    ups = np.flatnonzero(~above[:-1] & above[1:])
    downs = np.flatnonzero(above[:-1] & ~above[1:])
    assert len(ups) >= 2 and len(downs) >= 1


def test_noise_level_is_relative_to_the_step(rng):
    clean = spectro.simulate.xanes(seed=9)
    noisy = spectro.simulate.xanes(noise=0.01, seed=9)
    from spectro.xanes import normalize_arrays

    step = normalize_arrays(clean.energy.values, clean.mu.values).edge_step[0]
    resid = (noisy.mu - clean.mu).values[0]
    assert np.std(resid) / step == pytest.approx(0.01, rel=0.1)


def test_feature_c_adds_its_height_at_8358():
    a = spectro.simulate.xanes(seed=3)
    b = spectro.simulate.xanes(feature_c=0.2, seed=3)
    i = int(np.argmin(np.abs(a.energy.values - 8358.0)))
    from spectro.xanes import normalize_arrays

    step = normalize_arrays(a.energy.values, a.mu.values).edge_step[0]
    assert float(b.mu[0, i] - a.mu[0, i]) / step == pytest.approx(0.2, rel=0.03)


def test_glitches_are_marked():
    ds = spectro.simulate.xanes(glitches=4, n_scans=2, seed=1)
    assert int(ds.true_glitch.sum()) == 8


def test_per_scan_arrays_must_match_n_scans():
    with pytest.raises(DataError, match="valence"):
        spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=3)


def test_deterministic():
    a = spectro.simulate.xanes(noise=0.01, seed=11)
    b = spectro.simulate.xanes(noise=0.01, seed=11)
    np.testing.assert_array_equal(a.mu.values, b.mu.values)
