"""Energy-grid hygiene: sorting, merging duplicates, stacking without extrapolation."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import spectro
from spectro.errors import DataError, GridWarning, OptionError
from spectro.grid import MERGE_TOL_EV, clean_grid, default_grid, merge_tolerance, stack
from spectro.model import Scan, build


def clean(energy, values):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = clean_grid(
            np.asarray(energy, float),
            {k: np.asarray(v, float) for k, v in values.items()},
        )
    return out, [str(w.message) for w in caught if issubclass(w.category, GridWarning)]


def test_sorting_keeps_values_with_their_energies(rng):
    e = np.arange(8300.0, 8320.0, 0.5)
    mu = np.sin(e)
    order = rng.permutation(e.size)
    (e2, v2), msgs = clean(e[order], {"mu": mu[order]})
    np.testing.assert_array_equal(e2, e)
    np.testing.assert_array_equal(v2["mu"], mu)
    assert len(msgs) == 1 and "backward energy step" in msgs[0]


def test_exact_duplicates_averaged_and_counted():
    e = np.array([1.0, 2.0, 2.0, 2.0, 3.0, 4.0, 4.0])
    mu = np.array([1.0, 2.0, 4.0, 6.0, 3.0, 5.0, 7.0])
    (e2, v2), msgs = clean(e, {"mu": mu})
    np.testing.assert_array_equal(e2, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(v2["mu"], [1.0, 4.0, 3.0, 6.0])
    assert re.search(r"merged 3 duplicate", msgs[0])


def test_tolerance_is_absolute_or_half_median_step():
    assert merge_tolerance(np.arange(8300.0, 8400.0, 0.5)) == MERGE_TOL_EV
    assert merge_tolerance(np.arange(8300.0, 8301.0, 0.04)) == pytest.approx(0.02)


def test_near_duplicates_just_inside_and_outside_tolerance():
    e = np.array(
        [8300.0, 8301.0, 8301.0 + 0.049, 8302.0, 8303.0, 8303.0 + 0.051, 8304.0]
    )
    (e2, _), msgs = clean(e, {"mu": np.zeros(e.size)})
    assert e2.size == e.size - 1
    assert 8301.0245 in np.round(e2, 4)
    assert "merged 1 duplicate" in msgs[0]


def test_clean_grid_does_not_mutate_inputs():
    e = np.array([3.0, 1.0, 2.0, 2.0])
    mu = np.array([1.0, 2.0, 3.0, 4.0])
    e0, mu0 = e.copy(), mu.copy()
    clean(e, {"mu": mu})
    np.testing.assert_array_equal(e, e0)
    np.testing.assert_array_equal(mu, mu0)


def test_non_finite_energies_dropped_and_too_few_points():
    (e2, _), msgs = clean([1.0, np.nan, 2.0, 3.0], {"mu": [1.0, 2.0, 3.0, 4.0]})
    assert e2.tolist() == [1.0, 2.0, 3.0] and "dropped 1 points" in msgs[0]
    with pytest.raises(DataError, match="only 1 point"):
        clean([1.0, np.nan], {"mu": [1.0, 2.0]})


@given(arrays(float, st.integers(2, 60), elements=st.floats(8000.0, 8100.0)))
def test_clean_grid_properties(energy):
    tol = merge_tolerance(np.sort(energy))
    if np.ptp(energy) == 0:
        return
    (e2, v2), _ = clean(energy, {"one": np.ones(energy.size), "e": energy})
    slack = 1e-9  # the mean of equal energies may differ from them in the last bit
    assert np.all(np.diff(e2) >= tol - slack)
    assert energy.min() - slack <= e2.min() and e2.max() <= energy.max() + slack
    np.testing.assert_allclose(v2["one"], 1.0)
    np.testing.assert_allclose(
        v2["e"], e2
    )  # a signal equal to energy stays equal after merging


def test_ceric_ni_foil_near_duplicate_pairs(data_file):
    import xraydb

    path = data_file("xanes/ceric_Ni_foil_111.xdi")
    raw = np.loadtxt(path)
    e = np.sort(raw[:, 0])
    close = np.diff(e) < MERGE_TOL_EV
    assert 0.003 < np.diff(e)[close].min() and np.diff(e)[close].max() < 0.035
    with pytest.warns(GridWarning, match=f"merged {int(close.sum())} duplicate"):
        ds = spectro.read(path)
    assert ds.sizes["energy"] == raw.shape[0] - int(close.sum())
    # merged: the derivative peaks at the Ni K edge, not at a noise spike 12 eV above it
    energy, mu = ds.energy.values, ds.mu.values[0]
    window = (energy > 8320) & (energy < 8360)
    peak = energy[window][np.argmax(np.gradient(mu, energy)[window])]
    assert peak == pytest.approx(xraydb.xray_edge("Ni", "K").energy, abs=2.0)


def _ds(energy, mu, label):
    return build(
        [Scan(np.asarray(energy, float), {"mu": np.asarray(mu, float)}, label)],
        kind="xanes",
    )


def test_stack_interpolates_and_never_extrapolates():
    a = _ds([8300.0, 8302.0, 8304.0, 8306.0], [0.0, 2.0, 4.0, 6.0], "a")
    b = _ds([8301.0, 8303.0, 8305.0, 8307.0, 8309.0], [1.0, 1.0, 1.0, 1.0, 1.0], "b")
    grid = np.arange(8299.0, 8311.0, 1.0)
    out = stack([a, b], grid=grid)
    mu_a = out.mu.sel(scan="a").values
    inside = (grid >= 8300) & (grid <= 8306)
    np.testing.assert_allclose(mu_a[inside], grid[inside] - 8300.0)
    assert np.isnan(mu_a[~inside]).all()
    mu_b = out.mu.sel(scan="b").values
    assert np.isnan(mu_b[grid < 8301]).all() and np.isnan(mu_b[grid > 8309]).all()
    assert out.attrs["grid_method"].startswith("linear interpolation")


def test_stack_default_grid_keeps_every_scan_whole():
    a = _ds(np.arange(8300.0, 8320.1, 0.5), np.arange(41.0), "a")
    b = _ds(np.arange(8305.0, 8330.1, 0.5), np.arange(51.0), "b")
    out = stack([a, b])
    np.testing.assert_array_equal(out.energy.values, np.arange(8300.0, 8330.1, 0.5))
    np.testing.assert_array_equal(out.mu.sel(scan="a").dropna("energy").values, a.mu.values[0])
    np.testing.assert_array_equal(out.mu.sel(scan="b").dropna("energy").values, b.mu.values[0])


def test_stack_keeps_each_scans_own_points_by_default():
    a = _ds(np.arange(8300.0, 8310.1, 1.0), np.arange(11.0), "a")
    b = _ds(np.arange(8300.5, 8312.6, 1.0), -np.arange(13.0), "b")
    out = stack([a, b])
    np.testing.assert_array_equal(out.energy.values, np.union1d(a.energy.values, b.energy.values))
    for ds, label in ((a, "a"), (b, "b")):
        row = out.mu.sel(scan=label)
        np.testing.assert_array_equal(row.dropna("energy").energy.values, ds.energy.values)
        np.testing.assert_array_equal(row.dropna("energy").values, ds.mu.values[0])
    assert out.attrs["grid_method"].endswith("(no interpolation)")
    with pytest.raises(OptionError, match="grid='union' is not allowed: 'measured', 'finest'"):
        stack([a, b], grid="union")


def test_default_grid_takes_the_finest_local_step():
    fine = np.arange(8300.0, 8340.01, 0.5)
    coarse = np.arange(8300.0, 8400.01, 2.0)
    g = default_grid([coarse, fine])
    np.testing.assert_array_equal(g, np.r_[fine, coarse[coarse > 8340.0]])


def test_default_grid_uses_each_scans_own_points_not_the_union():
    # two scans of one Dataset, 1 eV steps offset by 0.5 eV: the union has 0.5 eV steps
    e = np.arange(8300.0, 8320.01, 0.5)
    measured = np.zeros((2, e.size), bool)
    measured[0, ::2], measured[1, 1::2] = True, True
    g = default_grid([e], measured=[measured])
    assert g[0] == e[0] and g[-1] == e[-1]
    np.testing.assert_allclose(np.diff(g), (e[-1] - e[0]) / 20)  # 20 steps of 1 eV, not 40 of 0.5


def _finest_steps_reference(scans, union):
    """For each interval of ``union``: the shortest interval of any scan containing it (a loop)."""
    h = np.full(union.size - 1, np.inf)
    for k in range(union.size - 1):
        mid = 0.5 * (union[k] + union[k + 1])
        for e in scans:
            j = np.searchsorted(e, mid) - 1
            if 0 <= j < e.size - 1:
                h[k] = min(h[k], e[j + 1] - e[j])
    return h


@given(
    st.lists(
        st.tuples(st.floats(8300.0, 8340.0), st.floats(5.0, 60.0), st.floats(0.05, 3.0)),
        min_size=1, max_size=4,
    ).filter(lambda scans: max(s for s, _, _ in scans) < min(s + w for s, w, _ in scans))
)
def test_default_grid_is_never_coarser_than_the_finest_scan(scans):
    energies = [np.arange(start, start + width, step) for start, width, step in scans]
    energies = [e for e in energies if e.size >= 2]
    if len(energies) < len(scans):
        return
    if max(e[0] for e in energies) >= min(e[-1] for e in energies):
        return
    g = default_grid(energies)
    union = np.unique(np.concatenate(energies))
    assert g[0] == union[0] and g[-1] == union[-1]
    u = np.concatenate([[0.0], np.cumsum(np.diff(union) / _finest_steps_reference(energies, union))])
    steps = np.diff(np.interp(g, union, u))  # grid steps counted in finest local steps
    assert steps.max() <= 1.0 + 1e-6
    assert g.size - 1 == max(1, int(np.ceil(u[-1] - 1e-6)))


def test_stack_without_shared_range_refused():
    a = build([Scan(np.array([8300.0, 8301.0, 8302.0]), {"mu": np.zeros(3)}, "1")], kind="xanes", file="a.xdi")
    b = build([Scan(np.array([8400.0, 8401.0, 8402.0]), {"mu": np.zeros(3)}, "1")], kind="xanes", file="b.xdi")
    with pytest.raises(DataError, match="share no energy range") as err:
        stack([a, b])
    assert "a.xdi: 8300.00-8302.00 eV" in str(err.value) and "b.xdi: 8400.00-8402.00 eV" in str(err.value)
    with pytest.raises(DataError, match="share no energy range"):
        default_grid([a.energy.values, b.energy.values])


def test_stack_onto_a_grid_missing_a_scan_refused():
    a = build([Scan(np.arange(8300.0, 8310.0), {"mu": np.zeros(10)}, "1")], kind="xanes", file="a.xdi")
    b = build([Scan(np.arange(8320.0, 8330.0), {"mu": np.zeros(10)}, "7")], kind="xanes", file="b.xdi")
    with pytest.raises(DataError, match=r"b.xdi: scan '7': measured from 8320.00 to 8329.00 eV"):
        stack([a, b], grid=np.arange(8300.0, 8315.0))


def test_stack_fills_what_only_some_inputs_have():
    a = build([Scan(np.arange(8300.0, 8310.0), {"mu": np.ones(10), "mu_ref": np.ones(10)}, "1",
                    attrs={"shift": 0.5})] + [Scan(np.arange(8300.0, 8310.0), {"mu": np.ones(10)}, "2",
                                                  attrs={"shift": 1.5})], kind="xanes")
    b = _ds(np.arange(8300.0, 8312.0), np.ones(12), "3")
    out = stack([a, b])
    assert np.isnan(out.mu_ref.sel(scan="3")).all()
    np.testing.assert_array_equal(out.scan_shift.values, [0.5, 1.5, np.nan])


def test_stack_nan_padded_rows_use_their_own_points():
    e1, e2 = np.array([8300.0, 8302.0, 8304.0]), np.array([8301.0, 8303.0, 8305.0])
    ds = build(
        [Scan(e1, {"mu": e1 - 8300}, "1"), Scan(e2, {"mu": e2 - 8300}, "2")],
        kind="xanes",
    )
    assert np.isnan(ds.mu.values).sum() == 6
    out = stack([ds], grid=np.array([8301.0, 8302.0, 8303.0, 8304.0]))
    np.testing.assert_allclose(
        out.mu.values, [[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]
    )


def test_stack_interpolates_complete_and_gapped_rows_like_numpy_interp():
    from spectro.grid import _interp_rows

    x = np.array([0.0, 1.0, 2.5, 4.0, 7.0])
    y = np.array([[0.0, 2.0, 1.0, 5.0, 3.0], [1.0, np.nan, 4.0, 2.0, np.nan]])
    x_new = np.linspace(-1.0, 8.0, 37)
    out = _interp_rows(x_new, x, y)
    for row, got in zip(y, out):
        ok = np.isfinite(row)
        inside = (x_new >= x[ok][0]) & (x_new <= x[ok][-1])
        np.testing.assert_allclose(got[inside], np.interp(x_new[inside], x[ok], row[ok]), rtol=1e-12)
        assert np.isnan(got[~inside]).all()


def test_layers_below_grid_do_not_import_it():
    """errors <- _clean <- model <- grid: the modules grid builds on never import it."""
    import ast
    from pathlib import Path

    root = Path(spectro.__file__).parent
    for module in ("errors.py", "_clean.py", "model.py"):
        tree = ast.parse((root / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {f"{node.module or ''}.{a.name}".lstrip(".") for a in node.names}
                assert not any(n == "grid" or n.endswith(".grid") or n.startswith("grid.") for n in names), module
            elif isinstance(node, ast.Import):
                assert not any(a.name.endswith("spectro.grid") for a in node.names), module
