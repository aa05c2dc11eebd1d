"""``spectro pressure``: manifest in, table, verdicts and figures out."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from spectro.cli import main
from spectro.pressure import ruby_wavelength
from spectro.simulate import pressure_series
from spectro.simulate.series import MODEL_SAMPLE_BOND

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """The simulated campaign written as one column file per scan, and a manifest."""
    root = tmp_path_factory.mktemp("campaign")
    ds = pressure_series(seed=1)
    lines = ["file,pressure,ruby_wavelength,pressure_err,temperature,run,sample,compound"]
    for i, label in enumerate(ds.scan.values.tolist()):
        name = f"{label}.dat"
        table = np.column_stack([ds.energy.values, ds.mu.values[i], ds.mu_ref.values[i]])
        np.savetxt(root / name, table, header="energy mu murefer", fmt="%.6f")
        p = float(ds.pressure.values[i])
        sample = str(ds.sample.values[i])
        # Half of the sample scans give the ruby wavelength instead of the pressure.
        if sample != "NiO" and i % 2:
            t = float(ds.temperature.values[i])
            lam = float(ruby_wavelength(p, temperature=t))
            lines.append(f"{name},,{lam:.5f},0.1,{t:g},{ds.run.values[i]},{sample},")
        else:
            compound = "NiO" if sample == "NiO" else ""
            lines.append(f"{name},{p:.4f},,0.1,{float(ds.temperature.values[i]):g},"
                         f"{ds.run.values[i]},{sample},{compound}")
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    bonds = root / "bonds.csv"
    rows = ["pressure,in_plane"] + [f"{p:g},{d:.6f}" for p, d in
                                    zip(MODEL_SAMPLE_BOND.pressure, MODEL_SAMPLE_BOND.value)]
    bonds.write_text("\n".join(rows) + "\n")
    return manifest, bonds, ds


def test_cli_json_report_and_figures(campaign, tmp_path, capsys):
    manifest, bonds, ds = campaign
    out = tmp_path / "out"
    status = main(["pressure", str(manifest), "--json", "--out", str(out),
                   "--sample-bonds", str(bonds), "--distance", "in_plane"])
    assert status == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["scans"]) == ds.sizes["scan"]
    rec = doc["scans"][0]
    assert set(rec) >= {"pressure", "e0", "delta_e0", "delta_e0_err", "path", "path_kind"}
    pressures = np.array([r["pressure"] for r in doc["scans"]])
    np.testing.assert_allclose(pressures, ds.pressure.values, atol=1e-3)
    c = doc["contraction"]
    assert abs(c["sample"]["slope"] + 15.0) < 3 * c["sample"]["slope_err"]
    assert abs(c["reference"]["slope"] + 15.0) < 3 * c["reference"]["slope_err"]
    assert c["consistent"] is True and c["verdict"].startswith("no evidence for a valence change at 95 %")
    assert c["difference_sys"] > c["difference_stat"] > 0  # the NiO equation of state dominates
    assert abs(doc["anomaly"]["breakpoint"] - 14.0) < 1.0 and doc["anomaly"]["real"] is True
    assert doc["preedge_stability"]["tolerance"] == 0.1
    names = sorted(p.name for p in out.iterdir())
    assert names == ["series.csv", "shift_vs_contraction.png", "shift_vs_pressure.png"]
    assert (out / "shift_vs_pressure.png").read_bytes()[:4] == b"\x89PNG"
    assert len((out / "series.csv").read_text().splitlines()) == ds.sizes["scan"] + 1


def test_cli_text_without_bond_table(campaign, capsys):
    manifest, _, _ = campaign
    assert main(["pressure", str(manifest)]) == 0
    text = capsys.readouterr().out
    assert "breakpoint:" in text
    assert "contraction: no --sample-bonds table" in text


def test_cli_errors(campaign, tmp_path, capsys):
    manifest, bonds, _ = campaign
    assert main(["pressure", str(manifest), "--sample-bonds", str(bonds)]) == 2
    assert "--distance" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("file,pressure,colour\nx.dat,1,red\n")
    assert main(["pressure", str(bad)]) == 2
    assert "colour" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    missing.write_text("file,pressure\nnothere.dat,1\n")
    assert main(["pressure", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nothere.dat" in err
    first = manifest.read_text().splitlines()[1].split(",")[0]
    unpressed = tmp_path / "unpressed.csv"
    unpressed.write_text(f"file,temperature\n{manifest.parent / first},300\n")
    assert main(["pressure", str(unpressed)]) == 2
    assert "row 2: give pressure or ruby_wavelength" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_text("file,pressure\n")
    assert main(["pressure", str(empty)]) == 2
    assert "manifest lists no files" in capsys.readouterr().err


def test_manifest_reading_columns_act_as_the_reading_flags(campaign, capsys):
    """A reference column of 'no' on every row reads the files as --no-reference does."""
    manifest = campaign[0]
    lines = manifest.read_text().splitlines()
    columns = manifest.with_name("no_reference.csv")
    columns.write_text("\n".join([lines[0] + ",reference", *(line + ",no" for line in lines[1:])]) + "\n")
    scans = {}
    for name, argv in (("default", [str(manifest)]), ("flag", [str(manifest), "--no-reference"]),
                       ("column", [str(columns)])):
        assert main(["pressure", *argv, "--json"]) == 0
        scans[name] = json.loads(capsys.readouterr().out)["scans"]
    assert scans["flag"] == scans["column"]
    assert scans["flag"] != scans["default"]
    assert all(s["e0"] is not None for s in scans["column"])


def test_series_csv_cells_are_no_formulas(campaign, tmp_path):
    """Sample names from the manifest that a spreadsheet would run (``=...``) are escaped in series.csv."""
    manifest, _, ds = campaign
    lines = manifest.read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("sample")
    renamed = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[0] = str(manifest.parent / cells[0])
        cells[column] = "=" + cells[column]
        renamed.append(",".join(cells))
    hostile = tmp_path / "manifest.csv"
    hostile.write_text("\n".join(renamed) + "\n")
    assert main(["pressure", str(hostile), "--out", str(tmp_path / "out")]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "series.csv").open()))
    assert len(rows) == ds.sizes["scan"]
    assert {r["sample"] for r in rows} == {"'=" + str(s) for s in set(ds.sample.values.tolist())}
