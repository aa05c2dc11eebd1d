"""Slopes of edge shift against Ni-O contraction, and the structural verdict."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from spectro.errors import DataError
from spectro.pressure import (
    NIO,
    BondTable,
    compare_slopes,
    edge_shift_vs_contraction,
    fit_line,
    relative_series,
)
from spectro.pressure.contraction import bond_contraction
from spectro.simulate import pressure_series
from spectro.simulate.series import MODEL_SAMPLE_BOND

# Pearson's data with York's weights (York 1966; York et al. 2004, Table I).
PEARSON_X = np.array([0.0, 0.9, 1.8, 2.6, 3.3, 4.4, 5.2, 6.1, 6.5, 7.4])
PEARSON_Y = np.array([5.9, 5.4, 4.4, 4.6, 3.5, 3.7, 2.8, 2.8, 2.4, 1.5])
PEARSON_WX = np.array([1000, 1000, 500, 800, 200, 80, 60, 20, 1.8, 1.0])
PEARSON_WY = np.array([1, 1.8, 4, 8, 20, 20, 70, 70, 100, 500.0])


def test_fit_line_reproduces_york_pearson_solution():
    """Published solution: b = -0.4805334, a = 5.4799102, σb ≈ 0.0576, σa ≈ 0.292
    (York et al., Am. J. Phys. 72, 367 (2004); Cantrell, Atmos. Chem. Phys. 8, 5477 (2008))."""
    fit = fit_line(PEARSON_X, PEARSON_Y, x_err=PEARSON_WX**-0.5, y_err=PEARSON_WY**-0.5)
    assert fit.slope == pytest.approx(-0.4805334, abs=2e-7)
    assert fit.intercepts[0] == pytest.approx(5.4799102, abs=2e-7)
    assert fit.slope_err == pytest.approx(0.0576, rel=0.03)
    assert fit.intercepts_err[0] == pytest.approx(0.292, rel=0.03)


def test_fit_line_without_x_errors_is_weighted_least_squares(rng):
    x = np.linspace(0, 1, 15)
    sy = rng.uniform(0.05, 0.2, x.size)
    y = 2.0 - 3.0 * x + rng.normal(0, sy)
    fit = fit_line(x, y, y_err=sy)
    coef, cov = np.polyfit(x, y, 1, w=1 / sy, cov="unscaled")
    assert fit.slope == pytest.approx(coef[0], rel=1e-9)
    assert fit.slope_err == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-6)


def test_fit_line_slope_errors_match_scatter_with_errors_in_both(rng):
    x_true = np.linspace(-0.06, 0.0, 12)
    sx, sy = 0.002, 0.03
    pulls = []
    for _ in range(300):
        x = x_true + rng.normal(0, sx, x_true.size)
        y = 0.1 - 15.0 * x_true + rng.normal(0, sy, x_true.size)
        fit = fit_line(x, y, x_err=sx, y_err=sy)
        pulls.append((fit.slope + 15.0) / fit.slope_err)
    assert abs(np.mean(pulls)) < 0.25
    assert 0.85 < np.std(pulls) < 1.15


def test_fit_line_groups_share_slope(rng):
    x = np.tile(np.linspace(0, 10, 8), 2)
    groups = np.repeat(["a", "b"], 8)
    y = np.where(groups == "a", 1.0, 5.0) + 0.4 * x + rng.normal(0, 0.01, x.size)
    fit = fit_line(x, y, y_err=0.01, groups=groups)
    assert fit.groups == ("a", "b")
    assert fit.slope == pytest.approx(0.4, abs=4 * fit.slope_err)
    np.testing.assert_allclose(fit.intercepts, [1.0, 5.0], atol=4 * fit.intercepts_err.max())
    with pytest.raises(DataError):
        fit_line([1.0, 2.0], [1.0, 2.0], y_err=0.1)


def test_compare_slopes_z_test():
    c = compare_slopes(-20.0, 1.0, -15.0, 1.0)
    assert c.z == pytest.approx(-5 / np.sqrt(2))
    assert not c.consistent
    assert c.verdict.startswith("not consistent with a purely structural shift at 95 %")
    # Exactly at the 95 % two-sided threshold, 1.959964 sigma.
    assert compare_slopes(1.959, 1.0, 0.0, 0.0, alpha=0.05).consistent
    assert not compare_slopes(1.961, 1.0, 0.0, 0.0, alpha=0.05).consistent
    assert "99 %" in compare_slopes(0.0, 1.0, 0.0, 1.0, alpha=0.01).verdict


def test_bond_contraction_uses_path_reference_pressure():
    res = xr.Dataset({"e0": ("scan", [0.0, 0.1, 0.2])}, coords={
        "scan": ["a", "b", "c"], "pressure": ("scan", [2.0, 10.0, 20.0]),
        "pressure_err": ("scan", [0.1, 0.1, 0.2]), "run": ("scan", ["r"] * 3)})
    d, dd, err = bond_contraction(relative_series(res), NIO)
    np.testing.assert_allclose(dd, d - NIO.distance(2.0))
    np.testing.assert_allclose(err, np.abs(NIO.slope([2.0, 10.0, 20.0])) * [0.1, 0.1, 0.2])


def truth_results(ds, *, e0_err=0.02, seed=0):
    """Results as an analysis would give them: true E0 plus its stated error."""
    rng = np.random.default_rng(seed)
    n = ds.sizes["scan"]
    return xr.Dataset(
        {"e0": ("scan", ds.true_e0.values + rng.normal(0, e0_err, n), {"units": "eV"}),
         "e0_err": ("scan", np.full(n, e0_err), {"units": "eV"}),
         "preedge_centroid": ("scan", ds.true_preedge_centroid.values + rng.normal(0, 0.03, n)),
         "preedge_centroid_err": ("scan", np.full(n, 0.03)),
         "feature_c": ("scan", ds.true_feature_c.values)},
        coords={k: ds[k] for k in ("scan", "pressure", "pressure_err", "temperature", "run", "sample")},
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_structural_series_slopes_recovered_and_consistent(seed):
    ds = pressure_series(slope=-15.0, seed=seed)
    series = relative_series(truth_results(ds, seed=seed))
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    assert abs(res.sample.slope + 15.0) < 3 * res.sample.slope_err
    assert abs(res.reference.slope + 15.0) < 3 * res.reference.slope_err
    assert res.sample.slope_err < 0.6 and res.reference.slope_err < 0.6
    assert res.comparison.consistent
    assert res.verdict.startswith("consistent with a purely structural shift at 95 %")
    assert res.sample.groups == ("run2/p2", "run3/p1")
    assert res.reference.groups == ("nio/p1",)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_added_valence_change_is_flagged(seed):
    ds = pressure_series(slope=-15.0, valence_rate=0.01, valence_onset=14.0, seed=seed)
    series = relative_series(truth_results(ds, seed=seed))
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    assert not res.comparison.consistent
    assert res.comparison.z < -3
    assert res.verdict.startswith("not consistent")


def test_different_nio_slope_is_detected_and_equal_slopes_are_not():
    ds = pressure_series(slope=-15.0, nio_slope=-25.0, seed=4)
    res = edge_shift_vs_contraction(relative_series(truth_results(ds)), sample_bond=MODEL_SAMPLE_BOND)
    assert abs(res.reference.slope + 25.0) < 3 * res.reference.slope_err
    assert not res.comparison.consistent


def test_contraction_needs_reference_scans_and_table_range():
    ds = pressure_series(seed=0)
    series = relative_series(truth_results(ds))
    sample_only = series.isel(scan=np.flatnonzero(series.sample.values != "NiO"))
    with pytest.raises(DataError, match="NiO"):
        edge_shift_vs_contraction(sample_only, sample_bond=MODEL_SAMPLE_BOND)
    short = BondTable(np.array([0.0, 10.0]), np.array([1.92, 1.90]), "in_plane")
    with pytest.raises(DataError, match="extrapolate"):
        edge_shift_vs_contraction(series, sample_bond=short)
