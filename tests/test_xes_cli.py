"""``spectro xes`` on the command line."""

from __future__ import annotations

import json

import pytest

from spectro.cli import main
from spectro.cli.xes import KEYS

MN2O3 = "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat"
MN3O4 = "xes/advxafs_Figure_2A_S1_XES_Mn3O4.dat"
LAMNO3 = "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat"

pytestmark = pytest.mark.realdata


def test_json_records(data_file, capsys):
    files = [str(data_file(n)) for n in (MN2O3, MN3O4, LAMNO3)]
    assert main(["xes", *files, "--element", "Mn", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    scans = doc["scans"]
    assert [s["file"] for s in scans] == files
    for s in scans:
        assert {"file", "scan", *KEYS} <= set(s)
        assert s["iad"] is None  # no reference
        assert s["kb25_energy"] is None  # no valence-to-core region measured
    assert scans[0]["scan"] == "XES_Mn2O3_1.5mg_long"
    assert scans[1]["kb13_m1"] > scans[0]["kb13_m1"]
    assert scans[2]["kb_prime"] is None and scans[2]["kb13_energy"] is not None


def test_reference_gives_iad(data_file, capsys):
    ref = str(data_file(MN2O3))
    assert main(["xes", ref, str(data_file(MN3O4)), "--element", "Mn", "--iad-reference", ref,
                 "--json"]) == 0
    scans = json.loads(capsys.readouterr().out)["scans"]
    assert scans[0]["iad"] == pytest.approx(0.0, abs=1e-12)
    assert scans[1]["iad"] > 0.01


def test_text_table_and_missing_region_warning(data_file, capsys):
    assert main(["xes", str(data_file(LAMNO3)), "--element", "Mn"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].split()[:3] == ["file", "scan", "kb13_energy"]
    assert "XES_LaMnO3_solgel_24mg" in captured.out
    assert "MissingRegionWarning" in captured.err


def test_unreadable_file_gives_error_line_and_status_1(data_file, tmp_path, capsys):
    bad = tmp_path / "empty.dat"
    bad.write_text("")
    assert main(["xes", str(bad), str(data_file(MN2O3)), "--element", "Mn", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("error:") == 1 and "empty.dat" in captured.err
    assert len(json.loads(captured.out)["scans"]) == 1


def test_missing_reference_file(data_file, capsys):
    assert main(["xes", str(data_file(MN2O3)), "--iad-reference", "/nonexistent.dat"]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("window", [None, ("-24", "6")])
def test_xes_flags_reach_the_analysis(data_file, capsys, window):
    """--fit, --fit-window, --kb-prime-offset, --background and --norm give what spectro.xes.analyze gives."""
    import spectro
    from spectro.options import XesOptions

    path = data_file(MN2O3)
    flags = ["--element", "Mn", "--fit", "--kb-prime-offset", "-14", "--background", "linear", "--norm", "area"]
    if window:
        flags += ["--fit-window", *window]
    assert main(["xes", str(path), *flags, "--json"]) == 0
    scan, = json.loads(capsys.readouterr().out)["scans"]
    options = XesOptions(element="Mn", fit=True, background="linear", norm="area", kb_prime_offset=-14.0)
    if window:
        options = options.replace(fit_window=window)
    with pytest.warns(spectro.errors.MissingRegionWarning):  # no valence-to-core region
        expected = spectro.xes.analyze(spectro.read(path), options)
    for key in ("kb13_m1", "kb_prime", "kb_prime_ratio_fit", "kb_prime_center_fit", "flags"):
        assert scan[key] == float(expected[key][0]), key
    assert scan["kb_prime_ratio_fit"] is not None
    assert expected.kb_prime_ratio_fit.attrs["fit_window_ev"] == list(options.fit_window)


def test_a_fit_window_without_the_peak_is_refused(data_file, capsys):
    assert main(["xes", str(data_file(MN2O3)), "--element", "Mn", "--fit-window", "5", "10"]) == 2
    assert capsys.readouterr().err.startswith("error: --fit-window 5.0 10.0 is not allowed: around the peak")
