"""XDI 1.0/1.1 files (XAS Data Interchange, https://github.com/XraySpectroscopy/XAS-Data-Interchange).

Layout::

    # XDI/1.0 Application/1.0          <- version line (required)
    # Column.1: energy eV              <- fields "Family.key: value"
    # Element.symbol: Ni
    # ///                              <- user comments follow
    # free text
    #----                              <- end of header
    # energy i0 itrans                 <- optional label line
    8333.0  1.0e5  4.0e4               <- data table

What is checked, and how deviations are handled (the behaviour of the
reference C library for the files of the specification's ``baddata``
suite):

Errors (:class:`~spectro.errors.FormatError`)
    no ``# XDI/1.x`` version line; a header field without a value, without
    ``:``, without ``Family.key`` or whose family starts with a digit; rows
    with different numbers of fields; ``NaN``, text or malformed numbers in
    the data table.
Read with a :class:`~spectro.errors.FormatWarning`
    missing or invalid ``Element.symbol`` / ``Element.edge``; no ``#---``
    line; missing, too few, too many or non-consecutive ``Column.N`` fields
    (extra ones ignored, unnamed columns from the label line when it has one
    label per column, else ``col<N>``); header lines with another comment
    character (ignored); an angle column without ``Mono.d_spacing`` (the
    d-spacing of the crystal named in ``Mono.name`` is used: Si and Ge
    reflections from their lattice constants); an invalid
    ``Mono.d_spacing``; date-times that are not ISO 8601; values of
    ``Sample.temperature``, ``Facility.energy``, ``Facility.current`` that
    are not a number with a unit.

Metadata
    Every field goes into the Dataset attrs under its own name
    (``"Element.symbol"``), the user comments under ``"comments"``.
    ``Sample.temperature`` (K, C or F) becomes the ``temperature``
    coordinate in K, ``Sample.pressure`` (GPa, MPa, kbar, bar, Pa) the
    ``pressure`` coordinate in GPa, ``Sample.name`` the ``sample``
    coordinate. The fields that spectro writes (:mod:`spectro.io.writers`)
    give the scan label (``Spectro.scan``; else the file name), ``run``
    (``Spectro.run``) and ``pressure_err`` (``Spectro.pressure_err``, GPa).
    Options of the same names override them.

Energy units come from the ``Column.N`` unit (``eV``, ``keV``,
``degrees``) or, when absent, as for any column
(:mod:`spectro.io.units`); channels as in :mod:`spectro.io.channels`.
"""

from __future__ import annotations

import math
import re
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, FormatError, FormatWarning
from ..model import Scan, Spectra
from .channels import select_channels
from .columns import (
    CHANNEL_OPTIONS,
    fast_parse,
    parse_numeric_lines,
    read_text,
    split_labels,
)

__all__ = ["EDGES", "crystal_d_spacing", "parse_header", "parse", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = CHANNEL_OPTIONS

#: Absorption edges allowed in ``Element.edge``.
EDGES = frozenset(
    ["K", "L", "L1", "L2", "L3", "M", "M1", "M2", "M3", "M4", "M5", "N"]
    + [f"N{i}" for i in range(1, 8)]
    + ["O"]
    + [f"O{i}" for i in range(1, 8)]
    + ["P", "P1", "P2", "P3"]
)

#: Cubic lattice constants in Angstrom (CODATA 2018 for Si; Ge at 298 K).
_LATTICE = {"si": 5.431020511, "ge": 5.6579060}

_VERSION = re.compile(r"^#\s*XDI/(\d+\.\d+)\s*(.*)$", re.IGNORECASE)
_FIELD = re.compile(r"^#\s*([A-Za-z_][\w]*)\.([\w]+)\s*:\s*(.*?)\s*$")
_FIELD_LIKE = re.compile(r"^#\s*[^\s:]+\s*:")
_NUMBER_UNIT = re.compile(
    r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*)?$"
)
_STRICT_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: Temperature units: K = value * scale + offset (lower-case unit as written, without spaces).
_TEMPERATURE_UNITS = {
    "k": (1.0, 0.0),
    "kelvin": (1.0, 0.0),
    "c": (1.0, 273.15),
    "°c": (1.0, 273.15),
    "celsius": (1.0, 273.15),
    "degc": (1.0, 273.15),
    "f": (5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    "°f": (5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    "fahrenheit": (5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    "degf": (5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
}
#: Pressure units: GPa = value * scale.
_PRESSURE_UNITS = {
    "gpa": (1.0, 0.0),
    "mpa": (1e-3, 0.0),
    "kbar": (0.1, 0.0),
    "bar": (1e-4, 0.0),
    "mbar": (1e-7, 0.0),
    "pa": (1e-9, 0.0),
    "kpa": (1e-6, 0.0),
    "atm": (1.01325e-4, 0.0),
}
#: Units of the XDI dictionary's facility fields (lower case).
_FACILITY_UNITS = {"Facility.energy": ("gev", "mev"), "Facility.current": ("ma", "a")}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?:\s*(\S.*?))?\s*$")


def sniff(path: Path, head: bytes) -> bool:
    """An XDI file starts with ``# XDI/<version>``.

    A header of XDI fields (``Column.N``, ``Element.symbol`` or
    ``Element.edge``, ``#----``) without the version line is XDI too, so
    that the XDI reader refuses it as the specification says.

    Examples
    --------
    >>> from pathlib import Path
    >>> sniff(Path("a"), b"# XDI/1.0 GSE/1.0\\n"), sniff(Path("a"), b"# energy mu\\n")
    (True, False)
    """
    if (
        head.lstrip(b"\xef\xbb\xbf").lstrip()[:6].upper() == b"# XDI/"
        or head.lstrip()[:5].upper() == b"#XDI/"
    ):
        return True
    # an XDI header whose version line is missing: the XDI reader says so
    return bool(_XDI_COLUMN.search(head) and _XDI_FIELD_B.search(head) and _XDI_END.search(head))


_XDI_COLUMN = re.compile(rb"^#\s*Column\.\d+\s*:", re.MULTILINE | re.IGNORECASE)
_XDI_FIELD_B = re.compile(rb"^#\s*Element\.(?:symbol|edge)\s*:", re.MULTILINE | re.IGNORECASE)
_XDI_END = re.compile(rb"^#\s*-{4,}", re.MULTILINE)


def crystal_d_spacing(name: str) -> float | None:
    """d-spacing in Angstrom of a Si or Ge reflection named like ``Si(111)`` or ``Si 311``.

    Examples
    --------
    >>> round(crystal_d_spacing("Si(111)"), 5)
    3.1356
    >>> crystal_d_spacing("multilayer") is None
    True
    """
    m = re.search(
        r"\b(si|ge)\s*\(?\s*(\d)\s*,?\s*(\d)\s*,?\s*(\d)\s*\)?", name, re.IGNORECASE
    )
    if not m:
        return None
    h, k, l = (int(g) for g in m.groups()[1:])
    return _LATTICE[m.group(1).lower()] / math.sqrt(h * h + k * k + l * l)


def parse_header(lines: list[str]) -> tuple[dict[str, Any], int, list[str]]:
    """Parse the header of an XDI file.

    Parameters
    ----------
    lines : list of str
        The file's lines (LF endings removed).

    Returns
    -------
    header : dict
        ``version``, ``applications``, ``fields`` (dict ``"Family.key"`` ->
        value), ``comments`` (list), ``label_line`` (str or None),
        ``columns`` (dict N -> text).
    data_start : int
        Index of the first data line.
    notes : list of str
        Deviations to report as warnings.

    Raises
    ------
    FormatError
        Missing version line, or a malformed field line.
    """
    notes: list[str] = []
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    m = _VERSION.match(lines[first].strip()) if first is not None else None
    if m is None:
        raise FormatError(
            "no XDI version line: the first line must be '# XDI/1.0' (or 1.1)"
        )
    header: dict[str, Any] = {
        "version": m.group(1),
        "applications": m.group(2).strip(),
        "fields": {},
        "comments": [],
        "label_line": None,
        "columns": {},
    }
    state = "fields"
    ignored = 0
    i = first + 1
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        i += 1
        if not line:
            continue
        if not line.startswith("#"):
            if _STRICT_NUMBER.match(line.split()[0]) or line.split()[0].lower() in (
                "nan",
                "inf",
            ):
                i -= 1
                break
            ignored += 1
            continue
        body = line[1:].strip()
        if state == "fields":
            if body.startswith("///"):
                state = "comments"
                continue
            if body.startswith("--"):
                state = "labels"
                continue
            if not body:
                continue
            _parse_field(line, header)
        elif state == "comments":
            if body.startswith("--"):
                state = "labels"
                continue
            header["comments"].append(body)
        else:
            header["label_line"] = body
    else:
        i = len(lines)
    if ignored:
        notes.append(f"ignored {ignored} header line(s) that do not start with '#'")
    if state != "labels":
        notes.append("no '#----' line ends the header")
        if state == "comments" and header["comments"]:
            header["label_line"] = header["comments"][-1]
    return header, i, notes


def _parse_field(line: str, header: dict[str, Any]) -> None:
    m = _FIELD.match(line)
    if m is None:
        if not _FIELD_LIKE.match(line) and ":" not in line:
            raise FormatError(
                f"header line {line!r} is not 'Family.key: value' (no ':')"
            )
        name = line[1:].split(":", 1)[0].strip()
        if "." not in name:
            raise FormatError(f"header field {name!r} is not 'Family.key' (no '.')")
        if name.count(".") > 1:
            raise FormatError(f"header field {name!r} has more than one '.'")
        if name[:1].isdigit():
            raise FormatError(
                f"header field {name!r}: the family name starts with a digit"
            )
        raise FormatError(f"malformed header line {line!r}")
    family, key, value = m.groups()
    if not value:
        raise FormatError(f"header field '{family}.{key}' has no value")
    if family.lower() == "column" and key.isdigit():
        header["columns"][int(key)] = value
    header["fields"][f"{family}.{key}"] = value


def _folded(fields: dict[str, str]) -> dict[str, str]:
    """The header fields by lower-case name (XDI names are case-insensitive; the first one wins)."""
    folded: dict[str, str] = {}
    for k, v in fields.items():
        folded.setdefault(k.lower(), v)
    return folded


def _field(folded: dict[str, str], name: str) -> str | None:
    """The value of field ``name`` in fields folded by :func:`_folded`, or None."""
    return folded.get(name.lower())


#: The element symbols of Z = 1 to 98, as ``xraydb.atomic_symbol`` gives them (``tests/test_io_xdi.py`` checks):
#: a constant, so that reading a file does not import xraydb (about 0.9 s of CPU) to check a symbol.
ELEMENT_SYMBOLS: frozenset[str] = frozenset(
    "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr "
    "Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt "
    "Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk Cf".split()
)


def _check_metadata(fields: dict[str, str], notes: list[str]) -> None:
    symbol = _field(fields, "Element.symbol")
    if symbol is None:
        notes.append("required field Element.symbol is missing")
    elif symbol not in ELEMENT_SYMBOLS:
        notes.append(f"Element.symbol {symbol!r} is not a chemical element")
    edge = _field(fields, "Element.edge")
    if edge is None:
        notes.append("required field Element.edge is missing")
    elif edge not in EDGES:
        notes.append(
            f"Element.edge {edge!r} is not an absorption edge ({', '.join(sorted(EDGES))})"
        )
    for name in ("Scan.start_time", "Scan.end_time"):
        value = _field(fields, name)
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError:
                notes.append(f"{name} {value!r} is not an ISO 8601 date-time")
    for name in ("Facility.energy", "Facility.current", "Sample.temperature"):
        value = _field(fields, name)
        if value is not None and _NUMBER_UNIT.match(value) is None:
            notes.append(f"{name} {value!r} is not a number with a unit")
            continue
        m = _QUANTITY.match(value or "")
        allowed = _FACILITY_UNITS.get(name)
        if m is not None and allowed is not None and m.group(2) and m.group(2).strip().lower() not in allowed:
            notes.append(f"{name} {value!r}: unit {m.group(2)!r} is not one of {', '.join(allowed)}")
    d = _field(fields, "Mono.d_spacing")
    if d is not None and _d_spacing(fields) is None:
        notes.append(f"Mono.d_spacing {d!r} is not a positive number (Angstrom)")


def _d_spacing(fields: dict[str, str]) -> float | None:
    m = _NUMBER_UNIT.match(_field(fields, "Mono.d_spacing") or "")
    if m is None or not float(m.group(1)) > 0:
        return None
    return float(m.group(1))


def _quantity(
    value: str | None,
    units: dict[str, tuple[float, float]],
    default: str,
    *,
    name: str,
    notes: list[str],
    absolute: bool = True,
) -> float:
    """``value`` ("80 K", "3 GPa") in the units of ``default``; NaN with a note when it cannot be read.

    A unit that is not one of ``units`` (including one with trailing
    characters, "80 Kx") or a value that is not a number is noted and gives
    NaN; a missing unit is taken as ``default`` with a note. A negative
    value of an ``absolute`` quantity (temperature in K, pressure) is a
    :class:`~spectro.errors.DataError`.
    """
    if value is None:
        return math.nan
    m = _QUANTITY.match(value)
    if m is None:
        notes.append(f"{name} {value!r} is not a number with a unit; ignored")
        return math.nan
    number = float(m.group(1))
    unit_text = m.group(2)
    if unit_text is None:
        notes.append(f"{name} {value!r} has no unit; taken as {default}")
        unit_text = default
    unit = unit_text.strip().lower().replace(" ", "")
    if unit not in units:
        notes.append(
            f"{name} {value!r}: unit {unit_text!r} is not one of {', '.join(sorted(units))}; ignored"
        )
        return math.nan
    scale, offset = units[unit]
    out = number * scale + offset
    if absolute and out < 0:
        raise DataError(f"{name} {value!r} is below zero ({out:.6g} {default}), which is not physical")
    return out


def _column_labels(
    header: dict[str, Any], n_columns: int, notes: list[str]
) -> tuple[list[str], list[str]]:
    columns: dict[int, str] = header["columns"]
    line_labels = (
        split_labels(header["label_line"], n_columns) if header["label_line"] else []
    )
    if len(line_labels) != n_columns:
        line_labels = []
    if not columns:
        notes.append(
            "no Column.N fields"
            + ("; used the label line" if line_labels else "; columns named col<N>")
        )
        names = line_labels or [f"col{k + 1}" for k in range(n_columns)]
        return names, [""] * n_columns
    if sorted(columns) != list(range(1, len(columns) + 1)):
        notes.append(f"Column.N indices {sorted(columns)} are not consecutive from 1")
    extra = sorted(k for k in columns if k > n_columns or k < 1)
    if extra:
        notes.append(
            f"Column.N fields {extra} beyond the {n_columns} data columns ignored"
        )
    present = sorted(k for k in columns if 1 <= k <= n_columns)
    if len(present) < n_columns:
        notes.append(
            f"{len(present)} Column.N fields for {n_columns} data columns; the others named col<N>"
        )
    labels, units = [], []
    for k in range(1, n_columns + 1):
        text = columns.get(k)
        if text is None:
            labels.append(f"col{k}")
            units.append("")
            continue
        parts = text.split("||", 1)[0].split()
        labels.append(parts[0] if parts else f"col{k}")
        units.append(" ".join(parts[1:2]))
    return labels, units


def _data_table(lines: list[str]) -> np.ndarray:
    """The data table after the header; a table NumPy's parser rejects is read again to say why."""
    if any(ln.strip() and not ln.lstrip().startswith("#") for ln in lines):
        try:
            values = np.loadtxt(lines, comments="#", ndmin=2)
        except ValueError:
            values = None
        if values is not None and np.isfinite(values).all():
            return values
    rows = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not rows:
        raise FormatError("no data table after the header")
    counts = [len(r.split()) for r in rows]
    n = max(set(counts), key=counts.count)
    bad = [i for i, c in enumerate(counts) if c != n]
    if bad:
        raise FormatError(
            f"data row {bad[0] + 1} has {counts[bad[0]]} fields, the table has {n} columns "
            f"({len(bad)} inconsistent row(s))"
        )
    values = fast_parse(" ".join(rows))
    if (
        values is not None
        and values.size == n * len(rows)
        and np.isfinite(values).all()
    ):
        return values.reshape(len(rows), n)
    for tok in " ".join(rows).split():
        if _STRICT_NUMBER.fullmatch(tok) is None:
            if tok.lower() in ("nan", "+nan", "-nan", "inf", "-inf", "+inf"):
                raise FormatError(
                    f"data table holds {tok!r}: XDI data must be finite numbers"
                )
            raise FormatError(f"data table holds {tok!r}, which is not a number")
    return parse_numeric_lines(rows, n)


def parse(path: Path, **options: Any) -> Spectra:
    """Parse an XDI file into the arrays of a XANES Dataset (one scan).

    Parameters
    ----------
    path : pathlib.Path
    **options
        As for :func:`spectro.io.columns.parse`: channel options
        (``energy=``, ``mode=``, ``i0=``, ``itrans=``, ``ifluor=``,
        ``irefer=``, ``mu=``, ``murefer=``, ``reference=``,
        ``energy_units=``, ``d_spacing=``) and ``label=``
        (per-scan metadata such as ``pressure`` is attached by :func:`spectro.io.parse`).

    Returns
    -------
    spectro.model.Spectra
        ``mu`` (and ``mu_ref``) with the XDI fields in attrs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ni.xdi"
    >>> rows = "\\n".join(f"{8300 + i} 1000 {400 - i}" for i in range(10))
    >>> _ = p.write_text(
    ...     "# XDI/1.0\\n# Column.1: energy eV\\n# Column.2: i0\\n# Column.3: itrans\\n"
    ...     "# Element.symbol: Ni\\n# Element.edge: K\\n# Sample.temperature: 80 K\\n"
    ...     "#----\\n" + rows + "\\n")
    >>> ds = parse(p).to_dataset()
    >>> ds.attrs["Element.symbol"], float(ds.temperature[0]), ds.attrs["mode"]
    ('Ni', 80.0, 'transmission')
    """
    path = Path(path)
    lines = read_text(path).split("\n")
    header, start, notes = parse_header(lines)
    data = _data_table(lines[start:])
    fields = _folded(header["fields"])
    _check_metadata(fields, notes)
    labels, units = _column_labels(header, data.shape[1], notes)
    chosen = {k: options[k] for k in CHANNEL_OPTIONS if options.get(k) is not None}
    if "d_spacing" not in chosen:
        d = _d_spacing(fields)
        if d is not None:
            chosen["d_spacing"] = d
        else:
            angle = any(
                u.lower().startswith("deg") or lb.lower() in ("angle", "theta")
                for lb, u in zip(labels, units)
            )
            d = crystal_d_spacing(_field(fields, "Mono.name") or "")
            if angle:
                if d is not None:
                    chosen["d_spacing"] = d
                    notes.append(
                        f"angle column without Mono.d_spacing: used d = {d:.5f} Angstrom of "
                        f"Mono.name {_field(fields, 'Mono.name')!r}"
                    )
                else:
                    notes.append("angle column without Mono.d_spacing")
    for note in notes:
        warnings.warn(f"{path.name}: {note}", FormatWarning, stacklevel=2)
    unit_texts = ["deg" if u.lower().startswith("deg") else u for u in units]
    ch = select_channels(labels, data, unit_texts=unit_texts, **chosen)
    unit_notes: list[str] = []
    coords = {
        "temperature": _quantity(_field(fields, "Sample.temperature"), _TEMPERATURE_UNITS, "K",
                                 name="Sample.temperature", notes=unit_notes),
        "pressure": _quantity(_field(fields, "Sample.pressure"), _PRESSURE_UNITS, "GPa",
                              name="Sample.pressure", notes=unit_notes),
        "sample": _field(fields, "Sample.name") or "",
        "pressure_err": _quantity(_field(fields, "Spectro.pressure_err"), _PRESSURE_UNITS, "GPa",
                                  name="Spectro.pressure_err", notes=unit_notes),
        "run": _field(fields, "Spectro.run") or "",
    }
    for note in unit_notes:
        if not (note.startswith("Sample.temperature") and any(n.startswith("Sample.temperature") for n in notes)):
            warnings.warn(f"{path.name}: {note}", FormatWarning, stacklevel=2)
    coords = {
        k: v
        for k, v in coords.items()
        if not (isinstance(v, float) and math.isnan(v)) and v != ""
    }
    scan = Scan(
        ch.energy,
        ch.signals,
        str(options.get("label") or _field(fields, "Spectro.scan") or path.stem),
        coords=coords,
        attrs=ch.attrs,
    )
    attrs = dict(header["fields"])
    attrs.update(
        xdi_version=header["version"],
        xdi_applications=header["applications"],
        comments="\n".join(header["comments"]),
        columns=labels,
    )
    return Spectra.from_scans([scan], kind="xanes", file=path, attrs=attrs)
