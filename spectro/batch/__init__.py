"""Batch processing: many files, or large maps, with resumable atomic outputs.

:func:`run_batch` processes a list of inputs (files, folders, globs or a
manifest CSV, expanded by :func:`expand_inputs`) in chunks with one record
per chunk, records every failure and goes on, and combines the records into
NetCDF and CSV outputs (:mod:`spectro.batch.combine`). :func:`analyze_cube`
processes a large ``(y, x, energy)`` map lazily in chunks with dask
(:func:`open_cube` opens one from Zarr, NetCDF or HDF5). The command line
is ``spectro batch``.

Examples
--------
>>> import tempfile, pathlib, spectro
>>> from spectro.batch import Job, Outcome, run_batch
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.txt").write_text("not a spectrum")
>>> summary = run_batch([Job(folder / "a.txt")], folder / "out")
>>> summary.n_failed, summary.failures[0].error
(1, 'FormatError')
"""

from .. import _lazy

#: Public names and their modules, imported on first use (the command line reads
#: :mod:`spectro.batch.limits` without loading xarray and dask).
_SOURCES = {
    "BatchSummary": "runner",
    "Failure": "records",
    "Job": "manifest",
    "Outcome": "records",
    "Table": "records",
    "analyze_cube": "cube",
    "expand_inputs": "manifest",
    "open_cube": "cube",
    "parse_references": "manifest",
    "read_manifest": "manifest",
    "run_batch": "runner",
    "write_cube_results": "cube",
}

__all__ = [
    "BatchSummary",
    "Failure",
    "Job",
    "Outcome",
    "Table",
    "analyze_cube",
    "expand_inputs",
    "open_cube",
    "parse_references",
    "read_manifest",
    "run_batch",
    "write_cube_results",
]


__getattr__, __dir__ = _lazy.attributes(__name__, _SOURCES, __all__)
