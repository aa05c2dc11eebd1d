"""The Diamond I20 XES reader, on the real files and on broken copies of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spectro
from spectro.errors import ColumnError, DataError, FormatError, FormatWarning
from spectro.io import i20, sniff_format

MN2O3 = "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat"
LAMNO3 = "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat"
XES_FILES = [
    "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat",
    "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat",
    "xes/advxafs_Figure_2A_S1_XES_Mn3O4.dat",
    "xes/advxafs_Figure_2B_S2_XES_1h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_2h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_3h_milled.dat",
    "xes/advxafs_Figure_2B_S2_XES_4h_milled.dat",
]

pytestmark = pytest.mark.realdata


def _table(path: Path) -> np.ndarray:
    """The numeric rows, read independently of the reader (trailing TAB -> empty field)."""
    rows = [line.split("\t")[:-1] for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    return np.array(rows, dtype=float)


@pytest.mark.parametrize("name", XES_FILES)
def test_every_i20_file_is_sniffed_and_read(data_file, name):
    path = data_file(name)
    assert sniff_format(path) == "i20"
    ds = spectro.read(path)
    spectro.validate(ds)
    table = _table(path)
    assert ds.sizes == {"scan": 1, "emission_energy": table.shape[0]}
    np.testing.assert_array_equal(ds.emission_energy.values, table[:, 1])
    np.testing.assert_allclose(ds.intensity.values[0], table[:, 5])
    # counting statistics: sqrt(FF) / I1
    np.testing.assert_allclose(ds.intensity_err.values[0], np.sqrt(table[:, 4]) / table[:, 3])
    assert ds.attrs["signal_column"] == "FF/I1"
    assert ds.attrs["incident_energy_ev"] == pytest.approx(6800.0, abs=0.01)


def test_metadata_and_first_step(data_file):
    ds = spectro.read(data_file(MN2O3))
    assert ds.scan.values.tolist() == ["XES_Mn2O3_1.5mg_long"]
    assert ds.sample.values.tolist() == ["XES_Mn2O3_1.5mg_long"]
    assert ds.attrs["columns"] == ["Energy", "Ef", "XESBragg", "I1", "FF", "FF/I1", "Time"]
    steps = np.diff(ds.emission_energy.values)
    assert steps[0] == pytest.approx(0.31) and np.allclose(steps[1:], 0.30)
    assert ds.source.values[0].endswith("XES_Mn2O3.dat")


def test_lamno3_has_its_own_range(data_file):
    ds = spectro.read(data_file(LAMNO3))
    e = ds.emission_energy.values
    assert (e[0], e.size) == (6480.0, 67)


def test_raw_counts_signal(data_file):
    ds = spectro.read(data_file(MN2O3), signal="FF")
    table = _table(data_file(MN2O3))
    np.testing.assert_array_equal(ds.intensity.values[0], table[:, 4])
    np.testing.assert_allclose(ds.intensity_err.values[0], np.sqrt(table[:, 4]))
    assert ds.intensity.attrs["units"] == "counts"


def test_sigma_column_is_used_when_present(data_file, tmp_path):
    text = data_file(MN2O3).read_text().splitlines()
    out = []
    for line in text:
        if line.startswith("# Energy"):
            line = line + "sigma\t"
        elif line and not line.startswith("#"):
            line = line + "0.5\t"
        out.append(line)
    path = tmp_path / "with_sigma.dat"
    path.write_text("\n".join(out) + "\n")
    ds = spectro.read(path)
    assert np.all(ds.intensity_err.values == 0.5)
    assert ds.attrs["intensity_err_method"] == "column sigma"


def test_missing_column_is_named(data_file):
    with pytest.raises(ColumnError, match="no column 'FF_total'.*Ef"):
        spectro.read(data_file(MN2O3), signal="FF_total")


def test_broken_copies(data_file, tmp_path):
    lines = data_file(MN2O3).read_text().splitlines()
    header = [ln for ln in lines if ln.startswith("#")][:45]
    rows = [ln for ln in lines if ln and not ln.startswith("#")]
    only_header = tmp_path / "header.dat"
    only_header.write_text("\n".join(header) + "\n")
    with pytest.raises(FormatError, match="no data rows") as err:
        spectro.read(only_header)
    assert "header.dat" in str(err.value)
    few = tmp_path / "few.dat"
    few.write_text("\n".join(header + rows[:3]) + "\n")
    with pytest.raises(DataError, match="only 3 data rows"):
        spectro.read(few)
    ragged = tmp_path / "ragged.dat"
    ragged.write_text("\n".join(header + rows[:-1] + ["6800.0\t6500.2\t"]) + "\n")
    with pytest.warns(FormatWarning, match="dropped 1 row"):
        ds = spectro.read(ragged)
    assert ds.sizes["emission_energy"] == len(rows) - 1


def test_sniff_leaves_other_files_alone(data_dir):
    """No XANES or generic column file is taken for an I20 XES scan."""
    others = [p for p in data_dir.rglob("*") if p.is_file() and "xes" not in p.parts]
    assert len(others) > 20
    for path in others:
        head = path.read_bytes()[:4096]
        assert not i20.sniff(path, head), path.name
