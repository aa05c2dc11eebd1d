"""Output helpers shared by the subcommands: JSON-ready values, text cells, error lines.

JSON output has ``null`` where a number is NaN or infinite; text tables
print numbers with four decimals and nothing for a missing value.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

from ..errors import SpectroError

__all__ = ["cell", "finite", "json_ready", "print_error"]


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
    print(f"error: {err.with_context(file=file)}", file=sys.stderr)

