"""Combine per-input records into a batch's outputs.

Outputs (in the batch's output folder, each written atomically):

``results.nc``
    One row per processed spectrum along ``spectrum``: the per-scan
    results (``e0``, ``e0_err``, ..., ``valence``, ``kb13_m1``, ...), with
    coordinates ``file``, ``scan``, ``input`` and the per-scan coordinates
    (pressure, temperature, run, sample, source). Per input along
    ``input``: ``input_file``, ``input_sha256``, ``input_status``,
    ``input_n_spectra``. Every failure along ``failure``:
    ``failure_file``, ``failure_scan``, ``failure_error``,
    ``failure_reason``. Provenance in attrs: ``parameters`` (JSON),
    ``parameters_hash``, ``created`` (UTC), library versions.
``results.csv``
    The ``spectrum`` table of ``results.nc`` (NaN as an empty cell).
``failures.csv`` and ``warnings.csv``
    file, scan, error, reason; and file, category, message.
``spectra.nc``
    Processed spectra (``norm``, ``flat``, ...) of every row of
    ``results.nc``, as a contiguous ragged array along ``point`` (CF
    conventions): ``energy(point)``, one variable per spectrum type,
    ``spectrum_index(point)`` (the row along ``spectrum``) and
    ``row_size(spectrum)``. One spectrum:
    ``ds.where(ds.spectrum_index == i, drop=True)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .manifest import Job
from .outputs import write_csv, write_netcdf
from .provenance import canonical_json, environment, parameters_hash, utc_now
from .records import Failure, read_record, record_path

__all__ = ["OUTPUT_FILES", "Combined", "combine"]

#: Output files of a batch, by role.
OUTPUT_FILES = {
    "results": "results.nc",
    "table": "results.csv",
    "failures": "failures.csv",
    "warnings": "warnings.csv",
    "spectra": "spectra.nc",
}

_FAILURE_FIELDS = ("file", "scan", "error", "reason")
_WARNING_FIELDS = ("file", "category", "message")


@dataclass(frozen=True)
class Combined:
    """Counts from :func:`combine`."""

    n_succeeded: int
    n_spectra: int
    failures: tuple[Failure, ...]


def _is_text(values: np.ndarray) -> bool:
    return values.dtype.kind in "USO"


def _columns(records: Sequence[tuple[int, dict]]) -> tuple[dict[str, dict], list[int], list[str]]:
    """Per-scan variables of all results, concatenated, with the row owners."""
    names: dict[str, dict] = {}
    chunks: list[tuple[int, int, dict[str, np.ndarray], str]] = []
    for index, record in records:
        res = record["results"]
        n = res["dims"]["scan"]
        values = {}
        for group in ("coords", "data_vars"):
            for name, var in res[group].items():
                if list(var["dims"]) != ["scan"]:
                    continue
                names.setdefault(name, {"coord": group == "coords", "attrs": var.get("attrs", {})})
                values[name] = np.asarray(var["data"])
        chunks.append((index, n, values, record["file"]))
    columns: dict[str, dict] = {}
    for name, info in names.items():
        parts = [v[name] for _, _, v, _ in chunks if name in v]
        text = any(_is_text(p) for p in parts)
        missing = any(name not in v for _, _, v, _ in chunks)
        filled = []
        for _, n, v, _ in chunks:
            if name in v:
                arr = v[name].astype(str) if text else v[name]
                filled.append(arr.astype(float) if missing and not text and arr.dtype.kind in "biu" else arr)
            else:
                filled.append(np.full(n, "" if text else np.nan, dtype=object if text else float))
        data = np.concatenate(filled) if filled else np.array([])
        columns[name] = {**info, "data": data.astype(str) if text else data}
    owners = [index for index, n, _, _ in chunks for _ in range(n)]
    files = [file for _, n, _, file in chunks for _ in range(n)]
    return columns, owners, files


def _results_dataset(
    records: Sequence[tuple[int, dict]],
    jobs: Sequence[Job],
    statuses: list[str],
    n_spectra: list[int],
    shas: list[str],
    failures: Sequence[Failure],
    attrs: Mapping[str, Any],
) -> xr.Dataset:
    columns, owners, files = _columns(records)
    label = columns.pop("scan", None)
    coords: dict[str, Any] = {
        "file": ("spectrum", np.asarray(files, dtype=str), {"units": "", "long_name": "input file"}),
        "scan": ("spectrum", label["data"] if label else np.asarray([], dtype=str),
                 {"units": "", "long_name": "scan label"}),
        "input": ("spectrum", np.asarray(owners, dtype=np.int64),
                  {"units": "", "long_name": "index of the input along 'input'"}),
    }
    data_vars: dict[str, Any] = {}
    for name, col in columns.items():
        target = coords if col["coord"] else data_vars
        target[name] = ("spectrum", col["data"], col["attrs"])
    data_vars.update(
        input_file=("input", np.asarray([os.fspath(j.path) for j in jobs], dtype=str),
                    {"units": "", "long_name": "input file (absolute path)"}),
        input_sha256=("input", np.asarray(shas, dtype=str), {"units": "", "long_name": "SHA-256 of the input"}),
        input_status=("input", np.asarray(statuses, dtype=str),
                      {"units": "", "long_name": "ok: at least one spectrum processed; failed: none"}),
        input_n_spectra=("input", np.asarray(n_spectra, dtype=np.int64),
                         {"units": "", "long_name": "spectra processed from the input"}),
    )
    for field in _FAILURE_FIELDS:
        data_vars[f"failure_{field}"] = (
            "failure",
            np.asarray([getattr(f, field) for f in failures], dtype=str),
            {"units": "", "long_name": f"failure {field}"},
        )
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs))


def _table(ds: xr.Dataset) -> tuple[list[dict[str, Any]], list[str]]:
    names = ["file", "scan"] + [
        n for n in list(ds.coords) + list(ds.data_vars) if ds[n].dims == ("spectrum",) and n not in ("file", "scan", "input")
    ]
    arrays = {n: ds[n].values for n in names}
    rows = [{n: arrays[n][i] for n in names} for i in range(ds.sizes["spectrum"])]
    return rows, names


def _spectra_dataset(records: Sequence[tuple[int, dict]], files: Sequence[str], labels: np.ndarray,
                     attrs: Mapping[str, Any]) -> xr.Dataset:
    """All processed spectra as one contiguous ragged array along ``point``."""
    energies, owners, columns = [], [], {}
    info: dict[str, dict] = {}
    sizes = np.zeros(len(files), dtype=np.int64)
    row = n_before = 0
    for _, record in records:
        n_rows = record["results"]["dims"]["scan"]
        spec = record.get("spectra")
        if spec is not None:
            dim = next(d for d in spec["dims"] if d != "scan")
            energy = np.asarray(spec["coords"][dim]["data"], dtype=float)
            arrays = {}
            for name, var in spec["data_vars"].items():
                if list(var["dims"]) == ["scan", dim]:
                    arrays[name] = np.asarray(var["data"], dtype=float)
                    info.setdefault(name, var.get("attrs", {}))
            if arrays:
                present = np.zeros((n_rows, energy.size), dtype=bool)
                for values in arrays.values():
                    present |= np.isfinite(values)
                scan_i, point_j = np.nonzero(present)
                energies.append(energy[point_j])
                owners.append(row + scan_i)
                sizes[row: row + n_rows] = present.sum(axis=1)
                n_points = scan_i.size
                for name in dict.fromkeys([*columns, *arrays]):
                    column = columns.setdefault(name, [np.full(n_before, np.nan)])
                    column.append(arrays[name][scan_i, point_j] if name in arrays else np.full(n_points, np.nan))
                n_before += n_points
        row += n_rows
    energy = np.concatenate(energies) if energies else np.array([], dtype=float)
    data_vars = {name: ("point", np.concatenate(parts), info[name]) for name, parts in columns.items()}
    data_vars["spectrum_index"] = (
        "point",
        np.concatenate(owners) if owners else np.array([], dtype=np.int64),
        {"units": "", "long_name": "row of the spectrum along 'spectrum' (as in results.nc)",
         "instance_dimension": "spectrum"},
    )
    data_vars["row_size"] = (
        "spectrum", sizes,
        {"units": "", "long_name": "number of points of each spectrum", "sample_dimension": "point"},
    )
    coords = {
        "energy": ("point", energy, {"units": "eV", "long_name": "incident (XANES) or emission (XES) energy"}),
        "file": ("spectrum", np.asarray(files, dtype=str), {"units": "", "long_name": "input file"}),
        "scan": ("spectrum", labels, {"units": "", "long_name": "scan label"}),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs, featureType="spectra (contiguous ragged array)"))


def combine(
    out: Path,
    jobs: Sequence[Job],
    keys: Sequence[str | None],
    *,
    unreadable: Mapping[int, Failure],
    parameters: Mapping[str, Any],
) -> Combined:
    """Read the records of ``jobs`` and write the outputs listed in :data:`OUTPUT_FILES`.

    ``keys[i]`` is the record key of ``jobs[i]`` (None when the input could
    not be read at all; its failure is then ``unreadable[i]``).
    """
    parts = out / "parts"
    records: list[tuple[int, dict]] = []
    failures: list[Failure] = []
    warning_rows: list[dict] = []
    statuses, n_spectra, shas = [], [], []
    for i, (job, key) in enumerate(zip(jobs, keys)):
        if key is None:
            failures.append(unreadable[i])
            statuses.append("failed")
            n_spectra.append(0)
            shas.append("")
            continue
        record = read_record(record_path(parts, key))
        failures.extend(Failure(**f) for f in record["failures"])
        warning_rows.extend(record["warnings"])
        statuses.append(record["status"])
        shas.append(record["sha256"])
        if record["status"] == "ok":
            records.append((i, record))
            n_spectra.append(record["results"]["dims"]["scan"])
        else:
            n_spectra.append(0)
    attrs = {
        "title": "spectro batch results",
        "parameters": canonical_json(dict(parameters)),
        "parameters_hash": parameters_hash(parameters),
        "created": utc_now(),
        "n_inputs": len(jobs),
        "n_succeeded": sum(s == "ok" for s in statuses),
        "n_failed": sum(s != "ok" for s in statuses),
        **environment(),
    }
    results = _results_dataset(records, jobs, statuses, n_spectra, shas, failures, attrs)
    rows, columns = _table(results)
    write_netcdf(out / OUTPUT_FILES["spectra"],
                 _spectra_dataset(records, results.file.values, results.scan.values, attrs))
    write_csv(out / OUTPUT_FILES["failures"], [vars(f) for f in failures], columns=_FAILURE_FIELDS)
    write_csv(out / OUTPUT_FILES["warnings"], warning_rows, columns=_WARNING_FIELDS)
    write_csv(out / OUTPUT_FILES["table"], rows, columns=columns)
    write_netcdf(out / OUTPUT_FILES["results"], results)
    return Combined(n_succeeded=attrs["n_succeeded"], n_spectra=len(rows), failures=tuple(failures))
