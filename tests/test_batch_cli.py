"""``spectro batch`` on the real spectra: failures listed, the rest done, kill and resume."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from spectro import errors
from spectro.batch.records import read_record
from spectro.cli import main

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _spectro(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "spectro", "batch", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _results(out):
    ds = xr.open_dataset(out / "results.nc", engine="h5netcdf").load()
    ds.attrs.pop("created")
    return ds


@pytest.fixture(scope="module")
def data_batch(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "out"
    proc = _spectro(data_dir, "-o", out, "--json", "--no-valence")
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode in (0, 1), stderr
    return out, json.loads(stdout)


def test_batch_over_every_real_file_finishes_and_lists_each_failure(data_dir, data_batch):
    out, summary = data_batch
    files = [p for p in data_dir.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.relative_to(data_dir).parts)]
    assert summary["n_inputs"] == len(files)
    assert summary["n_succeeded"] + summary["n_failed"] == len(files)
    assert summary["n_succeeded"] > 0 and summary["n_failed"] > 0
    failures = _rows(out / "failures.csv")
    assert failures == [{k: str(v) for k, v in f.items()} for f in summary["failures"]]
    spectro_errors = {n for n in errors.__all__ if issubclass(getattr(errors, n), errors.SpectroError)}
    not_spectro = [f for f in failures if f["error"] not in spectro_errors]
    assert not not_spectro, f"failures that are not SpectroErrors (bugs): {not_spectro}"
    assert all(f["reason"] and f["file"] for f in failures)
    failed = {f["file"] for f in failures if f["scan"] == ""}
    res = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    statuses = dict(zip(res.input_file.values, res.input_status.values))
    assert {f for f, s in statuses.items() if s == "failed"} <= failed | {f["file"] for f in failures}
    assert str(data_dir / "formats" / "xdi_bad" / "xdispec_bad_01.xdi") in {f["file"] for f in failures}


def test_batch_outputs_are_valid_netcdf_and_csv(data_dir, data_batch):
    out, summary = data_batch
    res = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert res.sizes["spectrum"] == summary["n_spectra"] == len(_rows(out / "results.csv"))
    assert res.sizes["failure"] == len(summary["failures"])
    spectra = xr.open_dataset(out / "spectra.nc", engine="h5netcdf")
    assert spectra.sizes["spectrum"] == res.sizes["spectrum"]
    assert int(spectra.row_size.sum()) == spectra.sizes["point"]
    assert np.all(np.diff(spectra.spectrum_index.values) >= 0)
    assert spectra.norm.attrs["units"] == "1"
    ni = res.where(res.file.str.contains("/xanes/ceric_"), drop=True)
    assert ni.sizes["spectrum"] == 3
    # Ni K edge: 8333 eV (Bearden); E0 at 0.8 of the jump lies a few eV above it.
    assert np.all((ni.e0.values > 8333.0) & (ni.e0.values < 8350.0))
    assert np.all(ni.e0_err.values > 0)


def test_killed_batch_resumes_to_the_same_outputs(data_dir, tmp_path):
    xanes = sorted((data_dir / "xanes").glob("*.xdi"))
    manifest = tmp_path / "manifest.csv"
    lines = ["file,run"] + [f"{p},run{r}" for r in range(3) for p in xanes]
    manifest.write_text("\n".join(lines) + "\n")
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    proc = _spectro(manifest, "-o", clean, "--no-valence", "--chunk-size", "4")
    assert proc.wait(timeout=900) in (0, 1), proc.stderr.read()

    proc = _spectro(manifest, "-o", killed, "--no-valence", "--chunk-size", "4")
    parts = killed / "parts"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("*.npz"))) >= 2:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the batch finished before it could be killed"
    assert not (killed / "results.nc").exists()
    visible = [p for p in parts.iterdir() if not p.name.startswith(".")]
    assert 2 <= len(visible) < (len(lines) - 1) / 4
    recorded = sum(len(read_record(path).members) for path in visible)

    proc = _spectro(manifest, "-o", killed, "--resume", "--no-valence", "--json", "--chunk-size", "4")
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode in (0, 1), stderr
    summary = json.loads(stdout)
    assert summary["n_skipped"] >= recorded
    assert summary["n_processed"] == len(lines) - 1 - summary["n_skipped"]
    xr.testing.assert_identical(_results(clean), _results(killed))
    for name in ("results.csv", "failures.csv", "warnings.csv"):
        assert (clean / name).read_bytes() == (killed / name).read_bytes(), name
    a, b = (xr.open_dataset(d / "spectra.nc", engine="h5netcdf").load() for d in (clean, killed))
    a.attrs.pop("created"), b.attrs.pop("created")
    xr.testing.assert_identical(a, b)
    assert not [p for p in killed.rglob(".*") if p.is_file()]


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "missing*.xdi"), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no file matches" in err and err.count("\n") == 1


def test_cli_cube(tmp_path, capsys):
    import spectro

    sim = spectro.simulate.xanes(valence=np.linspace(2, 3, 6), n_scans=6, seed=1)
    cube = xr.DataArray(sim.mu.values.reshape(2, 3, -1), dims=("y", "x", "energy"),
                        coords={"energy": sim.energy.values})
    cube.to_dataset(name="mu").to_netcdf(tmp_path / "map.nc", engine="h5netcdf")
    assert main(["batch", str(tmp_path / "map.nc"), "-o", str(tmp_path / "out"), "--cube", "mu", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)["outputs"]
    res = xr.open_dataset(written[0], engine="h5netcdf")
    np.testing.assert_allclose(res.e0.values.ravel(), sim.true_e0.values, atol=0.3)


def test_scheduler_address_runs_on_that_cluster(data_dir, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    files = [str(data_dir / "xanes" / "ceric_NiO_111.xdi"),
             str(data_dir / "formats" / "xdi_bad" / "xdispec_bad_01.xdi")]
    assert main(["batch", *files, "-o", str(tmp_path / "serial"), "--no-valence"]) == 1
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        code = main(["batch", *files, "-o", str(tmp_path / "cluster"), "--no-valence",
                     "--scheduler", cluster.scheduler_address])
        tasks = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    assert code == 1 and tasks > 0
    for name in ("results.csv", "failures.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "cluster" / name).read_bytes()
    assert "1 of 2 inputs processed" in capsys.readouterr().out


def test_progress_bar_goes_to_stderr(data_dir, tmp_path, capsys):
    assert main(["batch", str(data_dir / "xanes" / "ceric_NiO_111.xdi"), "-o", str(tmp_path / "out"),
                 "--no-valence", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "spectro batch" in captured.err and "1/1" in captured.err
    assert "spectro batch" not in captured.out



def test_statistical_only_note_without_budget(data_dir, tmp_path, capsys):
    """Without --budget the results' errors are the noise's: one note on stderr says so; with --budget, none."""
    from spectro.cli._output import STATISTICAL_ONLY

    nio = str(data_dir / "xanes" / "ceric_NiO_111.xdi")
    assert main(["batch", nio, "-o", str(tmp_path / "plain"), "--no-valence", "--preedge", "centroid"]) == 0
    assert STATISTICAL_ONLY in capsys.readouterr().err
    res = xr.open_dataset(tmp_path / "plain" / "results.nc", engine="h5netcdf")
    assert "statistical" in res.e0_err.attrs["long_name"]
    assert main(["batch", nio, "-o", str(tmp_path / "budget"), "--no-valence", "--preedge", "centroid",
                 "--budget"]) == 0
    assert STATISTICAL_ONLY not in capsys.readouterr().err
    res = xr.open_dataset(tmp_path / "budget" / "results.nc", engine="h5netcdf")
    assert "total" in res.e0_err.attrs["long_name"]

def test_analysis_options_reach_the_analysis(data_dir, tmp_path):
    out = tmp_path / "out"
    nio = str(data_dir / "xanes" / "ceric_NiO_111.xdi")
    assert main(["batch", nio, "-o", str(out), "--no-valence", "--pre1", "-100", "--norm2", "200"]) == 0
    res = xr.open_dataset(out / "results.nc", engine="h5netcdf")
    assert res.pre1.values.tolist() == [-100.0] and res.norm2.values.tolist() == [200.0]
    xanes = json.loads(res.attrs["parameters"])["options"]["xanes"]
    assert (xanes["pre1"], xanes["norm2"]) == (-100.0, 200.0)
    assert main(["batch", nio, "-o", str(out), "--pre1", "x"]) == 2


def test_chunk_size_must_be_positive(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["batch", str(tmp_path / "a.xdi"), "-o", str(tmp_path / "out"), "--chunk-size", "0"])
    assert exit_info.value.code == 2
    assert "--chunk-size: must be at least 1, not 0" in capsys.readouterr().err


def test_summary_line_counts_the_warnings_it_wrote(data_dir, tmp_path, capsys):
    """The terminal says how many rows warnings.csv holds (flags a user would otherwise not see); --json too."""
    import csv
    import json

    files = [str(data_dir / "xanes" / n) for n in ("ceric_NiO_111.xdi", "ceric_Ni_foil_111.xdi", "xaslib_NiS_rt_01.xdi")]
    assert main(["batch", *files, "-o", str(tmp_path / "out"), "--no-valence"]) == 0
    with open(tmp_path / "out" / "warnings.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 2  # the foil's merged points and its edge in the pre-edge window, NiS's too
    assert f"0 failures, {len(rows)} warnings (warnings.csv); results in" in capsys.readouterr().out
    assert main(["batch", *files, "-o", str(tmp_path / "again"), "--no-valence", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_warnings"] == len(rows)
