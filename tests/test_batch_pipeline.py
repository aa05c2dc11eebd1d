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
        assert row.valence_flags.values[0] == "anchor_mismatch"  # 300 K and 80 K, a year apart: every valence says so


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
    table, found, _ = pipeline._xanes_table(spectra, XanesOptions(preedge="centroid"))
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
    on_edge = "extrapolated,preedge_on_edge"  # the sulfide's edge rises through the pre-edge window
    flags = [on_edge if i % 2 else "" for i in range(4)]
    assert [o.results["valence_flags"][0] for o in together[:4]] == [
        ",".join(f for f in (f, "anchor_mismatch") if f) for f in flags]  # the BM08 anchors: 300 K and 80 K
    assert sum("outside the anchor range" in str(w) for w in together[1].warnings) == 1
    # the warning of the scans whose edge is in the pre-edge window: each NiS input's own, naming its file
    said = [[str(w) for w in o.warnings if "rises through the pre-edge window" in str(w)] for o in together[:4]]
    assert [len(s) for s in said] == [0, 1, 0, 1] and said[1][0].startswith(str(data_dir / NIS))
    assert "valence" not in together[4].results
    assert together[4].failures[-1].reason.startswith("valence not computed")


#: Real files on shared grids: three on one grid with a reference channel, three on another, three without.
SHARED_GRIDS = [f"xanes/xaslib_Ni2O3_rt_0{i}.xdi" for i in (1, 2, 3)] + [
    f"xanes/xaslib_NiS_rt_0{i}.xdi" for i in (1, 2, 3)] + [
    "xanes/xaslib_Ni_metal_rt_01.xdi", "xanes/xaslib_Ni_metal_rt_02.xdi", "xanes/larch_ni_metal_rt.xdi"]


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
@pytest.mark.parametrize("xanes", [{"preedge": "fit"}, {"preedge": "centroid", "budget": True}])
def test_an_input_gets_the_same_bits_whichever_inputs_share_its_kernel_call(data_dir, xanes, assert_same_table,
                                                                             monkeypatch):
    """Inputs on one grid share a kernel call; each gets what it gets alone and what analyze gives its Dataset."""
    calls = []
    tables = pipeline._xanes_tables
    monkeypatch.setattr(pipeline, "_xanes_tables", lambda inputs, options: calls.append(len(inputs)) or
                        tables(inputs, options))
    options = AnalysisOptions(xanes=XanesOptions(**xanes), valence=None)
    jobs = [Job(data_dir / f, pressure=float(i)) for i, f in enumerate(SHARED_GRIDS + SHARED_GRIDS[::-2])]
    alone = [analyze_file(job, options) for job in jobs]
    for company in (jobs, jobs[::-1], jobs[1::3] + jobs[::2]):
        calls.clear()
        for job, outcome in zip(company, analyze_files(company, options)):
            want = alone[jobs.index(job)]
            assert outcome.failures == want.failures and [str(w) for w in outcome.warnings] == [
                str(w) for w in want.warnings]
            assert_same_table(outcome.results, want.results)
        assert max(calls) >= 3 and len(calls) < len(company)  # inputs did share calls
    for job, outcome in zip(jobs[:3], alone):
        results = spectro.xanes.analyze(apply_metadata(spectro.read(job.path), job), options.xanes)
        want = Table.from_dataset(results, results, dim="energy")
        np.testing.assert_array_equal(outcome.results["e0"], want["e0"])
        np.testing.assert_array_equal(outcome.results["preedge_centroid"], want["preedge_centroid"])


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_a_shared_call_that_fails_leaves_each_input_its_own_failure(data_dir, monkeypatch, assert_same_table):
    """When the shared kernel call raises, the inputs are analysed alone: the bad one fails, the others finish."""
    from spectro import xanes

    bad = np.asarray(spectro.read(data_dir / SHARED_GRIDS[1]).mu.values[0])
    kernel = xanes.analyze_arrays

    def fragile(energy, mu, *args, **kwargs):
        if any(np.array_equal(row, bad, equal_nan=True) for row in np.asarray(mu)):
            raise DataError("cannot analyse this one", file="x")
        return kernel(energy, mu, *args, **kwargs)

    options = AnalysisOptions(xanes=XanesOptions(preedge="centroid"), valence=None)
    jobs = [Job(data_dir / f) for f in SHARED_GRIDS[:3]]
    want = analyze_files(jobs, options)
    monkeypatch.setattr(xanes, "analyze_arrays", fragile)
    got = analyze_files(jobs, options)
    assert got[1].results is None and [f.reason for f in got[1].failures] == ["cannot analyse this one"]
    for i in (0, 2):
        assert not got[i].failures
        assert_same_table(got[i].results, want[i].results)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_a_read_beyond_the_time_limit_fails_that_input_only(data_dir, monkeypatch, assert_same_table):
    """The inputs are read one after the other in one thread: a read that hangs fails its input only.

    The inputs read after it are read (in a new thread) and get the bits and
    the warnings they get without the hang; each input keeps its own warnings.
    """
    import threading

    from spectro.errors import SpectroWarning

    release = threading.Event()
    load = pipeline._load
    options = AnalysisOptions(xanes=XanesOptions(preedge="centroid"), valence=None)
    jobs = [Job(data_dir / f) for f in SHARED_GRIDS]

    def noisy(job, options):
        warnings.warn(SpectroWarning(f"reading {job.path.name}"), stacklevel=1)
        return load(job, options)

    def stuck(job, options):
        if job.path == jobs[4].path:
            release.wait(30.0)
        return noisy(job, options)

    monkeypatch.setattr(pipeline, "_load", noisy)
    want = analyze_files(jobs, options)  # no time limit: in this thread (and the modules imported, once)
    monkeypatch.setattr(pipeline, "_load", stuck)
    try:
        got = analyze_files(jobs, options, time_limit=3.0)
    finally:
        release.set()
    assert [i for i, o in enumerate(got) if o.failures] == [4]
    (failure,) = got[4].failures
    assert failure.error == "InputTimeoutError" and "not read and analysed within the time limit of 3 s" in failure.reason
    assert got[4].results is None
    for i, (job, outcome) in enumerate(zip(jobs, got)):
        if i == 4:
            continue
        mine = [str(w) for w in outcome.warnings if str(w).startswith("reading ")]
        assert mine == [f"reading {job.path.name}"]
        assert [str(w) for w in outcome.warnings] == [str(w) for w in want[i].warnings]
        assert_same_table(outcome.results, want[i].results)


@pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")
def test_a_shared_call_beyond_the_time_limit_fails_its_inputs_only(data_dir, monkeypatch):
    """The time limit applies to reading each input and to each kernel call; a late call fails its inputs only."""
    import threading

    release = threading.Event()
    tables = pipeline._xanes_tables

    def stuck(inputs, options):
        if len(inputs) > 1 and inputs[0].energy.size == 507:  # the NiS grid
            release.wait(30.0)
        return tables(inputs, options)

    monkeypatch.setattr(pipeline, "_xanes_tables", stuck)
    options = AnalysisOptions(xanes=XanesOptions(preedge="centroid"), valence=None)
    jobs = [Job(data_dir / f) for f in SHARED_GRIDS]
    try:
        got = analyze_files(jobs, options, time_limit=2.0)
    finally:
        release.set()
    late = [i for i, o in enumerate(got) if o.failures]
    assert late == [3, 4, 5]
    assert all(got[i].failures[0].error == "InputTimeoutError" and "energy grid" in got[i].failures[0].reason
               for i in late)
    assert all(got[i].results.n_rows == 1 for i in (0, 1, 2, 6, 7, 8))
