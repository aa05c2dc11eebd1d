"""Breakpoint in E0(P): location, uncertainty, model selection."""

from __future__ import annotations

import numpy as np
import pytest

from spectro.errors import DataError
from spectro.pressure import find_anomaly, find_breakpoint, relative_series
from spectro.simulate import pressure_results


def kinked(x, xb=14.0, b1=0.03, b2=0.045, a=8345.0):
    return a + b1 * x + (b2 - b1) * np.clip(x - xb, 0, None)


def test_profile_equals_direct_least_squares_at_each_breakpoint(rng):
    x = np.sort(rng.uniform(0, 25, 20))
    sy = rng.uniform(0.01, 0.03, x.size)
    y = kinked(x) + rng.normal(0, sy)
    bp = find_breakpoint(x, y, y_err=sy, n_grid=51)
    for i in (0, 17, 50):
        xb = bp.grid[i]
        a = np.column_stack([np.ones_like(x), x, np.clip(x - xb, 0, None)]) / sy[:, None]
        _, rss, *_ = np.linalg.lstsq(a, y / sy, rcond=None)
        assert bp.profile[i] == pytest.approx(rss[0], rel=1e-9)
    line = np.polyfit(x, y, 1, w=1 / sy)
    assert bp.chi2_line == pytest.approx(np.sum(((y - np.polyval(line, x)) / sy) ** 2), rel=1e-9)
    assert bp.slope_line == pytest.approx(line[0], rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_kink_found_in_simulated_series(seed):
    series = relative_series(pressure_results(seed=seed))
    bp = find_anomaly(series, select=series.sample.values == "La3Ni2O7")
    assert abs(bp.breakpoint - 14.0) < 3 * bp.breakpoint_err
    assert bp.interval[0] <= bp.breakpoint <= bp.interval[1]
    assert bp.breakpoint_err < 2.5
    assert bp.real and bp.p_value < 1e-3
    assert bp.bic_kink < bp.bic_line and bp.aic_kink < bp.aic_line
    assert bp.slope_above > bp.slope_below
    # True slopes of E0(P): -15 eV/Å times the model table's Ni-O slopes.
    assert abs(bp.slope_below - 0.030) < 4 * bp.slope_below_err
    assert abs(bp.slope_above - 0.042) < 4 * bp.slope_above_err


def test_straight_line_is_not_called_a_kink(rng):
    calls = 0
    for _ in range(40):
        x = np.linspace(1, 24, 14)
        y = 8345.0 + 0.03 * x + rng.normal(0, 0.02, x.size)
        calls += find_breakpoint(x, y, y_err=0.02).real
    assert calls <= 6  # the searched F test is anti-conservative, BIC holds it back


def test_groups_get_own_intercepts(rng):
    x = np.tile(np.linspace(0, 24, 13), 2)
    g = np.repeat(["10K", "300K"], 13)
    y = kinked(x) + np.where(g == "10K", 0.0, 1.5) + rng.normal(0, 0.01, x.size)
    bp = find_breakpoint(x, y, y_err=0.01, groups=g)
    assert abs(bp.breakpoint - 14.0) < 1.0 and bp.real
    with_one_intercept = find_breakpoint(x, y, y_err=0.01)
    assert with_one_intercept.chi2_kink > 100 * bp.chi2_kink


def test_unweighted_and_degenerate_input():
    x = np.linspace(0, 24, 13)
    bp = find_breakpoint(x, kinked(x) + 0.001 * np.cos(7 * x))
    assert abs(bp.breakpoint - 14.0) < 1.0
    with pytest.raises(DataError):
        find_breakpoint(x[:5], kinked(x[:5]))
    before = x.copy()
    find_breakpoint(x, kinked(x), y_err=0.01)
    np.testing.assert_array_equal(x, before)


def test_breakpoint_interval_covers_the_true_kink_at_one_sigma():
    """Over 100 simulated campaigns (E0 errors 0.01 eV, pressure errors 0.1 GPa) the 1-sigma
    interval covers the true kink pressure (14 GPa) in 60-80 % of them."""
    covered, real = [], []
    for i in range(100):
        s = relative_series(pressure_results(seed=1000 + i))
        bp = find_anomaly(s, select=s.sample.values != "NiO", n_grid=401, seed=i)
        covered.append(bp.interval[0] <= 14.0 <= bp.interval[1])
        real.append(bp.real)
    assert 60 <= sum(covered) <= 80
    assert all(real)
    assert bp.verdict.startswith(f"change of slope at {bp.breakpoint:.1f} GPa (1-sigma interval")
    assert "a single straight line is rejected at 95 %" in bp.verdict


def test_breakpoint_verdict_on_a_straight_line():
    x = np.arange(0.0, 25.0)
    y = 0.03 * x + np.random.default_rng(3).normal(0, 0.01, x.size)
    bp = find_breakpoint(x, y, y_err=0.01)
    assert not bp.real
    assert bp.verdict.startswith("no significant change of slope: a single straight line is not rejected")
