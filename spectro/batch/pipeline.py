"""The default chain of a batch: read, analyse, valence.

:func:`analyze_file` reads one file with :func:`spectro.read`, applies the
job's metadata (pressure, temperature, run, sample), and

- XANES: :func:`spectro.xanes.analyze` (calibration on ``mu_ref`` when
  present, normalization, E0 at 0.8 of the jump, pre-edge), then the
  valence by :mod:`spectro.valence` when references are given: each
  reference is analysed with the same options and the line through the
  anchors (E0 against valence) gives every scan's valence with its error;
- XES: :func:`spectro.xes.analyze` (Kbeta1,3, Kbeta', Kbeta2,5, IAD).

:func:`analyze_files` does the same for a chunk of inputs, the XANES
spectra of all of them in one kernel call (:func:`spectro.xanes.analyze_many`).

Per-scan values go to the results, spectra with an energy dimension
(``norm``, ``flat``, ...) to the spectra. When the analysis of a file
raises, each scan is analysed alone so that one bad scan does not lose the
others; a scan without its primary observable (``e0`` for XANES,
``kb13_energy`` for XES) is a failure, with the warnings as the reason.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import (
    ReferenceNotFoundError,
    SpectroError,
    SpectroWarning,
    ValidationError,
)
from ..model import ENERGY_DIMS, kind_of
from .manifest import Job
from .records import Failure, Outcome

__all__ = ["DEFAULT_ANCHORS", "PRIMARY", "analyze_file", "analyze_files", "apply_metadata", "reference_dataset"]

#: The observable without which a scan counts as failed, per kind.
PRIMARY = {"xanes": "e0", "xes": "kb13_energy"}

#: Valence anchors used when none are given, as catalogue queries (formula, valence).
DEFAULT_ANCHORS = (("NiO", 2.0), ("LaNiO3", 3.0))


def apply_metadata(ds: xr.Dataset, job: Job) -> xr.Dataset:
    """Return ``ds`` with the job's known pressure, temperature, run and sample on every scan.

    Examples
    --------
    >>> import spectro, pathlib
    >>> ds = apply_metadata(spectro.simulate.xanes(n_scans=2), Job(pathlib.Path("a"), pressure=3.0))
    >>> ds.pressure.values.tolist(), ds.pressure.attrs["units"]
    ([3.0, 3.0], 'GPa')
    """
    n = ds.sizes["scan"]
    updates = {}
    for name in ("pressure", "temperature"):
        value = getattr(job, name)
        if not math.isnan(value):
            updates[name] = np.full(n, value)
    for name in ("run", "sample"):
        value = getattr(job, name)
        if value:
            updates[name] = np.full(n, value)
    if not updates:
        return ds
    out = ds.copy(deep=False)  # new variables sharing the data: replacing their values leaves ds as it is
    for name, values in updates.items():
        out.variables[name].values = values
    return out


def _split(results: xr.Dataset, kind: str) -> tuple[xr.Dataset, xr.Dataset | None]:
    dim = ENERGY_DIMS[kind]
    dims = {n: results.variables[n].dims for n in results.data_vars}
    spectral = [n for n, d in dims.items() if dim in d]
    per_scan = [n for n, d in dims.items() if d == ("scan",)]
    spectra = results[spectral] if spectral else None
    return results[per_scan], spectra


def _analyse(analyse: Callable[[xr.Dataset], xr.Dataset], ds: xr.Dataset, file: str):
    """Results of all scans, scan by scan when the whole file fails."""
    try:
        return [analyse(ds)], []
    except SpectroError as err:
        if ds.sizes["scan"] == 1:
            raise
        first = err
    results, failures = [], []
    for i, label in enumerate(ds["scan"].values):
        try:
            results.append(analyse(ds.isel(scan=[i])))
        except SpectroError as err:
            failures.append(Failure.from_exception(err, file=file, scan=label))
    if not results:
        raise first
    return results, failures


def _primary_failures(results: xr.Dataset, kind: str, file: str) -> tuple[np.ndarray, list[Failure]]:
    """Positions of the scans that have the primary observable, and failures for the others.

    The reason is the same wherever the file was processed; the warnings
    that explain it are in ``warnings.csv`` (capturing warnings is not
    thread-safe, so they cannot be part of a reproducible reason).
    """
    name = PRIMARY[kind]
    if name not in results:
        return np.arange(results.sizes["scan"]), []
    ok = np.isfinite(np.asarray(results[name].values, dtype=float))
    reason = f"no {name} could be determined (see warnings.csv)"
    failures = [Failure(file, str(s), "DataError", reason) for s in results["scan"].values[~ok]]
    return np.flatnonzero(ok), failures


def reference_dataset(name: str, *, kind: str = "xanes") -> xr.Dataset:
    """Read a valence anchor: a file, a catalogue id, or a compound formula.

    A formula (``"NiO"``) picks the first catalogued valence anchor of that
    compound with a local copy (``SPECTRO_DATA_DIR`` or the cache); nothing
    is downloaded.

    Raises
    ------
    ReferenceNotFoundError
        Nothing readable matches ``name``.
    """
    from .. import references
    from ..io import read

    if Path(name).is_file():
        return read(name)
    ids = {r.id for r in references.catalogue()}
    if name in ids:
        return references.load(name, download=False)
    candidates = [
        r for r in references.find(kind=kind, anchor=True)
        if r.formula.lower() == name.lower() or r.compound.lower() == name.lower()
    ]
    for ref in candidates:
        try:
            return references.load(ref.id, download=False)
        except ReferenceNotFoundError:
            continue
    raise ReferenceNotFoundError(
        f"reference {name!r} is neither a file, a catalogue id nor a catalogued anchor "
        "compound with a local copy"
    )


@functools.lru_cache(maxsize=16)
def _calibration(anchors: tuple[tuple[str, float], ...], xanes_options: str):
    import json

    from .. import valence, xanes

    options = json.loads(xanes_options)
    results, valences = [], []
    for name, value in anchors:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SpectroWarning)
            res, _ = _split(xanes.analyze(reference_dataset(name), **options), "xanes")
        res = res.assign_coords(scan=[f"{name}:{s}" for s in res["scan"].values])
        results.append(res)
        valences.extend([value] * res.sizes["scan"])
    combined = xr.concat(results, dim="scan", join="outer", coords="minimal", compat="override")
    return valence.calibrate(combined, np.asarray(valences), observable="e0")


def _with_valence(results: xr.Dataset, job: Job, options: Mapping[str, Any], file: str):
    import json

    from .. import valence

    explicit = bool(job.references)
    anchors = job.references or (DEFAULT_ANCHORS if options.get("default_references", True) else ())
    if not anchors:
        return results, []
    try:
        calibration = _calibration(tuple(anchors), json.dumps(dict(options.get("xanes", {})), sort_keys=True))
        return results.merge(valence.valence(results, calibration)), []
    except SpectroError as err:
        if not explicit:
            return results, []
        failure = Failure.from_exception(err, file=file)
        return results, [Failure(file, failure.scan, failure.error, f"valence not computed: {failure.reason}")]


def _load(job: Job, options: Mapping[str, Any]) -> tuple[xr.Dataset, str]:
    """Read one input with the job's metadata; return it and its kind."""
    from ..io import read

    ds = apply_metadata(read(job.path, **dict(options.get("read", {}))), job)
    kind = kind_of(ds)
    if job.kind is not None and job.kind != kind:
        raise ValidationError(
            f"the manifest says kind {job.kind!r} but the file holds {kind!r}", file=str(job.path)
        )
    return ds, kind


def _analyser(kind: str, options: Mapping[str, Any]) -> Callable[[xr.Dataset], xr.Dataset]:
    from .. import xanes, xes

    if kind == "xanes":
        xanes_options = dict(options.get("xanes", {}))
        return lambda d: xanes.analyze(d, **xanes_options)
    xes_options = dict(options.get("xes", {}))
    element = options.get("element", "Ni")
    return lambda d: xes.analyze(d, element=element, **xes_options)


def _outcome(job: Job, options: Mapping[str, Any], kind: str, parts: list, failures: list) -> Outcome:
    """The outcome of one input from its analysed parts: failed scans dropped, valence added."""
    file = str(job.path)
    split = [_split(p, kind) for p in parts]
    results = xr.concat([r for r, _ in split], dim="scan") if len(split) > 1 else split[0][0]
    spectra_parts = [s for _, s in split if s is not None]
    spectra = None
    if spectra_parts:
        spectra = xr.concat(spectra_parts, dim="scan", join="outer") if len(spectra_parts) > 1 else spectra_parts[0]
    keep, missing = _primary_failures(results, kind, file)
    failures = failures + missing
    if keep.size == 0:
        return Outcome(None, None, tuple(failures))
    if keep.size < results.sizes["scan"]:
        results = results.isel(scan=keep)
        spectra = None if spectra is None else spectra.isel(scan=keep)
    if kind == "xanes":
        results, valence_failures = _with_valence(results, job, options, file)
        failures.extend(valence_failures)
    return Outcome(results=results, spectra=spectra, failures=tuple(failures))


def analyze_file(job: Job, options: Mapping[str, Any]) -> Outcome:
    """Read and analyse one input (the default process function of :func:`~spectro.batch.run_batch`).

    Parameters
    ----------
    job : Job
        The input and its metadata.
    options : mapping
        ``read`` (dict, options of :func:`spectro.read`), ``xanes`` (dict,
        of :func:`spectro.xanes.analyze`), ``xes`` (dict, of
        :func:`spectro.xes.analyze`), ``element`` (str, default ``"Ni"``,
        the XES emitter), ``default_references`` (bool, default True: use
        the catalogue's NiO and LaNiO3 anchors, when they are available
        locally, for inputs given no references).

    Returns
    -------
    Outcome

    Raises
    ------
    SpectroError
        When the file cannot be read or no scan can be analysed.
    """
    ds, kind = _load(job, options)
    parts, failures = _analyse(_analyser(kind, options), ds, str(job.path))
    return _outcome(job, options, kind, parts, failures)


def _loaded(job: Job, options: Mapping[str, Any]):
    """(Dataset, kind, None, warnings) for a readable input, else (None, None, exception, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds, kind = _load(job, options)
        except Exception as err:  # recorded as the input's failure
            return None, None, err, [w.message for w in caught]
    return ds, kind, None, [w.message for w in caught]


def _together(loaded: list, options: Mapping[str, Any]) -> dict[int, tuple[xr.Dataset, list[Warning]]]:
    """The in-memory XANES inputs analysed in one kernel call, by position; {} when that fails."""
    from .. import xanes
    from ..xanes._xr import is_lazy

    wanted = [i for i, (ds, kind, _, _) in enumerate(loaded) if kind == "xanes" and not is_lazy(ds)]
    if len(wanted) < 2:
        return {}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            together = xanes.analyze_many([loaded[i][0] for i in wanted], **dict(options.get("xanes", {})))
    except Exception:  # every input is then analysed alone, and fails on its own
        return {}
    if caught:  # a warning that names no input: let each input be analysed alone
        return {}
    return dict(zip(wanted, together))


def analyze_files(jobs: Sequence[Job], options: Mapping[str, Any]) -> list[Outcome]:
    """:func:`analyze_file` on several inputs, their XANES spectra in one kernel call.

    The XANES inputs that could be read go through
    :func:`spectro.xanes.analyze_many` together (each keeps its own
    warnings); when that call fails, each input is analysed alone, so a
    failure stays with the input it concerns. Every input gets an
    :class:`Outcome` with its warnings; nothing raised by one input is
    raised here.

    Parameters
    ----------
    jobs : sequence of Job
        The inputs, e.g. one chunk of a batch.
    options : mapping
        As for :func:`analyze_file`.

    Returns
    -------
    list of Outcome
        One per input, in order.

    Examples
    --------
    >>> import pathlib, tempfile, spectro
    >>> sim = spectro.simulate.xanes(seed=0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> header = "# XDI/1.0\\n# Column.1: energy eV\\n# Column.2: mu\\n# Element.symbol: Ni\\n#----\\n"
    >>> rows = [f"{e} {m}" for e, m in zip(sim.energy.values.tolist(), sim.mu.values[0].tolist())]
    >>> for name in ("a.xdi", "b.xdi"):
    ...     _ = (folder / name).write_text(header + "\\n".join(rows) + "\\n")
    >>> jobs = [Job(folder / "a.xdi"), Job(folder / "b.xdi", pressure=2.0), Job(folder / "c.xdi")]
    >>> a, b, c = analyze_files(jobs, {"default_references": False, "xanes": {"preedge": "centroid"}})
    >>> abs(float(a.results.e0[0] - sim.true_e0[0])) < 0.05, b.results.pressure.values.tolist()
    (True, [2.0])
    >>> c.results is None, c.failures[0].error
    (True, 'MissingFileError')
    """
    loaded = [_loaded(job, options) for job in jobs]
    together = _together(loaded, options)
    outcomes = []
    for i, (job, (ds, kind, error, read_warnings)) in enumerate(zip(jobs, loaded)):
        file = str(job.path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if error is not None:
                    raise error
                if i in together:
                    result, kernel_warnings = together[i]
                    parts, failures = [result], []
                else:
                    kernel_warnings = []
                    parts, failures = _analyse(_analyser(kind, options), ds, file)
                outcome = _outcome(job, options, kind, parts, failures)
            except Exception as err:  # every failure is recorded; the batch goes on
                kernel_warnings = []
                outcome = Outcome(None, None, (Failure.from_exception(err, file=file),))
        seen = tuple(read_warnings) + tuple(kernel_warnings) + tuple(w.message for w in caught)
        outcomes.append(Outcome(outcome.results, outcome.spectra, outcome.failures, seen))
    return outcomes
