"""Valence: the calibration line, its covariance, error propagation, flags, xarray wrappers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from hypothesis import assume, given
from hypothesis import strategies as st

import spectro
from spectro.calibration_line import apply_calibration, linear_calibration
from spectro.errors import DataError, ExtrapolationWarning, OptionError
from spectro.options import XanesOptions, XesOptions
from spectro.simulate._xanes import EV_PER_VALENCE
from spectro.valence import fit_calibration, from_spectra, valence

finite = st.floats(min_value=8300.0, max_value=8400.0, allow_nan=False)


# --- the line ---------------------------------------------------------------------------


@given(e_nio=finite, gap=st.floats(0.2, 10.0), e=st.floats(8250.0, 8450.0))
def test_two_anchors_reproduce_the_published_formula(e_nio, gap, e):
    """v = 2 + (E0 - E0[NiO]) / (E0[LaNiO3] - E0[NiO]), as in the La3Ni2O7 study."""
    cal = linear_calibration([2.0, 3.0], [e_nio, e_nio + gap])
    est = cal.predict(e, warn=False)
    assert est.value == pytest.approx(2 + (e - e_nio) / gap, abs=1e-6)
    assert cal.method == "two-point line"


@given(
    anchors=st.lists(st.tuples(st.floats(0.0, 4.0), st.floats(-3.0, 3.0)), min_size=2, max_size=6),
    slope=st.floats(0.5, 4.0),
    e0=st.lists(finite, min_size=2, max_size=20),
)
def test_valence_is_monotonic_in_e0(anchors, slope, e0):
    q = np.array([a for a, _ in anchors])
    if np.ptp(q) < 0.1:
        q = q + np.arange(q.size)
    x = 8340.0 + slope * q + 0.05 * np.array([n for _, n in anchors])
    cal = linear_calibration(q, x, np.full(q.size, 0.05))
    e = np.sort(np.asarray(e0))
    assume(cal.slope > 0)  # the 0.05 eV scatter can tilt two close anchors the other way
    v = cal.predict(e, 0.05, warn=False).value
    assert np.all(np.diff(v) >= 0)


def test_weighted_fit_matches_numpy_polyfit(rng):
    q = np.array([0.0, 2.0, 2.0, 3.0, 2.67])
    s = np.array([0.1, 0.05, 0.08, 0.05, 0.2])
    x = 8333.0 + 2.1 * q + rng.normal(0, 1, q.size) * s * 4
    cal = linear_calibration(q, x, s)
    (b, a), cov = np.polyfit(q, x, 1, w=1 / s, cov="unscaled")
    chi2 = np.sum(((x - (a + b * q)) / s) ** 2)
    assert (cal.intercept, cal.slope) == pytest.approx((a, b), rel=1e-9)
    scale = max(1.0, chi2 / (q.size - 2))
    assert cal.scale == pytest.approx(scale)
    assert cal.covariance == pytest.approx(cov[::-1, ::-1] * scale, rel=1e-9)
    assert cal.residuals == pytest.approx(x - (a + b * q))
    assert cal.chi2 == pytest.approx(chi2)
    assert cal.method == "weighted least squares"


def test_consistent_anchors_keep_their_own_errors():
    q = np.array([2.0, 2.0, 3.0, 3.0])
    x = np.array([8345.0, 8345.01, 8347.0, 8346.99])
    cal = linear_calibration(q, x, np.full(4, 0.1))
    assert cal.scale == 1.0
    _, cov = np.polyfit(q, x, 1, w=np.full(4, 10.0), cov="unscaled")
    assert cal.covariance == pytest.approx(cov[::-1, ::-1])


def test_unweighted_fit_takes_covariance_from_scatter():
    q = np.array([2.0, 2.0, 3.0, 3.0])
    x = np.array([8345.0, 8345.2, 8347.0, 8346.8])
    cal = linear_calibration(q, x)
    _, cov = np.polyfit(q, x, 1, cov=True)
    assert cal.method == "unweighted least squares"
    assert cal.covariance == pytest.approx(cov[::-1, ::-1])


# --- error propagation ----------------------------------------------------------------------------


def test_error_budget_matches_monte_carlo(rng):
    """Draw anchors, sample and calibration shift; the spread of v matches the budget."""
    e_nio, e_lno, s_ref, s_x, s_c = 8345.0, 8347.2, 0.05, 0.04, 0.03
    e_true = e_nio + 0.53 * (e_lno - e_nio)
    n = 20000
    a = e_nio + rng.normal(0, s_ref, n)
    b = e_lno + rng.normal(0, s_ref, n)
    x = e_true + rng.normal(0, s_x, n) + rng.normal(0, s_c, n)
    v_mc = 2 + (x - a) / (b - a)
    cal = linear_calibration([2, 3], [e_nio, e_lno], [s_ref, s_ref])
    est = cal.predict(e_true, s_x, calibration_errors=s_c)
    assert est.value == pytest.approx(2.53)
    assert float(est.err) == pytest.approx(v_mc.std(), rel=0.03)
    assert float(est.err_sample) == pytest.approx(s_x / 2.2)
    assert float(est.err_calibration) == pytest.approx(s_c / 2.2)
    only_refs = 2 + (e_true - a) / (b - a)
    assert float(est.err_references) == pytest.approx(only_refs.std(), rel=0.03)
    assert float(est.err) ** 2 == pytest.approx(
        float(est.err_sample) ** 2 + float(est.err_references) ** 2 + float(est.err_calibration) ** 2
    )


def test_coverage_of_valence_uncertainty(rng):
    """Over many draws of anchor and sample noise, |v - 2.53| < err in about 68 %."""
    e_nio, e_lno, s_ref, s_x = 8345.0, 8347.0, 0.06, 0.04
    e_true = e_nio + 0.53 * (e_lno - e_nio)
    n = 4000
    inside = 0
    for _ in range(n):
        anchors = np.array([e_nio, e_lno]) + rng.normal(0, s_ref, 2)
        cal = linear_calibration([2.0, 3.0], anchors, [s_ref, s_ref])
        est = cal.predict(e_true + rng.normal(0, s_x), s_x, warn=False)
        inside += abs(float(est.value) - 2.53) < float(est.err)
    assert 0.65 < inside / n < 0.71


# --- flags and errors --------------------------------------------------------------------------------


def test_extrapolation_is_flagged_and_warned():
    cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05])
    with pytest.warns(ExtrapolationWarning, match="2 valence"):
        est = cal.predict([8340.0, 8346.0, 8349.0], 0.05)
    assert est.extrapolated.tolist() == [True, False, True]
    assert est.flags.tolist() == ["extrapolated", "", "extrapolated"]
    assert "[extrapolated]" in est.summary().splitlines()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal.predict(8346.0)


@pytest.mark.parametrize(
    ("anchors", "values", "errors", "match"),
    [
        ([2, 2], [8345.0, 8346.0], None, "two different valence"),
        ([2, 3], [8345.0, np.nan], None, "non-finite"),
        ([2, 3, 3], [8345.0, 8347.0, 8347.1], [0.1, 0.0, 0.1], "all positive or all zero"),
        ([2, 3], [8345.0, 8345.0], None, "does not change"),
        ([2, 3, 4], [8345.0, 8346.0], None, "differ in length"),
    ],
)
def test_bad_anchors_raise(anchors, values, errors, match):
    with pytest.raises(DataError, match=match):
        linear_calibration(anchors, values, errors)


def test_summary_lists_anchors_and_residuals():
    cal = linear_calibration([2, 3, 3], [8345.0, 8347.1, 8346.9], [0.05] * 3, labels=["NiO", "LNO a", "LNO b"])
    text = cal.summary()
    assert "weighted least squares" in text and "chi2" in text
    assert all(label in text for label in ("NiO", "LNO a", "LNO b"))


# --- xarray wrappers ------------------------------------------------------------------------------------


def _results(e0, err, shift):
    scans = [f"s{i}" for i in range(len(e0))]
    return xr.Dataset(
        {
            "e0": ("scan", np.asarray(e0, float), {"units": "eV", "long_name": "E0"}),
            "e0_err": ("scan", np.asarray(err, float), {"units": "eV", "long_name": "E0 err"}),
            "calibration_shift": ("scan", np.asarray(shift, float), {"units": "eV", "long_name": "shift"}),
        },
        coords={"scan": scans, "pressure": ("scan", np.arange(len(e0), dtype=float))},
    )


def test_fit_calibration_accepts_arrays_mappings_and_names():
    res = _results([8345.0, 8347.0], [0.05, 0.05], [0.1, -0.2]).assign(known=("scan", [2.0, 3.0]))
    a = fit_calibration(res, [2.0, 3.0])
    b = fit_calibration(res, {"s0": 2.0, "s1": 3.0})
    c = fit_calibration(res, "known")
    assert a.slope == b.slope == c.slope == pytest.approx(2.0)
    assert a.labels == ("s0", "s1")
    with pytest.raises(DataError, match="no valence given"):
        fit_calibration(res, {"s0": 2.0})
    with pytest.raises(DataError, match="no 'kb25_energy'"):
        fit_calibration(res, [2, 3], observable="kb25_energy")


def test_calibration_error_widens_the_anchors():
    res = _results([8345.0, 8347.0], [0.03, 0.04], [0.0, 0.0])
    cal = fit_calibration(res, [2, 3], calibration_err=0.05)
    assert cal.errors == pytest.approx(np.hypot([0.03, 0.04], 0.05))
    res = res.assign(calibration_shift_err=("scan", [0.05, 0.05]))
    assert fit_calibration(res, [2, 3]).errors == pytest.approx(cal.errors)


def test_valence_dataset_flags_and_metadata():
    res = _results([8344.0, 8346.06, 8346.06], [0.05, 0.05, 0.05], [0.0, 0.0, np.nan])
    cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05], labels=["NiO", "LaNiO3"])
    with pytest.warns(ExtrapolationWarning):
        out = valence(res, cal, calibration_err=0.02)
    assert out.valence.values == pytest.approx([1.5, 2.53, 2.53])
    assert out.valence_flags.values.tolist() == ["extrapolated", "", "uncalibrated"]
    assert out.valence_err_calibration.values == pytest.approx([0.01] * 3)
    assert out.pressure.values.tolist() == [0.0, 1.0, 2.0]
    for name, var in out.data_vars.items():
        assert "units" in var.attrs and "long_name" in var.attrs, name
    assert out.valence.attrs["anchors"] == "NiO=2, LaNiO3=3"


def test_missing_calibration_shift_means_uncalibrated():
    res = _results([8346.0], [0.05], [0.0]).drop_vars("calibration_shift")
    cal = linear_calibration([2, 3], [8345.0, 8347.0])
    assert valence(res, cal).valence_flags.values.tolist() == ["uncalibrated"]


def test_valence_runs_lazily_on_dask():
    pytest.importorskip("dask")
    res = _results(np.linspace(8345.2, 8346.8, 40), np.full(40, 0.05), np.zeros(40))
    cal = linear_calibration([2, 3], [8345.0, 8347.0], [0.05, 0.05])
    eager = valence(res, cal)
    lazy = valence(res.chunk(scan=10), cal)
    assert lazy.valence.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager)


def test_apply_calibration_without_calibration_flag():
    res = xr.Dataset({"iad": ("scan", [0.05])})
    cal = linear_calibration([0, 1], [0.0, 0.1], observable="iad", quantity="high_spin_fraction", units="1")
    out = apply_calibration(res, cal, flag_uncalibrated=False)
    assert out.high_spin_fraction_flags.values.tolist() == [""]


# --- simulated La3Ni2O7 ------------------------------------------------------------------------------------


def test_simulated_la3ni2o7_valence_from_true_edges():
    sim = spectro.simulate.xanes(valence=[2.0, 3.0, 2.53], n_scans=3, seed=3)
    res = xr.Dataset({"e0": sim.true_e0, "calibration_shift": 0 * sim.true_e0})
    cal = fit_calibration(res.isel(scan=[0, 1]), [2.0, 3.0])
    out = valence(res.isel(scan=[2]), cal)
    assert out.valence.values == pytest.approx([2.53], abs=0.02)


def test_simulated_la3ni2o7_through_the_whole_chain():
    """Noisy spectra with miscalibrated energies and reference channels: 2.53 within 0.02."""
    anchors = spectro.simulate.xanes(
        valence=[2.0, 3.0], n_scans=2, reference=True, energy_offset=[0.4, -0.8], noise=0.002, seed=1
    )
    sample = spectro.simulate.xanes(
        valence=2.53, n_scans=3, reference=True, energy_offset=[-1.0, 0.3, 1.5], noise=0.002, seed=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spectro.errors.FitWarning)
        cal, (res,) = from_spectra([sample], [(anchors.isel(scan=[0]), 2.0), (anchors.isel(scan=[1]), 3.0)])
    assert cal.slope == pytest.approx(EV_PER_VALENCE, rel=0.05)
    assert res.valence.values == pytest.approx([2.53] * 3, abs=0.02)
    assert np.all(np.abs(res.valence.values - 2.53) < 3 * res.valence_err.values)
    assert np.all(res.valence_err_calibration.values > 0)
    assert res.valence_flags.values.tolist() == ["", "", ""]


# --- real spectra --------------------------------------------------------------------------------------------

REAL_ANCHORS = {"xanes/ceric_NiO_111.xdi": 2.0, "xanes/ceric_LaNiO3_Ni_80K_111.xdi": 3.0}


@pytest.fixture(scope="module")
def real_valences(data_dir):
    """Valence of real Ni spectra, NiO and LaNiO3 (ESRF BM08) as anchors, e0 at 0.8 jump."""
    names = [
        "xanes/xaslib_NiS_rt_01.xdi",
        "xanes/xaslib_Ni2O3_rt_01.xdi",
        "xanes/larch_NiO.prj",
        "xanes/ceric_Ni_foil_111.xdi",
        "xanes/larch_ni_metal_rt.xdi",
        "xanes/larch_Ni_FeNiS20_RT.prj",
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anchors = [(spectro.read(data_dir / n), v) for n, v in REAL_ANCHORS.items()]
        cal, results = from_spectra([spectro.read(data_dir / n) for n in names], anchors)
    return cal, dict(zip(names, results))


@pytest.mark.realdata
def test_real_anchors_are_calibrated_on_their_foils(real_valences):
    cal, _ = real_valences
    assert cal.method == "two-point line"
    # LaNiO3 edge above NiO by a couple of eV after calibration on the two foils
    assert 1.0 < cal.slope < 4.0


@pytest.mark.realdata
def test_real_nio_from_another_beamline_is_divalent(real_valences):
    """NiO measured at NSLS X23A2, calibrated on its own foil, against the ESRF anchors."""
    _, res = real_valences
    nio = res["xanes/larch_NiO.prj"]
    assert np.all(np.isfinite(nio.calibration_shift.values))
    assert nio.valence.values == pytest.approx(np.full(nio.sizes["scan"], 2.0), abs=0.3)
    assert not any("uncalibrated" in f for f in nio.valence_flags.values)


@pytest.mark.realdata
def test_real_sulfide_and_suspect_ni2o3_lie_below_the_oxide_line(real_valences):
    _, res = real_valences
    nis = res["xanes/xaslib_NiS_rt_01.xdi"]
    ni2o3 = res["xanes/xaslib_Ni2O3_rt_01.xdi"]
    # the BM08 anchors: 300 K and 80 K
    assert float(nis.valence[0]) < 1.5 and nis.valence_flags.values[0] == "extrapolated,preedge_on_edge,anchor_mismatch"
    assert float(ni2o3.valence[0]) < 2.1  # not Ni3+: its edge is not above Ni(OH)2


#: The Ni K spectra of xanes/ whose edge rises through the pre-edge window: the metals and the sulfides.
METALS_AND_SULFIDES = {
    "bmm_Ni-K-NickelFoil.xdi", "ceric_Ni_foil_111.xdi", "larch_ni_metal_rt.xdi", "xaslib_Ni_metal_rt_01.xdi",
    "xaslib_Ni_metal_rt_02.xdi", "xasref_Nifoil.prj", "xasref_Nifoil_QAS.prj", "xaslib_NiS_rt_01.xdi",
    "xaslib_NiS_rt_02.xdi", "xaslib_NiS_rt_03.xdi", "larch_Ni_FeNiS20_RT.prj",
}


@pytest.mark.realdata
def test_metals_and_sulfides_are_flagged_on_the_oxide_line(data_dir):
    """Every scan of a Ni metal or sulfide of xanes/ is flagged preedge_on_edge (value kept, warned), no oxide's is.

    Without the flag the BMM Ni foil read 2.35 on the NiO-LaNiO3 line, inside the anchors' range, with no flag.
    """
    paths = [p for p in sorted((data_dir / "xanes").iterdir()) if p.suffix in (".xdi", ".prj")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anchors = [(spectro.read(data_dir / n), v) for n, v in REAL_ANCHORS.items()]
        samples = [spectro.read(p) for p in paths]
        kept = [(p, ds) for p, ds in zip(paths, samples) if abs(float(ds.energy.min()) - 8200) < 300]  # Ni K only
    with pytest.warns(spectro.errors.SpectroWarning, match="rises through the pre-edge window") as caught:
        _, results = from_spectra([ds for _, ds in kept], anchors)
    flagged = {p.name for (p, _), res in zip(kept, results)
               if all("preedge_on_edge" in str(f).split(",") for f in res.valence_flags.values)}
    clean = {p.name for (p, _), res in zip(kept, results)
             if not any("preedge_on_edge" in str(f) for f in res.valence_flags.values)}
    assert flagged == METALS_AND_SULFIDES
    assert flagged | clean == {p.name for p, _ in kept} and "bmm_Ni-K-NickelOxide.xdi" in clean
    foil = results[[p.name for p, _ in kept].index("bmm_Ni-K-NickelFoil.xdi")]
    assert 2.0 < float(foil.valence[0]) < 3.0 and foil.valence_flags.values[0] == "preedge_on_edge,anchor_mismatch"
    assert sum("rises through the pre-edge window" in str(w.message) for w in caught) >= 1


def test_flags_without_their_meanings_flag_nothing():
    """Only results whose flags name preedge_on_edge (the XANES flags' attrs) are flagged by it."""
    cal = linear_calibration([2, 3], [8345.0, 8347.4])
    xanes_flags = {"flag_masks": [1, 4096], "flag_meanings": "normalization_failed preedge_on_edge"}
    res = xr.Dataset({"e0": ("scan", [8346.0, 8346.0, 8349.0]),
                      "flags": ("scan", [0, 4096, 4097], xanes_flags),
                      "calibration_shift": ("scan", [0.0, 0.0, 0.0])})
    with pytest.warns(spectro.errors.SpectroWarning, match=r"scans '1', '2': the edge rises"):
        out = apply_calibration(res.assign_coords(scan=["0", "1", "2"]), cal)
    assert out.valence_flags.values.tolist() == ["", "preedge_on_edge", "extrapolated,preedge_on_edge"]
    assert np.all(np.isfinite(out.valence.values))
    bare = res.assign(flags=("scan", [0, 4096, 4097]))  # an XES flag word, say: no meanings, no such flag
    assert apply_calibration(bare, cal).valence_flags.values.tolist() == ["", "", "extrapolated"]


@pytest.mark.realdata
def test_real_spectra_without_reference_channel_are_flagged(real_valences):
    _, res = real_valences
    for name in ("xanes/ceric_Ni_foil_111.xdi", "xanes/larch_ni_metal_rt.xdi", "xanes/larch_Ni_FeNiS20_RT.prj"):
        assert all("uncalibrated" in f for f in res[name].valence_flags.values), name


# --- the command line -----------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_cli_valence_json(data_dir, monkeypatch, capsys):
    import json

    from spectro.cli import main

    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    code = main(
        [
            "valence",
            str(data_dir / "xanes/xaslib_NiS_rt_02.xdi"),
            "larch_ni_foil_13idc",
            "--anchors", "ceric_nio_300k=2", f"{data_dir / 'xanes/ceric_LaNiO3_Ni_80K_111.xdi'}=3",
            "--json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["observable"] == "e0" and len(doc["calibration"]["anchors"]) == 2
    assert [a["valence"] for a in doc["calibration"]["anchors"]] == [2.0, 3.0]
    nis, foil = doc["samples"]
    assert nis["flags"] == ["extrapolated", "preedge_on_edge", "anchor_mismatch"] and nis["valence"] < 1.5
    assert "uncalibrated" in foil["flags"] and "preedge_on_edge" in foil["flags"] and foil["calibration_shift"] is None
    for row in doc["samples"]:
        assert row["valence_err"] ** 2 == pytest.approx(
            row["valence_err_sample"] ** 2 + row["valence_err_references"] ** 2 + row["valence_err_calibration"] ** 2
        )


@pytest.mark.realdata
def test_cli_valence_text_and_errors(data_dir, monkeypatch, capsys):
    from spectro.cli import main

    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    nio = str(data_dir / "xanes/ceric_NiO_111.xdi")
    assert main(["valence", nio, "--anchors", "ceric_nio_300k=2", "ceric_lanio3_80k=3"]) == 0
    out = capsys.readouterr().out
    assert "two-point line" in out and "2.000" in out
    # The default anchors NiO=2 LaNiO3=3 are the catalogued compounds: the same line.
    assert main(["valence", nio]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == out.splitlines()[:3]
    assert main(["valence", nio, "--anchors", nio, "ceric_lanio3_80k=3"]) == 2
    assert "error: --anchors" in capsys.readouterr().err
    assert main(["valence", nio, "--anchors", "no_such_thing=2", "ceric_lanio3_80k=3"]) == 2
    assert "'no_such_thing' is neither a file, a catalogue id nor" in capsys.readouterr().err
    assert main(["valence", "no_such_thing"]) == 2
    assert "neither a file, a folder, a manifest nor a catalogue id" in capsys.readouterr().err


def test_kb25_energy_valence_from_simulated_xes():
    """Kbeta2,5 of a La3Ni2O7-like spectrum, 1.50 eV above NiO and 0.35 eV below LaNiO3.

    On a Kbeta2,5 scale this gives 2 + 1.50 / 1.85 = 2.81, not the 2.53 of the
    edge, as the study's numbers imply; XES scans are never flagged 'uncalibrated'.
    """
    nio = spectro.simulate.xes(spin="high", seed=1)
    lanio3 = spectro.simulate.xes(spin="low", seed=2)
    sample = spectro.simulate.xes(spin="low", kb25_shift=-0.35, seed=3)
    cal, (res,) = from_spectra([sample], [(nio, 2.0), (lanio3, 3.0)], observable="kb25_energy")
    assert cal.slope == pytest.approx(1.85, abs=0.1)
    assert res.valence.values == pytest.approx([2 + 1.50 / 1.85], abs=0.05)
    assert res.valence_flags.values.tolist() == [""]


def test_options_of_the_other_technique_are_refused():
    nio, lanio3 = spectro.simulate.xes(spin="high", seed=1), spectro.simulate.xes(spin="low", seed=2)
    with pytest.raises(OptionError, match="a XesOptions"):
        from_spectra([nio], [(nio, 2.0), (lanio3, 3.0)], observable="kb25_energy", options=XanesOptions())


@pytest.mark.realdata
def test_real_mn_kbeta_calibration_with_three_anchors(data_dir, monkeypatch):
    """Mn Kbeta1,3 first moment against valence: Mn3O4 (8/3), Mn2O3 (3), LaMnO3 (3).

    Three anchors at two valences: weighted least squares with the Birge scale.
    The Kbeta1,3 line moves to lower energy as Mn is oxidized (smaller 3p-3d
    exchange with fewer unpaired 3d electrons).
    """
    from spectro import references

    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    ids = ("advxafs_mn3o4", "advxafs_mn2o3", "advxafs_lamno3_solgel")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anchors = [(references.load(i), references.get(i).valence) for i in ids]
        cal, (milled,) = from_spectra(
            [references.load("advxafs_lamno3_milled_4h")], anchors, observable="kb13_m1",
            options=XesOptions(element="Mn"),
        )
    assert cal.method == "weighted least squares" and cal.dof == 1
    assert cal.slope < 0
    assert cal.scale >= 1.0
    assert cal.covariance[1, 1] == pytest.approx(
        np.linalg.inv(np.array([[1, q] for q in cal.anchors]).T
                      @ np.diag(cal.errors**-2) @ np.array([[1, q] for q in cal.anchors]))[1, 1] * cal.scale
    )
    assert milled.valence_flags.values.tolist() == ["extrapolated"]
    assert float(milled.valence_err[0]) > float(milled.valence_err_sample[0])


@pytest.mark.realdata
def test_cli_valence_on_an_xes_observable_takes_the_xes_flags(data_dir, monkeypatch, capsys):
    import json

    from spectro import references
    from spectro.cli import main

    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    ids = ("advxafs_mn3o4", "advxafs_mn2o3", "advxafs_lamno3_solgel")
    argv = ["valence", "advxafs_lamno3_milled_4h", "--anchors", *(f"{i}={references.get(i).valence!r}" for i in ids),
            "--observable", "kb13_m1", "--element", "Mn", "--background", "linear", "--json"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
        cal, (milled,) = from_spectra(
            [references.load("advxafs_lamno3_milled_4h")],
            [(references.load(i), references.get(i).valence) for i in ids],
            observable="kb13_m1", options=XesOptions(element="Mn", background="linear"),
        )
    doc = json.loads(capsys.readouterr().out)
    assert (doc["calibration"]["intercept"], doc["calibration"]["slope"]) == (cal.intercept, cal.slope)
    assert doc["samples"][0]["valence"] == float(milled.valence[0])
