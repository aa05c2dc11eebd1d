"""Writers: read -> write XDI/Athena/NXxas -> read gives the same arrays and metadata; xraylarch reads them too."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.cli import main
from spectro.errors import DataError
from spectro.io.writers import write, write_athena, write_nxxas, write_xdi

REAL = ["xanes/ceric_NiO_111.xdi", "xanes/bmm_Ni-K-NickelFoil.xdi", "xanes/larch_NiO.prj",
        "xanes/xasref_Nifoil_QAS.prj", "formats/pynxxas_Fe_XDIFiles.h5", "formats/larch_APS10BM_2019.dat"]
PER_SCAN = ("pressure", "pressure_err", "temperature", "sample", "run")


def _read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path, **options)


@pytest.fixture(scope="module")
def simulated():
    """Two Ni K scans with their foil, on different grids, with every per-scan coordinate set."""
    one = spectro.simulate.xanes(seed=11, reference=True, energy_offset=0.7)
    two = spectro.simulate.xanes(seed=12, reference=True, energy=np.arange(8250.0, 8650.0, 0.35))
    ds = xr.concat([one, two.assign_coords(scan=["sim0001"])], dim="scan", join="outer")
    ds = spectro.model.Spectra.from_dataset(ds).to_dataset()
    return ds.assign_coords(
        pressure=("scan", [1.25, 7.5], ds.pressure.attrs),
        pressure_err=("scan", [0.05, 0.2], ds.pressure_err.attrs),
        temperature=("scan", [80.0, 295.5], ds.temperature.attrs),
        sample=("scan", ["NiO in a DAC", "NiO in a DAC"], ds.sample.attrs),
        run=("scan", ["compression 1", "compression 1"], ds.run.attrs),
    )


def _assert_same_spectra(back, ds, *, coords=PER_SCAN):
    assert back.scan.values.tolist() == ds.scan.values.tolist()
    np.testing.assert_array_equal(back.energy.values, ds.energy.values)
    for name in ("mu", "mu_ref"):
        assert (name in back) == (name in ds), name
        if name in ds:
            np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
    for name in coords:
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)


def _normalization(ds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.xanes.normalize(ds)


def _xdi_files(ds, folder):
    return write(ds, folder / "out.xdi", to="xdi")


def _merged(paths):
    return xr.concat([_read(p) for p in paths], dim="scan", join="outer")


def test_xdi_round_trip_of_every_scan_and_its_coordinates(simulated, tmp_path):
    paths = _xdi_files(simulated, tmp_path)
    assert [p.name for p in paths] == ["out_sim0000.xdi", "out_sim0001.xdi"]
    back = spectro.model.Spectra.from_dataset(_merged(paths)).to_dataset()
    _assert_same_spectra(back, simulated)
    text = paths[0].read_text()
    for line in ("# XDI/1.0 spectro/", "# Column.1: energy eV", "# Column.2: mutrans", "# Column.3: murefer",
                 "# Element.symbol: Ni", "# Element.edge: K", "# Sample.pressure: 1.25 GPa",
                 "# Sample.temperature: 80.0 K", "# Spectro.pressure_err: 0.05 GPa", "# Spectro.run: compression 1"):
        assert line in text, line


@pytest.mark.realdata
@pytest.mark.parametrize("rel", REAL)
def test_real_files_round_trip_through_every_format(data_file, tmp_path, rel):
    ds = _read(data_file(rel))
    for to, name in (("athena", "out.prj"), ("nxxas", "out.h5")):
        back = _read(write(ds, tmp_path / name, to=to, normalization=_normalization(ds))[0])
        _assert_same_spectra(back, ds, coords=("temperature", "pressure", "sample") if to == "nxxas" else ())
    back = spectro.model.Spectra.from_dataset(_merged(_xdi_files(ds, tmp_path / "xdi"))).to_dataset()
    _assert_same_spectra(back, ds, coords=PER_SCAN)


def test_athena_round_trip_keeps_labels_pairs_and_normalization_parameters(simulated, tmp_path):
    norm = spectro.xanes.normalize(simulated)
    back = _read(write_athena(simulated, tmp_path / "sim.prj", normalization=norm))
    _assert_same_spectra(back, simulated, coords=())
    np.testing.assert_array_equal(back.athena_e0.values, norm.e0_anchor.values)
    np.testing.assert_array_equal(back.athena_step.values, norm.edge_step.values)
    for ours, theirs in (("athena_pre1", "pre1"), ("athena_pre2", "pre2"), ("athena_nor1", "norm1"),
                         ("athena_nor2", "norm2")):
        np.testing.assert_array_equal(back[ours].values, norm[theirs].values)
    assert back.athena_nnorm.values.tolist() == (norm.nnorm.values + 1).tolist()  # Athena counts terms
    assert back.athena_element.values.tolist() == ["Ni", "Ni"]
    assert back.athena_pair.values.tolist() == ["Ref sim0000", "Ref sim0001"]
    pairs = _read(tmp_path / "sim.prj", reference_groups="scans")
    assert pairs.scan.values.tolist() == ["sim0000", "Ref sim0000", "sim0001", "Ref sim0001"]
    bare = _read(write_athena(simulated, tmp_path / "bare.prj"))  # no normalization given: Athena finds its own
    _assert_same_spectra(bare, simulated, coords=())
    assert np.isnan(bare.athena_e0.values).all() and np.isnan(bare.athena_step.values).all()
    with pytest.raises(DataError, match="2 normalizations for 1 Datasets"):
        write_athena(simulated, tmp_path / "x.prj", normalization=[norm, norm])


@pytest.mark.realdata
def test_an_athena_project_keeps_its_own_parameters(data_file, tmp_path):
    ds = _read(data_file("xanes/larch_NiO.prj"))
    back = _read(write_athena(ds, tmp_path / "again.prj"))
    for name in ("athena_e0", "athena_pre1", "athena_pre2", "athena_nor1", "athena_nor2", "athena_nnorm",
                 "athena_step", "athena_element", "athena_flatten", "athena_pair"):
        np.testing.assert_array_equal(back[name].values, ds[name].values, err_msg=name)
    # the shifts are applied to the energies written: the stored shift is now 0, the energies the same
    assert ds.scan_energy_shift.values.max() > 1.0 and back.scan_energy_shift.values.tolist() == [0.0] * 12


def test_nxxas_round_trip_with_element_mode_and_sample(simulated, tmp_path):
    back = _read(write_nxxas(simulated, tmp_path / "sim.h5"))
    _assert_same_spectra(back, simulated, coords=("pressure", "temperature", "sample"))
    assert back.element.values.tolist() == ["Ni", "Ni"] and back.edge.values.tolist() == ["K", "K"]
    assert back.measurement_mode.values.tolist() == ["transmission", "transmission"]
    assert back.nexus_entry.values.tolist() == ["sim0000", "sim0001"]


def test_normalized_spectra_are_written_as_normalized(tmp_path):
    raw = spectro.simulate.xanes(seed=5, reference=True)
    ds = raw.copy(data={"mu": spectro.xanes.normalize(raw).norm.values, "mu_ref": raw.mu_ref.values})
    ds = ds.assign_attrs(normalized=1)
    for to, name in (("xdi", "n.xdi"), ("athena", "n.prj"), ("nxxas", "n.h5")):
        back = _read(write(ds, tmp_path / name, to=to)[0])
        assert back.attrs["normalized"] == 1, to
        np.testing.assert_array_equal(back.mu.values, ds.mu.values)
        assert spectro.xanes.analyze(back).edge_step.values.tolist() == [1.0], to
    assert "# Column.2: normtrans" in (tmp_path / "n.xdi").read_text()


def test_without_an_element_the_edge_is_that_of_the_steepest_rise(tmp_path):
    e = np.arange(8800.0, 9200.0, 0.5)
    path = tmp_path / "cu.dat"
    np.savetxt(path, np.c_[e, 1 + np.tanh((e - 8981) / 3)], header="energy mu")
    text = write_xdi(_read(path), tmp_path / "cu.xdi").read_text()
    assert "# Element.symbol: Cu" in text and "# Element.edge: K" in text


def test_what_cannot_be_written_is_refused(simulated, tmp_path):
    with pytest.raises(DataError, match="2 scans, and an XDI file holds one"):
        write_xdi(simulated, tmp_path / "x.xdi")
    with pytest.raises(DataError, match=r"no scan 'nope'; scans are \['sim0000', 'sim0001'\]"):
        write_xdi(simulated, tmp_path / "x.xdi", scan="nope")
    with pytest.raises(DataError, match="only XANES Datasets"):
        write_nxxas(spectro.simulate.xes(seed=0), tmp_path / "x.h5")


@pytest.mark.larch
def test_xraylarch_reads_the_xdi_files_to_the_same_arrays(larch, simulated, tmp_path):
    from larch.io import read_xdi

    for path, label in zip(_xdi_files(simulated, tmp_path), simulated.scan.values):
        group = read_xdi(str(path))
        one = simulated.sel(scan=label)
        keep = np.isfinite(one.mu.values)
        assert group.array_labels == ["energy", "mutrans", "murefer"]
        np.testing.assert_array_equal(group.energy, one.energy.values[keep])
        np.testing.assert_array_equal(group.mutrans, one.mu.values[keep])
        np.testing.assert_array_equal(group.murefer, one.mu_ref.values[keep])
        assert (group.attrs["element"]["symbol"], group.attrs["element"]["edge"]) == ("Ni", "K")


@pytest.mark.larch
def test_xraylarch_reads_the_athena_project_to_the_same_arrays_and_parameters(larch, simulated, tmp_path):
    from larch.io import read_athena
    from larch.xafs import pre_edge

    norm = spectro.xanes.normalize(simulated)
    path = write_athena(simulated, tmp_path / "sim.prj", normalization=norm)
    project = read_athena(str(path), do_preedge=False)
    assert sorted(g.label for g in project.groups.values()) == ["  Ref sim0000", "  Ref sim0001",
                                                                  "sim0000", "sim0001"]
    for group in project.groups.values():
        label = group.label.replace("  Ref ", "")
        one = simulated.sel(scan=label)
        keep = np.isfinite(one.mu.values)
        np.testing.assert_array_equal(group.energy, one.energy.values[keep])
        signal = one.mu_ref if group.label.startswith("  Ref") else one.mu
        np.testing.assert_array_equal(group.mu, signal.values[keep])
        if group.label != label:
            continue
        bkg = group.athena_params.bkg
        assert bkg.e0 == float(norm.e0_anchor.sel(scan=label)) and bkg.z == "Ni"
        # larch's pre_edge with the parameters written (Athena's nnorm counts terms: degree + 1)
        pre_edge(group, e0=bkg.e0, pre1=bkg.pre1, pre2=bkg.pre2, norm1=bkg.nor1, norm2=bkg.nor2,
                 nnorm=bkg.nnorm - 1)
        assert group.edge_step == pytest.approx(float(norm.edge_step.sel(scan=label)), rel=1e-4)
        assert bkg.step == float(norm.edge_step.sel(scan=label))


def test_convert_command(simulated, tmp_path, capsys):
    sources = tmp_path / "in"
    sources.mkdir()
    paths = [write_xdi(simulated, sources / f"{label}.xdi", scan=label) for label in simulated.scan.values]
    (sources / "broken.dat").write_text("# nothing here\n")
    out = tmp_path / "out"
    assert main(["convert", str(sources), "-o", str(out), "--to", "nxxas"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().startswith("error: ") and "broken.dat" in captured.err
    assert sorted(p.name for p in out.iterdir()) == ["sim0000.h5", "sim0001.h5"]
    assert main(["convert", *map(str, paths), "-o", str(out / "all.prj"), "--to", "athena"]) == 0
    assert "2 files -> " in capsys.readouterr().out
    back = _read(out / "all.prj")
    _assert_same_spectra(spectro.model.Spectra.from_dataset(back).to_dataset(), simulated, coords=())
    assert main(["convert", str(paths[0]), "-o", str(out / "one.xdi"), "--to", "xdi", "--energy", "energy"]) == 0
    np.testing.assert_array_equal(_read(out / "one.xdi").mu.values[0],
                                  simulated.mu.values[0][np.isfinite(simulated.mu.values[0])])
