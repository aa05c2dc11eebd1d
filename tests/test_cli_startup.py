"""Start-up: the command line parses its flags, and ``import spectro`` loads, without the heavy libraries.

Behaviour tests, not timed ones: they check which modules a fresh
interpreter has imported (``python -X importtime`` lists every import).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("xarray", "scipy", "lmfit", "matplotlib", "dask", "pandas", "netCDF4", "h5py")


def _imported(*args: str) -> set[str]:
    """Top-level names of every module a fresh ``python -X importtime ARGS`` imports."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "spectro" in names  # the listing is real
    return names


@pytest.mark.parametrize("argv", [["--help"], ["batch", "--help"], ["valence", "--help"], ["convert", "--help"],
                                  ["--version"]])
def test_cli_help_imports_no_heavy_library(argv):
    assert not _imported("-m", "spectro", *argv) & set(HEAVY)


def test_parser_of_every_command_imports_no_heavy_library():
    code = "from spectro.cli import _parser; _parser().parse_args(['batch', 'x', '-o', 'y', '--pre1', '-40'])"
    assert not _imported("-c", code) & set(HEAVY)


def test_import_spectro_is_light_and_complete():
    assert not _imported("-c", "import spectro") & set(HEAVY)
    code = ("import spectro, sys; names = dir(spectro); "
            "missing = [n for n in spectro.__all__ if n not in names or getattr(spectro, n) is None]; "
            "assert not missing, missing; assert 'xarray' in sys.modules")
    assert "xarray" in _imported("-c", code)


def test_lazy_names_are_the_real_ones():
    import spectro
    import spectro.batch
    from spectro.batch import runner
    from spectro.io import read

    assert spectro.read is read and spectro.batch.run_batch is runner.run_batch
    assert set(spectro.batch.__all__) <= set(dir(spectro.batch))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        spectro.nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        spectro.batch.nope  # noqa: B018


def test_help_names_match_the_implementation():
    from spectro.cli.convert import TO_FORMATS
    from spectro.cli.valence import HELP_OBSERVABLES
    from spectro.io.writers import FORMATS
    from spectro.valence import OBSERVABLES

    assert TO_FORMATS == tuple(FORMATS) and HELP_OBSERVABLES == tuple(OBSERVABLES)


@pytest.mark.parametrize("package", ["spectro", "spectro.batch", "spectro.pressure", "spectro.simulate",
                                     "spectro.references"])
def test_every_public_name_of_a_lazy_package_resolves(package):
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        assert name in dir(module) and getattr(module, name) is not None, name


def _imported_modules(code: str) -> set[str]:
    """Full names of every module a fresh ``python -X importtime -c CODE`` imports."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_reading_and_analysing_a_file_imports_neither_scipy_signal_nor_xraydb(data_file):
    """scipy.signal (with the scipy.stats it brings) and xraydb cost about a second each at import. The kernels
    need only scipy.signal's Savitzky-Golay weights (spectro.xanes._arrays.savgol_weights computes them the same
    way), and xraydb's Ni K edge and element symbols (constants, checked against xraydb by the tests)."""
    path = data_file("xanes/bmm_Ni-K-NickelOxide.xdi")  # an XDI file with Element.symbol and a reference foil
    names = _imported_modules(f"import spectro; spectro.xanes.analyze(spectro.read({str(path)!r}), budget=True)")
    assert "spectro.xanes._budget" in names
    assert not {"scipy.signal", "xraydb"} & names


def test_a_plain_analysis_imports_no_scipy_without_dask(data_file):
    """The default install has no dask (xarray would import it, and scipy with it, on the first Dataset). Reading
    and analysing a file then imports no scipy: ``scipy.special`` (the erf forms of the pre-edge baselines) and
    ``scipy.fft`` (the whole-foil alignment) come on first use, which the budget's variations make."""
    path = data_file("xanes/bmm_Ni-K-NickelOxide.xdi")
    code = ("import sys; sys.modules['dask'] = None; import spectro; "
            f"spectro.xanes.analyze(spectro.read({str(path)!r}), budget={{}})")
    plain = _imported_modules(code.format(False))
    assert "spectro.xanes._preedge" in plain and "dask" not in plain
    assert not {name for name in plain if name == "scipy" or name.startswith("scipy.")}
    budget = _imported_modules(code.format(True))
    assert all(any(name.startswith(package) for name in budget) for package in ("scipy.special", "scipy.fft"))
