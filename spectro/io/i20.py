"""Diamond Light Source I20 XES scans (ASCII export of ``scan XESEnergy ...``).

Layout
    About 45 ``#`` header lines of free-text metadata (beamline, slits,
    ``Sample name:``, ``command: scan XESEnergy ...``), the column-label line
    (``#`` then TAB-separated labels padded with spaces, with a trailing
    TAB), the data rows (also with a trailing TAB) and two ``#`` trailer
    lines (end time, final ring current). Columns: ``Energy`` (the constant
    incident energy), ``Ef`` (emission energy, eV), ``XESBragg`` (analyser
    angle, running opposite to the energy), ``I1`` (ion chamber), ``FF``
    (Medipix ROI counts), ``FF/I1`` and ``Time``.
Sniffing
    The head must name ``DIAMOND LIGHT SOURCE``, ``Instrument: I20`` and an
    XES scan (``XESEnergy`` or ``XESBragg``); I20 absorption scans and other
    column files are left to their readers.
Signal
    ``signal="FF/I1"`` (default): counts normalized to the incident flux,
    which removes ring-current decay within and between scans; ``"FF"``:
    raw counts; or any other column label.
Uncertainty
    A column named ``sigma``, ``err``, ``error`` or ``<signal>_err`` is used
    when present. Otherwise counting statistics: ``sqrt(FF)`` for ``FF`` and
    ``sqrt(FF) / I1`` for ``FF/I1`` (the I1 counts, ~1e6, add a negligible
    error); ``FF = 0`` counts as one count. Other signals get no error
    column (analyses then estimate it from the data).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ColumnError, DataError, FormatError, FormatWarning, SpectroError
from ..model import Scan, Spectra
from .channels import MIN_POINTS, Channels, finite_points
from .columns import read_text

__all__ = ["parse", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = ("energy", "signal", "sigma")

_SIGMA_NAMES = ("sigma", "err", "error")


def sniff(path: Path, head: bytes) -> bool:
    """True for a Diamond I20 XES ASCII scan.

    Examples
    --------
    >>> from pathlib import Path
    >>> head = b"# DIAMOND LIGHT SOURCE\\n# Instrument: I20-XAS Date: x\\n# command: scan XESEnergy 1 2 0.3\\n"
    >>> sniff(Path("a.dat"), head), sniff(Path("a.dat"), b"# Energy\\tmu\\n1\\t2\\n")
    (True, False)
    """
    return (
        b"DIAMOND LIGHT SOURCE" in head[:300]
        and b"Instrument: I20" in head
        and (b"XESEnergy" in head or b"XESBragg" in head)
    )


def _meta(header: list[str]) -> dict[str, str]:
    meta = {}
    for line in header:
        text = line.lstrip("#").strip()
        m = re.match(r"(Sample name|Sample description|command|Instrument)\s*:\s*(.*)", text)
        if m:
            meta.setdefault(m.group(1).lower().replace(" ", "_"), m.group(2).strip())
    return meta


def parse(
    path: Path,
    *,
    signal: str = "FF/I1",
    energy: str = "Ef",
    sigma: str | None = None,
    **_: Any,
) -> Spectra:
    """Parse a Diamond I20 XES scan into the arrays of ``intensity(scan, emission_energy)``.

    Parameters
    ----------
    path : Path
    signal : str, default "FF/I1"
        Column used as intensity (``"FF/I1"``, ``"FF"`` or any label).
    energy : str, default "Ef"
        Emission-energy column (eV).
    sigma : str, optional
        Column holding the one-sigma error of ``signal``; found by name when
        not given, else computed from counting statistics (module docs).

    Returns
    -------
    spectro.model.Spectra
        One scan labelled by the ``Sample name`` header; header metadata and
        the columns used as attrs; the mean incident energy as
        ``incident_energy_ev``.

    Raises
    ------
    FormatError
        No column-label line or no data rows.
    ColumnError
        A requested column is missing (the message lists those present).
    DataError
        Fewer than :data:`spectro.io.channels.MIN_POINTS` rows.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.read("advxafs_Figure_2A_S1_XES_Mn2O3.dat")  # doctest: +SKIP
    """
    lines = read_text(path).split("\n")
    rows, header, labels, row_lines = [], [], None, []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            if not rows:
                header.append(line)
            continue
        rows.append([f for f in line.replace("\t", " ").split()])
        row_lines.append(number)
    for line in reversed(header):
        fields = [f.strip() for f in line.lstrip("#").split("\t") if f.strip()]
        if len(fields) >= 2 and energy in fields:
            labels = fields
            break
    if labels is None:
        raise FormatError(f"no column-label line naming {energy!r} before the data")
    if not rows:
        raise FormatError("no data rows")
    good = [r for r in rows if len(r) == len(labels)]
    if len(good) < len(rows):
        bad = [n for n, r in zip(row_lines, rows) if len(r) != len(labels)]
        kept = [n for n, r in zip(row_lines, rows) if len(r) == len(labels)]
        if kept and any(kept[0] < n < kept[-1] for n in bad):
            raise FormatError(
                f"data row(s) at line(s) {', '.join(map(str, bad[:8]))} do not have {len(labels)} fields, "
                "between rows that do; fix or remove them"
            )
        warnings.warn(
            f"{path.name}: dropped {len(rows) - len(good)} row(s) whose number of fields is not "
            f"{len(labels)} (line(s) {', '.join(map(str, bad[:8]))})",
            FormatWarning,
            stacklevel=3,
        )
    try:
        table = np.array(good, dtype=float).reshape(len(good), len(labels))
    except ValueError as err:
        raise FormatError(f"non-numeric data row: {err}") from err
    if table.shape[0] < MIN_POINTS:
        raise DataError(f"only {table.shape[0]} data rows, need >= {MIN_POINTS}")
    col = {name: table[:, i] for i, name in enumerate(labels)}
    for name in (energy, signal):
        if name not in col:
            raise ColumnError(f"no column {name!r}; columns are {labels}")
    if sigma is None:
        candidates = [n for n in labels if n.lower() in _SIGMA_NAMES or n == f"{signal}_err"]
        sigma = candidates[0] if candidates else None
    elif sigma not in col:
        raise ColumnError(f"no column {sigma!r}; columns are {labels}")
    if "Energy" in col and energy != "Energy" and not np.all(np.isfinite(col["Energy"])):
        raise DataError("the incident energy column 'Energy' holds values that are not finite")
    signals = {"intensity": col[signal]}
    err_method = "none"
    if sigma is not None:
        signals["intensity_err"] = col[sigma]
        err_method = f"column {sigma}"
    elif "FF" in col and signal in ("FF", "FF/I1"):
        counts = np.fmax(col["FF"], 1.0)
        signals["intensity_err"] = np.sqrt(counts) / (col["I1"] if signal == "FF/I1" else 1.0)
        err_method = "counting statistics sqrt(FF)" + (" / I1" if signal == "FF/I1" else "")
    meta = _meta(header)
    label = meta.get("sample_name") or path.stem
    attrs = {
        "source_format": "i20",
        "instrument": meta.get("instrument", ""),
        "sample_description": meta.get("sample_description", ""),
        "command": meta.get("command", ""),
        "columns": labels,
        "energy_column": energy,
        "signal_column": signal,
        "intensity_err_method": err_method,
    }
    if "Energy" in col and energy != "Energy":
        attrs["incident_energy_ev"] = float(np.mean(col["Energy"]))
    units = "counts" if signal == "FF" else "1"
    long_name = f"emitted intensity ({signal})"
    try:
        checked = finite_points(Channels(col[energy], signals, {"mu_expression": signal}), label=energy)
    except SpectroError as err:
        raise err.with_context(scan=label) from err
    scan = Scan(checked.energy, checked.signals, label=label, coords={"sample": label})
    return Spectra.from_scans(
        [scan], kind="xes", file=path, attrs=attrs,
        signal_attrs={"intensity": {"units": units, "long_name": long_name},
                      "intensity_err": {"units": units,
                                        "long_name": f"{long_name} uncertainty (1 sigma)"}},
    )
