"""Batches against hostile and broken inputs and outputs: locks, names, loops, formulas, hangs, exit codes."""

from __future__ import annotations

import csv
import errno
import fcntl
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.batch import Job, Outcome, expand_inputs, run_batch
from spectro.batch.lock import LOCK_NAME, OutputLockedError, output_lock
from spectro.cli import main
from spectro.io.writers import write_xdi


#: The checkout whose spectro the subprocesses import.
_ROOT = str(Path(spectro.__file__).resolve().parents[1])


def _xdi_files(folder, n, *, seed=0):
    """``n`` simulated one-scan XANES files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    sim = spectro.simulate.xanes(valence=np.linspace(2.0, 3.0, n), n_scans=n, seed=seed)
    return [write_xdi(sim, folder / f"s{i:02d}.xdi", scan=label) for i, label in enumerate(sim.scan.values)]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _count(job, options):
    """A process function: one row per input, its size in bytes."""
    ds = spectro.simulate.xanes(seed=0)
    return Outcome(ds[["pressure"]].assign(n=("scan", [job.path.stat().st_size])))


# --- one writer per output folder ----------------------------------------------------------------------------


def test_second_batch_on_a_folder_is_refused_and_the_first_completes(tmp_path, capsys):
    files = _xdi_files(tmp_path / "a", 3)
    others = _xdi_files(tmp_path / "b", 2, seed=1)
    out = tmp_path / "out"
    inside, release = threading.Event(), threading.Event()

    def slow(job, options):
        inside.set()
        release.wait(60)
        return _count(job, options)

    first: dict = {}
    thread = threading.Thread(target=lambda: first.update(
        summary=run_batch([Job(p) for p in files], out, process=slow, time_limit=None)))
    thread.start()
    assert inside.wait(60)
    try:
        assert main(["batch", *map(str, others), "-o", str(out), "--no-valence"]) == 3
    finally:
        release.set()
        thread.join(60)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is being written by another spectro batch" in err and f"pid {os.getpid()}" in err
    assert first["summary"].n_succeeded == 3
    table = _rows(out / "results.csv")
    assert sorted(r["file"] for r in table) == sorted(str(p) for p in files)  # the first batch's, all of them
    assert not (out / LOCK_NAME).exists()


def _dead_pid() -> int:
    """The id of a process of this host that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "no-flock"])
def test_lock_of_a_dead_batch_is_taken_over(tmp_path, monkeypatch, flock):
    if not flock:  # a file system without flock (some NFS mounts): the lock file alone decides
        monkeypatch.setattr(fcntl, "flock", _no_flock)
    out = tmp_path / "out"
    out.mkdir()
    stale = f"pid {_dead_pid()} on {socket.gethostname()}, started 2026-01-01T00:00:00Z"
    (out / LOCK_NAME).write_text(stale + "\n")  # left by a killed batch
    files = _xdi_files(tmp_path / "in", 2)
    with pytest.warns(spectro.SpectroWarning, match=f"took over the lock of a batch whose process is gone \\({stale}"):
        assert run_batch([Job(p) for p in files], out, process=_count).n_succeeded == 2
    assert not (out / LOCK_NAME).exists()
    with output_lock(out), pytest.raises(OutputLockedError, match=f"pid {os.getpid()}"), output_lock(out):
        pass


def _no_flock(fd, operation):
    raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))


def test_lock_of_another_host_or_a_running_process_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    lock = out / LOCK_NAME
    files = _xdi_files(tmp_path / "in", 1)
    for holder in (f"pid {_dead_pid()} on elsewhere.example.org, started 2026-01-01T00:00:00Z",  # cannot be checked
                   f"pid {os.getppid()} on {socket.gethostname()}, started 2026-01-01T00:00:00Z"):  # runs
        lock.write_text(holder + "\n")
        with pytest.raises(OutputLockedError) as refused:
            run_batch([Job(p) for p in files], out, process=_count)
        assert f"is being written by another spectro batch ({holder})" in str(refused.value)
        assert f"if that batch is no longer running, delete {lock}" in str(refused.value)
        assert lock.read_text() == holder + "\n" and not (out / "results.csv").exists()


@pytest.mark.parametrize("flock", [True, False], ids=["flock", "no-flock"])
def test_a_batch_of_another_process_is_refused_while_it_holds_the_folder(tmp_path, monkeypatch, capsys, flock):
    """Another process holds the folder: refused with its pid and host, with or without flock; free once it ends."""
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from spectro.batch.lock import output_lock\n"
         f"with output_lock({str(out)!r}):\n    print('held', flush=True); sys.stdin.readline()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": _ROOT})
    try:
        assert holder.stdout.readline() == "held\n"
        if not flock:
            monkeypatch.setattr(fcntl, "flock", _no_flock)
        files = [str(p) for p in _xdi_files(tmp_path / "in", 1)]
        assert main(["batch", *files, "-o", str(out), "--no-valence"]) == 3
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"pid {holder.pid} on {socket.gethostname()}, started " in err
    finally:
        holder.communicate("\n", timeout=60)
    assert not (out / LOCK_NAME).exists()
    assert main(["batch", *files, "-o", str(out), "--no-valence", "--preedge", "centroid"]) == 0


def test_temporaries_of_a_killed_writer_are_removed_only_under_the_lock(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".results.csv.0123456789ab.tmp"
    stale.write_text("partial")
    with output_lock(out):  # a running batch: a second one must not touch its files
        with pytest.raises(OutputLockedError):
            run_batch([Job(p) for p in _xdi_files(tmp_path / "in", 1)], out, process=_count)
        assert stale.exists()
    run_batch([Job(p) for p in _xdi_files(tmp_path / "in", 1)], out, process=_count)
    assert not stale.exists()


# --- which files are inputs ------------------------------------------------------------------------------------


def test_output_folder_inside_the_input_folder_is_not_read(tmp_path, capsys):
    scans = tmp_path / "scans"
    files = _xdi_files(scans, 2)
    out = scans / "results"
    for _ in range(2):  # the second run would see the first's results.csv, spectra.nc ... as inputs
        assert main(["batch", str(scans), "-o", str(out), "--no-valence", "--preedge", "centroid", "--json"]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert '"n_inputs": 2' in summary
    assert sorted(r["file"] for r in _rows(out / "results.csv")) == sorted(str(p) for p in files)
    assert [j.path for j in expand_inputs([str(scans / "**" / "*")], exclude=[out])] == sorted(files)


def test_glob_and_folder_walk_end_on_a_symlink_loop(tmp_path):
    files = _xdi_files(tmp_path / "a" / "b", 1) + _xdi_files(tmp_path / "a", 1, seed=2)
    os.symlink("..", tmp_path / "a" / "b" / "up")  # a/b/up/b/up/... for ever
    os.symlink(tmp_path, tmp_path / "a" / "root")
    want = sorted(p.resolve() for p in files)
    assert [j.path for j in expand_inputs([str(tmp_path / "**" / "*.xdi")])] == want
    assert [j.path for j in expand_inputs([str(tmp_path)])] == want


def test_fifo_is_a_failure_not_a_hang(tmp_path):
    files = _xdi_files(tmp_path, 2)
    fifo = tmp_path / "pipe.xdi"
    os.mkfifo(fifo)
    summary = run_batch([Job(files[0]), Job(fifo), Job(files[1])], tmp_path / "out")
    assert summary.n_succeeded == 2 and summary.n_failed == 1
    (failure,) = [f for f in summary.failures if f.file == str(fifo)]
    assert failure.error == "FormatError" and "not a regular file (a FIFO)" in failure.reason


def test_a_hung_input_times_out_and_the_rest_finish(tmp_path):
    files = _xdi_files(tmp_path / "in", 3)
    hung = threading.Event()

    def sometimes_hangs(job, options):
        if job.path == files[1]:
            hung.wait(30)  # never set: blocks like a read from a pipe nobody writes
        return _count(job, options)

    start = time.monotonic()
    summary = run_batch([Job(p) for p in files], tmp_path / "out", process=sometimes_hangs, time_limit=0.5)
    assert time.monotonic() - start < 20
    assert summary.n_succeeded == 2
    (failure,) = summary.failures
    assert failure.file == str(files[1]) and failure.error == "InputTimeoutError" and "0.5 s" in failure.reason
    assert not list((tmp_path / "out" / "parts").glob("*.npz"))  # not recorded: resume tries it again
    again = run_batch([Job(p) for p in files], tmp_path / "out", process=_count, resume=True, time_limit=0.5)
    assert again.n_processed == 3 and again.n_succeeded == 3


# --- what the outputs say -------------------------------------------------------------------------------------


def _formula_process(job, options):
    if job.path.name.startswith("bad"):
        raise ValueError("=HYPERLINK(\"http://x\")")
    import warnings

    warnings.warn("@SUM(A1) looks odd", spectro.SpectroWarning, stacklevel=1)
    ds = spectro.simulate.xanes(n_scans=1, seed=0)
    ds = ds.assign_coords(scan=["-2+3"], sample=("scan", ["=cmd|' /C calc'!A0"]),
                          run=("scan", ["\tx"]), pressure=("scan", [-0.5]))
    return Outcome(ds[["pressure", "sample", "run"]].assign(shift=("scan", [-1.25])))


def test_formula_cells_are_escaped_and_numbers_stay_numbers(tmp_path):
    (tmp_path / "good.txt").write_text("x")
    (tmp_path / "bad.txt").write_text("x")
    out = tmp_path / "out"
    run_batch([Job(tmp_path / "good.txt"), Job(tmp_path / "bad.txt")], out, process=_formula_process)
    (row,) = _rows(out / "results.csv")
    assert row["scan"] == "'-2+3" and row["sample"] == "'=cmd|' /C calc'!A0" and row["run"] == "'\tx"
    assert float(row["pressure"]) == -0.5 and float(row["shift"]) == -1.25  # numbers, not escaped
    (failure,) = _rows(out / "failures.csv")
    assert failure["reason"] == "'=HYPERLINK(\"http://x\")"
    (warning,) = _rows(out / "warnings.csv")
    assert warning["message"] == "'@SUM(A1) looks odd"
    results = xr.open_dataset(out / "results.nc")
    assert results.sample.values.tolist() == ["=cmd|' /C calc'!A0"]  # the NetCDF keeps the text as it is


def test_cube_outputs_of_maps_with_one_name_are_both_kept(tmp_path, capsys):
    paths = []
    for folder, seed in (("a", 1), ("b", 2)):
        sim = spectro.simulate.xanes(valence=np.linspace(2, 3, 4), n_scans=4, seed=seed)
        cube = xr.DataArray(sim.mu.values.reshape(2, 2, -1), dims=("y", "x", "energy"),
                            coords={"energy": sim.energy.values})
        (tmp_path / folder).mkdir()
        cube.to_dataset(name="mu").to_netcdf(tmp_path / folder / "map.nc", engine="h5netcdf")
        paths.append((str(tmp_path / folder / "map.nc"), sim))
    assert main(["batch", *(p for p, _ in paths), "-o", str(tmp_path / "out"), "--cube", "mu", "--json"]) == 0
    import json

    written = json.loads(capsys.readouterr().out)["outputs"]
    assert len(set(written)) == 2
    for target, (source, sim) in zip(written, paths):
        res = xr.open_dataset(target, engine="h5netcdf")
        np.testing.assert_allclose(res.e0.values.ravel(), sim.true_e0.values, atol=0.3)


# --- exit codes --------------------------------------------------------------------------------------------------


def test_exit_codes_tell_failed_inputs_from_usage_and_output_failures(tmp_path, capsys, monkeypatch):
    files = [str(p) for p in _xdi_files(tmp_path / "in", 2)]
    (tmp_path / "in" / "broken.xdi").write_text("# nothing\n")
    common = ["--no-valence", "--preedge", "centroid"]
    assert main(["batch", *files, "-o", str(tmp_path / "ok"), *common]) == 0
    assert main(["batch", *files, str(tmp_path / "in" / "broken.xdi"), "-o", str(tmp_path / "some"), *common]) == 1
    err = capsys.readouterr().err
    assert err.count("error: ") == 1 and f"error: {tmp_path / 'in' / 'broken.xdi'}: " in err
    assert main(["batch", str(tmp_path / "none*.xdi"), "-o", str(tmp_path / "x"), *common]) == 2
    capsys.readouterr()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "full" / "results.csv"))

    monkeypatch.setattr("spectro.batch.outputs.write_bytes", full_disk)
    assert main(["batch", *files, "-o", str(tmp_path / "full"), *common]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err


def test_read_reports_every_good_file_around_bad_ones(tmp_path, capsys):
    good, good2 = _xdi_files(tmp_path, 2)
    fifo = tmp_path / "pipe.xdi"
    os.mkfifo(fifo)
    (tmp_path / "noise.dat").write_bytes(np.random.default_rng(0).bytes(3000))
    argv = ["read", str(good), str(fifo), str(tmp_path / "noise.dat"), str(tmp_path / "missing.xdi"), str(good2)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.err.count("error: ") == 3 and "not a regular file (a FIFO)" in captured.err
    assert str(good) in captured.out and str(good2) in captured.out


def test_batch_without_reachable_anchors_warns_and_fails_unless_no_valence(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SPECTRO_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    files = [str(p) for p in _xdi_files(tmp_path / "in", 2)]
    assert main(["batch", *files, "-o", str(tmp_path / "out"), "--preedge", "centroid"]) == 1
    err = capsys.readouterr().err
    assert err.count("warning: ") == 2 and all(f"warning: {f}: no valence" in err for f in files)
    rows = [r for r in _rows(tmp_path / "out" / "warnings.csv") if r["category"] == "NoValenceWarning"]
    assert sorted(r["file"] for r in rows) == sorted(files) and "--no-valence" in rows[0]["message"]
    table = _rows(tmp_path / "out" / "results.csv")
    assert len(table) == 2 and "valence" not in table[0]
    assert main(["batch", *files, "-o", str(tmp_path / "out2"), "--preedge", "centroid", "--no-valence"]) == 0
    assert "warning" not in capsys.readouterr().err


# --- valence anchors that would block ------------------------------------------------------------------------


#: The flags of the batches below: a small time limit.
_FLAGS = ["--time-limit", "0.5", "--preedge", "centroid", "--no-progress"]


def _anchor_argv(tmp_path, anchor):
    """Three simulated files (valence 2, 2.5, 3), and a batch of the second with ``anchor`` as its valence-2 anchor."""
    files = _xdi_files(tmp_path / "in", 3)
    return files, ["batch", str(files[1]), "--anchors", f"{anchor}=2", f"{files[2]}=3", *_FLAGS]


def test_a_fifo_anchor_is_refused_and_the_batch_finishes(tmp_path, capsys):
    fifo = tmp_path / "anchor.xdi"
    os.mkfifo(fifo)
    files, argv = _anchor_argv(tmp_path, fifo)
    assert main([*argv, "-o", str(tmp_path / "out")]) == 1
    assert f"warning: {files[1]}: no valence" in capsys.readouterr().err
    (row,) = [r for r in _rows(tmp_path / "out" / "warnings.csv") if r["category"] == "NoValenceWarning"]
    assert f"valence anchor '{fifo}' is a FIFO, not a regular file: not opened" in row["message"]
    assert [r["file"] for r in _rows(tmp_path / "out" / "results.csv")] == [str(files[1])]
    # Named by the input's manifest row, the anchor's failure is the input's.
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"file,references\n{files[1]},{fifo}=2;{files[2]}=3\n")
    assert main(["batch", str(manifest), "-o", str(tmp_path / "out2"), *_FLAGS]) == 1
    (failure,) = _rows(tmp_path / "out2" / "failures.csv")
    assert failure["file"] == str(files[1]) and "is a FIFO, not a regular file" in failure["reason"]


def test_a_stalled_anchor_is_bounded_by_the_time_limit(tmp_path, capsys, monkeypatch):
    """An anchor whose hashing never ends (a file on a hung network disk): the batch finishes all the same."""
    from spectro.batch import pipeline

    stalled = tmp_path / "stalled.xdi"
    files, argv = _anchor_argv(tmp_path, stalled)
    stalled.write_bytes(files[0].read_bytes())
    release = threading.Event()
    real = pipeline.file_sha256

    def hung(path):
        if os.fspath(path) == str(stalled):
            release.wait()  # blocks until the test ends, like a read from a hung mount
        return real(path)

    monkeypatch.setattr(pipeline, "file_sha256", hung)
    monkeypatch.setattr(pipeline, "_STALLED", {})
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"file,references\n{files[1]},{stalled}=2;{files[2]}=3\n")
    try:
        assert main([*argv, "-o", str(tmp_path / "out")]) == 1
        assert main(["batch", str(manifest), "-o", str(tmp_path / "out2"), *_FLAGS]) == 1
    finally:
        release.set()
    assert f"warning: {files[1]}: no valence" in capsys.readouterr().err
    (row,) = [r for r in _rows(tmp_path / "out" / "warnings.csv") if r["category"] == "NoValenceWarning"]
    assert f"not hashed as valence anchor {str(stalled)!r} within the time limit of 0.5 s" in row["message"]
    assert [r["file"] for r in _rows(tmp_path / "out" / "results.csv")] == [str(files[1])]
    (failure,) = _rows(tmp_path / "out2" / "failures.csv")
    assert failure["error"] == "InputTimeoutError"
    assert failure["reason"].startswith(f"valence not computed: not hashed as valence anchor {str(stalled)!r}")
    assert not list((tmp_path / "out2" / "parts").glob("*.npz"))  # not recorded: resume tries it again
    # Once the hashing has ended, the anchor is used again.
    assert main(["batch", str(manifest), "-o", str(tmp_path / "out2"), *_FLAGS, "--resume"]) == 0
    (result,) = _rows(tmp_path / "out2" / "results.csv")
    assert 1.9 < float(result["valence"]) < 2.6


def test_a_stalled_anchor_read_is_bounded_by_the_time_limit(tmp_path, capsys, monkeypatch):
    """Hashed but never read to the end: the calibration's reading is bounded too."""
    from spectro.batch import pipeline

    files = _xdi_files(tmp_path / "in", 3)
    _, argv = _anchor_argv(tmp_path, files[0])
    release = threading.Event()
    real = pipeline._anchor_results

    def hung(name, *args):
        if name == str(files[0]):
            release.wait()
        return real(name, *args)

    monkeypatch.setattr(pipeline, "_anchor_results", hung)
    monkeypatch.setattr(pipeline, "_STALLED", {})
    try:
        assert main([*argv, "-o", str(tmp_path / "out")]) == 1
    finally:
        release.set()
    capsys.readouterr()
    (row,) = [r for r in _rows(tmp_path / "out" / "warnings.csv") if r["category"] == "NoValenceWarning"]
    names = f"{str(files[0])!r}, {str(files[2])!r}"
    assert f"not read and analysed as valence anchors {names} within the time limit of 0.5 s" in row["message"]


# --- what an input reads beside itself -------------------------------------------------------------------------


def test_files_an_input_reads_through_hdf5_links_are_in_the_provenance_and_resume_notices_them(tmp_path, capsys):
    """An NXxas file whose intensity is an external link: allowed, the target is named with its SHA-256."""
    import h5py

    from spectro.batch.provenance import file_sha256

    sim = spectro.simulate.xanes(valence=[2.0, 3.0], n_scans=2, seed=3)
    target = tmp_path / "data" / "mu.h5"
    target.parent.mkdir()

    def write_target(mu):
        with h5py.File(target, "w") as h5:
            h5["mu"] = mu

    write_target(sim.mu.values[0])
    linked = tmp_path / "data" / "linked.h5"
    with h5py.File(linked, "w") as h5:
        entry = h5.create_group("scan")
        entry.attrs["NX_class"] = "NXentry"
        entry["definition"] = "NXxas"
        entry.create_dataset("energy", data=sim.energy.values).attrs["units"] = "eV"
        entry["intensity"] = h5py.ExternalLink("mu.h5", "/mu")
        entry["element/symbol"] = "Ni"
        entry["edge/name"] = "K"
    out = tmp_path / "out"
    argv = ["batch", str(linked), "-o", str(out), "--no-valence", "--preedge", "centroid", "--json"]
    assert main(argv) == 1  # refused by default
    assert "is an external link to mu.h5:/mu; refused" in _rows(out / "failures.csv")[0]["reason"]
    capsys.readouterr()
    assert main([*argv, "--external-links"]) == 0
    (row,) = _rows(out / "results.csv")
    assert row["external_files"] == f"{target} sha256:{file_sha256(target)}"
    with xr.open_dataset(out / "results.nc") as ds:
        assert ds["external_files"].values.tolist() == [row["external_files"]]
    e0 = float(row["e0"])
    capsys.readouterr()
    assert main([*argv, "--external-links", "--resume"]) == 0
    assert '"n_skipped": 1' in capsys.readouterr().out  # nothing changed: the record is used
    write_target(sim.mu.values[1])  # the linked data change (another valence), the input's bytes do not
    assert main([*argv, "--external-links", "--resume"]) == 0
    assert '"n_processed": 1' in capsys.readouterr().out
    (row,) = _rows(out / "results.csv")
    assert row["external_files"] == f"{target} sha256:{file_sha256(target)}" and float(row["e0"]) != e0


@pytest.mark.realdata
def test_a_spectrum_of_another_element_gets_no_valence_and_only_its_own_warning(data_file, tmp_path, capsys):
    """A measured Fe K-edge spectrum among Ni ones: no Ni valence for it, said for it alone."""
    fe, ni = data_file("formats/ceric_NiFe2O4_Fe_80K_111.xdi"), data_file("xanes/bmm_Ni-K-NickelOxide.xdi")
    anchors = [f"{data_file('xanes/ceric_NiO_111.xdi')}=2", f"{data_file('xanes/ceric_LaNiO3_Ni_80K_111.xdi')}=3"]
    out = tmp_path / "out"
    assert main(["batch", str(fe), str(ni), "-o", str(out), "--anchors", *anchors, "--no-progress"]) == 0
    capsys.readouterr()
    rows = {r["file"]: r for r in _rows(out / "results.csv")}
    assert rows[str(fe)]["valence"] == "" and rows[str(fe)]["valence_flags"] == "other_edge"
    assert 1.5 < float(rows[str(ni)]["valence"]) < 2.5
    edge = [r for r in _rows(out / "warnings.csv") if "another element or edge" in r["message"]]
    assert [r["file"] for r in edge] == [str(fe)] and edge[0]["message"].startswith(f"{fe}: scans ")


def test_a_folder_below_the_input_that_cannot_be_read_is_an_error_not_a_silent_gap(tmp_path, monkeypatch, capsys):
    """A sub-folder without read permission (simulated: the tests may run as root): its files are not left out."""
    files = _xdi_files(tmp_path / "in", 1) + _xdi_files(tmp_path / "in" / "locked", 1, seed=1)
    locked = tmp_path / "in" / "locked"
    real = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real(path)

    assert len(expand_inputs([str(tmp_path / "in")])) == 2
    monkeypatch.setattr(os, "scandir", scandir)
    for pattern in (tmp_path / "in", tmp_path / "in" / "**" / "*.xdi"):
        with pytest.raises(spectro.errors.MissingFileError, match="a folder that cannot be read: Permission denied"):
            expand_inputs([str(pattern)])
    assert main(["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--no-valence"]) == 2
    assert capsys.readouterr().err == f"error: {locked}: a folder that cannot be read: Permission denied\n"
    assert [j.path for j in expand_inputs([str(files[0])])] == [files[0]]  # a file in a readable folder


def test_temporaries_are_unique_per_writer(tmp_path):
    """Two writers of one output at once (two runs, two threads) never share a temporary file."""
    from spectro.io.atomic import atomic_path

    target = tmp_path / "results.csv"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second and first.exists() and second.exists()
        assert first.name.startswith(".results.csv.") and first.name.endswith(".tmp")
        first.write_text("first")
        second.write_text("second")
    assert target.read_text() == "first"  # the outer block ends last: its file is the one kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]
