"""The Kbeta XES simulator: truth coordinates agree with the spectra it makes."""

from __future__ import annotations

import numpy as np
import pytest
import xraydb

import spectro
from spectro.errors import ValidationError
from spectro.simulate import xes


def _dense(**kw):
    """Noise-free spectrum on a 2 meV grid, normalized to its maximum."""
    grid = np.arange(8215.0, 8350.0, 0.002)
    ds = xes(emission_energy=grid, **kw)
    y = ds.intensity.values[0] / kw.get("amplitude", 1000.0)
    return grid, y, ds


def test_model_dataset_is_valid_and_carries_truth():
    ds = xes(n_scans=3, high_spin_fraction=[0.0, 0.5, 1.0], pressure=[1.0, 2.0, 3.0], seed=4)
    spectro.validate(ds)
    assert ds.intensity.dims == ("scan", "emission_energy")
    for name in ("true_kb13_energy", "true_kb25_energy", "true_kb25_intensity",
                 "true_kb_prime_ratio", "true_high_spin_fraction"):
        assert ds[name].dims == ("scan",)
        assert "units" in ds[name].attrs and "long_name" in ds[name].attrs
    assert ds.pressure.values.tolist() == [1.0, 2.0, 3.0]


def test_true_kb13_energy_is_the_maximum_of_the_spectrum():
    grid, y, ds = _dense(spin="high")
    near = np.abs(grid - 8266.0) < 6
    assert grid[near][np.argmax(y[near])] == pytest.approx(float(ds.true_kb13_energy[0]), abs=0.002)
    assert y[near].max() == pytest.approx(1.0, abs=1e-4)


def test_true_kb25_is_the_maximum_of_the_vtc_part():
    grid, y_low, ds = _dense(spin="low")
    window = np.abs(grid - float(ds.true_kb25_energy[0])) < 3
    # the Kbeta1,3 tail adds a smooth slope; its value is below 2 % of the VtC height here
    i = np.argmax(y_low[window])
    assert grid[window][i] == pytest.approx(float(ds.true_kb25_energy[0]), abs=0.1)
    assert y_low[window][i] == pytest.approx(float(ds.true_kb25_intensity[0]), rel=0.05)


def test_spin_state_anchors_follow_the_study():
    """La3Ni2O7-like: Kbeta2,5 +1.50 eV above NiO, -0.35 eV below LaNiO3; NiO 25 % lower."""
    ds = xes(n_scans=3, high_spin_fraction=[1.0, 0.0, 0.0], kb25_shift=[0.0, 0.0, -0.35])
    e = ds.true_kb25_energy.values
    h = ds.true_kb25_intensity.values
    assert e[2] - e[0] == pytest.approx(1.50, abs=0.01)
    assert e[2] - e[1] == pytest.approx(-0.35, abs=0.01)
    assert h[0] / h[2] == pytest.approx(0.75, abs=0.01)
    assert ds.true_kb_prime_ratio.values.tolist() == pytest.approx([0.15, 0.03, 0.03])


def test_lines_follow_tabulated_energies_of_the_element():
    for element in ("Mn", "Ni"):
        kb1 = xraydb.xray_lines(element, "K")["Kb1"].energy
        ds = xes(element=element)
        assert abs(float(ds.true_kb13_energy[0]) - kb1) < 2.0
        kb5 = xraydb.xray_lines(element, "K")["Kb5"].energy
        assert abs(float(ds.true_kb25_energy[0]) - kb5) < 2.0


def test_energy_offset_moves_everything():
    a = xes(spin="low")
    b = xes(spin="low", energy_offset=1.3)
    for name in ("true_kb13_energy", "true_kb25_energy"):
        assert float(b[name][0] - a[name][0]) == pytest.approx(1.3, abs=1e-6)


def test_noise_has_the_stated_size_and_is_seeded(rng):
    clean = xes(spin="high")
    noisy = xes(spin="high", noise=0.02, n_scans=200, seed=3)
    z = (noisy.intensity - clean.intensity.isel(scan=0)) / noisy.intensity_err
    assert float(z.std()) == pytest.approx(1.0, abs=0.02)
    assert np.array_equal(xes(noise=0.02, seed=3).intensity, xes(noise=0.02, seed=3).intensity)
    assert "intensity_err" not in clean


def test_background_and_amplitude():
    ds = xes(spin="low", background=0.1, amplitude=50.0)
    assert float(ds.intensity.min()) == pytest.approx(5.0, rel=0.02)
    assert float(ds.intensity.max()) == pytest.approx(55.0, rel=0.01)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"spin": "intermediate"},
        {"spin": "high", "high_spin_fraction": 0.5},
        {"high_spin_fraction": 1.5},
        {"n_scans": 2, "kb25_shift": [0.0, 1.0, 2.0]},
        {"n_scans": 0},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValidationError):
        xes(**kwargs)
