"""Every reading limit is an option: documented, lowered by keyword or flag, its breach a LimitError naming it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import spectro
from spectro.cli import main
from spectro.errors import LimitError

E = np.linspace(8200.0, 8600.0, 201)
MU = 1.0 + np.tanh((E - 8345.0) / 5.0)


def _athena(path: Path) -> Path:
    """A JSON Athena project of one group whose args hold a list nested 10 deep (about 4 kB, 402 array items)."""
    group = {"args": {"label": "a", "deep": json.loads("[" * 10 + "]" * 10)}, "x": E.tolist(), "y": MU.tolist()}
    path.write_text(json.dumps({"_____header1": "# Athena project file -- Demeter version 0.9.26", "a": group}))
    return path


def _columns(path: Path) -> Path:
    """A column file whose last comment line has 5 002 characters."""
    rows = "\n".join(f"{e:.2f} {m:.6f}" for e, m in zip(E, MU))
    path.write_text("# energy mu\n" + rows + "\n# " + "x" * 5000 + "\n")
    return path


#: option, its value that the file breaches, the file, what the error says.
CASES = [
    ("max_depth", 5, _athena, "nests lists 13 deep, more than 5"),
    ("max_file_mb", 0.001, _athena, r"the file \(\d+ bytes\) holds more than 0.001 MB of data"),
    ("max_array_mb", 0.01, _athena, r"lists hold about \d+ values .* more than the limit of 0.01 MB"),
    ("max_line_length", 1000, _columns, "line 203 has 5002 characters, more than the limit of 1000"),
]


@pytest.mark.parametrize(("option", "value", "make", "problem"), CASES, ids=[c[0] for c in CASES])
def test_each_limit_is_an_option_of_every_door(option, value, make, problem, tmp_path, capsys):
    path = make(tmp_path / ("deep.prj" if make is _athena else "long.dat"))
    assert spectro.read(path).sizes["energy"] == E.size  # within the default limits
    with pytest.raises(LimitError, match=problem) as refused:
        spectro.read(path, **{option: value})
    assert option in str(refused.value)
    flag = "--" + option.replace("_", "-")
    assert main(["read", str(path), flag, str(value)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: ") and flag in err
    docs = (Path(__file__).resolve().parents[1] / "docs" / "io.md").read_text()
    assert f"| `{option}` |" in docs
