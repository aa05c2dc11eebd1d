"""NeXus/HDF5 NXxas reader."""

from __future__ import annotations

import re
import warnings

import h5py
import numpy as np
import pytest
import xraydb

import spectro
from spectro.errors import FormatError, FormatWarning, UnitConversionWarning
from spectro.io import sniff_format

GENERIC = "formats/pynxxas_generic.h5"
FE = "formats/pynxxas_Fe_XDIFiles.h5"


def _read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FormatWarning)
        return spectro.read(path, **options)


def _own_points(ds, label):
    row = ds.mu.sel(scan=label).values
    ok = np.isfinite(row)
    return ds.energy.values[ok], row[ok]


def _entries(path):
    with h5py.File(path, "r") as h5:
        return [k for k, v in h5.items() if v.attrs.get("NX_class") == "NXentry"]


@pytest.mark.parametrize("rel", [GENERIC, FE])
def test_sniffed_as_nexus(data_file, rel):
    assert sniff_format(data_file(rel)) == "nexus"


@pytest.mark.parametrize("rel", [GENERIC, FE])
def test_every_entry_is_a_scan_with_its_stored_energies(data_file, rel):
    path = data_file(rel)
    ds = _read(path, signal="intensity")
    names = _entries(path)
    assert ds.scan.values.tolist() == names
    assert ds.energy.attrs["units"] == "eV"
    with h5py.File(path, "r") as h5:
        for name in names:
            assert h5[name]["energy"].attrs["units"] == "eV"
            energy, mu = _own_points(ds, name)
            np.testing.assert_array_equal(energy, h5[name]["energy"][()])
            np.testing.assert_array_equal(mu, h5[name]["intensity"][()])


@pytest.mark.parametrize("rel", [GENERIC, FE])
def test_edges_at_tabulated_k_edge_energies(data_file, rel):
    """Steepest rise within 15 eV of the tabulated K edge: energies really are eV."""
    ds = _read(data_file(rel))
    for name in ds.scan.values:
        element = ds.element.sel(scan=name).item()
        if not element:
            continue
        energy, mu = _own_points(ds, name)
        steepest = energy[np.argmax(np.gradient(mu, energy))]
        assert abs(steepest - xraydb.xray_edge(element, "K").energy) < 15.0, name


def test_generic_ni_entry(data_file):
    ds = _read(data_file(GENERIC), entries="dataset09")
    assert ds.scan.values.tolist() == ["dataset09"]
    assert ds.element.item() == "Ni" and ds.edge.item() == "K"
    assert ds.measurement_mode.item() == "transmission"
    assert ds.instrument.item() == "APS-13-ID-C"
    assert ds.sizes["energy"] == 418


def test_entry_without_element_or_edge_warns_and_reads(data_file):
    with pytest.warns(FormatWarning, match="'dataset08': NXxas entry gives no element and edge"):
        ds = spectro.read(data_file(GENERIC), entries=["dataset08", "dataset09"])
    assert ds.element.values.tolist() == ["", "Ni"]
    assert np.isfinite(ds.mu.sel(scan="dataset08").values).sum() == 203


def test_rawdata_through_channels_reproduces_stored_normalization(data_file):
    """mu from rawdata = ln(i0/itrans); the file's normalized intensity follows from it
    with the pre-edge line and edge step that its process notes record."""
    path = data_file(FE)
    raw = _read(path)
    normalized = _read(path, signal="intensity")
    assert raw.attrs["mu_source"] == "rawdata"
    assert raw.attrs["mu_expression"] == "ln(i0/itrans)"
    assert raw.sample.values.tolist() == ["Fe2O3", "Fe metal foil", "FeO"]
    with h5py.File(path, "r") as h5:
        for name in raw.scan.values:
            notes = h5[name]["process/notes/data"][()].decode()
            step = float(re.search(r"edge_step =\s*(\S+)", notes).group(1))
            a, b = re.search(r"pre_edge =\s*(\S+) \+ (\S+)\*energy", notes).groups()
            energy, mu = _own_points(raw, name)
            _, norm = _own_points(normalized, name)
            expected = (mu - (float(a) + float(b) * energy)) / step
            np.testing.assert_allclose(norm, expected, atol=5e-5)


def _copy_entry(src, dst, name, *, energy_scale=1.0, units="eV"):
    with h5py.File(src, "r") as h5, h5py.File(dst, "w") as out:
        entry = out.create_group(name)
        entry.attrs["NX_class"] = "NXentry"
        entry["definition"] = "NXxas"
        dset = entry.create_dataset("energy", data=h5[name]["energy"][()] * energy_scale)
        if units is not None:
            dset.attrs["units"] = units
        entry["intensity"] = h5[name]["intensity"][()]
        entry["element/symbol"] = "Ni"
        entry["edge/name"] = "K"


def test_kev_energies_converted(data_file, tmp_path):
    src = data_file(GENERIC)
    kev = tmp_path / "kev.h5"
    _copy_entry(src, kev, "dataset09", energy_scale=1e-3, units="keV")
    with pytest.warns(UnitConversionWarning, match="keV"):
        ds = spectro.read(kev)
    reference = _read(src, entries="dataset09")
    np.testing.assert_allclose(ds.energy.values, reference.energy.values, rtol=1e-12)


def test_missing_units_decided_by_magnitude_with_warning(data_file, tmp_path):
    bare = tmp_path / "bare.h5"
    _copy_entry(data_file(GENERIC), bare, "dataset09", energy_scale=1e-3, units=None)
    with (
        pytest.warns(FormatWarning, match="no 'units' attribute; taken as keV"),
        pytest.warns(UnitConversionWarning),
    ):
        ds = spectro.read(bare)
    assert float(ds.energy[0]) == pytest.approx(8133.0)


def test_unknown_units_is_format_error(data_file, tmp_path):
    odd = tmp_path / "odd.h5"
    _copy_entry(data_file(GENERIC), odd, "dataset09", units="J")
    with pytest.raises(FormatError, match="odd.h5: scan 'dataset09': energy units 'J'"):
        spectro.read(odd)


def test_truncated_hdf5_is_format_error(data_file, tmp_path):
    data = data_file(FE).read_bytes()
    broken = tmp_path / "truncated.h5"
    broken.write_bytes(data[: len(data) // 3])
    assert sniff_format(broken) == "nexus"
    with pytest.raises(FormatError, match="truncated.h5"):
        spectro.read(broken)


def test_entry_without_energy_names_the_entry(tmp_path):
    path = tmp_path / "noenergy.h5"
    with h5py.File(path, "w") as h5:
        entry = h5.create_group("sample_a")
        entry.attrs["NX_class"] = "NXentry"
        entry["intensity"] = np.arange(20.0)
    with pytest.raises(FormatError, match="noenergy.h5: scan 'sample_a': NXxas entry has no 'energy'"):
        spectro.read(path)


def test_no_entry_and_unknown_entry(data_file, tmp_path):
    empty = tmp_path / "empty.h5"
    with h5py.File(empty, "w") as h5:
        h5["x"] = np.arange(3.0)
    with pytest.raises(FormatError, match="empty.h5: no NXentry"):
        spectro.read(empty)
    with pytest.raises(FormatError, match=r"no NXentry \['nope'\]"):
        spectro.read(data_file(FE), entries="nope")


def test_damaged_hdf5_gives_only_spectro_errors(data_file, tmp_path):
    """Overwrite 3 kB anywhere: the file reads (damage in unused or numeric bytes)
    or raises a SpectroError naming it, never a bare h5py/OS error."""
    data = data_file(FE).read_bytes()
    path = tmp_path / "damaged.h5"
    n_errors = 0
    for start in range(0, len(data), 1500):
        damaged = bytearray(data)
        damaged[start : start + 3000] = b"\xff" * 3000
        path.write_bytes(bytes(damaged))
        try:
            _read(path)
        except spectro.SpectroError as err:
            assert "damaged.h5" in str(err)
            n_errors += 1
    assert n_errors > 0
