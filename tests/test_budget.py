"""The uncertainty budget: statistical and systematic parts of the XANES numbers and of the valence."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.budget import ANCHOR_TRANSFER, VALENCE_COMPONENTS, valence_budget
from spectro.options import XanesOptions
from spectro.repeats import repeat_scatter
from spectro.xanes import BudgetFlag, analyze, budget, budget_arrays
from spectro.xanes._budget import BUDGETED, COMPONENTS, FOIL_DISAGREE, LEVEL_BAND, LEVEL_DEFINED, in_total, variations
from spectro.xanes._preedge import MODEL_FREE_BASELINE, preedge_centroid_arrays


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# --- the XANES budget -------------------------------------------------------------------------------


def test_budget_only_adds_to_the_analysis():
    ds = spectro.simulate.xanes(valence=[2.0, 2.5, 3.0], n_scans=3, reference=True, energy_offset=[0.3, -0.5, 1.0],
                                noise=0.002, seed=4)
    plain = _quiet(analyze, ds)
    res = _quiet(budget, ds)
    for name in plain.data_vars:
        if name.endswith("_err") and name[: -len("_err")] in BUDGETED:
            continue
        np.testing.assert_array_equal(res[name].values, plain[name].values, err_msg=name)
        assert res[name].attrs == plain[name].attrs, name
    for name in BUDGETED:
        stat, sys, err = (res[f"{name}_{p}"].values for p in ("stat", "sys", "err"))
        np.testing.assert_allclose(err**2, stat**2 + sys**2, rtol=1e-12, err_msg=name)
        parts = sum(res[f"{name}_sys_{c}"].values ** 2 for c in in_total(name))
        np.testing.assert_allclose(sys**2, parts, rtol=1e-12, err_msg=name)
        assert set(COMPONENTS) - set(in_total(name)) == ({"edge_definition"} if name in LEVEL_DEFINED else set())
        for var in (f"{name}_stat", f"{name}_sys", f"{name}_err", *(f"{name}_sys_{c}" for c in COMPONENTS)):
            assert {"units", "long_name", "method"} <= set(res[var].attrs), var
    # calibrated energies: the statistical part holds the foil's error too
    np.testing.assert_allclose(res.e0_stat, np.hypot(plain.e0_err, plain.calibration_shift_err))
    assert res.attrs["budget"] == 1 and int(res.budget_flags.sum()) == 0


def test_each_spectrum_has_its_own_budget():
    """A spectrum's budget does not depend on the other spectra of the call (every variation is vectorized)."""
    ds = spectro.simulate.xanes(valence=[2.0, 2.7, 3.0], n_scans=3, reference=True, noise=0.003, seed=5)
    e, mu, ref = ds.energy.values, ds.mu.values, ds.mu_ref.values
    together = _quiet(budget_arrays, e, mu, ref, preedge="centroid")
    alone = _quiet(budget_arrays, e, mu[1:2], ref[1:2], preedge="centroid")
    for name in BUDGETED:
        np.testing.assert_allclose(together.delta[name][1], alone.delta[name][0], atol=1e-9, err_msg=name)


def test_edge_definition_term_of_an_arctan_edge():
    """On norm = 1/2 + arctan((E - c)/w)/pi the level L is crossed at c + w tan(pi (L - 1/2)), exactly."""
    e = np.arange(8300.0, 8400.0, 0.1)
    c, w = 8345.0, 1.5
    norm = 0.5 + np.arctan((e - c) / w) / np.pi
    b = budget_arrays(e, norm, normalized=True, preedge="centroid")
    at = lambda level: c + w * np.tan(np.pi * (level - 0.5))  # noqa: E731
    want = np.sqrt(((at(0.8 - LEVEL_BAND) - at(0.8)) ** 2 + (at(0.8 + LEVEL_BAND) - at(0.8)) ** 2) / 2)
    assert float(b.sys("e0", "edge_definition")) == pytest.approx(want, rel=0.02)
    half = np.sqrt(((at(0.45) - at(0.5)) ** 2 + (at(0.55) - at(0.5)) ** 2) / 2)
    assert float(b.sys("e0_half", "edge_definition")) == pytest.approx(half, rel=0.02)
    assert float(b.sys("e0", "normalization")) == 0.0  # already normalized: no window to vary


def test_the_level_that_defines_e0_is_reported_not_added():
    """e0 is the 0.8 crossing: its edge-definition component is reported, not in e0_sys; the valence keeps it."""
    ds = spectro.simulate.xanes(valence=[2.0, 2.5, 3.0], n_scans=3, model="mixture", reference=True, noise=0.002,
                                seed=9)
    res = _quiet(budget, ds, preedge="centroid")
    for name in ("e0", "e0_half"):
        ed = res[f"{name}_sys_edge_definition"].values
        assert np.all(ed > 0.1)  # 0.75/0.85 move these edges by more than 0.1 eV
        rest = np.sqrt(sum(res[f"{name}_sys_{c}"].values ** 2 for c in COMPONENTS if c != "edge_definition"))
        np.testing.assert_allclose(res[f"{name}_sys"].values, rest, rtol=1e-12)
        assert "edge_definition reported, not included" in res[f"{name}_sys"].attrs["method"]
    deriv = np.sqrt(sum(res[f"e0_derivative_sys_{c}"].values ** 2 for c in COMPONENTS))
    np.testing.assert_allclose(res.e0_derivative_sys.values, deriv, rtol=1e-12)  # a smoothing, not a definition
    anchors = [(ds.isel(scan=[0]), 2.0), (ds.isel(scan=[2]), 3.0)]
    _, (val,) = _quiet(valence_budget, [ds.isel(scan=[1])], anchors, options=XanesOptions(preedge="centroid"))
    assert float(val.valence_sys_edge_definition[0]) > 0
    parts = sum(float(val[f"valence_sys_{c}"][0]) ** 2 for c in VALENCE_COMPONENTS)
    assert float(val.valence_sys[0]) ** 2 == pytest.approx(parts)


def test_no_foil_no_foil_term():
    ds = spectro.simulate.xanes(valence=2.5, n_scans=2, noise=0.002, seed=6)
    b = _quiet(budget_arrays, ds.energy.values, ds.mu.values, preedge="centroid")
    assert np.all(b.sys("e0", "foil") == 0.0)
    np.testing.assert_array_equal(b.err_scan["e0"], b.stat["e0"])


def test_variations_follow_the_options():
    labels = [label for _, label, _ in variations(pre1=-120.0, nnorm=3)]
    assert "pre1=-170" in labels and "pre1=-70" in labels and "nnorm=2" in labels
    assert not any(label.startswith("nnorm=4") for label in labels)
    assert [c for c, _, _ in variations(preedge="fit")].count("preedge_model") == 2  # other fit baseline, model-free
    assert [c for c, _, _ in variations(preedge="centroid")].count("preedge_model") == 1


def test_model_free_centroid_takes_its_own_baseline_term():
    """The model-free centroid's baseline term is the kernel's own spread; the fit's term is not diluted by it."""
    e = np.arange(8250.0, 8500.0, 0.25)
    rng = np.random.default_rng(3)
    norm = (0.5 + np.arctan((e - 8345.0) / 2.0) / np.pi + 0.04 * np.exp(-0.5 * ((e - 8333.0) / 1.0) ** 2)
            + 0.002 * rng.standard_normal((3, e.size)))
    fit = budget_arrays(e, norm, normalized=True, preedge="fit")
    free = preedge_centroid_arrays(e, fit.result.norm, baseline=MODEL_FREE_BASELINE)
    want = np.where(np.isfinite(fit.result.preedge_centroid_free), free.centroid_sys, np.nan)
    np.testing.assert_allclose(fit.sys("preedge_centroid_free", "preedge_model"), want, rtol=1e-12)
    assert np.all(want > 0)
    col = fit.labels.index("baseline=erf")
    np.testing.assert_allclose(fit.sys("preedge_centroid", "preedge_model"),
                               np.abs(fit.delta["preedge_centroid"][..., col]), rtol=1e-12)
    chosen = budget_arrays(e, norm, normalized=True, preedge="centroid")
    np.testing.assert_allclose(chosen.sys("preedge_centroid", "preedge_model"), want, rtol=1e-12)
    assert np.all(chosen.sys("e0", "preedge_model") == 0.0)


@pytest.mark.realdata
def test_unstable_normalization_is_flagged(data_file):
    """Short post-edge windows with order 2-3 move NiO's E0 by eV: flagged; the default windows are not."""
    ds = spectro.read(data_file("xanes/ceric_NiO_111.xdi"))
    good = _quiet(budget, ds, preedge="centroid")
    assert int(good.budget_flags[0]) == 0
    with pytest.warns(spectro.errors.SpectroWarning, match="normalization unstable"):
        bad = budget(ds, preedge="centroid", norm1=30.0, norm2=150.0, nnorm=3)
    assert int(bad.budget_flags[0]) & BudgetFlag.NORMALIZATION_UNSTABLE
    assert float(np.nanmax(np.abs(bad.e0_variation[0]))) > 1.0


def test_foil_whose_conventions_disagree_is_flagged():
    """A foil with a sharp extra step (a third of its jump) 1.2 eV above its edge: its derivative maximum jumps by
    0.94 eV, its whole shape does not.

    The kernel's own check (derivative maxima of similar height) does not see it; the budget's foil variations
    (smoothing 0.6-4 eV, the whole-foil alignment) move the shift by more than FOIL_DISAGREE: flagged, values kept,
    and warned about by scan. The clean foil of the other row is not flagged.
    """
    ds = spectro.simulate.xanes(reference=True, seed=0, n_scans=2)
    e = ds.energy.values
    ref = ds.mu_ref.values.copy()
    ref[1] += 0.1 * (1 + np.tanh((e - 8334.2) / 0.3))
    b = budget_arrays(e, ds.mu.values, ref, spectra=False)
    assert b.flags.tolist() == [0, int(BudgetFlag.FOIL_CONVENTIONS_DISAGREE)]
    assert not np.any(b.result.flags & int(spectro.xanes.XanesFlag.AMBIGUOUS_FOIL))
    moved = np.abs(b.result.calibration_shift[1] - b.result.calibration_shift[0])
    assert moved > FOIL_DISAGREE and np.all(np.isfinite(b.result.calibration_shift))
    assert float(b.sys("calibration_shift", "foil")[1]) > 3 * float(b.sys("calibration_shift", "foil")[0])
    bent = ds.assign(mu_ref=(ds.mu_ref.dims, ref))
    with pytest.warns(spectro.errors.SpectroWarning, match=r"scans '\S+': the reference foil's conventions disagree"):
        res = budget(bent, spectra=False)
    assert res.budget_flags.values.tolist() == b.flags.tolist()


@pytest.mark.realdata
def test_foils_whose_conventions_disagree_in_the_data_folder(data_dir):
    """Of the 24 foil channels of xanes/, only the XASLIB 'Ni2O3' foils (alignment 0.59-0.94 eV from the derivative
    maximum) are flagged; the others' conventions agree within 0.41 eV. The valence says it too."""
    flagged = {}
    for path in sorted((data_dir / "xanes").iterdir()):
        ds = _quiet(spectro.read, path)
        if ds.attrs.get("kind") != "xanes" or "mu_ref" not in ds:
            continue
        res = _quiet(budget, ds, spectra=False)
        for scan, bits in zip(res.scan.values, res.budget_flags.values):
            flagged[(path.name, str(scan))] = bool(bits & BudgetFlag.FOIL_CONVENTIONS_DISAGREE)
    assert len(flagged) == 24
    assert sorted(f for (f, _), on in flagged.items() if on) == [f"xaslib_Ni2O3_rt_0{i}.xdi" for i in (1, 2, 3)]
    ni2o3 = _quiet(spectro.read, data_dir / "xanes/xaslib_Ni2O3_rt_01.xdi")
    anchors = [(_quiet(spectro.read, data_dir / f"xanes/ceric_{n}.xdi"), v)
               for n, v in (("NiO_111", 2.0), ("LaNiO3_Ni_80K_111", 3.0))]
    _, (val,) = _quiet(valence_budget, [ni2o3], anchors)
    assert "foil_conventions_disagree" in str(val.valence_flags.values[0]).split(",")


@pytest.mark.realdata
def test_e0_half_error_uses_the_half_level(data_file):
    """The normalization's part of e0_half_err is that of the 0.5 level: smaller than at 0.8 (less of the step)."""
    from spectro.xanes._analyze import _level_err
    from spectro.xanes._normalize import normalize_arrays

    ds = spectro.read(data_file("xanes/larch_NiO.prj"))
    e, mu = ds.energy.values, ds.mu.values[:3]
    n = normalize_arrays(e, mu)
    np.testing.assert_allclose(_level_err(n, 0.8), n.level_err, rtol=1e-12)
    half = _level_err(n, 0.5)
    assert np.all(half < n.level_err)
    var_step = (n.edge_step_err / n.edge_step) ** 2
    np.testing.assert_allclose(half**2, n.level_err**2 - (0.64 - 0.25) * var_step, rtol=1e-9)


# --- repeats --------------------------------------------------------------------------------------------


def test_repeat_scatter_recovers_an_excess_scatter(rng):
    """Scans with errors s and an extra scan-to-scan scatter t: chi2/dof near 1 + t**2/s**2, the term near t."""
    s, t, n = 0.01, 0.03, 400
    x = 5.0 + rng.normal(0, s, n) + rng.normal(0, t, n)
    res = xr.Dataset({"e0": ("scan", x), "e0_err_scan": ("scan", np.full(n, s)), "e0_err": ("scan", np.full(n, s))})
    out = repeat_scatter(res, name="e0")
    assert float(out.e0_chi2[0]) == pytest.approx(1 + t**2 / s**2, rel=0.2)
    assert float(out.e0_scatter[0]) == pytest.approx(t, rel=0.1)
    assert float(out.e0_err[0]) == pytest.approx(np.hypot(s, float(out.e0_scatter[0])))
    honest = repeat_scatter(res.assign(e0=("scan", 5.0 + rng.normal(0, s, n))), name="e0")
    assert float(honest.e0_chi2[0]) == pytest.approx(1.0, abs=0.2)
    assert float(honest.e0_scatter.max()) < 0.5 * s


def test_repeat_scatter_by_group():
    res = xr.Dataset({"v": ("scan", [1.0, 1.2, 0.8, 5.0, 5.0]), "v_err_scan": ("scan", [0.1] * 3 + [0.1, 0.2])},
                     coords={"sample": ("scan", list("aaabb"))})
    out = repeat_scatter(res, "sample", name="v")
    assert out.v_chi2.values.tolist() == pytest.approx([4.0, 4.0, 4.0, 0.0, 0.0])
    copy = repeat_scatter(res.assign(v_err_scan=("scan", [0.1] * 5)), "sample", name="v")
    assert np.isnan(copy.v_chi2.values[3:]).all()  # the same value and error to the bit: one scan twice
    with pytest.raises(spectro.errors.DataError, match="one group per scan"):
        repeat_scatter(res, ["a"], name="v")


# --- real spectra ---------------------------------------------------------------------------------------

CERIC = ("xanes/ceric_NiO_111.xdi", "xanes/ceric_LaNiO3_Ni_80K_111.xdi")
BMM = ("xanes/bmm_Ni-K-NickelOxide.xdi", "xanes/bmm_Ni-K-LanthanumNickelate.xdi")


@pytest.fixture(scope="module")
def cross_beamline(data_dir):
    """Each anchor pair places the other pair (NiO at 2, LaNiO3 at 3)."""
    read = lambda n: spectro.read(data_dir / n)  # noqa: E731
    out = {}
    for name, anchors, others in (("ceric", CERIC, BMM), ("bmm", BMM, CERIC)):
        cal, res = _quiet(valence_budget, [read(n) for n in others], [(read(n), v) for n, v in zip(anchors, (2, 3))])
        out[name] = (cal, res)
    return out


@pytest.mark.realdata
def test_anchors_of_another_beamline_within_two_total_sigmas(cross_beamline):
    for cal, (nio, lanio3) in cross_beamline.values():
        for res, want in ((nio, 2.0), (lanio3, 3.0)):
            v, err = float(res.valence[0]), float(res.valence_err[0])
            assert abs(v - want) < 2 * err, (v, err)
            assert err < 0.15
            assert err**2 == pytest.approx(float(res.valence_stat[0]) ** 2 + float(res.valence_sys[0]) ** 2)
            assert float(res.valence_sys_anchors[0]) == ANCHOR_TRANSFER
            assert "two anchor compounds: no consistency check" in res.valence_sys_anchors.attrs["method"]


@pytest.mark.realdata
def test_anchor_transfer_is_what_the_two_beamlines_give(data_dir):
    """ANCHOR_TRANSFER is what the four cross-placed anchors' departures hold beyond their other components.

    Their rms (0.052) is within their total errors without the term (rms 0.090, chi2 1.12 for 4): the foil terms
    already cover it, so the excess, and the term, is 0 (it was the rms itself, which counted the foil twice).
    """
    read = lambda n: spectro.read(data_dir / n)  # noqa: E731
    departures, errors = [], []
    for anchors, others in ((CERIC, BMM), (BMM, CERIC)):
        _, res = _quiet(valence_budget, [read(n) for n in others], [(read(n), v) for n, v in zip(anchors, (2, 3))],
                        transfer=0.0)
        departures += [float(res[0].valence[0]) - 2.0, float(res[1].valence[0]) - 3.0]
        errors += [float(r.valence_err[0]) for r in res]
    excess = np.mean(np.square(departures)) - np.mean(np.square(errors))
    assert np.sqrt(max(excess, 0.0)) == pytest.approx(ANCHOR_TRANSFER, abs=0.005)
    assert 0.04 < np.sqrt(np.mean(np.square(departures))) < np.sqrt(np.mean(np.square(errors)))


@pytest.mark.realdata
def test_valence_budget_keeps_the_plain_valence(data_dir):
    read = lambda n: spectro.read(data_dir / n)  # noqa: E731
    anchors = [(read(n), v) for n, v in zip(CERIC, (2, 3))]
    cal, (plain,) = _quiet(spectro.valence.from_spectra, [read(BMM[0])], anchors)
    cal_b, (res,) = _quiet(valence_budget, [read(BMM[0])], anchors)
    assert (cal_b.intercept, cal_b.slope) == pytest.approx((cal.intercept, cal.slope), rel=1e-12)
    assert float(res.valence[0]) == pytest.approx(float(plain.valence[0]), rel=1e-12)
    assert float(res.valence_stat[0]) == pytest.approx(float(plain.valence_err[0]), rel=1e-9)
    for c in VALENCE_COMPONENTS:
        assert f"valence_sys_{c}" in res and res[f"valence_sys_{c}"].attrs["units"] == "1"


@pytest.mark.realdata
def test_repeated_nis_scans_agree_within_their_own_errors(data_dir):
    """Three NiS scans (SSRL 4-1): chi2/dof of e0 with each scan's own error, computed from that scan alone."""
    res = [_quiet(budget, spectro.read(data_dir / f"xanes/xaslib_NiS_rt_0{i}.xdi"), spectra=False)
           for i in (1, 2, 3)]
    scans = xr.concat([r[["e0", "e0_err_scan", "e0_err"]] for r in res], dim="scan")
    out = repeat_scatter(scans, name="e0")
    assert 0.3 < float(out.e0_chi2[0]) < 3.0


@pytest.mark.realdata
def test_cli_prints_stat_and_sys(data_dir, capsys):
    from spectro.cli import main

    sample = str(data_dir / BMM[0])
    anchors = [f"{data_dir / n}={v}" for n, v in zip(CERIC, (2, 3))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["valence", sample, "--anchors", *anchors, "--budget"]) == 0
        text = capsys.readouterr().out
        assert main(["valence", sample, "--anchors", *anchors, "--budget", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        assert main(["xanes", sample, "--budget", "--preedge", "centroid"]) == 0
        xanes_text = capsys.readouterr().out
    row = doc["samples"][0]
    assert f"valence {row['valence']:.3f} ± {row['valence_stat']:.3f} (stat) ± {row['valence_sys']:.3f} (sys)" in text
    assert row["valence_err"] ** 2 == pytest.approx(row["valence_stat"] ** 2 + row["valence_sys"] ** 2)
    assert "(stat) ±" in xanes_text.splitlines()[1]



@pytest.mark.realdata
def test_cli_says_when_its_errors_are_statistical_only(data_dir, capsys):
    """Without --budget the text tables are followed by a note on stderr; with it, there is none."""
    from spectro.cli import main
    from spectro.cli._output import STATISTICAL_ONLY

    sample = str(data_dir / BMM[0])
    anchors = [f"{data_dir / n}={v}" for n, v in zip(CERIC, (2, 3))]
    runs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, argv in {"valence": ["valence", sample, "--anchors", *anchors],
                           "xanes": ["xanes", sample, "--preedge", "centroid"]}.items():
            for extra in ([], ["--budget"], ["--json"]):
                assert main([*argv, *extra]) == 0
                runs[name, tuple(extra)] = capsys.readouterr()
    for name in ("valence", "xanes"):
        assert STATISTICAL_ONLY in runs[name, ()].err, name
        assert STATISTICAL_ONLY not in runs[name, ("--budget",)].err, name
        assert STATISTICAL_ONLY not in runs[name, ("--json",)].err, name  # JSON readers get the option instead
    assert "--budget" in STATISTICAL_ONLY and "statistical" in STATISTICAL_ONLY


def test_plain_errors_say_statistical_and_budget_errors_say_total():
    """The plain analysis's ``_err`` attrs say that no systematic part is in them; the budget's say total."""
    ds = spectro.simulate.xanes(valence=[2.0, 2.5], n_scans=2, reference=True, noise=0.002, seed=3)
    plain = _quiet(spectro.xanes.analyze, ds, spectra=False)
    full = _quiet(budget, ds, spectra=False)
    errors = [v for v in plain.data_vars if v.endswith("_err")]
    assert {"e0_err", "calibration_shift_err", "preedge_centroid_err", "edge_step_err"} <= set(errors)
    for name in errors:
        text = plain[name].attrs["long_name"]
        assert "statistical" in text and "budget=True" in text, (name, text)
        if name.startswith(("e0", "preedge_centroid")):
            assert "calibration shift's error apart" in text, (name, text)
        if name in full and f"{name[:-4]}_stat" in full:
            assert "total" in full[name].attrs["long_name"], name
    xes = spectro.xes.analyze(spectro.simulate.xes(seed=0))
    assert all("statistical" in xes[v].attrs["long_name"] for v in xes.data_vars if v.endswith("_err"))

def test_budget_runs_lazily_on_dask():
    pytest.importorskip("dask")
    ds = spectro.simulate.xanes(valence=[2.0, 2.4, 2.8, 3.0], n_scans=4, reference=True, noise=0.002, seed=7)
    eager = _quiet(budget, ds, XanesOptions(preedge="centroid"), spectra=False)
    lazy = budget(ds.chunk(scan=2), XanesOptions(preedge="centroid"), spectra=False)
    assert lazy.e0_sys.chunks is not None
    xr.testing.assert_allclose(lazy.compute(), eager)


@pytest.mark.realdata
def test_budget_survives_netcdf(data_file, tmp_path):
    res = _quiet(budget, spectro.read(data_file("xanes/larch_NiO.prj")), spectra=False)
    res.to_netcdf(tmp_path / "r.nc", engine="h5netcdf")
    back = xr.open_dataset(tmp_path / "r.nc", engine="h5netcdf").load()
    for name in ("e0_stat", "e0_sys", "e0_sys_foil", "e0_err", "e0_variation", "budget_flags"):
        np.testing.assert_array_equal(back[name].values, res[name].values, err_msg=name)
        assert back[name].attrs["method"] if name != "budget_flags" else back[name].attrs["flag_meanings"]
    assert back.variation_component.values.tolist() == res.variation_component.values.tolist()


def test_three_anchor_compounds_give_a_consistency_term():
    """Anchors on one line: no consistency term; one anchor given 0.2 too high a valence: a term of that order."""
    sim = spectro.simulate.xanes(valence=[2.0, 2.5, 3.0, 2.3], n_scans=4, reference=True,
                                 energy_offset=[0.4, -0.3, 0.8, 0.1], noise=0.001, seed=8)
    opts = XanesOptions(preedge="centroid")
    sample = [sim.isel(scan=[3])]
    for given, low, high in ((2.5, 0.0, 0.02), (2.7, 0.04, 0.2)):
        anchors = [(sim.isel(scan=[0]), 2.0), (sim.isel(scan=[1]), given), (sim.isel(scan=[2]), 3.0)]
        cal, (res,) = _quiet(valence_budget, sample, anchors, options=opts)
        term = float(res.valence_sys_anchors[0])
        assert low <= term < high, (given, term)
        assert "consistency of 3 anchor compounds" in res.valence_sys_anchors.attrs["method"]


def test_batch_with_the_budget_gives_the_numbers_of_analyze(data_file, tmp_path, assert_batch_gives):
    """``spectro batch --budget`` writes each number's parts as ``analyze(ds, budget=True)`` gives them."""
    from spectro.cli import main

    path = str(data_file("xanes/ceric_NiO_111.xdi"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = spectro.xanes.analyze(spectro.read(path), budget=True)
    assert direct.attrs["xanes_budget"] == 1 and "e0_sys_normalization" in direct
    assert main(["batch", path, "-o", str(tmp_path / "out"), "--budget", "--no-valence", "--no-progress"]) == 0
    assert_batch_gives(tmp_path / "out" / "results.nc", [direct], [path])


@pytest.mark.realdata
def test_batch_with_the_budget_records_its_flags(data_file, tmp_path):
    """The budget's flags reach the batch's results and, named by file and scan, its warnings.csv."""
    import csv

    from spectro.cli import main

    path = str(data_file("xanes/xaslib_Ni2O3_rt_01.xdi"))
    assert main(["batch", path, "-o", str(tmp_path / "out"), "--budget", "--no-valence", "--no-progress"]) == 0
    with xr.open_dataset(tmp_path / "out" / "results.nc") as res:
        assert res.budget_flags.values.tolist() == [int(BudgetFlag.FOIL_CONVENTIONS_DISAGREE)]
    with open(tmp_path / "out" / "warnings.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if "conventions disagree" in r["message"]]
    assert len(rows) == 1 and rows[0]["file"] == path and "'xaslib_Ni2O3_rt_01'" in rows[0]["message"]


def test_batch_valence_with_the_budget_is_that_of_valence_budget(data_dir, tmp_path):
    """``spectro batch --budget --anchors`` gives each scan the valence, stat and sys of ``valence_budget``."""
    from spectro.cli import main

    samples = [data_dir / f"xanes/xaslib_NiS_rt_0{i}.xdi" for i in (1, 2)] + [data_dir / "xanes/larch_NiO.prj"]
    anchors = [data_dir / "xanes/ceric_NiO_111.xdi", data_dir / "xanes/ceric_LaNiO3_Ni_80K_111.xdi"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, want = valence_budget([spectro.read(p) for p in samples], [(spectro.read(anchors[0]), 2.0),
                                                                     (spectro.read(anchors[1]), 3.0)])
        code = main(["batch", *map(str, samples), "-o", str(tmp_path / "out"), "--budget", "--no-progress",
                     "--anchors", f"{anchors[0]}=2", f"{anchors[1]}=3"])
    assert code == 0
    res = xr.open_dataset(tmp_path / "out" / "results.nc", engine="h5netcdf").load()
    names = ["valence", "valence_stat", "valence_sys", "valence_err", "valence_err_scan",
             *(f"valence_sys_{c}" for c in VALENCE_COMPONENTS)]
    for path, direct in zip(samples, want):
        rows = res.file.values == str(path)
        assert rows.sum() == direct.sizes["scan"]
        for name in names:
            np.testing.assert_allclose(res[name].values[rows], direct[name].values, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{path.name} {name}")
        assert res.valence_sys.values[rows].min() > 0.04  # the anchors' term at least: the sys is there


@pytest.mark.realdata
def test_valence_budget_warns_of_its_flags_as_from_spectra_does(data_dir):
    """Both doors say the same of flagged valences (one mechanism, calibration_line.flag_warnings)."""
    from spectro.errors import ValenceFlagWarning
    from spectro.valence import from_spectra

    read = lambda n: _quiet(spectro.read, data_dir / "xanes" / n)  # noqa: E731
    samples = [read("xaslib_NiS_rt_01.xdi"), read("bmm_Ni-K-NickelFoil.xdi")]
    anchors = [(read("ceric_NiO_111.xdi"), 2.0), (read("ceric_LaNiO3_Ni_80K_111.xdi"), 3.0)]
    said = {}
    for door in (from_spectra, valence_budget):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            door(samples, anchors)
        said[door] = sorted(str(w.message) for w in caught if issubclass(w.category, ValenceFlagWarning))
    assert said[from_spectra] == said[valence_budget]
    assert sum("rises through the pre-edge window" in m for m in said[valence_budget]) == 2
    assert sum("outside the anchor range" in m for m in said[valence_budget]) == 1
