"""The default chain of a batch: read, analyse, valence.

:func:`analyze_files` reads each input with :func:`spectro.io.parse` (the
batch's read options, changed by the input's manifest row), applies the
job's metadata (pressure, temperature, run, sample), and

- XANES: the kernel of :func:`spectro.xanes.analyze`
  (:func:`spectro.xanes.analyze_arrays`) on the input's arrays, as
  ``analyze`` runs it on the input's Dataset: the same numbers to the bit,
  the same attrs, the flags of each scan as its warnings (the inputs on
  one energy grid in one kernel call, each with the bits it gets alone);
  then the valence
  by :mod:`spectro.valence` when anchors are given or the defaults are
  found: each anchor is analysed with the same options and the line
  through the anchors (E0 against valence) gives every scan's valence with
  its error;
- XES: :func:`spectro.xes.analyze` with the batch's XES options (Kbeta1,3,
  Kbeta', Kbeta2,5; the fit with ``fit``) on the input's Dataset, the flags
  of each scan as its warnings; scan by scan when the whole input fails.

The outcome of an input is a :class:`~spectro.batch.records.Table`, the
columns its record stores: per-scan values (with the per-scan
coordinates) and the spectra with an energy dimension (``norm``,
``flat``, ...) as a ragged array. A scan without its primary observable
(``e0`` for XANES, ``kb13_energy`` for XES) is a failure, with the
warnings as the reason.
"""

from __future__ import annotations

import functools
import json
import math
import stat
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ..errors import (
    LimitError,
    NoValenceWarning,
    OptionError,
    ReferenceNotFoundError,
    SpectroError,
    SpectroWarning,
    ValenceFlagWarning,
    ValidationError,
)
from ..model import ENERGY_DIMS, Spectra
from ..options import AnalysisOptions, ReadOptions, XanesOptions
from .limits import InputTimeoutError, within, within_each
from .manifest import Job
from .provenance import file_sha256
from .records import Column, Failure, Outcome, Table, ragged_columns

if TYPE_CHECKING:
    from ..references import Conditions

__all__ = [
    "PRIMARY",
    "anchor_digests",
    "check_valence_observable",
    "anchor_source",
    "analyze_file",
    "analyze_files",
    "apply_metadata",
    "reference_dataset",
]

#: The observable without which a scan counts as failed, per kind.
PRIMARY = {"xanes": "e0", "xes": "kb13_energy"}


def check_valence_observable(observable: str) -> None:
    """Refuse a valence observable that the batch's valences (of XANES inputs) cannot be computed on.

    Raises
    ------
    OptionError
        ``observable`` is not an energy of :func:`spectro.xanes.analyze` with an error (``e0``, ``e0_half``,
        ``e0_derivative``, ``preedge_centroid``, ``preedge_centroid_free``).

    Examples
    --------
    >>> check_valence_observable("preedge_centroid")
    >>> try:
    ...     check_valence_observable("kb25_energy")
    ... except OptionError as err:
    ...     print(str(err)[:66])
    observable='kb25_energy' is not allowed: an edge or pre-edge energ
    """
    from ..xanes._budget import BUDGETED

    energies = sorted(n for n, (_, moves) in BUDGETED.items() if moves and n != "calibration_shift")
    if observable not in energies:
        raise OptionError("observable", observable, "an edge or pre-edge energy of the XANES analysis (the batch's "
                          f"valences are those of its XANES inputs): one of {', '.join(energies)}")


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


def anchor_source(name: str, *, kind: str = "xanes", force: bool = False) -> tuple[str | None, Path]:
    """The catalogue id (None for a file) and the local file of a valence anchor.

    ``name`` is a file, a catalogue id, or a compound formula: the first
    catalogued valence anchor of that compound with a local copy
    (``SPECTRO_DATA_DIR`` or the cache); nothing is downloaded. Catalogue
    entries that are not sound valence anchors (metal foils, ...) are
    refused unless ``force`` (:func:`spectro.references.check_anchor`).

    Raises
    ------
    ReferenceNotFoundError
        Nothing readable matches ``name``.
    LimitError
        ``name`` is a FIFO, socket or device (not opened: reading it could block for ever).
    DataError
        ``name`` is a catalogue entry, or only matches entries, that are
        not sound valence anchors, and ``force`` is false.
    """
    from .. import references

    path = Path(name)
    if path.is_file():
        return None, path
    if path.exists() and not path.is_dir():  # opening a FIFO would block for ever
        mode = path.stat().st_mode
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket or device"
        raise LimitError(f"valence anchor {name!r} is {kind}, not a regular file: not opened")
    ids = {r.id for r in references.catalogue()}
    if name in ids:
        references.check_anchor(name, force=force)
    candidates = [name] if name in ids else [
        r.id for r in references.find(kind=kind, anchor=None if force else True)
        if r.formula.lower() == name.lower() or r.compound.lower() == name.lower()
    ]
    refused = [r for r in references.find(kind=kind, anchor=False)
               if r.formula.lower() == name.lower() or r.compound.lower() == name.lower()]
    if not candidates and refused:
        references.check_anchor(refused[0].id)
    for ref_id in candidates:
        try:
            return ref_id, references.path(ref_id, download=False)
        except ReferenceNotFoundError:
            if name in ids:
                raise
    raise ReferenceNotFoundError(
        f"reference {name!r} is neither a file, a catalogue id nor a catalogued anchor "
        "compound with a local copy"
    )


def reference_dataset(name: str, *, kind: str = "xanes") -> xr.Dataset:
    """Read a valence anchor (see :func:`anchor_source`) into a model Dataset."""
    from .. import references
    from ..io import read

    ref_id, path = anchor_source(name, kind=kind)
    return read(path) if ref_id is None else references.load(ref_id, download=False)


def anchor_digests(anchors: Sequence[tuple[str, float]], *, time_limit: float | None = None) -> list[list[Any]]:
    """``[name, valence, sha256 of its file]`` of each anchor (``""`` when it cannot be found).

    Part of every record key, so that a resumed batch computes its
    valences again when a reference file has changed. Each anchor is
    found and hashed within ``time_limit`` seconds (None: no limit); one
    that takes longer (a file on a stalled network disk) gets ``""`` and
    is not tried again by this process (see :func:`_not_stalled`).
    """
    out = []
    for name, value in anchors:
        try:
            _not_stalled(name)
            sha = within(time_limit, _anchor_sha256, name, doing=f"hashed as valence anchor {name!r}")
        except InputTimeoutError as err:
            _STALLED[name] = err
            sha = ""
        except (SpectroError, OSError):
            sha = ""
        out.append([name, value, sha])
    return out


def _anchor_sha256(name: str) -> str:
    return file_sha256(anchor_source(name, force=True)[1])


#: Valence anchors (a name, or a set of anchors) that were not hashed, or read and analysed, within
#: the time limit in this process, and the error it gave: while the thread left blocked on one has
#: not ended, it is not tried again (each later chunk would wait the whole limit too).
_STALLED: dict[Any, InputTimeoutError] = {}


def _not_stalled(key: Any) -> None:
    """Raise the :class:`InputTimeoutError` of ``key`` (an anchor or a set of anchors) while its thread is blocked."""
    err = _STALLED.get(key)
    if err is None:
        return
    if err.thread is not None and not err.thread.is_alive():  # it ended after all: try again
        del _STALLED[key]
        return
    raise err


def _anchor_results(name: str, value: float, read_changes: tuple, read_options: ReadOptions,
                    xanes_options: XanesOptions, force: bool = False) -> tuple[xr.Dataset, Conditions]:
    """The per-scan XANES results of one anchor of valence ``value``, its scans labelled ``name:scan``, and its
    conditions (:func:`spectro.valence.anchor_conditions`).

    A file is read with the batch's read options changed by its manifest
    row (``read_changes``, when it is a reference row); a catalogued
    spectrum as the catalogue says.
    """
    from .. import references, valence, xanes
    from ..io import read

    ref_id, path = anchor_source(name, force=force)
    if ref_id is None:
        ds = read(path, ReadOptions.from_mapping(dict(read_changes), door="manifest", base=read_options))
    else:
        ds = references.load(ref_id, download=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpectroWarning)
        res = xanes.analyze(ds, xanes_options)
    res = res[[v for v in res.data_vars if res[v].dims in (("scan",), ("scan", "variation"))]]
    (conditions,) = valence.anchor_conditions([(ds, value)], force_anchors=True)  # anchor_source checked it
    return res.assign_coords(scan=[f"{name}:{s}" for s in res["scan"].values]), conditions


@functools.lru_cache(maxsize=16)
def _calibration(anchors: tuple[tuple[str, float], ...], anchor_read: tuple, digests: str,
                 read_options: ReadOptions, xanes_options: XanesOptions, force: bool = False,
                 observable: str = "e0"):
    """The valence line through the anchors (with their conditions), each anchor's results with its valence,
    and the anchors' conditions.

    Cached by the anchors' names, read options, file digests, the
    options and the observable. With ``xanes_options.budget`` the results hold the budget's
    variations (for :func:`spectro.budget.valence_from_budgets`).
    """
    from .. import valence

    reads = dict(anchor_read)
    results, conditions = zip(*(_anchor_results(name, value, reads.get(name, ()), read_options, xanes_options, force)
                                for name, value in anchors))
    valences = np.concatenate([np.full(r.sizes["scan"], value) for r, (_, value) in zip(results, anchors)])
    per_scan = [r[[v for v in r.data_vars if r[v].dims == ("scan",)]] for r in results]
    combined = xr.concat(per_scan, dim="scan", join="outer", coords="minimal", compat="override")
    line = valence.with_conditions(valence.fit_calibration(combined, valences, observable=observable), conditions)
    return line, tuple((r, value) for r, (_, value) in zip(results, anchors)), conditions


def _load(job: Job, options: AnalysisOptions) -> Spectra:
    """Read one input's arrays with its read options (the batch's, changed by its manifest row) and metadata."""
    from ..io import parse

    read_options = ReadOptions.from_mapping(dict(job.read), door="manifest", base=options.read) if job.read \
        else options.read
    spectra = apply_metadata(parse(job.path, read_options), job)
    if job.kind is not None and job.kind != spectra.kind:
        raise ValidationError(
            f"the manifest says kind {job.kind!r} but the file holds {spectra.kind!r}", file=str(job.path)
        )
    return spectra


def _xes_results(ds: xr.Dataset, options: AnalysisOptions) -> xr.Dataset:
    from .. import xes

    return xes.analyze(ds, options.xes)


def _primary(table: Table, kind: str, file: str) -> tuple[np.ndarray, list[Failure]]:
    """Which rows have the primary observable, and failures for the others.

    The reason is the same wherever the file was processed; the warnings
    that explain it are in ``warnings.csv``.
    """
    name = PRIMARY[kind]
    if name not in table.results:
        return np.ones(table.n_rows, bool), []
    ok = np.isfinite(np.asarray(table[name], dtype=float))
    reason = f"no {name} could be determined (see warnings.csv)"
    return ok, [Failure(file, str(s), "DataError", reason) for s in table["scan"][~ok]]


def _anchors(job: Job, options: AnalysisOptions) -> tuple[tuple[tuple[str, float], ...], bool]:
    """The valence anchors of an input, and whether the input named them."""
    if job.references:
        return tuple(job.references), True
    return (options.valence.anchors if options.valence is not None else ()), False


@dataclass
class _Done:
    """An input on its way to an :class:`Outcome`."""

    job: Job
    kind: str | None
    table: Table | None
    failures: list[Failure]
    warnings: list[Warning]
    #: With the budget: what the valence budget needs of the input's scans (:func:`_valence_inputs`).
    budget: xr.Dataset | None = None

    @property
    def file(self) -> str:
        return str(self.job.path)

    def outcome(self) -> Outcome:
        return Outcome(self.table, None, tuple(self.failures), tuple(self.warnings))


def _with_valences(done: list[_Done], options: AnalysisOptions, time_limit: float | None = None) -> None:
    """Add the valence of every XANES input that has anchors, one calibration per set of anchors.

    The inputs that share anchors get their valences from one call; each
    gets its own extrapolation warning. When the calibration fails, an
    input that named its anchors gets the failure; the others go without
    a valence, each with a :class:`~spectro.errors.NoValenceWarning`.
    Hashing each anchor, and reading and analysing a set of anchors, may
    take ``time_limit`` seconds each (an ``InputTimeoutError`` otherwise).
    """
    from .. import calibration_line, valence
    from ..budget import valence_from_budgets

    observable = options.valence.observable if options.valence is not None else "e0"
    groups: dict[tuple, list[_Done]] = {}
    for item in done:
        if item.kind == "xes" and item.table is not None and item.job.references and options.valence is not None:
            item.failures.append(Failure(item.file, "", "DataError", (
                "valence not computed: the batch computes the valences of XANES inputs; a Kbeta input's valence "
                "on the references it names: spectro valence FILE --anchors NAME=VALENCE ... --observable "
                "kb25_energy (or kb13_m1, ...)")))
        if item.kind == "xanes" and item.table is not None:
            anchors, explicit = _anchors(item.job, options)
            if anchors:
                names = {name for name, _ in anchors}
                anchor_read = tuple(r for r in item.job.anchor_read if r[0] in names)
                groups.setdefault((anchors, explicit, anchor_read), []).append(item)
    try:
        check_valence_observable(observable)
    except OptionError as err:  # a failure of every input that would get a valence (spectro batch refuses it first)
        for item in (item for items in groups.values() for item in items):
            failure = Failure.from_exception(err, file=item.file)
            item.failures.append(Failure(item.file, failure.scan, failure.error,
                                         f"valence not computed: {failure.reason}"))
        return
    for (anchors, explicit, anchor_read), items in groups.items():
        tables = [item.table for item in items]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", ValenceFlagWarning)  # said for each input, below
            try:
                digests = json.dumps(anchor_digests(anchors, time_limit=time_limit))
                for name, _ in anchors:
                    _not_stalled(name)
                _not_stalled(anchors)
                force = options.valence is not None and options.valence.force_anchors
                try:
                    names = ", ".join(repr(n) for n, _ in anchors)
                    calibration, anchor_results, conditions = within(
                        time_limit, _calibration, anchors, anchor_read, digests, options.read, options.xanes, force,
                        observable, doing=f"read and analysed as valence anchors {names}")
                except InputTimeoutError as err:
                    _STALLED[anchors] = err
                    raise
                if options.xanes.budget:  # the valence's stat and sys from the budgets, as valence_budget gives
                    calibration, parts = valence_from_budgets([item.budget for item in items], anchor_results,
                                                              observable=observable, conditions=conditions)
                    out = xr.concat([p[[v for v in p.data_vars if str(v).startswith("valence")]] for p in parts],
                                    dim="scan")
                else:
                    out = valence.valence(_valence_columns(tables, observable), calibration)
            except Exception as err:  # the inputs' failure (a SpectroError only when they named the anchors)
                out = err
        bounds = np.cumsum([0] + [t.n_rows for t in tables])
        # the warnings of the valences' flags speak of every input's scans: each input gets its own (below)
        shared = [w.message for w in caught]
        for item, start, end in zip(items, bounds[:-1], bounds[1:]):
            item.warnings.extend(shared)
            if isinstance(out, Exception):
                if explicit or not isinstance(out, SpectroError):
                    failure = Failure.from_exception(out, file=item.file)
                    item.failures.append(Failure(item.file, failure.scan, failure.error,
                                                 f"valence not computed: {failure.reason}"))
                else:
                    item.warnings.append(NoValenceWarning(
                        f"{item.file}: no valence: the default anchors "
                        f"{' '.join(f'{n}={v:g}' for n, v in anchors)} are not reachable ({out.problem}); "
                        "give --anchors (or a manifest's references), or --no-valence"))
                continue
            rows = slice(int(start), int(end))
            columns = {str(k): Column(v.values[rows], dict(v.attrs)) for k, v in out.data_vars.items()}
            item.table = item.table.with_results(columns)
            item.warnings.extend(calibration_line.flag_warnings(columns["valence_flags"].values, item.table["scan"],
                                                                calibration, file=item.file))


def _valence_columns(tables: Sequence[Table], observable: str) -> xr.Dataset:
    """The columns of the inputs' tables that :func:`spectro.valence.valence` reads for ``observable``, along one
    ``scan``."""
    names = [n for n in (observable, f"{observable}_err", "calibration_shift", "calibration_shift_err")
             if n in tables[0].results]
    data = {n: ("scan", np.concatenate([t[n] for t in tables]).astype(float)) for n in names}
    if "flags" in tables[0].results:  # the quality flags, with their meanings (preedge_on_edge)
        data["flags"] = ("scan", np.concatenate([t["flags"] for t in tables]), tables[0].results["flags"].attrs)
    return xr.Dataset(data, coords={"scan": np.concatenate([t["scan"] for t in tables])})



def _grid_key(spectra: Spectra, options: XanesOptions) -> tuple:
    """What inputs must share to be analysed in one kernel call: the energies (to the bit) and the path.

    On one grid the kernel's numbers of a spectrum do not depend on the
    other spectra of the call (``tests/test_xanes_row_independence.py``,
    ``tests/test_batch_pipeline.py``), so the inputs of a key get, in one
    call, the bits each gets alone. Spectra on other grids would be rows
    on their own energies padded with NaN, which the kernel sums in
    another order than on a shared grid, and over the padded width
    (differences of 1e-13 to 1e-11 on the real files): they go to calls
    of their own.
    """
    from ..xanes._analyze import is_normalized

    use_ref = bool(options.reference_channel and "mu_ref" in spectra.signals)
    energy = np.asarray(spectra.energy, dtype=float)
    return use_ref, is_normalized(spectra), energy.shape, energy.tobytes()


def _xanes_tables(inputs: Sequence[Spectra], options: XanesOptions
                  ) -> list[tuple[Table, list[Warning], xr.Dataset | None]]:
    """The XANES results of inputs on one grid (one :func:`_grid_key`) from one kernel call, per input.

    The scans of all inputs are the rows of one call, and each input gets
    what :func:`_xanes_table` gives it alone: the numbers of
    :func:`spectro.xanes.analyze` to the bit, its attrs, and the warnings
    its flags give; with the budget, also what the valence budget needs of
    its scans (:func:`_valence_inputs`).
    """
    from ..xanes import analyze_arrays, budget_arrays, result_attrs
    from ..xanes._analyze import OUTPUTS, flag_warnings, is_normalized
    from ..xanes._budget import budget_columns, budget_flag_warnings

    first = inputs[0]
    use_ref = options.reference_channel and "mu_ref" in first.signals
    normalized = is_normalized(first)
    mus = [np.asarray(sp.signals["mu"][0], dtype=float) for sp in inputs]
    refs = [np.asarray(sp.signals["mu_ref"][0], dtype=float) for sp in inputs] if use_ref else None
    mu = mus[0] if len(mus) == 1 else np.concatenate(mus)
    ref = None if refs is None else refs[0] if len(refs) == 1 else np.concatenate(refs)
    attrs = result_attrs(options, calibrated=use_ref, normalized=normalized)
    if options.budget:
        b = budget_arrays(first.energy, mu, ref, options, normalized=normalized)
        result, extra = b.result, budget_columns(b, calibrated=use_ref)
    else:
        result, extra = analyze_arrays(first.energy, mu, ref, options, normalized=normalized), {}
    bounds = np.cumsum([0] + [m.shape[0] for m in mus])
    out = []
    for spectra, start, end in zip(inputs, bounds[:-1], bounds[1:]):
        rows = slice(int(start), int(end))
        columns = {name: Column(np.asarray(getattr(result, name)[rows], dtype=np.int64 if name in ("flags", "nnorm")
                                           else float), attrs[name])
                   for name, (dims, _, _) in OUTPUTS.items() if not dims}
        columns.update({name: Column(values[rows], column_attrs) for name, (values, column_attrs) in extra.items()})
        for name, (values, coord_attrs) in spectra.coords.items():
            columns[name] = Column(values, dict(coord_attrs), True)
        ragged, row_size = ragged_columns(
            spectra.energy, dict(spectra.energy_attrs),
            {name: (getattr(result, name)[rows], attrs[name]) for name, (dims, _, _) in OUTPUTS.items() if dims},
        )
        found = flag_warnings(result.flags[rows], spectra.labels, file=spectra.file) if result.flags[rows].any() else []
        if options.budget and b.flags[rows].any():
            found += budget_flag_warnings(b.flags[rows], spectra.labels, file=spectra.file)
        budget = _valence_inputs(b, rows, spectra.labels, attrs["flags"]) if options.budget else None
        out.append((Table(columns, ragged, row_size), found, budget))
    return out


def _valence_inputs(b, rows: slice, labels, flags_attrs: dict) -> xr.Dataset:
    """The budget of every budgeted observable and the quality flags of the scans ``rows``, as
    :func:`spectro.budget.valence_from_budgets` takes them (``flags_attrs``: the attrs of ``flags``, with their
    meanings): the valence's observable is the batch's choice, made after the analysis."""
    per_scan = {"calibration_shift": b.result.calibration_shift, "budget_flags": b.flags}
    for name in b.delta:
        per_scan.update({name: getattr(b.result, name), f"{name}_stat": b.stat[name],
                         f"{name}_err_scan": b.err_scan[name]})
    data = {name: ("scan", np.asarray(values)[rows]) for name, values in per_scan.items()}
    data["flags"] = ("scan", np.asarray(b.result.flags)[rows], flags_attrs)
    data.update({f"{name}_variation": (("scan", "variation"), np.asarray(d)[rows]) for name, d in b.delta.items()})
    return xr.Dataset(data, coords={"scan": np.asarray(labels), "variation": list(b.labels),
                                    "variation_component": ("variation", list(b.components))})


def _xanes_table(spectra: Spectra, options: XanesOptions) -> tuple[Table, list[Warning], xr.Dataset | None]:
    """An input's XANES results as the columns of its record, the warnings its flags give, and its valence inputs.

    The kernel runs on the input's arrays exactly as :func:`spectro.xanes.analyze`
    runs it on the input's Dataset, so the numbers are the same to the bit
    and the attrs are the same. With ``options.budget`` the per-scan
    numbers of the uncertainty budget are columns too
    (:func:`spectro.xanes._budget.budget_columns`; ``<name>_err`` is then the total).
    """
    return _xanes_tables([spectra], options)[0]


def _xes_table(spectra: Spectra, options: AnalysisOptions, file: str) -> tuple[Table, list[Failure]]:
    """An input's XES results, scan by scan when the whole input fails."""
    ds = spectra.to_dataset()
    try:
        parts, failures = [_xes_results(ds, options)], []
    except SpectroError as err:
        if ds.sizes["scan"] == 1:
            raise
        parts, failures = [], []
        for i, label in enumerate(ds["scan"].values):
            try:
                parts.append(_xes_results(ds.isel(scan=[i]), options))
            except SpectroError as scan_err:
                failures.append(Failure.from_exception(scan_err, file=file, scan=label))
        if not parts:
            raise err from None
    return Table.concat([Table.from_dataset(p, p, dim=ENERGY_DIMS["xes"]) for p in parts]), failures


def _analyse(spectra: Spectra, options: AnalysisOptions, file: str
             ) -> tuple[Table, list[Failure], list[Warning], xr.Dataset | None]:
    """One input's table, scan failures, the warnings of its flags and (XANES with the budget) its valence inputs."""
    if spectra.kind == "xanes":
        table, found, budget = _xanes_table(spectra, options.xanes)
        return _with_external_files(table, spectra), [], found, budget
    table, failures = _xes_table(spectra, options, file)
    return _with_external_files(table, spectra), failures, [], None


def _with_external_files(table: Table, spectra: Spectra) -> Table:
    """``table`` with an ``external_files`` coordinate when its input read data from other files.

    An HDF5 input read with ``external_links`` can take data from other
    files (external links, virtual datasets), which the input's SHA-256
    does not cover: each is named with the SHA-256 of its bytes,
    ``<path> sha256:<hex>``, separated by ``; ``.
    """
    files = spectra.attrs.get("external_files")
    if not files:
        return table
    text = "; ".join(f"{f} sha256:{file_sha256(f)}" for f in files)
    attrs = {"units": "", "long_name": "other files the input read data from, with their SHA-256"}
    return table.with_results({"external_files": Column(np.full(table.n_rows, text), attrs, True)})


def _settled(job: Job, kind: str | None, table: Table | None, failures: list[Failure],
             seen: list[Warning], budget: xr.Dataset | None = None) -> _Done:
    """An analysed input, its scans without the primary observable as failures."""
    if table is None:
        return _Done(job, kind, None, failures, seen)
    ok, missing = _primary(table, kind, str(job.path))
    if ok.all():
        return _Done(job, kind, table, failures + missing, seen, budget)
    if not ok.any():
        return _Done(job, kind, None, failures + missing, seen)
    rows = np.flatnonzero(ok)
    return _Done(job, kind, table.select(rows), failures + missing, seen,
                 None if budget is None else budget.isel(scan=rows))


def _read_all(jobs: Sequence[Job], options: AnalysisOptions, time_limit: float | None
              ) -> list[tuple[Spectra | None, tuple | None, list[Warning], Failure | None]]:
    """Each input's arrays read within ``time_limit`` s, its grid key (XANES), its warnings and its failure.

    The inputs are read one after the other in one thread
    (:func:`~spectro.batch.limits.within_each`: no thread per input); an
    input that takes longer than the limit is a failure and the others go on.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def read(job: Job) -> tuple[Spectra | None, tuple | None, list[Warning], Failure | None]:
            first = len(caught)
            try:
                spectra = _load(job, options)
                key = _grid_key(spectra, options.xanes) if spectra.kind == "xanes" else None
                failure = None
            except Exception as err:  # every failure is recorded; the batch goes on
                spectra, key, failure = None, None, Failure.from_exception(err, file=str(job.path))
            return spectra, key, [w.message for w in caught[first:]], failure

        outcomes = within_each(time_limit, read, jobs, files=[str(job.path) for job in jobs])
    return [value if ok else (None, None, [], Failure.from_exception(value, file=str(job.path)))
            for job, (ok, value) in zip(jobs, outcomes)]


def _alone(job: Job, spectra: Spectra, options: AnalysisOptions, time_limit: float | None,
           seen: list[Warning]) -> _Done:
    """Analyse one input within ``time_limit`` s; everything it raises or warns is recorded, nothing raised."""
    file = str(job.path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found: list[Warning] = []
        budget = None
        try:
            table, failures, found, budget = within(time_limit, _analyse, spectra, options, file, file=file)
            kind = spectra.kind
        except Exception as err:  # every failure is recorded; the batch goes on
            kind, table, failures = None, None, [Failure.from_exception(err, file=file)]
    return _settled(job, kind, table, failures, seen + [w.message for w in caught] + list(found), budget)


def _together(members: list[tuple[Job, Spectra, list[Warning]]], options: AnalysisOptions,
              time_limit: float | None) -> list[_Done]:
    """XANES inputs on one grid analysed in one kernel call (:func:`_xanes_tables`) within ``time_limit`` s.

    When the call raises or warns, each input is analysed alone, so that
    each gets its own failure and warnings; when it takes longer than the
    limit, each input is a failure (``InputTimeoutError``).
    """
    if len(members) == 1:
        return [_alone(*members[0][:2], options, time_limit, members[0][2])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            tables = within(time_limit, _xanes_tables, [sp for _, sp, _ in members], options.xanes,
                            file=str(members[0][0].path))
        except InputTimeoutError:
            late = (f"not analysed within the time limit of {time_limit:g} s (in one kernel call with "
                    f"{len(members) - 1} other inputs on its energy grid)")
            return [_Done(job, None, None, [Failure.from_exception(InputTimeoutError(late), file=str(job.path))],
                          seen) for job, _, seen in members]
        except Exception:  # analysed alone below, each with its own failure
            tables = None
    if tables is None or caught:
        return [_alone(job, spectra, options, time_limit, seen) for job, spectra, seen in members]
    return [_settled(job, "xanes", _with_external_files(table, spectra), [], seen + found, budget)
            for (job, spectra, seen), (table, found, budget) in zip(members, tables)]


def _analysed(jobs: Sequence[Job], options: AnalysisOptions, time_limit: float | None) -> list[_Done]:
    """Read every input, then analyse the XANES inputs that share a grid together and the others alone."""
    done: list[_Done | None] = [None] * len(jobs)
    groups: dict[tuple, list[int]] = {}
    loaded: dict[int, tuple[Job, Spectra, list[Warning]]] = {}
    for i, (job, (spectra, key, seen, failure)) in enumerate(zip(jobs, _read_all(jobs, options, time_limit))):
        if spectra is None:
            done[i] = _Done(job, None, None, [failure], seen)
        elif key is None:
            done[i] = _alone(job, spectra, options, time_limit, seen)
        else:
            loaded[i] = (job, spectra, seen)
            groups.setdefault(key, []).append(i)
    for members in groups.values():
        for i, item in zip(members, _together([loaded[i] for i in members], options, time_limit)):
            done[i] = item
    return done


def analyze_files(jobs: Sequence[Job], options: AnalysisOptions, *, time_limit: float | None = None) -> list[Outcome]:
    """Read and analyse inputs (the default chain of :func:`~spectro.batch.run_batch`).

    Each input is read with the batch's read options changed by its
    manifest row, analysed by the same kernel as :func:`spectro.xanes.analyze`
    (XANES) or by :func:`spectro.xes.analyze` (XES), and the XANES inputs
    that share valence anchors get their valences from one calibration.
    The XANES inputs on one energy grid (the same energies to the bit, the
    same use of the reference channel, all raw or all already normalized)
    go through the kernel in one call, their scans as its rows: on one grid
    a spectrum's numbers do not depend on the other rows, so each input
    gets the bits it gets alone, whichever inputs share its call.
    Every input gets an :class:`Outcome` with its warnings (those of its
    scans' flags among them); nothing raised by one input is raised here:
    when a shared call raises or warns, its inputs are analysed again one
    by one, so that each gets its own failure and warnings.

    Parameters
    ----------
    jobs : sequence of Job
        The inputs, e.g. one chunk of a batch.
    options : AnalysisOptions
        Read, XANES, XES and valence options (``valence=None``: no valence).
    time_limit : float, optional
        Seconds each input may take to be read, and then its analysis (the
        one kernel call of the inputs on its grid, or its own); an input
        that takes longer is a failure (``InputTimeoutError``; when a
        shared call takes longer, every input of the call) and the others
        go on (see :func:`spectro.batch.limits.within`). Each valence anchor
        may take as long to be hashed, and each set of anchors to be read
        and analysed; when one takes longer, the inputs that use it get no
        valence (a failure when they named the anchors, else a
        ``NoValenceWarning``). Default: no limit.

    Returns
    -------
    list of Outcome
        One per input, in order.

    Examples
    --------
    >>> import pathlib, tempfile, spectro
    >>> from spectro.options import AnalysisOptions, XanesOptions
    >>> sim = spectro.simulate.xanes(seed=0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> header = "# XDI/1.0\\n# Column.1: energy eV\\n# Column.2: mu\\n# Element.symbol: Ni\\n#----\\n"
    >>> rows = [f"{e} {m}" for e, m in zip(sim.energy.values.tolist(), sim.mu.values[0].tolist())]
    >>> for name in ("a.xdi", "b.xdi"):
    ...     _ = (folder / name).write_text(header + "\\n".join(rows) + "\\n")
    >>> jobs = [Job(folder / "a.xdi"), Job(folder / "b.xdi", pressure=2.0), Job(folder / "c.xdi")]
    >>> opts = AnalysisOptions(xanes=XanesOptions(preedge="centroid"), valence=None)
    >>> a, b, c = analyze_files(jobs, opts)
    >>> abs(float(a.results["e0"][0] - sim.true_e0[0])) < 0.05, b.results["pressure"].tolist()
    (True, [2.0])
    >>> c.results is None, c.failures[0].error
    (True, 'MissingFileError')
    """
    done = _analysed(jobs, options, time_limit)
    _with_valences(done, options, time_limit)
    return [d.outcome() for d in done]


def analyze_file(job: Job, options: AnalysisOptions) -> Outcome:
    """:func:`analyze_files` of one input (a process function for :func:`~spectro.batch.run_batch`).

    What the input raised is in the outcome's failures and what it warned
    in its warnings.
    """
    return analyze_files([job], options)[0]
