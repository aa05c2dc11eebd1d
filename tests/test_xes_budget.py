"""The Kbeta uncertainty budget (``spectro.xes.analyze(ds, budget=True)``): what it adds and what it measures."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import spectro
from spectro._variations import less_noise
from spectro.xes._budget import COMPONENTS, KB_PRIME_STEP, WINDOW_DEFINED, budgeted, in_total
from spectro.options import XesOptions


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def sim():
    ds = spectro.simulate.xes(high_spin_fraction=np.array([0.0, 0.4, 1.0]), n_scans=3, noise=0.01,
                              background=20.0, seed=3)
    return ds, spectro.xes.analyze(ds), spectro.xes.analyze(ds, budget=True)


def test_budget_only_adds_to_the_analysis(sim):
    """Every number of the plain analysis is unchanged; its statistical error becomes ``_stat``."""
    _, plain, full = sim
    names = budgeted(XesOptions())
    for var in plain.data_vars:
        if str(var).endswith("_err") and str(var)[:-4] in names:
            np.testing.assert_array_equal(full[f"{str(var)[:-4]}_stat"].values, plain[var].values)
        else:
            np.testing.assert_array_equal(full[var].values, plain[var].values)
    assert full.attrs["xes_budget"] == 1 and plain.attrs["xes_budget"] == 0


def test_total_is_stat_and_the_components_of_the_total(sim):
    _, _, full = sim
    for name in budgeted(XesOptions()):
        total = np.sqrt(sum(full[f"{name}_sys_{c}"].values ** 2 for c in COMPONENTS if in_total(name, c)))
        np.testing.assert_allclose(full[f"{name}_sys"].values, total, rtol=1e-12)
        np.testing.assert_allclose(full[f"{name}_err"].values, np.hypot(full[f"{name}_stat"], full[f"{name}_sys"]),
                                   rtol=1e-12)
        assert full[f"{name}_err"].attrs["long_name"].endswith("total uncertainty (1 sigma)")
    # the Kbeta' window defines kb_prime: its term is reported, not added
    assert float(full.kb_prime_sys_window.min()) > 0 and "kb_prime" in WINDOW_DEFINED
    np.testing.assert_array_equal(full.kb_prime_sys.values, full.kb_prime_sys_background.values)


def test_background_term_is_the_change_to_the_other_model(sim):
    """The background component is the change of each metric when the background is linear instead of constant."""
    ds, plain, full = sim
    linear = _quiet(spectro.xes.analyze, ds, background="linear")
    for name in ("kb13_m1", "kb13_fwhm", "kb_prime_ratio", "kb25_intensity"):
        np.testing.assert_allclose(full[f"{name}_sys_background"].values, np.abs(linear[name] - plain[name]).values,
                                   rtol=1e-12, atol=1e-15)
    assert list(full.variation.values[:1]) == ["background=linear"]


def test_window_term_is_the_rms_of_the_moved_windows_less_their_noise(sim):
    ds, plain, full = sim
    lo, hi = spectro.xes.windows("Ni").kb_prime
    changes = []
    for window in ((lo - KB_PRIME_STEP, hi), (lo + KB_PRIME_STEP, hi), (lo, hi - KB_PRIME_STEP),
                   (lo, hi + KB_PRIME_STEP)):
        moved = _quiet(spectro.xes.analyze, ds, kb_prime=window)
        changes.append(less_noise((moved.kb_prime - plain.kb_prime).values, moved.kb_prime_err.values,
                                  plain.kb_prime_err.values))
    np.testing.assert_allclose(full.kb_prime_sys_window.values, np.sqrt(np.mean(np.square(changes), axis=0)),
                               rtol=1e-12)
    assert np.all(full.kb13_m1_sys_window.values == 0.0)  # the Kbeta1,3 window does not move


def test_iad_window_is_varied_with_a_reference():
    ds = spectro.simulate.xes(high_spin_fraction=np.array([0.3, 0.6]), n_scans=2, noise=0.01, seed=4)
    ref = spectro.simulate.xes(spin="low", noise=0.002, seed=5)
    full = _quiet(spectro.xes.analyze, ds, reference=ref, budget=True)
    assert sum(str(v).startswith("iad_window=") for v in full.variation.values) == 4
    assert np.all(full.iad_sys_window.values > 0) and np.all(np.isfinite(full.iad_err.values))
    np.testing.assert_array_equal(full.iad_sys.values, full.iad_sys_background.values)  # its window defines it


def test_budget_gives_the_same_numbers_lazily(sim):
    pytest.importorskip("dask")
    ds, _, full = sim
    lazy = _quiet(spectro.xes.analyze, ds.chunk({"scan": 1}), budget=True)
    assert lazy.kb13_m1_sys.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), full, rtol=1e-12)


@pytest.mark.realdata
def test_real_spectra_stated_errors_are_the_smaller_part(data_dir):
    """On the seven Mn Kbeta spectra of xes/ (Diamond I20) the background model moves the first moment and the
    Kbeta' ratio by several times their statistical errors."""
    files = sorted((data_dir / "xes").glob("advxafs_Figure_2*_XES_*.dat"))
    assert len(files) == 7
    for path in files:
        res = _quiet(spectro.xes.analyze, _quiet(spectro.read, path), budget=True)
        assert float(res.kb13_m1_sys[0]) > 5 * float(res.kb13_m1_stat[0]), path.name
        ratio = res.kb_prime_ratio_sys[0], res.kb_prime_ratio_stat[0]
        assert np.isnan(ratio[0]) or float(ratio[0]) > 5 * float(ratio[1]), path.name


@pytest.mark.realdata
def test_cli_prints_stat_and_sys(data_dir, capsys):
    from spectro.cli import main

    from spectro.cli._output import XES_STATISTICAL_ONLY

    path = str(data_dir / "xes" / "advxafs_Figure_2A_S1_XES_Mn2O3.dat")
    plain = _quiet(spectro.xes.analyze, _quiet(spectro.read, path))
    assert main(["xes", path]) == 0  # plain: value ± statistical error, and a note saying so
    captured = capsys.readouterr()
    assert f"{float(plain.kb13_m1[0]):.4f} ± {float(plain.kb13_m1_err[0]):.4f}" in captured.out
    assert XES_STATISTICAL_ONLY in captured.err
    assert main(["xes", path, "--budget"]) == 0
    captured = capsys.readouterr()
    line = captured.out.splitlines()[1]
    assert " (stat) ± " in line and line.count("(sys)") >= 3 and XES_STATISTICAL_ONLY not in captured.err
    assert main(["xes", path, "--budget", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)["scans"][0]
    assert rec["kb13_m1_err"] == pytest.approx(np.hypot(rec["kb13_m1_stat"], rec["kb13_m1_sys"]))
    assert rec["kb13_m1_sys"] == pytest.approx(rec["kb13_m1_sys_background"])


@pytest.mark.realdata
def test_batch_with_the_budget_gives_the_xes_numbers_of_analyze(data_dir, tmp_path):
    """``spectro batch --budget`` on an XES file writes the budget's columns as ``analyze(ds, budget=True)``."""
    from spectro.cli import main

    path = data_dir / "xes" / "advxafs_Figure_2A_S1_XES_Mn2O3.dat"
    direct = _quiet(spectro.xes.analyze, _quiet(spectro.read, path), budget=True)
    assert main(["batch", str(path), "-o", str(tmp_path / "out"), "--budget", "--no-valence", "--no-progress"]) == 0
    with xr.open_dataset(tmp_path / "out" / "results.nc") as res:
        for name in ("kb13_m1", "kb13_m1_stat", "kb13_m1_sys", "kb13_m1_err", "kb_prime_ratio_sys_background"):
            np.testing.assert_array_equal(res[name].values, direct[name].values)


_SPECTRA = st.builds(lambda f, seed: spectro.simulate.xes(high_spin_fraction=f, noise=0.01, background=10.0, seed=seed),
                     st.floats(0.0, 1.0), st.integers(0, 2**16))
_REFERENCE = spectro.simulate.xes(spin="low", noise=0.01, seed=99)


@settings(max_examples=10, deadline=None)
@given(_SPECTRA, st.floats(1e-3, 1e4), st.floats(-3.0, 3.0))
def test_systematic_terms_ignore_the_intensity_scale_and_move_nothing_with_an_energy_shift(ds, scale, shift):
    """The windows are placed on the Kbeta1,3 peak and the metrics are normalized: a scaled or shifted spectrum
    (its reference alike) gets the same systematic terms."""
    a = _quiet(spectro.xes.analyze, ds, reference=_REFERENCE, budget=True)
    scaled = ds.copy(data={"intensity": ds.intensity * scale, "intensity_err": ds.intensity_err * scale})
    b = _quiet(spectro.xes.analyze, scaled, reference=_REFERENCE, budget=True)
    moved = ds.assign_coords(emission_energy=ds.emission_energy + shift)
    ref_moved = _REFERENCE.assign_coords(emission_energy=_REFERENCE.emission_energy + shift)
    c = _quiet(spectro.xes.analyze, moved, reference=ref_moved, budget=True)
    for name in ("kb13_m1", "kb13_fwhm", "kb_prime_ratio", "iad"):
        for part in ("sys_background", "sys_window"):
            np.testing.assert_allclose(b[f"{name}_{part}"], a[f"{name}_{part}"], rtol=1e-6, atol=1e-10,
                                       err_msg=f"{name}_{part} (scaled)")
            np.testing.assert_allclose(c[f"{name}_{part}"], a[f"{name}_{part}"], rtol=1e-5, atol=1e-7,
                                       err_msg=f"{name}_{part} (shifted)")
    np.testing.assert_allclose(c.kb13_m1 - a.kb13_m1, shift, atol=1e-6)


@pytest.mark.realdata
def test_spin_window_term_leaves_out_a_window_the_data_do_not_cover(data_dir):
    """The Mn scans of xes/ stop 9.8 eV above Kbeta1,3: the IAD window moved to +10 eV is not covered.

    ``spectro.xes.spin`` raised DataError for the whole call (the moved window's IAD of the references is NaN);
    that variant is now left out of the window term, which says so, and the fraction keeps its other terms.
    """
    read = lambda name: _quiet(spectro.read, data_dir / "xes" / name)  # noqa: E731
    sample = read("advxafs_Figure_2B_S2_XES_1h_milled.dat")
    high, low = read("advxafs_Figure_2A_S1_XES_Mn2O3.dat"), read("advxafs_Figure_2A_S1_XES_Mn3O4.dat")
    r = _quiet(spectro.xes.spin, sample, high=high, low=low)
    assert np.isfinite(float(r.high_spin_fraction_sys_window[0]))
    assert "do not cover the windows -20..10 eV" in r.high_spin_fraction_sys_window.attrs["method"]
    np.testing.assert_allclose(r.high_spin_fraction_err, np.hypot(r.high_spin_fraction_stat, r.high_spin_fraction_sys))
