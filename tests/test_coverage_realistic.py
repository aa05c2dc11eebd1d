"""Do the stated errors cover the truth? Measured on simulated beamtimes with realistic systematics.

The draws are :func:`spectro.simulate.realistic_xanes` and
:func:`spectro.simulate.realistic_xes` (distributions in
``XANES_DRAWS`` / ``XES_DRAWS`` and ``docs/uncertainty.md``), fixed seeds,
at least 500 samples each. The XANES analysis of all scans is one
``analyze(..., budget=True)`` call; the valence is one
:func:`spectro.budget.valence_budget` call per session (each session's two
end members are its anchors), the spin fraction one :func:`spectro.xes.spin`
call per session (its two references).

Coverage of an error ``s`` is the fraction of draws with ``|value - truth| <
s`` (1 sigma) and ``< 2 s`` (2 sigma); the issue asks for 60-80 % and
93-98 % of the total error. The statistical part alone is printed (``-s``)
and, for white noise, checked against a looser band. Where the total does not
reach the band the test says so (``xfail(strict=True)``, with the numbers).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.budget import valence_budget
from spectro.options import XanesOptions
from spectro.simulate import realistic_xanes, realistic_xes

#: The issue's bands of the total error's coverage.
BAND_1, BAND_2 = (0.60, 0.80), (0.93, 0.98)
SESSIONS, PER = 10, 52  # 520 XANES scans, 500 of them samples
#: 600 XES scans, 520 samples. Each session's samples share its two references, whose noise is most of a fraction's
#: error: with 10 sessions of 52 the 1-sigma coverage moved from 0.726 to 0.802 between seeds (the references' part
#: is measured 10 times, not 500); with 40 sessions of 15 it is 0.729-0.785 on seeds 2026, 1, 2 and 3 (2 sigma
#: 0.975-0.977).
XES_SESSIONS, XES_PER = 40, 15


def _coverage(d: np.ndarray, err: np.ndarray) -> tuple[float, float]:
    ok = np.isfinite(d) & np.isfinite(err)
    assert ok.mean() > 0.99, ok.mean()
    return float(np.mean(np.abs(d[ok]) < err[ok])), float(np.mean(np.abs(d[ok]) < 2 * err[ok]))


def _report(name: str, d: np.ndarray, stat: np.ndarray, total: np.ndarray) -> tuple[float, float]:
    s1, s2 = _coverage(d, stat)
    t1, t2 = _coverage(d, total)
    print(f"\n{name}: n={d.size} bias {np.nanmean(d):+.4f} sd {np.nanstd(d):.4f} | stat median "
          f"{np.nanmedian(stat):.4f} covers {s1:.3f}/{s2:.3f} | total median {np.nanmedian(total):.4f} "
          f"covers {t1:.3f}/{t2:.3f}")
    return t1, t2


def _in_band(cov: tuple[float, float]) -> bool:
    return BAND_1[0] <= cov[0] <= BAND_1[1] and BAND_2[0] <= cov[1] <= BAND_2[1]


@pytest.fixture(scope="module")
def xanes_draws():
    ds = realistic_xanes(SESSIONS, PER, seed=2026)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = spectro.xanes.analyze(ds, budget=True, spectra=False)
    return ds, res


def _by_noise(name, ds, d, res):
    white = ds.true_noise_corr.values == 0
    for label, rows in (("white", white), ("AR(1)", ~white)):
        _report(f"{name} [{label} noise]", d[rows], res[f"{name}_stat"].values[rows], res[f"{name}_err"].values[rows])
    return white


#: What the default foil convention (the first derivative maximum) does on the tabulated Ni foil with the drawn
#: broadening, thickness and ripples (docs/uncertainty.md, "The foil convention" and "Coverage with the real
#: foils' spread").
_FOIL = ("the foil's derivative maximum scatters by 0.28 eV about +0.07 eV on these foils (broadened as the real "
         "foils of seven beamlines; excess kurtosis 5.3) for a statistical error of 0.11 eV, and the foil term, made "
         "of this foil's own convention changes, follows each scan's deviation (correlation of |deviation| and total "
         "0.63): the same totals given to the draws at random would cover 0.64/0.86")


@pytest.mark.xfail(strict=True, reason="2 sigma over-covers (0.633/0.983): " + _FOIL)
def test_e0_total_error_covers_the_true_edge(xanes_draws):
    """E0 (0.8 crossing) against that of the noise-free, undamped mixture on the true energy scale."""
    ds, res = xanes_draws
    d = res.e0.values - ds.true_e0_calibrated.values
    total = _report("e0 (undamped truth)", d, res.e0_stat.values, res.e0_err.values)
    _by_noise("e0", ds, d, res)
    assert _in_band(total), total


@pytest.mark.xfail(strict=True, reason="statistical part covers 0.35/0.61 with white noise, the total 0.59/0.99: "
                                        + _FOIL + " (not statistical, the same on white and AR(1) noise)")
def test_e0_errors_against_the_edge_of_the_damped_spectrum(xanes_draws):
    """Against the 0.8 crossing of the damped spectrum (what an analysis can see), what holds.

    White noise: the statistical part alone covers about as a normal error should and the total is not too
    small; AR(1) noise: the statistical part alone, widened for the correlation each spectrum shows, covers about as on white noise.
    """
    ds, res = xanes_draws
    d = res.e0.values - (ds.true_e0_measured.values - ds.true_energy_offset.values)
    _report("e0 (damped truth)", d, res.e0_stat.values, res.e0_err.values)
    white = _by_noise("e0", ds, d, res)
    stat_white = _coverage(d[white], res.e0_stat.values[white])
    assert 0.60 < stat_white[0] < 0.85 and stat_white[1] > 0.90, stat_white
    stat_ar1 = _coverage(d[~white], res.e0_stat.values[~white])
    assert stat_ar1[0] > stat_white[0] - 0.05, (stat_ar1, stat_white)
    one, two = _coverage(d, res.e0_err.values)
    assert one > BAND_1[0] and two > BAND_2[0], (one, two)


def test_e0_edge_definition_is_reported_not_added(xanes_draws):
    """Another level moves E0 by about 0.25 eV: in the total, the error would cover the 0.8 crossing above the band.

    (0.91 at 1 sigma on these draws; 1.00 when the simulated foil was a model shape whose derivative maximum did not
    scatter.)
    """
    ds, res = xanes_draws
    d = res.e0.values - ds.true_e0_calibrated.values
    ed = res.e0_sys_edge_definition.values
    assert 0.2 < np.nanmedian(ed) < 0.3 and np.nanmedian(ed) > np.nanmedian(res.e0_sys.values)
    assert _coverage(d, np.hypot(res.e0_err.values, ed))[0] > BAND_1[1]


@pytest.mark.xfail(strict=True, reason="covers 0.571/0.988: " + _FOIL)
def test_calibration_shift_errors(xanes_draws):
    """The shift that puts the Ni foil's edge at 8333.0 eV is minus the miscalibration; printed, and not too small."""
    ds, res = xanes_draws
    d = res.calibration_shift.values + ds.true_energy_offset.values
    total = _report("calibration_shift", d, res.calibration_shift_stat.values, res.calibration_shift_err.values)
    _by_noise("calibration_shift", ds, d, res)
    assert total[0] > BAND_1[0] and total[1] > 0.90, total


@pytest.mark.xfail(strict=True, reason="2 sigma over-covers (0.632/0.992): every calibrated energy carries the "
                                        "calibration: " + _FOIL)
def test_preedge_centroid_total_error_covers_the_true_centroid(xanes_draws):
    ds, res = xanes_draws
    d = res.preedge_centroid.values - ds.true_preedge_centroid_calibrated.values
    total = _report("preedge_centroid", d, res.preedge_centroid_stat.values, res.preedge_centroid_err.values)
    _by_noise("preedge_centroid", ds, d, res)
    assert _in_band(total), total


def test_preedge_centroid_total_error_is_not_too_small(xanes_draws):
    """What holds for the pre-edge centroid: the total error is conservative, never too small."""
    ds, res = xanes_draws
    d = res.preedge_centroid.values - ds.true_preedge_centroid_calibrated.values
    one, two = _coverage(d, res.preedge_centroid_err.values)
    assert one > BAND_1[0] and two > BAND_2[0], (one, two)


@pytest.fixture(scope="module")
def valences(xanes_draws):
    ds, _ = xanes_draws
    bare = xr.Dataset({"mu": ds.mu, "mu_ref": ds.mu_ref}, attrs={"kind": "xanes"})
    bare = bare.drop_vars([c for c in bare.coords if c not in ("energy", "scan")])
    opts = XanesOptions(preedge="centroid")
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(SESSIONS):  # one line per session, through that session's two end members
            rows = np.flatnonzero(ds.session.values == s)
            _, (res,) = valence_budget([bare.isel(scan=rows[2:])], [(bare.isel(scan=[rows[0]]), 2.0),
                                                                     (bare.isel(scan=[rows[1]]), 3.0)], options=opts)
            out.append(res[["valence", "valence_stat", "valence_err", "valence_sys_anchors"]])
    truth = ds.true_valence.values[ds.role.values == "sample"]
    return xr.concat(out, dim="scan"), truth


@pytest.mark.xfail(strict=True, reason="2 sigma over-covers (0.726/0.982): the foil terms (the derivative maxima of "
                                        "each session's anchors and samples move apart by 0.28 eV rms) follow each "
                                        "valence's deviation; the valences scatter by 0.150 about a -0.040 bias")
def test_valence_total_error_covers_the_true_valence(valences):
    v, truth = valences
    d = v.valence.values - truth
    assert d.size >= 500
    total = _report("valence", d, v.valence_stat.values, v.valence_err.values)
    assert _in_band(total), total


def test_valence_total_error_is_not_too_small(valences):
    """What holds: the total is conservative (the two-anchor term, 0, adds nothing: the anchors are the session's)."""
    v, truth = valences
    d = v.valence.values - truth
    assert np.all(v.valence_sys_anchors.values == 0.0)
    one, two = _coverage(d, v.valence_err.values)
    assert one > BAND_1[0] and two > BAND_2[0], (one, two)


@pytest.fixture(scope="module")
def spins():
    ds = realistic_xes(XES_SESSIONS, XES_PER, seed=2026)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in range(XES_SESSIONS):  # each session's samples against its two references
            rows = np.flatnonzero(ds.session.values == s)
            out.append(spectro.xes.spin(ds.isel(scan=rows[2:]), high=ds.isel(scan=[rows[0]]),
                                        low=ds.isel(scan=[rows[1]])))
    return xr.concat(out, dim="scan"), ds.true_high_spin_fraction.values[ds.role.values == "sample"]


def test_spin_fraction_two_sigma_coverage_and_no_bias(spins):
    r, truth = spins
    d = r.high_spin_fraction.values - truth
    assert d.size >= 500
    total = _report("high_spin_fraction", d, r.high_spin_fraction_stat.values, r.high_spin_fraction_err.values)
    assert BAND_2[0] <= total[1] <= BAND_2[1], total
    assert abs(np.mean(d)) < 3 * np.std(d) / np.sqrt(d.size)  # read on the references' mixtures: no bias


def test_spin_fraction_one_sigma_coverage(spins):
    r, truth = spins
    one, _ = _coverage(r.high_spin_fraction.values - truth, r.high_spin_fraction_err.values)
    assert BAND_1[0] <= one <= BAND_1[1], one
