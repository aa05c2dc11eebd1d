"""One analysis path: the same numbers and attrs from every door, on real spectra.

Eager ``spectro.xanes.analyze``, the same on a dask-chunked Dataset, the
``spectro batch`` command, the cube and the ``spectro xanes`` command run
one kernel on the same arrays: their numbers must be equal to the bit.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.batch.cube import analyze_cube
from spectro.cli import main
from spectro.options import XanesOptions

pytestmark = [pytest.mark.realdata, pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")]

FILES = [
    "xanes/ceric_NiO_111.xdi",
    "xanes/ceric_LaNiO3_Ni_80K_111.xdi",
    "xanes/bmm_Ni-K-NickelOxide.xdi",
    "xanes/bmm_Ni-K-LanthanumNickelate.xdi",
    "xanes/larch_NiO.prj",
]
OPTIONS = XanesOptions(preedge="centroid")


@pytest.fixture(scope="module")
def eager(data_dir):
    return {name: spectro.xanes.analyze(spectro.read(data_dir / name), OPTIONS) for name in FILES}


@pytest.mark.parametrize("name", FILES)
def test_dask_chunks_give_what_numpy_gives(data_dir, eager, name):
    pytest.importorskip("dask")
    ds = spectro.read(data_dir / name)
    lazy = spectro.xanes.analyze(ds.chunk({"scan": 3}), OPTIONS)
    assert lazy.e0.chunks is not None
    xr.testing.assert_identical(lazy.compute(), eager[name])


def test_batch_command_gives_what_analyze_gives(data_dir, eager, tmp_path, assert_batch_gives):
    files = [str(data_dir / name) for name in FILES]
    assert main(["batch", *files, "-o", str(tmp_path / "out"), "--preedge", "centroid", "--no-valence",
                 "--no-progress"]) == 0
    assert_batch_gives(tmp_path / "out" / "results.nc", [eager[name] for name in FILES], files)


def test_cube_gives_what_analyze_gives_on_real_scans(data_dir):
    ds = spectro.read(data_dir / "xanes/larch_NiO.prj")
    e = ds.energy.values[np.isfinite(ds.mu.values[0])]
    mu = np.array([np.interp(e, ds.energy.values[np.isfinite(r)], r[np.isfinite(r)]) for r in ds.mu.values])
    mu = mu[: 2 * (mu.shape[0] // 2)]
    scans = spectro.simulate.xanes(energy=e, n_scans=mu.shape[0], seed=0)[["mu"]].copy(data={"mu": mu})
    want = spectro.xanes.analyze(scans, OPTIONS)
    cube = xr.DataArray(mu.reshape(2, -1, e.size), dims=("y", "x", "energy"), coords={"energy": e})
    got = analyze_cube(cube, OPTIONS, chunk_bytes=3 * e.size * 8).compute()
    for var in got.data_vars:
        np.testing.assert_array_equal(got[var].values.ravel(), want[var].values, err_msg=var)
        assert got[var].attrs == want[var].attrs


def test_xanes_command_gives_what_analyze_gives(data_dir, eager, capsys):
    files = [str(data_dir / name) for name in FILES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["xanes", *files, "--preedge", "centroid", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    for name, path in zip(FILES, files):
        mine = [r for r in records if r["file"] == path]
        want = eager[name]
        assert [r["scan"] for r in mine] == [str(s) for s in want.scan.values]
        for key in ("e0", "e0_err", "edge_step", "preedge_centroid", "calibration_shift", "flags"):
            got = np.array([np.nan if r[key] is None else r[key] for r in mine], dtype=float)
            np.testing.assert_array_equal(got, want[key].values.astype(float), err_msg=f"{name} {key}")


def test_results_record_the_options_they_were_made_with(eager):
    for res in eager.values():
        assert res.attrs["xanes_options_sha256"] == OPTIONS.digest()
        assert res.attrs["xanes_preedge"] == "centroid" and res.edge_step.attrs["nnorm"] == "by post-edge span"


def test_cube_command_takes_the_xanes_flags(tmp_path):
    """spectro batch --cube with --preedge and window flags runs analyze_cube with those options."""
    sim = spectro.simulate.xanes(valence=np.linspace(2.0, 3.0, 6), n_scans=6, noise=0.002, seed=5)
    cube = xr.DataArray(sim.mu.values.reshape(2, 3, -1), dims=("y", "x", "energy"),
                        coords={"energy": sim.energy.values})
    path = tmp_path / "map.nc"
    cube.to_dataset(name="mu").to_netcdf(path, engine="h5netcdf")
    assert main(["batch", str(path), "-o", str(tmp_path / "out"), "--cube", "mu", "--preedge", "fit",
                 "--norm2", "300", "--no-progress"]) == 0
    got = xr.open_dataset(tmp_path / "out" / "map.nc.results.nc", engine="h5netcdf").load()
    want = analyze_cube(cube, XanesOptions(preedge="fit", norm2=300.0)).compute()
    assert got.attrs["xanes_options_sha256"] == XanesOptions(preedge="fit", norm2=300.0).digest()
    for var in want.data_vars:
        np.testing.assert_array_equal(got[var].values, want[var].values, err_msg=var)
