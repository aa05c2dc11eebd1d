"""Run a batch: every input processed once, recorded, then combined.

:func:`run_batch` hashes each input, cuts the inputs into chunks of
consecutive inputs, skips the chunks whose record exists when resuming,
processes the others (in this process or on an executor, e.g. a
``concurrent.futures`` pool or a dask.distributed client's executor), and
finally combines all records into the outputs of :mod:`spectro.batch.combine`.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import stat
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..options import AnalysisOptions
from .combine import OUTPUT_FILES, combine
from .limits import CHUNK_SIZE, TIME_LIMIT, InputTimeoutError, within
from .lock import output_lock
from .manifest import Job
from .outputs import remove_stale_temporaries
from .pipeline import analyze_files, anchor_digests
from .provenance import file_sha256, parameters_hash, record_key
from .records import (
    Failure,
    Outcome,
    ProcessFunction,
    Record,
    Task,
    chunk_key,
    has_record,
    record_path,
    write_record,
)

__all__ = ["CHUNK_SIZE", "BatchSummary", "run_batch"]

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
    without_valence : tuple of str
        XANES inputs that got no valence because their (default) anchors
        could not be found or read (a ``NoValenceWarning`` each in
        ``warnings.csv``).
    n_warnings : int
        Rows of ``warnings.csv`` (flags of the scans, fixes such as merged
        points, extrapolated valences, ...).
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
    without_valence: tuple[str, ...] = ()
    n_warnings: int = 0

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
            "without_valence": list(self.without_valence),
            "n_warnings": self.n_warnings,
        }


#: Chunks processed together in this process (without an executor): the XANES inputs of these
#: chunks on one energy grid share a kernel call; each chunk keeps its record. A kernel call costs
#: about 11 ms plus 0.5-1 ms a spectrum (real Ni K files), so a call should hold many spectra; 32
#: chunks of 16 one-scan files hold about 30 MB in memory at once.
SERIAL_CHUNKS = 32

#: Name of the default chain in the parameters (and so in the record keys).
_DEFAULT_PROCESS = "spectro.batch.pipeline.analyze_files"


def _process_name(process: ProcessFunction) -> str:
    return f"{getattr(process, '__module__', '')}.{getattr(process, '__qualname__', repr(process))}"


#: The fewest chunks in an executor task (unless a batch has fewer per worker): every task pays the
#: kernel's fixed cost (11-16 ms with the pre-edge fit) once per energy grid, so that a task of 8
#: chunks on 16 grids spent more CPU on it than on its 128 inputs; with 16, a batch of up to 16 chunks
#: per worker goes as one task per worker, which was faster than more, smaller tasks on an idle and
#: on a loaded machine alike (docs/performance.md).
TASK_CHUNKS = 16


def _task_size(remaining: int, workers: int | None, total: int) -> int:
    """Chunks in the next executor task, given the ``remaining`` ones not yet sent of ``total``.

    Each task takes ``1 / (2 workers)`` of the chunks not yet sent (guided
    self-scheduling: few round trips through the executor while most
    chunks remain), but at least :data:`TASK_CHUNKS`, or an equal share
    per worker of a batch with fewer. Without ``workers`` every chunk is a
    task of its own.

    Examples
    --------
    >>> [_task_size(r, 2, 30) for r in (30, 15)], _task_size(12, 2, 12), _task_size(5, None, 5)
    ([15, 15], 6, 1)
    >>> [_task_size(r, 2, 600) for r in (600, 450, 40)]
    [150, 112, 16]
    """
    if not workers or workers < 1:
        return 1
    return max(1, remaining // (2 * workers), min(TASK_CHUNKS, -(-total // workers)))


def _each(process: ProcessFunction, jobs: Sequence[Job], options: AnalysisOptions,
          time_limit: float | None = None) -> list[Outcome]:
    """``process`` on every input alone (within ``time_limit`` s), each exception recorded as that input's failure."""
    outcomes = []
    for job in jobs:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                outcome = within(time_limit, process, job, options, file=os.fspath(job.path))
            except Exception as err:  # every failure is recorded; the batch goes on
                outcome = Outcome(None, None, (Failure.from_exception(err, file=os.fspath(job.path)),))
        outcomes.append(
            Outcome(outcome.results, outcome.spectra, outcome.failures,
                    tuple(outcome.warnings) + tuple(w.message for w in caught))
        )
    return outcomes


def process_chunks(
    process: ProcessFunction | None, chunks: Sequence[Sequence[Task]], options: AnalysisOptions, parts: Path,
    time_limit: float | None = None,
) -> list[Record]:
    """:func:`process_chunk` on each of ``chunks`` (one executor task); their records.

    With the default chain (``process`` None) the inputs of all the chunks
    are analysed together (:func:`~spectro.batch.pipeline.analyze_files`:
    the XANES inputs on one grid in one kernel call), each chunk's record
    written from its inputs' outcomes: the same records as one chunk at a
    time, since an input's numbers do not depend on the inputs it shares
    a call with.
    """
    if process is not None or len(chunks) < 2:
        return [process_chunk(process, tasks, options, parts, time_limit) for tasks in chunks]
    outcomes = analyze_files([t.job for tasks in chunks for t in tasks], options, time_limit=time_limit)
    records, start = [], 0
    for tasks in chunks:
        records.append(_record(tasks, outcomes[start : start + len(tasks)], parts))
        start += len(tasks)
    return records


def _record(tasks: Sequence[Task], outcomes: Sequence[Outcome], parts: Path) -> Record:
    """Write the record of a chunk's outcomes (not stored when an input timed out, so that resume retries it)."""
    timed_out = any(f.error == InputTimeoutError.__name__ for o in outcomes for f in o.failures)
    return write_record(chunk_key(tasks), tasks, outcomes, parts, store=not timed_out)


def process_chunk(
    process: ProcessFunction | None, tasks: Sequence[Task], options: AnalysisOptions, parts: Path,
    time_limit: float | None = None,
) -> Record:
    """Process a chunk of inputs, write its record, return the record.

    The record is returned as :func:`~spectro.batch.records.read_record`
    reads it.

    ``process`` None runs the default chain on the whole chunk at once
    (:func:`spectro.batch.pipeline.analyze_files`); otherwise ``process``
    runs on each input alone. Nothing raised by the processing stops the
    chunk: it becomes the failure of the input concerned, an input that
    takes more than ``time_limit`` seconds too (to be read, or analysed:
    see :func:`~spectro.batch.pipeline.analyze_files`). The record of a
    chunk with such an input is not stored, so that ``resume`` tries the
    chunk again.
    """
    jobs = [t.job for t in tasks]
    if process is None:
        outcomes = analyze_files(jobs, options, time_limit=time_limit)
    else:
        outcomes = _each(process, jobs, options, time_limit)
    return _record(tasks, outcomes, parts)


def run_batch(
    jobs: Sequence[Job],
    out: str | os.PathLike,
    *,
    process: ProcessFunction | None = None,
    options: AnalysisOptions | None = None,
    resume: bool = False,
    progress: bool = False,
    executor: concurrent.futures.Executor | None = None,
    workers: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    time_limit: float | None = TIME_LIMIT,
) -> BatchSummary:
    """Process every input, record each chunk of inputs, and write the combined outputs.

    Parameters
    ----------
    jobs : sequence of Job
        Inputs, e.g. from :func:`spectro.batch.expand_inputs`.
    out : str or path-like
        Output folder (created). Records go to ``out/parts/``; outputs are
        listed in :data:`spectro.batch.combine.OUTPUT_FILES`.
    process : callable, optional
        ``process(job, options) -> Outcome`` run on each input alone. Default:
        the default chain (read, calibrate, normalize, E0, pre-edge, valence
        for XANES; Kbeta metrics for XES) on each chunk at once, or on the
        chunks of one executor task at once
        (:func:`spectro.batch.pipeline.analyze_files`: the XANES spectra of
        the inputs on one energy grid go through the kernel in one call).
        With an executor it must be picklable (a module-level function).
    options : AnalysisOptions, optional
        Read, XANES, XES and valence options (default: the defaults),
        passed to ``process``. The record key of an input is made of its
        path, the SHA-256 of its bytes, its metadata, the options' hash,
        the process function's name and the SHA-256 of each valence anchor
        file it uses, so a resumed batch redoes what any of them changed.
    resume : bool
        Skip the chunks whose record exists (same inputs, bytes and
        parameters); the others are processed again whole.
    progress : bool
        Show a tqdm progress bar on stderr.
    executor : concurrent.futures.Executor, optional
        Where to run the chunks; default: in this process, :data:`SERIAL_CHUNKS`
        consecutive chunks at a time.
    workers : int, optional
        How many tasks ``executor`` runs at once. With it, consecutive
        chunks are sent together, in tasks that shrink as the batch ends
        (each takes ``1 / (2 workers)`` of the chunks not yet sent, at
        least :data:`TASK_CHUNKS`; see :func:`_task_size`): few kernel calls
        and round trips through the executor, the same records. Default:
        one task per chunk.
    chunk_size : int, keyword-only
        Consecutive inputs per chunk: one record, and with the default
        chain one kernel call per energy grid (or fewer: the chunks of an
        executor task share their calls). The chunks are the same however
        the batch is run (in this process, on a cluster, resumed), so its
        records are too; an input's numbers do not depend on the chunk size
        or on the inputs that share its kernel call (the bits it gets alone).
    time_limit : float or None, keyword-only
        Seconds each input may take to be read, and then analysed (default
        :data:`~spectro.batch.limits.TIME_LIMIT`, 600 s; None: no limit).
        An input that takes longer (a read blocked on a pipe, a stalled
        network disk) is a failure (``InputTimeoutError``) and the batch
        goes on; its chunk is not recorded, so ``resume`` tries it again.
        Each valence anchor may take as long to be hashed, and each set of
        anchors to be read and analysed: the inputs of an anchor that takes
        longer get no valence (see :func:`~spectro.batch.pipeline.analyze_files`).

    Returns
    -------
    BatchSummary

    Notes
    -----
    Failures never stop the batch: an exception raised while processing an
    input is recorded (file, scan, exception class, reason) and the other
    inputs are processed. Inputs that are not regular files (FIFOs,
    sockets, devices) are failures without being opened. The output folder
    is locked while the batch runs (:func:`spectro.batch.lock.output_lock`):
    a second batch writing there raises
    :class:`~spectro.batch.lock.OutputLockedError` before touching anything.
    Outputs that cannot be written (read-only folder, full disk) raise
    their ``OSError``. Every file is written atomically, so a killed batch leaves
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
    options = options if options is not None else AnalysisOptions()
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    out = Path(out)
    with output_lock(out):  # the temporary files in out are then those of killed writers
        parts = out / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out)
        remove_stale_temporaries(parts)
        return _run(jobs, out, parts, process=process, options=options, resume=resume, progress=progress,
                    executor=executor, workers=workers, chunk_size=chunk_size, time_limit=time_limit)


def _regular(path: Path) -> str | None:
    """Why ``path`` cannot be hashed without blocking (not a regular file), else None."""
    mode = os.stat(path).st_mode
    if stat.S_ISREG(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a folder" if stat.S_ISDIR(mode) else "a socket or device"
    return f"not a regular file ({kind})"


def _recorded(parts: Path, key: str, time_limit: float | None) -> bool:
    """Whether chunk ``key`` has a complete record, and the other files its inputs read kept their bytes.

    The other files are those an HDF5 input read with ``external_links``
    takes data from (its ``external_files`` column: their SHA-256 when
    recorded); each is hashed again within ``time_limit`` seconds, and one
    that changed, is gone or takes longer makes the chunk be processed again.
    """
    if not has_record(parts, key):
        return False
    with np.load(record_path(parts, key), allow_pickle=False) as data:
        layout = json.loads(str(data["meta"]))["results"]
        if "external_files" not in layout["text"]:
            return True
        cells = set(data["results/text"][layout["text"].index("external_files")].tolist())
    for item in (item for cell in cells for item in cell.split("; ") if item):
        path, _, sha = item.rpartition(" sha256:")
        try:
            if within(time_limit, file_sha256, path, file=path, doing="hashed") != sha:
                return False
        except (OSError, InputTimeoutError):
            return False
    return True


def _run(jobs: Sequence[Job], out: Path, parts: Path, *, process: ProcessFunction | None,
         options: AnalysisOptions, resume: bool, progress: bool, executor: concurrent.futures.Executor | None,
         workers: int | None, chunk_size: int, time_limit: float | None) -> BatchSummary:
    """:func:`run_batch` in its locked output folder."""
    name = _DEFAULT_PROCESS if process is None else _process_name(process)
    base_hash = parameters_hash({"process": name, "options": options.digest()})
    anchor_files: dict[tuple, list] = {}

    keys: list[str | None] = []
    unreadable: dict[int, Failure] = {}

    def chunks():
        """The chunks of tasks, each as soon as its inputs are hashed."""
        chunk: list[Task] = []
        for i, job in enumerate(jobs):
            try:
                irregular = _regular(job.path)
                sha = None if irregular else file_sha256(job.path)
            except OSError as err:
                keys.append(None)
                unreadable[i] = Failure(os.fspath(job.path), "", "MissingFileError", f"cannot be read: {err}")
                continue
            if irregular:
                keys.append(None)
                unreadable[i] = Failure(os.fspath(job.path), "", "FormatError", irregular)
                continue
            anchors = job.references or (options.valence.anchors if options.valence is not None else ())
            if anchors not in anchor_files:
                anchor_files[anchors] = anchor_digests(anchors, time_limit=time_limit)
            params = parameters_hash({"base": base_hash, "metadata": job.metadata(),
                                      "anchors": anchor_files[anchors]})
            key = record_key(job.path, sha, params)
            keys.append(key)
            chunk.append(Task(job, key, sha, params))
            if len(chunk) == chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    from tqdm.auto import tqdm

    chunk_keys: list[str] = []
    n_chunks = -(-len(jobs) // chunk_size)
    n_tasks = n_pending = 0
    futures = []
    group: list[list[Task]] = []  # chunks that go to the executor as one task
    done: list[Record] = []  # the records of the chunks processed now (the others are read back)
    bar = tqdm(total=len(jobs), unit="file", file=sys.stderr, disable=not progress, desc="spectro batch")
    with bar:
        for chunk in chunks():  # processing starts while later inputs are still being hashed
            chunk_keys.append(chunk_key(chunk))
            n_tasks += len(chunk)
            if resume and _recorded(parts, chunk_keys[-1], time_limit):
                bar.update(len(chunk))
                continue
            n_pending += len(chunk)
            group.append(chunk)
            if executor is None:
                if len(group) >= SERIAL_CHUNKS:
                    done.extend(process_chunks(process, group, options, parts, time_limit))
                    bar.update(sum(len(c) for c in group))
                    group = []
                continue
            unseen = -(-(len(jobs) - len(keys)) // chunk_size)
            if len(group) >= _task_size(len(group) + unseen, workers, n_chunks):
                futures.append(executor.submit(process_chunks, process, group, options, parts, time_limit))
                group = []
        if group and executor is None:
            done.extend(process_chunks(process, group, options, parts, time_limit))
            bar.update(sum(len(c) for c in group))
        elif group:
            futures.append(executor.submit(process_chunks, process, group, options, parts, time_limit))
        bar.update(len(unreadable))
        for future in concurrent.futures.as_completed(futures):
            records = future.result()
            done.extend(records)
            bar.update(sum(len(r.members) for r in records))
    combined = combine(
        out, jobs, keys, chunk_keys, unreadable=unreadable, parameters={"process": name, "options": options.to_dict()},
        in_memory={record.key: record for record in done},
    )
    return BatchSummary(
        out=out,
        n_inputs=len(jobs),
        n_processed=n_pending,
        n_skipped=n_tasks - n_pending,
        n_succeeded=combined.n_succeeded,
        n_failed=len(jobs) - combined.n_succeeded,
        n_spectra=combined.n_spectra,
        failures=combined.failures,
        outputs={name: out / filename for name, filename in OUTPUT_FILES.items()},
        without_valence=combined.without_valence,
        n_warnings=combined.n_warnings,
    )
