"""Normalization: agreement with xraylarch, invariances, windows, NaN handling."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spectro
from spectro.errors import MissingRegionWarning
from spectro.xanes import normalize, normalize_arrays

REAL = [
    "xanes/ceric_NiO_111.xdi",
    "xanes/ceric_LaNiO3_Ni_80K_111.xdi",
    "xanes/ceric_Ni_foil_111.xdi",
    "xanes/larch_ni_metal_rt.xdi",
    "xanes/xaslib_Ni2O3_rt_01.xdi",
    "xanes/xaslib_NiS_rt_01.xdi",
    "xanes/xaslib_Ni_metal_rt_01.xdi",
    "xanes/larch_NiO.prj",
]
WINDOWS = [
    {
        "pre1": -150.0,
        "pre2": -30.0,
        "norm1": 50.0,
        "norm2": 400.0,
        "nnorm": 2,
        "nvict": 0,
    },
    {
        "pre1": -100.0,
        "pre2": -20.0,
        "norm1": 30.0,
        "norm2": 250.0,
        "nnorm": 1,
        "nvict": 0,
    },
    {
        "pre1": -150.0,
        "pre2": -40.0,
        "norm1": 75.0,
        "norm2": 600.0,
        "nnorm": 3,
        "nvict": 3,
    },
]


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path)


@pytest.mark.parametrize("rel", REAL)
@pytest.mark.parametrize("win", range(len(WINDOWS)))
def test_matches_larch_pre_edge(rel, win, data_file, larch):
    from larch.xafs import pre_edge

    ds = _read(data_file(rel))
    w = WINDOWS[win]
    for i in range(ds.sizes["scan"]):
        ok = np.isfinite(ds.mu.values[i])
        e, mu = ds.energy.values[ok], ds.mu.values[i][ok]
        ours = normalize_arrays(e, mu, **w)
        group = larch.Group()
        pre_edge(e, mu, group=group, e0=float(ours.e0), **w)
        assert ours.edge_step == pytest.approx(group.edge_step, rel=0.005)
        inside = (e >= ours.e0 + ours.pre1) & (e <= ours.e0 + ours.norm2)
        assert np.max(np.abs(ours.norm[inside] - group.norm[inside])) < 0.01


def test_nan_padding_is_no_point():
    ds = spectro.simulate.xanes(n_scans=2, seed=1)
    e, mu = ds.energy.values, ds.mu.values.copy()
    holes = mu.copy()
    holes[1, ::3] = np.nan
    full = normalize_arrays(e[None, ::1], mu[1:2])
    keep = np.isfinite(holes[1])
    sparse = normalize_arrays(e[keep], mu[1, keep], e0=full.e0[0])
    padded = normalize_arrays(e, holes, e0=np.array([full.e0[0], full.e0[0]]))
    assert padded.edge_step[1] == pytest.approx(float(sparse.edge_step), rel=1e-12)
    np.testing.assert_allclose(padded.norm[1][keep], sparse.norm, rtol=1e-9, atol=1e-12)
    assert np.all(np.isnan(padded.norm[1][~keep]))


def test_windows_are_clipped_to_short_dac_scans_and_recorded():
    e = np.arange(8300.0, 8450.0, 0.25)
    ds = spectro.simulate.xanes(energy=e, seed=2)
    r = normalize_arrays(e, ds.mu.values)
    assert r.pre1[0] == pytest.approx(8300.0 - r.e0[0])
    assert r.norm2[0] == pytest.approx(e[-1] - r.e0[0])
    assert r.nnorm == 1
    assert np.isfinite(r.edge_step).all()


def test_too_short_window_gives_nan_and_the_dataset_function_warns():
    e = np.arange(8330.0, 8450.0, 0.25)
    ds = spectro.simulate.xanes(energy=e, seed=2)
    r = normalize_arrays(e, ds.mu.values, e0=8342.0, pre1=-150.0, pre2=-30.0)
    assert np.isnan(r.edge_step).all() and not r.ok.any()
    with pytest.warns(MissingRegionWarning, match="scans 'sim0000': too few points"):
        out = spectro.xanes.normalize(ds, e0_anchor=8342.0)
    assert np.isnan(out.edge_step).all()


@given(scale=st.floats(0.01, 100.0), offset=st.floats(-50.0, 50.0))
def test_invariant_to_scale_and_offset(scale, offset):
    ds = spectro.simulate.xanes(noise=0.002, seed=7)
    e, mu = ds.energy.values, ds.mu.values
    a = normalize_arrays(e, mu)
    b = normalize_arrays(e, mu * scale + offset)
    np.testing.assert_allclose(b.norm, a.norm, atol=1e-7)
    assert b.edge_step[0] == pytest.approx(scale * a.edge_step[0], rel=1e-7)


@given(seed=st.integers(0, 1000))
def test_inputs_not_mutated(seed):
    ds = spectro.simulate.xanes(n_scans=2, noise=0.01, seed=seed)
    e, mu = ds.energy.values.copy(), ds.mu.values.copy()
    mu[0, 100] = np.nan
    keep_e, keep_mu = e.copy(), mu.copy()
    normalize_arrays(e, mu)
    np.testing.assert_array_equal(e, keep_e)
    np.testing.assert_array_equal(mu, keep_mu)


def test_victoreen_prefit_removes_e_minus_3_background():
    e = np.arange(8100.0, 8700.0, 0.5)
    ds = spectro.simulate.xanes(energy=e, seed=3)
    bg = 5.0 * (e / 8333.0) ** -3
    r_line = normalize_arrays(e, ds.mu.values + bg, pre1=-240, pre2=-40, nvict=0)
    r_vict = normalize_arrays(e, ds.mu.values + bg, pre1=-240, pre2=-40, nvict=3)
    ref = normalize_arrays(e, ds.mu.values, pre1=-240, pre2=-40, nvict=3)
    # the E^-3 form describes the added background exactly, a line does not
    assert abs(r_vict.edge_step[0] - ref.edge_step[0]) < abs(
        r_line.edge_step[0] - ref.edge_step[0]
    )


def test_flat_removes_post_edge_curvature():
    ds = spectro.simulate.xanes(seed=4)
    r = normalize_arrays(ds.energy.values, ds.mu.values)
    e = ds.energy.values
    far = e > r.e0[0] + 150
    assert abs(np.mean(r.flat[0][far]) - 1.0) < 0.01
    below = e < r.e0[0]
    np.testing.assert_array_equal(r.flat[0][below], r.norm[0][below])


def test_dataset_wrapper_records_parameters_and_works_on_dask():
    ds = spectro.simulate.xanes(n_scans=4, seed=1)
    out = normalize(ds, norm1=40.0)
    assert out.norm.dims == ("scan", "energy")
    assert out.norm1.values.tolist() == [40.0] * 4
    assert out.edge_step.attrs["e0_anchor"] == "derivative maximum"
    lazy = normalize(ds.chunk({"scan": 2}), norm1=40.0)
    np.testing.assert_allclose(lazy.norm.compute().values, out.norm.values)
