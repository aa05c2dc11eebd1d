"""``spectro spin``: the high-spin fraction of each scan between two reference files, as spectro.xes.spin gives it."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spectro
from spectro.cli import main
from spectro.simulate import xes

pytestmark = pytest.mark.realdata

#: A measured Diamond I20 scan whose header the simulated files take.
HEADER = "xes/advxafs_Figure_2A_S1_XES_Mn2O3.dat"


@pytest.fixture()
def files(data_file, tmp_path, i20_file):
    """Simulated Ni Kbeta files: two samples of known high-spin fraction, and the two references."""
    header = data_file(HEADER)
    out = {"high": i20_file(tmp_path / "hs.dat", header, xes(spin="high", noise=0.002, seed=11)),
           "low": i20_file(tmp_path / "ls.dat", header, xes(spin="low", noise=0.002, seed=12))}
    for f, seed in ((0.3, 13), (0.7, 14)):
        out[f] = i20_file(tmp_path / f"sample_{f}.dat", header, xes(high_spin_fraction=f, noise=0.005, seed=seed))
    return out


@pytest.mark.parametrize("metric", ["iad", "kb_prime_ratio"])
def test_fractions_are_those_of_spectro_xes_spin(files, capsys, metric):
    args = [str(files[0.3]), str(files[0.7]), "--high", str(files["high"]), "--low", str(files["low"]),
            "--metric", metric]
    assert main(["spin", *args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metric"] == metric and len(doc["scans"]) == 2
    high, low = spectro.read(files["high"]), spectro.read(files["low"])
    for rec, truth in zip(doc["scans"], (0.3, 0.7)):
        want = spectro.xes.spin(spectro.read(rec["file"]), high=high, low=low, metric=metric)
        assert rec["high_spin_fraction"] == pytest.approx(float(want.high_spin_fraction[0]), rel=1e-12)
        assert rec["high_spin_fraction_stat"] == pytest.approx(float(want.high_spin_fraction_stat[0]), rel=1e-12)
        assert rec["high_spin_fraction_sys"] == pytest.approx(float(want.high_spin_fraction_sys[0]), rel=1e-12)
        assert rec["high_spin_fraction_err"] == pytest.approx(np.hypot(rec["high_spin_fraction_stat"],
                                                                       rec["high_spin_fraction_sys"]))
        if metric == "iad":  # read on the references' mixtures; the ratio is not linear in the fraction (docs/xes.md)
            assert abs(rec["high_spin_fraction"] - truth) < 3 * rec["high_spin_fraction_err"] + 0.02
        assert rec["flags"] == []
    assert doc["scans"][0]["high_spin_fraction"] < doc["scans"][1]["high_spin_fraction"]
    assert main(["spin", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["file", "scan", metric, "high_spin_fraction", "flags"]
    assert " (stat) ± " in lines[1] and lines[1].rstrip().endswith("(sys)")


def test_a_bad_sample_is_one_error_line_and_the_others_go_on(files, tmp_path, capsys):
    bad = tmp_path / "empty.dat"
    bad.write_text("")
    code = main(["spin", str(bad), str(files[0.3]), "--high", str(files["high"]), "--low", str(files["low"]),
                 "--json"])
    captured = capsys.readouterr()
    assert code == 1 and captured.err.count("error:") == 1 and "empty.dat" in captured.err
    assert len(json.loads(captured.out)["scans"]) == 1


def test_a_reference_with_several_scans_stops_the_command(files, data_dir, capsys):
    many = data_dir / "xanes" / "larch_NiO.prj"  # twelve scans (and XANES): not a one-scan XES reference
    code = main(["spin", str(files[0.3]), "--high", str(many), "--low", str(files["low"])])
    assert code == 2 and "the high-spin reference has 12 scans" in capsys.readouterr().err
