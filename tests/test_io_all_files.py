"""Every file under SPECTRO_DATA_DIR: read into a valid Dataset, or refused cleanly.

Files are enumerated at collection time, so new files are covered
automatically. Each file must either give a model Dataset with ascending
energies in eV between 1 and 100 keV (and the same Dataset again from its
arrays, :class:`spectro.model.Spectra`), or raise a SpectroError subclass;
any other exception, or taking longer than the time limit, fails.
"""

from __future__ import annotations

import json
import os
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import spectro
from spectro.cli import main
from spectro.errors import SpectroError
from spectro.model import Spectra

TIME_LIMIT_S = 60


def _files():
    root = os.environ.get("SPECTRO_DATA_DIR")
    if not root or not Path(root).is_dir():
        return [
            pytest.param(
                None, marks=pytest.mark.skip(reason="SPECTRO_DATA_DIR not set")
            )
        ]
    root = Path(root)
    return [
        pytest.param(p, id=str(p.relative_to(root)))
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "README.md"
    ]


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout


@pytest.mark.parametrize("path", _files())
def test_file_is_read_or_refused(path):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = spectro.read(path)
    except SpectroError as err:
        assert str(err).startswith(str(path)), "the error must name the file"
        return
    except _Timeout:
        pytest.fail(f"reading took more than {TIME_LIMIT_S} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    spectro.validate(ds)
    xr.testing.assert_identical(Spectra.from_dataset(ds).to_dataset(), ds)
    dim = spectro.model.energy_dim(ds)
    energy = ds[dim].values
    assert np.all(np.diff(energy) > 0)
    assert ds[dim].attrs["units"] == "eV"
    assert 1000.0 < energy.min() and energy.max() < 100000.0
    signal_name = "mu" if dim == "energy" else "intensity"
    assert int(np.isfinite(ds[signal_name].values).sum(axis=-1).min()) >= 6


# --- the `spectro read` command ---------------------------------------------------


def test_cli_summary(data_file, capsys):
    path = data_file("xanes/ceric_NiO_111.xdi")
    assert main(["read", str(path)]) == 0
    out = capsys.readouterr().out
    assert "585 points" in out and "mu = mutrans" in out and "mu_ref = murefer" in out


def test_cli_json_and_failure(data_file, capsys):
    good = data_file("xanes/xaslib_NiS_rt_01.xdi")
    bad = data_file("copyleft-test-inputs/formats/demeter_notdata.0")
    assert main(["read", str(good), str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    first, second = doc["files"]
    scan = first["scans"][0]
    assert scan["points"] == 507 and scan["mode"] == "transmission"
    assert scan["mu"] == "ln(i0/itrans)" and scan["temperature"] is None
    assert second["error"] and second["scans"] == []
    lines = captured.err.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("error: ")
        and "demeter_notdata.0" in lines[0]
    )
    assert "Traceback" not in captured.err


def test_cli_options_passed_to_reader(data_file, capsys):
    path = data_file("formats/larch_PF9A_2022.dat")
    assert (
        main(
            [
                "read",
                str(path),
                "--mode",
                "fluorescence",
                "--i0",
                "2",
                "--ifluor",
                "3",
                "--json",
            ]
        )
        == 0
    )
    scan = json.loads(capsys.readouterr().out)["files"][0]["scans"][0]
    assert scan["energy_units_in"] == "deg" and scan["mu"] == "3/2"


def test_cli_missing_file(tmp_path, capsys):
    assert main(["read", str(tmp_path / "nope.xdi")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no such file" in err
