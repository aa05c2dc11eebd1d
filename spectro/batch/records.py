"""Per-input records of a batch: what was processed, how, and what came out.

A record is one small JSON document under ``OUT/parts/<key>.json``, written
atomically when its input is finished. It holds the input's identity (path,
SHA-256, parameter hash), its status, its results and normalized spectra
(as :meth:`xarray.Dataset.to_dict` structures, which round-trip floats
exactly) and its failures and warnings. ``--resume`` skips every input whose
record exists; the final outputs are always combined from the records, so
an interrupted and resumed batch gives the same outputs as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import xarray as xr

from ..errors import SpectroError
from .manifest import Job
from .outputs import write_json
from .provenance import utc_now

__all__ = [
    "Failure",
    "Outcome",
    "ProcessFunction",
    "Task",
    "has_record",
    "process_chunk",
    "process_job",
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
    """What a per-input process function returns.

    Attributes
    ----------
    results : xarray.Dataset or None
        One value per scan along ``scan`` (with the per-scan coordinates).
    spectra : xarray.Dataset or None
        Processed spectra, e.g. ``norm(scan, energy)``.
    failures : tuple of Failure
        Scans that could not be processed (the others are in ``results``).
    """

    results: xr.Dataset | None
    spectra: xr.Dataset | None = None
    failures: tuple[Failure, ...] = ()


#: A per-input process function: ``process(job, options) -> Outcome``; it may
#: raise, and the exception becomes the input's failure.
ProcessFunction = Callable[[Job, Mapping[str, Any]], Outcome]


def record_path(parts: Path, key: str) -> Path:
    """Where the record of the input with ``key`` lives."""
    return parts / f"{key}.json"


@dataclass(frozen=True)
class Task:
    """One input to process: the job, its record key, its digest and parameter hash."""

    job: Job
    key: str
    sha256: str
    params_hash: str


def process_job(process: ProcessFunction, task: Task, options: Mapping[str, Any], parts: Path) -> dict[str, Any]:
    """Run ``process`` on one input, write its record atomically, return a summary.

    Any exception from ``process`` is caught and recorded as the input's
    failure; warnings are recorded with the record.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = process(task.job, options)
        except Exception as err:  # every failure is recorded; the batch goes on
            outcome = Outcome(None, None, (Failure.from_exception(err, file=os.fspath(task.job.path)),))
    return write_record(task, outcome, [w.message for w in caught], parts)


def process_chunk(
    process: ProcessFunction, tasks: Sequence[Task], options: Mapping[str, Any], parts: Path
) -> list[dict[str, Any]]:
    """:func:`process_job` on several inputs in turn (one executor task for many small files)."""
    return [process_job(process, task, options, parts) for task in tasks]


def write_record(task: Task, outcome: Outcome, caught: Sequence[Warning], parts: Path) -> dict[str, Any]:
    """Write the record of one processed input atomically; return its summary."""
    job, key = task.job, task.key
    file = os.fspath(job.path)
    record = {
        "key": key,
        "file": file,
        "sha256": task.sha256,
        "parameters_hash": task.params_hash,
        "metadata": job.metadata(),
        "processed": utc_now(),
        "warnings": [{"file": file, "category": type(w).__name__, "message": str(w)} for w in caught],
    }
    try:
        record.update(_content(outcome, file))
    except (TypeError, ValueError, AttributeError) as err:
        record.update(_content(Outcome(None, None, (Failure.from_exception(err, file=file),)), file))
    write_json(record_path(parts, key), record, durable=False)
    return {"key": key, "status": record["status"], "n_failures": len(record["failures"])}


def _content(outcome: Outcome, file: str) -> dict[str, Any]:
    """Status, results, spectra and failures of an outcome, JSON-ready."""
    results = outcome.results if outcome.results is not None and outcome.results.sizes.get("scan") else None
    failures = list(outcome.failures)
    if results is None and not failures:
        failures.append(Failure(file, "", "DataError", "no scan could be processed"))
    content = {
        "status": "ok" if results is not None else "failed",
        "results": None if results is None else results.to_dict(data="list", encoding=False),
        "spectra": None if outcome.spectra is None else outcome.spectra.to_dict(data="list", encoding=False),
        "failures": [asdict(f) for f in failures],
    }
    return content


def read_record(path: Path) -> dict[str, Any]:
    """Load a record written by :func:`process_job`."""
    return json.loads(path.read_text())


def has_record(parts: Path, key: str) -> bool:
    """True when the record of ``key`` exists and is complete (else it is redone)."""
    try:
        return read_record(record_path(parts, key)).get("key") == key
    except (OSError, ValueError):
        return False
