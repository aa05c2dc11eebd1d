"""The ``spectro valence`` command: valence of samples from references of known valence.

Every spectrum, sample or reference, is analysed on its own and, for XANES,
calibrated on its own reference channel when it has one; the references
(anchors) define one linear calibration of the observable against valence
(:mod:`spectro.valence`) for all the samples.

Inputs are spectrum files, folders, catalogue ids and manifest CSV files.
The anchors of a manifest's samples are the manifest's reference rows
(rows with a ``valence``) or their ``references`` cell; those of the other
samples the ``--anchors NAME=VALENCE`` pairs (NAME a file, a catalogue id
or a catalogued compound with a local copy; default ``NiO=2 LaNiO3=3``).
All the samples share one calibration, so they must have the same
anchors. The reading flags apply
to every file given (samples and anchor files); a manifest row changes
them for its files with columns of the same names (``mu``, ``mode``,
``reference`` ...). Catalogued references are read as catalogued.

Without ``--budget`` the valence's error (``valence_err``) holds the noise
of the sample, the anchors and the foils (and the anchors' scatter about
their line, with three or more); the text table is followed by a note on
stderr that the systematic parts (XANES or Kbeta) are not in it. With ``--budget`` each
valence, XANES or Kbeta XES, is printed as ``1.975 ± 0.007 (stat) ± 0.068
(sys)`` with its largest systematic components (``docs/uncertainty.md``).

A sample that cannot be read or analysed gives one line ``error: ...`` on
stderr and the others are still reported (exit status 1); a name that is
neither a file, a folder, a manifest nor a catalogue id, or anchors that
cannot make a line, stop the command (exit status 2).

Examples
--------
::

    spectro valence sample.xdi --anchors ceric_nio_300k=2 ceric_lanio3_80k=3
    spectro valence sample.xdi --anchors NiO.xdi=2 LaNiO3.xdi=3 --json
    spectro valence series.csv --mode fluorescence

with ``series.csv``::

    file,valence,mu,reference
    NiO.xdi,2,mutrans,no
    LaNiO3.xdi,3,,
    sample.xdi,,,
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import references
from ..errors import DataError, ReferenceNotFoundError, ValidationError
from ..options import AnalysisOptions, ValenceOptions
from . import EXIT_FAILED_INPUTS, EXIT_OK
from ._options import add_option_flags, options_from_flags, read_job
from ._output import STATISTICAL_ONLY, XES_STATISTICAL_ONLY, finite, input_files, print_error, regular_file

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["register", "run"]

#: The observables of :data:`spectro.valence.OBSERVABLES`, named in ``--help`` without importing
#: the analysis (``tests/test_cli_startup.py`` checks that the two agree).
HELP_OBSERVABLES = ("e0", "preedge_centroid", "kb25_energy")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``valence`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "valence",
        help="valence from references of known valence",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Valence of each sample scan from a linear calibration of an observable (--observable:\n"
            f"{', '.join(HELP_OBSERVABLES)} or another per-scan result; default e0, the 0.8-jump edge energy)\n"
            "on references of known valence. Flags: 'extrapolated' outside the reference range;\n"
            "'uncalibrated' for a XANES scan without reference channel (absolute energies differ\n"
            "between beamlines by up to about 2 eV); 'preedge_on_edge' for an edge that rises through\n"
            "the pre-edge window (a metal's or a sulfide's: not an oxide's valence).\n\n"
            + __doc__.split("\n\n")[2].replace("``", "'") + "\n\n"
            + __doc__.split("Examples\n--------\n::\n\n")[1].replace("``", "'").replace("::", ":")
        ),
    )
    parser.add_argument("samples", nargs="+", metavar="INPUT",
                        help="spectrum file, folder, catalogue id or manifest CSV")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    add_option_flags(parser, "read", "xanes", "xes", "valence")
    return parser


def _jobs(names: list[str]) -> tuple[list[Any], list[str]]:
    """Jobs of the file, folder and manifest inputs; the other inputs (catalogue ids)."""
    from ..batch.manifest import Job, is_manifest, read_manifest

    jobs, ids = [], []
    for name in names:
        path = Path(name)
        if is_manifest(path):
            jobs.extend(read_manifest(path))
        elif path.exists():
            jobs.extend(Job(Path(p)) for p in input_files([name]))
        else:
            ids.append(name)
    return jobs, ids


def _read(job: Any, options: AnalysisOptions) -> xr.Dataset:
    from ..model import kind_of

    regular_file(job.path)  # a FIFO would block, a folder that cannot be listed gives its reason
    ds = read_job(job, options.read)
    if job.kind is not None and job.kind != kind_of(ds):
        raise ValidationError(f"the manifest says kind {job.kind!r} but the file holds {kind_of(ds)!r}",
                              file=job.path)
    return ds


def _check_catalogued(name: str) -> None:
    """Refuse an input that is no catalogue id either (a usage error: nothing is read)."""
    try:
        references.get(name)
    except ReferenceNotFoundError:
        raise DataError(f"{name!r} is neither a file, a folder, a manifest nor a catalogue id") from None


def _anchors(sample_jobs: list[Any], catalogued: bool, options: ValenceOptions) -> list[tuple[str, float]]:
    """The anchors of the samples: their manifest's (references or reference rows), else ``--anchors``.

    All the samples must have the same: they share one calibration.
    """
    sets = {tuple(job.references) or options.anchors for job in sample_jobs}
    if catalogued:
        sets.add(options.anchors)
    if len(sets) > 1:
        raise DataError("the samples do not share their anchors (a manifest's references or reference rows, "
                        "else --anchors) and spectro valence makes one calibration: run it once per set of "
                        "anchors, or use spectro batch")
    return list(sets.pop())


def _anchor(name: str, rows: dict[str, Any], options: AnalysisOptions) -> xr.Dataset:
    """A valence anchor: a manifest row's file, another file, or a catalogued spectrum."""
    from ..batch.manifest import Job
    from ..batch.pipeline import anchor_source

    path = Path(name)
    if path.is_file():
        return _read(rows.get(str(path.resolve()), Job(path)), options)
    ref_id, _ = anchor_source(name, force=options.valence.force_anchors)
    return references.load(ref_id, download=False)


def _rows(labels: list[str], results: list[xr.Dataset], obs: str) -> list[dict[str, Any]]:
    rows = []
    for label, res in zip(labels, results):
        for i, scan in enumerate(res["scan"].values):
            flags = str(res["valence_flags"].values[i])
            err_name = f"{obs}_err"
            rows.append(
                {
                    "sample": label,
                    "scan": str(scan),
                    obs: finite(res[obs].values[i]),
                    err_name: finite(res[err_name].values[i]) if err_name in res else None,
                    "calibration_shift": finite(res["calibration_shift"].values[i])
                    if "calibration_shift" in res
                    else None,
                    "valence": finite(res["valence"].values[i]),
                    "valence_err": finite(res["valence_err"].values[i]),
                    "valence_err_sample": finite(res["valence_err_sample"].values[i]),
                    "valence_err_references": finite(res["valence_err_references"].values[i]),
                    "valence_err_calibration": finite(res["valence_err_calibration"].values[i]),
                    "flags": [f for f in flags.split(",") if f],
                }
            )
            if "valence_sys" in res:
                rows[-1].update({str(k): finite(res[k].values[i]) for k in res.data_vars
                                 if k in ("valence_stat", "valence_sys", "valence_err_scan")
                                 or str(k).startswith("valence_sys_")})
    return rows


def run(args: argparse.Namespace) -> int:
    """Run ``spectro valence``; return the exit status."""
    from ..budget import valence_budget
    from ..model import kind_of
    from ..valence import from_spectra

    options = options_from_flags(args)
    obs = options.valence.observable
    jobs, ids = _jobs(args.samples)
    sample_jobs = [j for j in jobs if j.valence != j.valence]  # NaN: not a reference row
    if not sample_jobs and not ids:
        raise DataError("no samples: every input is a reference row (a row with a valence)")
    for name in ids:
        _check_catalogued(name)
    rows = {str(j.path): j for j in jobs}
    named = _anchors(sample_jobs, bool(ids), options.valence)
    anchors = [(_anchor(name, rows, options), value) for name, value in named]
    kinds = {kind_of(ds) for ds, _ in anchors}
    if len(kinds) > 1:
        raise DataError("the anchors mix XANES and XES spectra; give anchors of the samples' kind "
                        "(--anchors NAME=VALENCE ...)")
    kind = kinds.pop()
    budget = options.xanes.budget  # --budget sets the XES option too
    analysis = options.xanes if kind == "xanes" else options.xes
    inputs = [(str(j.path), j) for j in sample_jobs] + [(i, None) for i in ids]
    samples, labels, failed = [], [], False
    for label, job in inputs:  # one error line per sample that cannot be read; the others go on
        try:
            ds = references.load(label) if job is None else _read(job, options)
            if kind_of(ds) != kind:
                raise DataError(f"a {kind_of(ds)} spectrum, but the anchors are {kind} spectra", file=label)
        except Exception as err:
            print_error(err, label)
            failed = True
            continue
        samples.append(ds)
        labels.append(label)
    if not samples:
        return EXIT_FAILED_INPUTS

    def valences(subset: list[xr.Dataset]) -> tuple[Any, list[xr.Dataset]]:
        if budget:
            return valence_budget(subset, anchors, observable=obs, options=analysis,
                                  force_anchors=options.valence.force_anchors)
        return from_spectra(subset, anchors, observable=obs, options=analysis,
                            force_anchors=options.valence.force_anchors)

    try:
        cal, results = valences(samples)
    except Exception:
        cal, _ = valences([])  # the anchors alone: their failure stops the command
        results, kept = [], []
        for ds, label in zip(samples, labels):  # then each sample alone: one error line each that fails
            try:
                results.append(valences([ds])[1][0])
                kept.append(label)
            except Exception as err:
                print_error(err, label)
                failed = True
        labels = kept
        if not results:
            return EXIT_FAILED_INPUTS
    status = EXIT_FAILED_INPUTS if failed else EXIT_OK
    rows_out = _rows(labels, results, obs)
    if args.json:
        doc = {
            "observable": obs,
            "calibration": {
                "method": cal.method,
                "intercept": cal.intercept,
                "slope": cal.slope,
                "covariance": cal.covariance.tolist(),
                "units": cal.units,
                "anchors": [
                    {"label": lab, "valence": float(q), obs: float(x), "error": float(e), "residual": float(r)}
                    for lab, q, x, e, r in zip(cal.labels, cal.anchors, cal.values, cal.errors, cal.residuals)
                ],
                "anchor_mismatch": [k for k, _ in cal.anchor_mismatch],
            },
            "samples": rows_out,
        }
        print(json.dumps(doc, indent=1, allow_nan=False))
        return status
    print(cal.summary())
    print()
    if budget:
        width = max(len("sample"), *(len(r["sample"]) for r in rows_out))
        for r in rows_out:
            parts = sorted(((v or 0.0, k[len("valence_sys_"):]) for k, v in r.items() if k.startswith("valence_sys_")),
                           reverse=True)[:3]
            largest = ", ".join(f"{c} {v:.3f}" for v, c in parts)
            value = "nan" if r["valence"] is None else (
                f"{r['valence']:.3f} ± {r['valence_stat']:.3f} (stat) ± {r['valence_sys']:.3f} (sys)")
            print(f"{r['sample'].ljust(width)}  {r['scan']}  valence {value}  [{largest}]  {','.join(r['flags'])}")
        return status
    width = max(len("sample"), *(len(r["sample"]) for r in rows_out))
    swidth = max(len("scan"), *(len(r["scan"]) for r in rows_out))
    print(f"{'sample'.ljust(width)}  {'scan'.ljust(swidth)}  {obs + ' (eV)':>12}  {'valence':>7}  {'+-':>6}  flags")
    for r in rows_out:
        x = "nan" if r[obs] is None else f"{r[obs]:.3f}"
        v = "nan" if r["valence"] is None else f"{r['valence']:.3f}"
        e = "nan" if r["valence_err"] is None else f"{r['valence_err']:.3f}"
        print(f"{r['sample'].ljust(width)}  {r['scan'].ljust(swidth)}  {x:>12}  {v:>7}  {e:>6}  {','.join(r['flags'])}")
    print(STATISTICAL_ONLY if kind == "xanes" else XES_STATISTICAL_ONLY, file=sys.stderr)
    return status
