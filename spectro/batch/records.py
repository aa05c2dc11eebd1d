"""Records of a batch: what was processed, how, and what came out.

Inputs are processed in chunks of consecutive inputs, the same chunks
whichever executor runs them and whether the batch was resumed, so an
input's results never depend on how the batch was run. A chunk's record is
one file ``OUT/parts/<key>.npz``, written atomically when every input of the
chunk is finished. It holds ``meta``, a JSON document (per input: path,
SHA-256, parameter hash, metadata, status, failures, warnings; per column:
its attrs and dtype), and the chunk's per-spectrum results and processed
spectra as a few arrays (floats exactly as computed). ``--resume`` skips every chunk whose
record exists; the final outputs are always combined from the records, so an
interrupted and resumed batch gives the same outputs as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import SpectroError
from ..options import AnalysisOptions
from .manifest import Job
from .outputs import json_default, write_bytes
from .provenance import utc_now

__all__ = [
    "Column",
    "Failure",
    "Outcome",
    "ProcessFunction",
    "Record",
    "Table",
    "Task",
    "chunk_key",
    "concat_columns",
    "has_record",
    "outcome_columns",
    "ragged_columns",
    "read_record",
    "record_path",
    "write_record",
]


@dataclass(frozen=True)
class Failure:
    """One thing that could not be processed.

    Attributes
    ----------
    file : str
        Absolute path of the input.
    scan : str
        Scan label, or "" when the whole file failed.
    error : str
        Exception class (a :class:`~spectro.errors.SpectroError` subclass for
        every problem spectro understands).
    reason : str
        What went wrong.
    """

    file: str
    scan: str
    error: str
    reason: str

    @classmethod
    def from_exception(cls, err: BaseException, *, file: str, scan: object = None) -> Failure:
        """Failure describing ``err`` (its own file and scan win when it names them)."""
        if isinstance(err, SpectroError):
            scan = err.scan if err.scan is not None else scan
            reason = err.problem
        else:
            reason = str(err) or type(err).__name__
        return cls(file=file, scan="" if scan is None else str(scan), error=type(err).__name__, reason=reason)


@dataclass(frozen=True)
class Outcome:
    """What processing one input gave.

    Attributes
    ----------
    results : xarray.Dataset, Table or None
        One value per scan along ``scan`` (with the per-scan coordinates),
        or a :class:`Table` that holds the spectra too.
    spectra : xarray.Dataset or None
        Processed spectra, e.g. ``norm(scan, energy)`` (None with a Table).
    failures : tuple of Failure
        Scans that could not be processed (the others are in ``results``).
    warnings : tuple of Warning
        Warnings raised while the input was processed (filled in by the
        batch; a process function need not set it).
    """

    results: xr.Dataset | Table | None
    spectra: xr.Dataset | None = None
    failures: tuple[Failure, ...] = ()
    warnings: tuple[Warning, ...] = ()


#: A per-input process function: ``process(job, options) -> Outcome``; it may
#: raise, and the exception becomes the input's failure.
ProcessFunction = Callable[[Job, AnalysisOptions], Outcome]


@dataclass(frozen=True)
class Task:
    """One input to process: the job, its record key, its digest and parameter hash."""

    job: Job
    key: str
    sha256: str
    params_hash: str


@dataclass(frozen=True)
class Column:
    """Values along one dimension (spectra or points) with their attrs.

    ``coord`` marks a coordinate (scan label, pressure, energy...) rather
    than a result.
    """

    values: np.ndarray
    attrs: dict = field(default_factory=dict)
    coord: bool = False


@dataclass(frozen=True)
class Table:
    """One input's results as the columns a record stores, without xarray objects.

    The default chain builds these straight from the kernels' arrays, so
    that a chunk of small files costs no per-file Dataset.

    Attributes
    ----------
    results : dict of str to Column
        One value per spectrum (the per-scan coordinates marked ``coord``).
    spectra : dict of str to Column
        The processed spectra as one contiguous ragged array along points,
        ``energy`` among them (empty when there are none).
    row_size : ndarray of int
        Points of each spectrum: one per row of ``results``.

    Examples
    --------
    >>> t = Table({"e0": Column(np.array([8345.0, np.nan]))}, {}, np.zeros(2, dtype=int))
    >>> t.n_rows, t["e0"].tolist(), "e0" in t, t.select(np.array([0])).n_rows
    (2, [8345.0, nan], True, 1)
    """

    results: dict[str, Column]
    spectra: dict[str, Column]
    row_size: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of spectra."""
        return int(self.row_size.size)

    def __getitem__(self, name: str) -> np.ndarray:
        """The values of result column ``name``."""
        return self.results[name].values

    def __contains__(self, name: object) -> bool:
        return name in self.results

    def select(self, rows: np.ndarray) -> Table:
        """The table of the spectra at positions ``rows`` (ascending), their points with them."""
        sizes = self.row_size[rows]
        first = (np.cumsum(self.row_size) - self.row_size)[rows]  # each kept row's first point, here
        placed = np.cumsum(sizes) - sizes  # and in the new table
        points = np.repeat(first - placed, sizes) + np.arange(int(sizes.sum()))
        return Table(
            {n: Column(c.values[rows], c.attrs, c.coord) for n, c in self.results.items()},
            {n: Column(c.values[points], c.attrs, c.coord) for n, c in self.spectra.items()},
            sizes,
        )

    def with_results(self, columns: Mapping[str, Column]) -> Table:
        """This table with ``columns`` added to (or replacing) its results."""
        return Table({**self.results, **columns}, self.spectra, self.row_size)

    @classmethod
    def concat(cls, tables: Sequence[Table]) -> Table:
        """The rows of ``tables`` one after the other (see :func:`concat_columns`)."""
        if len(tables) == 1:
            return tables[0]
        return cls(
            concat_columns([(t.n_rows, t.results) for t in tables]),
            concat_columns([(int(t.row_size.sum()), t.spectra) for t in tables]),
            np.concatenate([t.row_size for t in tables]),
        )

    @classmethod
    def from_dataset(cls, results: xr.Dataset, spectra: xr.Dataset | None = None, *, dim: str | None = None) -> Table:
        """The table of per-scan ``results`` and the variables of ``spectra`` along (scan, ``dim``).

        ``dim`` defaults to the one dimension of ``spectra`` other than ``scan``.
        """
        n = results.sizes["scan"]
        if spectra is None:
            return cls(_per_scan(results), {}, np.zeros(n, dtype=np.int64))
        columns, sizes = _ragged(spectra, n, dim)
        return cls(_per_scan(results), columns, sizes)


@dataclass(frozen=True)
class Record:
    """A chunk's record as read back by :func:`read_record`.

    Attributes
    ----------
    key : str
        The chunk key (:func:`chunk_key`).
    members : list of dict
        Per input, in order: ``key``, ``file``, ``sha256``,
        ``parameters_hash``, ``metadata``, ``status`` ("ok" or "failed"),
        ``n_spectra`` (its rows in ``results``), ``failures`` and
        ``warnings`` (lists of dicts).
    results : dict of str to Column
        One value per spectrum of the chunk, the inputs' rows in order.
    spectra : dict of str to Column
        Every processed spectrum as a contiguous ragged array along points,
        ``energy`` among them.
    row_size : ndarray of int
        Points of each spectrum (one per row of ``results``).
    """

    key: str
    members: list[dict[str, Any]]
    results: dict[str, Column]
    spectra: dict[str, Column]
    row_size: np.ndarray


def record_path(parts: Path, key: str) -> Path:
    """Where the record of the chunk with ``key`` lives."""
    return parts / f"{key}.npz"


def chunk_key(tasks: Sequence[Task]) -> str:
    """Key of the chunk of ``tasks``: a digest of its inputs' record keys, in order.

    Examples
    --------
    >>> from pathlib import Path
    >>> t = [Task(Job(Path("a")), "k1", "", ""), Task(Job(Path("b")), "k2", "", "")]
    >>> chunk_key(t) == chunk_key(list(t)) != chunk_key(t[::-1])
    True
    """
    return hashlib.sha256(",".join(t.key for t in tasks).encode()).hexdigest()[:40]


def _fill(n: int, text: bool) -> np.ndarray:
    return np.full(n, "", dtype=str) if text else np.full(n, np.nan)


def concat_columns(parts: Sequence[tuple[int, Mapping[str, Column]]]) -> dict[str, Column]:
    """Concatenate the columns of parts of ``n`` rows each; a missing column is filled.

    Text columns are filled with "" and numeric ones with NaN (integers
    become floats when a part lacks them). The attrs of a column are those
    of the first part that has it.

    Examples
    --------
    >>> a = {"e0": Column(np.array([1.0, 2.0])), "run": Column(np.array(["x", "y"]), coord=True)}
    >>> b = {"e0": Column(np.array([3.0]))}
    >>> out = concat_columns([(2, a), (1, b)])
    >>> out["e0"].values.tolist(), out["run"].values.tolist()
    ([1.0, 2.0, 3.0], ['x', 'y', ''])
    """
    first: dict[str, Column] = {}
    for _, columns in parts:
        for name, column in columns.items():
            first.setdefault(name, column)
    out = {}
    for name, column in first.items():
        values = [cols[name].values for _, cols in parts if name in cols]
        text = any(v.dtype.kind in "USO" for v in values)
        missing = len(values) < len(parts)
        filled = []
        for n, cols in parts:
            if name not in cols:
                filled.append(_fill(n, text))
                continue
            v = cols[name].values
            filled.append(v.astype(str) if text else v.astype(float) if missing and v.dtype.kind in "biu" else v)
        data = np.concatenate(filled) if filled else np.array([])
        out[name] = Column(data.astype(str) if text else data, column.attrs, column.coord)
    return out


def _per_scan(ds: xr.Dataset) -> dict[str, Column]:
    coords = set(ds.coords)
    return {
        str(name): Column(np.asarray(var.values), dict(var.attrs), name in coords)
        for name, var in ds.variables.items()
        if var.dims == ("scan",)
    }


def _ragged(spectra: xr.Dataset, n_rows: int, dim: str | None = None) -> tuple[dict[str, Column], np.ndarray]:
    """The spectra along (scan, ``dim``) of one input as points (only those with a value)."""
    if dim is None:
        dim = next((d for d in spectra.dims if d != "scan"), None)
    arrays = {
        str(name): var for name, var in spectra.data_vars.items()
        if dim is not None and var.dims == ("scan", dim)
    }
    if not arrays:
        return {}, np.zeros(n_rows, dtype=np.int64)
    energy = spectra[dim]
    return ragged_columns(
        np.asarray(energy.values, dtype=float), dict(energy.attrs),
        {name: (np.asarray(var.values, dtype=float), dict(var.attrs)) for name, var in arrays.items()},
    )


def ragged_columns(
    energy: np.ndarray, energy_attrs: Mapping[str, Any], spectra: Mapping[str, tuple[np.ndarray, dict]]
) -> tuple[dict[str, Column], np.ndarray]:
    """Spectra on one grid as a contiguous ragged array: the points where any has a value.

    ``spectra`` maps names to (values of shape (rows, points), attrs);
    ``energy`` (points,) is their grid. Returns the columns (``energy``
    first) and the points kept per row.

    Examples
    --------
    >>> cols, sizes = ragged_columns(np.array([1.0, 2.0]), {}, {"norm": (np.array([[0.5, np.nan]]), {})})
    >>> cols["energy"].values.tolist(), cols["norm"].values.tolist(), sizes.tolist()
    ([1.0], [0.5], [1])
    """
    first = next(iter(spectra.values()))[0]
    present = np.zeros(first.shape, dtype=bool)
    for values, _ in spectra.values():
        present |= np.isfinite(values)
    scan_i, point_j = np.nonzero(present)
    columns = {"energy": Column(energy[point_j], dict(energy_attrs), True)}
    for name, (values, attrs) in spectra.items():
        columns[name] = Column(values[scan_i, point_j], attrs)
    return columns, present.sum(axis=1)


def outcome_columns(outcome: Outcome) -> Table:
    """The columns of an outcome with results."""
    if isinstance(outcome.results, Table):
        return outcome.results
    return Table.from_dataset(outcome.results, outcome.spectra)


def _n_rows(results: xr.Dataset | Table | None) -> int:
    if results is None:
        return 0
    return results.n_rows if isinstance(results, Table) else int(results.sizes.get("scan", 0))


def _member(task: Task, outcome: Outcome) -> dict[str, Any]:
    file = os.fspath(task.job.path)
    n_rows = _n_rows(outcome.results)
    failures = list(outcome.failures)
    if not n_rows and not failures:
        failures.append(Failure(file, "", "DataError", "no scan could be processed"))
    return {
        "key": task.key,
        "file": file,
        "sha256": task.sha256,
        "parameters_hash": task.params_hash,
        "metadata": task.job.metadata(),
        "status": "ok" if n_rows else "failed",
        "n_spectra": n_rows,
        "failures": [asdict(f) for f in failures],
        "warnings": [{"file": file, "category": type(w).__name__, "message": str(w)} for w in outcome.warnings],
    }


def _pack(prefix: str, columns: Mapping[str, Column], arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Put ``columns`` into ``arrays`` as one 2-D array per kind (numbers, text); return their description.

    Few arrays load much faster than one per column. Integers and booleans
    travel as floats (exact below 2**53) and get their dtype back.
    """
    numbers = [n for n, c in columns.items() if c.values.dtype.kind in "fiub"]
    text = [n for n, c in columns.items() if n not in numbers]
    n_rows = len(next(iter(columns.values())).values) if columns else 0
    arrays[f"{prefix}/numbers"] = (
        np.stack([columns[n].values.astype(float) for n in numbers]) if numbers else np.zeros((0, n_rows))
    )
    arrays[f"{prefix}/text"] = (
        np.stack([columns[n].values.astype(str) for n in text]) if text else np.zeros((0, n_rows), dtype=str)
    )
    return {
        "numbers": numbers,
        "text": text,
        "columns": {
            n: {"attrs": c.attrs, "coord": c.coord, "dtype": c.values.dtype.str if n in numbers else ""}
            for n, c in columns.items()
        },
    }


def _unpack(prefix: str, layout: Mapping[str, Any], data: Mapping[str, np.ndarray]) -> dict[str, Column]:
    numbers, text = data[f"{prefix}/numbers"], data[f"{prefix}/text"]
    values = {n: numbers[i].astype(layout["columns"][n]["dtype"]) for i, n in enumerate(layout["numbers"])}
    values.update({n: text[i] for i, n in enumerate(layout["text"])})
    return {
        n: Column(values[n], info["attrs"], info["coord"]) for n, info in layout["columns"].items()
    }


def write_record(key: str, tasks: Sequence[Task], outcomes: Sequence[Outcome], parts: Path, *,
                 store: bool = True) -> Record:
    """Write the record of a processed chunk atomically; return it as :func:`read_record` reads it.

    An outcome whose results cannot be stored (not along ``scan``) makes
    that input a failure. With ``store`` False the record is only returned
    (a chunk to be processed again on resume).
    """
    members, result_parts, spectra_parts, sizes = [], [], [], []
    for task, outcome in zip(tasks, outcomes):
        member = _member(task, outcome)
        if member["status"] == "ok":
            try:
                table = outcome_columns(outcome)
            except (TypeError, ValueError, AttributeError, KeyError) as err:
                failure = Failure.from_exception(err, file=member["file"])
                member.update(status="failed", n_spectra=0, failures=[asdict(failure)])
            else:
                result_parts.append((table.n_rows, table.results))
                spectra_parts.append((int(table.row_size.sum()), table.spectra))
                sizes.append(table.row_size)
        members.append(member)
    results = concat_columns(result_parts)
    spectra = concat_columns(spectra_parts)
    row_size = np.concatenate(sizes) if sizes else np.zeros(0, dtype=np.int64)
    arrays: dict[str, np.ndarray] = {"row_size": row_size}
    meta = {
        "key": key,
        "processed": utc_now(),
        "members": members,
        "results": _pack("results", results, arrays),
        "spectra": _pack("spectra", spectra, arrays),
    }
    text = json.dumps(meta, sort_keys=True, default=json_default)
    arrays["meta"] = np.array(text)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    if store:
        write_bytes(record_path(parts, key), buffer.getvalue(), durable=False)
    return _record(json.loads(text), arrays)


def read_record(path: Path) -> Record:
    """Load a record written by :func:`write_record`.

    Raises
    ------
    OSError, ValueError
        The file is missing, truncated or not a record.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            return _record(json.loads(str(data["meta"])), data)
    except (zipfile.BadZipFile, KeyError, EOFError) as err:
        raise ValueError(f"{path} is not a complete batch record: {err}") from err


def _record(meta: Mapping[str, Any], data: Mapping[str, np.ndarray]) -> Record:
    """The Record of a record's ``meta`` and arrays (as written to its file)."""
    results = _unpack("results", meta["results"], data)
    spectra = _unpack("spectra", meta["spectra"], data)
    return Record(meta["key"], meta["members"], results, spectra, data["row_size"])


def has_record(parts: Path, key: str) -> bool:
    """True when the record of chunk ``key`` exists and is complete (else it is redone).

    Only the record's ``meta`` is read: a zip archive's directory is written
    last, so an archive that opens was written to its end (the arrays are
    read once, when the outputs are combined).
    """
    try:
        with np.load(record_path(parts, key), allow_pickle=False) as data:
            return json.loads(str(data["meta"]))["key"] == key
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError):
        return False
