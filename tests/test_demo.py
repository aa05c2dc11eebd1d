"""`spectro demo`: the simulated beamtime is processed end to end and the truth recovered."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os

import numpy as np
import pytest
import xarray as xr

from spectro.cli import main
from spectro.simulate import beamtime
from spectro.simulate._beamtime import SAMPLE_VALENCE

FIGURES = [
    "fig01_pt_paths.png", "fig02a_xanes_ambient.png", "fig02b_xes_ambient.png", "fig03_xes_pressure.png",
    "fig04a_xanes_run2_p1_cooling.png", "fig04b_xanes_run2_p2_compression.png",
    "fig04c_xanes_run3_p1_compression.png", "fig04d_xanes_run3_p2_cooling.png", "figS2_derivative_run2.png",
    "fig05a_edge_shift_pressure.png", "fig05b_edge_shift_contraction.png", "fig_valence.png",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["demo", "--out", str(out), "--json"])
    assert status == 0
    return out, stdout.getvalue()


@pytest.fixture(scope="module")
def summary(demo):
    return json.loads(demo[1])


pytestmark = pytest.mark.slow


def test_json_is_one_strict_document_with_the_summary_keys(demo, summary):
    assert "NaN" not in demo[1]  # NaN printed as null
    for key in ("valence", "slope_sample_ev_per_angstrom", "slope_nio_ev_per_angstrom", "verdict",
                "breakpoint", "high_spin_fraction", "kb25_ev_per_gpa", "real_references", "files"):
        assert key in summary
    assert summary["simulated"] is True and "SIMULATED" in summary["banner"]
    assert summary["valence"]["true"] == SAMPLE_VALENCE
    assert summary["valence"]["recovered"] is not None and summary["valence"]["err"] > 0
    assert {"recovered", "consistent", "true_consistent", "z", "p_value", "difference_stat",
            "difference_sys", "detectable_rate_per_gpa"} <= set(summary["verdict"])
    assert summary["verdict"]["recovered"].startswith("no evidence for a valence change at 95 %")
    assert "would have been detected with 80 % power" in summary["verdict"]["recovered"]
    assert summary["verdict"]["agrees"] is True
    assert summary["e0_max_abs_error_ev"]["err"] is None


def test_writes_figures_netcdf_csv_and_report(demo, summary):
    out, _ = demo
    for name in FIGURES:
        path = out / name
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert set(FIGURES) <= set(summary["files"]["figures"])
    tree = xr.open_datatree(out / "results.nc", engine="h5netcdf")
    assert {"xanes_references", "xanes_ambient", "xanes_series", "xes_references", "xes_series",
            "pressure_series", "valence"} <= set(tree.children)
    series = tree["xanes_series"].to_dataset()
    assert series.attrs["simulated"] == "yes"
    assert series.e0.attrs["units"] == "eV" and series.sizes["scan"] == 43
    np.testing.assert_allclose(tree["valence"].to_dataset().valence.values, summary["valence"]["per_scan"])
    header = (out / "xanes_results.csv").read_text().splitlines()
    assert header[0].startswith("group,scan,sample,run,pressure,temperature,e0,e0_err,true_e0")
    assert len(header) == 1 + 4 + 3 + 43
    # true and measured values on the same (calibrated) energy scale
    import csv
    rows = list(csv.DictReader(header))
    pre = np.array([float(r["preedge_centroid"]) - float(r["true_preedge_centroid"]) for r in rows])
    e0 = np.array([float(r["e0"]) - float(r["true_e0"]) for r in rows])
    assert np.max(np.abs(pre)) < 0.3 and np.max(np.abs(e0)) < 0.1
    assert "delta_ni_o" in (out / "pressure_series.csv").read_text().splitlines()[0]
    rows = (out / "summary.csv").read_text().splitlines()
    assert rows[0] == "quantity,recovered,err,true,tolerance,unit,agrees" and len(rows) > 8
    report = (out / "report.md").read_text()
    assert report.startswith("# SIMULATED beamtime") and "SIMULATED" in report
    # each study number beside the recovered value and the simulator input that produced it
    assert "input of the simulator" in report
    for study in ("2.53(5)", "+0.5 eV at 15.6 GPa", "0.8 eV at 23.7 GPa", "±0.1 eV", "13–15 GPa", "−0.35 eV"):
        assert study in report, study
    for source in ("SAMPLE_VALENCE", "EDGE_SLOPE", "KINK_PRESSURE", "KB25_SAMPLE_SHIFT", "KB25_EV_PER_GPA"):
        assert f"`{source}`" in report, source
    assert "(sys)" in report and "would have been detected" in report
    for name in FIGURES:
        assert f"]({name})" in report
    assert summary["report"] == str((out / "report.md").resolve())


def test_recovers_valence_slopes_breakpoint_and_kbeta(summary):
    v = summary["valence"]
    assert abs(v["recovered"] - 2.53) < 0.05
    assert abs(summary["ev_per_valence"]["recovered"] - 2.0) < 0.1  # simulator: 2 eV per valence unit
    for key in ("slope_sample_ev_per_angstrom", "slope_nio_ev_per_angstrom"):
        assert abs(summary[key]["recovered"] - (-15.0)) < 3.0, key
    bp = summary["breakpoint"]
    assert abs(bp["recovered"] - 14.0) < 2.0 and bp["real"] is True
    assert "a single straight line is rejected" in bp["verdict"]
    st = summary["preedge_stability"]
    assert st["stable"] is True and st["max_abs_delta_err_ev"] > 0
    for key in ("delta_e0_run2_15p6gpa_ev", "delta_e0_run3_23p7gpa_ev"):
        assert summary[key]["agrees"], key
    assert bp["interval"][0] < bp["recovered"] < bp["interval"][1]
    assert abs(summary["kb25_ev_per_gpa"]["recovered"] - (-0.02)) < 0.02
    assert summary["kb25_ev_per_gpa"]["recovered"] < 0  # Kbeta2,5 moves down with pressure
    assert abs(summary["high_spin_fraction"]["recovered"]) < 0.1  # low spin throughout
    assert summary["kb25_shift_vs_lanio3_ev"]["recovered"] == pytest.approx(-0.35, abs=0.3)
    assert summary["kb25_shift_vs_nio_ev"]["recovered"] == pytest.approx(1.5, abs=0.3)
    assert summary["e0_max_abs_error_ev"]["recovered"] < 0.1
    assert summary["calibration_max_abs_error_ev"]["recovered"] < 0.1
    assert summary["elapsed_s"] < 120


def test_real_references_when_data_available(data_dir, summary):
    assert os.environ.get("SPECTRO_DATA_DIR")
    real = summary["real_references"]
    assert real is not None, "real references should load from SPECTRO_DATA_DIR"
    e0 = {r["id"]: r["e0_ev"] for r in real["references"]}
    # Ni3+ (LaNiO3) edge above Ni2+ (NiO) after foil calibration, by 1-4 eV per valence unit
    assert 1.0 < e0["ceric_lanio3_80k"] - e0["ceric_nio_300k"] < 4.0
    assert real["ev_per_valence"] == pytest.approx(e0["ceric_lanio3_80k"] - e0["ceric_nio_300k"])
    assert all(8330.0 < x < 8360.0 for x in e0.values())


def test_beamtime_truth_is_consistent():
    bt = beamtime(seed=1)
    assert all(ds.attrs["simulated"] == "yes" for ds in bt.values())
    refs = bt["xanes_references"]
    assert sorted(set(refs.sample.values.tolist())) == ["LaNiO3", "NiO"]
    assert set(refs.true_valence.values.tolist()) == {2.0, 3.0}
    assert np.all(np.isfinite(refs.mu_ref.values))
    assert len(set(refs.scan.values.tolist())) == refs.sizes["scan"]
    xes_series = bt["xes_series"]
    kb25 = xes_series.true_kb25_energy.values
    assert np.all(np.diff(kb25) < 0) and np.all(xes_series.true_high_spin_fraction.values == 0)
    assert not math.isnan(float(bt["xanes_series"].attrs["truth_kink_pressure"]))


@pytest.mark.slow
def test_nio_bulk_modulus_within_its_uncertainty_moves_the_difference_less_than_its_sys_part():
    """On the demo series (seed 0), K0 of NiO moved by its stated 1 sigma (200 ± 10 GPa) moves the slope
    difference, and z, by less than the systematic part the comparison reports."""
    import warnings

    import spectro
    from spectro.pressure import NIO, NIO_EOS, EOSBond, edge_shift_vs_contraction, relative_series
    from spectro.simulate.series import MODEL_SAMPLE_BOND

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        series = relative_series(spectro.xanes.analyze(beamtime(seed=0)["xanes_series"]))
    base = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND)
    c = base.comparison
    for k0 in (NIO_EOS.k0 - NIO_EOS.k0_err, NIO_EOS.k0 + NIO_EOS.k0_err):
        moved = edge_shift_vs_contraction(series, sample_bond=MODEL_SAMPLE_BOND,
                                          reference_bond=EOSBond(NIO.eos.with_params(k0=k0), 0.5))
        shift = abs(moved.comparison.difference - c.difference)
        assert 0.5 * base.systematics["reference_model"] < shift <= c.difference_sys
        assert abs(moved.comparison.z - c.z) <= c.difference_sys / c.difference_err
        assert moved.comparison.consistent
