"""Valence anchors from the catalogue: metal foils are refused unless forced; mismatched anchors are flagged."""

import datetime
import json
import math
import warnings

import numpy as np
import pytest

import spectro
from spectro import references
from spectro.batch.pipeline import anchor_source
from spectro.cli import main
from spectro.errors import DataError, SpectroWarning
from spectro.references.anchors import (
    ROOM_TEMPERATURE_K,
    Conditions,
    _date,
    _kelvin,
    check_anchor,
    conditions_of,
    mismatches,
)
from spectro.valence import from_spectra


def test_no_metal_foil_is_a_valence_anchor_and_each_says_why():
    foils = [r for r in references.catalogue() if "metal foil" in r.compound.lower()]
    assert len(foils) == 8
    for ref in foils:
        assert not ref.valence_anchor, ref.id
        assert "metal" in ref.anchor_reason and ref.valence == 0, ref.id
    assert references.find(element="Ni", kind="xanes", valence=0, anchor=True) == ()
    # the sound anchors of the oxide line are left
    ids = {r.id for r in references.find(element="Ni", kind="xanes", anchor=True)}
    assert ids == {"ceric_nio_300k", "ceric_lanio3_80k", "larch_nio_x23a2", "bmm_nio_6bm", "bmm_lanio3_6bm"}


def test_check_anchor_refuses_a_foil_unless_forced():
    with pytest.raises(DataError, match=r"'ceric_ni_foil_300k' \(Ni metal foil\) is not a valence anchor: metal foil"
                                        r".*--force-anchors"):
        check_anchor("ceric_ni_foil_300k")
    assert check_anchor("ceric_ni_foil_300k", force=True).id == "ceric_ni_foil_300k"
    assert check_anchor("bmm_lanio3_6bm").valence == 3.0


def test_anchor_source_refuses_foils_by_id_and_by_compound():
    with pytest.raises(DataError, match="is not a valence anchor"):
        anchor_source("xaslib_ni_foil_13idc_01")
    # the compound Ni has catalogued spectra, none of them an anchor: say so (not "not found")
    with pytest.raises(DataError, match="Ni metal foil"):
        anchor_source("Ni")


@pytest.mark.realdata
def test_anchor_source_takes_a_forced_foil(data_dir, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    ref_id, path = anchor_source("ceric_ni_foil_300k", force=True)
    assert ref_id == "ceric_ni_foil_300k" and path.name == "ceric_Ni_foil_111.xdi"


def test_temperatures_and_dates_as_recorded():
    assert _kelvin("300 K") == 300.0 and _kelvin("80K") == 80.0 and _kelvin("room temperature") == ROOM_TEMPERATURE_K
    assert math.isnan(_kelvin("")) and math.isnan(_kelvin("cold"))
    assert _date("2023-11-18") == datetime.date(2023, 11, 18)
    assert _date("2024-10-26T06:09:08") == datetime.date(2024, 10, 26)
    assert _date("2006-10") == datetime.date(2006, 10, 1) and _date("") is None


def test_catalogued_anchor_pairs_and_their_mismatches():
    def of(*ids):
        return mismatches([conditions_of({"reference_id": i}) for i in ids])

    # the study's pair: NiO at 300 K (2023) and LaNiO3 at 80 K (2024) on BM08
    assert set(of("ceric_nio_300k", "ceric_lanio3_80k")) == {"temperature", "beamtime"}
    # one beamtime at BMM (same day, temperatures not recorded)
    assert of("bmm_nio_6bm", "bmm_lanio3_6bm") == {}
    crossed = of("ceric_nio_300k", "bmm_lanio3_6bm")
    assert set(crossed) == {"beamline"} and "BM08-LISA" in crossed["beamline"] and "BMM" in crossed["beamline"]


def test_mismatch_thresholds():
    day = datetime.date(2024, 1, 1)

    def anchor(label, kelvin, beamline="ID24", when=day):
        return Conditions(label, kelvin, "ESRF", beamline, when)

    assert mismatches([anchor("a", 300.0), anchor("b", 280.0)]) == {}  # within 30 K
    assert "temperature" in mismatches([anchor("a", 300.0), anchor("b", 260.0)])
    assert mismatches([anchor("a", 300.0), anchor("b", math.nan)]) == {}  # unknown is not a mismatch
    assert mismatches([anchor("a", 300.0), anchor("b", 300.0, when=day + datetime.timedelta(days=10))]) == {}
    assert set(mismatches([anchor("a", 300.0), anchor("b", 300.0, when=day + datetime.timedelta(days=40))])) == {
        "beamtime"}
    assert set(mismatches([anchor("a", 300.0), anchor("b", 300.0, beamline="BM23")])) == {"beamline"}


def _sim(valence, temperature, seed):
    return spectro.simulate.xanes(valence=valence, reference=True, temperature=temperature, energy_offset=0.3,
                                  seed=seed)


def test_valence_result_carries_the_mismatch_of_simulated_anchors():
    sample = _sim(2.5, 300.0, 3)
    said = r"differ in temperature \(spectro.simulate.xanes \(2\): 300 K; spectro.simulate.xanes \(3\): 80 K\)"
    with pytest.warns(SpectroWarning, match=said):
        _, (res,) = from_spectra([sample], [(_sim(2.0, 300.0, 1), 2.0), (_sim(3.0, 80.0, 2), 3.0)])
    assert res.attrs["anchor_mismatch"] == "temperature"
    assert "spectro.simulate.xanes (3): 80 K" in res.attrs["anchor_conditions"]
    assert float(res.valence[0]) == pytest.approx(2.5, abs=0.01)  # the simulator has no temperature effect
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, (same,) = from_spectra([sample], [(_sim(2.0, 300.0, 1), 2.0), (_sim(3.0, 290.0, 2), 3.0)])
    assert not [w for w in caught if "anchors differ" in str(w.message)]
    assert same.attrs["anchor_mismatch"] == "" and same.attrs["anchor_mismatch_detail"] == ""


@pytest.mark.realdata
def test_from_spectra_refuses_a_catalogued_foil_unless_forced(data_dir, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        foil = references.load("ceric_ni_foil_300k", download=False)
        nio = references.load("ceric_nio_300k", download=False)
        sample = spectro.read(data_dir / "xanes/bmm_Ni-K-NickelOxide.xdi")
    with pytest.raises(DataError, match="ceric_ni_foil_300k"):
        from_spectra([sample], [(foil, 0.0), (nio, 2.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal, (res,) = from_spectra([sample], [(foil, 0.0), (nio, 2.0)], force_anchors=True)
    assert np.isfinite(res.valence.values).all()


@pytest.mark.realdata
def test_cli_valence_refuses_a_foil_anchor_and_reports_the_mismatch(data_dir, monkeypatch, capsys):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(data_dir))
    sample = str(data_dir / "xanes/bmm_Ni-K-NickelOxide.xdi")
    assert main(["valence", sample, "--anchors", "ceric_ni_foil_300k=0", "ceric_nio_300k=2"]) == 2
    err = capsys.readouterr().err
    assert "ceric_ni_foil_300k" in err and "--force-anchors" in err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["valence", sample, "--anchors", "ceric_nio_300k=2", "ceric_lanio3_80k=3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["calibration"]["anchor_mismatch"] == ["temperature", "beamtime"]
