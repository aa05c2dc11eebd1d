"""One XES analysis path: the same numbers and attrs from every door, on the real Mn Kbeta spectra.

Eager ``spectro.xes.analyze``, the same on a dask-chunked Dataset, the
batch (``analyze_files`` and the ``spectro batch`` command) and the
``spectro xes`` command run one kernel on the same arrays: their numbers
must be equal to the bit, and a scan's numbers must not depend on the other
scans analysed with it. What a scan lacks is a flag, and in memory a
warning naming its file and scan.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.batch import Job
from spectro.batch.pipeline import analyze_files
from spectro.batch.records import Table
from spectro.cli import main
from spectro.errors import MissingRegionWarning
from spectro.options import AnalysisOptions, XesOptions
from spectro.xes import XesFlag

pytestmark = [pytest.mark.realdata, pytest.mark.filterwarnings("ignore::spectro.errors.SpectroWarning")]

FILES = [
    "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat",
    "xes/advxafs_Figure_2A_S1_XES_Mn3O4.dat",
    "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat",
    "xes/advxafs_Figure_2B_S2_XES_1h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_4h_milled.dat",
]
LAMNO3 = FILES[2]
OPTIONS = XesOptions(element="Mn")


@pytest.fixture(scope="module")
def eager(data_dir):
    return {name: spectro.xes.analyze(spectro.read(data_dir / name), OPTIONS) for name in FILES}


@pytest.fixture(scope="module")
def stacked(data_dir):
    """The files on one union grid: scans of different ranges in one Dataset (NaN where a scan has no point)."""
    return spectro.stack([spectro.read(data_dir / name) for name in FILES])


@pytest.mark.parametrize("options", [OPTIONS, OPTIONS.replace(fit=True, background="linear", norm="area")])
def test_dask_chunks_give_what_numpy_gives(stacked, options, data_dir):
    pytest.importorskip("dask")
    reference = spectro.read(data_dir / FILES[0])
    want = spectro.xes.analyze(stacked, options, reference=reference)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # lazy results do not warn: the flags say it when computed
        lazy = spectro.xes.analyze(stacked.chunk({"scan": 1}), options, reference=reference)
    assert lazy.kb13_energy.chunks is not None
    xr.testing.assert_identical(lazy.compute(), want)


@pytest.mark.parametrize("name", FILES)
def test_dask_chunks_give_what_numpy_gives_on_each_file(data_dir, eager, name):
    pytest.importorskip("dask")
    lazy = spectro.xes.analyze(spectro.read(data_dir / name).chunk({"scan": 1}), OPTIONS)
    xr.testing.assert_identical(lazy.compute(), eager[name])


def test_a_scans_results_do_not_depend_on_the_other_scans(stacked):
    options = OPTIONS.replace(fit=True)
    reference = stacked.isel(scan=[0])
    together = spectro.xes.analyze(stacked, options, reference=reference)
    n = stacked.sizes["scan"]
    for rows in ([i] for i in range(n)):
        part = spectro.xes.analyze(stacked.isel(scan=rows), options, reference=reference)
        for var in together.data_vars:
            np.testing.assert_array_equal(part[var].values, together[var].values[rows], err_msg=f"{rows} {var}")
    pair = [n - 1, 1]
    part = spectro.xes.analyze(stacked.isel(scan=pair), options, reference=reference)
    for var in together.data_vars:
        np.testing.assert_array_equal(part[var].values, together[var].values[pair], err_msg=var)


@pytest.mark.parametrize("options", [OPTIONS, OPTIONS.replace(fit=True, kb_prime=(-20.0, -10.0))])
def test_the_batch_gives_each_input_what_analyze_gives_its_dataset(data_dir, options, assert_same_table):
    outcomes = analyze_files([Job(data_dir / f) for f in FILES], AnalysisOptions(xes=options, valence=None))
    for name, outcome in zip(FILES, outcomes):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results = spectro.xes.analyze(spectro.read(data_dir / name), options)
        want = Table.from_dataset(results, results, dim="emission_energy")
        assert_same_table(outcome.results, want)
        assert [str(w) for w in outcome.warnings] == [str(w.message) for w in caught]


def test_batch_command_gives_what_analyze_gives(data_dir, eager, tmp_path, assert_batch_gives):
    files = [str(data_dir / name) for name in FILES]
    assert main(["batch", *files, "-o", str(tmp_path / "out"), "--element", "Mn", "--no-valence",
                 "--no-progress"]) == 0
    assert_batch_gives(tmp_path / "out" / "results.nc", [eager[name] for name in FILES], files)


def test_xes_command_gives_what_analyze_gives(data_dir, eager, capsys):
    files = [str(data_dir / name) for name in FILES]
    assert main(["xes", *files, "--element", "Mn", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for name, path in zip(FILES, files):
        mine = [r for r in doc["scans"] if r["file"] == path]
        want = eager[name]
        assert [r["scan"] for r in mine] == [str(s) for s in want.scan.values]
        for key in set(mine[0]) - {"file", "scan", "element"}:
            got = np.array([np.nan if r[key] is None else r[key] for r in mine], dtype=float)
            np.testing.assert_array_equal(got, want[key].values.astype(float), err_msg=f"{name} {key}")
        assert {r["element"] for r in mine} == {want.attrs["xes_element"]}


def test_results_record_the_options_they_were_made_with(eager):
    for res in eager.values():
        assert res.attrs["xes_options_sha256"] == OPTIONS.digest()
        assert res.attrs["xes_element"] == "Mn" and res.kb_prime.attrs["window_kb_prime_ev"] == [-21.0, -11.0]
        assert list(res.coords) == ["scan", "emission_energy", "pressure", "pressure_err", "temperature", "run",
                                    "sample", "source"]


def test_a_scan_without_its_kb_prime_region_is_flagged_and_named(data_dir):
    """LaMnO3 (sol-gel) was measured from 6480 eV: no Kbeta' region, no valence-to-core region."""
    path = data_dir / LAMNO3
    with pytest.warns(MissingRegionWarning) as record:
        r = spectro.xes.analyze(spectro.read(path), OPTIONS)
    flags = XesFlag(int(r.flags[0]))
    assert flags == XesFlag.KB_PRIME_MISSING | XesFlag.KB25_MISSING | XesFlag.KBPP_MISSING
    assert np.isnan(r.kb_prime[0]) and np.isfinite(r.kb13_m1[0])
    kb_prime = [str(w.message) for w in record if "Kbeta' window" in str(w.message)]
    assert kb_prime == [f"{path}: scans 'XES_LaMnO3_solgel_24mg': the Kbeta' window (-21 to -11 eV around the "
                        "Kbeta1,3 peak) is not covered: kb_prime and kb_prime_ratio are NaN"]
    assert r.flags.attrs["flag_meanings"].split()[2] == "kb_prime_missing"
    assert r.flags.attrs["flag_masks"][2] == int(XesFlag.KB_PRIME_MISSING)
