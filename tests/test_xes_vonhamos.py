"""von Hamos frames: a simulated detector image back to a calibrated spectrum."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

import spectro
from spectro.errors import DataError, FormatError, ValidationError
from spectro.simulate import xes
from spectro.xes.vonhamos import (
    HC_EV_ANGSTROM,
    calibrate_pixels,
    line_pixel,
    read_frames,
    roi_sum,
)

D_SI440 = 5.431020511 / np.sqrt(32.0)  # Si(440), Angstrom
RADIUS_MM, PITCH_MM = 500.0, 0.055
N_ROWS, N_PIX = 40, 1200


def _true_energy(pixel):
    """Bragg's law for a von Hamos geometry with the axis position x0 set for ~8265 eV mid-chip."""
    theta_mid = np.arcsin(HC_EV_ANGSTROM / (2 * D_SI440 * 8280.0))
    x0 = 2 * RADIUS_MM / np.tan(theta_mid) - PITCH_MM * N_PIX / 2
    x = x0 + PITCH_MM * np.asarray(pixel, dtype=float)
    return HC_EV_ANGSTROM / (2 * D_SI440) * np.sqrt(1 + (x / (2 * RADIUS_MM)) ** 2)


def _frames(spectrum_of_energy, rng, n_frames=3, scale=400.0):
    """Counts: spectrum along the dispersive axis, Gaussian across rows, Poisson noise."""
    e = _true_energy(np.arange(N_PIX))
    rows = np.exp(-0.5 * ((np.arange(N_ROWS) - 20.0) / 4.0) ** 2)
    mean = scale * rows[:, None] * spectrum_of_energy(e)[None, :]
    return rng.poisson(np.broadcast_to(mean, (n_frames, N_ROWS, N_PIX))).astype(float)


@pytest.fixture(scope="module")
def calibration():
    rng = np.random.default_rng(7)
    lines = np.array([8235.0, 8265.0, 8330.0])

    def elastic(e):
        return sum(np.exp(-0.5 * ((e - c) / 1.0) ** 2) for c in lines)

    frames = _frames(elastic, rng, n_frames=1)
    profile = roi_sum(frames, roi=(8, 32))
    e = _true_energy(np.arange(N_PIX))
    guesses = np.array([np.argmin(np.abs(e - c)) for c in lines]) + 3.0
    pos, err = line_pixel(profile, guesses, fit_half_width=20.0)  # line FWHM ~ 21 pixels
    return lines, pos, err


def test_line_pixel_finds_the_elastic_lines(calibration):
    lines, pos, err = calibration
    np.testing.assert_allclose(_true_energy(pos), lines, atol=0.02)
    assert np.all(err > 0) and np.all(err < 0.1)


def test_bragg_calibration_recovers_the_geometry(calibration):
    lines, pos, _ = calibration
    disp = calibrate_pixels(pos, lines, d_spacing=D_SI440)
    pix = np.arange(0, N_PIX, 50.0)
    np.testing.assert_allclose(disp(pix), _true_energy(pix), atol=0.03)
    _, b = disp.coefficients
    assert b == pytest.approx(PITCH_MM / (2 * RADIUS_MM), rel=0.01)
    exact = calibrate_pixels(pix[[2, 20]], _true_energy(pix[[2, 20]]), d_spacing=D_SI440)
    np.testing.assert_allclose(exact(pix), _true_energy(pix), atol=1e-8)


def test_polynomial_calibration_through_three_lines(calibration):
    lines, pos, _ = calibration
    disp = calibrate_pixels(pos, lines, method="polynomial")
    assert len(disp.coefficients) == 3 and np.max(np.abs(disp.residuals)) < 1e-8
    pix = np.arange(0, N_PIX, 50.0)
    np.testing.assert_allclose(disp(pix), _true_energy(pix), atol=0.1)


def test_frame_stack_to_spectrum_recovers_kb13(tmp_path, calibration):
    lines, pos, _ = calibration
    disp = calibrate_pixels(pos, lines, d_spacing=D_SI440)
    truth = xes(spin="high", emission_energy=_true_energy(np.arange(N_PIX)))
    rng = np.random.default_rng(3)
    frames = _frames(lambda e: truth.intensity.values[0] / 1000.0, rng, n_frames=3)
    path = tmp_path / "vonhamos.h5"
    with h5py.File(path, "w") as h5:
        h5.create_dataset("entry/instrument/detector/data", data=frames)
        h5.create_dataset("entry/instrument/detector/count_time", data=1.0)
    ds = read_frames(path, dispersion=disp, roi=(8, 32))
    spectro.validate(ds)
    assert ds.sizes["scan"] == 1 and ds.attrs["dataset"] == "/entry/instrument/detector/data"
    np.testing.assert_allclose(ds.intensity_err, np.sqrt(np.fmax(ds.intensity, 1.0)))
    r = spectro.xes.kbeta(ds)
    assert float(r.kb13_energy[0]) == pytest.approx(float(truth.true_kb13_energy[0]), abs=0.05)
    assert float(r.kb13_energy_err[0]) < 0.05
    each = read_frames(path, dispersion=disp, roi=(8, 32), frame_mode="each")
    assert each.sizes["scan"] == 3
    np.testing.assert_allclose(each.intensity.sum("scan"), ds.intensity.isel(scan=0))


def test_reversed_detector_gives_ascending_energies(tmp_path):
    disp = calibrate_pixels([0.0, 99.0], [8300.0, 8250.0], method="polynomial")
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as h5:
        h5["data"] = np.ones((5, 100))
    ds = read_frames(path, dispersion=disp)
    assert ds.emission_energy.values[0] == pytest.approx(8250.0)


def test_bad_inputs(tmp_path):
    with pytest.raises(ValidationError, match=">= 2"):
        calibrate_pixels([1.0], [8000.0], d_spacing=1.0)
    with pytest.raises(ValidationError, match="d_spacing"):
        calibrate_pixels([1.0, 2.0], [8000.0, 8010.0])
    with pytest.raises(ValidationError, match="cannot be reflected"):
        calibrate_pixels([1.0, 2.0], [5000.0, 5010.0], d_spacing=0.96)
    with pytest.raises(DataError, match="selects no detector rows"):
        roi_sum(np.ones((4, 4)), roi=(10, 12))
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as h5:
        h5["x"] = np.arange(3.0)
    with pytest.raises(FormatError, match="no 2-D or 3-D"):
        read_frames(path, dispersion=calibrate_pixels([0.0, 1.0], [1.0, 2.0], method="polynomial"))
    text = tmp_path / "not.h5"
    text.write_text("hello")
    with pytest.raises(FormatError, match="HDF5"):
        read_frames(text, dispersion=calibrate_pixels([0.0, 1.0], [1.0, 2.0], method="polynomial"))
