"""XDI reader: the specification's bad-file suite, metadata, units."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import spectro
from spectro.errors import (
    FormatError,
    FormatWarning,
    SpectroError,
    UnitConversionWarning,
)
from spectro.io import xdi

BAD_DIR = "formats/xdi_bad"


def bad_table(data_dir):
    """Rows of the upstream table: file, status ('error msg' / 'file read(n)'), description."""
    text = (data_dir / BAD_DIR / "xdispec_BadFiles.txt").read_text()
    rows = []
    for line in text.splitlines():
        m = re.match(
            r"^(bad_\d+\.xdi)\s+(error msg|file read(?:\((\d)\))?)\s+\w\s+(.*)$", line
        )
        if m:
            rows.append((m.group(1), m.group(2), m.group(3), m.group(4).strip()))
    return rows


def test_table_parsed(data_dir):
    rows = bad_table(data_dir)
    assert len(rows) == 36
    assert rows[13][:2] == ("bad_13.xdi", "error msg")


def _cases():
    root = os.environ.get("SPECTRO_DATA_DIR")
    if not root or not (Path(root) / BAD_DIR).is_dir():
        return [
            pytest.param(None, marks=pytest.mark.skip(reason="no SPECTRO_DATA_DIR"))
        ]
    present = []
    for name, status, note, description in bad_table(Path(root)):
        path = Path(root) / BAD_DIR / f"xdispec_{name}"
        if path.is_file():
            present.append(pytest.param((path, status, note, description), id=name))
    return present


# notes 2, 3, 4, 5, 6 of the table describe files read as fully valid; note 1 means a warning
_WARNS = {"1", "2", "3"}


@pytest.mark.parametrize("detect", [False, True], ids=["format=xdi", "detected"])
@pytest.mark.parametrize("case", _cases())
def test_bad_files_behave_as_the_table_says(case, detect):
    """The verdict of the table, whether the format is given or detected (bad_01 has no version line)."""
    path, status, note, description = case
    options = {} if detect else {"format": "xdi"}
    if detect:
        assert spectro.io.sniff_format(path) == "xdi"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if status == "error msg":
            with pytest.raises(SpectroError) as info:
                spectro.read(path, **options)
            assert isinstance(info.value, FormatError)
            assert path.name in str(info.value)
            return
        ds = spectro.read(path, **options)
    spectro.validate(ds)
    format_warnings = [w for w in caught if issubclass(w.category, FormatWarning)]
    if status == "file read":
        assert not format_warnings, [str(w.message) for w in format_warnings]
    elif note in _WARNS:
        assert format_warnings, (
            f"{path.name} ({description}) read without a FormatWarning"
        )


@pytest.mark.parametrize(
    "name, pattern",
    [
        ("bad_01", "no XDI version line"),
        ("bad_13", "3 fields, the table has 4 columns"),
        ("bad_14", "6 fields, the table has 4 columns"),
        ("bad_15", "'nan'"),
        ("bad_16", "'STRING', which is not a number"),
        ("bad_17", "'1.4.9', which is not a number"),
    ],
)
def test_error_messages_say_what_is_wrong(data_file, name, pattern):
    with pytest.raises(FormatError, match=pattern):
        spectro.read(data_file(f"{BAD_DIR}/xdispec_{name}.xdi"), format="xdi")


@pytest.mark.parametrize(
    "name, pattern",
    [
        ("bad_02", "Element.edge is missing"),
        ("bad_03", "Element.symbol is missing"),
        ("bad_04", "'Foo' is not an absorption edge"),
        ("bad_05", "'Foo' is not a chemical element"),
        ("bad_06", "no '#----' line"),
        ("bad_07", "no Column.N fields"),
        ("bad_08", "3 Column.N fields for 4 data columns"),
        ("bad_09", r"Column.N fields \[5\] beyond"),
        ("bad_10", "not consecutive"),
        ("bad_11", "do not start with '#'"),
        ("bad_12", "angle column without Mono.d_spacing"),
    ],
)
def test_warnings_name_the_deviation(data_file, name, pattern):
    with pytest.warns(FormatWarning, match=pattern):
        spectro.read(data_file(f"{BAD_DIR}/xdispec_{name}.xdi"))


def test_bad_00_values(data_file):
    ds = spectro.read(data_file(f"{BAD_DIR}/xdispec_bad_00.xdi"))
    assert ds.attrs["Element.symbol"] == "Cu"
    assert ds.attrs["mode"] == "mu"
    assert float(ds.mu[0, 0]) == -1.3070486
    assert ds.attrs["comments"].startswith("Cu foil Room Temperature")


def test_angle_without_d_spacing_uses_named_crystal(data_file):
    with pytest.warns(UnitConversionWarning):
        ds = spectro.read(data_file(f"{BAD_DIR}/xdispec_bad_12.xdi"))
    d = 5.431020511 / np.sqrt(3.0)
    expected = np.sort(
        spectro.io.units.HC_EV_ANGSTROM / (2 * d * np.sin(np.radians([12.3, 11.6])))
    )
    np.testing.assert_allclose(ds.energy.values[[0, -1]], expected)


def test_temperature_coordinate_in_kelvin(data_file):
    ds = spectro.read(data_file("xanes/ceric_LaNiO3_Ni_80K_111.xdi"))
    assert float(ds.temperature[0]) == 80.0
    assert ds.attrs["Element.symbol"] == "Ni"
    assert "mu_ref" in ds


def test_room_temperature_text_warns_and_leaves_nan(data_file):
    with pytest.warns(FormatWarning, match="Sample.temperature"):
        ds = spectro.read(data_file("xanes/xaslib_Ni_metal_rt_01.xdi"))
    assert np.isnan(ds.temperature[0])


def _xdi(
    tmp_path,
    fields: str,
    columns="# Column.1: energy eV\n# Column.2: i0\n# Column.3: itrans\n",
):
    rows = "".join(f"{8300 + 5 * i} 1000 {400 - i}\n" for i in range(12))
    path = tmp_path / "s.xdi"
    path.write_text(
        "# XDI/1.1 test/1\n"
        + columns
        + "# Element.symbol: Ni\n# Element.edge: K\n"
        + fields
        + "# ///\n# note\n#----\n# energy i0 itrans\n"
        + rows
    )
    return path


@pytest.mark.parametrize(
    "value, kelvin", [("80 K", 80.0), ("25 C", 298.15), ("300", 300.0)]
)
def test_temperature_units(tmp_path, value, kelvin):
    ds = spectro.read(_xdi(tmp_path, f"# Sample.temperature: {value}\n"))
    assert float(ds.temperature[0]) == pytest.approx(kelvin)


@pytest.mark.parametrize(
    "value, gpa", [("12.5 GPa", 12.5), ("35 kbar", 3.5), ("500 MPa", 0.5)]
)
def test_pressure_units(tmp_path, value, gpa):
    ds = spectro.read(_xdi(tmp_path, f"# Sample.pressure: {value}\n"))
    assert float(ds.pressure[0]) == pytest.approx(gpa)


def test_option_overrides_header_coordinate(tmp_path):
    ds = spectro.read(_xdi(tmp_path, "# Sample.pressure: 1 GPa\n"), pressure=20.0)
    assert float(ds.pressure[0]) == 20.0


def test_kev_column_unit(tmp_path):
    rows = "".join(f"{8.300 + 0.005 * i:.3f} 1000 {400 - i}\n" for i in range(12))
    path = tmp_path / "k.xdi"
    path.write_text(
        "# XDI/1.0\n# Column.1: energy keV\n# Column.2: i0\n# Column.3: itrans\n"
        "# Element.symbol: Ni\n# Element.edge: K\n#----\n" + rows
    )
    with pytest.warns(UnitConversionWarning):
        ds = spectro.read(path)
    assert float(ds.energy[0]) == pytest.approx(8300.0)


@pytest.mark.parametrize(
    "line, pattern",
    [
        ("# Scan.start_time:\n", "has no value"),
        ("# Scan start_time\n", "no ':'"),
        ("# Scanstart_time: x\n", r"no '\.'"),
        ("# Scan.start.time: x\n", r"more than one '\.'"),
        ("# 1Scan.start_time: x\n", "starts with a digit"),
    ],
)
def test_malformed_fields_are_errors(tmp_path, line, pattern):
    with pytest.raises(FormatError, match=pattern):
        spectro.read(_xdi(tmp_path, line))


def test_bad_date_time_warns(tmp_path):
    with pytest.warns(FormatWarning, match="ISO 8601"):
        spectro.read(_xdi(tmp_path, "# Scan.start_time: 2001-13-26T22:27:31\n"))


def test_pv_annotations_in_column_labels(data_file):
    ds = spectro.read(data_file("formats/larch_fe_xanes_8ch.xdi"))
    assert ds.attrs["columns"][:3] == ["Energy", "Energy_readback", "CountTime"]
    assert ds.attrs["mu_expression"] == "ln(I0/IT)"


def test_crystal_d_spacing():
    assert xdi.crystal_d_spacing("Si 311") == pytest.approx(5.431020511 / np.sqrt(11))
    assert xdi.crystal_d_spacing("Ge(220)") == pytest.approx(5.6579060 / np.sqrt(8))


def test_the_element_symbols_are_xraydb_s():
    import xraydb

    assert xdi.ELEMENT_SYMBOLS == {xraydb.atomic_symbol(z) for z in range(1, 99)}
