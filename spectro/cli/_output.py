"""Output helpers shared by the subcommands: JSON-ready values, text cells, error lines.

JSON output has ``null`` where a number is NaN or infinite; text tables
print numbers with four decimals and nothing for a missing value.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OptionError, SpectroError

__all__ = ["cell", "cli_spelling", "finite", "input_files", "json_ready", "print_error"]


def json_ready(value: Any) -> Any:
    """``value`` for :func:`json.dumps`: NaN and infinities as None, NumPy types as Python ones.

    Dicts, lists, tuples and arrays are converted recursively (sequences
    become lists); anything else is returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> json_ready({"a": np.float64("nan"), "b": (1.5, np.int64(2)), "c": np.array([np.inf, 0.5])})
    {'a': None, 'b': [1.5, 2], 'c': [None, 0.5]}
    >>> json_ready(np.bool_(True)), json_ready("text")
    (True, 'text')
    """
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return finite(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def finite(value: Any) -> float | None:
    """``float(value)``, or None when it is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> finite(np.array(2.5)), finite(float("nan"))
    (2.5, None)
    """
    number = float(value)
    return number if math.isfinite(number) else None


def cell(value: Any) -> str:
    """A text-table cell: empty for None, four decimals for a float, else ``str``.

    Examples
    --------
    >>> cell(None), cell(1.23456), cell("NiO"), cell(3)
    ('', '1.2346', 'NiO', '3')
    """
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def print_error(err: SpectroError, file: str | os.PathLike) -> None:
    """Print ``error: <err>`` on stderr, naming ``file`` when the error does not."""
    print(f"error: {cli_spelling(err).with_context(file=file)}", file=sys.stderr)


def cli_spelling(err: SpectroError) -> SpectroError:
    """``err`` as a command-line user reads it: an option named as its flag."""
    return err.through("cli") if isinstance(err, OptionError) and err.door == "keyword" else err



def input_files(names: list[str]) -> list[str]:
    """The files named, a folder standing for the files in it (sorted, hidden ones left out).

    A name that is neither stays as it is, so that reading it gives the
    error that names it.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for n in ("b.xdi", "a.xdi", ".hidden"):
    ...     _ = (d / n).write_text("x")
    >>> [pathlib.Path(p).name for p in input_files([str(d), "missing.xdi"])]
    ['a.xdi', 'b.xdi', 'missing.xdi']
    """
    out = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            out.extend(str(p) for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith("."))
        else:
            out.append(name)
    return out
