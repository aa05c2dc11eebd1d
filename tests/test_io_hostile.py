"""Hostile and broken input: each case fails fast with a SpectroError, or is read right and says what it did.

Resource cases that would exhaust memory run in a subprocess under an
address-space limit (``RLIMIT_AS``), so a regression shows as a failure,
not as a machine that swaps.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import spectro
from spectro.errors import (
    DataError,
    FormatError,
    FormatWarning,
    LimitError,
    MissingFileError,
    SpectroError,
)

ATHENA_HEAD = "# Athena project file -- Demeter version 0.9.26\n"
E = np.linspace(8200.0, 8600.0, 201)
MU = 1.0 + np.tanh((E - 8345.0) / 5.0)

#: Address space of a subprocess that reads a hostile file: Python with its libraries takes about 0.6 GB.
MEMORY_LIMIT = 2_500_000_000

READ_LIMITED = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
import spectro
from spectro.errors import SpectroError
try:
    spectro.read(sys.argv[1])
    print("read")
except SpectroError as err:
    print(type(err).__name__ + ": " + str(err))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _read_limited(path: Path) -> tuple[str, int]:
    """Read ``path`` in a subprocess under MEMORY_LIMIT: the outcome line and the peak memory in bytes."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", READ_LIMITED, str(path), str(MEMORY_LIMIT)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome, peak = done.stdout.strip().splitlines()[-2:]
    return outcome, int(peak)


def _quiet_read(path, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = spectro.read(path, **options)
    return ds, [str(w.message) for w in caught]


def _columns(path: Path, rows: list[str], header: str = "# energy mu\n") -> Path:
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def _rows(energy=E, mu=MU) -> list[str]:
    return [f"{e:.2f} {m:.6f}" for e, m in zip(energy, mu)]


# --- resources -------------------------------------------------------------------------


def test_an_hdf5_dataset_declaring_1e12_values_fails_fast_with_bounded_memory(tmp_path):
    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as h5:
        entry = h5.create_group("scan")
        entry.attrs["NX_class"] = "NXentry"
        entry["definition"] = "NXxas"
        entry.create_dataset("energy", shape=(10**12,), dtype="f8")  # never written: the file stays small
        entry["intensity"] = MU
    assert path.stat().st_size < 100_000
    outcome, peak = _read_limited(path)
    assert outcome.startswith("LimitError") and "/scan/energy declares 1000000000000 values" in outcome
    assert peak < MEMORY_LIMIT


def test_a_bliss_counter_declaring_1e12_values_is_refused(tmp_path):
    path = tmp_path / "bliss.h5"
    with h5py.File(path, "w") as h5:
        h5["1.1/measurement/energy"] = E
        h5["1.1/measurement/I0"] = np.full(E.size, 1e5)
        h5["1.1/measurement/I1"] = 1e5 * np.exp(-MU)
        h5["1.1/measurement"].create_dataset("huge", shape=(10**12,), dtype="f4")
    with pytest.raises(SpectroError, match="huge declares 1000000000000 values"):
        spectro.read(path)


def test_a_gzip_bomb_fails_fast_with_bounded_memory(tmp_path):
    """300 MB of text in 0.3 MB of gzip: refused when the decompressed text passes the limit."""
    path = tmp_path / "bomb.prj"
    member = gzip.compress(b" " * 10_000_000, compresslevel=9, mtime=0)  # gzip members follow one another
    path.write_bytes(gzip.compress(ATHENA_HEAD.encode(), mtime=0) + member * 30)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(LimitError, match="expands to more than 50 MB"):
        spectro.read(path, max_file_mb=50)
    outcome, peak = _read_limited(path)  # the default limit: 1/16 of the memory the process may still take
    assert outcome.startswith("LimitError") and "expands to more than" in outcome
    assert peak < MEMORY_LIMIT


def test_an_athena_project_of_a_million_items_is_read_in_bounded_memory(tmp_path):
    path = tmp_path / "items.prj"
    text = (ATHENA_HEAD + "$old_group = 'abcde';\n@args = ('label','a');\n@x = (" + "1," * 1_000_000
            + ");\n@y = (1);\n[record]\n1;\n")
    path.write_bytes(gzip.compress(text.encode()))
    outcome, peak = _read_limited(path)
    assert outcome.startswith("FormatError") and "x has 1000000 points but y has 1" in outcome
    assert peak < MEMORY_LIMIT
    with pytest.raises(LimitError, match="the project's lists hold about 1000002 values"):
        spectro.read(path, max_array_mb=1)


def test_a_large_sparse_file_behind_an_xdi_header_is_not_read(tmp_path):
    path = tmp_path / "sparse.xdi"
    with path.open("wb") as fh:
        fh.write(b"# XDI/1.0\n# Column.1: energy eV\n# Column.2: mutrans\n#----\n")
        fh.truncate(3 << 30)  # 3 GB, nothing written
    with pytest.raises(LimitError, match="more than 1 MB of data"):
        spectro.read(path, max_file_mb=1)
    outcome, peak = _read_limited(path)
    assert outcome.startswith("LimitError") and "max_file_mb" in outcome and peak < MEMORY_LIMIT


def test_hdf5_files_are_bounded_by_their_datasets_not_their_size(tmp_path):
    path = tmp_path / "images.h5"
    with h5py.File(path, "w") as h5:
        _nxxas(h5)
        h5["detector_frames"] = np.zeros((4, 500, 500))  # 8 MB the reader never reads
    ds, _ = _quiet_read(path, max_file_mb=1)
    np.testing.assert_array_equal(ds.mu.values[0], MU)
    with pytest.raises(LimitError, match="/scan/energy declares 201 values"):
        spectro.read(path, max_array_mb=0.001)


def test_a_long_label_line_is_refused_and_splitting_it_finishes(tmp_path):
    path = tmp_path / "labels.dat"
    _columns(path, _rows(), header="# " + "energy mu " * 100_000 + "\n")
    with pytest.raises(LimitError, match=r"line 1 has 1000002 characters, more than the limit of 100000"):
        spectro.read(path)
    ds, messages = _quiet_read(path, max_line_length=2_000_000)  # split on spaces, fixed widths not tried past 64
    assert ds.attrs["mu_column"] == "mu" and any("labels for 2 columns" in m for m in messages)


def test_numeric_lines_with_long_digit_runs_are_matched_without_backtracking():
    from spectro.io.columns import NUMERIC_LINE

    line = "1" * 200_000 + "x"
    assert NUMERIC_LINE.fullmatch(line) is None  # catastrophic backtracking would take hours here


def test_only_regular_files_are_opened(tmp_path):
    fifo = tmp_path / "fifo.dat"
    os.mkfifo(fifo)
    with pytest.raises(LimitError, match="a FIFO, not a regular file"):
        spectro.read(fifo)
    with pytest.raises(LimitError, match="a FIFO, not a regular file"):
        spectro.io.sniff_format(fifo)
    with pytest.raises(MissingFileError, match="a folder, not a file"):
        spectro.read(tmp_path)
    with pytest.raises(MissingFileError, match="cannot be looked at: File name too long"):
        spectro.read(tmp_path / ("x" * 300 + ".dat"))
    plain = _columns(tmp_path / "plain.dat", _rows())
    with pytest.raises(MissingFileError, match="cannot be looked at: Not a directory"):
        spectro.read(plain / "inside.dat")


# --- HDF5 links ------------------------------------------------------------------------


def _nxxas(h5, name="scan", energy=E, intensity=MU):
    entry = h5.create_group(name)
    entry.attrs["NX_class"] = "NXentry"
    entry["definition"] = "NXxas"
    entry.create_dataset("energy", data=energy).attrs["units"] = "eV"
    entry["intensity"] = intensity
    entry["element/symbol"] = "Ni"
    entry["edge/name"] = "K"
    return entry


def _linked(tmp_path, target):
    """An NXxas file whose intensity is an external link to ``target:/mu``, and the file ``other.h5`` holding mu."""
    with h5py.File(tmp_path / "other.h5", "w") as h5:
        h5["mu"] = MU
    path = tmp_path / "linked.h5"
    with h5py.File(path, "w") as h5:
        entry = _nxxas(h5)
        del entry["intensity"]
        entry["intensity"] = h5py.ExternalLink(target, "/mu")
    return path


@pytest.mark.parametrize("target", ["../elsewhere.h5", "/etc/secret.h5", "other.h5"])
def test_an_external_link_is_refused_by_default_naming_it(tmp_path, target):
    path = _linked(tmp_path, target)
    with pytest.raises(LimitError, match=f"/scan/intensity is an external link to {target}:/mu; refused"):
        spectro.read(path)


def test_an_allowed_external_link_is_followed_and_recorded(tmp_path):
    other = tmp_path / "other.h5"
    path = _linked(tmp_path, "other.h5")
    ds, _ = _quiet_read(path, external_links=True)
    np.testing.assert_array_equal(ds.mu.values[0], MU)
    assert ds.attrs["external_files"] == [str(other)]


def test_an_external_link_to_a_fifo_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "fifo.h5")
    path = tmp_path / "linked.h5"
    with h5py.File(path, "w") as h5:
        entry = _nxxas(h5)
        entry["extra"] = h5py.ExternalLink("fifo.h5", "/x")
    with pytest.raises(LimitError, match="/scan/extra is an external link to fifo.h5:/x; refused"):
        spectro.read(path)
    with pytest.raises(LimitError, match="fifo.h5 is not a regular file; not opened"):
        spectro.read(path, external_links=True)


def test_a_virtual_dataset_is_refused_by_default(tmp_path):
    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as h5:
        h5["mu"] = MU
    layout = h5py.VirtualLayout(shape=MU.shape, dtype="f8")
    layout[:] = h5py.VirtualSource(str(source), "mu", shape=MU.shape)
    path = tmp_path / "virtual.h5"
    with h5py.File(path, "w") as h5:
        entry = _nxxas(h5)
        del entry["intensity"]
        entry.create_virtual_dataset("intensity", layout)
    with pytest.raises(LimitError, match=f"/scan/intensity is a virtual dataset reading {source}"):
        spectro.read(path)
    ds, _ = _quiet_read(path, external_links=True)
    np.testing.assert_array_equal(ds.mu.values[0], MU)
    assert ds.attrs["external_files"] == [str(source)]


def test_a_dataset_stored_in_an_external_raw_file_is_refused(tmp_path):
    raw = tmp_path / "values.bin"
    MU.astype("<f8").tofile(raw)
    path = tmp_path / "external.h5"
    with h5py.File(path, "w") as h5:
        entry = _nxxas(h5)
        del entry["intensity"]
        entry.create_dataset("intensity", shape=MU.shape, dtype="<f8", external=[(str(raw), 0, MU.nbytes)])
    with pytest.raises(LimitError, match="/scan/intensity keeps its values in the external file"):
        spectro.read(path)


# --- Athena projects -------------------------------------------------------------------


def _perl_group(key, label, x, y, extra=""):
    xs = ",".join(f"'{v}'" for v in x)
    ys = ",".join(f"'{v}'" for v in y)
    return (f"$old_group = '{key}';\n@args = ('label','{label}'{extra});\n@x = ({xs});\n@y = ({ys});\n"
            "[record]\n")


def test_athena_nesting_is_limited_in_perl_and_json(tmp_path):
    perl = tmp_path / "deep.prj"
    perl.write_text(ATHENA_HEAD + "$old_group = 'a';\n@x = " + "(" * 1000 + ")" * 1000 + ";\n[record]\n")
    with pytest.raises(LimitError, match="lists nested more than 64 deep"):
        spectro.read(perl)
    js = tmp_path / "deep.json.prj"
    js.write_text('{"_____header1": "' + ATHENA_HEAD.strip() + '", "a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(LimitError, match="nests lists 100001 deep, more than 64"):
        spectro.read(js, format="athena")


@pytest.mark.parametrize("doc, problem", [
    ({"_____order": 5}, "_____order is int, not a list of group names"),
    ({"a": {"args": {"label": "a"}, "x": list(E), "y": list(MU), "i0": 5}}, "array 'i0' is int, not a list"),
    ({"a": {"args": {}, "x": [[8300.0, 1.0]], "y": [1.0]}}, "array 'x' is not a flat list of numbers"),
])
def test_athena_json_of_the_wrong_types_is_a_format_error(tmp_path, doc, problem):
    path = tmp_path / "bad.prj"
    path.write_text(json.dumps({"_____header1": ATHENA_HEAD.strip(), **doc}))
    with pytest.raises(FormatError, match=problem):
        spectro.read(path)


def test_a_perl_comment_ending_in_a_lone_cr_does_not_swallow_the_next_statement(tmp_path):
    groups = "".join(_perl_group(f"g{k:04d}", f"scan {k}", E[::10], MU[::10]) for k in range(3))
    path = tmp_path / "cr.prj"
    path.write_bytes(gzip.compress((ATHENA_HEAD + "# a comment\r" + groups).encode()))
    ds, _ = _quiet_read(path)
    assert ds.scan.values.tolist() == ["scan 0", "scan 1", "scan 2"]


@pytest.mark.parametrize("x, problem", [
    (np.zeros(21), "spans 0 to 0 eV"),                     # energies of 0 eV
    (np.linspace(13.0, 14.0, 21), "spans 13 to 14 eV"),    # a Bragg angle
    (np.linspace(8.2, 8.6, 21), "spans 8.2 to 8.6 eV"),    # keV taken for eV
])
def test_athena_energies_outside_the_x_ray_range_are_refused(tmp_path, x, problem):
    path = tmp_path / "energy.prj"
    path.write_bytes(gzip.compress((ATHENA_HEAD + _perl_group("a", "s", x, MU[::10])).encode()))
    with pytest.raises(DataError, match=problem):
        spectro.read(path)


@pytest.mark.parametrize("n", [1, 2])
def test_athena_spectra_of_one_or_two_points_are_refused(tmp_path, n):
    path = tmp_path / "short.prj"
    path.write_bytes(gzip.compress((ATHENA_HEAD + _perl_group("a", "s", E[:n], MU[:n])).encode()))
    with pytest.raises(DataError, match=f"only {n} point"):
        spectro.read(path)


# --- column files ----------------------------------------------------------------------


def test_a_constant_energy_column_is_refused_not_read_as_one_point(tmp_path):
    path = _columns(tmp_path / "flat.dat", [f"8333.0 {m:.6f}" for m in MU])
    with pytest.raises(DataError, match="only 1 distinct energy point"):
        spectro.read(path)


def test_duplicates_are_merged_before_the_minimum_is_checked(tmp_path):
    rows = [f"{e:.2f} {m:.6f}" for e, m in zip(np.repeat(E[:3], 4), np.repeat(MU[:3], 4))]
    path = _columns(tmp_path / "dups.dat", rows)
    with pytest.raises(DataError, match="only 3 distinct energy point"):
        spectro.read(path)


def test_one_bad_row_in_the_middle_is_an_error_naming_its_line(tmp_path):
    rows = _rows()
    rows[100] = "8400.00 0.5 oops"
    path = _columns(tmp_path / "bad_row.dat", rows)
    with pytest.raises(FormatError, match=r"interrupted at line 102 \('8400.00 0.5 oops'\): 100 row\(s\)"):
        spectro.read(path)


def test_a_repeated_header_line_is_an_error_not_a_lost_pre_edge(tmp_path):
    rows = _rows()
    rows.insert(120, "# energy mu")
    rows.insert(121, "energy mu")
    path = _columns(tmp_path / "repeated.dat", rows)
    with pytest.raises(FormatError, match=r"interrupted at line 122 \('# energy mu'\): 81 row\(s\) .* of the 120 rows"):
        spectro.read(path)


def test_numeric_lines_left_out_are_reported_with_their_line_numbers(tmp_path):
    path = _columns(tmp_path / "extra.dat", _rows() + ["1 2 3", "4 5 6"])
    ds, messages = _quiet_read(path)
    assert ds.sizes["energy"] == E.size
    assert any("ignored 2 numeric line(s) after the table" in m and "(line(s) 203-204)" in m for m in messages)


def test_decimal_commas_are_read_as_decimal_points(tmp_path):
    dotted = _columns(tmp_path / "dot.dat", _rows(), header="# energy\ti0\tit\n")
    commas = tmp_path / "comma.dat"
    commas.write_text("# energy;mu\n" + "\n".join(r.replace(".", ",").replace(" ", ";") for r in _rows()) + "\n")
    ds, messages = _quiet_read(commas)
    np.testing.assert_array_equal(ds.energy.values, np.round(E, 2))
    np.testing.assert_allclose(ds.mu.values[0], np.round(MU, 6), rtol=0, atol=0)
    assert any("decimal commas" in m for m in messages)
    assert dotted.exists()


def test_decimal_commas_are_refused_where_they_cannot_be_told_apart(tmp_path):
    path = tmp_path / "comma.fio"
    rows = "\n".join(f" {e:.1f} {m:.4f} 1,0 2,0".replace(".", ",") for e, m in zip(E, MU))
    path.write_text("!\n%c\n x\n%d\n Col 1 S_0001 FLOAT\n Col 2 S_0001 FLOAT\n Col 3 S_0001_C1 FLOAT\n"
                    " Col 4 S_0001_C2 FLOAT\n" + rows + "\n")
    with pytest.raises(FormatError, match="decimal commas"):
        spectro.read(path)


# --- SPEC ------------------------------------------------------------------------------


def _spec_scan(n, energy):
    return f"#S {n} ascan energy\n#N 3\n#L energy  I0  I1\n" + "".join(
        f"{e:.2f} 100000 {1e5 * np.exp(-m):.3f}\n" for e, m in zip(energy, MU))


def test_spec_files_with_cr_line_endings_are_read_scan_by_scan(tmp_path):
    text = "#F run.spec\n\n" + _spec_scan(1, E) + "\n" + _spec_scan(2, E + 0.5)
    path = tmp_path / "cr.spec"
    path.write_bytes(text.replace("\n", "\r").encode())
    ds, _ = _quiet_read(path)
    assert ds.scan.values.tolist() == ["1 ascan energy", "2 ascan energy"]


def test_spec_rows_interrupted_by_a_bad_line_are_an_error(tmp_path):
    text = _spec_scan(1, E).split("\n")
    text.insert(50, "8300 broken")
    path = tmp_path / "bad.spec"
    path.write_text("#F bad.spec\n" + "\n".join(text))
    with pytest.raises(FormatError, match=r"interrupted by line\(s\) 52"):
        spectro.read(path)


# --- NeXus -----------------------------------------------------------------------------


@pytest.mark.parametrize("intensity, problem", [
    (np.full(E.size, np.nan), "only 0 point"),
    (np.where(np.arange(E.size) % 2, np.inf, MU), "100 of 201 points have non-finite"),
])
def test_nexus_non_finite_intensities_are_refused(tmp_path, intensity, problem):
    path = tmp_path / "nan.h5"
    with h5py.File(path, "w") as h5:
        _nxxas(h5, intensity=intensity)
    with pytest.raises(DataError, match=problem):
        spectro.read(path)


def test_nexus_2d_intensities_are_refused_not_flattened(tmp_path):
    path = tmp_path / "two_d.h5"
    with h5py.File(path, "w") as h5:
        entry = _nxxas(h5, energy=E[:100])
        del entry["intensity"]
        entry["intensity"] = np.vstack([MU[:100], MU[:100]])
    with pytest.raises(FormatError, match=r"has shape \(2, 100\)"):
        spectro.read(path)


def test_nexus_spectra_of_two_points_are_refused(tmp_path):
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as h5:
        _nxxas(h5, energy=E[:2], intensity=MU[:2])
    with pytest.raises(DataError, match="only 2 point"):
        spectro.read(path)


def test_nexus_root_groups_that_are_not_entries_are_reported(tmp_path):
    path = tmp_path / "broken.h5"
    with h5py.File(path, "w") as h5:
        _nxxas(h5)
        broken = _nxxas(h5, "scan2")
        del broken.attrs["NX_class"]
    ds, messages = _quiet_read(path)
    assert ds.scan.values.tolist() == ["scan"]
    assert any("root group(s) ['scan2'] are not NXentry groups" in m for m in messages)


# --- I20 -------------------------------------------------------------------------------


def _i20(path, ef, n=None):
    ef = np.asarray(ef, dtype=float)
    head = ("# DIAMOND LIGHT SOURCE\n# Instrument: I20-XES Date: x\n# command: scan XESEnergy 1 2 0.3\n"
            "# Sample name: s\n#\tEnergy\tEf\tXESBragg\tI1\tFF\tFF/I1\tTime\t\n")
    ff = 1000 + 500 * np.exp(-((ef - ef.mean()) / 3) ** 2) if ef.size else ef
    rows = "".join(f"8900\t{e}\t70.0\t1e6\t{f:.1f}\t{f / 1e6:.6g}\t1.0\t\n" for e, f in zip(ef, ff))
    path.write_text(head + rows)
    return path


@pytest.mark.parametrize("ef, problem", [
    (np.zeros(30), "spans 0 to 0 eV"),
    (np.linspace(70.0, 72.0, 30), "spans 70 to 72 eV"),
    (np.linspace(8.25, 8.28, 30), "spans 8.25 to 8.28 eV"),
    (np.linspace(8250.0, 8251.0, 2), "only 2 data rows"),
])
def test_i20_energies_and_sizes_are_checked(tmp_path, ef, problem):
    with pytest.raises(DataError, match=problem):
        spectro.read(_i20(tmp_path / "xes.dat", ef))


# --- XDI units -------------------------------------------------------------------------


def _xdi(path, **fields):
    head = "# XDI/1.0\n# Column.1: energy eV\n# Column.2: mutrans\n# Element.symbol: Ni\n# Element.edge: K\n"
    head += "".join(f"# {k.replace('_', '.', 1)}: {v}\n" for k, v in fields.items())
    path.write_text(head + "#----\n# energy mutrans\n" + "\n".join(_rows()) + "\n")
    return path


def test_xdi_fahrenheit_is_read_in_kelvin(tmp_path):
    ds, messages = _quiet_read(_xdi(tmp_path / "f.xdi", Sample_temperature="80 F"))
    assert float(ds.temperature[0]) == pytest.approx((80 - 32) * 5 / 9 + 273.15)
    assert not [m for m in messages if "temperature" in m]


@pytest.mark.parametrize("field, value", [("Sample_temperature", "-5 K"), ("Sample_pressure", "-3 GPa"),
                                          ("Sample_temperature", "-300 C")])
def test_xdi_negative_absolute_temperature_or_pressure_is_refused(tmp_path, field, value):
    with pytest.raises(DataError, match="is below zero"):
        spectro.read(_xdi(tmp_path / "neg.xdi", **{field: value}))


@pytest.mark.parametrize("field, value, note", [
    ("Sample_temperature", "80 Kx", "unit 'Kx' is not one of"),
    ("Sample_pressure", "3 GPa!", "unit 'GPa!' is not one of"),
    ("Sample_pressure", "3 furlongs", "unit 'furlongs' is not one of"),
    ("Sample_pressure", "3", "has no unit; taken as GPa"),
])
def test_xdi_unknown_or_malformed_units_are_warned(tmp_path, field, value, note):
    ds, messages = _quiet_read(_xdi(tmp_path / "unit.xdi", **{field: value}))
    assert any(note in m for m in messages), messages
    name = "temperature" if "temperature" in field else "pressure"
    assert np.isnan(ds[name].values[0]) == ("no unit" not in note)


def test_xdi_facility_fields_with_units_outside_the_dictionary_are_warned(tmp_path):
    ds, messages = _quiet_read(_xdi(tmp_path / "ring.xdi", Facility_energy="7.00 GeVolts",
                                    Facility_current="100 mA"))
    assert any("Facility.energy '7.00 GeVolts': unit 'GeVolts' is not one of gev, mev" in m for m in messages)
    assert not any("Facility.current" in m for m in messages)
