"""Output helpers shared by the subcommands: JSON-ready values, text cells, error lines.

JSON output has ``null`` where a number is NaN or infinite; text tables
print numbers with four decimals and nothing for a missing value.
"""

from __future__ import annotations

import math
import os
import stat
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..errors import FormatError, MissingFileError, OptionError, SpectroError

__all__ = ["STATISTICAL_ONLY", "XES_STATISTICAL_ONLY", "aligned", "analysed_files", "cell", "cli_spelling",
           "error_line", "finite", "input_files", "json_ready", "print_error", "regular_file", "with_budget_text"]

T = TypeVar("T")

#: Printed on stderr under a text table whose errors are those of the plain analysis (no ``--budget``).
STATISTICAL_ONLY = (
    "note: these errors are statistical (the noise) only; the systematic parts (normalization windows, edge "
    "definition, foil convention, anchors) are often 10 to 100 times larger on real spectra: --budget adds "
    "them (docs/uncertainty.md)"
)
#: The same note for Kbeta numbers (the factor measured on the Mn spectra of docs/xes.md).
XES_STATISTICAL_ONLY = (
    "note: these errors are statistical (the counting noise) only; on real spectra the background model alone "
    "moves the Kbeta1,3 first moment and the Kbeta' ratio by 10 to 20 times as much: --budget adds it (docs/xes.md)"
)


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
    import numpy as np  # here: the command line parses its flags without NumPy

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


def print_error(err: Exception, file: str | os.PathLike) -> None:
    """Print :func:`error_line` of ``err`` on stderr."""
    print(error_line(err, file), file=sys.stderr)


def error_line(err: Exception, file: str | os.PathLike) -> str:
    """``error: <err>`` on one line, naming ``file`` when the error does not.

    A :class:`~spectro.errors.SpectroError` is spelled as a command-line
    user reads it; an operating-system error by its message; anything else
    (a bug) by its class too.

    Examples
    --------
    >>> from spectro.errors import FormatError
    >>> error_line(FormatError("no numeric data"), "a.dat")
    'error: a.dat: no numeric data'
    >>> error_line(PermissionError(13, "Permission denied", "b.dat"), "b.dat")
    'error: b.dat: Permission denied'
    >>> error_line(IndexError("list index out of range"), "c.dat")
    'error: c.dat: IndexError: list index out of range'
    """
    if isinstance(err, SpectroError):
        text = str(cli_spelling(err).with_context(file=file))
    elif isinstance(err, OSError):
        text = f"{os.fspath(file)}: {err.strerror or err}"
    else:
        text = f"{os.fspath(file)}: {type(err).__name__}: {err}"
    return "error: " + " ".join(text.split())


def regular_file(name: str | os.PathLike) -> Path:
    """``name`` as a path, refused when it exists but is not a regular file.

    A FIFO, a socket or a device would block a reader or never end, so
    each command refuses them before opening anything.

    Raises
    ------
    FormatError
        ``name`` is a FIFO, socket, device or folder.
    MissingFileError
        ``name`` is a folder that cannot be listed (no permission).

    Examples
    --------
    >>> import os, pathlib, tempfile
    >>> fifo = pathlib.Path(tempfile.mkdtemp()) / "pipe"
    >>> os.mkfifo(fifo)
    >>> try:
    ...     regular_file(fifo)
    ... except FormatError as err:
    ...     print(err.problem)
    not a regular file (a FIFO)
    """
    path = Path(name)
    try:
        mode = path.stat().st_mode
    except OSError:
        return path  # reading it gives the error that names it
    if stat.S_ISDIR(mode):
        try:
            os.listdir(path)
        except OSError as err:
            raise MissingFileError(f"a folder that cannot be read: {err.strerror or err}", file=path) from None
    if not stat.S_ISREG(mode):
        raise FormatError(f"not a regular file ({_file_type(mode)})", file=path)
    return path


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a file"


def cli_spelling(err: SpectroError) -> SpectroError:
    """``err`` as a command-line user reads it: an option named as its flag."""
    return err.through("cli") if isinstance(err, OptionError) and err.door == "keyword" else err



def input_files(names: list[str]) -> list[str]:
    """The files named, a folder standing for the files in it (sorted, hidden ones left out).

    A name that is neither, or a folder that cannot be listed, stays as it
    is, so that reading it gives the error that names it.

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
            try:
                out.extend(str(p) for p in sorted(path.iterdir()) if p.is_file() and not p.name.startswith("."))
            except OSError:  # a folder that cannot be listed: reading it gives the error (regular_file)
                out.append(name)
        else:
            out.append(name)
    return out


def analysed_files(names: list[str], analyse: Callable[[str], T]) -> tuple[list[tuple[str, T]], bool]:
    """``analyse(file)`` for every input file of ``names`` (:func:`input_files`), one after the other.

    Each file's warnings become ``warning: <category>: <file>: ...`` lines on
    stderr, a failure one ``error:`` line (:func:`print_error`), and the
    other files go on. Returns the (file, result) of those that succeeded
    and whether any failed.

    Examples
    --------
    >>> analysed_files(["a", "bb"], lambda name: 1 / (len(name) - 1))  # "a" fails: one error line on stderr
    ([('bb', 1.0)], True)
    """
    done: list[tuple[str, T]] = []
    failed = False
    for name in input_files(names):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                done.append((name, analyse(name)))
            except Exception as err:  # one line per file that fails; the others go on
                failed = True
                print_error(err, name)
        for w in caught:
            text = str(w.message)
            print(f"warning: {w.category.__name__}: {text if name in text else f'{name}: {text}'}", file=sys.stderr)
    return done, failed


def with_budget_text(value: Any, stat: Any, sys: Any) -> str:
    """``value ± stat (stat) ± sys (sys)``, or the value alone when an error is missing.

    Examples
    --------
    >>> with_budget_text(2.1734, 0.0123, 0.0812)
    '2.173 ± 0.012 (stat) ± 0.081 (sys)'
    """
    if value is None:
        return "nan"
    if stat is None or sys is None:
        return f"{value:.3f}"
    return f"{value:.3f} ± {stat:.3f} (stat) ± {sys:.3f} (sys)"


def aligned(rows: list[list[str]]) -> str:
    """The rows of cells as text, each column as wide as its widest cell, two spaces apart.

    Examples
    --------
    >>> print(aligned([["file", "e0"], ["a.xdi", "8345.1"]]))
    file   e0
    a.xdi  8345.1
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)

