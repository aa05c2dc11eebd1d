"""SPEC files: several scans, each ``#S`` header, ``#L`` labels and a table.

Each ``#S <number> <title>`` starts a scan, labelled ``"<number> <title>"``
(made unique with ``#2``, ``#3`` ... when a number repeats). Its columns are
named by the ``#L`` line (labels separated by two or more spaces, as SPEC
writes them, so that ``Counter 27`` stays one label); when there is no
``#L`` line, by a ``#C`` comment line that holds one label per column (e.g.
``#C 1_Energy (keV) 2_sec ...``); otherwise ``col<N>``. The rows are the
numeric lines of the scan (``@A`` MCA lines and ``#`` lines are skipped);
``#N`` gives the expected number of columns.

Every scan goes through :func:`spectro.io.channels.select_channels` with
the same options. Scans that cannot be used (no points, no usable
channels) are skipped with a :class:`~spectro.errors.FormatWarning`
naming the scan and the reason; when no scan is usable the first error is
raised. Scans on different energy grids share the union grid
(:meth:`spectro.model.Spectra.from_scans`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, FormatWarning, SpectroError
from ..model import Scan, Spectra
from .channels import select_channels
from .columns import (
    CHANNEL_OPTIONS,
    NUMERIC_LINE,
    _line_numbers,
    parse_numeric_lines,
    read_text,
    split_labels,
)
from .units import find_d_spacing

__all__ = ["SpecScan", "parse_scans", "parse", "sniff"]

#: The :class:`~spectro.options.ReadOptions` this reader takes.
OPTIONS: tuple[str, ...] = CHANNEL_OPTIONS + ("scans",)

_SCAN_START = re.compile(rb"^#S\s+\S", re.MULTILINE)


@dataclass(frozen=True)
class SpecScan:
    """One scan of a SPEC file.

    Attributes
    ----------
    number : str
        The scan number (first word after ``#S``).
    title : str
        The rest of the ``#S`` line (the scan command).
    labels : list of str
    data : ndarray, shape (n_rows, n_columns)
    header : list of str
        The scan's ``#`` lines.
    """

    number: str
    title: str
    labels: list[str]
    data: np.ndarray
    header: list[str]
    skipped: tuple[int, ...] = ()
    interrupted: bool = False


def sniff(path: Path, head: bytes) -> bool:
    """A SPEC file has a ``#S <number>`` scan line near the top.

    Examples
    --------
    >>> from pathlib import Path
    >>> sniff(Path("a.spec"), b"#F a\\n#S 1 ascan\\n#L x y\\n1 2\\n")
    True
    >>> sniff(Path("a.dat"), b"# energy mu\\n1 2\\n")
    False
    """
    head = head.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return b"\x00" not in head and _SCAN_START.search(head) is not None


def _labels(header: list[str], n_columns: int) -> list[str]:
    for line in header:
        if line.startswith("#L"):
            text = line[2:].strip()
            labels = [t for t in re.split(r"\s{2,}|\t", text) if t]
            if len(labels) != n_columns:
                labels = split_labels(text, n_columns)
            labels = labels[:n_columns]
            return labels + [f"col{k + 1}" for k in range(len(labels), n_columns)]
    for line in header:
        if line.startswith("#C"):
            labels = split_labels(line[2:].strip(), n_columns)
            if len(labels) == n_columns:
                return labels
    return [f"col{k + 1}" for k in range(n_columns)]


def parse_scans(text: str) -> tuple[list[str], list[SpecScan]]:
    """Split the text of a SPEC file into its file header and scans.

    Examples
    --------
    >>> head, scans = parse_scans("#F x\\n#S 1 ascan en 1 2\\n#N 2\\n#L energy  I0\\n1 2\\n3 4\\n")
    >>> scans[0].number, scans[0].title, scans[0].labels, scans[0].data.shape
    ('1', 'ascan en 1 2', ['energy', 'I0'], (2, 2))
    """
    lines = text.split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.startswith("#S")]
    if not starts:
        raise FormatError("no '#S' scan line")
    file_header = [ln for ln in lines[: starts[0]] if ln.startswith("#")]
    scans = []
    for start, stop in zip(starts, starts[1:] + [len(lines)]):
        block = lines[start:stop]
        words = block[0][2:].split(None, 1)
        number, title = (words + ["", ""])[:2]
        header = [ln for ln in block if ln.startswith("#")]
        body = [
            (start + k, ln)
            for k, ln in enumerate(block)
            if k and ln.strip() and not ln.startswith(("#", "@"))
        ]
        numeric = [(k, ln) for k, ln in body if NUMERIC_LINE.fullmatch(ln)]
        n_declared = next(
            (int(ln.split()[1]) for ln in header if re.match(r"#N\s+\d+", ln)), None
        )
        skipped: list[int] = []
        interrupted = False
        if numeric:
            counts = [len(r.split()) for _, r in numeric]
            n = (
                n_declared
                if n_declared in counts
                else max(set(counts), key=counts.count)
            )
            kept = [k for (k, _), c in zip(numeric, counts) if c == n]
            rows = [r for (_, r), c in zip(numeric, counts) if c == n]
            skipped = sorted(set(k for k, _ in body) - set(kept))
            interrupted = any(kept[0] < k < kept[-1] for k in skipped)
            data = parse_numeric_lines(rows, n)
        else:
            n = n_declared or 0
            data = np.empty((0, n))
            skipped = [k for k, _ in body]
        scans.append(
            SpecScan(
                number, title.strip(), _labels(header, data.shape[1]), data, header,
                tuple(skipped), interrupted,
            )
        )
    return file_header, scans


def _unique(labels: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lb in labels:
        seen[lb] = seen.get(lb, 0) + 1
        out.append(lb if seen[lb] == 1 else f"{lb} #{seen[lb]}")
    return out


def parse(path: Path, **options: Any) -> Spectra:
    """Parse the scans of a SPEC file into the arrays of one XANES Dataset.

    Parameters
    ----------
    path : pathlib.Path
    **options
        ``scans=`` (scan numbers to read, as str or int; default all), the
        channel options of :func:`spectro.io.channels.select_channels`
        (per-scan metadata such as ``pressure`` is attached by :func:`spectro.io.parse`).

    Returns
    -------
    spectro.model.Spectra
        One ``scan`` entry per usable SPEC scan, labelled
        ``"<number> <title>"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "two.spec"
    >>> body = lambda n, e0: f"#S {n} ascan energy\\n#N 3\\n#L energy  I0  I1\\n" + "".join(
    ...     f"{e0 + i} 1000 {500 - i}\\n" for i in range(8))
    >>> _ = p.write_text("#F two.spec\\n\\n" + body(1, 8300) + "\\n" + body(2, 8300.5))
    >>> ds = parse(p).to_dataset()
    >>> ds.scan.values.tolist(), ds.sizes["energy"]
    (['1 ascan energy', '2 ascan energy'], 16)
    """
    path = Path(path)
    file_header, scans = parse_scans(read_text(path))
    wanted = options.get("scans")
    if wanted is not None:
        keep = {str(w) for w in wanted}
        scans = [s for s in scans if s.number in keep]
        if not scans:
            raise FormatError(f"none of the scans {sorted(keep)} is in the file")
    chosen = {k: options[k] for k in CHANNEL_OPTIONS if options.get(k) is not None}
    if "d_spacing" not in chosen:
        d = find_d_spacing("\n".join(file_header))
        if d is not None:
            chosen["d_spacing"] = d
    built: list[Scan] = []
    used: list[list[str]] = []
    errors: list[SpectroError] = []
    names = _unique([f"{s.number} {s.title}".strip() for s in scans])
    for name, sc in zip(names, scans):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if sc.data.shape[0] == 0:
                    raise FormatError("no data rows")
                if sc.interrupted:
                    raise FormatError(
                        f"the data rows are interrupted by line(s) {_line_numbers(list(sc.skipped))} that are "
                        f"not {sc.data.shape[1]} numbers; fix or remove them"
                    )
                if sc.skipped:
                    warnings.warn(
                        f"ignored {len(sc.skipped)} line(s) before or after the data rows that are not "
                        f"{sc.data.shape[1]} numbers (line(s) {_line_numbers(list(sc.skipped))})",
                        FormatWarning,
                        stacklevel=2,
                    )
                ch = select_channels(sc.labels, sc.data, **chosen)
        except SpectroError as err:
            errors.append(err.with_context(scan=name))
            continue
        for w in caught:
            warnings.warn(
                f"{path.name}: scan {name!r}: {w.message}", w.category, stacklevel=2
            )
        attrs = dict(ch.attrs, columns=", ".join(sc.labels))
        used.append(sc.labels)
        built.append(
            Scan(ch.energy, ch.signals, name, attrs=attrs)
        )
    if not built:
        raise errors[0]
    for err in errors:
        warnings.warn(f"{path.name}: skipped {err}", FormatWarning, stacklevel=2)
    attrs: dict[str, Any] = {
        "header": "\n".join(file_header),
        "n_scans_in_file": len(scans),
    }
    if all(labels == used[0] for labels in used):
        attrs["columns"] = used[0]
        built = [
            Scan(
                b.energy,
                b.signals,
                b.label,
                b.coords,
                {k: v for k, v in b.attrs.items() if k != "columns"},
            )
            for b in built
        ]
    return Spectra.from_scans(built, kind="xanes", file=path, attrs=attrs)
