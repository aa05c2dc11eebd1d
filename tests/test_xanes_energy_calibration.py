"""Calibration on the reference foil, alignment, glitches and merging."""

import warnings

import numpy as np
import pytest
import xraydb

import spectro
from spectro.errors import DataError
from spectro.xanes import (
    align,
    align_arrays,
    calibrate_energy,
    calibration_arrays,
    find_glitches_arrays,
    merge,
    remove_glitches,
)


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path)


def test_calibration_removes_the_miscalibration():
    offsets = np.array([-1.7, -0.4, 0.0, 0.9, 2.2])
    ds = spectro.simulate.xanes(
        n_scans=5, reference=True, energy_offset=offsets, noise=0.002, seed=3
    )
    cal = calibration_arrays(ds.energy.values, ds.mu_ref.values)
    np.testing.assert_allclose(cal.shift, -offsets, atol=0.03)
    assert cal.edge_energy == xraydb.xray_edge("Ni", "K").energy


def test_calibrated_e0_is_the_offset_free_truth():
    offsets = np.array([-1.2, 0.0, 1.6])
    ds = spectro.simulate.xanes(
        n_scans=3, reference=True, energy_offset=offsets, seed=4
    )
    res = spectro.xanes.analyze(ds)
    np.testing.assert_allclose(res.e0.values, ds.true_e0.values - offsets, atol=0.03)
    np.testing.assert_allclose(res.calibration_shift.values, -offsets, atol=0.02)


def test_calibrate_energy_shifts_the_signals():
    ds = spectro.simulate.xanes(reference=True, energy_offset=1.0, seed=2)
    out = calibrate_energy(ds)
    assert out.identical(ds.xanes.calibrate_energy())
    again = calibration_arrays(out.energy.values, out.mu_ref.values)
    assert abs(again.shift[0]) < 0.02
    assert out.calibration_shift.attrs["units"] == "eV"
    with pytest.raises(DataError, match="mu_ref"):
        calibrate_energy(ds.drop_vars("mu_ref"))


def test_alignment_recovers_relative_shifts():
    offsets = np.array([0.0, 0.35, -1.1, 2.4])
    ds = spectro.simulate.xanes(n_scans=4, energy_offset=offsets, noise=0.003, seed=5)
    shifts = align_arrays(ds.energy.values, ds.mu.values, ds.mu.values[0])
    np.testing.assert_allclose(shifts, -offsets, atol=0.05)
    out = align(ds)
    assert out.alignment_shift.attrs["reference_scan"] == "sim0000"


def test_foil_edge_of_real_references_agrees_with_larch(data_file, larch):
    from larch.xafs import find_e0

    ds = _read(data_file("xanes/ceric_NiO_111.xdi"))
    ours = calibration_arrays(ds.energy.values, ds.mu_ref.values).foil_e0[0]
    assert abs(ours - find_e0(ds.energy.values, ds.mu_ref.values[0])) < 0.3


def test_lanio3_edge_above_nio_after_calibration(data_file):
    """Ni3+ (LaNiO3) lies above Ni2+ (NiO): about 1-3 eV per valence unit at the Ni K edge."""
    nio = spectro.xanes.analyze(_read(data_file("xanes/ceric_NiO_111.xdi")))
    lno = spectro.xanes.analyze(_read(data_file("xanes/ceric_LaNiO3_Ni_80K_111.xdi")))
    assert np.isfinite(nio.calibration_shift.values).all()
    diff = float(lno.e0[0] - nio.e0[0])
    assert 1.0 < diff < 3.5


def test_glitches_found_and_removed():
    ds = spectro.simulate.xanes(n_scans=20, glitches=3, noise=0.002, seed=6)
    g = find_glitches_arrays(ds.energy.values, ds.mu.values)
    truth = ds.true_glitch.values
    assert np.array_equal(g.mask & truth, truth)
    assert (g.mask & ~truth).sum() <= 2
    cleaned = remove_glitches(ds)
    assert int(cleaned.mu.isnull().sum()) == int(g.mask.sum())
    assert not np.isnan(ds.mu.values).any()


def test_no_false_glitches_in_clean_spectra():
    ds = spectro.simulate.xanes(
        n_scans=10, valence=np.linspace(2, 3, 10), feature_c=0.2, seed=7
    )
    assert find_glitches_arrays(ds.energy.values, ds.mu.values).mask.sum() == 0


def test_merge_mean_and_spread():
    ds = spectro.simulate.xanes(n_scans=30, noise=0.01, seed=8)
    clean = spectro.simulate.xanes(n_scans=30, seed=8)
    m = merge(ds)
    np.testing.assert_allclose(m.mu.values[0], clean.mu.values.mean(axis=0), atol=0.03)
    assert np.all(m.n_scans.values == 30)
    assert np.nanmedian(m.mu_err.values) == pytest.approx(
        np.nanmedian(m.mu_std.values) / np.sqrt(30)
    )


def test_merge_athena_scans_on_union_grid(data_file):
    ds = _read(data_file("xanes/larch_NiO.prj"))
    m = merge(ds)
    assert m.sizes["scan"] == 1
    assert int(np.nanmax(m.n_scans.values)) == ds.sizes["scan"]


def test_the_ni_k_edge_constant_is_xraydb_s():
    from spectro.xanes.energy_calibration import NI_K_EDGE, tabulated_edge

    assert NI_K_EDGE == xraydb.xray_edge("Ni", "K").energy == tabulated_edge("Ni", "K")


@pytest.mark.parametrize("source", ["simulated", "xanes/larch_NiO.prj", "xanes/bmm_Ni-K-NickelOxide.xdi"])
def test_calibrations_in_one_pass_are_each_calibration_to_the_bit(data_file, source):
    """The budget's one pass over a foil (noise once, one derivative maximum per smoothing, every smoothing's
    correlated noise in one call) gives what calibration_arrays gives for each variant alone, field by field."""
    from spectro.xanes.energy_calibration import XCORR_RANGE, _calibrations

    if source == "simulated":
        ds = spectro.simulate.realistic_xanes(2, 3, seed=1)
    else:
        ds = _read(data_file(source))
    e, ref = ds.energy.values, ds.mu_ref.values
    variants = [(1.5, "derivative", XCORR_RANGE), (1.0, "derivative", XCORR_RANGE), (4.0, "xcorr", XCORR_RANGE),
                (1.5, "xcorr", (-10.0, 20.0)), (0.6, "half", XCORR_RANGE), (2.0, "inflection", XCORR_RANGE),
                (1.5, "xcorr", XCORR_RANGE)]
    for rows in (ref, ref[0]):
        for cal, (window, convention, compared) in zip(_calibrations(e, rows, variants), variants):
            alone = calibration_arrays(e, rows, window=window, convention=convention, xcorr_range=compared)
            assert cal.convention == alone.convention and cal.edge_energy == alone.edge_energy
            for name in ("shift", "shift_err", "foil_e0", "ambiguous"):
                assert np.asarray(getattr(cal, name)).tobytes() == np.asarray(getattr(alone, name)).tobytes(), (
                    window, convention, name)
    with pytest.raises(DataError, match="placed on a Ni foil"):
        _calibrations(e, ref, variants, edge_energy=7112.0)
