"""Valences through every door: Kbeta XES observables with their budget, anchors of different conditions, the
batch's observable."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro import references
from spectro.budget import XES_VALENCE_COMPONENTS, valence_budget
from spectro.calibration_line import has_flag
from spectro.cli import main
from spectro.cli._output import XES_STATISTICAL_ONLY
from spectro.errors import DataError, ValenceFlagWarning
from spectro.options import XanesOptions, XesOptions
from spectro.valence import from_spectra


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _xes(shift: float, seed: int) -> xr.Dataset:
    """A Ni Kbeta spectrum whose Kbeta2,5 line is moved by ``shift`` eV (the valence's effect in the simulator)."""
    return spectro.simulate.xes(spin="high", kb25_shift=shift, noise=0.001, seed=seed)


# --- Kbeta XES ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xes_line():
    """Anchors at valence 2 and 3 (Kbeta2,5 moved by 0 and 1.2 eV), a sample at 2.5 and one at 2.25."""
    anchors = [(_xes(0.0, 1), 2.0), (_xes(1.2, 2), 3.0)]
    samples = [_xes(0.6, 3), _xes(0.3, 4)]
    cal, res = _quiet(valence_budget, samples, anchors, observable="kb25_energy")
    return anchors, samples, cal, res


def test_xes_valence_budget_keeps_the_plain_valence(xes_line):
    anchors, samples, cal, res = xes_line
    cal_plain, plain = _quiet(from_spectra, samples, anchors, observable="kb25_energy")
    assert cal.slope == cal_plain.slope and cal.intercept == cal_plain.intercept
    for r, p in zip(res, plain):
        np.testing.assert_array_equal(r.valence.values, p.valence.values)
        np.testing.assert_allclose(r.valence_stat.values, p.valence_err.values, rtol=1e-12)  # no energy calibration
        assert r.valence_flags.values.tolist() == p.valence_flags.values.tolist()
    assert abs(float(res[0].valence[0]) - 2.5) < 2 * float(res[0].valence_err[0]) < 0.1


def test_xes_valence_budget_components(xes_line):
    """The named parts add up, and the background term is the change of a re-run with the other background."""
    anchors, samples, _, res = xes_line
    for r in res:
        parts = {c: r[f"valence_sys_{c}"].values for c in XES_VALENCE_COMPONENTS}
        np.testing.assert_allclose(r.valence_sys.values**2, sum(p**2 for p in parts.values()), rtol=1e-12)
        np.testing.assert_allclose(r.valence_err.values, np.hypot(r.valence_stat.values, r.valence_sys.values))
        np.testing.assert_allclose(r.valence_err_scan, r.valence_err_sample, rtol=1e-12)  # no foil: the scan's stat
        assert "Kbeta" in r.valence_sys_anchors.attrs["method"]
        assert {"units", "long_name", "method"} <= set(r.valence_sys_background.attrs)
    _, other = _quiet(from_spectra, samples, anchors, observable="kb25_energy",
                      options=XesOptions(background="linear"))
    for r, o in zip(res, other):
        moved = np.abs(o.valence.values - r.valence.values)
        np.testing.assert_allclose(r.valence_sys_background.values, moved, rtol=1e-4)  # the same to rounding
        assert np.all(moved > 0)


def test_xes_valence_budget_refuses_an_observable_without_budget_and_mixed_kinds(xes_line):
    anchors, samples, _, _ = xes_line
    with pytest.raises(DataError, match="no uncertainty budget in the xes analysis"):
        _quiet(valence_budget, samples, anchors, observable="e0")
    xanes = spectro.simulate.xanes(valence=2.5, reference=True, seed=1)
    with pytest.raises(DataError, match="mix XANES and XES"):
        _quiet(valence_budget, [xanes], anchors, observable="kb25_energy")


XES = "xes/advxafs_Figure_2A_S1_XES_{}.dat"


@pytest.mark.realdata
def test_real_kbeta_valence_of_a_known_compound_is_covered_by_its_total_error(data_dir, capsys):
    """LaMnO3 (Mn3+) on the Kbeta1,3 first moment of Mn3O4 (8/3) and Mn2O3 (3), Diamond I20: the plain error
    (noise only) misses 3 by several of its sigmas; the total, whose background term the budget measures, covers it.
    Through the CLI too, with the same numbers."""
    read = lambda name: _quiet(spectro.read, data_dir / XES.format(name))  # noqa: E731
    anchors = [(read("Mn3O4"), 8 / 3), (read("Mn2O3"), 3.0)]
    sample = read("LaMnO3_solgel")
    _, (res,) = _quiet(valence_budget, [sample], anchors, observable="kb13_m1")
    _, (plain,) = _quiet(from_spectra, [sample], anchors, observable="kb13_m1")
    v, stat, err = (float(res[k][0]) for k in ("valence", "valence_stat", "valence_err"))
    assert v == float(plain.valence[0])
    assert abs(v - 3.0) > 3 * stat and abs(v - 3.0) < 2 * err
    assert float(res.valence_sys_background[0]) > 10 * stat
    argv = ["valence", str(data_dir / XES.format("LaMnO3_solgel")), "--observable", "kb13_m1", "--budget", "--json",
            "--anchors", f"{data_dir / XES.format('Mn3O4')}={8 / 3!r}", f"{data_dir / XES.format('Mn2O3')}=3"]
    assert _quiet(main, argv) == 0
    (row,) = json.loads(capsys.readouterr().out)["samples"]
    assert _quiet(main, [a for a in argv if a not in ("--budget", "--json")]) == 0
    assert XES_STATISTICAL_ONLY in capsys.readouterr().err  # the plain Kbeta valence says what its error holds
    assert row["valence"] == pytest.approx(v, rel=1e-12) and row["valence_sys"] == pytest.approx(
        float(res.valence_sys[0]), rel=1e-12)
    assert set(k for k in row if k.startswith("valence_sys_")) == {f"valence_sys_{c}" for c in XES_VALENCE_COMPONENTS}


# --- anchors of different conditions ------------------------------------------------------------------------------


def _sim(valence, temperature, seed):
    return spectro.simulate.xanes(valence=valence, reference=True, temperature=temperature, energy_offset=0.3,
                                  seed=seed)


@pytest.mark.parametrize("door", ["from_spectra", "valence_budget"])
def test_every_valence_on_anchors_of_different_temperatures_is_flagged(door):
    sample = _sim(2.5, 300.0, 3)
    func = from_spectra if door == "from_spectra" else valence_budget
    kwargs = {"options": XanesOptions(preedge="centroid")}
    with pytest.warns(ValenceFlagWarning, match=r"anchors differ in temperature .*flagged 'anchor_mismatch'"):
        cal, (res,) = func([sample], [(_sim(2.0, 300.0, 1), 2.0), (_sim(3.0, 80.0, 2), 3.0)], **kwargs)
    assert [k for k, _ in cal.anchor_mismatch] == ["temperature"]
    assert has_flag(res.valence_flags.values, "anchor_mismatch").all()
    assert res.attrs["anchor_mismatch"] == res.valence.attrs["anchor_mismatch"] == "temperature"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal, (same,) = func([sample], [(_sim(2.0, 300.0, 1), 2.0), (_sim(3.0, 290.0, 2), 3.0)], **kwargs)
    assert cal.anchor_mismatch == () and not has_flag(same.valence_flags.values, "anchor_mismatch").any()
    np.testing.assert_array_equal(same.valence.values, res.valence.values)  # a flag, the value is kept


@pytest.mark.realdata
def test_valence_budget_refuses_a_catalogued_foil_unless_forced(data_dir, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    foil = _quiet(references.load, "ceric_ni_foil_300k", download=False)
    nio = _quiet(references.load, "ceric_nio_300k", download=False)
    sample = _quiet(spectro.read, data_dir / "xanes/bmm_Ni-K-NickelOxide.xdi")
    with pytest.raises(DataError, match="ceric_ni_foil_300k"):
        _quiet(valence_budget, [sample], [(foil, 0.0), (nio, 2.0)])
    _, (res,) = _quiet(valence_budget, [sample], [(foil, 0.0), (nio, 2.0)], force_anchors=True)
    assert np.isfinite(res.valence.values).all()


@pytest.mark.realdata
@pytest.mark.parametrize("budget", [False, True])
def test_batch_flags_the_default_anchors_of_two_temperatures(data_dir, tmp_path, monkeypatch, budget):
    """The default anchors (BM08 NiO at 300 K, LaNiO3 at 80 K, a year apart): every valence says so, in the CSV
    and in warnings.csv, as spectro valence does."""
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    out = tmp_path / "out"
    sample = str(data_dir / "xanes/bmm_Ni-K-NickelOxide.xdi")
    argv = ["batch", sample, "-o", str(out), *(["--budget"] if budget else [])]
    assert _quiet(main, argv) == 0
    with open(out / "results.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert "anchor_mismatch" in row["valence_flags"].split(",")
    with open(out / "warnings.csv", newline="") as fh:
        said = [r["message"] for r in csv.DictReader(fh) if r["category"] == "ValenceFlagWarning"]
    assert any("differ in temperature" in m and "beamtime" in m for m in said)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nio, lanio3 = (references.load(r, download=False) for r in ("ceric_nio_300k", "ceric_lanio3_80k"))
        sample = spectro.read(data_dir / "xanes/bmm_Ni-K-NickelOxide.xdi")
        _, (res,) = from_spectra([sample], [(nio, 2.0), (lanio3, 3.0)])
    assert float(row["valence"]) == pytest.approx(float(res.valence[0]), rel=1e-12)
    assert row["valence_flags"] == str(res.valence_flags.values[0])


# --- the batch's observable ---------------------------------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.parametrize("budget", [False, True])
def test_batch_valence_is_on_the_observable_asked_for(data_dir, tmp_path, monkeypatch, capsys, budget):
    """``--observable preedge_centroid`` gives the batch what ``spectro valence`` gives (it was computed on e0)."""
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    sample = str(data_dir / "xanes/bmm_Ni-K-NickelOxide.xdi")
    flags = ["--observable", "preedge_centroid", *(["--budget"] if budget else [])]
    assert _quiet(main, ["batch", sample, "-o", str(tmp_path / "out"), *flags]) == 0
    with open(tmp_path / "out" / "results.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    capsys.readouterr()
    assert _quiet(main, ["valence", sample, "--json", *flags]) == 0
    (alone,) = json.loads(capsys.readouterr().out)["samples"]
    assert float(row["valence"]) == pytest.approx(alone["valence"], rel=1e-12)
    for name in ("valence_stat", "valence_sys") if budget else ("valence_err",):
        assert float(row[name]) == pytest.approx(alone[name], rel=1e-9), name
    _, (on_e0,) = _quiet(from_spectra, [_quiet(spectro.read, sample)],
                         [(_quiet(references.load, r, download=False), v)
                          for r, v in (("ceric_nio_300k", 2.0), ("ceric_lanio3_80k", 3.0))])
    assert abs(float(row["valence"]) - float(on_e0.valence[0])) > 0.03  # another observable, another number


def test_batch_refuses_an_observable_its_valences_cannot_have(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "none.xdi"), "-o", str(tmp_path / "out"), "--observable", "kb25_energy"]) == 2
    assert "--observable kb25_energy is not allowed" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.realdata
def test_batch_says_it_gives_no_kbeta_valence_on_the_references_an_input_names(data_dir, tmp_path, capsys):
    """A Kbeta input whose manifest row names references: its metrics, and a failure that says why it has no
    valence (it was silently left without one)."""
    xes = [data_dir / XES.format(n) for n in ("LaMnO3_solgel", "Mn3O4", "Mn2O3")]
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"file,kind,references\n{xes[0]},xes,{xes[1]}=2.6667;{xes[2]}=3\n")
    assert _quiet(main, ["batch", str(manifest), "-o", str(tmp_path / "out")]) == 1
    assert "valence not computed: the batch computes the valences of XANES inputs" in capsys.readouterr().err
    with open(tmp_path / "out" / "failures.csv", newline="") as fh:
        (failure,) = list(csv.DictReader(fh))
    assert failure["file"] == str(xes[0]) and failure["scan"] == "" and "spectro valence" in failure["reason"]
    with open(tmp_path / "out" / "results.csv", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert float(row["kb13_m1"]) > 6489 and "valence" not in row
