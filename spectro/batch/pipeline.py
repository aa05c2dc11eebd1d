"""The default chain of a batch: read, analyse, valence.

:func:`analyze_file` reads one file with :func:`spectro.read`, applies the
job's metadata (pressure, temperature, run, sample), and

- XANES: :func:`spectro.xanes.analyze` (calibration on ``mu_ref`` when
  present, normalization, E0 at 0.8 of the jump, pre-edge), then the
  valence by :mod:`spectro.valence` when references are given: each
  reference is analysed with the same options and the line through the
  anchors (E0 against valence) gives every scan's valence with its error;
- XES: :func:`spectro.xes.analyze` (Kbeta1,3, Kbeta', Kbeta2,5, IAD).

:func:`analyze_files` does the same for a chunk of inputs, each file's
arrays as :func:`spectro.io.parse` gives them (no Dataset per file): the XANES
spectra of all of them in one kernel call (:func:`spectro.xanes.analyze_stacked`),
their numbers taken straight from the kernels' arrays, and one valence
calibration applied to all the inputs that share anchors.

The outcome of an input is a :class:`~spectro.batch.records.Table`, the
columns its record stores: per-scan values (with the per-scan
coordinates) and the spectra with an energy dimension (``norm``,
``flat``, ...) as a ragged array. When the analysis of a file
raises, each scan is analysed alone so that one bad scan does not lose the
others; a scan without its primary observable (``e0`` for XANES,
``kb13_energy`` for XES) is a failure, with the warnings as the reason.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..errors import (
    ExtrapolationWarning,
    ReferenceNotFoundError,
    SpectroError,
    SpectroWarning,
    ValidationError,
)
from ..model import ENERGY_DIMS, Spectra
from .manifest import Job
from .records import Column, Failure, Outcome, Table, ragged_columns

__all__ = ["DEFAULT_ANCHORS", "PRIMARY", "analyze_file", "analyze_files", "apply_metadata", "reference_dataset"]

#: The observable without which a scan counts as failed, per kind.
PRIMARY = {"xanes": "e0", "xes": "kb13_energy"}

#: Valence anchors used when none are given, as catalogue queries (formula, valence).
DEFAULT_ANCHORS = (("NiO", 2.0), ("LaNiO3", 3.0))


def apply_metadata(data: Spectra | xr.Dataset, job: Job) -> Spectra | xr.Dataset:
    """Return ``data`` with the job's known pressure, temperature, run and sample on every scan.

    ``data`` is a model Dataset or its arrays (:class:`spectro.model.Spectra`);
    it is not modified.

    Examples
    --------
    >>> import spectro, pathlib
    >>> ds = apply_metadata(spectro.simulate.xanes(n_scans=2), Job(pathlib.Path("a"), pressure=3.0))
    >>> ds.pressure.values.tolist(), ds.pressure.attrs["units"]
    ([3.0, 3.0], 'GPa')
    """
    updates: dict[str, Any] = {}
    for name in ("pressure", "temperature"):
        value = getattr(job, name)
        if not math.isnan(value):
            updates[name] = value
    for name in ("run", "sample"):
        value = getattr(job, name)
        if value:
            updates[name] = value
    if not updates:
        return data
    if isinstance(data, Spectra):
        return data.with_values(**updates)
    out = data.copy(deep=False)  # new variables sharing the data: replacing their values leaves data as it is
    for name, value in updates.items():
        out.variables[name].values = np.full(data.sizes["scan"], value)
    return out


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
            res = xanes.analyze(reference_dataset(name), **options)
        res = res[[v for v in res.data_vars if res[v].dims == ("scan",)]]
        res = res.assign_coords(scan=[f"{name}:{s}" for s in res["scan"].values])
        results.append(res)
        valences.extend([value] * res.sizes["scan"])
    combined = xr.concat(results, dim="scan", join="outer", coords="minimal", compat="override")
    return valence.fit_calibration(combined, np.asarray(valences), observable="e0")


def _load(job: Job, options: Mapping[str, Any]) -> Spectra:
    """Read one input's arrays with the job's metadata."""
    from ..io import parse

    spectra = apply_metadata(parse(job.path, **dict(options.get("read", {}))), job)
    if job.kind is not None and job.kind != spectra.kind:
        raise ValidationError(
            f"the manifest says kind {job.kind!r} but the file holds {spectra.kind!r}", file=str(job.path)
        )
    return spectra


def _analyser(kind: str, options: Mapping[str, Any]) -> Callable[[xr.Dataset], xr.Dataset]:
    from .. import xanes, xes

    if kind == "xanes":
        xanes_options = dict(options.get("xanes", {}))
        return lambda d: xanes.analyze(d, **xanes_options)
    xes_options = dict(options.get("xes", {}))
    element = options.get("element", "Ni")
    return lambda d: xes.analyze(d, element=element, **xes_options)


def _primary(table: Table, kind: str, file: str) -> tuple[Table | None, list[Failure]]:
    """The rows that have the primary observable, and failures for the others.

    The reason is the same wherever the file was processed; the warnings
    that explain it are in ``warnings.csv`` (capturing warnings is not
    thread-safe, so they cannot be part of a reproducible reason).
    """
    name = PRIMARY[kind]
    if name not in table.results:
        return table, []
    ok = np.isfinite(np.asarray(table[name], dtype=float))
    reason = f"no {name} could be determined (see warnings.csv)"
    failures = [Failure(file, str(s), "DataError", reason) for s in table["scan"][~ok]]
    if not ok.any():
        return None, failures
    return (table if ok.all() else table.select(np.flatnonzero(ok))), failures


def _anchors(job: Job, options: Mapping[str, Any]) -> tuple[tuple[tuple[str, float], ...], bool]:
    """The valence anchors of an input, and whether the input named them."""
    if job.references:
        return tuple(job.references), True
    return (DEFAULT_ANCHORS if options.get("default_references", True) else ()), False


@dataclass
class _Done:
    """An input on its way to an :class:`Outcome`."""

    job: Job
    kind: str | None
    table: Table | None
    failures: list[Failure]
    warnings: list[Warning]

    @property
    def file(self) -> str:
        return str(self.job.path)

    def outcome(self) -> Outcome:
        return Outcome(self.table, None, tuple(self.failures), tuple(self.warnings))


def _with_valences(done: list[_Done], options: Mapping[str, Any]) -> None:
    """Add the valence of every XANES input that has anchors, one calibration per set of anchors.

    The inputs that share anchors get their valences from one call; each
    gets its own extrapolation warning. When the calibration fails, an
    input that named its anchors gets the failure; the others go without
    a valence.
    """
    import json

    from .. import calibration_line, valence

    groups: dict[tuple, list[_Done]] = {}
    for item in done:
        if item.kind == "xanes" and item.table is not None:
            anchors, explicit = _anchors(item.job, options)
            if anchors:
                groups.setdefault((anchors, explicit), []).append(item)
    xanes_options = json.dumps(dict(options.get("xanes", {})), sort_keys=True)
    for (anchors, explicit), items in groups.items():
        tables = [item.table for item in items]
        names = [n for n in ("e0", "e0_err", "calibration_shift", "calibration_shift_err") if n in tables[0].results]
        results = xr.Dataset(
            {n: ("scan", np.concatenate([t[n] for t in tables]).astype(float)) for n in names},
            coords={"scan": np.concatenate([t["scan"] for t in tables])},
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", ExtrapolationWarning)
            try:
                calibration = _calibration(anchors, xanes_options)
                out = valence.valence(results, calibration)
            except Exception as err:  # the inputs' failure (a SpectroError only when they named the anchors)
                out = err
        bounds = np.cumsum([0] + [t.n_rows for t in tables])
        for item, start, end in zip(items, bounds[:-1], bounds[1:]):
            item.warnings.extend(w.message for w in caught)
            if isinstance(out, Exception):
                if explicit or not isinstance(out, SpectroError):
                    failure = Failure.from_exception(out, file=item.file)
                    item.failures.append(Failure(item.file, failure.scan, failure.error,
                                                 f"valence not computed: {failure.reason}"))
                continue
            rows = slice(int(start), int(end))
            columns = {str(k): Column(v.values[rows], dict(v.attrs)) for k, v in out.data_vars.items()}
            item.table = item.table.with_results(columns)
            extrapolated = calibration_line.extrapolation_warning(columns["valence_flags"].values, calibration)
            if extrapolated is not None:
                item.warnings.append(extrapolated)


def _settle(job: Job, kind: str, table: Table, failures: list[Failure], seen: list[Warning]) -> _Done:
    """The input with its failed scans dropped (valences come later, for all inputs at once)."""
    table, missing = _primary(table, kind, str(job.path))
    return _Done(job, kind, table, failures + missing, seen)


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
        Its ``results`` a :class:`~spectro.batch.records.Table` (None
        when no scan has the primary observable; the failures say why).

    Raises
    ------
    SpectroError
        When the file cannot be read or no scan can be analysed.
    """
    spectra = _load(job, options)
    parts, failures = _analyse(_analyser(spectra.kind, options), spectra.to_dataset(), str(job.path))
    done = _settle(job, spectra.kind, _tabulate(parts, spectra.kind), failures, [])
    _with_valences([done], options)
    for w in done.warnings:
        warnings.warn(w, stacklevel=2)
    return Outcome(done.table, None, tuple(done.failures))


def _loaded(job: Job, options: Mapping[str, Any]):
    """(Spectra, None, warnings) for a readable input, else (None, exception, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            spectra = _load(job, options)
        except Exception as err:  # recorded as the input's failure
            return None, err, [w.message for w in caught]
    return spectra, None, [w.message for w in caught]


def _together(loaded: list, options: Mapping[str, Any]):
    """The XANES inputs analysed in one kernel call, and their positions; None when that fails."""
    from .. import xanes

    wanted = [i for i, (spectra, _, _) in enumerate(loaded) if spectra is not None and spectra.kind == "xanes"]
    if len(wanted) < 2:
        return None, {}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            stacked = xanes.analyze_stacked([loaded[i][0] for i in wanted], **dict(options.get("xanes", {})))
    except Exception:  # every input is then analysed alone, and fails on its own
        return None, {}
    if caught:  # a warning that names no input: let each input be analysed alone
        return None, {}
    return stacked, {i: k for k, i in enumerate(wanted)}


def _tabulate(parts: list[xr.Dataset], kind: str) -> Table:
    """The table of an input's analysed parts (Datasets along scan)."""
    return Table.concat([Table.from_dataset(p, p, dim=ENERGY_DIMS[kind]) for p in parts])


def _stacked_table(stacked, k: int) -> Table:
    """The table of input ``k`` of a :class:`spectro.xanes.Stacked`, as :func:`_tabulate` gives it."""
    from ..xanes import RESULTS

    sp, rows, attrs = stacked.inputs[k], stacked.rows(k), stacked.attrs[k]
    results = {name: Column(np.array(stacked.values[name][rows], dtype=float), attrs[name]) for name in RESULTS}
    for name, (values, coord_attrs) in sp.coords.items():
        results[name] = Column(values, dict(coord_attrs), True)
    n = sp.energy.size
    spectra, row_size = ragged_columns(
        sp.energy, dict(sp.energy_attrs),
        {name: (stacked.values[name][rows, :n], attrs[name]) for name in ("norm", "flat")},
    )
    return Table(results, spectra, row_size)


def analyze_files(jobs: Sequence[Job], options: Mapping[str, Any]) -> list[Outcome]:
    """:func:`analyze_file` on several inputs, their XANES spectra in one kernel call.

    The XANES inputs that could be read go through
    :func:`spectro.xanes.analyze_stacked` together (each keeps its own
    warnings); when that call fails, each input is analysed alone, so a
    failure stays with the input it concerns. The inputs that share
    valence anchors get their valences from one call. Every input gets an
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
        One per input, in order, as :func:`analyze_file` gives them.

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
    >>> abs(float(a.results["e0"][0] - sim.true_e0[0])) < 0.05, b.results["pressure"].tolist()
    (True, [2.0])
    >>> c.results is None, c.failures[0].error
    (True, 'MissingFileError')
    """
    loaded = [_loaded(job, options) for job in jobs]
    stacked, position = _together(loaded, options)
    done = []
    for i, (job, (spectra, error, read_warnings)) in enumerate(zip(jobs, loaded)):
        file, kind = str(job.path), None if spectra is None else spectra.kind
        kernel_warnings: list[Warning] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if error is not None:
                    raise error
                if i in position:
                    table, failures = _stacked_table(stacked, position[i]), []
                    kernel_warnings = list(stacked.warnings[position[i]])
                else:
                    parts, failures = _analyse(_analyser(kind, options), spectra.to_dataset(), file)
                    table = _tabulate(parts, kind)
            except Exception as err:  # every failure is recorded; the batch goes on
                kind, table, failures = None, None, [Failure.from_exception(err, file=file)]
        seen = list(read_warnings) + kernel_warnings + [w.message for w in caught]
        done.append(_Done(job, kind, None, failures, seen) if table is None
                    else _settle(job, kind, table, failures, seen))
    _with_valences(done, options)
    return [d.outcome() for d in done]
