"""Every text format reads the same with classic-Mac CR-only line endings (and CRLF) as with LF.

Real files of each text format are rewritten with each line ending (an
Athena project inside its gzip compression) and must give the same arrays,
scans and attrs as the original. SPEC files are covered scan by scan in
``tests/test_io_hostile.py``.
"""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest

import spectro

pytestmark = pytest.mark.realdata

FILES = {
    "xdi": "xanes/ceric_NiO_111.xdi",
    "columns": "formats/larch_APS10BM_2019.dat",
    "columns (XDAC)": "formats/larch_NSLS_XDAC_2011.dat",
    "fio": "formats/pxas_Cu2O_lnt1.fio",
    "i20": "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat",
    "athena perl": "xanes/larch_NiO.prj",
    "athena json": "xanes/larch_Ni_FeNiS20_RT.prj",
}


def _read(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return spectro.read(path)


@pytest.mark.parametrize("newline", [b"\r", b"\r\n"], ids=["CR", "CRLF"])
@pytest.mark.parametrize("kind", FILES)
def test_a_file_reads_the_same_with_any_line_ending(kind, newline, data_file, tmp_path):
    source = data_file(FILES[kind])
    data = source.read_bytes()
    packed = data[:2] == b"\x1f\x8b"
    text = (gzip.decompress(data) if packed else data).replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    assert text.count(b"\n") > 20
    moved = tmp_path / source.name
    moved.write_bytes(gzip.compress(text.replace(b"\n", newline)) if packed else text.replace(b"\n", newline))
    original, rewritten = _read(source), _read(moved)
    assert original.attrs["source_format"] == rewritten.attrs["source_format"]
    assert dict(original.sizes) == dict(rewritten.sizes)
    assert original.scan.values.tolist() == rewritten.scan.values.tolist()
    for name in original.data_vars:
        np.testing.assert_array_equal(original[name].values, rewritten[name].values, err_msg=name)
    for name in set(original.coords) - {"source"}:  # the file's path differs
        assert np.array_equal(original[name].values, rewritten[name].values,
                              equal_nan=original[name].dtype.kind == "f"), name


@pytest.mark.parametrize("raw, text", [
    (b"\xef\xbb\xbfa\r\nb \xc3\xa9\r\n\r\n", "a\nb \u00e9\n\n"),  # CRLF only, UTF-8 with its BOM
    (b"a\r\nb \xe9\r\n", "a\nb \u00e9\n"),  # CRLF only, Latin-1
    (b"a\r\nb\rc\nd\r\r\n", "a\nb\nc\nd\n\n"),  # CRLF, CR and LF mixed
], ids=["crlf-utf8", "crlf-latin1", "mixed"])
def test_read_text_gives_lf_lines_whatever_the_endings(raw, text, tmp_path):
    from spectro.io.columns import read_text

    path = tmp_path / "t.dat"
    path.write_bytes(raw)
    assert read_text(path) == text
