"""The ``spectro pressure`` command: a XANES pressure series from a manifest.

Usage: ``spectro pressure MANIFEST.csv [--json] [--out DIR] [reading and XANES flags]``.

Every XANES file of the manifest is analysed (E0 at 0.8 of the jump,
pre-edge centroid, feature C, calibration on the reference channel), and
the results are referred to the start of their pressure or temperature
path. Output: the per-scan table, the pre-edge stability, the E0(P)
breakpoint of the sample, and, with --sample-bonds and NiO scans, the
slopes dE0/d(Ni-O) of sample and NiO with the verdict. With --out: the
table as CSV and two PNG figures.

Manifest columns (header row; ``file`` required; paths relative to the
manifest, globs allowed): file, pressure (GPa) or ruby_wavelength (nm),
pressure_err, ruby_wavelength_err, temperature (K), run, sample, kind
(xanes/xes; empty is xanes; xes rows are listed as skipped), path
(explicit path label), compound ("NiO" marks the reference series;
default the sample name), and reading options named like the reading
flags (mu, mode, i0, itrans, energy, reference, ...; an empty cell keeps
the flag); the batch manifest's references and valence columns are
accepted and not used.

A file that cannot be read or analysed gives one line ``error: ...`` on
stderr and the series is made of the others (exit status 1); a manifest
that cannot be used (unknown column, a row without pressure, no file
matching a row) stops the command (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FormatError, SpectroError, ValidationError
from ..options import AnalysisOptions, ReadOptions
from . import EXIT_FAILED_INPUTS, EXIT_OK
from ._options import add_option_flags, options_from_flags, read_job
from ._output import cell, json_ready, print_error

if TYPE_CHECKING:
    from ..batch.manifest import Job

__all__ = ["TABLE_KEYS", "register", "run"]

#: Keys of each per-scan record, in order.
TABLE_KEYS = ("file", "scan", "run", "sample", "compound", "path", "path_kind", "pressure",
              "pressure_err", "temperature", "e0", "e0_err", "delta_e0", "delta_e0_err",
              "preedge_centroid", "delta_preedge_centroid", "delta_preedge_centroid_err",
              "feature_c", "delta_feature_c")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``pressure`` subcommand."""
    parser = subparsers.add_parser(
        "pressure", help="edge shift against pressure and Ni-O contraction for a series",
        description=__doc__.split("\n\n")[1], epilog=__doc__.split("\n\n")[2],
    )
    parser.add_argument("manifest", type=Path, metavar="MANIFEST.csv", help="manifest CSV")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write series.csv and PNG figures here")
    parser.add_argument("--sample-bonds", type=Path, metavar="CSV",
                        help="table of the sample's Ni-O distances or lattice parameters against pressure")
    parser.add_argument("--distance", choices=("in_plane", "apical", "inner_apical", "outer_apical", "mean", "a/2"),
                        help="which Ni-O distance of --sample-bonds to use (required with it)")
    parser.add_argument("--extrapolate", action="store_true",
                        help="extend --sample-bonds linearly beyond its pressure range")
    parser.add_argument("--reference-compound", default="NiO", metavar="NAME",
                        help="compound label of the reference series (default NiO)")
    parser.add_argument("--sample-bonds-scale-err", type=float, default=0.0, metavar="FRACTION",
                        help="relative 1-sigma error of the whole contraction of --sample-bonds (default 0; "
                             "per-row errors come from a <distance>_err column)")
    parser.add_argument("--nio-k0", type=float,
                        help="NiO bulk modulus, GPa (default 200, Holland & Powell 2011 ds62)")
    parser.add_argument("--nio-k0-err", type=float, help="its 1-sigma error, GPa (default 10)")
    parser.add_argument("--nio-k0p", type=float, help="NiO bulk-modulus derivative (default 3.94)")
    parser.add_argument("--nio-k0p-err", type=float, help="its 1-sigma error (default 0.5)")
    parser.add_argument("--pressure-scale-err", type=float, default=None, metavar="FRACTION",
                        help="relative 1-sigma error of the pressure scale, common to all scans of a gauge "
                             "(default 0.01)")
    parser.add_argument("--ev-per-valence", type=float,
                        help="edge shift per valence unit, eV, to state the result in valence units")
    parser.add_argument("--valence-onset", type=float,
                        help="GPa above which a valence change is looked for (default the lowest pressure)")
    parser.add_argument("--ruby-scale", choices=("ruby2020", "mao1986"), default="ruby2020",
                        help="ruby scale for ruby_wavelength (default ruby2020)")
    parser.add_argument("--ruby-lambda0", type=float, help="ambient R1 wavelength measured on your spectrometer, nm")
    parser.add_argument("--tolerance", type=float, default=0.1, help="pre-edge stability tolerance, eV (default 0.1)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level of the tests (default 0.05)")
    add_option_flags(parser, "read", "xanes", skip=ReadOptions.METADATA)
    return parser


def _series_jobs(path: Path) -> list[Job]:
    """The manifest's jobs, each XANES row checked to give a pressure or a ruby wavelength."""
    from ..batch.manifest import read_manifest

    jobs = read_manifest(path)
    if not jobs:
        raise FormatError("manifest lists no files", file=path)
    for job in jobs:
        if job.kind != "xes" and math.isnan(job.pressure) and math.isnan(job.ruby_wavelength):
            raise FormatError(f"row {job.row}: give pressure or ruby_wavelength", file=path)
    return jobs


def _pressure(job: Job, args: argparse.Namespace) -> tuple[float, float]:
    import numpy as np

    from ..pressure import ruby_pressure

    if not math.isnan(job.pressure):
        return job.pressure, job.pressure_err
    t = job.temperature
    reading = ruby_pressure(job.ruby_wavelength,
                            wavelength_err=np.nan_to_num(job.ruby_wavelength_err),
                            scale=args.ruby_scale, lambda0=args.ruby_lambda0,
                            temperature=None if math.isnan(t) else t)
    err = job.pressure_err if not math.isnan(job.pressure_err) else float(reading.pressure_err)
    return float(reading.pressure), err


def _analyse(jobs: list[Job], args: argparse.Namespace, options: AnalysisOptions):
    """The per-scan results of the files that could be analysed (None if none could), and whether one failed.

    Each file that fails gives one line ``error: ...`` on stderr; the others go on.
    """
    import xarray as xr

    parts, failed = [], False
    for job in jobs:
        try:
            parts.append(_analyse_one(job, args, options))
        except Exception as err:  # one line per file that fails; the others go on
            print_error(err, job.path)
            failed = True
    if not parts:
        return None, failed
    return xr.concat(parts, dim="scan", combine_attrs="drop_conflicts"), failed


def _analyse_one(job: Job, args: argparse.Namespace, options: AnalysisOptions):
    """One file's per-scan results with its pressure, temperature, run, sample, compound and path."""
    import numpy as np

    from ..xanes import analyze

    ds = read_job(job, options.read)
    p, p_err = _pressure(job, args)
    n = ds.sizes["scan"]
    coords = {
        "scan": [f"{job.path.name}:{s}" for s in ds.scan.values.tolist()],
        "pressure": ("scan", np.full(n, p)),
        "pressure_err": ("scan", np.full(n, p_err)),
        "source": ("scan", np.full(n, str(job.path))),
    }
    if not math.isnan(job.temperature):
        coords["temperature"] = ("scan", np.full(n, job.temperature))
    for col in ("run", "sample"):
        if getattr(job, col):
            coords[col] = ("scan", np.full(n, getattr(job, col)))
    ds = ds.assign_coords(coords)
    res = analyze(ds, options.xanes).drop_vars(["norm", "flat"], errors="ignore")
    compound = job.compound or job.sample or str(ds["sample"].values[0])
    res = res.assign_coords(compound=("scan", np.full(n, compound)),
                            path=("scan", np.full(n, job.path_label)))
    res = res.drop_vars([v for v in res.data_vars if "energy" in res[v].dims])
    return res.drop_dims([d for d in res.dims if d != "scan"])


def _table(series) -> list[dict[str, Any]]:
    out = []
    for i in range(series.sizes["scan"]):
        rec: dict[str, Any] = {}
        for key in TABLE_KEYS:
            if key == "file":
                rec[key] = str(series["source"].values[i]) if "source" in series.coords else ""
            elif key == "scan":
                rec[key] = str(series["scan"].values[i])
            elif key in series.coords or key in series.data_vars:
                v = series[key].values[i]
                rec[key] = json_ready(v.item() if hasattr(v, "item") else v)
            else:
                rec[key] = None
        out.append(rec)
    return out


def _fit_dict(fit) -> dict[str, Any]:
    return {"slope": json_ready(fit.slope), "slope_err": json_ready(fit.slope_err),
            "reduced_chi2": json_ready(fit.reduced_chi2), "n_points": fit.n_points, "paths": list(fit.groups)}


def run(args: argparse.Namespace) -> int:
    """Run ``spectro pressure``."""
    from ..pressure import (
        NIO,
        EOSBond,
        edge_shift_vs_contraction,
        find_anomaly,
        preedge_stability,
        read_bond_table,
        relative_series,
    )
    from ..pressure.contraction import _is_reference

    if args.sample_bonds is not None and args.distance is None:
        raise ValidationError("--sample-bonds needs --distance (in_plane, apical, mean, ...): "
                              "which Ni-O distance to use is a choice, there is no default")
    options = options_from_flags(args, valence=False)
    jobs = _series_jobs(args.manifest)
    skipped = [{"file": str(j.path), "reason": "kind xes: not part of the XANES series"}
               for j in jobs if j.kind == "xes"]
    xanes_jobs = [j for j in jobs if j.kind != "xes"]
    if not xanes_jobs:
        raise ValidationError("the manifest lists no XANES files", file=args.manifest)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results, failed = _analyse(xanes_jobs, args, options)
        if results is None:
            return EXIT_FAILED_INPUTS
        series = relative_series(results)
    notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    doc: dict[str, Any] = {"manifest": str(args.manifest), "scans": _table(series), "skipped": skipped,
                           "warnings": notes}

    is_ref = _is_reference(series, args.reference_compound)
    try:
        st = preedge_stability(series, tolerance=args.tolerance)
        doc["preedge_stability"] = {"max_abs_delta": json_ready(st.max_abs_delta), "scan": st.scan,
                                    "significance": json_ready(st.significance), "tolerance": st.tolerance,
                                    "within": st.within, "compatible": st.compatible}
    except SpectroError as err:
        doc["preedge_stability"] = {"error": err.problem}
    breakpoint = None
    try:
        breakpoint = find_anomaly(series, select=~is_ref, alpha=args.alpha)
        doc["anomaly"] = {k: json_ready(getattr(breakpoint, k)) for k in (
            "breakpoint", "breakpoint_err", "slope_below", "slope_below_err", "slope_above",
            "slope_above_err", "f_stat", "p_value", "aic_line", "aic_kink", "bic_line", "bic_kink", "real")}
        doc["anomaly"]["interval"] = [json_ready(v) for v in breakpoint.interval]
    except SpectroError as err:
        doc["anomaly"] = {"error": err.problem}
    contraction, sample_bond, ref_bond = None, None, NIO
    changes = {k: v for k, v in (("k0", args.nio_k0), ("k0_err", args.nio_k0_err), ("k0p", args.nio_k0p),
                                 ("k0p_err", args.nio_k0p_err)) if v is not None}
    if changes:
        ref_bond = EOSBond(NIO.eos.with_params(**changes), NIO.factor, NIO.name)
    if args.sample_bonds is None:
        doc["contraction"] = {"error": "no --sample-bonds table: the sample's Ni-O distance is unknown"}
    else:
        sample_bond = read_bond_table(args.sample_bonds, distance=args.distance, extrapolate=args.extrapolate,
                                      scale_err=args.sample_bonds_scale_err)
        extra = {} if args.pressure_scale_err is None else {"pressure_scale_err": args.pressure_scale_err}
        try:
            contraction = edge_shift_vs_contraction(
                series, sample_bond=sample_bond, reference_bond=ref_bond, reference=args.reference_compound,
                alpha=args.alpha, ev_per_valence=args.ev_per_valence, valence_onset=args.valence_onset, **extra)
            c = contraction.comparison
            doc["contraction"] = {
                "sample": {**_fit_dict(contraction.sample), "slope_sys": json_ready(contraction.sample_sys)},
                "reference": {**_fit_dict(contraction.reference), "slope_sys": json_ready(contraction.reference_sys)},
                "units": "eV/Angstrom", "sample_distance": args.distance, "reference_distance": ref_bond.name,
                "reference_eos": ref_bond.eos.reference if hasattr(ref_bond, "eos") else "",
                "difference": json_ready(c.difference), "difference_stat": json_ready(c.difference_stat),
                "difference_sys": json_ready(c.difference_sys), "difference_err": json_ready(c.difference_err),
                "systematics": {k: json_ready(v) for k, v in contraction.systematics.items()},
                "z": json_ready(c.z), "p_value": json_ready(c.p_value), "consistent": c.consistent,
                "detectable_difference": json_ready(c.detectable), "power": c.power,
                "valence_onset": json_ready(contraction.valence_onset),
                "detectable_rate": json_ready(contraction.detectable_rate),
                "valence_rate": json_ready(contraction.valence_rate),
                "valence_rate_err": json_ready(contraction.valence_rate_err),
                "verdict": contraction.verdict,
            }
        except SpectroError as err:
            doc["contraction"] = {"error": err.problem}
    doc["figures"] = _write_outputs(args.out, series, breakpoint, contraction, sample_bond, ref_bond,
                                    args.reference_compound, doc["scans"]) if args.out else []
    if args.json:
        print(json.dumps(doc, indent=1, allow_nan=False))
    else:
        _print_text(doc)
    return EXIT_FAILED_INPUTS if failed else EXIT_OK


def _write_outputs(out: Path, series, breakpoint, contraction, sample_bond, ref_bond, reference, table) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .. import plot
    from ..batch.outputs import write_csv

    out.mkdir(parents=True, exist_ok=True)
    # atomically, and no text cell a spreadsheet would run as a formula (file and sample names)
    write_csv(out / "series.csv", [{k: ("" if v is None else v) for k, v in rec.items()} for rec in table],
              columns=TABLE_KEYS)
    written = [str(out / "series.csv")]
    fig, ax = plt.subplots(figsize=(5.5, 4.0), layout="constrained")
    plot.edge_shift_pressure(series, anomaly=breakpoint, ax=ax)
    fig.savefig(out / "shift_vs_pressure.png", dpi=120)
    plt.close(fig)
    written.append(str(out / "shift_vs_pressure.png"))
    if contraction is not None:
        fig, ax = plt.subplots(figsize=(5.5, 4.0), layout="constrained")
        plot.edge_shift_contraction(series, contraction, sample_bond=sample_bond, reference_bond=ref_bond,
                                    reference=reference, ax=ax)
        fig.savefig(out / "shift_vs_contraction.png", dpi=120)
        plt.close(fig)
        written.append(str(out / "shift_vs_contraction.png"))
    return written


def _print_text(doc: dict[str, Any]) -> None:
    print("\t".join(TABLE_KEYS))
    for rec in doc["scans"]:
        print("\t".join(cell(rec[k]) for k in TABLE_KEYS))
    st = doc["preedge_stability"]
    if "error" in st:
        print(f"pre-edge stability: {st['error']}")
    else:
        print(f"pre-edge centroid: max |shift| {st['max_abs_delta']:.3f} eV at {st['scan']} "
              f"({'within' if st['within'] else 'outside'} {st['tolerance']:g} eV; "
              f"{'compatible' if st['compatible'] else 'not compatible'} with it within errors)")
    an = doc["anomaly"]
    if "error" in an:
        print(f"breakpoint: {an['error']}")
    else:
        print(f"breakpoint: {an['breakpoint']:.2f} ± {an['breakpoint_err']:.2f} GPa, slopes "
              f"{an['slope_below']:.4f} -> {an['slope_above']:.4f} eV/GPa, F-test p = {an['p_value']:.2g}, "
              f"{'real' if an['real'] else 'not significant'}")
    c = doc["contraction"]
    if "error" in c:
        print(f"contraction: {c['error']}")
    else:
        print(f"dE0/d(Ni-O): sample {c['sample']['slope']:.2f} ± {c['sample']['slope_err']:.2f} (stat) "
              f"± {c['sample']['slope_sys']:.2f} (sys) eV/A, reference {c['reference']['slope']:.2f} "
              f"± {c['reference']['slope_err']:.2f} (stat) ± {c['reference']['slope_sys']:.2f} (sys) eV/A")
        print(f"verdict: {c['verdict']}")
    for f in doc["figures"]:
        print(f"wrote {f}")
    for r in doc["skipped"]:
        print(f"skipped {r['file']}: {r['reason']}", file=sys.stderr)
