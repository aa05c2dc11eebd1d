"""The XANES simulator's systematics do what they say: end-member mixtures, damping, drift, noise, foils."""

import importlib

import numpy as np
import pytest

import spectro
from spectro.errors import DataError
from spectro.xanes import e0_derivative_arrays, normalize_arrays
from spectro.xanes._derivative import derivative_arrays

sim = importlib.import_module("spectro.simulate._xanes")


def _step(ds):
    return normalize_arrays(ds.energy.values, ds.mu.values).edge_step


def test_mixture_end_member_at_valence_2_is_the_rigid_model_to_the_bit():
    rigid = spectro.simulate.xanes(valence=2.0, reference=True, noise=0.003, seed=6)
    mixed = spectro.simulate.xanes(valence=2.0, model="mixture", reference=True, noise=0.003, seed=6)
    np.testing.assert_array_equal(rigid.mu.values, mixed.mu.values)
    np.testing.assert_array_equal(rigid.true_e0.values, mixed.true_e0.values)


def test_mixture_is_the_weighted_sum_of_the_end_members_before_noise():
    x = np.array([0.0, 0.25, 0.6, 1.0])
    kw = {"n_scans": 4, "model": "mixture", "seed": 3, "edge_shift": 0.4}
    mix = spectro.simulate.xanes(valence=2.0 + x, **kw)
    ni2 = spectro.simulate.xanes(valence=2.0, **kw)  # same seed: same scale, offset and background
    ni3 = spectro.simulate.xanes(valence=3.0, **kw)
    weighted = (1 - x[:, None]) * ni2.mu.values + x[:, None] * ni3.mu.values
    # equal but for the post-edge decay, anchored at each spectrum's mean edge: < 4e-4 of the step
    assert np.max(np.abs(mix.mu.values - weighted) / _step(mix)[:, None]) < 4e-4
    np.testing.assert_allclose(mix.true_mixture.values, x)
    np.testing.assert_allclose(mix.true_valence.values, 2.0 + x)
    # the end members differ in shape, not only in position: the Ni3+ white line is lower
    assert sim.LANIO3_LIKE.white_line_height < sim.NIO_LIKE.white_line_height
    assert sim.LANIO3_LIKE.edge_spread > sim.NIO_LIKE.edge_spread


def test_true_e0_of_a_mixture_is_the_08_crossing_of_the_mixture():
    x = np.array([0.1, 0.5, 0.9])
    ds = spectro.simulate.xanes(valence=2.0 + x, n_scans=3, model="mixture", feature_c=0.05,
                                energy_offset=[0.2, -0.5, 1.0], seed=2)
    e0 = ds.true_e0.values - ds.true_energy_offset.values
    at = sim._mixture(e0, x, 0.0, 0.0, 0.05)
    np.testing.assert_allclose(at, 0.8, atol=1e-8)
    for i in range(3):
        fine = np.arange(e0[i] - 30, e0[i] - 0.001, 0.001)
        assert np.all(sim._mixture(fine, x[i], 0.0, 0.0, 0.05) < 0.8)
    # not the rigid shift: the crossing of a mixture is not 2 eV per valence unit from the Ni2+ one
    rigid = spectro.simulate.xanes(valence=2.0 + x, n_scans=3, feature_c=0.05, energy_offset=[0.2, -0.5, 1.0],
                                   seed=2)
    assert np.max(np.abs(ds.true_e0.values - rigid.true_e0.values)) > 0.1
    # nor linear in the fraction: below the chord through the end members by about 0.1 eV
    ends = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, model="mixture", feature_c=0.05, seed=2)
    chord = ends.true_e0.values[0] + x * (ends.true_e0.values[1] - ends.true_e0.values[0])
    below = chord - (ds.true_e0.values - ds.true_energy_offset.values)
    assert 0.05 < below.max() < 0.15 and below.min() > 0.0
    # the pre-edge centroid is the area-weighted mean of the two peaks
    a, b = (1 - x) * sim.NIO_LIKE.preedge_height, x * sim.LANIO3_LIKE.preedge_height
    expected = (a * sim.NIO_LIKE.preedge + b * sim.LANIO3_LIKE.preedge) / (a + b) + ds.true_energy_offset.values
    np.testing.assert_allclose(ds.true_preedge_centroid.values, expected)


def test_mixture_valences_outside_the_end_members_are_refused():
    with pytest.raises(DataError, match="between 2 and 3"):
        spectro.simulate.xanes(valence=3.2, model="mixture")


def test_self_absorption_damps_the_white_line_and_moves_the_edge_down():
    clean = spectro.simulate.xanes(seed=5)
    damped = spectro.simulate.xanes(self_absorption=1.5, seed=5)
    n0 = normalize_arrays(clean.energy.values, clean.mu.values).norm[0]
    n1 = normalize_arrays(damped.energy.values, damped.mu.values).norm[0]
    assert n1.max() < n0.max() - 0.1
    # the sample's truth stays; the measured crossing is lower and is the 0.8 crossing of the damped model
    np.testing.assert_array_equal(clean.true_e0.values, damped.true_e0.values)
    assert float(damped.true_e0_measured[0]) < float(damped.true_e0[0]) - 0.3
    e_edge, e_pre = sim.EDGE_NI2, sim.PREEDGE_NI2
    at = sim._damped(sim._normalized(damped.true_e0_measured.values, e_edge, e_pre, 0.0), 1.5)
    np.testing.assert_allclose(at, 0.8, atol=1e-8)
    res = spectro.xanes.analyze(damped, preedge="centroid")
    assert abs(float(res.e0[0] - damped.true_e0_measured[0])) < 0.05


@pytest.mark.parametrize("kind", ["polynomial", "walk"])
def test_drift_is_recorded_and_changes_the_pre_edge_line(kind):
    clean = spectro.simulate.xanes(seed=7, n_scans=2)
    drifted = spectro.simulate.xanes(seed=7, n_scans=2, drift=0.05, drift_kind=kind)
    np.testing.assert_allclose(drifted.mu.values - clean.mu.values, drifted.true_drift.values, atol=1e-12)
    scale = _step(clean)
    rms = np.sqrt(np.mean(drifted.true_drift.values ** 2, axis=-1)) / scale
    np.testing.assert_allclose(rms, 0.05, rtol=0.1)  # relative to the edge step (the step is scale x 0.99..)
    e = clean.energy.values
    pre = e < 8310.0
    line0 = np.polyfit(e[pre], clean.mu.values[:, pre].T, 1)
    line1 = np.polyfit(e[pre], drifted.mu.values[:, pre].T, 1)
    drift_line = np.polyfit(e[pre], drifted.true_drift.values[:, pre].T, 1)
    np.testing.assert_allclose(line1 - line0, drift_line, atol=1e-9)
    assert np.all(np.abs(line1[1] - line0[1]) > 1e-3 * scale)
    assert drifted.attrs["simulation_drift"] == 0.05 and "simulation_drift" not in clean.attrs


def _residual(color, corr=0.0, n_scans=8, noise=0.01):
    clean = spectro.simulate.xanes(seed=1, n_scans=n_scans)
    noisy = spectro.simulate.xanes(seed=1, n_scans=n_scans, noise=noise, noise_color=color, noise_corr=corr)
    return (noisy.mu - clean.mu).values / _step(clean)[:, None]


def _lag1(r):
    r = r - r.mean(axis=-1, keepdims=True)
    return float(np.mean(np.sum(r[:, 1:] * r[:, :-1], -1) / np.sum(r * r, -1)))


@pytest.mark.parametrize("corr", [0.5, 0.9])
def test_ar1_noise_has_the_set_autocorrelation_and_level(corr):
    r = _residual("ar1", corr)
    assert _lag1(r) == pytest.approx(corr, abs=0.05)
    # the step is the scale times the model's jump (0.99 .. 1): the level within 10 %
    assert np.std(r) == pytest.approx(0.01, rel=0.1)
    assert abs(_lag1(_residual("white"))) < 0.05


def test_pink_noise_has_a_one_over_f_spectrum():
    r = _residual("pink")
    power = np.mean(np.abs(np.fft.rfft(r, axis=-1)) ** 2, axis=0)[1:]
    f = np.fft.rfftfreq(r.shape[-1])[1:]
    slope = np.polyfit(np.log(f), np.log(power), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.15)
    assert np.std(r) == pytest.approx(0.01, rel=0.1)


def test_counting_noise_grows_with_the_signal():
    clean = spectro.simulate.xanes(seed=4, n_scans=6)
    noisy = spectro.simulate.xanes(seed=4, n_scans=6, counting=0.01)
    r = (noisy.mu - clean.mu).values / _step(clean)[:, None]
    e = clean.energy.values
    below, above = r[:, e < 8320], r[:, (e > 8450) & (e < 8650)]
    assert np.std(below) < 0.002  # the normalized signal is about 0 there
    assert np.std(above) == pytest.approx(0.01, rel=0.15)  # about 1 there


def _derivative_maxima(e, y, lo=8308.0, hi=8360.0):
    d = derivative_arrays(e, y).d1
    idx = np.flatnonzero((e > lo) & (e < hi))
    dd = d[idx]
    keep = [j for j in range(1, idx.size - 1) if dd[j] >= dd[j - 1] and dd[j] >= dd[j + 1] and dd[j] > 0.25 * dd.max()]
    return e[idx[keep]], dd[keep] / dd.max()


def test_ni_foil_has_the_maxima_of_measured_ni_foils():
    ds = spectro.simulate.xanes(reference=True, foil="ni", energy_offset=0.5, seed=0)
    at, height = _derivative_maxima(ds.energy.values, ds.mu_ref.values[0])
    # measured Ni foils (bmm, ceric, larch, xaslib): 0, +6, +12, +23 eV; 1, 0.41-0.46, 0.85-0.95, 0.30-0.32
    rel = at - (8333.0 + 0.5)
    assert rel[0] == pytest.approx(0.0, abs=0.01) and height[0] == 1.0
    assert np.any(np.abs(rel - 6.0) < 1.0) and np.any(np.abs(rel - 12.0) < 1.0) and np.any(np.abs(rel - 23.0) < 1.0)
    assert height[np.argmin(np.abs(rel - 12.0))] == pytest.approx(0.95, abs=0.05)
    pos = e0_derivative_arrays(ds.energy.values, ds.mu_ref.values, first=0.7)
    assert float(pos.e0[0]) == pytest.approx(8333.5, abs=0.005)
    assert ds.attrs["simulation_foil"] == "ni"


def test_ambiguous_foil_has_derivative_maxima_of_similar_height():
    ds = spectro.simulate.xanes(reference=True, foil="ambiguous", seed=0)
    at, height = _derivative_maxima(ds.energy.values, ds.mu_ref.values[0])
    similar = height >= 0.6
    assert similar.sum() == 3
    # the first-maximum rule (0.7 of the largest) takes the one placed at the tabulated edge
    pos = e0_derivative_arrays(ds.energy.values, ds.mu_ref.values, first=0.7, search=(8308.0, 8358.0))
    assert float(pos.e0[0]) == pytest.approx(8333.0, abs=0.005)


def test_systematics_choices_are_checked():
    for bad in ({"model": "linear"}, {"noise_color": "blue"}, {"foil": "cu"}, {"drift_kind": "sine"},
                {"noise_corr": 1.0}, {"drift": -1.0}, {"self_absorption": -0.1}):
        with pytest.raises(DataError):
            spectro.simulate.xanes(**bad)
