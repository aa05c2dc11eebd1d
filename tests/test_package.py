"""Package-level promises: lazy heavy imports, the error hierarchy, the CLI shell."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

import spectro
from spectro import errors


def test_import_is_light_no_xraylarch_matplotlib_lmfit_or_dask():
    code = (
        "import sys, spectro; "
        "print(sorted(m for m in ('larch', 'matplotlib', 'lmfit', 'dask', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.FormatError, ValueError),
        (errors.MissingFileError, FileNotFoundError),
        (errors.ColumnError, LookupError),
        (errors.DataError, ValueError),
        (errors.ValidationError, ValueError),
        (errors.ReferenceNotFoundError, LookupError),
        (errors.FitError, RuntimeError),
    ],
)
def test_every_error_is_a_spectro_error_and_its_builtin(cls, builtin):
    err = cls("went wrong", file="a/b.xdi", scan=3)
    assert isinstance(err, errors.SpectroError)
    assert isinstance(err, builtin)
    assert str(err) == "a/b.xdi: scan '3': went wrong"


def test_error_survives_pickling_for_worker_processes():
    err = errors.DataError("no edge", file="x.dat", scan="s1")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.DataError
    assert (back.file, back.scan, str(back)) == ("x.dat", "s1", str(err))


def test_with_context_fills_only_missing_fields():
    err = errors.FormatError("bad header", scan="2").with_context(file="f.spec", scan="9")
    assert (err.file, err.scan) == ("f.spec", "2")


def test_every_warning_is_a_user_warning():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if name.endswith("Warning"):
            assert issubclass(obj, errors.SpectroWarning)
            assert issubclass(obj, UserWarning)


def test_cli_version_and_unknown_file(capsys, tmp_path):
    from spectro.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert spectro.__version__ in capsys.readouterr().out
    assert main(["read", str(tmp_path / "missing.xdi")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.xdi" in err and "Traceback" not in err
