"""Generic column files: a header of any kind, then a numeric table.

This reader takes any text file with a table of numbers. It finds the table,
its column labels and the energy column, and computes mu with
:func:`spectro.io.channels.select_channels`.

Table
    The longest run of lines that hold only numbers (separated by spaces,
    tabs, commas or semicolons; trailing delimiters allowed; blank lines
    inside the run ignored) with the same number of fields. Numeric tables in
    the header (KEK-PF ``Block`` tables, SSRL ``Weights:``/``Offsets:``
    lines) are shorter and are ignored. Numeric lines after the table with a
    different number of fields are dropped with a
    :class:`~spectro.errors.FormatWarning`.
Line endings
    LF, CRLF and CR (classic Mac) are all accepted.
Labels, in order of preference
    1. ``labels=`` option (a list, one per column);
    2. ``Column.N: label`` or ``column N: label`` header lines; when the
       header defines the columns of several events (CLS: ``# ID: 1`` then
       its ``column N:`` lines, ``# ID: 2`` then others) and the first
       column of the table holds one event id, the columns of that event;
    3. one label per line after a ``Data:`` line (SSRL);
    4. the last non-numeric header line before the table (comment characters
       ``# ; % ! *`` stripped, also doubled ones like ``# #``), skipping
       separator lines and short numeric rows such as KEK-PF ``Mode`` and
       ``Offset`` lines. It is split on tabs, on runs of two or more spaces,
       on single spaces (a bracketed unit joins the label before it), on
       commas, or into fixed-width fields, whichever gives one label per
       column. Aliases defined in the header as ``D1 = {I0}`` replace the
       short names.

    Fewer labels than columns: the rest are named ``col<N>`` (N counted
    from 1) with a :class:`~spectro.errors.FormatWarning`. No labels: all
    columns are ``col<N>``.
Energy, units and mu
    See :mod:`spectro.io.channels` and :mod:`spectro.io.units`. A file with
    only an energy column and one other column that matches no channel name
    takes the other column as mu, with a FormatWarning.
Degenerate files
    No numeric table, or fewer than :data:`spectro.io.channels.MIN_POINTS`
    points with finite energy and mu: :class:`~spectro.errors.DataError` or
    :class:`~spectro.errors.FormatError` saying which.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ColumnError, FormatError, FormatWarning
from ..model import Scan, Spectra
from .channels import select_channels
from .limits import current, read_bytes
from .units import find_d_spacing

__all__ = [
    "CHANNEL_OPTIONS",
    "Table",
    "decimal_comma",
    "fast_parse",
    "parse_numeric_lines",
    "parse_table",
    "parse",
    "read_text",
    "sniff",
    "split_labels",
]

#: Options passed on to :func:`spectro.io.channels.select_channels`.
CHANNEL_OPTIONS = (
    "energy",
    "mode",
    "i0",
    "itrans",
    "ifluor",
    "irefer",
    "mu",
    "murefer",
    "reference",
    "energy_units",
    "d_spacing",
    "normalized",
)
#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = CHANNEL_OPTIONS + ("labels",)

# atomic groups and possessive quantifiers: matching is linear in the line's length (no backtracking)
_NUM = r"(?>[-+]?+(?>\d++\.?+\d*+|\.\d++)(?>[eEdD][-+]?+\d++)?+|[-+]?+(?>nan|inf(?:inity)?+))"
NUMERIC_LINE = re.compile(
    rf"[ \t]*+{_NUM}(?:[ \t,;]++{_NUM})*+[ \t,;]*+", re.IGNORECASE
)
_DECIMAL_COMMA_NUM = r"[-+]?+\d++(?:,\d++)?+(?>[eE][-+]?+\d++)?+"
_DECIMAL_COMMA_LINE = re.compile(rf"[ \t]*+{_DECIMAL_COMMA_NUM}(?:[ \t;]++{_DECIMAL_COMMA_NUM})++[ \t;]*+")
_DIGIT_COMMA_DIGIT = re.compile(r"\d,\d")
_NUMBER_START = frozenset("0123456789+-.")
_NUMBER = re.compile(rf"(?:{_NUM})", re.IGNORECASE)
_COMMENT = re.compile(r"^[ \t]*[#;%!*]+[ \t#;%!*]*")
_SEPARATOR = re.compile(r"[-=_*~+ \t]*")
_COLUMN_FIELD = re.compile(r"^\s*column[ .]?(\d+)\s*:\s*(.*?)\s*$", re.IGNORECASE)
_ALIAS = re.compile(r"^\s*(\w+)\s*=\s*\{([^}]*)\}")
_DATA_LINE = re.compile(r"^\s*data\s*:\s*$", re.IGNORECASE)
_EVENT_ID = re.compile(r"^\s*ID\s*:\s*(\d+)\s*$")


@dataclass(frozen=True)
class Table:
    """A numeric table and the header text found before it.

    Attributes
    ----------
    data : ndarray, shape (n_rows, n_columns)
    labels : list of str
        One per column.
    header : list of str
        The lines before the table.
    notes : list of str
        Deviations found while parsing (also issued as warnings).
    """

    data: np.ndarray
    labels: list[str]
    header: list[str]
    notes: list[str] = field(default_factory=list)


def sniff(path: Path, head: bytes) -> bool:
    """Any text file (no NUL bytes in the first bytes) can be tried.

    Examples
    --------
    >>> from pathlib import Path
    >>> sniff(Path("a.dat"), b"# energy mu\\n8300 0.1\\n"), sniff(Path("a.h5"), b"\\x89HDF\\x00")
    (True, False)
    """
    return b"\x00" not in head


def read_text(path: Path) -> str:
    """File contents as text with LF line endings (UTF-8, else Latin-1), within the reading limits.

    The file must be a regular file no larger than the limit ``max_file_mb``
    and have no line longer than ``max_line_length`` (:mod:`spectro.io.limits`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "cr.dat"
    >>> _ = p.write_bytes(b"a\\rb\\r\\nc\\n")
    >>> read_text(p).split("\\n")
    ['a', 'b', 'c', '']
    """
    limits = current()
    raw = read_bytes(path, limits)
    limits.check_lines(raw)
    if b"\x00" in raw[:4096]:
        raise FormatError("binary file: not a text table")
    if b"\r" in raw and raw.count(b"\r") == raw.count(b"\r\n"):
        raw = raw.translate(None, b"\r")  # CRLF only: the same text, in a third of the time of replace
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def decimal_comma(lines: list[str]) -> bool:
    """Whether the numeric lines write numbers with decimal commas (``8333,5  0,123``).

    True when no numeric line holds a point, nine in ten of them are numbers
    with at most one comma each, separated by spaces, tabs or semicolons,
    and at least half hold a comma between digits. Comma-separated tables
    (``8333.5,0.1`` or ``8333,1000,500``, one field between spaces) are not.

    Examples
    --------
    >>> decimal_comma(["8333,5  0,123", "8334,0  0,125"]), decimal_comma(["8333.5,0.1", "8334,0.2"])
    (True, False)
    """
    numeric = [ln for ln in lines if ln.lstrip()[:1] in _NUMBER_START and ln.strip()]
    if not numeric or any("." in ln for ln in numeric):
        return False
    shaped = sum(_DECIMAL_COMMA_LINE.fullmatch(ln) is not None for ln in numeric)
    commas = sum(_DIGIT_COMMA_DIGIT.search(ln) is not None for ln in numeric)
    return shaped >= 0.9 * len(numeric) and commas >= 0.5 * len(numeric)


def fast_parse(text: str) -> np.ndarray | None:
    """Whitespace-separated numbers by NumPy's C parser; None when it stops early.

    Examples
    --------
    >>> fast_parse("1 2.5\\n3e2").tolist(), fast_parse("1 x 2") is None
    ([1.0, 2.5, 300.0], True)
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        try:
            return np.fromstring(text, sep=" ")
        except (ValueError, DeprecationWarning):
            return None


def parse_numeric_lines(lines: list[str], n_columns: int | None = None) -> np.ndarray:
    """Parse lines that each hold ``n_columns`` numbers into a 2-D array.

    Fields may be separated by spaces, tabs, commas or semicolons; Fortran
    ``D`` exponents are accepted.

    Examples
    --------
    >>> parse_numeric_lines(["1, 2,", "3 4"]).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    text = "\n".join(lines)
    if "," in text and decimal_comma(lines):
        raise FormatError(
            "the table writes numbers with decimal commas (e.g. "
            f"{next(ln for ln in lines if _DIGIT_COMMA_DIGIT.search(ln)).strip()[:40]!r}); "
            "replace them with points"
        )
    if "," in text or ";" in text:
        text = text.replace(",", " ").replace(";", " ")
    values = fast_parse(text) if "d" not in text and "D" not in text else None
    if n_columns is None:
        n_columns = (
            len(lines[0].replace(",", " ").replace(";", " ").split()) if lines else 0
        )
    expected = len(lines) * n_columns
    if values is None or values.size != expected:
        tokens = re.sub(r"[dD]", "e", text).split()
        if len(tokens) != expected:
            raise FormatError(
                f"table is not rectangular: {len(tokens)} numbers for {len(lines)} rows"
            )
        values = np.array(tokens, dtype=float)
    return values.reshape(len(lines), n_columns)


def _field_count(line: str) -> int:
    return len(line.replace(",", " ").replace(";", " ").split())


def _blocks(lines: list[str], *, exact: bool) -> list[tuple[int, int, int, list[int]]]:
    """Runs of numeric lines with equal field counts: (start, stop, n_fields, rows).

    With ``exact=False`` a line counts as numeric when it starts with a digit,
    sign or point (fast); the caller checks the chosen block by parsing it
    and falls back to ``exact=True`` (every field matched as a number).
    """
    blocks = []
    current: list[int] = []
    count = 0
    for i, line in enumerate(lines):
        text = line.lstrip()
        if not text:
            continue
        if NUMERIC_LINE.fullmatch(line) if exact else text[0] in _NUMBER_START:
            n = _field_count(line)
            if current and n == count:
                current.append(i)
                continue
            if current:
                blocks.append((current[0], current[-1] + 1, count, current))
            current, count = [i], n
        elif current:
            blocks.append((current[0], current[-1] + 1, count, current))
            current = []
    if current:
        blocks.append((current[0], current[-1] + 1, count, current))
    return blocks


def _largest(
    blocks: list[tuple[int, int, int, list[int]]],
) -> tuple[int, int, int, list[int]]:
    return max(blocks, key=lambda b: (len(b[3]), b[0]))


_Block = tuple[int, int, int, list[int]]


def _parse_block(lines: list[str]) -> tuple[_Block, np.ndarray, list[tuple[_Block, list[int]]]]:
    """The data block, its numbers, and the other numeric blocks with their numeric rows."""
    blocks = _blocks(lines, exact=False)
    if blocks:
        block = _largest(blocks)
        rows = [lines[i] for i in block[3]]
        text = "\n".join(rows)
        values = (
            None
            if "d" in text or "D" in text
            else fast_parse(text.replace(",", " ").replace(";", " "))
        )
        if values is not None and values.size == len(rows) * block[2]:
            others = [(b, [i for i in b[3] if NUMERIC_LINE.fullmatch(lines[i])]) for b in blocks if b is not block]
            return block, values.reshape(len(rows), block[2]), others
    blocks = _blocks(lines, exact=True)
    if not blocks:
        raise FormatError("no numeric table found")
    block = _largest(blocks)
    data = parse_numeric_lines([lines[i] for i in block[3]], block[2])
    return block, data, [(b, b[3]) for b in blocks if b is not block]


def _line_numbers(rows: list[int], most: int = 8) -> str:
    """0-based row indices as 1-based line numbers in ranges: ``3-7, 12``."""
    ranges: list[list[int]] = []
    for r in rows:
        if ranges and r == ranges[-1][1] + 1:
            ranges[-1][1] = r
        else:
            ranges.append([r, r])
    text = ", ".join(f"{a + 1}" if a == b else f"{a + 1}-{b + 1}" for a, b in ranges[:most])
    return text + (", ..." if len(ranges) > most else "")


def _skipped(
    lines: list[str], block: _Block, data: np.ndarray, others: list[tuple[_Block, list[int]]]
) -> list[str]:
    """Notes on the numeric lines left out of the table; FormatError when the table is interrupted.

    Numeric rows of the table's width on the other side of a non-numeric
    line, whose first column is on the scale of the table's (within a
    factor 2 of its median), are data the table would lose (one malformed
    row, a repeated header line): an error naming the line. Other numeric
    lines are noted with their line numbers.
    """
    start, stop, n_columns, _ = block
    first = np.abs(data[:, 0][np.isfinite(data[:, 0])]) if data.size else np.zeros(0)
    scale = float(np.median(first)) if first.size else 0.0
    for other, rows in others:
        if not rows or other[2] != n_columns:
            continue
        values = parse_numeric_lines([lines[k] for k in rows], n_columns)[:, 0]
        values = np.abs(values[np.isfinite(values)])
        if not (scale > 0 and values.size and 0.5 * scale <= float(np.median(values)) <= 2.0 * scale):
            continue  # a table of the header (SSRL weights and offsets), not rows of this one
        gap = range(other[1], start) if other[1] <= start else range(stop, other[0])
        where = next((k for k in gap if lines[k].strip()), gap.start if len(gap) else start)
        raise FormatError(
            f"the data table is interrupted at line {where + 1} ({lines[where].strip()[:60]!r}): "
            f"{len(rows)} row(s) of {n_columns} numbers at lines {_line_numbers(rows)} would be left out of "
            f"the {len(block[3])} rows at lines {start + 1}-{stop}; fix or remove that line"
        )
    notes = []
    for side, chosen in (("before", [r for b, rows in others if b[0] < start for r in rows]),
                         ("after", [r for b, rows in others if b[0] >= stop for r in rows])):
        if chosen:
            notes.append(
                f"ignored {len(chosen)} numeric line(s) {side} the table with a different number of fields "
                f"than its {n_columns} (line(s) {_line_numbers(chosen)})"
            )
    return notes


def _strip_comment(line: str) -> str:
    return _COMMENT.sub("", line).strip()


def _strip_comment_keep_width(line: str) -> str:
    return re.sub(r"^[ \t]*[#;%!*]", "", line).rstrip()


def split_labels(text: str, n_columns: int) -> list[str]:
    """Split a label line into labels, trying several conventions.

    Tabs, runs of two or more spaces, single spaces (a bracketed unit such
    as ``(keV)`` joins the label before it), commas, then fixed-width
    fields. The first split with ``n_columns`` labels wins; otherwise the
    single-space split (possibly shorter or longer).

    Examples
    --------
    >>> split_labels("1_Energy (keV) 2_sec 3_i0", 3)
    ['1_Energy (keV)', '2_sec', '3_i0']
    >>> split_labels("Mono Energy *        Scaler preset time * I0   ", 3)
    ['Mono Energy *', 'Scaler preset time *', 'I0']
    >>> split_labels("energy,i0,it,", 3)
    ['energy', 'i0', 'it']
    """
    text = text.rstrip()
    candidates = []
    if "\t" in text:
        candidates.append([t.strip() for t in text.split("\t") if t.strip()])
    candidates.append(
        [t.strip() for t in re.split(r" {2,}|\t", text.strip()) if t.strip()]
    )
    words: list[str] = []
    for tok in text.split():
        if words and (tok[0] in "([" or words[-1].endswith(("(", "["))):
            words[-1] += " " + tok
        else:
            words.append(tok)
    candidates.append(words)
    if "," in text:
        candidates.append([t.strip() for t in text.split(",") if t.strip()])
    for cand in candidates:
        if len(cand) == n_columns:
            return cand
    if n_columns > 1:
        fixed = _fixed_width(text, n_columns)
        if fixed:
            return fixed
    return words


#: Widest field tried by the fixed-width split of a label line (beamline files use 10-30 characters).
_MAX_FIELD_WIDTH = 64


def _fixed_width(text: str, n_columns: int) -> list[str] | None:
    """Split into ``n_columns`` fields of equal width, best aligned first.

    Only widths that fit the text are tried, at most :data:`_MAX_FIELD_WIDTH`,
    so the time is linear in the length of the line.
    """
    best, best_score = None, -1
    if n_columns < 2:
        return None
    used = len(text.rstrip())
    lo = max(4, -(-used // n_columns))
    hi = min(len(text) // (n_columns - 1), _MAX_FIELD_WIDTH)
    for w in range(lo, hi + 1):
        if len(text) <= (n_columns - 1) * w:
            continue
        chunks = [text[k * w : (k + 1) * w] for k in range(n_columns)]
        if not all(c.strip() for c in chunks):
            continue
        score = sum(c[0] != " " for c in chunks) * 2 + sum(c[-1] == " " for c in chunks)
        if score > best_score:
            best, best_score = [c.strip() for c in chunks], score
    return best


def _label_line(
    header: list[str], n_columns: int
) -> tuple[list[str] | None, int | None]:
    skipped_numeric = 0
    for idx in range(len(header) - 1, -1, -1):
        text = _strip_comment(header[idx])
        if not text or _SEPARATOR.fullmatch(text):
            continue
        tokens = text.split()
        numeric = sum(bool(_NUMBER.fullmatch(t)) for t in tokens)
        if numeric * 2 > len(tokens) and skipped_numeric < 3:
            skipped_numeric += 1
            continue
        if (
            ":" in text
            and _COLUMN_FIELD.match(text) is None
            and re.match(r"^[\w .]+:\s", text)
        ):
            return None, None
        labels = split_labels(text, n_columns)
        if len(labels) != n_columns:
            fixed = _fixed_width(_strip_comment_keep_width(header[idx]), n_columns)
            labels = fixed or labels
        return labels, idx
    return None, None


def _event_id(data: np.ndarray) -> int | None:
    """The event id a CLS table carries in its first column: one integer on every row, else None."""
    first = data[:, 0]
    if first.size and np.isfinite(first[0]) and first[0] == int(first[0]) and np.all(first == first[0]):
        return int(first[0])
    return None


def _labels_from_header(
    header: list[str], n_columns: int, *, event_id: int | None = None
) -> tuple[list[str], list[str]]:
    notes: list[str] = []
    fields: dict[int, str] = {}
    events: dict[int, dict[int, str]] = {}
    current_event: int | None = None
    aliases: dict[str, str] = {}
    data_line = None
    for i, line in enumerate(header):
        text = _strip_comment(line)
        m = _COLUMN_FIELD.match(text)
        if m:
            fields[int(m.group(1))] = m.group(2)
            if current_event is not None:
                events.setdefault(current_event, {})[int(m.group(1))] = m.group(2)
            continue
        m = _EVENT_ID.match(text)
        if m:
            current_event = int(m.group(1))
            continue
        m = _ALIAS.match(text)
        if m:
            aliases[m.group(1)] = m.group(2).strip()
        if _DATA_LINE.match(text):
            data_line = i
    if len(events) > 1 and event_id in events:
        fields = events[event_id]
    labels: list[str] | None = None
    if fields:
        labels = [fields.get(k + 1, "") for k in range(n_columns)]
        if all(labels):
            return labels, notes
    if data_line is not None:
        labels = [ln.strip() for ln in header[data_line + 1 :] if ln.strip()]
    if labels is None or not any(labels):
        labels, _ = _label_line(header, n_columns)
    if not labels:
        return [f"col{k + 1}" for k in range(n_columns)], notes
    labels = [aliases.get(lb, lb) for lb in labels]
    if len(labels) < n_columns:
        notes.append(
            f"{len(labels)} column labels for {n_columns} columns; "
            f"named the others col{len(labels) + 1}..col{n_columns}"
        )
    elif len(labels) > n_columns:
        notes.append(
            f"{len(labels)} column labels for {n_columns} columns; ignored the extra labels"
        )
    labels = [lb or f"col{k + 1}" for k, lb in enumerate(labels[:n_columns])]
    labels += [f"col{k + 1}" for k in range(len(labels), n_columns)]
    return labels, notes


def parse_table(text: str, *, labels: list[str] | None = None) -> Table:
    """Find the numeric table and its labels in the text of a column file.

    Parameters
    ----------
    text : str
        File contents with LF line endings (:func:`read_text`).
    labels : list of str, optional
        Column labels to use instead of those in the header.

    Returns
    -------
    Table

    Raises
    ------
    FormatError
        No numeric table, or ``labels`` of the wrong length.

    Examples
    --------
    >>> t = parse_table("# scan 1\\n# energy  i0  it\\n8300 10 5\\n8301 10 4\\n")
    >>> t.labels, t.data.shape
    (['energy', 'i0', 'it'], (2, 3))
    """
    lines = text.split("\n")
    notes = []
    if "," in text and decimal_comma(lines):
        lines = [ln.replace(",", ".") if ln.lstrip()[:1] in _NUMBER_START else ln for ln in lines]
        notes.append("numbers are written with decimal commas; read them as decimal points")
    block, data, others = _parse_block(lines)
    start, _, n_columns, _ = block
    notes += _skipped(lines, block, data, others)
    header = lines[:start]
    if labels is not None:
        if len(labels) != n_columns:
            raise FormatError(
                f"the reading option labels has {len(labels)} names but the table has {n_columns} columns"
            )
        found = list(labels)
    else:
        found, label_notes = _labels_from_header(header, n_columns, event_id=_event_id(data))
        notes += label_notes
    return Table(data, found, header, notes)


def _channel_options(options: dict[str, Any], header_text: str) -> dict[str, Any]:
    known = set(CHANNEL_OPTIONS) | {"labels", "label"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ColumnError(f"unknown option(s) {unknown}; known: {sorted(known)}")
    chosen = {k: options[k] for k in CHANNEL_OPTIONS if options.get(k) is not None}
    if "d_spacing" not in chosen:
        d = find_d_spacing(header_text)
        if d is not None:
            chosen["d_spacing"] = d
    return chosen


def parse(path: Path, **options: Any) -> Spectra:
    """Parse a generic column file into the arrays of a XANES Dataset (one scan).

    Parameters
    ----------
    path : pathlib.Path
    **options
        ``labels=`` (list of column names), ``label=`` (scan label, default
        the file name stem), the channel options of
        :func:`spectro.io.channels.select_channels` (``energy=``,
        ``mode=``, ``i0=``, ``itrans=``, ``ifluor=``, ``irefer=``, ``mu=``,
        ``murefer=``, ``reference=``, ``energy_units=``, ``d_spacing=``,
        ``normalized=``) (per-scan metadata such as ``pressure`` is attached by :func:`spectro.io.parse`).

    Returns
    -------
    spectro.model.Spectra
        ``mu(scan, energy)`` and ``mu_ref`` when a reference channel exists;
        attrs record the columns, mode and header.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "scan.dat"
    >>> e = np.arange(8300.0, 8310.0)
    >>> rows = "\\n".join(f"{x} 1000 {500 + i}" for i, x in enumerate(e))
    >>> _ = p.write_text("# Energy I0 It\\n" + rows + "\\n")
    >>> ds = parse(p).to_dataset()
    >>> ds.attrs["mode"], ds.sizes["energy"]
    ('transmission', 10)
    """
    path = Path(path)
    table = parse_table(read_text(path), labels=options.get("labels"))
    for note in table.notes:
        warnings.warn(f"{path.name}: {note}", FormatWarning, stacklevel=2)
    header_text = "\n".join(table.header)
    chosen = _channel_options(options, header_text)
    ch = select_channels(table.labels, table.data, **chosen)
    scan = Scan(
        ch.energy,
        ch.signals,
        str(options.get("label", path.stem)),
        attrs=ch.attrs,
    )
    attrs = {"columns": list(table.labels), "header": header_text}
    return Spectra.from_scans([scan], kind="xanes", file=path, attrs=attrs)
