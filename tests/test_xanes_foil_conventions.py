"""Foil-edge conventions of the energy calibration, the ambiguous-foil flag and the calibration spread."""

import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import DataError, OptionError, SpectroWarning
from spectro.options import XanesOptions
from spectro.xanes import (
    XanesFlag,
    calibration_arrays,
    calibration_shifts,
    calibration_spread,
    reference_foil,
)
from spectro.xanes._derivative import DERIVATIVE_WINDOW
from spectro.xanes.energy_calibration import FAR_SHIFT, FOIL_EDGES

#: Real files with a reference-foil channel (Ni K edge).
WITH_FOIL = [
    "xanes/bmm_Ni-K-NickelOxide.xdi",
    "xanes/bmm_Ni-K-LanthanumNickelate.xdi",
    "xanes/ceric_NiO_111.xdi",
    "xanes/ceric_LaNiO3_Ni_80K_111.xdi",
    "xanes/larch_NiO.prj",
    "xanes/xaslib_NiS_rt_01.xdi",
]


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path)


def test_default_smoothing_option_is_the_derivative_window():
    assert XanesOptions().foil_smoothing == DERIVATIVE_WINDOW
    assert XanesOptions().foil_edge == "derivative"


def test_every_convention_recovers_a_shift_of_the_reference_foil_itself():
    """On a copy of the reference foil every convention gives the same shift: the one applied."""
    e, mu = reference_foil()
    offsets = np.array([-2.3, -0.4, 0.0, 1.15])
    energy = e + offsets[:, None]  # each row its own grid: the foil measured with a miscalibration
    rows = np.broadcast_to(mu, energy.shape)
    for convention in FOIL_EDGES:
        cal = calibration_arrays(energy, rows, convention=convention)
        np.testing.assert_allclose(cal.shift, -offsets, atol=0.005, err_msg=convention)
        assert cal.convention == convention and not cal.ambiguous.any()


def test_conventions_are_vectorized_and_row_independent():
    ds = spectro.simulate.xanes(reference=True, foil="ni", n_scans=4, noise=0.002,
                                energy_offset=[0.3, -1.2, 2.0, 0.0], seed=3)
    e, ref = ds.energy.values, ds.mu_ref.values
    for convention in FOIL_EDGES:
        whole = calibration_arrays(e, ref, convention=convention)
        for i in range(4):
            one = calibration_arrays(e, ref[i:i + 1], convention=convention)
            assert one.shift[0] == whole.shift[i], convention
    # a union grid (per-row energies, NaN gaps) gives the shifts of the rows apart
    rows = np.where(np.arange(e.size) % 2 == np.arange(4)[:, None] % 2, ref, np.nan)
    apart = [calibration_arrays(e[i % 2::2], ref[i, i % 2::2][None], convention="xcorr").shift[0] for i in range(4)]
    np.testing.assert_allclose(calibration_arrays(e, rows, convention="xcorr").shift, apart, atol=1e-9)


def test_simulated_ni_foil_conventions_agree_with_the_truth():
    offsets = np.array([-1.6, 0.0, 0.7, 2.1])
    ds = spectro.simulate.xanes(reference=True, foil="ni", n_scans=4, energy_offset=offsets, seed=8)
    for convention in FOIL_EDGES:
        cal = calibration_arrays(ds.energy.values, ds.mu_ref.values, convention=convention)
        # the model foil is not the measured reference foil: the conventions placed on the latter
        # differ by what the shapes differ (about 0.1 eV for the half height), the derivative not at all
        tol = 0.01 if convention in ("derivative", "inflection") else 0.2
        np.testing.assert_allclose(cal.shift, -offsets, atol=tol, err_msg=convention)


def test_ambiguous_foil_is_flagged_and_the_conventions_disagree():
    ds = spectro.simulate.xanes(reference=True, foil="ambiguous", n_scans=2, noise=0.001,
                                energy_offset=[0.0, 0.8], seed=2)
    cal = calibration_arrays(ds.energy.values, ds.mu_ref.values)
    assert cal.ambiguous.all()
    # the first-maximum rule still takes the 0.8 maximum placed at the tabulated edge
    np.testing.assert_allclose(cal.shift, [0.0, -0.8], atol=0.05)
    # the first inflection takes the 0.6 maximum 5 eV below
    infl = calibration_arrays(ds.energy.values, ds.mu_ref.values, convention="inflection")
    np.testing.assert_allclose(infl.shift - cal.shift, 5.0, atol=0.3)
    assert (calibration_spread(ds.energy.values, ds.mu_ref.values) > 1.0).all()
    with pytest.warns(SpectroWarning, match="'sim0000', 'sim0001': the reference foil's edge is ambiguous"):
        res = spectro.xanes.analyze(ds, preedge="centroid")
    assert (res.flags.values & XanesFlag.AMBIGUOUS_FOIL).all()
    clean = spectro.xanes.analyze(spectro.simulate.xanes(reference=True, foil="ni", seed=2), preedge="centroid")
    assert not (clean.flags.values & XanesFlag.AMBIGUOUS_FOIL).any()


def test_a_shift_beyond_the_documented_limit_is_ambiguous():
    ds = spectro.simulate.xanes(reference=True, foil="ni", n_scans=2, energy_offset=[FAR_SHIFT - 0.5,
                                                                                     FAR_SHIFT + 0.5], seed=1)
    cal = calibration_arrays(ds.energy.values, ds.mu_ref.values)
    assert cal.ambiguous.tolist() == [False, True]


@pytest.mark.parametrize("relative", WITH_FOIL)
def test_real_foils_are_not_ambiguous_and_conventions_agree(data_file, relative):
    ds = _read(data_file(relative))
    e, ref = ds.energy.values, ds.mu_ref.values
    cal = calibration_arrays(e, ref)
    assert not cal.ambiguous.any()
    labels, shifts = calibration_shifts(e, ref)
    assert shifts.shape == ref.shape[:-1] + (len(labels),) and np.isfinite(shifts).all()
    # the default shift is the first column, to the bit
    np.testing.assert_array_equal(shifts[..., 0], cal.shift)
    spread = calibration_spread(e, ref)
    np.testing.assert_allclose(spread, np.std(shifts, axis=-1, ddof=1))
    # measured on these foils: every convention within 1 eV of the default, spread below 0.3 eV
    assert np.abs(shifts - cal.shift[..., None]).max() < 1.0
    assert (spread < 0.3).all()


def test_split_first_maximum_of_a_real_foil_is_ambiguous(data_file):
    """The XASLIB Ni2O3 scan 02 foil: derivative maxima of 0.42 and 0.80 of the largest below the main rise."""
    ds = _read(data_file("xanes/xaslib_Ni2O3_rt_02.xdi"))
    assert calibration_arrays(ds.energy.values, ds.mu_ref.values).ambiguous.all()
    assert (calibration_spread(ds.energy.values, ds.mu_ref.values) > 0.5).all()


def test_reference_foil_spread_is_zero_at_the_default_smoothing():
    e, mu = reference_foil()
    labels, shifts = calibration_shifts(e, mu[None])
    at_default = [s for (c, w), s in zip(labels, shifts[0]) if w == DERIVATIVE_WINDOW or c == "half"]
    np.testing.assert_allclose(at_default, 0.0, atol=0.01)


def test_options_choose_the_convention_and_are_recorded():
    ds = spectro.simulate.xanes(reference=True, foil="ni", energy_offset=0.9, noise=0.001, seed=4)
    default = spectro.xanes.analyze(ds, preedge="centroid")
    same = spectro.xanes.analyze(ds, preedge="centroid", foil_edge="derivative", foil_smoothing=1.5)
    np.testing.assert_array_equal(default.calibration_shift.values, same.calibration_shift.values)
    half = spectro.xanes.analyze(ds, preedge="centroid", foil_edge="half", foil_smoothing=2.0)
    assert half.attrs["xanes_foil_edge"] == "half" and half.attrs["xanes_foil_smoothing"] == 2.0
    assert "half-height" in half.calibration_shift.attrs["method"]
    assert default.calibration_shift.attrs["method"] == "reference foil derivative maximum"
    assert float(half.calibration_shift[0]) != float(default.calibration_shift[0])
    assert abs(float(half.calibration_shift[0]) + 0.9) < 0.3  # the model foil is not the reference foil


def test_conventions_placed_on_the_ni_foil_refuse_another_edge():
    with pytest.raises(OptionError, match="foil_edge"):
        XanesOptions(foil_edge="xcorr", edge_energy=7112.0)
    with pytest.raises(DataError, match="Ni foil"):
        calibration_arrays(np.arange(7000.0, 7200.0), np.zeros((1, 200)), edge_energy=7112.0, convention="half")
    with pytest.raises(OptionError, match="foil_edge"):
        XanesOptions(foil_edge="spline")
