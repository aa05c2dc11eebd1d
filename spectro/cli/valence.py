"""The ``spectro valence`` command: valence of samples from references of known valence.

Every spectrum, sample or reference, is analyzed on its own and, for XANES,
calibrated on its own reference channel when it has one; the references
define a linear calibration of the observable against valence
(:mod:`spectro.valence`).

Examples
--------
::

    spectro valence sample.xdi --ref ceric_nio_300k --ref ceric_lanio3_80k
    spectro valence sample.xdi --ref NiO.xdi=2 --ref LaNiO3.xdi=3 --json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import xarray as xr

from .. import references
from ..errors import DataError, ReferenceNotFoundError
from ..io import read
from ..valence import OBSERVABLES, from_spectra
from ._output import finite

__all__ = ["register", "run"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``valence`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "valence",
        help="valence from references of known valence",
        description=(
            "Valence of each sample scan from a linear calibration of an observable "
            "(default the 0.8-jump edge energy e0) on references of known valence. "
            "Flags: 'extrapolated' outside the reference range; 'uncalibrated' for a XANES "
            "scan without reference channel (absolute energies differ between beamlines "
            "by up to about 2 eV)."
        ),
    )
    parser.add_argument("samples", nargs="+", metavar="SAMPLE", help="spectrum file or catalogue id")
    parser.add_argument(
        "--ref",
        action="append",
        required=True,
        metavar="FILE_OR_ID=VALENCE",
        help="reference spectrum and its valence; '=VALENCE' may be left out for a catalogue id",
    )
    parser.add_argument(
        "--observable",
        default="e0",
        help=f"calibrated observable: {', '.join(OBSERVABLES)} or another per-scan result (default e0)",
    )
    parser.add_argument(
        "--read-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="option passed to spectro.read for every file (e.g. mode=fluorescence)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    return parser


def _options(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DataError(f"--read-option needs KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _load(spec: str, options: dict[str, str]) -> xr.Dataset:
    path = Path(spec)
    if path.is_file():
        return read(path, **options)
    try:
        references.get(spec)
    except ReferenceNotFoundError:
        raise DataError(f"{spec!r} is neither a file nor a catalogue id") from None
    return references.load(spec, **options)


def _reference(spec: str, options: dict[str, str]) -> tuple[xr.Dataset, float]:
    name, sep, value = spec.rpartition("=")
    if sep:
        try:
            return _load(name, options), float(value)
        except ValueError:
            pass
    ds = _load(spec, options)
    known = float(ds.attrs.get("reference_valence", math.nan))
    if not math.isfinite(known):
        raise DataError(f"--ref {spec!r}: give its valence as {spec}=VALENCE")
    return ds, known


def run(args: argparse.Namespace) -> int:
    """Run ``spectro valence``; return the exit status."""
    options = _options(args.read_option)
    anchors = [_reference(spec, options) for spec in args.ref]
    samples = [_load(spec, options) for spec in args.samples]
    cal, results = from_spectra(samples, anchors, observable=args.observable)
    obs = args.observable
    rows = []
    for spec, res in zip(args.samples, results):
        for i, scan in enumerate(res["scan"].values):
            flags = str(res["valence_flags"].values[i])
            err_name = f"{obs}_err"
            rows.append(
                {
                    "sample": spec,
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
            },
            "samples": rows,
        }
        print(json.dumps(doc, indent=1, allow_nan=False))
        return 0
    print(cal.summary())
    print()
    width = max(len("sample"), *(len(r["sample"]) for r in rows))
    swidth = max(len("scan"), *(len(r["scan"]) for r in rows))
    print(f"{'sample'.ljust(width)}  {'scan'.ljust(swidth)}  {obs + ' (eV)':>12}  {'valence':>7}  {'+-':>6}  flags")
    for r in rows:
        x = "nan" if r[obs] is None else f"{r[obs]:.3f}"
        v = "nan" if r["valence"] is None else f"{r['valence']:.3f}"
        e = "nan" if r["valence_err"] is None else f"{r['valence_err']:.3f}"
        print(f"{r['sample'].ljust(width)}  {r['scan'].ljust(swidth)}  {x:>12}  {v:>7}  {e:>6}  {','.join(r['flags'])}")
    return 0
