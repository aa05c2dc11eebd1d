"""Atomic output files: a reader sees the old file, the new file, or nothing.

Every writer here goes through :func:`spectro.io.atomic.atomic_path`
(re-exported with :func:`write_bytes`): a temporary file beside the
destination, created with the user's umask, renamed over it. A process
killed mid-write leaves at most a stale temporary file, which
:func:`remove_stale_temporaries` deletes on the next run.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..io.atomic import TMP_SUFFIX, atomic_path, write_bytes

__all__ = [
    "atomic_path",
    "csv_text",
    "json_default",
    "netcdf_attrs",
    "remove_stale_temporaries",
    "write_bytes",
    "write_csv",
    "write_csv_columns",
    "write_json",
    "write_netcdf",
]

def write_json(target: str | os.PathLike, value: Any, *, durable: bool = True) -> Path:
    """Write a JSON document atomically (NaN kept as the ``NaN`` token).

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> p = write_json(pathlib.Path(tempfile.mkdtemp()) / "a.json", {"x": 1.5})
    >>> json.loads(p.read_text())
    {'x': 1.5}
    """
    return write_bytes(target, json.dumps(value, sort_keys=True, default=json_default).encode(), durable=durable)


def json_default(value: Any) -> Any:
    """``json.dumps(..., default=json_default)``: numpy scalars and arrays as numbers and lists, the rest as text.

    Examples
    --------
    >>> import json, numpy as np
    >>> json.dumps({"a": np.float64(1.5), "b": np.arange(2)}, default=json_default)
    '{"a": 1.5, "b": [0, 1]}'
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula: ``'`` before a leading ``= + - @``, tab or CR.

    File names, scan labels, sample names and messages come from users'
    files; a cell such as ``=HYPERLINK(...)`` would run when the CSV is
    opened in a spreadsheet. Text that is a plain number (``-1.5``) is
    left as it is: a number is no formula.

    Examples
    --------
    >>> csv_text("=1+2"), csv_text("@SUM(A1)"), csv_text("-2+3"), csv_text("-1.5"), csv_text("NiO")
    ("'=1+2", "'@SUM(A1)", "'-2+3", '-1.5', 'NiO')
    """
    if not text.startswith(FORMULA_START):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return "" if math.isnan(value) else repr(float(value))
    if isinstance(value, (np.floating,)):
        return repr(float(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_csv(
    target: str | os.PathLike, rows: Sequence[Mapping[str, Any]], *, columns: Sequence[str]
) -> Path:
    """Write rows as CSV atomically: header ``columns``, NaN as an empty cell.

    Floats are written with ``repr`` so they read back to the same value;
    text cells are escaped with :func:`csv_text`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_csv(pathlib.Path(tempfile.mkdtemp()) / "t.csv",
    ...               [{"a": 0.1, "b": float("nan")}], columns=["a", "b"])
    >>> p.read_text().splitlines()
    ['a,b', '0.1,']
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c, "")) for c in columns})
    return write_bytes(target, buffer.getvalue().encode())


def _column_cells(values: np.ndarray) -> list[Any]:
    """The CSV cells of one column, as :func:`_cell` gives them, converted at once."""
    if values.dtype.kind == "f":
        return ["" if v != v else repr(v) for v in values.tolist()]
    if values.dtype.kind in "iub":
        return values.tolist()
    if values.dtype.kind == "U":
        return [csv_text(v) for v in values.tolist()]
    return [_cell(v) for v in values.tolist()]


def write_csv_columns(target: str | os.PathLike, columns: Mapping[str, np.ndarray]) -> Path:
    """:func:`write_csv` of a table given as equal-length columns (the same file, faster).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = write_csv_columns(pathlib.Path(tempfile.mkdtemp()) / "t.csv",
    ...                       {"a": np.array([0.1, np.nan]), "b": np.array(["x", "y"])})
    >>> p.read_text().splitlines()
    ['a,b', '0.1,x', ',y']
    """
    cells = [_column_cells(np.asarray(v)) for v in columns.values()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(columns))
    writer.writerows(zip(*cells))
    return write_bytes(target, buffer.getvalue().encode())


def netcdf_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attrs that NetCDF can store: None as "", bool as int, mappings as JSON.

    Examples
    --------
    >>> netcdf_attrs({"a": None, "b": True, "c": {"x": 1}, "d": 2.5})
    {'a': '', 'b': 1, 'c': '{"x": 1}', 'd': 2.5}
    """
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            value = ""
        elif isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif isinstance(value, Mapping):
            value = json.dumps(value, sort_keys=True, default=str)
        elif isinstance(value, (list, tuple)) and any(
            not isinstance(v, (int, float, str)) or isinstance(v, bool) for v in value
        ):
            value = json.dumps(list(value), default=str)
        out[str(key)] = value
    return out


def _clean(ds: xr.Dataset) -> xr.Dataset:
    ds = ds.copy()
    ds.attrs = netcdf_attrs(ds.attrs)
    for name in ds.variables:
        ds[name].attrs = netcdf_attrs(ds[name].attrs)
        if ds[name].dtype == object:
            ds[name] = ds[name].astype(str)
    return ds


def write_netcdf(target: str | os.PathLike, data: xr.Dataset | xr.DataTree) -> Path:
    """Write a Dataset or DataTree to NetCDF-4 atomically.

    Attrs are made storable with :func:`netcdf_attrs`; object arrays become
    strings. The netCDF4 engine (the Unidata library) writes a file of a few
    dozen variables several times faster than h5netcdf; either reads it.

    Examples
    --------
    >>> import tempfile, pathlib, xarray as xr
    >>> p = write_netcdf(pathlib.Path(tempfile.mkdtemp()) / "a.nc",
    ...                  xr.Dataset({"e0": ("scan", [8345.0])}, attrs={"ok": True}))
    >>> xr.open_dataset(p, engine="h5netcdf").attrs["ok"]
    np.int64(1)
    """
    if isinstance(data, xr.DataTree):
        data = xr.DataTree.from_dict({node.path: _clean(node.to_dataset()) for node in data.subtree})
        variables = [v for node in data.subtree for v in node.to_dataset().variables.values()]
    else:
        data = _clean(data)
        variables = list(data.variables.values())
    lazy = any(v.chunks is not None for v in variables)
    with atomic_path(target) as tmp, _local_lock_unless(lazy):
        data.to_netcdf(tmp, engine="netcdf4")
    return Path(target)


def _local_lock_unless(lazy: bool) -> contextlib.AbstractContextManager:
    """Write in-memory data under this process's own lock, even when a dask cluster is connected.

    With a dask.distributed client active, xarray guards every write with a
    cluster-wide lock, one round trip to the scheduler per access: 0.15 s of
    the 0.25 s that writing a batch's two outputs took. Data already in
    memory is written by this process alone and needs no such lock.
    """
    if lazy:
        return contextlib.nullcontext()
    try:
        import dask
    except ImportError:
        return contextlib.nullcontext()
    return dask.config.set(scheduler="synchronous")


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete temporary files left by a killed writer in ``folder``; return the count."""
    count = 0
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    for path in folder.glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            count += 1
    return count
