"""Batch runner with stand-in process functions: records, failures, resume, executors."""

from __future__ import annotations

import concurrent.futures
import csv
import json
import pathlib
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.batch import Failure, Job, Outcome, expand_inputs, run_batch
from spectro.batch.records import Column, Table, read_record
from spectro.errors import FormatError, SpectroWarning
from spectro.options import AnalysisOptions, XanesOptions


def stand_in(job: Job, options) -> Outcome:
    """Reads 'valence n_scans' from the file; 'bad' files raise, 'crash' files raise KeyError."""
    text = job.path.read_text()
    if text.startswith("bad"):
        raise FormatError("no numeric data", file=job.path)
    if text.startswith("crash"):
        raise KeyError("boom")
    valence, n_scans = float(text.split()[0]), int(text.split()[1])
    ds = spectro.simulate.xanes(valence=valence, n_scans=n_scans, seed=int(valence * 10))
    results = xr.Dataset(
        {"e0": ds.true_e0.drop_vars([c for c in ds.true_e0.coords if c not in ds.true_e0.dims]),
         "scale": ("scan", np.full(n_scans, options.xanes.level), {"units": "1", "long_name": "scale"})}
    )
    results["e0"].attrs = {"units": "eV", "long_name": "edge position"}
    results = results.assign_coords(pressure=("scan", np.full(n_scans, job.pressure)))
    failures = ()
    if n_scans > 2:
        warnings.warn("third scan is noisy", SpectroWarning)
        failures = (Failure(str(job.path), "3", "DataError", "too noisy"),)
    return Outcome(results=results, spectra=ds[["mu"]], failures=failures)


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    contents = {"a.txt": "2.0 1", "b.txt": "2.5 3", "c.txt": "bad", "d.txt": "3.0 2", "e.txt": "crash"}
    for name, text in contents.items():
        (folder / name).write_text(text)
    return folder


def _read_csv(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_input_is_a_success_or_a_failure(inputs, tmp_path):
    jobs = expand_inputs([inputs])
    summary = run_batch(jobs, tmp_path / "out", process=stand_in)
    assert summary.n_inputs == 5
    assert summary.n_succeeded + summary.n_failed == summary.n_inputs
    assert (summary.n_succeeded, summary.n_failed) == (3, 2)
    assert summary.n_spectra == 1 + 3 + 2
    failures = {(f["file"].rsplit("/", 1)[-1], f["scan"], f["error"]) for f in _read_csv(summary.outputs["failures"])}
    assert failures == {("b.txt", "3", "DataError"), ("c.txt", "", "FormatError"), ("e.txt", "", "KeyError")}
    reasons = {f["error"]: f["reason"] for f in _read_csv(summary.outputs["failures"])}
    assert reasons["FormatError"] == "no numeric data"


def test_results_netcdf_matches_the_stand_in(inputs, tmp_path):
    summary = run_batch(expand_inputs([inputs]), tmp_path / "out", process=stand_in)
    res = xr.open_dataset(summary.outputs["results"], engine="h5netcdf")
    truth = spectro.simulate.xanes(valence=2.5, n_scans=3, seed=25).true_e0.values
    rows = res.file.values == str(inputs / "b.txt")
    np.testing.assert_array_equal(res.e0.values[rows], truth)
    assert res.e0.attrs["units"] == "eV"
    assert list(res.input_status.values) == ["ok", "ok", "failed", "ok", "failed"]
    assert res.input_n_spectra.values.tolist() == [1, 3, 0, 2, 0]
    assert res.sizes["failure"] == 3
    assert json.loads(res.attrs["parameters"])["process"].endswith("stand_in")
    assert res.attrs["spectro_version"] == spectro.__version__
    assert len(res.input_sha256.values[0]) == 64
    table = _read_csv(summary.outputs["table"])
    assert [float(r["e0"]) for r in table] == res.e0.values.tolist()
    spectra = xr.open_dataset(summary.outputs["spectra"], engine="h5netcdf")
    assert spectra.sizes["spectrum"] == res.sizes["spectrum"]
    assert spectra.row_size.values.tolist() == [2001] * 6
    b_rows = np.flatnonzero(rows)
    second = spectra.where(spectra.spectrum_index == b_rows[1], drop=True)
    sim = spectro.simulate.xanes(valence=2.5, n_scans=3, seed=25)
    np.testing.assert_array_equal(second.mu.values, sim.mu.values[1])
    np.testing.assert_array_equal(second.energy.values, sim.energy.values)
    warned = _read_csv(summary.outputs["warnings"])
    assert [w["message"] for w in warned] == ["third scan is noisy"]


def test_resume_skips_recorded_chunks_and_redoes_the_chunk_of_a_changed_input(inputs, tmp_path):
    jobs = expand_inputs([inputs])  # a..e: chunks (a, b), (c, d), (e)
    first = run_batch(jobs, tmp_path / "out", process=stand_in, chunk_size=2)
    before = xr.open_dataset(first.outputs["results"], engine="h5netcdf").load()
    again = run_batch(jobs, tmp_path / "out", process=stand_in, resume=True, chunk_size=2)
    assert (again.n_processed, again.n_skipped) == (0, 5)
    after = xr.open_dataset(again.outputs["results"], engine="h5netcdf").load()
    before.attrs.pop("created"), after.attrs.pop("created")
    xr.testing.assert_identical(before, after)
    (inputs / "d.txt").write_text("2.2 1")
    changed = run_batch(jobs, tmp_path / "out", process=stand_in, resume=True, chunk_size=2)
    assert (changed.n_processed, changed.n_skipped) == (2, 3)
    res = xr.open_dataset(changed.outputs["results"], engine="h5netcdf")
    assert res.e0.values[res.file.values == str(inputs / "d.txt")].size == 1
    other_options = run_batch(jobs, tmp_path / "out", process=stand_in, resume=True,
                              options=AnalysisOptions(xanes=XanesOptions(level=0.5)),
                              chunk_size=2)
    assert other_options.n_processed == 5


def test_manifest_metadata_reaches_the_process(inputs, tmp_path):
    manifest = inputs / "manifest.csv"
    manifest.write_text("file,pressure,run\na.txt,4.5,A\nd.txt,,B\n")
    summary = run_batch(expand_inputs([manifest]), tmp_path / "out", process=stand_in)
    res = xr.open_dataset(summary.outputs["results"], engine="h5netcdf")
    assert res.pressure.values[0] == 4.5 and np.isnan(res.pressure.values[1:]).all()


def test_chunk_records_are_complete_and_no_temporaries_remain(inputs, tmp_path):
    jobs = expand_inputs([inputs])
    summary = run_batch(jobs, tmp_path / "out", process=stand_in, chunk_size=2)
    parts = sorted((tmp_path / "out" / "parts").iterdir())
    assert len(parts) == 3 and all(p.suffix == ".npz" for p in parts)
    members = [m for p in parts for m in read_record(p).members]
    assert sorted(m["file"] for m in members) == sorted(str(j.path) for j in jobs)
    by_file = {pathlib.Path(m["file"]).name: m for m in members}
    assert by_file["b.txt"]["n_spectra"] == 3 and by_file["b.txt"]["warnings"][0]["message"] == "third scan is noisy"
    assert by_file["e.txt"]["status"] == "failed" and by_file["e.txt"]["failures"][0]["error"] == "KeyError"
    assert not [p for p in (tmp_path / "out").rglob(".*") if p.is_file()]
    assert summary.outputs["results"].is_file()


def test_truncated_record_is_redone_on_resume(inputs, tmp_path):
    jobs = expand_inputs([inputs])
    first = run_batch(jobs, tmp_path / "out", process=stand_in, chunk_size=2)
    record = max((tmp_path / "out" / "parts").glob("*.npz"), key=lambda p: len(read_record(p).members))
    record.write_bytes(record.read_bytes()[:50])
    again = run_batch(jobs, tmp_path / "out", process=stand_in, resume=True, chunk_size=2)
    assert (again.n_processed, again.n_skipped) == (2, 3)
    assert first.outputs["table"].read_bytes() == again.outputs["table"].read_bytes()


def test_stale_temporaries_are_removed(inputs, tmp_path):
    out = tmp_path / "out"
    (out / "parts").mkdir(parents=True)
    stale = out / "parts" / ".abc.npz.xyz.tmp"
    stale.write_text("{")
    run_batch(expand_inputs([inputs]), out, process=stand_in)
    assert not stale.exists()


def test_process_pool_gives_the_same_outputs_as_serial(inputs, tmp_path):
    jobs = expand_inputs([inputs])
    serial = run_batch(jobs, tmp_path / "serial", process=stand_in)
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        parallel = run_batch(jobs, tmp_path / "pool", process=stand_in, executor=pool)
    a = xr.open_dataset(serial.outputs["results"], engine="h5netcdf").load()
    b = xr.open_dataset(parallel.outputs["results"], engine="h5netcdf").load()
    a.attrs.pop("created"), b.attrs.pop("created")
    xr.testing.assert_identical(a, b)
    assert serial.outputs["table"].read_bytes() == parallel.outputs["table"].read_bytes()


class _CountingPool(concurrent.futures.ProcessPoolExecutor):
    """A process pool that notes how many chunks each task it is given holds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sizes = []

    def submit(self, fn, /, *args, **kwargs):
        self.sizes.append(len(args[1]))
        return super().submit(fn, *args, **kwargs)


def test_chunks_sent_together_give_the_same_outputs(tmp_path):
    """With workers given, tasks hold several chunks (one per worker in so small a batch); records and outputs do not change."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(24):
        (folder / f"s{i:02d}.txt").write_text(f"{2 + i / 24} 1")
    jobs = expand_inputs([folder])
    serial = run_batch(jobs, tmp_path / "serial", process=stand_in, chunk_size=2)
    with _CountingPool(2) as pool:
        grouped = run_batch(jobs, tmp_path / "grouped", process=stand_in, executor=pool, workers=2, chunk_size=2)
    assert pool.sizes == [6, 6]  # 12 chunks, fewer than TASK_CHUNKS per worker: an equal share each
    assert grouped.n_processed == serial.n_processed == 24
    assert sorted(p.name for p in (tmp_path / "grouped" / "parts").iterdir()) == sorted(
        p.name for p in (tmp_path / "serial" / "parts").iterdir()
    )
    a = xr.open_dataset(serial.outputs["results"], engine="h5netcdf").load()
    b = xr.open_dataset(grouped.outputs["results"], engine="h5netcdf").load()
    a.attrs.pop("created"), b.attrs.pop("created")
    xr.testing.assert_identical(a, b)
    assert serial.outputs["table"].read_bytes() == grouped.outputs["table"].read_bytes()



@pytest.mark.parametrize("n, sizes", [(30, [15, 15]), (80, [20, 16, 16, 16, 12])])
def test_tasks_hold_at_least_task_chunks_and_shrink_as_the_batch_ends(tmp_path, n, sizes):
    """30 chunks on 2 workers: one task each (each task pays the kernel's fixed cost per grid); 80: shrinking tasks."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(n):
        (folder / f"s{i:03d}.txt").write_text(f"{2 + i / n} 1")
    with _CountingPool(2) as pool:
        summary = run_batch(expand_inputs([folder]), tmp_path / "out", process=stand_in, executor=pool, workers=2,
                            chunk_size=1)
    assert pool.sizes == sizes and summary.n_processed == n

def test_unreadable_input_is_a_failure(inputs, tmp_path):
    jobs = expand_inputs([inputs])
    (inputs / "a.txt").unlink()
    summary = run_batch(jobs, tmp_path / "out", process=stand_in)
    assert summary.n_failed == 3
    assert ("MissingFileError", str(inputs / "a.txt")) in {(f.error, f.file) for f in summary.failures}



def test_dask_cluster_executor_gives_the_same_outputs_as_serial(inputs, tmp_path):
    distributed = pytest.importorskip("distributed")
    jobs = expand_inputs([inputs])
    serial = run_batch(jobs, tmp_path / "serial", process=stand_in)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        clustered = run_batch(jobs, tmp_path / "cluster", process=stand_in, executor=client.get_executor(pure=False))
    assert clustered.n_succeeded == serial.n_succeeded
    assert serial.outputs["table"].read_bytes() == clustered.outputs["table"].read_bytes()
    assert serial.outputs["failures"].read_bytes() == clustered.outputs["failures"].read_bytes()


def test_a_chunk_record_reads_back_exactly(tmp_path):
    """Numbers (float, int, bool), text and missing columns survive the record unchanged.

    The record write_record returns (the batch combines it without reading
    the file again) is the one read_record reads: same values, dtypes, attrs.
    """
    from spectro.batch.records import Task, write_record

    a = xr.Dataset(
        {"e0": ("scan", [8345.123456789012, np.nan], {"units": "eV"}),
         "n": ("scan", np.array([3, 4], dtype=np.int64)),
         "ok": ("scan", np.array([True, False]))},
        coords={"scan": ("scan", ["s1", "s2"]), "run": ("scan", ["A", "B"])},
    )
    b = xr.Dataset({"e0": ("scan", [1e-300], {"units": "eV"}), "n": ("scan", np.array([7], dtype=np.int64))},
                   coords={"scan": ("scan", ["t"])})
    spectra = xr.Dataset({"norm": (("scan", "energy"), [[0.1, np.nan, 0.3], [0.4, 0.5, 0.6]])},
                         coords={"energy": ("energy", [1.0, 2.0, 3.0], {"units": "eV"})})
    tasks = [Task(Job(tmp_path / name), f"k{name}", "sha", "p") for name in ("a", "b", "c")]
    outcomes = [Outcome(a, spectra), Outcome(b), Outcome(None, None, (Failure("c", "", "DataError", "no"),))]
    written = write_record("chunk", tasks, outcomes, tmp_path)
    back = read_record(tmp_path / "chunk.npz")
    assert [m["status"] for m in back.members] == ["ok", "ok", "failed"]
    assert [m["n_spectra"] for m in back.members] == [2, 1, 0]
    assert written.key == back.key and written.members == back.members
    np.testing.assert_array_equal(written.row_size, back.row_size)
    for part in ("results", "spectra"):
        assert list(getattr(written, part)) == list(getattr(back, part))
        for name, column in getattr(written, part).items():
            again = getattr(back, part)[name]
            np.testing.assert_array_equal(again.values, column.values)
            assert again.values.dtype == column.values.dtype
            assert again.attrs == column.attrs and again.coord == column.coord
    assert back.results["e0"].values[2] == 1e-300
    assert back.results["n"].values.tolist() == [3, 4, 7] and back.results["n"].values.dtype == np.int64
    assert back.results["ok"].values.tolist()[:2] == [1.0, 0.0] and np.isnan(back.results["ok"].values[2])
    assert back.results["run"].values.tolist() == ["A", "B", ""]
    assert back.row_size.tolist() == [2, 3, 0]
    assert back.spectra["energy"].values.tolist() == [1.0, 3.0, 1.0, 2.0, 3.0]
    assert back.spectra["norm"].values.tolist() == [0.1, 0.3, 0.4, 0.5, 0.6]


def test_table_select_keeps_each_row_with_its_own_points():
    sizes = np.array([2, 0, 3])
    table = Table(
        {"e0": Column(np.array([1.0, 2.0, 3.0])), "scan": Column(np.array(["a", "b", "c"]), coord=True)},
        {"energy": Column(np.array([1.0, 2.0, 10.0, 11.0, 12.0]), coord=True)},
        sizes,
    )
    picked = table.select(np.array([0, 2]))
    assert picked["scan"].tolist() == ["a", "c"] and picked.row_size.tolist() == [2, 3]
    assert picked.spectra["energy"].values.tolist() == [1.0, 2.0, 10.0, 11.0, 12.0]
    assert table.select(np.array([2])).spectra["energy"].values.tolist() == [10.0, 11.0, 12.0]
    assert table.select(np.array([1, 2])).row_size.tolist() == [0, 3]
    assert Table.concat([picked, table]).spectra["energy"].values.size == 10
    assert table.n_rows == 3 and table["e0"].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.realdata
def test_resume_redoes_inputs_whose_valence_anchor_file_changed(data_dir, tmp_path):
    """Record keys hold the SHA-256 of every anchor file: a changed reference means new valences."""
    import shutil

    from spectro.options import ValenceOptions

    anchors = tmp_path / "anchors"
    anchors.mkdir()
    nio, lanio3 = anchors / "nio.xdi", anchors / "lanio3.xdi"
    shutil.copy(data_dir / "xanes" / "ceric_NiO_111.xdi", nio)
    shutil.copy(data_dir / "xanes" / "ceric_LaNiO3_Ni_80K_111.xdi", lanio3)
    options = AnalysisOptions(xanes=XanesOptions(preedge="centroid"),
                              valence=ValenceOptions(anchors=((str(nio), 2.0), (str(lanio3), 3.0))))
    jobs = expand_inputs([data_dir / "xanes" / "xaslib_NiS_rt_01.xdi", data_dir / "xanes" / "bmm_Ni-K-NickelOxide.xdi"])
    first = run_batch(jobs, tmp_path / "out", options=options, chunk_size=1)
    again = run_batch(jobs, tmp_path / "out", options=options, chunk_size=1, resume=True)
    assert (first.n_processed, again.n_processed, again.n_skipped) == (2, 0, 2)
    before = xr.open_dataset(again.outputs["results"], engine="h5netcdf").load()
    shutil.copy(data_dir / "xanes" / "bmm_Ni-K-LanthanumNickelate.xdi", lanio3)  # same name, other bytes
    changed = run_batch(jobs, tmp_path / "out", options=options, chunk_size=1, resume=True)
    after = xr.open_dataset(changed.outputs["results"], engine="h5netcdf").load()
    assert (changed.n_processed, changed.n_skipped) == (2, 0)
    assert not np.array_equal(before.valence.values, after.valence.values)
    np.testing.assert_array_equal(before.e0.values, after.e0.values)


@pytest.mark.parametrize("all_columns", [True, False], ids=["every part has every column", "a column missing"])
def test_concat_columns_keeps_values_dtypes_and_attrs(all_columns):
    from spectro.batch.records import concat_columns

    a = {"e0": Column(np.array([1.0, -0.0]), {"units": "eV"}), "flags": Column(np.array([3, 4], dtype=np.int64)),
         "run": Column(np.array(["r1", "r22"]), {"units": ""}, coord=True)}
    b = {"e0": Column(np.array([np.nan]), {"units": "other"}), "flags": Column(np.array([5], dtype=np.int64)),
         "run": Column(np.array(["r333"], dtype=object), {"units": ""}, coord=True)}
    if not all_columns:
        del b["flags"]
    out = concat_columns([(2, a), (1, b)])
    assert list(out) == ["e0", "flags", "run"]
    assert out["e0"].values.tobytes() == np.array([1.0, -0.0, np.nan]).tobytes() and out["e0"].attrs == {"units": "eV"}
    assert out["run"].values.dtype == np.dtype("<U4") and out["run"].values.tolist() == ["r1", "r22", "r333"]
    assert out["run"].coord and not out["e0"].coord
    flags = out["flags"].values
    if all_columns:
        assert flags.dtype == np.int64 and flags.tolist() == [3, 4, 5]
    else:  # integers become floats when a part lacks them, the gap NaN
        assert flags.dtype == float and flags[:2].tolist() == [3.0, 4.0] and np.isnan(flags[2])
