"""spectro.plot: pressure-series and valence figures show the fitted numbers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import spectro.plot
import spectro.pressure as sp
from spectro.calibration_line import linear_calibration
from spectro.errors import ValidationError
from spectro.simulate.series import MODEL_SAMPLE_BOND, pressure_series


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def series():
    """Relative series built from the simulator's true E0 plus 20 meV noise (no spectral analysis)."""
    sim = pressure_series(seed=3)
    rng = np.random.default_rng(7)
    n = sim.sizes["scan"]
    res = xr.Dataset(
        {"e0": ("scan", sim.true_e0.values + rng.normal(0.0, 0.02, n)), "e0_err": ("scan", np.full(n, 0.02))},
        coords={k: v for k, v in sim.coords.items() if k != "energy"},
    )
    return sp.relative_series(res)


def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def test_edge_shift_pressure_points_fit_and_breakpoint(series):
    sample = series.sample.values == "La3Ni2O7"
    bp = sp.find_anomaly(series, select=sample)
    ax = spectro.plot.edge_shift_pressure(series, anomaly=bp, select=sample)
    assert ax.get_xlabel() == "Pressure (GPa)" and ax.get_ylabel() == "ΔE0 (eV)"
    # one errorbar series per compression path of the sample, labelled with path, sample and T
    labels = [c.get_label() for c in ax.containers]
    assert labels == ["run2/p2 (La3Ni2O7, 10 K)", "run3/p1 (La3Ni2O7, 300 K)"]
    used = sample & (series.path_kind.values == "isothermal")
    plotted = np.concatenate([c.lines[0].get_ydata() for c in ax.containers])
    np.testing.assert_allclose(np.sort(plotted), np.sort(series.delta_e0.values[used]))
    (line,) = _by_gid(ax, "breakpoint")
    assert line.get_xdata()[0] == pytest.approx(bp.breakpoint)
    assert f"{bp.breakpoint:.1f} ± {bp.breakpoint_err:.1f} GPa" in line.get_label()
    (band,) = _by_gid(ax, "breakpoint_band")
    assert band.get_x() == pytest.approx(bp.interval[0])
    assert band.get_x() + band.get_width() == pytest.approx(bp.interval[1])
    fits = _by_gid(ax, "anomaly_fit")
    assert len(fits) == 2
    for fit, container in zip(fits, ax.containers):
        x, y = container.lines[0].get_data()
        resid = y - np.interp(x, *fit.get_data())
        assert np.sqrt(np.mean(resid**2)) < 0.06  # the fit follows the points (noise 0.03 eV on ΔE0)
        xf, yf = fit.get_data()
        slopes = np.diff(yf) / np.diff(xf)
        assert slopes[xf[1:] < bp.breakpoint - 0.1] == pytest.approx(bp.slope_below, rel=1e-6)
        assert slopes[xf[:-1] > bp.breakpoint + 0.1] == pytest.approx(bp.slope_above, rel=1e-6)


def test_edge_shift_contraction_fits_legend_and_verdict(series):
    result = sp.edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    ax = spectro.plot.edge_shift_contraction(series, result, sample_bond=MODEL_SAMPLE_BOND)
    assert ax.get_xlabel() == "Δd(Ni–O) (Å)" and ax.get_ylabel() == "ΔE0 (eV)"
    for gid, fit in (("sample_fit", result.sample), ("reference_fit", result.reference)):
        lines = _by_gid(ax, gid)
        assert len(lines) == len(fit.groups)
        for line in lines:
            x, y = line.get_data()
            assert (y[-1] - y[0]) / (x[-1] - x[0]) == pytest.approx(fit.slope)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert (f"La3Ni2O7: dE0/dd = {result.sample.slope:.1f} ± {result.sample.slope_err:.1f} (stat) "
            f"± {result.sample_sys:.1f} (sys) eV/Å") in legend
    assert (f"NiO: dE0/dd = {result.reference.slope:.1f} ± {result.reference.slope_err:.1f} (stat) "
            f"± {result.reference_sys:.1f} (sys) eV/Å") in legend
    (verdict,) = _by_gid(ax, "verdict")
    assert result.headline in verdict.get_text().replace("\n", " ")
    assert f"z = {result.comparison.z:.2f}" in verdict.get_text()
    # NiO points sit at the NiO equation-of-state contraction
    nio = series.isel(scan=np.flatnonzero((series.sample.values == "NiO") & (series.path_kind.values == "isothermal")))
    _, dd, _ = sp.bond_contraction(nio, sp.NIO)
    x_nio = ax.containers[1].lines[0].get_xdata()
    np.testing.assert_allclose(np.sort(x_nio), np.sort(dd))


def _valence_results(e0, e0_err, scans):
    cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05], labels=["NiO", "LaNiO3"])
    samples = xr.Dataset(
        {"e0": ("scan", e0), "e0_err": ("scan", e0_err), "calibration_shift": ("scan", np.zeros(len(e0)))},
        coords={"scan": scans},
    )
    return cal, samples, spectro.valence.valence(samples, cal)


def test_valence_plots_the_results_of_valence_on_the_line_through_the_references():
    cal, samples, val = _valence_results([8346.06], [0.04], ["La3Ni2O7"])
    ax = spectro.plot.valence(val, cal)
    assert ax.get_xlabel() == "Ni valence" and ax.get_ylabel() == "E0 (eV)"
    (line,) = _by_gid(ax, "calibration_line")
    x, y = line.get_data()
    np.testing.assert_allclose(np.interp([2.0, 3.0], x, y), [8345.0, 8347.0])
    refs = next(c for c in ax.containers if c.get_label() == "references")
    np.testing.assert_allclose(refs.lines[0].get_xdata(), [2.0, 3.0])
    point = next(c for c in ax.containers if c.get_label().startswith("La3Ni2O7"))
    est = cal.predict(8346.06, 0.04)
    assert point.lines[0].get_xdata()[0] == pytest.approx(2.53)
    assert f"{float(est.value):.2f} ± {float(est.err):.2f}" in point.get_label()
    # horizontal error bar = valence error; vertical = the sample's E0 error, read back from the line
    xerr_segment, yerr_segment = (bars.get_segments()[0] for bars in point.lines[2])
    assert xerr_segment[1, 0] - xerr_segment[0, 0] == pytest.approx(2 * float(est.err))
    assert point.lines[0].get_ydata()[0] == pytest.approx(8346.06)
    assert yerr_segment[1, 1] - yerr_segment[0, 1] == pytest.approx(2 * 0.04)
    # the same point when the results also hold the observable
    merged = spectro.plot.valence(samples.merge(val), cal)
    again = next(c for c in merged.containers if c.get_label().startswith("La3Ni2O7"))
    assert again.lines[0].get_xydata().tolist() == point.lines[0].get_xydata().tolist()


def test_valence_scans_in_distinct_colours_and_the_line_alone():
    cal, _, val = _valence_results([8345.5, 8346.0, 8346.5], [0.04] * 3, ["a", "b", "c"])
    ax = spectro.plot.valence(val, cal)
    points = [c for c in ax.containers if c.get_label()[0] in "abc"]
    assert len({matplotlib.colors.to_hex(c.lines[0].get_color()) for c in points}) == 3
    alone = spectro.plot.valence(None, cal)
    assert not [c for c in alone.containers if c.get_label() != "references"]
    with pytest.raises(ValidationError, match="valence"):
        spectro.plot.valence(val.drop_vars("valence"), cal)
