"""Valence-to-core metrics: the La3Ni2O7 / NiO / LaNiO3 comparison of the study."""

from __future__ import annotations

import numpy as np
import pytest

import spectro
from spectro.errors import MissingRegionWarning
from spectro.simulate import xes
from spectro.xes import XesFlag
from spectro.xes._vtc import tail_basis


@pytest.fixture(scope="module")
def trio():
    """NiO-like (high spin), LaNiO3-like (low spin), La3Ni2O7-like (low spin, -0.35 eV)."""
    ds = xes(n_scans=3, high_spin_fraction=[1.0, 0.0, 0.0], kb25_shift=[0.0, 0.0, -0.35],
             noise=0.001, seed=21)
    return ds.assign_coords(sample=("scan", ["NiO", "LaNiO3", "La3Ni2O7"], ds.sample.attrs))


def test_kb25_energy_and_height_recovered(trio):
    r = spectro.xes.vtc(trio)
    assert np.all(np.abs(r.kb25_energy - trio.true_kb25_energy) < 0.05)
    np.testing.assert_allclose(r.kb25_intensity, trio.true_kb25_intensity, rtol=0.02)


def test_study_shifts_and_heights(trio):
    """+1.50 eV vs NiO, -0.35 eV vs LaNiO3, NiO peak 25 % lower (Mijit et al.)."""
    r = spectro.xes.vtc(trio)
    e = r.kb25_energy.values
    h = r.kb25_intensity.values
    assert e[2] - e[0] == pytest.approx(1.50, abs=0.05)
    assert e[2] - e[1] == pytest.approx(-0.35, abs=0.05)
    assert h[0] / h[2] == pytest.approx(0.75, rel=0.02)


def _vtc_truth(**kw):
    """The valence-to-core part alone, on the simulator's grid (Kbeta1,3 maximum = 1)."""
    with_vtc = xes(**kw)
    without = xes(kb25_scale=0.0, **kw)
    return with_vtc, (with_vtc.intensity - without.intensity).values[0] / 1000.0


@pytest.mark.parametrize("spin", ["high", "low"])
def test_centroid_and_area_match_the_true_vtc_part(spin):
    ds, part = _vtc_truth(spin=spin)
    r = spectro.xes.vtc(ds)
    e = ds.emission_energy.values
    e25 = float(spectro.xes.kbeta(ds).kb13_energy[0]) + spectro.xes.windows("Ni").vtc_offset
    win = (e >= e25 - 6.0) & (e <= e25 + 6.0)
    centroid = np.sum(e[win] * part[win]) / np.sum(part[win])
    assert float(r.kb25_centroid[0]) == pytest.approx(centroid, abs=0.05)
    assert float(r.kb25_area[0]) == pytest.approx(np.trapezoid(part[win], e[win]), rel=0.03)
    # Kbeta'' sits 15 eV below Kbeta2,5 in the simulation
    assert float(r.kbpp_energy[0]) == pytest.approx(float(ds.true_kb25_energy[0]) - 15.0, abs=0.3)
    assert float(r.kbpp_intensity[0]) < float(r.kb25_intensity[0])


def test_tail_removal_matters():
    """A spectrum without valence-to-core lines gives ~0 after tail removal, not the tail."""
    ds = xes(spin="low", kb25_scale=0.0)
    r = spectro.xes.vtc(ds, background="none")
    e = ds.emission_energy.values
    e25 = float(spectro.xes.kbeta(ds).kb13_energy[0]) + spectro.xes.windows("Ni").vtc_offset
    win = (e >= e25 - 6.0) & (e <= e25 + 6.0)
    tail_area = np.trapezoid(ds.intensity.values[0][win], e[win]) / 1000.0
    assert tail_area > 0.003  # about 10 % of the low-spin Kbeta2,5 area
    assert abs(float(r.kb25_area[0])) < 0.02 * tail_area


def test_tail_basis_represents_a_shifted_lorentzian():
    e13 = 8266.0
    e = np.linspace(8280.0, 8300.0, 50)
    lor = 1.0 / ((e - e13 - 0.5) ** 2 + 1.5**2)
    A = tail_basis(e, np.float64(e13))
    coef, *_ = np.linalg.lstsq(A, lor, rcond=None)
    assert np.max(np.abs(A @ coef - lor)) < 1e-3 * lor.max()


def test_vtc_errors_match_the_scatter():
    ds = xes(spin="low", noise=0.003, n_scans=300, seed=8)
    r = spectro.xes.vtc(ds)
    for name in ("kb25_energy", "kb25_intensity", "kb25_area", "kb25_centroid"):
        ratio = float(r[name].std()) / float(r[f"{name}_err"].median())
        assert 0.7 < ratio < 1.5, (name, ratio)


def test_missing_vtc_region_gives_nan_and_warning():
    ds = xes(spin="low", emission_energy=np.arange(8225.0, 8290.0, 0.25))
    with pytest.warns(MissingRegionWarning) as record:
        r = spectro.xes.vtc(ds)
    messages = " ".join(str(w.message) for w in record)
    assert "Kbeta2,5 window" in messages and "Kbeta'' window" in messages
    assert r.flags.values.tolist() == [int(XesFlag.KB25_MISSING | XesFlag.KBPP_MISSING)]
    assert np.isnan(r.kb25_energy.values).all() and np.isnan(r.kbpp_area.values).all()


def test_energy_offset_moves_vtc_exactly():
    a = spectro.xes.vtc(xes(spin="low"))
    b = spectro.xes.vtc(xes(spin="low", energy_offset=0.8))
    assert float(b.kb25_energy[0] - a.kb25_energy[0]) == pytest.approx(0.8, abs=0.02)
