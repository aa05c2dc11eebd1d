"""Run a batch: every input processed once, recorded, then combined.

:func:`run_batch` hashes each input, skips those whose record exists when
resuming, runs the per-input process function (in this process or on an
executor, e.g. a ``concurrent.futures`` pool or a dask.distributed client's
executor), and finally combines all records into the outputs of
:mod:`spectro.batch.combine`.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .combine import OUTPUT_FILES, combine
from .manifest import Job
from .outputs import remove_stale_temporaries
from .provenance import file_sha256, parameters_hash, record_key
from .records import Failure, ProcessFunction, Task, has_record, process_chunk

__all__ = ["CHUNK_SIZE", "BatchSummary", "run_batch"]

#: Inputs per executor task.
CHUNK_SIZE = 16


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did.

    Attributes
    ----------
    out : pathlib.Path
        Output folder.
    n_inputs, n_processed, n_skipped : int
        Inputs in total, processed by this call, skipped (record present).
    n_succeeded, n_failed : int
        Inputs with at least one processed scan, and inputs with none
        (``n_succeeded + n_failed == n_inputs``).
    n_spectra : int
        Rows of the results table.
    failures : tuple of Failure
        Every failure (whole inputs and single scans).
    outputs : dict of str to pathlib.Path
        ``results``, ``table``, ``failures``, ``warnings``, ``spectra`` files.
    """

    out: Path
    n_inputs: int
    n_processed: int
    n_skipped: int
    n_succeeded: int
    n_failed: int
    n_spectra: int
    failures: tuple[Failure, ...]
    outputs: dict[str, Path]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (paths as strings)."""
        return {
            "out": os.fspath(self.out),
            "n_inputs": self.n_inputs,
            "n_processed": self.n_processed,
            "n_skipped": self.n_skipped,
            "n_succeeded": self.n_succeeded,
            "n_failed": self.n_failed,
            "n_spectra": self.n_spectra,
            "failures": [vars(f) for f in self.failures],
            "outputs": {k: os.fspath(v) for k, v in self.outputs.items()},
        }


def _process_name(process: ProcessFunction) -> str:
    return f"{getattr(process, '__module__', '')}.{getattr(process, '__qualname__', repr(process))}"


def run_batch(
    jobs: Sequence[Job],
    out: str | os.PathLike,
    *,
    process: ProcessFunction | None = None,
    options: Mapping[str, Any] | None = None,
    resume: bool = False,
    progress: bool = False,
    executor: concurrent.futures.Executor | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> BatchSummary:
    """Process every input, record each one, and write the combined outputs.

    Parameters
    ----------
    jobs : sequence of Job
        Inputs, e.g. from :func:`spectro.batch.expand_inputs`.
    out : str or path-like
        Output folder (created). Records go to ``out/parts/``; outputs are
        listed in :data:`spectro.batch.combine.OUTPUT_FILES`.
    process : callable, optional
        ``process(job, options) -> Outcome`` for one input; default
        :func:`spectro.batch.pipeline.analyze_file` (read, calibrate,
        normalize, E0, pre-edge, valence for XANES; Kbeta metrics for XES).
        With an executor it must be picklable (a module-level function).
    options : mapping, optional
        JSON-serializable options passed to ``process``; with the process
        function's name, the input's metadata and its SHA-256 they make the
        record key.
    resume : bool
        Skip inputs whose record exists (same path, bytes and parameters).
    progress : bool
        Show a tqdm progress bar on stderr.
    executor : concurrent.futures.Executor, optional
        Where to run ``process``; default: in this process.
    chunk_size : int, keyword-only
        Inputs per executor task (fewer, larger tasks for many small
        files). Each input is still processed on its own, so its record
        does not depend on the chunks.

    Returns
    -------
    BatchSummary

    Notes
    -----
    Failures never stop the batch: an exception raised by ``process`` is
    recorded (file, scan, exception class, reason) and the next input is
    processed. Every file is written atomically, so a killed batch leaves
    complete records and outputs, or none; re-running with ``resume=True``
    then gives the same outputs as an uninterrupted run.

    Examples
    --------
    >>> import tempfile, pathlib, spectro
    >>> from spectro.batch import Job, Outcome, run_batch
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_text("x")
    >>> def count_bytes(job, options):
    ...     ds = spectro.simulate.xanes(seed=0)
    ...     return Outcome(ds[["pressure"]].assign(n=("scan", [job.path.stat().st_size])))
    >>> summary = run_batch([Job(d / "a.txt")], d / "out", process=count_bytes)
    >>> summary.n_succeeded, summary.n_failed, sorted(summary.outputs)
    (1, 0, ['failures', 'results', 'spectra', 'table', 'warnings'])
    """
    if process is None:
        from .pipeline import analyze_file as process
    options = dict(options or {})
    out = Path(out)
    parts = out / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    remove_stale_temporaries(parts)
    base_hash = parameters_hash({"process": _process_name(process), "options": options})

    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    keys: list[str | None] = []
    unreadable: dict[int, Failure] = {}
    tasks: list[Task | None] = []
    for i, job in enumerate(jobs):
        try:
            sha = file_sha256(job.path)
        except OSError as err:
            keys.append(None)
            tasks.append(None)
            unreadable[i] = Failure(os.fspath(job.path), "", "MissingFileError", f"cannot be read: {err}")
            continue
        params = parameters_hash({"base": base_hash, "metadata": job.metadata()})
        key = record_key(job.path, sha, params)
        keys.append(key)
        tasks.append(Task(job, key, sha, params))
    pending = [t for t in tasks if t is not None and not (resume and has_record(parts, t.key))]
    chunks = [pending[i : i + chunk_size] for i in range(0, len(pending), chunk_size)]

    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), initial=len(jobs) - len(pending), unit="file", file=sys.stderr,
               disable=not progress, desc="spectro batch")
    with bar:
        if executor is None:
            for chunk in chunks:
                bar.update(len(process_chunk(process, chunk, options, parts)))
        else:
            futures = [executor.submit(process_chunk, process, chunk, options, parts) for chunk in chunks]
            for future in concurrent.futures.as_completed(futures):
                bar.update(len(future.result()))
    combined = combine(
        out, jobs, keys, unreadable=unreadable, parameters={"process": _process_name(process), "options": options}
    )
    return BatchSummary(
        out=out,
        n_inputs=len(jobs),
        n_processed=len(pending),
        n_skipped=len(jobs) - len(pending) - len(unreadable),
        n_succeeded=combined.n_succeeded,
        n_failed=len(jobs) - combined.n_succeeded,
        n_spectra=combined.n_spectra,
        failures=combined.failures,
        outputs={name: out / filename for name, filename in OUTPUT_FILES.items()},
    )
