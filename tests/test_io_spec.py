"""SPEC reader: several scans, #L and #C labels, union grids."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import (
    ColumnError,
    FormatError,
    FormatWarning,
    UnitConversionWarning,
)
from spectro.io import spec


def scan_text(
    number: int,
    title: str,
    energy: np.ndarray,
    it: np.ndarray,
    label_line: str = "#L energy  I0  I1",
) -> str:
    rows = "".join(f"{e:.3f} 100000 {t:.3f}\n" for e, t in zip(energy, it))
    return f"#S {number} {title}\n#D today\n#N 3\n{label_line}\n{rows}\n"


@pytest.fixture
def two_scans(tmp_path):
    e1 = np.arange(8300.0, 8350.0, 2.0)
    e2 = np.arange(8301.0, 8361.0, 2.0)
    path = tmp_path / "run.spec"
    path.write_text(
        "#F run.spec\n#E 1\n#O0 mono  theta\n\n"
        + scan_text(1, "ascan energy 8300 8350", e1, 50000 - e1 + 8300)
        + "#C aborted here\n@A 1 2 3\n"
        + scan_text(2, "ascan energy 8301 8360", e2, 40000 - e2 + 8300)
    )
    return path, e1, e2


def test_sniff_prefers_spec(two_scans):
    assert spectro.io.sniff_format(two_scans[0]) == "spec"


def test_scans_labelled_by_number_and_title(two_scans):
    path = two_scans[0]
    ds = spectro.read(path)
    assert ds.scan.values.tolist() == [
        "1 ascan energy 8300 8350",
        "2 ascan energy 8301 8360",
    ]
    assert ds.attrs["source_format"] == "spec"


def test_union_grid_with_nan_padding(two_scans):
    path, e1, e2 = two_scans
    ds = spectro.read(path)
    np.testing.assert_allclose(ds.energy, np.union1d(e1, e2))
    first = ds.mu.sel(scan=ds.scan[0])
    assert int(np.isfinite(first).sum()) == e1.size
    np.testing.assert_allclose(
        first.sel(energy=e1), np.log(100000 / (50000 - e1 + 8300)), rtol=1e-9
    )
    assert np.isnan(first.sel(energy=e2[0]))


def test_select_scans(two_scans):
    ds = spectro.read(two_scans[0], scans=[2])
    assert ds.sizes["scan"] == 1
    with pytest.raises(FormatError, match="none of the scans"):
        spectro.read(two_scans[0], scans=[7])


def test_unusable_scan_skipped_with_warning(tmp_path):
    e = np.arange(8300.0, 8340.0, 2.0)
    path = tmp_path / "mixed.spec"
    path.write_text(
        scan_text(1, "ascan", e, 50000 - e + 8300)
        + scan_text(2, "timescan", e, 50000 - e + 8300, label_line="#L clock  a  b")
    )
    with pytest.warns(FormatWarning, match="skipped.*scan '2 timescan'"):
        ds = spectro.read(path)
    assert ds.scan.values.tolist() == ["1 ascan"]


def test_no_usable_scan_raises_first_error(tmp_path):
    e = np.arange(8300.0, 8340.0, 2.0)
    path = tmp_path / "bad.spec"
    path.write_text(scan_text(1, "timescan", e, e, label_line="#L clock  a  b"))
    with pytest.raises(ColumnError, match="scan '1 timescan'"):
        spectro.read(path)


def test_labels_with_single_spaces(tmp_path):
    e = np.arange(8300.0, 8340.0, 2.0)
    rows = "".join(f"{x} 7 100000 {50000 - i}\n" for i, x in enumerate(e))
    path = tmp_path / "c.spec"
    path.write_text("#S 3 ascan\n#N 4\n#L energy  Counter 27  I0  I1\n" + rows)
    _, scans = spec.parse_scans(path.read_text())
    assert scans[0].labels == ["energy", "Counter 27", "I0", "I1"]


def test_labels_on_comment_line_and_kev(data_file):
    path = data_file("formats/larch_APS12BM_2019.dat")
    _, scans = spec.parse_scans(spectro.io.columns.read_text(path))
    assert scans[0].labels[:4] == ["1_Energy (keV)", "2_sec", "3_mononrg", "4_i0"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spectro.read(path, mu="8_mu01")
    assert ds.attrs["energy_units_in"] == "keV"
    assert float(ds.energy[0]) == pytest.approx(6339.0)


def test_esrf_zap_scans_energy_column_and_kev(data_file):
    path = data_file("formats/larch_ESRF_SNBL_2013.dat")
    with pytest.raises(ColumnError):
        spectro.read(path)
    with pytest.warns(UnitConversionWarning, match="ZapEnergy"):
        ds = spectro.read(path, i0="Ion1", itrans="Ion2")
    assert ds.sizes["scan"] == 2
    assert ds.attrs["energy_column"] == "ZapEnergy"
    # '#S 1  zapline mono 10.3073 9.89985': the scan runs between these Si(111) Bragg angles
    lo, hi = spectro.io.units.angle_to_energy(
        [10.3073, 9.89985], 5.431020511 / np.sqrt(3)
    )
    assert float(ds.energy.min()) == pytest.approx(lo, abs=3.0)
    assert float(ds.energy.max()) == pytest.approx(hi, abs=3.0)
    with pytest.warns(spectro.errors.GridWarning, match="merged 1 duplicate"):
        spectro.read(path, i0="Ion1", itrans="Ion2")
    # 456 and 906 rows, each scan with one near-duplicate energy merged
    assert np.isfinite(ds.mu).sum("energy").values.tolist() == [455, 905]


def test_multi_scan_real_file_without_xanes_channels(data_file):
    """An XES elastic-scan file: four scans, but no i0/itrans/ifluor/mu column."""
    path = data_file(
        "copyleft-test-inputs/formats/sloth_data_reduction_example1_out.spec"
    )
    _, scans = spec.parse_scans(spectro.io.columns.read_text(path))
    assert [s.number for s in scans] == ["0", "1", "2", "3"]
    assert scans[0].labels == [
        "x",
        "x_rel",
        "y_norm",
        "y_fit",
        "y_el",
        "signal",
        "monitor",
        "seconds",
    ]
    with pytest.raises(ColumnError, match="scan '0 T1_R1000_P1_M1_elastic'"):
        spectro.read(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = spectro.read(path, mu="y_norm")
    assert ds.sizes["scan"] == 4
