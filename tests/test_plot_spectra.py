"""spectro.plot: XANES/XES overlays and stacks hold what they claim."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import LineCollection

import spectro.plot
from spectro.errors import ValidationError
from spectro.model import Scan, build


def _edge(e, e0, a=0.25):
    """Normalized edge crossing exactly 0.8 at e0, with a Gaussian pre-edge peak at e0 - 12 eV."""
    x0 = e0 - 2.0 * np.tan(np.pi * 0.3)
    step = 0.5 + np.arctan((e - x0) / 2.0) / np.pi
    peak = a * np.exp(-0.5 * ((e - (e0 - 12.0)) / 1.0) ** 2)
    return step + peak


def _results(n=3, grids_differ=False):
    e0 = 8343.0 + 0.4 * np.arange(n)
    centroid = e0 - 12.0
    energy = np.arange(8250.0, 8450.0, 0.25)
    norm = np.stack([_edge(energy, x) for x in e0])
    if grids_differ:
        norm[0, ::2] = np.nan
    ds = xr.Dataset(
        {
            "norm": (("scan", "energy"), norm, {"units": "1", "long_name": "normalized mu"}),
            "e0": ("scan", e0, {"units": "eV", "long_name": "edge energy"}),
            "preedge_centroid": ("scan", centroid, {"units": "eV", "long_name": "pre-edge centroid"}),
        },
        coords={
            "scan": [f"s{i}" for i in range(n)],
            "energy": ("energy", energy, {"units": "eV", "long_name": "incident energy"}),
            "pressure": ("scan", np.linspace(1.0, 20.0, n)[::-1], {"units": "GPa", "long_name": "pressure"}),
            "temperature": ("scan", np.full(n, 10.0), {"units": "K", "long_name": "temperature"}),
            "sample": ("scan", ["La3Ni2O7"] * n, {"units": "", "long_name": "sample"}),
            "run": ("scan", ["run-2"] * n, {"units": "", "long_name": "run"}),
        },
    )
    return ds, e0, centroid


def _collection(ax, gid):
    found = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == gid]
    assert len(found) == 1, f"no single LineCollection {gid!r}"
    return found[0]


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_xanes_markers_sit_at_e0_and_centroid_on_the_curves():
    ds, e0, centroid = _results(3)
    ax = spectro.plot.xanes(ds)
    lines = ax.get_lines()
    assert len(lines) == 3
    assert [line.get_label() for line in lines] == ["s0 (20 GPa, 10 K)", "s1 (10.5 GPa, 10 K)", "s2 (1 GPa, 10 K)"]
    segs = _collection(ax, "e0").get_segments()
    np.testing.assert_allclose([s[0, 0] for s in segs], e0)
    # bars centred on the curve, which crosses 0.8 at E0
    np.testing.assert_allclose([s[:, 1].mean() for s in segs], 0.8, atol=1e-3)
    assert ax.get_xlabel() == "Energy (eV)"
    assert ax.get_ylabel() == "Normalized absorption"
    assert len(ax.child_axes) == 1
    inset = ax.child_axes[0]
    psegs = _collection(inset, "preedge_centroid").get_segments()
    np.testing.assert_allclose([s[0, 0] for s in psegs], centroid)
    lo, hi = inset.get_xlim()
    assert lo < centroid.min() and centroid.max() < hi and hi - lo < 30
    assert len(inset.get_lines()) == 3


def test_xanes_nan_e0_draws_no_bar_and_nan_padding_is_skipped():
    ds, e0, _ = _results(3, grids_differ=True)
    ds["e0"][1] = np.nan
    ax = spectro.plot.xanes(ds, inset=False)
    segs = _collection(ax, "e0").get_segments()
    np.testing.assert_allclose([s[0, 0] for s in segs], e0[[0, 2]])
    assert np.isfinite(ax.get_lines()[0].get_ydata()).all()
    assert not ax.child_axes


def test_xanes_curves_move_to_the_calibrated_scale_of_the_results():
    ds, e0, _ = _results(2)
    shift = np.array([-1.0, 0.5])
    # spectra on the measured grid, energies of the results on the calibrated scale
    measured = ds.assign(norm=(("scan", "energy"), np.stack([_edge(ds.energy.values, x) for x in e0 - shift])))
    measured["calibration_shift"] = ("scan", shift)
    ax = spectro.plot.xanes(measured)
    for line, x in zip(ax.get_lines(), e0):
        xd, yd = line.get_data()
        assert np.interp(x, xd, yd) == pytest.approx(0.8, abs=1e-3)
    segs = _collection(ax, "e0").get_segments()
    np.testing.assert_allclose([s[:, 1].mean() for s in segs], 0.8, atol=1e-3)
    raw = spectro.plot.xanes(measured, calibrated=False, inset=False)
    np.testing.assert_allclose(raw.get_lines()[0].get_xdata()[0], 8250.0)


def test_xanes_draws_on_given_axes_and_does_not_modify_input():
    ds, _, _ = _results(2)
    before = ds.copy(deep=True)
    _, (a, b) = plt.subplots(1, 2)
    assert spectro.plot.xanes(ds, ax=b) is b
    assert not a.get_lines()
    xr.testing.assert_identical(ds, before)


def test_xanes_missing_variable_is_a_validation_error():
    ds, _, _ = _results(2)
    with pytest.raises(ValidationError, match="e0"):
        spectro.plot.xanes(ds.drop_vars("e0"))


def _xes(n=2):
    e = np.arange(8230.0, 8345.0, 0.3)
    scans = []
    for i in range(n):
        y = (1000.0 * (i + 1)) * (np.exp(-0.5 * ((e - 8265.5) / 2.5) ** 2)
                                  + 0.05 * np.exp(-0.5 * ((e - 8328.0 - 0.3 * i) / 2.0) ** 2))
        scans.append(Scan(e, {"intensity": y}, f"p{i}", coords={"pressure": 2.0 + 8 * i}))
    return build(scans, kind="xes")


def test_xes_plots_the_results_of_analyze_normalized_to_kb13_max_with_vtc_inset_and_markers():
    ds = _xes(2)
    results = spectro.xes.analyze(ds)
    ax = spectro.plot.xes(results)
    lines = ax.get_lines()
    assert len(lines) == 2
    for line in lines:
        assert line.get_ydata().max() == pytest.approx(1.0, abs=2e-3)  # peak refined between points
    assert ax.get_xlabel() == "Emission energy (eV)"
    assert "Kβ1,3" in ax.get_ylabel()
    np.testing.assert_allclose(_collection(ax, "kb13_energy").get_segments()[0][0, 0], 8265.5, atol=0.01)
    inset = ax.child_axes[0]
    lo, hi = inset.get_xlim()
    assert lo < 8329.0 < hi and lo > 8290
    segs = _collection(inset, "kb25_energy").get_segments()
    # the simulated Kb2,5 lines are at 8328.0 and 8328.3 eV
    np.testing.assert_allclose([s[0, 0] for s in segs], [8328.0, 8328.3], atol=0.01)
    # the VtC peak is 5 % of Kb1,3 after normalization
    np.testing.assert_allclose([s[:, 1].mean() for s in segs], 0.05, atol=0.005)


def test_xes_and_xanes_overlay_scans_in_distinct_colours():
    for ax in (spectro.plot.xes(spectro.xes.analyze(_xes(3))), spectro.plot.xanes(_results(3)[0])):
        colours = [matplotlib.colors.to_hex(line.get_color()) for line in ax.get_lines()]
        assert len(colours) == 3 and len(set(colours)) == 3


def test_xes_refuses_spectra_without_norm():
    with pytest.raises(ValidationError, match="norm"):
        spectro.plot.xes(_xes(2))


def test_stack_orders_by_pressure_offsets_and_colorbar():
    ds, e0, _ = _results(3)
    ax = spectro.plot.stack(ds, by="pressure", offset=0.2)
    lines = ax.get_lines()
    assert len(lines) == 3
    # pressures were descending in the Dataset: bottom curve is the lowest pressure
    assert lines[0].get_label().startswith("s2")
    unshifted = ds.norm.values[[2, 1, 0], 0]
    np.testing.assert_allclose([line.get_ydata()[0] for line in lines], unshifted + 0.2 * np.arange(3))
    cbars = [a for a in ax.figure.axes if a.get_ylabel() == "Pressure (GPa)"]
    assert len(cbars) == 1
    segs = _collection(ax, "e0").get_segments()
    np.testing.assert_allclose(sorted(s[0, 0] for s in segs), sorted(e0))
    assert ax.child_axes and ax.get_xlabel() == "Energy (eV)"


def test_stack_by_temperature_and_xes():
    ds, _, _ = _results(2)
    ds = ds.assign_coords(temperature=("scan", [300.0, 10.0], {"units": "K", "long_name": "T"}))
    ax = spectro.plot.stack(ds, by="temperature")
    assert ax.get_lines()[0].get_label().startswith("s1")
    assert any(a.get_ylabel() == "Temperature (K)" for a in ax.figure.axes)
    xes = spectro.xes.analyze(_xes(3))
    ax2 = spectro.plot.stack(xes, by="pressure", offset=0.1)
    assert len(ax2.get_lines()) == 3 and ax2.get_xlabel() == "Emission energy (eV)"
    # the curves are the results' norm (Kb1,3 max = 1), offset by 0.1 per scan in pressure order
    tops = [float(np.nanmax(line.get_ydata())) for line in ax2.get_lines()]
    np.testing.assert_allclose(tops, 1.0 + 0.1 * np.arange(3), atol=2e-3)
    with pytest.raises(ValidationError, match="stack by"):
        spectro.plot.stack(ds, by="field")


def test_derivative_stack_peaks_at_the_edge_inflection():
    ds, e0, _ = _results(2)
    ax = spectro.plot.derivative_stack(ds, by="pressure", offset=1.0, inset=False)
    lines = ax.get_lines()
    assert len(lines) == 2 and "dμ/dE" in ax.get_ylabel()
    x0 = e0 - 2.0 * np.tan(np.pi * 0.3)  # inflection of the arctan step
    for line, x, k in zip(lines, x0[::-1], range(2)):
        x_data, y_data = line.get_data()
        edge = (x_data > x - 8) & (x_data < x + 8)
        assert x_data[edge][np.argmax(y_data[edge])] == pytest.approx(x, abs=0.25)
        assert y_data[0] == pytest.approx(k * 1.0, abs=1e-3)  # flat pre-edge: derivative ~ 0


def test_pt_paths_one_line_per_run_in_scan_order():
    ds, _, _ = _results(3)
    cool = ds.isel(scan=[0, 1]).assign_coords(
        run=("scan", ["run-3", "run-3"], {"units": "", "long_name": "run"}),
        pressure=("scan", [23.7, 25.0], {"units": "GPa", "long_name": "p"}),
        temperature=("scan", [300.0, 10.0], {"units": "K", "long_name": "T"}),
    )
    ax = spectro.plot.pt_paths([ds, cool], phase_diagram=True)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["run-2 (La3Ni2O7)", "run-3 (La3Ni2O7)"]
    np.testing.assert_allclose(lines[1].get_xdata(), [23.7, 25.0])
    np.testing.assert_allclose(lines[1].get_ydata(), [300.0, 10.0])
    assert ax.get_xlabel() == "Pressure (GPa)" and ax.get_ylabel() == "Temperature (K)"


def test_import_spectro_does_not_import_pyplot_or_spectro_plot():
    # lmfit (a core dependency) imports the matplotlib package itself; spectro
    # must not add pyplot (backend selection) or its own plotting layer.
    import subprocess
    import sys

    code = "import sys, spectro; print('matplotlib.pyplot' in sys.modules, 'spectro.plot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
