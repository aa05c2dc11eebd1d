"""The emitting element decided from the emission energies, and a given element checked against them."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.cli import main
from spectro.errors import DataError, SpectroWarning
from spectro.simulate import xes
from spectro.xes import ElementMismatchError, element_of

MN_FILES = (
    "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat",
    "xes/advxafs_Figure_2A_S1_XES_Mn3O4.dat",
    "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat",
    "xes/advxafs_Figure_2B_S2_XES_1h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_2h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_3h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_4h_milled.dat",
)


@pytest.mark.parametrize("element", ["Ti", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn"])
@pytest.mark.parametrize("offset", [-6.0, 0.0, 6.0])
def test_element_is_the_one_whose_kbeta13_is_nearest_the_peak(element, offset):
    """Simulated spectra of eight elements, with beamline calibration offsets of +-6 eV."""
    ds = xes(element=element, spin="high", energy_offset=offset, noise=0.01, seed=3)
    assert element_of(ds.emission_energy.values, ds.intensity.values) == element
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = spectro.xes.kbeta(ds)
    assert res.attrs["xes_element"] == element and res.attrs["xes_element_from"] == "data"
    assert res.kb13_energy.values[0] == pytest.approx(float(ds.true_kb13_energy[0]), abs=0.1)


def test_given_element_is_recorded_as_given():
    res = spectro.xes.kbeta(xes(element="Ni", seed=0), element="Ni")
    assert res.attrs["xes_element"] == "Ni" and res.attrs["xes_element_from"] == "option"


def test_given_element_that_the_data_contradict_is_an_error_naming_both():
    ds = xes(element="Ni", n_scans=2, seed=0).assign_attrs(source_file="ni_run7.dat")
    with pytest.raises(ElementMismatchError) as info:
        spectro.xes.analyze(ds, element="Mn")
    text = str(info.value)
    assert "ni_run7.dat" in text and "scan '0'" in text
    assert "element 'Mn' was given, but the data show Ni" in text
    assert isinstance(info.value, spectro.errors.SpectroError)
    with pytest.raises(ElementMismatchError, match="data show Ni"):  # the kernel checks it too
        spectro.xes.analyze_arrays(ds.emission_energy.values, ds.intensity.values, element="Mn")


def test_scans_of_different_elements_are_refused():
    e = np.arange(6400.0, 8400.0, 0.5)
    mn = xes(element="Mn", emission_energy=e, seed=1)
    ni = xes(element="Ni", emission_energy=e, seed=1)
    both = xr.concat([mn, ni.assign_coords(scan=["1"])], dim="scan")
    with pytest.raises(DataError, match=r"different emitting elements \(Mn in scans '0'; Ni in scans '1'\)"):
        spectro.xes.kbeta(both)


def test_dask_backed_data_decide_the_same_element():
    ds = xes(element="Co", n_scans=4, high_spin_fraction=[1.0, 0.7, 0.3, 0.0], noise=0.01, seed=2)
    lazy = spectro.xes.analyze(ds.chunk({"scan": 2}))
    eager = spectro.xes.analyze(ds)
    assert lazy.attrs["xes_element"] == eager.attrs["xes_element"] == "Co"
    xr.testing.assert_identical(lazy.compute(), eager)


def test_reference_of_another_element_is_an_error():
    with pytest.raises(ElementMismatchError, match="data show Mn"):
        spectro.xes.iad(xes(element="Ni", seed=0), xes(element="Mn", seed=0).assign_attrs(source_file="mn.dat"))


@pytest.mark.realdata
@pytest.mark.parametrize("name", MN_FILES)
def test_measured_mn_spectra_without_element_equal_element_mn(data_file, name):
    ds = spectro.read(data_file(name))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning may reach the user ...
        warnings.filterwarnings("ignore", category=SpectroWarning)  # ... the flags' own warnings aside
        auto = spectro.xes.analyze(ds)
        given = spectro.xes.analyze(ds, element="Mn")
    assert auto.attrs["xes_element"] == "Mn" and auto.attrs["xes_element_from"] == "data"
    xr.testing.assert_identical(auto.drop_attrs(), given.drop_attrs())
    assert np.isfinite(auto.kb13_m1.values).all()


@pytest.mark.realdata
def test_cli_without_element_gives_the_metrics_of_element_mn(data_file, capsys):
    files = [str(data_file(n)) for n in MN_FILES]
    assert main(["xes", *files, "--json"]) == 0
    out = capsys.readouterr()
    auto = json.loads(out.out)
    assert "RuntimeWarning" not in out.err
    assert main(["xes", *files, "--element", "Mn", "--json"]) == 0
    given = json.loads(capsys.readouterr().out)
    assert auto["scans"] == given["scans"] and len(auto["scans"]) == len(files)
    assert {s["element"] for s in auto["scans"]} == {"Mn"}
    assert auto["element"] is None and given["element"] == "Mn"


@pytest.mark.realdata
def test_cli_ni_file_with_element_mn_is_a_clear_error(data_file, tmp_path, capsys, i20_file):
    ni = i20_file(tmp_path / "ni_kbeta.dat", data_file(MN_FILES[0]), xes(element="Ni", seed=4))
    assert spectro.read(ni).sizes["scan"] == 1
    assert main(["xes", str(ni), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["scans"][0]["element"] == "Ni"
    assert main(["xes", str(ni), "--element", "Mn", "--json"]) == 1  # an input failed (exit codes: docs/cli.md)
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "ni_kbeta.dat" in err
    assert "element 'Mn' was given, but the data show Ni" in err
