"""Batch inputs: files, folders, glob patterns and manifest CSV files.

A manifest is a CSV file whose header has a ``file`` column; optional
columns are

- metadata: ``pressure`` and ``pressure_err`` (GPa), ``temperature`` (K),
  ``run``, ``sample``, ``kind`` (``xanes`` or ``xes``; empty means detected
  from the data), ``ruby_wavelength`` and ``ruby_wavelength_err`` (nm, the
  ruby R1 line read instead of a pressure), ``compound`` (the compound of
  the series, e.g. ``NiO`` for the reference) and ``path`` (an explicit
  pressure or temperature path label);
- valence anchors: ``valence`` marks a *reference row*, a spectrum of known
  valence; ``references`` names a row's anchors, e.g. ``NiO=2;LaNiO3=3``,
  each a catalogue id, a catalogued compound or a file, with its valence.
  When a manifest has reference rows, every row without a ``references``
  cell takes them as its anchors;
- reading options: a column named like a :class:`~spectro.options.ReadOptions`
  field (``energy``, ``mode``, ``i0``, ``itrans``, ``mu``, ``reference``,
  ``energy_units``, ``scans``, ``signal`` ...) changes that option for the
  row's files; an empty cell keeps the option given for every file (the
  command's flags), ``none`` resets it to the default. A bad cell is an
  :class:`~spectro.errors.OptionError` naming the manifest, the row and
  the column.

``spectro batch`` uses the metadata ``pressure`` ... ``kind``, the anchors
and the reading options; ``spectro valence`` the anchors, ``kind`` and the
reading options; ``spectro pressure`` the metadata and the reading options
(it converts ruby wavelengths itself). Relative paths in a manifest are
relative to the manifest's folder, and a ``file`` cell may be a glob
pattern (every match gets the row's metadata). Example::

    file,pressure,temperature,run,sample,valence,mu,reference
    nio.xdi,0.0,300,A,NiO,2,mutrans,no
    lanio3.xdi,0.0,80,A,LaNiO3,3,,
    p01.xdi,0.0,300,A,La3Ni2O7,,,
    p02.xdi,4.2,300,A,La3Ni2O7,,,
"""

from __future__ import annotations

import csv
import glob
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import FormatError, MissingFileError, OptionError
from ..options import ReadOptions

__all__ = ["READ_COLUMNS", "Job", "expand_inputs", "is_manifest", "parse_references", "read_manifest"]

_KINDS = ("xanes", "xes")
#: Manifest columns that are reading options (the metadata options are columns of their own).
READ_COLUMNS = tuple(name for name in ReadOptions.names() if name not in ReadOptions.METADATA)
_COLUMNS = ("file", "pressure", "pressure_err", "temperature", "run", "sample", "kind", "references",
            "valence", "ruby_wavelength", "ruby_wavelength_err", "compound", "path", *READ_COLUMNS)
_NUMBERS = ("pressure", "pressure_err", "temperature", "ruby_wavelength", "ruby_wavelength_err", "valence")
_LABELS = {"run": "run", "sample": "sample", "compound": "compound", "path": "path_label"}


@dataclass(frozen=True)
class Job:
    """One input file of a batch and the metadata it is processed with.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path of the file.
    pressure, temperature : float
        GPa and K; NaN keeps what the file says (or unknown).
    run, sample : str
        Empty keeps what the file says.
    kind : {"xanes", "xes"} or None
        None: taken from the Dataset the reader returns.
    references : tuple of (str, float)
        Valence anchors as (reference id or file, valence); empty for the
        batch default.
    pressure_err : float
        GPa; NaN when not given.
    ruby_wavelength, ruby_wavelength_err : float
        Ruby R1 wavelength and its uncertainty, nm; NaN when not given.
    compound, path_label : str
        Compound of the series and pressure-path label (manifest columns
        ``compound`` and ``path``); empty when not given.
    read : tuple of (str, str)
        Changes to the batch's read options for this input (manifest
        columns named like :class:`spectro.options.ReadOptions` fields),
        as (option, value) pairs.
    anchor_read : tuple of (str, tuple of (str, str))
        The read changes of each anchor that is a reference row of the
        manifest (its file, and its row's ``read``), so that the anchor is
        read as its row says.
    valence : float
        Known valence of a reference row (manifest column ``valence``);
        NaN for a sample.
    row : int
        Manifest row the job comes from (0 when not from a manifest); not
        part of the job's identity.
    """

    path: Path
    pressure: float = math.nan
    temperature: float = math.nan
    run: str = ""
    sample: str = ""
    kind: str | None = None
    references: tuple[tuple[str, float], ...] = field(default=())
    pressure_err: float = math.nan
    ruby_wavelength: float = math.nan
    ruby_wavelength_err: float = math.nan
    compound: str = ""
    path_label: str = ""
    read: tuple[tuple[str, str], ...] = field(default=())
    anchor_read: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = field(default=())
    valence: float = math.nan
    row: int = field(default=0, compare=False)

    def metadata(self) -> dict[str, Any]:
        """The metadata ``spectro batch`` uses, JSON-friendly (NaN as None), part of the record key."""
        return {
            "pressure": None if math.isnan(self.pressure) else self.pressure,
            "temperature": None if math.isnan(self.temperature) else self.temperature,
            "run": self.run,
            "sample": self.sample,
            "kind": self.kind,
            "references": [list(r) for r in self.references],
            "read": [list(r) for r in self.read],
            "anchor_read": [[name, [list(r) for r in changes]] for name, changes in self.anchor_read],
        }


def parse_references(
    text: str, *, base: Path | None = None, file: str | os.PathLike | None = None
) -> tuple[tuple[str, float], ...]:
    """Parse ``"NiO=2;LaNiO3=3"`` into ``(("NiO", 2.0), ("LaNiO3", 3.0))``.

    An item naming an existing file (relative to ``base``) becomes its
    absolute path; anything else is kept as a reference-library identifier.

    Raises
    ------
    FormatError
        An item without ``=`` or with a valence that is not a number.

    Examples
    --------
    >>> parse_references("NiO=2; LaNiO3=3")
    (('NiO', 2.0), ('LaNiO3', 3.0))
    >>> parse_references("")
    ()
    """
    refs = []
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        name, sep, value = item.rpartition("=")
        name = name.strip()
        try:
            valence = float(value)
        except ValueError:
            valence = math.nan
        if not sep or not name or not math.isfinite(valence):
            raise FormatError(
                f"reference {item!r} must be NAME=VALENCE, e.g. 'NiO=2;LaNiO3=3'", file=file
            )
        candidate = (base or Path.cwd()) / name
        refs.append((str(candidate.resolve()) if candidate.is_file() else name, valence))
    return tuple(refs)


def is_manifest(path: Path) -> bool:
    """True for a ``.csv`` file whose first line has a ``file`` column."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    return "file" in (h.strip().lower() for h in header)


def _number(text: str | None, column: str, row: int, manifest: Path) -> float:
    text = (text or "").strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"row {row}: {column} {text!r} is not a number", file=manifest) from None


def _matches(pattern: str, base: Path, exclude: Sequence[Path] = ()) -> list[Path]:
    """The files a path, folder or glob pattern names, resolved and sorted, none below ``exclude``.

    Folders and ``**`` are walked without following symbolic links to
    folders, so a link that points back up the tree cannot make the walk
    endless; links to files are followed.
    """
    path = Path(pattern).expanduser()
    if not path.is_absolute():
        path = base / path
    if path.is_file():
        found = [path.resolve()]
    elif path.is_dir():
        found = sorted(p.resolve() for p in _walk(path, "**/*") if not _hidden(p, path))
    else:
        found = sorted(p.resolve() for p in _glob(path))
    return [p for p in found if not any(p.is_relative_to(folder) for folder in exclude)]


def _walk(root: Path, pattern: str) -> list[Path]:
    """The regular files (or links to them) of ``root.glob(pattern)``; pathlib's ``**`` follows no folder link.

    pathlib skips the folders it cannot list without a word; with ``**``
    a folder below ``root`` that cannot be listed is a
    :class:`~spectro.errors.MissingFileError` instead (its inputs would
    be left out silently).
    """
    if "**" in pattern:
        for _ in os.walk(root, onerror=_unreadable):
            pass
    return [p for p in root.glob(pattern) if p.is_file()]


def _unreadable(err: OSError) -> None:
    raise MissingFileError(f"a folder that cannot be read: {err.strerror or err}", file=err.filename) from None


def _glob(path: Path) -> list[Path]:
    """The files a glob pattern matches: its fixed leading folders, then pathlib's glob of the rest."""
    parts = path.parts
    first = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    root, rest = Path(*parts[:first]), parts[first:]
    if not rest:
        return []
    if not root.is_dir():
        return []
    found = _walk(root, str(Path(*rest)))
    if any(part.startswith(".") for part in rest):
        return found
    return [p for p in found if not _hidden(p, root)]  # as glob.glob: '*' matches no hidden name


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _reading(row: dict[str, str | None], number: int, manifest: Path) -> tuple[tuple[str, str], ...]:
    """The reading options a row sets (its non-empty reading columns), validated."""
    given = {col: (row.get(col) or "").strip() for col in READ_COLUMNS}
    given = {col: text for col, text in given.items() if text}
    try:
        ReadOptions.from_mapping(given, door="manifest")
    except OptionError as err:
        raise OptionError(err.option, err.value, err.allowed, door="manifest", file=manifest, row=number) from None
    return tuple(given.items())


def read_manifest(path: str | os.PathLike) -> list[Job]:
    """Read a manifest CSV into jobs (see the module documentation).

    Raises
    ------
    FormatError
        No ``file`` column, unknown columns, a bad number, kind or
        reference, naming the row.
    OptionError
        A reading-option cell with a value its option cannot take, naming
        the row and the column.
    MissingFileError
        The manifest does not exist, or a ``file`` cell matches no file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("a.xdi", "nio.xdi"):
    ...     _ = (d / name).write_text("1 2")
    >>> _ = (d / "m.csv").write_text("file,pressure,references,mode\\na.xdi,3.5,NiO=2;LaNiO3=3,mu\\n")
    >>> job, = read_manifest(d / "m.csv")
    >>> job.path.name, job.pressure, job.references, job.read
    ('a.xdi', 3.5, (('NiO', 2.0), ('LaNiO3', 3.0)), (('mode', 'mu'),))
    >>> _ = (d / "m.csv").write_text("file,valence\\nnio.xdi,2\\na.xdi,\\n")
    >>> [(j.path.name, j.valence, [pathlib.Path(n).name for n, _ in j.references]) for j in read_manifest(d / "m.csv")]
    [('nio.xdi', 2.0, ['nio.xdi']), ('a.xdi', nan, ['nio.xdi'])]
    """
    manifest = Path(path).resolve()
    if not manifest.is_file():
        raise MissingFileError("manifest not found", file=manifest)
    base = manifest.parent
    jobs: list[tuple[Job, bool]] = []
    with manifest.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
        unknown = sorted(set(fields) - set(_COLUMNS))
        if unknown or "file" not in fields:
            problem = f"unknown manifest column(s) {unknown}" if unknown else "no 'file' column"
            raise FormatError(f"{problem}; allowed: {list(_COLUMNS)}, 'file' required", file=manifest)
        reader.fieldnames = fields
        for row_number, row in enumerate(reader, start=2):
            cell = (row.get("file") or "").strip()
            if not cell:
                continue
            kind = (row.get("kind") or "").strip().lower() or None
            if kind is not None and kind not in _KINDS:
                raise FormatError(
                    f"row {row_number}: kind {kind!r} must be 'xanes', 'xes' or empty", file=manifest
                )
            matches = _matches(cell, base)
            if not matches:
                raise MissingFileError(f"row {row_number}: no file matches {cell!r}", file=manifest)
            common: dict[str, Any] = {
                "kind": kind,
                "references": parse_references(row.get("references") or "", base=base, file=manifest),
                "read": _reading(row, row_number, manifest),
                "row": row_number,
            }
            common.update({col: _number(row.get(col), col, row_number, manifest) for col in _NUMBERS})
            if math.isinf(common["valence"]):
                raise FormatError(f"row {row_number}: valence {common['valence']} is not finite", file=manifest)
            common.update({name: (row.get(col) or "").strip() for col, name in _LABELS.items()})
            jobs.extend((Job(path=p, **common), bool(common["references"])) for p in matches)
    anchors = tuple((str(job.path), job.valence) for job, _ in jobs if not math.isnan(job.valence))
    reads = tuple((str(job.path), job.read) for job, _ in jobs if not math.isnan(job.valence) and job.read)
    return [replace(job, anchor_read=reads) if named or not anchors else
            replace(job, references=anchors, anchor_read=reads) for job, named in jobs]


def expand_inputs(
    inputs: Iterable[str | os.PathLike], *, references: Sequence[tuple[str, float]] = (),
    exclude: Iterable[str | os.PathLike] = (),
) -> list[Job]:
    """Turn command-line inputs into jobs, in order, without duplicates.

    Parameters
    ----------
    inputs : iterable of str or path-like
        Files, folders (every non-hidden file below them), glob patterns
        (``**`` recurses) and manifest CSV files.
    references : sequence of (str, float)
        Anchors for inputs that are not given their own in a manifest.
    exclude : iterable of str or path-like
        Folders whose files are never inputs, e.g. the batch's output
        folder (so that a batch writing below its input folder does not
        read its own outputs back on the next run).

    Folders and ``**`` patterns are walked without following symbolic
    links to folders (a link back up the tree cannot loop).

    Raises
    ------
    MissingFileError
        An input that matches no file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.dat", "a.dat"):
    ...     _ = (d / name).write_text("1 2")
    >>> [j.path.name for j in expand_inputs([str(d / "*.dat"), d / "a.dat"])]
    ['a.dat', 'b.dat']
    """
    anchors = tuple((str(name), float(valence)) for name, valence in references)
    skip = [Path(folder).expanduser().resolve() for folder in exclude]
    jobs: list[Job] = []
    for item in inputs:
        path = Path(item).expanduser()
        if is_manifest(path):
            found = [job for job in read_manifest(path) if not any(job.path.is_relative_to(f) for f in skip)]
        else:
            found = [Job(path=p) for p in _matches(os.fspath(item), Path.cwd(), skip)]
            if not found:
                raise MissingFileError("no file matches this input" + (" outside the output folder" if skip else ""),
                                       file=item)
        jobs.extend(j if j.references or not anchors else replace(j, references=anchors) for j in found)
    return list(dict.fromkeys(jobs))

