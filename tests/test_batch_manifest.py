"""Batch inputs (files, folders, globs, manifests) and atomic outputs."""

from __future__ import annotations

import math
import os
import stat

import numpy as np
import pytest
import xarray as xr

from spectro.batch import expand_inputs, parse_references, read_manifest
from spectro.batch.outputs import atomic_path, write_bytes, write_csv, write_csv_columns, write_json, write_netcdf
from spectro.batch.provenance import file_sha256, parameters_hash, record_key
from spectro.errors import FormatError, MissingFileError, OptionError


@pytest.fixture
def folder(tmp_path):
    for name in ("b.xdi", "a.xdi", "sub/c.xdi", ".hidden/d.xdi", "notes.txt"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    return tmp_path


def test_folder_glob_and_file_inputs_are_expanded_in_order_without_duplicates(folder, monkeypatch):
    monkeypatch.chdir(folder)
    jobs = expand_inputs(["*.xdi", "a.xdi", folder / "sub"])
    assert [j.path.relative_to(folder).as_posix() for j in jobs] == ["a.xdi", "b.xdi", "sub/c.xdi"]
    assert all(j.path.is_absolute() for j in jobs)
    everything = expand_inputs([folder])
    assert {j.path.name for j in everything} == {"a.xdi", "b.xdi", "c.xdi", "notes.txt"}
    recursive = expand_inputs([str(folder / "**" / "*.xdi")])
    assert {j.path.name for j in recursive} == {"a.xdi", "b.xdi", "c.xdi"}


def test_missing_input_is_an_error(folder):
    with pytest.raises(MissingFileError, match="no file matches"):
        expand_inputs([folder / "nothing*.xdi"])


def test_manifest_columns(folder):
    manifest = folder / "m.csv"
    manifest.write_text(
        "file,pressure,temperature,run,sample,kind,references\n"
        "a.xdi,1.5,300,A,La3Ni2O7,xanes,NiO=2;b.xdi=3\n"
        "sub/*.xdi,,,B,,,\n"
    )
    a, c = read_manifest(manifest)
    assert (a.pressure, a.temperature, a.run, a.sample, a.kind) == (1.5, 300.0, "A", "La3Ni2O7", "xanes")
    assert a.references == (("NiO", 2.0), (str(folder / "b.xdi"), 3.0))
    assert c.path == folder / "sub" / "c.xdi" and math.isnan(c.pressure) and c.kind is None
    default = expand_inputs([manifest], references=(("LaNiO3", 3),))
    assert default[0].references == a.references and default[1].references == (("LaNiO3", 3.0),)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a.xdi,abc,,", "row 2: pressure 'abc' is not a number"),
        ("a.xdi,,xas,", "row 2: kind 'xas' must be"),
        ("a.xdi,,,NiO", "reference 'NiO' must be NAME=VALENCE"),
    ],
)
def test_manifest_errors_name_the_row(folder, row, message):
    manifest = folder / "m.csv"
    manifest.write_text("file,pressure,kind,references\n" + row + "\n")
    with pytest.raises(FormatError, match=message) as info:
        read_manifest(manifest)
    assert info.value.file == str(manifest)


def test_manifest_unknown_column_and_missing_file(folder):
    (folder / "m.csv").write_text("file,presure\na.xdi,1\n")
    with pytest.raises(FormatError, match="unknown manifest column"):
        read_manifest(folder / "m.csv")
    (folder / "m.csv").write_text("file\nzzz.xdi\n")
    with pytest.raises(MissingFileError, match="row 2"):
        read_manifest(folder / "m.csv")


def test_manifest_series_columns(folder):
    (folder / "m.csv").write_text(
        "file,ruby_wavelength,ruby_wavelength_err,pressure_err,compound,path\n"
        "a.xdi,694.6,0.02,0.1,NiO,compression\n"
        "b.xdi,,,,,\n"
    )
    a, b = read_manifest(folder / "m.csv")
    assert (a.ruby_wavelength, a.ruby_wavelength_err, a.pressure_err) == (694.6, 0.02, 0.1)
    assert (a.compound, a.path_label, a.row) == ("NiO", "compression", 2)
    assert math.isnan(a.pressure) and math.isnan(b.ruby_wavelength) and (b.compound, b.path_label) == ("", "")
    assert b.row == 3 and "ruby_wavelength" not in a.metadata()


def test_manifest_without_file_column_or_missing(folder):
    (folder / "m.csv").write_text("pressure\n1\n")
    with pytest.raises(FormatError, match="no 'file' column"):
        read_manifest(folder / "m.csv")
    with pytest.raises(MissingFileError, match="manifest not found"):
        read_manifest(folder / "absent.csv")


def test_parse_references():
    assert parse_references(" NiO = 2 ;LaNiO3=3.0;") == (("NiO", 2.0), ("LaNiO3", 3.0))
    with pytest.raises(FormatError):
        parse_references("NiO=two")


def test_atomic_path_leaves_target_untouched_on_error(tmp_path):
    target = tmp_path / "results.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_outputs_get_the_permissions_of_the_users_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        written = [
            write_csv(tmp_path / "t.csv", [{"x": 1.0}], columns=["x"]),
            write_csv_columns(tmp_path / "c.csv", {"x": np.arange(3.0)}),
            write_netcdf(tmp_path / "r.nc", xr.Dataset({"x": ("s", [1.0])})),
            write_json(tmp_path / "m.json", {"x": 1}),
            write_bytes(tmp_path / "report.md", b"# report"),
        ]
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("as any file of the user")
    finally:
        os.umask(previous)
    expected = 0o666 & ~umask
    assert stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode) == expected
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: expected for p in written}


def test_csv_and_netcdf_round_trip_exactly(tmp_path):
    values = [0.1, 1 / 3, 8333.123456789012]
    write_csv(tmp_path / "t.csv", [{"x": v} for v in values], columns=["x"])
    assert [float(line) for line in (tmp_path / "t.csv").read_text().split()[1:]] == values
    ds = xr.Dataset({"x": ("s", values)}, attrs={"flag": True, "nothing": None, "meta": {"a": 1}})
    back = xr.open_dataset(write_netcdf(tmp_path / "t.nc", ds), engine="h5netcdf")
    assert back.x.values.tolist() == values
    assert (back.attrs["flag"], back.attrs["nothing"], back.attrs["meta"]) == (1, "", '{"a": 1}')


def test_columns_are_written_as_the_rows_would_be(tmp_path):
    columns = {
        "x": np.array([0.1, np.nan, np.inf, -np.inf, 1 / 3]),
        "n": np.arange(5, dtype=np.int64),
        "label": np.array(["a", 'quote "b"', "c,d", "", "e\nf"]),
        "ok": np.array([True, False, True, True, False]),
        "mixed": np.array([1.5, "s", None, np.float32(2), 3], dtype=object),
    }
    rows = [{k: v[i] for k, v in columns.items()} for i in range(5)]
    by_rows = write_csv(tmp_path / "rows.csv", rows, columns=list(columns)).read_bytes()
    assert write_csv_columns(tmp_path / "columns.csv", columns).read_bytes() == by_rows
    assert b"\ninf,2," in by_rows and b"\n-inf,3,," in by_rows and b"\n,1," in by_rows


def test_keys_change_with_content_and_parameters(tmp_path):
    path = tmp_path / "a.xdi"
    path.write_text("1")
    key = record_key(path, file_sha256(path), parameters_hash({"x": 1}))
    path.write_text("2")
    assert record_key(path, file_sha256(path), parameters_hash({"x": 1})) != key
    assert parameters_hash({"x": 1, "y": [1, 2]}) == parameters_hash({"y": [1, 2], "x": 1})


def test_in_memory_outputs_are_written_without_the_cluster_wide_lock(tmp_path, monkeypatch):
    """xarray takes a dask.distributed lock per write when a client is active; in-memory data needs none."""
    dask = pytest.importorskip("dask")
    seen = []
    write = xr.Dataset.to_netcdf

    def spy(self, *args, **kwargs):
        seen.append(dask.config.get("scheduler", None))
        return write(self, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", spy)
    ds = xr.Dataset({"x": ("s", [1.0, 2.0])})
    write_netcdf(tmp_path / "a.nc", ds)
    write_netcdf(tmp_path / "b.nc", ds.chunk())
    assert seen == ["synchronous", None]
    assert xr.open_dataset(tmp_path / "b.nc", engine="h5netcdf").x.values.tolist() == [1.0, 2.0]


def test_manifest_reading_columns_become_the_rows_read_options(folder):
    manifest = folder / "m.csv"
    manifest.write_text(
        "file,mu,mode,reference,energy_units\n"
        "a.xdi,xmu,mu,no,\n"
        "b.xdi,,,,keV\n"
    )
    a, b = read_manifest(manifest)
    assert a.read == (("mode", "mu"), ("mu", "xmu"), ("reference", "no"))  # in the order of ReadOptions
    assert b.read == (("energy_units", "keV"),)


@pytest.mark.parametrize(
    ("cell", "column", "allowed"),
    [
        ("transmision", "mode", "one of 'transmission', 'fluorescence', 'mu' (or none)"),
        ("maybe", "reference", "yes or no"),
        ("-3", "d_spacing", "a positive number or none"),
    ],
)
def test_bad_reading_cell_is_an_option_error_naming_manifest_row_and_column(folder, cell, column, allowed):
    manifest = folder / "m.csv"
    manifest.write_text(f"file,{column}\na.xdi,\nb.xdi,{cell}\n")
    with pytest.raises(OptionError) as info:
        read_manifest(manifest)
    assert str(info.value) == f"{manifest}: row 3: column {column!r} = {cell!r} is not allowed: {allowed}"
    assert (info.value.option, info.value.row, info.value.door) == (column, 3, "manifest")


def test_reference_rows_are_the_anchors_of_the_rows_without_references(folder):
    manifest = folder / "m.csv"
    manifest.write_text(
        "file,valence,references\n"
        "a.xdi,2,\n"
        "b.xdi,3,\n"
        "sub/c.xdi,,\n"
        "notes.txt,,NiO=2;LaNiO3=3\n"
    )
    a, b, c, notes = read_manifest(manifest)
    anchors = ((str(folder / "a.xdi"), 2.0), (str(folder / "b.xdi"), 3.0))
    assert (a.valence, b.valence) == (2.0, 3.0) and math.isnan(c.valence)
    assert a.references == b.references == c.references == anchors
    assert notes.references == (("NiO", 2.0), ("LaNiO3", 3.0))
    manifest.write_text("file,valence\na.xdi,two\n")
    with pytest.raises(FormatError, match="row 2: valence 'two' is not a number"):
        read_manifest(manifest)
