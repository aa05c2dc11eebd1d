"""The error bars of the budget against what repeated real scans show.

Each scan's own error (``<name>_err_scan``, from that scan alone, without the
scatter term of its repeats) must explain the scatter of its repeats:
chi2/dof between 0.3 and 3. The checks that the data do not meet yet are
marked ``xfail(strict=True)`` with the measured numbers: they run the
requirement itself, unchanged, and fail the suite the day they pass.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.budget import valence_budget
from spectro.repeats import repeat_scatter
from spectro.xanes import budget
from spectro._variations import less_noise
from spectro.xanes._budget import FOIL_STEP
from spectro.xanes.energy_calibration import SPREAD_SMOOTHINGS, calibration_arrays

pytestmark = pytest.mark.realdata

CERIC = ("xanes/ceric_NiO_111.xdi", "xanes/ceric_LaNiO3_Ni_80K_111.xdi")
#: The repeated scans of one sample: files, or (project, the groups that are scans of their own).
REPEATS = {
    # the ten scan files of the project: not its merge ("NiO") nor the group loaded twice ("NiO.000 (2)")
    "nio_prj": ("xanes/larch_NiO.prj", r"NiO\.\d{3}"),
    "ni2o3": tuple(f"xanes/xaslib_Ni2O3_rt_0{i}.xdi" for i in (1, 2, 3)),
    "nis": tuple(f"xanes/xaslib_NiS_rt_0{i}.xdi" for i in (1, 2, 3)),
    # without a reference channel: each scan's error is its statistical error
    "fenis": ("xanes/larch_Ni_FeNiS20_RT.prj", r"fenis_ni_rt_xafs_\d{3}"),
    "ni_metal": tuple(f"xanes/xaslib_Ni_metal_rt_0{i}.xdi" for i in (1, 2)),
}


def _read(data_dir, spec) -> list[xr.Dataset]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(spec[1], str) and not spec[1].startswith("xanes/"):
            ds = spectro.read(data_dir / spec[0])
            keep = [i for i, s in enumerate(ds.scan.values) if re.fullmatch(spec[1], str(s))]
            return [ds.isel(scan=keep)]
        return [spectro.read(data_dir / name) for name in spec]


@pytest.fixture(scope="module")
def repeats(data_dir):
    """Per group: the valence budget (BM08 NiO and LaNiO3 anchors) of every scan, along one ``scan`` axis."""
    groups = {name: _read(data_dir, spec) for name, spec in REPEATS.items()}
    anchors = [(spectro.read(data_dir / n), v) for n, v in zip(CERIC, (2.0, 3.0))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, res = valence_budget([ds for dss in groups.values() for ds in dss], anchors)
    out, k = {}, 0
    for name, dss in groups.items():
        parts = res[k:k + len(dss)]
        k += len(dss)
        keep = ["e0", "e0_err_scan", "e0_err", "valence", "valence_err_scan", "valence_err"]
        out[name] = xr.concat([p[keep] for p in parts], dim="scan")
    return out


def _chi2(res: xr.Dataset, name: str) -> float:
    return float(repeat_scatter(res, name=name)[f"{name}_chi2"][0])


_NIO_PRJ = ("NSLS X23A2 NiO foils: their derivative maxima scatter by 0.19 eV (a broad top shaped by ripples ten "
            "times the white noise) while their whole-foil alignments agree to 0.007 eV; no term computed from one "
            "scan tells these ripples from the foil's shape: chi2/dof 6.6. With foil_edge='xcorr' the calibrated E0 "
            "scatter by 0.034 eV, the samples' own uncalibrated E0 by 0.033 eV for a statistical error of 0.002 eV "
            "(ripples of the samples' edges): chi2/dof 117. The errors' correlated-noise (AR(1)) factor measures nothing on "
            "these grids (the same chi2/dof); the scans' departures from their mean over the edge are an energy error "
            "common to sample and foil (0.025-0.06 eV rms, correlated 0.56-0.92 between the two channels), which "
            "no per-channel noise estimate contains")
_NI2O3 = ("XASLIB 'Ni2O3' foils change shape between scans: their derivative maxima follow 0.26 eV of the 0.6 eV "
          "the whole foil and the sample's edge move over the three scans: chi2/dof 1010 (151 with foil_edge='xcorr', "
          "whose calibrated E0 agree to 0.030 eV for errors of 0.003 eV)")


@pytest.mark.parametrize("group, name", [
    pytest.param("nis", "e0"),
    pytest.param("nis", "valence"),
    pytest.param("fenis", "e0"),
    pytest.param("ni_metal", "e0"),
    pytest.param("nio_prj", "e0", marks=pytest.mark.xfail(strict=True, reason=_NIO_PRJ)),
    pytest.param("nio_prj", "valence", marks=pytest.mark.xfail(strict=True, reason=_NIO_PRJ)),
    pytest.param("ni2o3", "e0", marks=pytest.mark.xfail(strict=True, reason=_NI2O3)),
    pytest.param("ni2o3", "valence", marks=pytest.mark.xfail(strict=True, reason=_NI2O3)),
])
def test_repeats_scatter_as_their_own_errors_say(repeats, group, name):
    assert 0.3 < _chi2(repeats[group], name) < 3.0


@pytest.mark.parametrize("group", [
    "nio_prj",
    pytest.param("ni2o3", marks=pytest.mark.xfail(strict=True, reason=(
        "the 'Ni2O3' foils' derivative maxima and whole-foil alignments differ by 0.6-0.9 eV: the foil term "
        "gives 0.17-0.20 in valence (the whole-foil alignment puts the three scans at 1.68-1.71, the derivative "
        "maxima at 1.31-1.43)"))),
    pytest.param("nis", marks=pytest.mark.xfail(strict=True, reason=(
        "NiS rises slowly through 0.8 of its jump: 0.75 and 0.85 of the jump are 2.9 eV apart (NiO 0.5, LaNiO3 "
        "0.4 eV), so the edge-definition term alone is 0.5 in valence"))),
])
def test_valence_errors_stay_below_0_15(repeats, group):
    err = repeats[group].valence_err.values
    assert np.all(np.isfinite(err)) and float(err.max()) < 0.15


def test_repeats_are_not_widened_by_their_own_scatter(repeats):
    """err_scan is computed from each scan alone: the Birge term is added by repeat_scatter, never before."""
    nio = repeats["nio_prj"]
    out = repeat_scatter(nio, name="e0")
    assert float(out.e0_chi2[0]) > 1.0
    np.testing.assert_allclose(out.e0_scatter, nio.e0_err_scan * np.sqrt(float(out.e0_chi2[0]) - 1.0))


def test_foil_term_on_a_coarse_grid(data_dir):
    """On the 0.5 eV grid of the XASLIB files the small smoothing steps do not change the foil's point.

    The local quadratic takes at least two neighbours on each side: 1.0, 1.5 and
    2.0 eV are the same fit there (but for a few points of the slightly uneven grid). The foil term then comes from the
    wide smoothings and the whole-foil alignment (it was 0); the scan-to-scan
    part (the small steps) stays the statistical error, and the wide smoothing
    moves the three NiS foils alike (a property of the foil's shape, common to
    the repeats, so not part of err_scan).
    """
    shifts_wide = []
    for i in (1, 2, 3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = spectro.read(data_dir / f"xanes/xaslib_NiS_rt_0{i}.xdi")
            res = budget(ds, spectra=False)
        e, ref = ds.energy.values, ds.mu_ref.values
        nominal = calibration_arrays(e, ref)
        smoothings = (1.5 - FOIL_STEP, 1.5 + FOIL_STEP, *SPREAD_SMOOTHINGS)
        # each smoothing's change less the part the foil's noise gives it (nested estimates of one point)
        changes = [less_noise(c.shift - nominal.shift, c.shift_err, nominal.shift_err)
                   for c in (calibration_arrays(e, ref, window=w) for w in smoothings)]
        # the whole-foil alignment's change less its own noise too (its noise is not a systematic of the nominal)
        xcorr = calibration_arrays(e, ref, convention="xcorr")
        changes.append(less_noise(xcorr.shift - nominal.shift, xcorr.shift_err, nominal.shift_err))
        changes = np.array(changes)[:, 0]
        np.testing.assert_allclose(changes[:2], 0.0, atol=1e-3)  # the small steps: (nearly) the same fit
        want = np.sqrt(np.mean(changes**2))
        assert float(res.e0_sys_foil[0]) == pytest.approx(want, rel=1e-9)
        assert float(res.calibration_shift_sys_foil[0]) > 0.1
        np.testing.assert_allclose(res.e0_err_scan, res.e0_stat, rtol=0.02)
        shifts_wide.append(changes[3])
    assert np.mean(shifts_wide) > 0.1 and np.std(shifts_wide) < 0.05


def test_foil_variations_follow_the_smoothing_option():
    from spectro.xanes._budget import variations

    foil = {label: change for comp, label, change in variations(foil_smoothing=2.0) if comp == "foil"}
    assert set(foil) == {"foil_window=1.5", "foil_window=2.5", "foil_window=0.6", "foil_window=4",
                         "foil_edge=xcorr"}
    nominal_xcorr = [label for comp, label, _ in variations(foil_edge="xcorr") if comp == "foil"]
    assert "foil_edge=derivative" in nominal_xcorr
    assert not any(label.startswith("foil_edge") for comp, label, _ in variations(edge_energy=7112.0)
                   if comp == "foil")


def test_scan_to_scan_foil_term_is_the_small_steps_only():
    """A simulated foil shifted by a known offset: err_scan holds the small smoothing steps, sys all of them."""
    ds = spectro.simulate.xanes(valence=[2.0, 2.5], n_scans=2, reference=True, foil="ni", energy_offset=[0.3, -0.6],
                                noise=0.002, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = spectro.xanes.budget_arrays(ds.energy.values, ds.mu.values, ds.mu_ref.values, preedge="centroid")
    small = [i for i, label in enumerate(b.labels) if label in ("foil_window=1", "foil_window=2")]
    assert len(small) == 2
    term = np.sqrt(np.mean(b.delta["e0"][..., small] ** 2, axis=-1))
    np.testing.assert_allclose(b.err_scan["e0"], np.hypot(b.stat["e0"], term), rtol=1e-12)
    foil = [i for i, c in enumerate(b.components) if c == "foil"]
    np.testing.assert_allclose(b.sys("e0", "foil"), np.sqrt(np.mean(b.delta["e0"][..., foil] ** 2, axis=-1)))
    assert len(foil) == 5
