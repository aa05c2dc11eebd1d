"""Shifts along pressure and temperature paths."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from spectro.errors import DataError, ValidationError
from spectro.pressure import assign_paths, preedge_stability, relative_series


def results(e0, pressure, temperature, run, *, e0_err=0.03, path=None, **extra):
    n = len(e0)
    data = {"e0": ("scan", np.asarray(e0, float), {"units": "eV", "long_name": "E0"}),
            "e0_err": ("scan", np.broadcast_to(np.asarray(e0_err, float), (n,)).copy())}
    for name, values in extra.items():
        data[name] = ("scan", np.asarray(values, float))
    coords = {"scan": [f"s{i}" for i in range(n)],
              "pressure": ("scan", np.asarray(pressure, float)),
              "temperature": ("scan", np.asarray(temperature, float)),
              "run": ("scan", np.asarray(run, str))}
    if path is not None:
        coords["path"] = ("scan", np.asarray(path, str))
    return xr.Dataset(data, coords=coords)


def test_isothermal_shift_is_relative_to_lowest_pressure_per_run():
    # Scans not in pressure order; two runs with different absolute E0.
    res = results(
        e0=[8345.3, 8345.0, 8345.6, 8346.0, 8346.4],
        pressure=[5.0, 1.0, 10.0, 0.5, 20.0],
        temperature=[300.0] * 3 + [10.0] * 2,
        run=["a", "a", "a", "b", "b"],
        e0_err=[0.03, 0.04, 0.03, 0.02, 0.05],
    )
    s = relative_series(res)
    np.testing.assert_allclose(s.delta_e0, [0.3, 0.0, 0.6, 0.0, 0.4], atol=1e-9)
    np.testing.assert_allclose(
        s.delta_e0_err, [np.hypot(0.03, 0.04), 0.0, np.hypot(0.03, 0.04), 0.0, np.hypot(0.05, 0.02)])
    assert s.reference_scan.values.tolist() == ["s1", "s1", "s1", "s3", "s3"]
    assert s.path_position.values.tolist() == [1, 0, 2, 0, 1]
    assert set(s.path_kind.values.tolist()) == {"isothermal"}
    np.testing.assert_allclose(s.reference_pressure, [1.0, 1.0, 1.0, 0.5, 0.5])
    assert s.delta_e0.attrs["units"] == "eV"
    assert "covariance" in s.delta_e0_err.attrs["method"]


def test_cooling_path_is_relative_to_its_first_point_and_ordered_by_temperature():
    res = results(
        e0=[8345.0, 8345.05, 8344.95, 8345.0, 8345.1, 8345.5],
        pressure=[1.0, 1.3, 1.8, 2.4, 2.4, 12.0],
        temperature=[300.0, 200.0, 50.0, 10.0, 10.0, 10.0],
        run=["r2"] * 6,
    )
    s = relative_series(res)
    assert s.path.values.tolist() == ["r2/p1"] * 4 + ["r2/p2"] * 2
    assert s.path_kind.values.tolist() == ["isobaric"] * 4 + ["isothermal"] * 2
    np.testing.assert_allclose(s.delta_e0[:4], [0.0, 0.05, -0.05, 0.0], atol=1e-9)
    np.testing.assert_allclose(s.delta_e0[4:], [0.0, 0.4], atol=1e-9)
    assert s.path_position.values.tolist() == [0, 1, 2, 3, 0, 1]
    np.testing.assert_allclose(s.reference_temperature[:4], 300.0)


def test_heating_path_refers_to_lowest_temperature_start():
    res = results(e0=[1.0, 1.1, 1.3], pressure=[20.0, 20.2, 20.5],
                  temperature=[10.0, 150.0, 300.0], run=["x"] * 3)
    s = relative_series(res)
    assert s.path_kind.values.tolist() == ["isobaric"] * 3
    np.testing.assert_allclose(s.delta_e0, [0.0, 0.1, 0.3], atol=1e-12)


def test_explicit_path_labels_override_inference():
    res = results(e0=[0.0, 0.1, 0.2, 0.3], pressure=[1.0, 5.0, 9.0, 13.0],
                  temperature=[300.0] * 4, run=["r"] * 4, path=["up", "up", "again", "again"])
    s = relative_series(res)
    assert s.path.values.tolist() == ["r/up", "r/up", "r/again", "r/again"]
    np.testing.assert_allclose(s.delta_e0, [0.0, 0.1, 0.0, 0.1], atol=1e-12)
    mixed = results(e0=[0.0, 0.1], pressure=[1.0, 10.0], temperature=[300.0, 10.0],
                    run=["r", "r"], path=["bad", "bad"])
    with pytest.raises(DataError, match="'bad'"):
        relative_series(mixed)


def test_reference_skips_scans_without_e0():
    res = results(e0=[np.nan, 8345.1, 8345.4], pressure=[0.5, 2.0, 8.0],
                  temperature=[300.0] * 3, run=["r"] * 3)
    s = relative_series(res)
    assert s.reference_scan.values.tolist() == ["s1"] * 3
    assert np.isnan(s.delta_e0[0])
    np.testing.assert_allclose(s.delta_e0[1:], [0.0, 0.3], atol=1e-9)


def test_other_observables_and_input_untouched():
    res = results(e0=[1.0, 2.0], pressure=[1.0, 3.0], temperature=[300.0, 300.0], run=["r", "r"],
                  preedge_centroid=[8333.2, 8333.25], feature_c=[0.10, 0.16])
    before = res.copy(deep=True)
    s = relative_series(res)
    np.testing.assert_allclose(s.delta_preedge_centroid, [0.0, 0.05], atol=1e-9)
    np.testing.assert_allclose(s.delta_feature_c, [0.0, 0.06], atol=1e-12)
    np.testing.assert_array_equal(s.delta_feature_c_err, [0.0, 0.0])
    xr.testing.assert_identical(res, before)


def test_series_needs_pressure_and_variables():
    res = results(e0=[1.0], pressure=[1.0], temperature=[300.0], run=["r"])
    with pytest.raises(ValidationError):
        relative_series(res.drop_vars("pressure"))
    with pytest.raises(ValidationError):
        relative_series(res, variables=["kb25_energy"])


@given(seed=st.integers(0, 10_000))
def test_shifts_do_not_depend_on_scan_order(seed):
    rng = np.random.default_rng(seed)
    n = 9
    p = np.r_[rng.uniform(0.5, 25.0, 6), rng.uniform(0.5, 25.0, 3)]
    run = ["a"] * 6 + ["b"] * 3
    t = np.r_[np.full(6, 300.0), np.full(3, 10.0)]
    e0 = 8345.0 + 0.03 * p + rng.normal(0, 0.02, n)
    res = results(e0, p, t, run)
    perm = rng.permutation(n)
    s1 = relative_series(res)
    s2 = relative_series(res.isel(scan=perm))
    np.testing.assert_allclose(s2.delta_e0.values, s1.delta_e0.values[perm], atol=1e-12)
    np.testing.assert_allclose(s2.delta_e0_err.values, s1.delta_e0_err.values[perm])


def test_error_model_matches_monte_carlo(rng):
    """Var(Δ_i) = σ_i² + σ_ref² and Cov(Δ_i, Δ_j) = σ_ref², as documented."""
    p = np.array([1.0, 5.0, 10.0, 15.0])
    sig = np.array([0.05, 0.03, 0.04, 0.02])
    draws = []
    for _ in range(400):
        res = results(8345.0 + rng.normal(0, sig), p, [300.0] * 4, ["r"] * 4, e0_err=sig)
        draws.append(relative_series(res).delta_e0.values)
    draws = np.array(draws)
    expected = relative_series(results(np.zeros(4), p, [300.0] * 4, ["r"] * 4, e0_err=sig))
    np.testing.assert_allclose(draws[:, 1:].std(axis=0), expected.delta_e0_err.values[1:], rtol=0.12)
    cov = np.cov(draws[:, 1], draws[:, 2])[0, 1]
    assert cov == pytest.approx(sig[0] ** 2, rel=0.3)


def test_preedge_stability_within_and_outside_tolerance():
    base = {"pressure": [1.0, 8.0, 15.0, 1.0, 20.0], "temperature": [300.0] * 5,
            "run": ["a", "a", "a", "b", "b"]}
    stable = results(e0=np.zeros(5), preedge_centroid=[8333.1, 8333.15, 8333.04, 8333.2, 8333.28],
                     preedge_centroid_err=[0.02] * 5, **base)
    st_ = preedge_stability(relative_series(stable))
    assert st_.within and st_.compatible and st_.max_abs_delta == pytest.approx(0.08)
    assert st_.scan == "s4"
    assert st_.significance == pytest.approx(0.08 / np.hypot(0.02, 0.02))
    assert st_.per_path == pytest.approx({"a/p1": 0.06, "b/p1": 0.08})
    moving = stable.assign(preedge_centroid=("scan", [8333.1, 8333.2, 8333.35, 8333.2, 8333.2]))
    st2 = preedge_stability(relative_series(moving), tolerance=0.1)
    assert not st2.within and st2.max_abs_delta == pytest.approx(0.25)
    assert not st2.compatible  # 0.25 - 1.96 * 0.028 > 0.1
    noisy = stable.assign(preedge_centroid=("scan", [8333.1, 8333.1, 8333.22, 8333.2, 8333.2]),
                          preedge_centroid_err=("scan", [0.05] * 5))
    st3 = preedge_stability(relative_series(noisy))
    assert not st3.within and st3.compatible  # 0.12 exceeds 0.1 by less than its error
    with pytest.raises(DataError):
        preedge_stability(relative_series(stable, variables=["e0"]))


def test_assign_paths_repeat_at_turning_point_starts_next_path():
    p = np.array([1.0, 1.2, 1.5, 1.5, 6.0, 11.0])
    t = np.array([300.0, 150.0, 10.0, 10.0, 10.0, 10.0])
    labels, kinds = assign_paths(p, t, np.array(["r"] * 6))
    assert labels.tolist() == ["r/p1"] * 3 + ["r/p2"] * 3
    assert kinds.tolist() == ["isobaric"] * 3 + ["isothermal"] * 3
    labels, kinds = assign_paths(np.array([3.0]), np.array([300.0]), np.array(["z"]))
    assert kinds.tolist() == ["single"]
