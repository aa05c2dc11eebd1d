"""Every analysing command: a bad input is one ``error:`` line, the others are processed, exit status 1.

Each command gets one good real spectrum and one junk file: the junk file is
named on exactly one ``error:`` line of stderr, the good file's result is
printed (or written), and the exit status is 1 (some inputs failed). The
exit statuses are those of :mod:`spectro.cli`: 0 all good, 1 some inputs
failed, 2 usage or input error, 3 output or internal failure.
"""

from __future__ import annotations

import csv
import json
import warnings

import pytest

from spectro.cli import EXIT_FAILED_INPUTS, EXIT_OK, EXIT_USAGE, main

pytestmark = pytest.mark.realdata

NIO = "xanes/ceric_NiO_111.xdi"
LANIO3 = "xanes/ceric_LaNiO3_Ni_80K_111.xdi"
BMM_NIO = "xanes/bmm_Ni-K-NickelOxide.xdi"
MN2O3 = "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat"
MN3O4 = "xes/advxafs_Figure_2A_S1_XES_Mn3O4.dat"
LAMNO3 = "xes/advxafs_Figure_2A_S1_XES_LaMnO3_solgel.dat"


def _quiet(argv: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(argv)


@pytest.fixture
def junk(tmp_path):
    path = tmp_path / "junk.xdi"
    path.write_text("# not a spectrum\nthis is junk, no numbers here\n")
    return path


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


def _one_error_naming(err: str, path) -> None:
    errors = _errors(err)
    assert len(errors) == 1, err
    assert str(path) in errors[0]
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["read", "xanes", "convert"])
def test_per_file_commands_go_on_after_a_junk_file(command, data_file, junk, tmp_path, capsys):
    good = data_file(BMM_NIO)
    out = tmp_path / "converted"
    extra = ["-o", str(out), "--to", "xdi"] if command == "convert" else []
    assert _quiet([command, str(junk), str(good), *extra]) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, junk)
    assert str(good) in captured.out
    if command == "convert":
        assert [p.name for p in out.iterdir()] == [good.stem + ".xdi"]
    if command == "xanes":
        row = [line.split("\t") for line in captured.out.splitlines() if line.startswith(str(good))]
        assert len(row) == 1 and 8330 < float(row[0][2]) < 8360  # an E0 at the Ni K edge


def test_xes_goes_on_after_a_junk_file(data_file, junk, capsys):
    good = data_file(MN2O3)
    assert _quiet(["xes", str(good), str(junk), "--element", "Mn", "--json"]) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, junk)
    (scan,) = json.loads(captured.out)["scans"]
    assert scan["file"] == str(good) and 6488 < scan["kb13_energy"] < 6494  # Mn Kbeta1,3


@pytest.mark.parametrize("as_json", [False, True])
def test_valence_goes_on_after_a_junk_sample(data_file, junk, as_json, capsys):
    good = data_file(BMM_NIO)
    anchors = ["--anchors", f"{data_file(NIO)}=2", f"{data_file(LANIO3)}=3"]
    argv = ["valence", str(good), str(junk), *anchors, *(["--json"] if as_json else [])]
    assert _quiet(argv) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, junk)
    if as_json:
        (row,) = json.loads(captured.out)["samples"]
        assert row["sample"] == str(good) and 1.5 < row["valence"] < 2.5  # NiO is Ni2+
    else:
        assert str(good) in captured.out and str(junk) not in captured.out
    # Without the junk file: the same result, exit status 0.
    assert _quiet([argv[0], argv[1], *argv[3:]]) == EXIT_OK
    assert capsys.readouterr().out == captured.out


def test_valence_a_sample_whose_analysis_fails_is_one_error_line(data_file, tmp_path, capsys):
    """A readable XES file whose analysis fails (its lines 600 eV above Mn's) fails alone, the others go on."""
    source = data_file(MN2O3).read_text().splitlines()
    shifted = tmp_path / "shifted.dat"
    lines = []
    for line in source:
        cells = line.split("\t")
        if not line.startswith("#") and len(cells) > 2:
            cells[1] = f"{float(cells[1]) + 600.0:.4f}"  # Ef, the emission energy: now at the Fe Kbeta1,3
        lines.append("\t".join(cells))
    shifted.write_text("\n".join(lines) + "\n")
    good = data_file(LAMNO3)
    argv = ["valence", str(good), str(shifted), "--anchors", f"{data_file(MN3O4)}=2.667", f"{data_file(MN2O3)}=3",
            "--observable", "kb13_m1", "--json"]  # the element of each file decided from its lines
    assert _quiet(argv) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, shifted)
    (row,) = json.loads(captured.out)["samples"]
    assert row["sample"] == str(good) and row["valence"] is not None


def test_valence_bad_anchors_or_unknown_names_stop_the_command(data_file, junk, capsys):
    good = str(data_file(BMM_NIO))
    assert _quiet(["valence", good, "--anchors", f"{junk}=2", f"{data_file(LANIO3)}=3"]) == EXIT_USAGE
    _one_error_naming(capsys.readouterr().err, junk)
    assert _quiet(["valence", good, "no_such_reference_id", "--anchors", f"{data_file(NIO)}=2",
                   f"{data_file(LANIO3)}=3"]) == EXIT_USAGE
    assert "no_such_reference_id" in capsys.readouterr().err


def test_pressure_goes_on_after_a_junk_file(data_file, junk, tmp_path, capsys):
    good, other = data_file(BMM_NIO), data_file(NIO)
    manifest = tmp_path / "series.csv"
    manifest.write_text(f"file,pressure\n{good},0.5\n{junk},1.0\n{other},2.0\n")
    out = tmp_path / "out"
    assert _quiet(["pressure", str(manifest), "--json", "--out", str(out)]) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, junk)
    scans = json.loads(captured.out)["scans"]
    assert [s["file"] for s in scans] == [str(good), str(other)]
    assert [s["pressure"] for s in scans] == [0.5, 2.0]
    with open(out / "series.csv", newline="") as fh:
        assert [r["file"] for r in csv.DictReader(fh)] == [str(good), str(other)]


def test_pressure_with_every_file_bad_fails_without_a_series(junk, tmp_path, capsys):
    manifest = tmp_path / "series.csv"
    manifest.write_text(f"file,pressure\n{junk},1.0\n")
    assert _quiet(["pressure", str(manifest)]) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, junk)
    assert captured.out == ""


def test_batch_goes_on_after_a_junk_file(data_file, junk, tmp_path, capsys):
    good = data_file(BMM_NIO)
    out = tmp_path / "out"
    assert _quiet(["batch", str(good), str(junk), "-o", str(out), "--no-valence", "--no-progress"]) == (
        EXIT_FAILED_INPUTS)
    captured = capsys.readouterr()
    _one_error_naming(captured.err, junk)
    assert "1 of 2 inputs processed" in captured.out
    with open(out / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["file"] for r in rows] == [str(good)] and 8330 < float(rows[0]["e0"]) < 8360


@pytest.mark.parametrize("command", ["read", "xanes"])
def test_a_folder_that_cannot_be_read_is_one_error_line(command, data_file, tmp_path, monkeypatch, capsys):
    """A folder without read permission (simulated: the tests may run as root) is a bad input like any other."""
    import errno
    import os
    from pathlib import Path

    locked = tmp_path / "locked"
    locked.mkdir()

    def denied(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    real_iterdir, real_listdir = Path.iterdir, os.listdir
    monkeypatch.setattr(Path, "iterdir", lambda p: denied(p) if p == locked else real_iterdir(p))
    monkeypatch.setattr(os, "listdir", lambda p=".": denied(p) if Path(p) == locked else real_listdir(p))
    good = data_file(BMM_NIO)
    assert _quiet([command, str(locked), str(good)]) == EXIT_FAILED_INPUTS
    captured = capsys.readouterr()
    _one_error_naming(captured.err, locked)
    assert "a folder that cannot be read: Permission denied" in captured.err
    assert str(good) in captured.out


def test_xes_file_given_to_xanes_says_which_command_reads_it(data_file, capsys):
    """An XES spectrum given to ``spectro xanes``: its error line names it and says to use ``spectro xes``."""
    xes = str(data_file(MN2O3))
    assert _quiet(["xanes", str(data_file(NIO)), xes]) == EXIT_FAILED_INPUTS
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and xes in errors[0]
    assert "XES spectrum" in errors[0] and "spectro xes" in errors[0]
