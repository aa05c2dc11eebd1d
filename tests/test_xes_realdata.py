"""Measured Mn Kbeta spectra (Diamond I20): what the physics demands of the metrics.

Mn2O3 is Mn3+ (high spin, 4 unpaired 3d electrons); Mn3O4 is Mn2+Mn3+2
(on average 4.33 unpaired electrons). More unpaired 3d electrons mean a
larger 3p-3d exchange splitting: Kbeta1,3 moves to higher energy and Kbeta'
grows (Glatzel & Bergmann, Coord. Chem. Rev. 249, 65 (2005)). LaMnO3
(sol-gel) was measured from 6480 eV only, so it has no Kbeta' region.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xraydb

import spectro
from spectro.errors import MissingRegionWarning

pytestmark = pytest.mark.realdata

FILES = {
    "Mn2O3": "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat",
    "Mn3O4": "xes/advxafs_Figure_2A_S1_XES_Mn3O4.dat",
    "LaMnO3": "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat",
    "1h": "xes/advxafs_Figure_2B_S2_XES_1h_milled.dat",
    "2h": "xes/advxafs_Figure_2B_S2_XES_2h_milled.dat",
    "3h": "xes/advxafs_Figure_2B_S2_XES_3h_milled.dat",
    "4h": "xes/advxafs_Figure_2B_S2_XES_4h_milled.dat",
}


@pytest.fixture(scope="module")
def results(data_file):
    out = {}
    reference = spectro.read(data_file(FILES["Mn2O3"]))
    for key, name in FILES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingRegionWarning)
            out[key] = spectro.xes.analyze(spectro.read(data_file(name)), element="Mn",
                                           reference=reference).isel(scan=0)
    return out


def _diff(results, name, a, b):
    d = float(results[a][name] - results[b][name])
    err = float(np.hypot(results[a][f"{name}_err"], results[b][f"{name}_err"]))
    return d, err


def test_kb13_peak_near_the_tabulated_line(results):
    kb1 = xraydb.xray_lines("Mn", "K")["Kb1"].energy
    for key, r in results.items():
        assert abs(float(r.kb13_energy) - kb1) < 2.0, key
        assert 3.5 < float(r.kb13_fwhm) < 5.0, key


def test_mn3o4_kb13_first_moment_above_mn2o3(results):
    d, err = _diff(results, "kb13_m1", "Mn3O4", "Mn2O3")
    assert d > 3 * err
    d_peak, err_peak = _diff(results, "kb13_energy", "Mn3O4", "Mn2O3")
    assert d_peak > 2 * err_peak


def test_mn3o4_kb_prime_stronger_than_mn2o3(results):
    d, err = _diff(results, "kb_prime_ratio", "Mn3O4", "Mn2O3")
    assert d > 3 * err
    # the max-normalized area also carries the error of the peak height
    d, err = _diff(results, "kb_prime", "Mn3O4", "Mn2O3")
    assert d > 2 * err


def test_lamno3_lacks_kb_prime_and_warns(data_file):
    ds = spectro.read(data_file(FILES["LaMnO3"]))
    with pytest.warns(MissingRegionWarning, match="Kbeta' window"):
        r = spectro.xes.kbeta(ds, element="Mn")
    assert np.isnan(r.kb_prime.values).all() and np.isnan(r.kb_prime_ratio.values).all()
    assert np.isfinite(r.kb13_energy.values).all() and np.isfinite(r.kb13_m1.values).all()


def test_no_valence_to_core_region_in_these_scans(results):
    for key, r in results.items():
        assert np.isnan(float(r.kb25_energy)), key


def test_iad_against_mn2o3(results):
    assert float(results["Mn2O3"].iad) == pytest.approx(0.0, abs=1e-12)
    for key in ("Mn3O4", "1h", "2h", "3h", "4h"):
        assert float(results[key].iad) > 5 * float(results[key].iad_err), key
    assert np.isnan(float(results["LaMnO3"].iad))


def test_spin_estimate_between_real_references(data_file):
    """Mn3O4 as 'high' (more unpaired 3d electrons), Mn2O3 as 'low': each maps onto its anchor."""
    hi = spectro.read(data_file(FILES["Mn3O4"]))
    lo = spectro.read(data_file(FILES["Mn2O3"]))
    both = spectro.model.build(
        [spectro.model.Scan(d.emission_energy.values, {"intensity": d.intensity.values[0],
                                                       "intensity_err": d.intensity_err.values[0]},
                            str(d.scan.values[0])) for d in (lo, hi)],
        kind="xes",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingRegionWarning)
        r = spectro.xes.spin(both, high=hi, low=lo, metric="kb13_m1", element="Mn")
    assert r.high_spin_fraction.values == pytest.approx([0.0, 1.0], abs=1e-9)
    assert np.all(r.high_spin_fraction_err.values > 0)


def test_cobalt_spectrum_with_its_sigma_column(data_file):
    """Co Kbeta (Demeter example, no header): element-generic windows and weighting.

    Columns: incident energy, emission energy, normalized intensity, its
    sigma, raw counts, pixels. The last row comes from a truncated detector
    ROI (40 counts) and carries a large sigma. The grid maximum is at
    7649.45 eV on a 0.7 eV grid.
    """
    table = np.loadtxt(data_file("copyleft-test-inputs/xes/demeter_7725.11"))
    scan = spectro.model.Scan(table[:, 1], {"intensity": table[:, 2], "intensity_err": table[:, 3]},
                              "Co")
    ds = spectro.model.build([scan], kind="xes")
    with pytest.warns(MissingRegionWarning) as record:  # no valence-to-core region measured
        r = spectro.xes.analyze(ds, element="Co").isel(scan=0)
    assert all("Kbeta2,5" in str(w.message) or "Kbeta''" in str(w.message) for w in record)
    assert abs(float(r.kb13_energy) - 7649.45) <= 0.35
    assert float(r.kb13_m1) < float(r.kb13_energy)  # Kbeta' side pulls the moment down
    assert float(r.kb_prime_ratio) > 10 * float(r.kb_prime_ratio_err)
    assert 3.0 < float(r.kb13_fwhm) < 7.0
