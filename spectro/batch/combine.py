"""Combine the records of a batch's chunks into its outputs.

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

from ..errors import NoValenceWarning
from .manifest import Job
from .outputs import write_csv, write_csv_columns, write_netcdf
from .provenance import canonical_json, environment, parameters_hash, utc_now
from .records import Column, Failure, Record, concat_columns, read_record, record_path

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
    without_valence: tuple[str, ...] = ()
    n_warnings: int = 0


def _results_dataset(
    columns: Mapping[str, Column],
    owners: np.ndarray,
    files: np.ndarray,
    jobs: Sequence[Job],
    statuses: list[str],
    n_spectra: list[int],
    shas: list[str],
    failures: Sequence[Failure],
    attrs: Mapping[str, Any],
) -> xr.Dataset:
    columns = dict(columns)
    label = columns.pop("scan", None)
    coords: dict[str, Any] = {
        "file": ("spectrum", files, {"units": "", "long_name": "input file"}),
        "scan": ("spectrum", label.values if label else np.asarray([], dtype=str),
                 {"units": "", "long_name": "scan label"}),
        "input": ("spectrum", owners, {"units": "", "long_name": "index of the input along 'input'"}),
    }
    data_vars: dict[str, Any] = {}
    for name, col in columns.items():
        target = coords if col.coord else data_vars
        target[name] = ("spectrum", col.values, col.attrs)
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


def _table(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """The columns of ``results.csv``: file, scan, then every per-spectrum variable."""
    names = ["file", "scan"] + [
        n for n in list(ds.coords) + list(ds.data_vars)
        if ds[n].dims == ("spectrum",) and n not in ("file", "scan", "input")
    ]
    return {n: ds.variables[n].values for n in names}


def _spectra_dataset(spectra: Mapping[str, Column], row_size: np.ndarray, files: np.ndarray,
                     labels: np.ndarray, attrs: Mapping[str, Any]) -> xr.Dataset:
    """All processed spectra as one contiguous ragged array along ``point``."""
    spectra = dict(spectra)
    energy = spectra.pop("energy", None)
    data_vars = {name: ("point", col.values, col.attrs) for name, col in spectra.items()}
    data_vars["spectrum_index"] = (
        "point",
        np.repeat(np.arange(row_size.size), row_size),
        {"units": "", "long_name": "row of the spectrum along 'spectrum' (as in results.nc)",
         "instance_dimension": "spectrum"},
    )
    data_vars["row_size"] = (
        "spectrum", row_size,
        {"units": "", "long_name": "number of points of each spectrum", "sample_dimension": "point"},
    )
    coords = {
        "energy": ("point", np.array([], dtype=float) if energy is None else energy.values,
                   {"units": "eV", "long_name": "incident (XANES) or emission (XES) energy"}),
        "file": ("spectrum", files, {"units": "", "long_name": "input file"}),
        "scan": ("spectrum", labels, {"units": "", "long_name": "scan label"}),
    }
    return xr.Dataset(data_vars, coords=coords, attrs=dict(attrs, featureType="spectra (contiguous ragged array)"))


def combine(
    out: Path,
    jobs: Sequence[Job],
    keys: Sequence[str | None],
    chunk_keys: Sequence[str],
    *,
    unreadable: Mapping[int, Failure],
    parameters: Mapping[str, Any],
    in_memory: Mapping[str, Record] | None = None,
) -> Combined:
    """Read the records of the chunks and write the outputs listed in :data:`OUTPUT_FILES`.

    ``keys[i]`` is the record key of ``jobs[i]`` (None when the input could
    not be read at all; its failure is then ``unreadable[i]``);
    ``chunk_keys`` are the keys of the chunks, in order. ``in_memory``
    holds records at hand, by chunk key (as :func:`read_record` reads
    them); the others are read from ``out/parts``.
    """
    parts = out / "parts"
    at_hand = dict(in_memory or {})
    records = [at_hand[key] if key in at_hand else read_record(record_path(parts, key)) for key in chunk_keys]
    members = {m["key"]: m for record in records for m in record.members}
    failures: list[Failure] = []
    warning_rows: list[dict] = []
    statuses, n_spectra, shas = [], [], []
    for i, key in enumerate(keys):
        if key is None:
            failures.append(unreadable[i])
            statuses.append("failed")
            n_spectra.append(0)
            shas.append("")
            continue
        member = members[key]
        failures.extend(Failure(**f) for f in member["failures"])
        warning_rows.extend(member["warnings"])
        statuses.append(member["status"])
        shas.append(member["sha256"])
        n_spectra.append(member["n_spectra"])
    sizes = [sum(m["n_spectra"] for m in r.members) for r in records]
    columns = concat_columns([(n, r.results) for n, r in zip(sizes, records)])
    spectra = concat_columns([(int(r.row_size.sum()), r.spectra) for r in records])
    row_size = np.concatenate([r.row_size for r in records]) if records else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(len(jobs), dtype=np.int64), n_spectra)
    files = np.asarray([os.fspath(j.path) for j in jobs], dtype=str)[owner]
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
    results = _results_dataset(columns, owner, files, jobs, statuses, n_spectra, shas, failures, attrs)
    table = _table(results)
    write_netcdf(out / OUTPUT_FILES["spectra"],
                 _spectra_dataset(spectra, row_size, results.file.values, results.scan.values, attrs))
    write_csv(out / OUTPUT_FILES["failures"], [vars(f) for f in failures], columns=_FAILURE_FIELDS)
    write_csv(out / OUTPUT_FILES["warnings"], warning_rows, columns=_WARNING_FIELDS)
    write_csv_columns(out / OUTPUT_FILES["table"], table)
    write_netcdf(out / OUTPUT_FILES["results"], results)
    without_valence = tuple(dict.fromkeys(row["file"] for row in warning_rows
                                          if row["category"] == NoValenceWarning.__name__))
    return Combined(n_succeeded=attrs["n_succeeded"], n_spectra=results.sizes["spectrum"], failures=tuple(failures),
                    without_valence=without_valence, n_warnings=len(warning_rows))
