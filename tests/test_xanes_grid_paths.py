"""The shared-grid fast paths of the XANES kernels agree with the general paths.

Spectra on one 1-D grid without missing points take the fast paths
(convolutions of all rows, index-range window sums, column slices). Giving
each row its own energies, shifted by a different constant, forces the
general paths (per-row weights, compaction, per-row local fits); every
result must then be the same, with energies shifted by that constant.
"""

import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import spectro
from spectro.xanes import (
    _arrays,
    e0_crossing_arrays,
    e0_crossings,
    e0_derivative_arrays,
    normalize_arrays,
    preedge_centroid_arrays,
)

N = 24
WINDOWS = [
    {},
    {"pre1": -100.0, "pre2": -20.0, "norm1": 30.0, "norm2": 250.0, "nnorm": 1},
    {"nnorm": 3, "nvict": 3.0, "norm2": -20.0},
    {"npre": 0, "nnorm": 0, "norm1": 40.0, "norm2": 120.0},
]


@pytest.fixture(scope="module")
def spectra():
    ds = spectro.simulate.xanes(
        valence=np.linspace(2.0, 3.0, N),
        edge_shift=np.linspace(-1.0, 1.0, N),
        n_scans=N,
        noise=0.005,
        seed=11,
    )
    e = ds.energy.values
    shift = 0.37 * np.arange(N)  # eV, per row
    return e, ds.mu.values, shift, e[None, :] + shift[:, None]


@pytest.mark.parametrize("win", range(len(WINDOWS)))
def test_normalization_same_on_both_paths(spectra, win):
    e, mu, shift, rows = spectra
    if WINDOWS[win].get("nvict"):  # mu * E**nvict depends on E itself: no shift
        shift, rows = 0.0 * shift, np.broadcast_to(e, mu.shape).copy()
    fast = normalize_arrays(e, mu, **WINDOWS[win])
    general = normalize_arrays(rows, mu, **WINDOWS[win])
    np.testing.assert_allclose(general.e0, fast.e0 + shift, rtol=0, atol=1e-9)
    np.testing.assert_allclose(general.edge_step, fast.edge_step, rtol=1e-8)
    np.testing.assert_allclose(general.edge_step_err, fast.edge_step_err, rtol=1e-6)
    np.testing.assert_allclose(general.level_err, fast.level_err, rtol=1e-6)
    np.testing.assert_allclose(general.sigma, fast.sigma, rtol=1e-8)
    for name in ("norm", "flat"):
        np.testing.assert_allclose(
            getattr(general, name), getattr(fast, name), rtol=0, atol=1e-8
        )
    for name in ("pre_edge", "post_edge"):
        np.testing.assert_allclose(
            getattr(general, name), getattr(fast, name), rtol=1e-8, atol=1e-10
        )
    np.testing.assert_array_equal(general.nnorm, fast.nnorm)


def test_edge_positions_same_on_both_paths(spectra):
    e, mu, shift, rows = spectra
    n = normalize_arrays(e, mu)
    for kw in ({}, {"search": (8300.0, 8400.0)}):
        fast = e0_derivative_arrays(e, mu, **kw)
        if "search" in kw:
            # the same window on the shifted energies of each row, one row at a time
            general = [
                e0_derivative_arrays(
                    rows[i], mu[i], search=(8300.0 + shift[i], 8400.0 + shift[i])
                )
                for i in range(N)
            ]
            got = np.array([float(g.e0) for g in general])
            err = np.array([float(g.e0_err) for g in general])
        else:
            general = e0_derivative_arrays(rows, mu)
            got, err = general.e0, general.e0_err
        np.testing.assert_allclose(got, fast.e0 + shift, rtol=0, atol=1e-9)
        np.testing.assert_allclose(err, fast.e0_err, rtol=1e-6)
    fast = e0_crossing_arrays(e, n.norm, level_err=n.level_err)
    general = e0_crossing_arrays(rows, n.norm, level_err=n.level_err)
    np.testing.assert_allclose(general.e0, fast.e0 + shift, rtol=0, atol=1e-9)
    np.testing.assert_allclose(general.e0_err, fast.e0_err, rtol=1e-6)


def test_noise_and_local_fits_same_on_both_paths(spectra):
    e, mu, _, rows = spectra
    shared = np.broadcast_to(e, mu.shape)
    np.testing.assert_allclose(
        _arrays.noise_sigma(rows, mu), _arrays.noise_sigma(shared, mu), rtol=1e-8
    )
    coef, var = _arrays.local_poly(shared, mu, 1.5, 2)
    coef_g, var_g = _arrays.local_poly(rows, mu, 1.5, 2)
    for k in range(3):
        np.testing.assert_allclose(coef_g[k], coef[k], rtol=1e-7, atol=1e-9)
    # inside the data the variance is that of the full window on both paths
    np.testing.assert_allclose(var_g[1][:, 5:-5], var[1][:, 5:-5], rtol=1e-9)


def test_preedge_centroid_same_on_both_paths(spectra):
    e, mu, _, _ = spectra
    n = normalize_arrays(e, mu)
    fast = preedge_centroid_arrays(e, n.norm, sigma=n.sigma)
    # per-row energies (identical rows) take the masked, compacting path
    general = preedge_centroid_arrays(
        np.broadcast_to(e, n.norm.shape).copy(), n.norm, sigma=n.sigma
    )
    for name in ("centroid", "centroid_err", "area", "area_err", "height"):
        np.testing.assert_allclose(
            getattr(general, name), getattr(fast, name), rtol=1e-9, atol=1e-12
        )
    np.testing.assert_array_equal(np.isnan(general.baseline), np.isnan(fast.baseline))
    np.testing.assert_allclose(general.baseline, fast.baseline, rtol=1e-12)


@pytest.fixture(scope="module")
def nonuniform():
    """Spectra on one shared grid: coarse, fine through the edge, coarse again."""
    e = np.concatenate(
        [np.arange(8200.0, 8320.0, 2.0), np.arange(8320.0, 8360.0, 0.4), np.arange(8360.0, 8700.0, 2.0)]
    )
    ds = spectro.simulate.xanes(
        valence=np.linspace(2.0, 3.0, N), energy=e, n_scans=N, noise=0.003, seed=5
    )
    mu = ds.mu.values
    return e, mu, np.broadcast_to(e, mu.shape).copy()


@pytest.mark.parametrize("width, degree", [(0.5, 2), (1.5, 2), (5.0, 2), (3.0, 1), (9.0, 3)])
def test_local_fits_on_shared_nonuniform_grid(nonuniform, width, degree):
    e, mu, rows = nonuniform
    assert _arrays.uniform_step(e, mu) is None
    coef, var = _arrays.local_poly(np.broadcast_to(e, mu.shape), mu, width, degree)
    coef_g, var_g = _arrays.local_poly(rows, mu, width, degree)
    for k in range(degree + 1):
        np.testing.assert_allclose(coef[k], coef_g[k], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(var[k], var_g[k], rtol=1e-9)
    some, _ = _arrays.local_poly(
        np.broadcast_to(e, mu.shape), mu, width, degree, orders=(1,), finite=True
    )
    assert some[0] is None
    np.testing.assert_allclose(some[1], coef_g[1], rtol=1e-9, atol=1e-9)


def test_local_fits_on_short_shared_grid_are_nan_like_general_path():
    e = np.array([1.0, 1.5, 3.0])
    mu = np.array([[1.0, 2.0, 4.0], [0.0, 1.0, -1.0]])
    coef, _ = _arrays.local_poly(e, mu, 0.2, 3)
    coef_g, _ = _arrays.local_poly(np.broadcast_to(e, mu.shape).copy(), mu, 0.2, 3)
    assert np.isnan(coef_g[0]).all()
    for k in range(4):
        np.testing.assert_array_equal(coef[k], coef_g[k])


def test_kernels_on_shared_nonuniform_grid(nonuniform):
    e, mu, rows = nonuniform
    np.testing.assert_allclose(
        _arrays.noise_sigma(np.broadcast_to(e, mu.shape), mu),
        _arrays.noise_sigma(rows, mu),
        rtol=1e-9,
    )
    fast, general = normalize_arrays(e, mu), normalize_arrays(rows, mu)
    for name in ("e0", "edge_step", "edge_step_err", "sigma", "norm"):
        np.testing.assert_allclose(
            getattr(fast, name), getattr(general, name), rtol=1e-9, atol=1e-9
        )
    fast, general = e0_derivative_arrays(e, mu), e0_derivative_arrays(rows, mu)
    np.testing.assert_allclose(fast.e0, general.e0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.e0_err, general.e0_err, rtol=1e-9)
    n = normalize_arrays(e, mu)
    fast = preedge_centroid_arrays(e, n.norm, sigma=n.sigma)
    general = preedge_centroid_arrays(rows, n.norm, sigma=n.sigma)
    for name in ("centroid", "centroid_err", "area", "area_err"):
        np.testing.assert_allclose(
            getattr(fast, name), getattr(general, name), rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("width, degree", [(1.0, 2), (1.5, 2), (9.0, 3)])
def test_local_fits_on_ragged_rows_are_those_of_each_row_alone(nonuniform, width, degree):
    """Rows of very different lengths (joined end to end inside) get the fits they get alone."""
    e, mu, _ = nonuniform
    keep = [e.size, 60, 25, e.size // 2, 140]
    x = np.full((len(keep), e.size), np.nan)
    y = np.full(x.shape, np.nan)
    for i, n in enumerate(keep):
        start = min(50, e.size - n)  # every row takes in the fine part of the grid
        x[i, :n], y[i, :n] = e[start : start + n], mu[i, start : start + n]
        assert _arrays.uniform_step(x[i, :n], y[i, :n]) is None
    assert np.isfinite(x).sum() < 0.6 * x.size  # padded enough to take the joined path
    coef, var = _arrays.local_poly(x, y, width, degree)
    for i, n in enumerate(keep):
        alone, alone_var = _arrays.local_poly(x[i : i + 1, :n].copy(), y[i : i + 1, :n], width, degree)
        for k in range(degree + 1):
            np.testing.assert_array_equal(coef[k][i, :n], alone[k][0])
            np.testing.assert_array_equal(var[k][i, :n], alone_var[k][0])
            assert np.isnan(coef[k][i, n:]).all()


def test_crossings_of_ragged_rows_with_their_own_ranges_are_those_of_each_row_alone(nonuniform):
    """Rows on their own grids are cut to their search ranges; each keeps the crossing it has alone."""
    e, mu, _ = nonuniform
    norm = normalize_arrays(e, mu).norm
    keep = [e.size, 200, 180, e.size - 40]  # every row runs through the edge, the others far beyond
    x = np.full((len(keep), e.size), np.nan)
    y = np.full(x.shape, np.nan)
    for i, n in enumerate(keep):
        x[i, :n], y[i, :n] = e[:n], norm[i, :n]
    lo, hi = np.array([8320.0, 8325.0, 8315.0, 8322.0]), np.array([8360.0, 8350.0, 8345.0, 8370.0])
    together = e0_crossings(x, y, levels=(0.8, 0.5), sigma=0.003, search=(lo, hi))
    for i, n in enumerate(keep):
        alone = e0_crossings(x[i : i + 1, :n].copy(), y[i : i + 1, :n], levels=(0.8, 0.5), sigma=0.003,
                             search=(lo[i : i + 1], hi[i : i + 1]))
        on_grid = e0_crossings(x[i, :n], y[i, :n], levels=(0.8, 0.5), sigma=0.003, search=(lo[i], hi[i]))
        for level in range(2):
            assert together[level].e0[i] == alone[level].e0[0]
            assert together[level].e0_err[i] == pytest.approx(alone[level].e0_err[0], rel=1e-12)
            assert together[level].e0[i] == pytest.approx(float(on_grid[level].e0), abs=1e-9)
    assert np.isfinite(together[0].e0).all()


@given(
    hnp.arrays(
        float,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=9),
        elements=st.one_of(  # (numpy's own median overflows for finite values near the float limit)
            st.floats(min_value=-1e300, max_value=1e300),
            st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0]),
        ),
    )
)
def test_nan_row_median_is_numpys_nanmedian(a):
    """The sort-based median of the general noise path gives np.nanmedian's answer, all-NaN rows NaN."""
    kept = a.copy()
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(a, axis=-1) if a.shape[-1] else np.full(a.shape[:-1], np.nan)
        got = _arrays.nan_row_median(a)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(a, kept)


@given(
    st.lists(
        st.lists(st.floats(min_value=0.01, max_value=5.0), min_size=0, max_size=40),
        min_size=1, max_size=5,
    ),
    st.floats(min_value=0.01, max_value=30.0),
    st.sampled_from([1, 3, 64, 256]),
)
def test_max_offset_is_the_largest_neighbour_offset_within_the_width(steps, width, limit):
    """Doubling and bisection over offsets find what counting every pair finds (ragged rows, NaN tails)."""
    n = max(len(s) for s in steps) + 1
    x = np.full((len(steps), n), np.nan)
    for i, s in enumerate(steps):
        x[i, : len(s) + 1] = 8300.0 + np.concatenate([[0.0], np.cumsum(s)])
    reach = width * (1 + 1e-9) + 1e-9
    counted = max(
        (j - i for row in x for i in range(n) for j in range(i + 1, n) if row[j] - row[i] <= reach),
        default=1,
    )
    assert _arrays.max_offset(x, width, limit) == min(limit, max(1, counted))
