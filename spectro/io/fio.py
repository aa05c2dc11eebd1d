"""DESY ``.fio`` files (HASYLAB online, Sardana at PETRA III): ``%c``, ``%p`` and ``%d`` sections.

Layout::

    ! comment lines start with '!'
    %c                                  <- free-text comments
     EXAFS-Scan started at 28-Mar-2001 21:30:02
    %p                                  <- parameters, one 'name = value' a line
     sample_time = 2
    %d                                  <- data: the columns, then the table
     Col 1 CUOX_0005  FLOAT
     Col 2 CUOX_0005  FLOAT
     Col 5 CUOX_0005_REF  FLOAT
     Col 6 CUOX_0005_C1  FLOAT
      8849.993  -0.7895981 ...

Column names carry the scan name as a prefix (``CUOX_0005_C1``), which is
dropped (``C1``). In HASYLAB EXAFS scans the first two columns are named
like the scan: the first is the scan's axis (the monochromator energy), the
second the signal the online program computed from the counters, ln(C1/C2)
in the example file, read as ``mu``; ``<scan>_REF`` is the reference foil's,
ln(C2/C3), read as ``mu_ref`` (the tests check both against the counters).
Everything else goes through :func:`spectro.io.channels.select_channels`,
so ``mode="transmission", i0="C1", itrans="C2"`` recomputes mu from the
counters. The ``%p`` parameters and the ``%c`` comments are kept in the
attrs (``fio_parameters`` as JSON, ``comments``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..model import Scan, Spectra
from .channels import select_channels
from .columns import CHANNEL_OPTIONS, parse_numeric_lines, read_text

__all__ = ["parse", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = CHANNEL_OPTIONS

_SECTION = re.compile(r"^%([cpd])\s*$")
_COLUMN = re.compile(r"^\s*Col\s+(\d+)\s+(\S+)\s+(\S+)\s*$", re.IGNORECASE)


def sniff(path: Path, head: bytes) -> bool:
    """A ``.fio`` file has a ``%d`` section line, and a ``%c`` or ``%p`` one or ``!`` comments.

    Examples
    --------
    >>> from pathlib import Path
    >>> sniff(Path("a.fio"), b"!\\n%c\\n text\\n%d\\n Col 1 E FLOAT\\n 8000 1\\n")
    True
    >>> sniff(Path("a.dat"), b"# energy mu\\n8300 0.1\\n")
    False
    """
    lines = [ln.strip() for ln in head.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")]
    return b"%d" in lines and (b"%c" in lines or b"%p" in lines or any(ln.startswith(b"!") for ln in lines[:5]))


def _sections(lines: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"c": [], "p": [], "d": []}
    current = None
    for line in lines:
        if line.lstrip().startswith("!"):
            continue
        m = _SECTION.match(line.strip())
        if m:
            current = m.group(1)
            continue
        if current is not None and line.strip():
            out[current].append(line)
    return out


def _labels(names: list[str]) -> list[str]:
    """Column names without the scan-name prefix; the two bare scan-name columns are the axis and mu."""
    scan = names[0]
    labels = []
    bare = 0
    for name in names:
        if name == scan:
            labels.append(name if bare == 0 else "mu")
            bare += 1
        elif name.startswith(scan + "_"):
            rest = name[len(scan) + 1:]
            labels.append("mu_ref" if rest.upper() == "REF" else rest)
        else:
            labels.append(name)
    return labels


def parse(path: Path, **options: Any) -> Spectra:
    """Parse a DESY ``.fio`` file into the arrays of a XANES Dataset (one scan).

    Parameters
    ----------
    path : pathlib.Path
    **options
        The channel options of :func:`spectro.io.channels.select_channels`
        (per-scan metadata such as ``pressure`` is attached by :func:`spectro.io.parse`).

    Returns
    -------
    spectro.model.Spectra

    Raises
    ------
    FormatError
        No ``%d`` section, no ``Col`` lines, or a table that does not have
        one number per column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> e = np.arange(8950.0, 9010.0, 0.5)
    >>> rows = "\\n".join(f" {x} {1 + np.tanh((x - 8980) / 2)} 1e5" for x in e)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cu_0001.fio"
    >>> _ = path.write_text("!\\n%c\\n Cu foil\\n%d\\n Col 1 CU_0001 FLOAT\\n Col 2 CU_0001 FLOAT\\n"
    ...                     " Col 3 CU_0001_C1 FLOAT\\n" + rows + "\\n")
    >>> ds = parse(path).to_dataset()
    >>> ds.attrs["mu_column"], ds.attrs["energy_column"], ds.sizes["energy"]
    ('mu', 'CU_0001', 120)
    """
    path = Path(path)
    sections = _sections(read_text(path).split("\n"))
    names, rows = [], []
    for line in sections["d"]:
        m = _COLUMN.match(line)
        if m and not rows:
            names.append(m.group(2))
        else:
            rows.append(line)
    if not names:
        raise FormatError("no '%d' section with 'Col N NAME TYPE' lines: not a .fio file")
    table = parse_numeric_lines(rows, len(names))
    labels = _labels(names)
    chosen = {k: options[k] for k in CHANNEL_OPTIONS if options.get(k) is not None}
    ch = select_channels(labels, table, **chosen)
    parameters = {}
    for line in sections["p"]:
        key, sep, value = line.partition("=")
        if sep:
            parameters[key.strip()] = value.strip()
    attrs = {
        "columns": labels,
        "comments": "\n".join(line.strip() for line in sections["c"]),
        "fio_parameters": json.dumps(parameters),
    }
    scan = Scan(ch.energy, ch.signals, path.stem, attrs=ch.attrs)
    return Spectra.from_scans([scan], kind="xanes", file=path, attrs=attrs)
