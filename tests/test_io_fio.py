"""DESY .fio files: sections, column names without the scan prefix, the online signals checked against the counters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import spectro
from spectro.errors import FormatError
from spectro.io import sniff_format

FIO = "formats/pxas_Cu2O_lnt1.fio"


def _read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path, **options)


@pytest.mark.realdata
def test_the_hasylab_exafs_file_is_read_with_its_online_signals(data_file):
    path = data_file(FIO)
    assert sniff_format(path) == "fio"
    ds = _read(path)
    assert ds.scan.values.tolist() == ["pxas_Cu2O_lnt1"] and ds.sizes["energy"] == 799
    assert (ds.attrs["energy_column"], ds.attrs["mu_column"], ds.attrs["mu_ref_column"]) == ("CUOX_0005", "mu", "mu_ref")
    assert ds.attrs["columns"][2:8] == ["DELTA", "SAMPLE_TIME", "mu_ref", "C1", "C2", "C3"]
    assert "EXAFS-Scan started at 28-Mar-2001 21:30:02" in ds.attrs["comments"]
    assert (float(ds.energy[0]), float(ds.energy[-1])) == pytest.approx((8849.993, 10197.44))
    # the signals the online program wrote are ln(C1/C2) and ln(C2/C3) of the counters (7 digits printed)
    sample = _read(path, mode="transmission", i0="C1", itrans="C2", reference=False)
    foil = _read(path, mode="transmission", i0="C2", itrans="C3", reference=False)
    np.testing.assert_allclose(ds.mu.values, sample.mu.values, rtol=0, atol=2e-6)
    np.testing.assert_allclose(ds.mu_ref.values, foil.mu.values, rtol=0, atol=2e-6)
    # Cu2O: the sample's steepest rise lies within 10 eV below the Cu K edge (8979 eV), uncalibrated
    e0 = spectro.xanes.e0_derivative_arrays(ds.energy.values, ds.mu.values[0]).e0
    assert 8969.0 < float(e0) < 8979.0


def test_a_fio_file_without_columns_is_refused(tmp_path):
    path = tmp_path / "empty.fio"
    path.write_text("!\n%c\n nothing measured\n%d\n")
    with pytest.raises(FormatError, match="no '%d' section with 'Col N NAME TYPE' lines"):
        spectro.read(path)
