"""Energy-dispersive XAS: the pixel-to-energy map, on simulated foils with a known map and on measured foils."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xraydb

import spectro
from spectro.dispersive import apply, calibrate, pixels_dataset, read_pixels
from spectro.errors import DataError, FormatError

FORMATS = "copyleft-test-inputs/formats/"


def _larch_e0(energy: np.ndarray, mu: np.ndarray) -> float:
    """The edge energy xraylarch finds (an independent definition: its own derivative maximum)."""
    from larch import Group
    from larch.xafs import pre_edge

    group = Group()
    pre_edge(energy, mu, group=group)
    return float(group.e0)


def _read_reference(path, mu):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spectro.errors.SpectroWarning)  # keV column, two-column table
        return spectro.read(path, mu=mu)


# --- known truth -------------------------------------------------------------------------


def _simulated_foil(seed: int, *, noise: float = 0.004, blur: float = 1.0):
    """A foil on 800 pixels: the simulated Ni K-edge reference at a known quadratic map, blurred, with noise."""
    ref = spectro.simulate.xanes(seed=0)
    e, mu = ref.energy.values, ref.mu.values[0]
    fine = np.arange(e[0], e[-1], 0.05)
    kernel = np.exp(-0.5 * (np.arange(-60, 61) * 0.05 / blur) ** 2)
    smooth = np.convolve(np.interp(fine, e, mu), kernel / kernel.sum(), mode="same")
    pixels = np.arange(800.0)
    truth = 8285.0 + 0.30 * pixels + 4.0e-5 * pixels**2
    rng = np.random.default_rng(seed)
    y = 0.3 + 0.8 * np.interp(truth, fine, smooth) + rng.normal(0.0, noise, pixels.size)
    return pixels_dataset(pixels, y, file=f"sim{seed}"), ref, pixels, truth


def test_known_map_is_recovered_within_its_errors():
    """Twelve noisy, blurred foils: the map's pulls at five pixels have unit scale."""
    pulls = []
    for seed in range(12):
        foil, ref, pixels, truth = _simulated_foil(seed)
        cal = calibrate(foil, ref, edge_energy=None)
        assert abs(cal.broadening - 1.0) < 4 * cal.broadening_err  # the foil was blurred by 1 eV
        at = np.array([50.0, 200.0, 400.0, 600.0, 750.0])
        pulls.append((cal(at) - np.interp(at, pixels, truth)) / cal.energy_err(at))
        assert cal.shift == 0.0 and cal.element == ""
    pulls = np.concatenate(pulls)
    assert abs(pulls.mean()) < 0.6
    assert 0.6 < pulls.std() < 1.4, pulls.std()  # 0.83 measured


def test_map_is_exact_without_noise_and_blur():
    foil, ref, pixels, truth = _simulated_foil(0, noise=0.0, blur=1e-3)
    cal = calibrate(foil, ref, edge_energy=None)
    np.testing.assert_allclose(cal(pixels), truth, atol=0.05)
    np.testing.assert_allclose(cal.coefficients, [8285.0, 0.30, 4.0e-5], rtol=2e-3)


def test_reversed_pixels_give_a_falling_map():
    foil, ref, pixels, truth = _simulated_foil(1)
    flipped = pixels_dataset(pixels, foil.mu.values[0][::-1])
    cal = calibrate(flipped, ref, edge_energy=None)
    assert cal.coefficients[1] < 0
    np.testing.assert_allclose(cal(pixels), truth[::-1], atol=3 * float(cal.energy_err(pixels).max()))
    out = apply(flipped, cal)
    assert np.all(np.diff(out.energy.values) > 0)  # ascending on the energy axis
    np.testing.assert_allclose(out.mu.values[0], foil.mu.values[0], rtol=0, atol=1e-12)


def test_shift_to_a_given_edge_moves_every_energy():
    foil, ref, pixels, _ = _simulated_foil(2)
    own = calibrate(foil, ref, edge_energy=None)
    moved = calibrate(foil, ref, edge_energy=own.edge_energy + 5.0)
    assert moved.shift == pytest.approx(5.0)
    np.testing.assert_allclose(moved(pixels), own(pixels) + 5.0, atol=0.01)
    assert np.all(moved.energy_err(pixels) > own.energy_err(pixels))  # the edge's own uncertainty is added


def test_a_foil_without_the_reference_edge_is_refused():
    foil, ref, pixels, _ = _simulated_foil(3)
    noise = pixels_dataset(pixels, np.random.default_rng(0).normal(0.0, 1.0, pixels.size), file="noise.txt")
    with pytest.raises(DataError, match="noise.txt"):
        calibrate(noise, ref, edge_energy=None)


def test_reader_refuses_a_table_without_a_pixel_column(tmp_path):
    path = tmp_path / "energy.txt"
    path.write_text("\n".join(f"{8000 + 0.5 * i} {i}" for i in range(50)))
    with pytest.raises(FormatError, match="pixel index"):
        read_pixels(path)


# --- measured: ESRF ID24 Cu and Photon Factory Pd ------------------------------------------


@pytest.mark.realdata
def test_reader_reads_the_id24_and_photon_factory_layouts(data_file):
    cu = read_pixels(data_file(FORMATS + "demeter_cu_08"))
    assert cu.sizes == {"scan": 1, "pixel": 1241} and cu.pixel.values[-1] == 1240
    assert any("file_descriptor : Cu" in h for h in cu.attrs["header"])
    pd = read_pixels(data_file(FORMATS + "demeter_Pd_foil.CSV"))
    assert pd.sizes == {"scan": 1, "pixel": 1024} and pd.pixel.values[0] == 1
    assert pd.attrs["header"] == [", 0"]


@pytest.mark.realdata
@pytest.mark.larch
def test_id24_cu_foil_on_pixels_has_its_edge_at_8979_ev(data_file):
    foil = read_pixels(data_file(FORMATS + "demeter_cu_08"))
    ref = _read_reference(data_file(FORMATS + "demeter_cufoil_rt.txt"), "col2")
    cal = calibrate(foil, ref)
    tabulated = xraydb.xray_edge("Cu", "K").energy  # 8979.0 eV
    assert cal.element == "Cu" and cal.edge_energy == tabulated
    out = apply(foil, cal)
    edge = _larch_e0(out.energy.values, out.mu.values[0])
    assert abs(edge - tabulated) < 0.5, edge
    assert abs(cal.foil_edge - tabulated) < 0.5
    at_edge = np.interp(tabulated, out.energy.values, foil.pixel.values)
    assert 0.0 < cal.energy_err(at_edge) < 0.5
    assert cal.reference.endswith("demeter_cufoil_rt.txt") and cal.foil.endswith("demeter_cu_08")
    # the CuS sample on the same pixels: same energies, the map in attrs, its edge above the metal's
    sample = apply(read_pixels(data_file(FORMATS + "demeter_cus2_01")), cal)
    np.testing.assert_array_equal(sample.energy.values, out.energy.values)
    assert sample.attrs["dispersive_coefficients"] == list(cal.coefficients)
    assert len(sample.attrs["dispersive_scaled_covariance"]) == 9
    assert sample.attrs["dispersive_energy_err_ev"] == pytest.approx(float(cal.energy_err(foil.pixel.values).max()))
    assert _larch_e0(sample.energy.values, sample.mu.values[0]) > edge


@pytest.mark.realdata
@pytest.mark.larch
def test_photon_factory_pd_foil_on_pixels_has_its_edge_at_the_pd_k_edge(data_file):
    """Tolerance 1.5 eV: the reference's derivative is flat-topped, its edge defined to about +-0.85 eV."""
    foil = read_pixels(data_file(FORMATS + "demeter_Pd_foil.CSV"))
    ref = _read_reference(data_file(FORMATS + "demeter_Pd_foil_ref.txt"), "mt_Step")
    cal = calibrate(foil, ref)
    tabulated = xraydb.xray_edge("Pd", "K").energy  # 24350 eV
    assert cal.element == "Pd"
    assert cal.coefficients[1] < 0  # high energy at pixel 1 at the Photon Factory
    out = apply(foil, cal)
    edge = _larch_e0(out.energy.values, out.mu.values[0])
    assert abs(edge - tabulated) < 1.5, edge
    assert abs(edge - tabulated) < 3 * cal.foil_edge_err
