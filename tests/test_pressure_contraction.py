"""Slopes of edge shift against Ni-O contraction, and the structural verdict."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from spectro.errors import DataError
from spectro.pressure import (
    NIO,
    NIO_EOS,
    BondTable,
    EOSBond,
    compare_slopes,
    edge_shift_vs_contraction,
    fit_line,
    relative_series,
)
from spectro.pressure.contraction import PRESSURE_SCALE_ERR, bond_contraction
from spectro.simulate import pressure_results
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
    assert c.verdict.startswith("evidence for a difference at 95 %")
    # the systematic part adds in quadrature; the detectable difference is (1.96 + 0.84) sigma
    c = compare_slopes(-20.0, 1.0, -15.0, 1.0, systematic=np.sqrt(23.0))
    assert c.difference_err == pytest.approx(5.0) and c.z == pytest.approx(-1.0) and c.consistent
    assert c.detectable == pytest.approx((1.959964 + 0.841621) * 5.0, rel=1e-6)
    assert compare_slopes(0.0, 1.0, 0.0, 0.0, power=0.5).detectable == pytest.approx(1.959964, rel=1e-6)
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


def truth_results(**kw):
    """Results as an analysis would give them: true E0 plus its stated error (0.01 eV)."""
    return pressure_results(**kw)


def drawn_truth(rng):
    """True NiO EOS, sample Ni-O table and gauge scale drawn around their stated values."""
    k0, k0p = rng.normal(NIO_EOS.k0, NIO_EOS.k0_err), rng.normal(NIO_EOS.k0p, NIO_EOS.k0p_err)
    nio = EOSBond(NIO_EOS.with_params(k0=k0, k0p=k0p, v0=rng.normal(NIO_EOS.v0, NIO_EOS.v0_err)))
    t = MODEL_SAMPLE_BOND
    scale = 1.0 + rng.normal(0.0, t.scale_err)
    sample = BondTable(t.pressure, t.value[0] + scale * (t.value - t.value[0]), t.name)
    return {"nio_bond": nio, "sample_bond": sample, "pressure_scale": rng.normal(0.0, PRESSURE_SCALE_ERR)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_structural_series_slopes_recovered_and_consistent(seed):
    series = relative_series(truth_results(slope=-15.0, seed=seed))
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND, ev_per_valence=2.0, valence_onset=14.0)
    for fit, sys_err in ((res.sample, res.sample_sys), (res.reference, res.reference_sys)):
        assert abs(fit.slope + 15.0) < 3 * fit.slope_err
        assert fit.slope_err < 0.6 and 0 < sys_err < 1.5
    assert res.comparison.consistent
    assert res.verdict.startswith("no evidence for a valence change at 95 %")
    assert "would have been detected with 80 % power" in res.verdict
    assert 0.002 < res.detectable_rate < 0.01  # valence units per GPa above 14 GPa
    assert res.sample.groups == ("run2/p2", "run3/p1")
    assert res.reference.groups == ("nio/p1",)


def test_systematic_parts_by_source():
    series = relative_series(truth_results(seed=7))
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    sysd = res.systematics
    # NiO: K0 known to 5 % -> about 5 % of 15 eV/Å; sample table: 3 %; a shared gauge nearly cancels
    assert 0.5 < sysd["reference_model"] < 0.9
    assert 0.3 < sysd["sample_model"] < 0.6
    assert sysd["pressure_scale"] < 0.2
    assert sysd["total"] == pytest.approx(np.sqrt(sysd["reference_model"] ** 2 + sysd["sample_model"] ** 2
                                                  + sysd["pressure_scale"] ** 2), rel=0.1)
    assert res.comparison.difference_sys == sysd["total"]
    # separate gauges for sample and NiO: the scale error no longer cancels
    gauges = np.where(series.sample.values == "NiO", "ruby-nio", "ruby-sample")
    apart = edge_shift_vs_contraction(series.assign_coords(pressure_gauge=("scan", gauges)),
                                      sample_bond=MODEL_SAMPLE_BOND)
    assert apart.systematics["pressure_scale"] > 2 * sysd["pressure_scale"]
    # exact models (no distance_draws, no scale error) leave only the statistical part
    exact = edge_shift_vs_contraction(series, sample_bond=BondTable(MODEL_SAMPLE_BOND.pressure,
                                      MODEL_SAMPLE_BOND.value, "in_plane"),
                                      reference_bond=EOSBond(NIO_EOS.with_params(k0_err=0.0, k0p_err=0.0,
                                                                                 v0_err=0.0)),
                                      pressure_scale_err=0.0)
    assert exact.systematics["total"] == pytest.approx(0.0, abs=1e-9)
    # reproducible
    again = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    assert again.systematics == sysd


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_added_valence_change_is_flagged_and_measured(seed):
    series = relative_series(truth_results(slope=-15.0, valence_rate=0.01, valence_onset=14.0, seed=seed))
    res = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND, ev_per_valence=2.0, valence_onset=14.0)
    assert not res.comparison.consistent
    assert res.comparison.z < -3
    assert res.verdict.startswith("evidence for a valence change at 95 %")
    assert abs(res.valence_rate - 0.01) < 2 * res.valence_rate_err


def test_size_of_the_test_over_40_structural_series():
    """Truth purely structural, with the NiO EOS, the sample's Ni-O model and the gauge scale
    drawn around their stated values: the 95 % test calls 90-98 % of the series consistent."""
    rng = np.random.default_rng(2024)
    consistent = [
        edge_shift_vs_contraction(relative_series(truth_results(seed=100 + i, **drawn_truth(rng))),
                                  sample_bond=MODEL_SAMPLE_BOND, n_draws=2000, seed=i).comparison.consistent
        for i in range(40)
    ]
    assert 36 <= sum(consistent) <= 39


def test_power_over_40_series_with_a_valence_change_above_14_gpa():
    """0.01 valence units per GPa above 14 GPa is detected in at least 90 % of 40 series."""
    rng = np.random.default_rng(77)
    detected = [
        not edge_shift_vs_contraction(
            relative_series(truth_results(seed=200 + i, valence_rate=0.01, valence_onset=14.0, **drawn_truth(rng))),
            sample_bond=MODEL_SAMPLE_BOND, n_draws=2000, seed=i).comparison.consistent
        for i in range(40)
    ]
    assert sum(detected) >= 36


def test_different_nio_slope_is_detected_and_equal_slopes_are_not():
    res = edge_shift_vs_contraction(relative_series(truth_results(slope=-15.0, nio_slope=-25.0, seed=4)),
                                    sample_bond=MODEL_SAMPLE_BOND)
    assert abs(res.reference.slope + 25.0) < 3 * res.reference.slope_err
    assert not res.comparison.consistent


def test_contraction_needs_reference_scans_and_table_range():
    series = relative_series(truth_results(seed=0))
    sample_only = series.isel(scan=np.flatnonzero(series.sample.values != "NiO"))
    with pytest.raises(DataError, match="NiO"):
        edge_shift_vs_contraction(sample_only, sample_bond=MODEL_SAMPLE_BOND)
    short = BondTable(np.array([0.0, 10.0]), np.array([1.92, 1.90]), "in_plane")
    with pytest.raises(DataError, match="extrapolate"):
        edge_shift_vs_contraction(series, sample_bond=short)
