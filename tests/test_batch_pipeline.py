"""The default per-input chain on real Ni K-edge spectra: analysis, valence, metadata."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.batch import Job, expand_inputs, parse_references, run_batch
from spectro.batch import pipeline
from spectro.batch.pipeline import analyze_file, analyze_files, apply_metadata
from spectro.batch.records import Table
from spectro.options import AnalysisOptions, XanesOptions
from spectro.errors import DataError

pytestmark = pytest.mark.realdata

NIO = "xanes/ceric_NiO_111.xdi"
LANIO3 = "xanes/ceric_LaNiO3_Ni_80K_111.xdi"
FOIL = "xanes/ceric_Ni_foil_111.xdi"
NIS = "xanes/xaslib_NiS_rt_01.xdi"


@pytest.fixture(scope="module")
def valence_batch(data_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("valence")
    manifest = tmp / "manifest.csv"
    anchors = "ceric_nio_300k=2;ceric_lanio3_80k=3"
    manifest.write_text(
        "file,pressure,temperature,run,sample,kind,references\n"
        f"{data_dir / NIO},0.0,,A,NiO,xanes,{anchors}\n"
        f"{data_dir / LANIO3},,,,,,{anchors}\n"
        f"{data_dir / FOIL},12.5,,A,foil,xanes,{anchors}\n"
        f"{data_dir / NIO},,,B,,xes,\n"
        f"{data_dir / NIO},,,C,,,nothing_like_this=2;NiO=3\n"
    )
    summary = run_batch(expand_inputs([manifest]), tmp / "out")
    return summary, xr.open_dataset(summary.outputs["results"], engine="h5netcdf").load()


def test_anchors_analysed_as_samples_get_their_own_valence(valence_batch, data_dir):
    _, res = valence_batch
    for rel, expected in ((NIO, 2.0), (LANIO3, 3.0)):
        row = res.sel(spectrum=(res.file == str(data_dir / rel)) & (res.run != "C"))
        assert row.valence.values == pytest.approx([expected], abs=1e-9)
        assert row.valence_err.values[0] > 0
        assert row.valence_flags.values[0] == ""


def test_uncalibrated_scans_are_flagged(valence_batch, data_dir):
    _, res = valence_batch
    foil = res.sel(spectrum=res.file == str(data_dir / FOIL))
    assert np.isnan(foil.calibration_shift.values[0])
    assert "uncalibrated" in foil.valence_flags.values[0]


def test_manifest_metadata_is_on_the_results(valence_batch, data_dir):
    _, res = valence_batch
    nio = res.sel(spectrum=(res.file == str(data_dir / NIO)) & (res.run == "A"))
    assert (nio.pressure.values.tolist(), nio.sample.values.tolist()) == ([0.0], ["NiO"])
    foil = res.sel(spectrum=res.file == str(data_dir / FOIL))
    assert foil.pressure.values.tolist() == [12.5] and foil.pressure.attrs["units"] == "GPa"


def test_kind_mismatch_and_unknown_references_are_recorded(valence_batch, data_dir):
    summary, res = valence_batch
    kinds = [f for f in summary.failures if "kind 'xes'" in f.reason]
    assert len(kinds) == 1 and kinds[0].error == "ValidationError"
    refs = [f for f in summary.failures if f.reason.startswith("valence not computed")]
    assert len(refs) == 1 and refs[0].error == "ReferenceNotFoundError"
    c = res.sel(spectrum=res.run == "C")
    assert c.sizes["spectrum"] == 1 and "valence" in res and np.isnan(c.valence.values[0])
    assert summary.n_succeeded == 4 and summary.n_failed == 1


def test_one_bad_xes_scan_does_not_lose_the_others(monkeypatch):
    ds = spectro.simulate.xes(spin="high", n_scans=3, seed=2)
    ds = ds.assign_coords(scan=("scan", ["0", "1", "2"], ds.scan.attrs))
    real = pipeline._xes_results

    def analyse(d, options):
        if d.sizes["scan"] > 1 or str(d["scan"].values[0]) == "1":
            raise DataError("bad scan")
        return real(d, options)

    monkeypatch.setattr(pipeline, "_xes_results", analyse)
    table, failures = pipeline._xes_table(spectro.model.Spectra.from_dataset(ds), AnalysisOptions(), "f.dat")
    assert table["scan"].tolist() == ["0", "2"]
    assert [(f.scan, f.error, f.reason) for f in failures] == [("1", "DataError", "bad scan")]


def test_apply_metadata_keeps_the_file_values_when_unknown(tmp_path):
    ds = spectro.simulate.xanes(n_scans=2, pressure=[1.0, 2.0], run="r1")
    same = apply_metadata(ds, Job(tmp_path / "a"))
    assert same is ds
    new = apply_metadata(ds, Job(tmp_path / "a", temperature=80.0, sample="x"))
    assert new.pressure.values.tolist() == [1.0, 2.0] and new.temperature.values.tolist() == [80.0, 80.0]
    assert new.sample.values.tolist() == ["x", "x"] and ds.sample.values.tolist() != ["x", "x"]


def test_parse_references_resolves_files(data_dir):
    assert parse_references(f"{NIO}=2", base=data_dir) == ((str(data_dir / NIO), 2.0),)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
@pytest.mark.parametrize("preedge", ["centroid", "fit"])
def test_the_batch_gives_each_input_what_analyze_gives_its_dataset(data_dir, preedge, assert_same_table):
    """The batch's kernel call on an input's arrays and spectro.xanes.analyze on its Dataset: the same bits and attrs."""
    files = [NIO, LANIO3, FOIL, "xanes/bmm_Ni-K-NickelOxide.xdi", "xanes/larch_NiO.prj"]
    options = AnalysisOptions(xanes=XanesOptions(preedge=preedge), valence=None)
    for rel, outcome in zip(files, analyze_files([Job(data_dir / f) for f in files], options)):
        results = spectro.xanes.analyze(spectro.read(data_dir / rel), options.xanes)
        ok = np.isfinite(results.e0.values)
        want = Table.from_dataset(results, results, dim="energy").select(np.flatnonzero(ok))
        assert_same_table(outcome.results, want)


def test_flags_become_the_input_warnings_naming_its_scans(data_dir):
    short = spectro.simulate.xanes(energy=np.arange(8300.0, 8360.0, 0.5), seed=1)
    spectra = spectro.model.Spectra.from_dataset(short.assign_attrs(source_file="short.xdi"))
    table, found = pipeline._xanes_table(spectra, XanesOptions(preedge="centroid"))
    assert table["flags"].tolist() == [int(spectro.xanes.XanesFlag.NORMALIZATION_FAILED)]
    assert [str(w) for w in found] == [
        "short.xdi: scans 'sim0000': too few points in the pre-edge or post-edge window: normalization is NaN"
    ]


def test_a_chunk_gives_each_input_the_valence_and_warnings_it_gets_alone(data_dir, assert_same_table):
    """One calibration for the inputs sharing anchors; each keeps its rows and its own extrapolation warning."""
    anchors = (("ceric_nio_300k", 2.0), ("ceric_lanio3_80k", 3.0))
    jobs = [
        Job(data_dir / NIO),
        Job(data_dir / NIS, references=anchors),
        Job(data_dir / LANIO3, references=anchors),
        Job(data_dir / NIS),
        Job(data_dir / NIO, references=(("nothing_like_this", 2.0), ("NiO", 3.0))),
    ]
    options = AnalysisOptions(xanes=XanesOptions(preedge="centroid"))
    together = analyze_files(jobs, options)
    for job, outcome in zip(jobs, together):
        alone = analyze_file(job, options)
        assert [str(w) for w in outcome.warnings] == [str(w) for w in alone.warnings]
        assert outcome.failures == alone.failures
        assert_same_table(outcome.results, alone.results)
    valences = [o.results["valence"][0] for o in together[:4]]
    assert valences[0] == pytest.approx(2.0, abs=0.05) and valences[2] == pytest.approx(3.0, abs=0.05)
    assert valences[1] < 1.5 and valences[3] == valences[1]  # NiS: the sulfide's edge lies below NiO's
    assert [o.results["valence_flags"][0] for o in together[:4]] == ["", "extrapolated", "", "extrapolated"]
    assert sum("outside the anchor range" in str(w) for w in together[1].warnings) == 1
    assert "valence" not in together[4].results
    assert together[4].failures[-1].reason.startswith("valence not computed")
