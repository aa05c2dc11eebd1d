"""The same reading and analysis flags in every analysing command, spelled the same."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.cli import _parser, main
from spectro.options import ReadOptions, XanesOptions

#: Analysing commands and the arguments each needs besides the flags.
COMMANDS = {
    "read": ["a.xdi"],
    "convert": ["a.xdi", "-o", "out", "--to", "xdi"],
    "xanes": ["a.xdi"],
    "xes": ["a.dat"],
    "spin": ["a.dat", "--high", "h.dat", "--low", "l.dat"],
    "valence": ["a.xdi"],
    "batch": ["a.xdi", "-o", "out"],
    "pressure": ["m.csv"],
}
#: Commands that analyse XANES.
XANES_COMMANDS = ("xanes", "valence", "batch", "pressure")

READING_FLAGS = ["--" + n.replace("_", "-") for n in ReadOptions.names() if n not in ReadOptions.METADATA]

NIO = "xanes/ceric_NiO_111.xdi"
LANIO3 = "xanes/ceric_LaNiO3_Ni_80K_111.xdi"
BMM_NIO = "xanes/bmm_Ni-K-NickelOxide.xdi"
NIS = "xanes/xaslib_NiS_rt_01.xdi"
SNBL = "formats/larch_ESRF_SNBL_2013.dat"
#: The ESRF SNBL file (GeO2, Ge K edge) has no mu column: its channels must be named.
SNBL_FLAGS = ["--energy", "ZapEnergy", "--mode", "transmission", "--i0", "Mon", "--itrans", "Ion1"]
GE_K_EDGE = 11103.0  # eV, tabulated


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _args(command: str, *flags: str):
    return _parser().parse_args([command, *COMMANDS[command], *flags])


def _quiet(argv: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(argv)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_analysing_command_has_every_reading_flag(command, capsys):
    text = _help(command, capsys)
    missing = [f for f in READING_FLAGS if not re.search(re.escape(f) + r"(?![\w-])", text)]
    assert not missing


@pytest.mark.parametrize("command", COMMANDS)
def test_reading_flags_give_the_same_read_options_in_every_command(command):
    args = _args(command, "--mu", "mutrans", "--energy", "ZapEnergy", "--mode", "transmission", "--i0", "Mon",
                 "--itrans", "Ion1", "--no-reference", "--energy-units", "keV", "--scans", "1,2")
    assert ReadOptions.from_args(args) == ReadOptions(
        mu="mutrans", energy="ZapEnergy", mode="transmission", i0="Mon", itrans="Ion1", reference=False,
        energy_units="keV", scans=("1", "2"),
    )


@pytest.mark.parametrize("command", XANES_COMMANDS)
def test_xanes_flags_give_the_same_xanes_options_in_every_command(command):
    args = _args(command, "--preedge", "centroid", "--pre1", "-120", "--fit-range", "8321", "8338",
                 "--no-reference-channel")
    assert XanesOptions.from_args(args) == XanesOptions(preedge="centroid", pre1=-120.0, fit_range=(8321.0, 8338.0),
                                                        reference_channel=False)


@pytest.mark.parametrize(
    ("command", "flag", "value", "allowed"),
    [
        *((c, "--mode", "transmision", "one of 'transmission', 'fluorescence', 'mu' (or none)") for c in COMMANDS),
        *((c, "--preedge", "spline", "one of 'fit', 'centroid'") for c in XANES_COMMANDS),
        ("xes", "--norm", "maximum", "one of 'max', 'area', 'none'"),
    ],
)
def test_bad_flag_value_is_one_error_line_spelled_as_the_flag(command, flag, value, allowed, tmp_path, capsys):
    argv = [command, *(str(tmp_path / a) if a.endswith((".xdi", ".dat", ".csv")) else a for a in COMMANDS[command])]
    argv = [str(tmp_path / "out") if a == "out" else a for a in argv]
    assert main([*argv, flag, value]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: {flag} {value} is not allowed: {allowed}\n"
    assert captured.out == ""


# --- real files that need their reading flags ----------------------------------------------------------------


@pytest.mark.realdata
def test_xanes_mu_flag_reads_a_file_without_labels(data_file, capsys):
    """A header-less copy of the ESRF BM08 file: only --mu says which column is mu (col7, the Ge foil)."""
    bare = str(data_file("formats/larch_generic_columns_no_header.dat"))
    assert _quiet(["xanes", bare, "--json"]) == 1
    assert "(--mode, --i0, ... on the command line)" in capsys.readouterr().err
    assert _quiet(["xanes", bare, "--mu", "col7", "--json"]) == 0
    (bare_rec,) = json.loads(capsys.readouterr().out)
    labelled = str(data_file("formats/larch_ESRF_BM08_LISA_2021.dat"))
    assert _quiet(["xanes", labelled, "--mu", "mu_ref", "--no-reference", "--json"]) == 0
    (labelled_rec,) = json.loads(capsys.readouterr().out)
    assert bare_rec["e0"] == labelled_rec["e0"]  # the same numbers, however the columns were found
    assert abs(bare_rec["e0"] - GE_K_EDGE) < 5.0


@pytest.mark.realdata
def test_esrf_spec_file_reads_with_its_channels_named(data_file, capsys):
    path = str(data_file(SNBL))
    assert _quiet(["read", path]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell how to get mu" in err and "--mode, --i0" in err
    assert _quiet(["read", path, *SNBL_FLAGS, "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["files"]
    assert report["format"] == "spec" and len(report["scans"]) == 2
    for scan in report["scans"]:
        assert (scan["energy_column"], scan["energy_units_in"], scan["mu"]) == ("ZapEnergy", "keV", "ln(Mon/Ion1)")
        assert scan["energy_min"] < GE_K_EDGE < scan["energy_max"]
    assert _quiet(["xanes", path, *SNBL_FLAGS, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2
    for rec in records:  # GeO2: the edge a few eV above the element's
        assert rec["e0"] is not None and abs(rec["e0"] - GE_K_EDGE) < 15.0
        assert rec["edge_step"] > 0


# --- folders -------------------------------------------------------------------------------------------------


def _columns_file(path, edge: float) -> None:
    e = np.arange(8250.0, 8600.0, 0.5)
    np.savetxt(path, np.c_[e, 1 + np.tanh((e - edge) / 3)], header="energy mu")


def test_read_folder_reads_each_file_in_it(tmp_path, capsys):
    _columns_file(tmp_path / "a.dat", 8345.0)
    _columns_file(tmp_path / "b.dat", 8347.0)
    (tmp_path / "empty.dat").write_text("")
    _columns_file(tmp_path / ".hidden.dat", 8340.0)
    (tmp_path / "sub").mkdir()
    _columns_file(tmp_path / "sub" / "c.dat", 8340.0)
    assert _quiet(["read", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    heads = [line for line in captured.out.splitlines() if not line.startswith(" ")]
    assert heads == [f"{tmp_path / 'a.dat'} (columns, xanes)", f"{tmp_path / 'b.dat'} (columns, xanes)"]
    errors = captured.err.splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error: {tmp_path / 'empty.dat'}: ")


@pytest.mark.realdata
def test_read_folder_of_real_spectra_gives_one_line_per_file(data_dir, capsys):
    folder = data_dir / "xanes"
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    status = _quiet(["read", str(folder)])
    captured = capsys.readouterr()
    heads = [line for line in captured.out.splitlines() if not line.startswith(" ")]
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(heads) + len(errors) == len(files) > 20
    named = [line.split(" (")[0] for line in heads] + [line.removeprefix("error: ").split(": ")[0] for line in errors]
    assert sorted(named) == [str(p) for p in files]
    assert status == (2 if errors else 0)


# --- manifests: per-file reading options ---------------------------------------------------------------------


@pytest.fixture
def manifest(data_file, tmp_path):
    """NiO reference row read without its foil (explicit mu, reference=no); LaNiO3 and samples by default."""
    path = tmp_path / "series.csv"
    path.write_text(
        "file,valence,mu,reference\n"
        f"{data_file(NIO)},2,mutrans,no\n"
        f"{data_file(LANIO3)},3,,\n"
        f"{data_file(BMM_NIO)},,,\n"
        f"{data_file(NIS)},,,\n"
    )
    return path


def _e0(path, **options) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(spectro.xanes.analyze(spectro.read(path, **options)).e0[0])


@pytest.mark.realdata
def test_valence_manifest_reads_each_row_with_its_own_options(manifest, data_file, capsys):
    assert _quiet(["valence", str(manifest), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    anchors = doc["calibration"]["anchors"]
    nio = _e0(data_file(NIO), mu="mutrans", reference=False)
    lanio3 = _e0(data_file(LANIO3))
    assert [a["valence"] for a in anchors] == [2.0, 3.0]
    assert [a["e0"] for a in anchors] == [nio, lanio3]
    assert abs(nio - _e0(data_file(NIO))) > 0.3  # read by default, NiO is calibrated on its foil
    samples = doc["samples"]
    assert [s["sample"] for s in samples] == [str(data_file(BMM_NIO)), str(data_file(NIS))]
    for s, name in zip(samples, (BMM_NIO, NIS)):
        assert s["e0"] == _e0(data_file(name)) and s["calibration_shift"] is not None
        assert s["valence"] == pytest.approx(2.0 + (s["e0"] - nio) / (lanio3 - nio), abs=1e-9)


@pytest.mark.realdata
@pytest.mark.parametrize("command", ["valence", "batch", "pressure"])
def test_bad_manifest_cell_is_one_error_line(command, data_file, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "file,valence,mode,pressure\n"
        f"{data_file(NIO)},2,,1.0\n"
        f"{data_file(LANIO3)},3,,1.0\n"
        f"{data_file(BMM_NIO)},,transmision,1.0\n"
    )
    argv = [command, str(bad), *(["-o", str(tmp_path / "out")] if command == "batch" else [])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {bad}: row 4: column 'mode' = 'transmision' is not allowed: "
                   "one of 'transmission', 'fluorescence', 'mu' (or none)\n")


@pytest.mark.realdata
@pytest.mark.slow
def test_batch_manifest_reads_each_row_with_its_own_options(manifest, data_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert _quiet(["batch", str(manifest), "-o", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_succeeded"] == 4
    res = xr.open_dataset(out / "results.nc", engine="h5netcdf").load()
    by_file = {str(f): i for i, f in enumerate(res.file.values)}
    nio = res.isel(spectrum=by_file[str(data_file(NIO))])
    assert float(nio.e0) == _e0(data_file(NIO), mu="mutrans", reference=False)
    assert np.isnan(float(nio.calibration_shift))  # its row says: no reference channel
    for name in (LANIO3, BMM_NIO, NIS):
        row = res.isel(spectrum=by_file[str(data_file(name))])
        assert float(row.e0) == _e0(data_file(name)) and np.isfinite(float(row.calibration_shift))
        assert np.isfinite(float(row.valence))
    # The reference rows are the anchors, each read as its row says: both come out at their own
    # valence, and the samples get what spectro valence gives them from the same manifest.
    assert float(res.valence[by_file[str(data_file(NIO))]]) == pytest.approx(2.0, abs=1e-9)
    assert float(res.valence[by_file[str(data_file(LANIO3))]]) == pytest.approx(3.0, abs=1e-9)
    assert _quiet(["valence", str(manifest), "--json"]) == 0
    for s in json.loads(capsys.readouterr().out)["samples"]:
        assert float(res.valence[by_file[s["sample"]]]) == pytest.approx(s["valence"], abs=1e-12)
