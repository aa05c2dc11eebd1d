"""Kbeta1,3 and Kbeta' metrics against simulated spectra with known truth."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.errors import DataError, MissingRegionWarning, OptionError, ValidationError
from spectro.simulate import xes
from spectro.xes import XesFlag
from spectro.xes._kbeta import kbeta
from spectro.xes.background import normalize
from spectro.xes.fit import fit_kbeta


@pytest.fixture(scope="module")
def states():
    """High spin, low spin and two mixtures, noise-free."""
    return xes(n_scans=4, high_spin_fraction=[1.0, 0.0, 0.3, 0.7])


def test_kb13_energy_within_0p05_ev(states):
    r = spectro.xes.kbeta(states)
    assert np.all(np.abs(r.kb13_energy - states.true_kb13_energy) < 0.05)


def test_kb13_energy_with_calibration_offset_and_union_grid():
    a = xes(spin="high", energy_offset=0.7)
    b = xes(spin="low", emission_energy=np.arange(8220.1, 8345.0, 0.3))
    both = spectro.model.build(
        [spectro.model.Scan(d.emission_energy.values, {"intensity": d.intensity.values[0]}, str(i))
         for i, d in enumerate((a, b))],
        kind="xes",
    )
    assert np.isnan(both.intensity.values).any()  # union grid: NaN where a scan has no point
    r = spectro.xes.kbeta(both)
    truth = [float(a.true_kb13_energy[0]), float(b.true_kb13_energy[0])]
    assert r.kb13_energy.values == pytest.approx(truth, abs=0.05)


def test_first_moment_and_fwhm_match_dense_integration():
    """m1 over the window and FWHM from a 1 meV grid, by direct computation."""
    coarse = xes(spin="high")
    r = kbeta(coarse.emission_energy.values, coarse.intensity.values)
    e = np.arange(8220.0, 8345.0, 0.001)
    y = xes(spin="high", emission_energy=e).intensity.values[0]
    y = y - y.min()
    peak = float(r.kb13_energy[0])
    win = (e >= peak - 5) & (e <= peak + 5)
    m1 = np.sum(e[win] * y[win]) / np.sum(y[win])
    assert float(r.kb13_m1[0]) == pytest.approx(m1, abs=0.01)
    above = e[y >= y.max() / 2]
    assert float(r.kb13_fwhm[0]) == pytest.approx(above[-1] - above[0], abs=0.02)


def test_kb_prime_orders_spin_states(states):
    r = spectro.xes.kbeta(states)
    # high spin > 0.7 > 0.3 > low spin for every Kbeta' measure
    order = [0, 3, 2, 1]
    for name in ("kb_prime", "kb_prime_ratio", "kb13_m1"):
        assert np.all(np.diff(r[name].values[order]) < 0), name


def test_fitted_ratio_recovers_truth_within_2_percent():
    for spin in ("high", "low"):
        ds = xes(spin=spin, noise=0.003, seed=11)
        f = fit_kbeta(ds.emission_energy.values, ds.intensity.values[0], ds.intensity_err.values[0])
        truth = float(ds.true_kb_prime_ratio[0])
        assert f.kb_prime_ratio == pytest.approx(truth, rel=0.02 if spin == "high" else 0.05)
        assert abs(f.kb_prime_ratio - truth) < 3 * f.kb_prime_ratio_err + 1e-4


def test_kbeta_fit_wrapper_maps_over_scans(states):
    r = spectro.xes.kbeta_fit(states.isel(scan=[0, 1]))
    assert r.kb_prime_ratio_fit.values == pytest.approx([0.15, 0.03], rel=0.02)
    assert r.kb_prime_ratio_fit.attrs["units"] == "1"


def test_the_fit_window_is_the_range_fitted():
    """A narrower fit range holds fewer points: a larger error, the same truth within it."""
    ds = xes(spin="high", noise=0.003, seed=11)
    truth = float(ds.true_kb_prime_ratio[0])
    fits = [spectro.xes.kbeta_fit(ds, fit_window=w) for w in ((-25.0, 10.0), (-20.0, 6.0), (-18.0, 4.0))]
    errors = [float(r.kb_prime_ratio_fit_err[0]) for r in fits]
    assert errors[0] < errors[1] < errors[2]
    for r, err in zip(fits, errors):
        assert abs(float(r.kb_prime_ratio_fit[0]) - truth) < 3 * err
    assert fits[1].kb_prime_ratio_fit.attrs["fit_window_ev"] == [-20.0, 6.0]


def test_reported_errors_match_the_scatter():
    """Over 300 noisy copies, the spread of each metric matches its reported error."""
    ds = xes(spin="high", noise=0.01, n_scans=300, seed=5)
    r = spectro.xes.kbeta(ds)
    for name in ("kb13_energy", "kb13_m1", "kb13_fwhm", "kb_prime", "kb_prime_ratio"):
        spread = float(r[name].std())
        reported = float(r[f"{name}_err"].median())
        assert 0.7 < spread / reported < 1.4, (name, spread, reported)


def test_estimated_errors_without_intensity_err():
    ds = xes(spin="high", noise=0.01, n_scans=300, seed=6).drop_vars("intensity_err")
    r = spectro.xes.kbeta(ds)
    for name in ("kb13_energy", "kb13_m1", "kb_prime"):
        ratio = float(r[name].std()) / float(r[f"{name}_err"].median())
        assert 0.6 < ratio < 1.6, (name, ratio)


def test_missing_kb_prime_region_gives_nan_and_warning():
    ds = xes(spin="high", emission_energy=np.arange(8258.0, 8345.0, 0.25))
    with pytest.warns(MissingRegionWarning, match="Kbeta' window"):
        r = spectro.xes.kbeta(ds)
    assert np.isnan(r.kb_prime.values).all() and np.isnan(r.kb_prime_ratio.values).all()
    assert np.isfinite(r.kb13_energy.values).all() and np.isfinite(r.kb13_m1.values).all()
    assert r.flags.values.tolist() == [int(XesFlag.KB_PRIME_MISSING)]


def test_spectrum_without_a_kbeta_line_gives_nan_not_a_crash():
    """A given element whose line the data do not show (here: no line at all) gives NaN and a flag."""
    ds = xes(element="Ni")
    flat = ds.assign(intensity=ds.intensity * 0.0 + 5.0 + 0.01 * (ds.emission_energy - 8000.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(MissingRegionWarning, match="search window"):
            r = spectro.xes.kbeta(flat, element="Ni")
    assert np.isnan(r.kb13_energy.values).all()
    assert r.flags.values.tolist() == [int(XesFlag.KB13_NOT_FOUND)]


def test_each_missing_result_has_its_flag_and_warning():
    """A coarse grid cannot fit the tail or the Kbeta lines; a late start misses the Kbeta1,3 window."""
    coarse = xes(spin="low", emission_energy=np.arange(8220.0, 8345.0, 5.0))
    with pytest.warns(spectro.errors.SpectroWarning) as record:
        r = spectro.xes.analyze(coarse, fit=True)
    assert XesFlag(int(r.flags[0])) == XesFlag.TAIL_FIT_FAILED | XesFlag.FIT_FAILED
    assert np.isfinite(r.kb13_energy[0]) and np.isnan(r.kb25_energy[0]) and np.isnan(r.kb_prime_ratio_fit[0])
    assert sorted(type(w.message).__name__ for w in record) == ["FitWarning", "MissingRegionWarning"]
    late = xes(spin="low", emission_energy=np.arange(8263.5, 8345.0, 0.25))
    with pytest.warns(MissingRegionWarning) as record:
        r = spectro.xes.analyze(late)
    regions = [str(w.message).split(": ")[2].split(" (")[0] for w in record]
    assert regions == ["the Kbeta1,3 window", "the Kbeta' window"]
    assert XesFlag(int(r.flags[0])) == XesFlag.KB13_WINDOW_MISSING | XesFlag.KB_PRIME_MISSING
    assert np.isfinite(r.kb13_energy[0]) and np.isnan(r.kb13_m1[0]) and np.isnan(r.kb13_area[0])


def test_normalization_conventions():
    ds = xes(spin="low", background=0.05, amplitude=300.0)
    e, y = ds.emission_energy.values, ds.intensity.values
    n_max = normalize(e, y)
    assert np.nanmax(n_max.intensity) == pytest.approx(1.0, abs=0.003)
    assert np.nanmin(n_max.intensity) == pytest.approx(0.0, abs=0.002)
    n_area = normalize(e, y, norm="area")
    assert np.trapezoid(n_area.intensity[0], e) == pytest.approx(1.0, rel=1e-9)
    n_none = normalize(e, y, norm="none", background="none")
    assert np.array_equal(n_none.intensity, y)
    lin = normalize(e, y + 0.01 * (e - 8300.0), background="linear")
    assert np.nanmax(np.abs(lin.intensity - n_max.intensity)) < 0.005
    with pytest.raises(OptionError, match="norm='peak'"):
        normalize(e, y, norm="peak")


def test_results_carry_units_coords_and_method():
    ds = xes(n_scans=2, high_spin_fraction=[0.0, 1.0], pressure=[1.0, 9.0])
    r = ds.xes.kbeta()
    assert r.pressure.values.tolist() == [1.0, 9.0]
    for name in r.data_vars:
        assert r[name].attrs["units"] and r[name].attrs["long_name"]
    assert r.kb13_m1.attrs["window_kb13_ev"] == [-5.0, 5.0]
    assert r.kb13_m1.attrs["element"] == "Ni"


def test_dask_gives_the_same_numbers(states):
    eager = spectro.xes.analyze(states, fit=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a dask-backed analysis does not warn: its flags say it
        lazy = spectro.xes.analyze(states.chunk(scan=1), fit=True)
    assert lazy.kb13_m1.chunks is not None
    xr.testing.assert_identical(lazy.compute(), eager)


def test_options_are_xes_options_only():
    with pytest.raises(OptionError, match="windows=.* is not allowed: unknown option of XesOptions"):
        spectro.xes.kbeta(xes(), windows={"kb_prime": (-18.0, -6.0)})
    with pytest.raises(OptionError, match="a XesOptions"):
        spectro.xes.analyze(xes(), spectro.options.XanesOptions())
    a = spectro.xes.kbeta(xes(spin="high"), spectro.options.XesOptions(kb_prime=(-18.0, -6.0)))
    b = spectro.xes.kbeta(xes(spin="high"), kb_prime=(-18.0, -6.0))
    xr.testing.assert_identical(a, b)
    assert a.kb_prime.attrs["window_kb_prime_ev"] == [-18.0, -6.0]


def test_xanes_dataset_is_refused():
    with pytest.raises(ValidationError, match="XES Dataset"):
        spectro.xes.analyze(spectro.simulate.xanes(seed=0))


def test_accessor_is_a_shell_over_the_functions(states):
    a = states.xes.analyze(reference=xes(spin="low"))
    b = spectro.xes.analyze(states, reference=xes(spin="low"))
    assert a.identical(b)


@pytest.mark.parametrize("case", ["shifted", "flat"])
def test_no_maximum_inside_the_search_window_gives_nan(case):
    ds = xes(spin="high")
    if case == "shifted":  # the peak 9 eV above the tabulated line, outside the +-8 eV search
        ds = ds.assign_coords(emission_energy=ds.emission_energy + 9.0)
    else:
        ds = ds.copy(data={"intensity": xr.zeros_like(ds.intensity) + 5.0})
    with pytest.warns(MissingRegionWarning, match="no Kbeta1,3 maximum inside the search window"):
        r = spectro.xes.kbeta(ds, element="Ni")
    assert np.isnan(r.kb13_energy.values).all() and np.isnan(r.kb13_m1.values).all()
    assert (r.flags.values == int(XesFlag.KB13_NOT_FOUND)).all()
    with pytest.raises(DataError, match="no element's tabulated Kbeta1,3 line"):  # nothing to decide it from
        spectro.xes.kbeta(ds)


def test_analyze_normalizes_once_and_equals_the_separate_metrics():
    ds = xes(n_scans=3, high_spin_fraction=[1.0, 0.5, 0.0], noise=0.005, seed=21)
    both = spectro.xes.analyze(ds)
    kb, vtc = spectro.xes.kbeta(ds), spectro.xes.vtc(ds)
    parts = xr.merge([kb.drop_vars("flags"), vtc.drop_vars("flags"), spectro.xes.normalize(ds)[["norm", "norm_err"]]],
                     combine_attrs="override")
    for name in parts.data_vars:
        np.testing.assert_array_equal(both[name].values, parts[name].values, err_msg=name)
        assert both[name].attrs == parts[name].attrs, name
    np.testing.assert_array_equal(both.flags.values, kb.flags.values | vtc.flags.values)
