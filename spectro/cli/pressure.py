"""The ``spectro pressure`` command: a XANES pressure series from a manifest.

Usage: ``spectro pressure MANIFEST.csv [--json] [--out DIR]``.

Every XANES file of the manifest is analysed (E0 at 0.8 of the jump,
pre-edge centroid, feature C, calibration on the reference channel), and
the results are referred to the start of their pressure or temperature
path. Output: the per-scan table, the pre-edge stability, the E0(P)
breakpoint of the sample, and, with --sample-bonds and NiO scans, the
slopes dE0/d(Ni-O) of sample and NiO with the verdict. With --out: the
table as CSV and two PNG figures.

Manifest columns (header row; ``file`` required; paths relative to the
manifest): file, pressure (GPa) or ruby_wavelength (nm), pressure_err,
ruby_wavelength_err, temperature (K), run, sample, kind (xanes/xes; xes
rows are listed as skipped), path (explicit path label), compound ("NiO"
marks the reference series; default the sample name).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, MissingFileError, SpectroError, ValidationError

__all__ = ["COLUMNS", "TABLE_KEYS", "read_pressure_manifest", "register", "run"]

#: Manifest columns.
COLUMNS = ("file", "pressure", "pressure_err", "ruby_wavelength", "ruby_wavelength_err",
           "temperature", "run", "sample", "kind", "path", "compound")

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
    parser.add_argument("--reference", default="NiO", help="compound label of the reference series (default NiO)")
    parser.add_argument("--nio-k0", type=float, help="NiO bulk modulus, GPa (default the documented value)")
    parser.add_argument("--nio-k0p", type=float, help="NiO bulk-modulus derivative")
    parser.add_argument("--ruby-scale", choices=("ruby2020", "mao1986"), default="ruby2020",
                        help="ruby scale for ruby_wavelength (default ruby2020)")
    parser.add_argument("--ruby-lambda0", type=float, help="ambient R1 wavelength measured on your spectrometer, nm")
    parser.add_argument("--tolerance", type=float, default=0.1, help="pre-edge stability tolerance, eV (default 0.1)")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level of the tests (default 0.05)")
    return parser


def _number(text: str | None, column: str, row: int, manifest: Path) -> float:
    text = (text or "").strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"row {row}: {column} {text!r} is not a number", file=manifest) from None


def read_pressure_manifest(path: Path) -> list[dict[str, Any]]:
    """Read the manifest into one dict per row (numbers as float, NaN when empty).

    Raises
    ------
    MissingFileError
        The manifest or a listed file does not exist.
    FormatError
        Unknown columns, a bad number or kind, or a row with neither
        pressure nor ruby_wavelength.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.dat").write_text("1 2")
    >>> _ = (d / "m.csv").write_text("file,pressure,run\\na.dat,3.5,r1\\n")
    >>> row, = read_pressure_manifest(d / "m.csv")
    >>> row["path"].name, row["pressure"], row["run"]
    ('a.dat', 3.5, 'r1')
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError("manifest not found", file=path)
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
        unknown = sorted(set(fields) - set(COLUMNS))
        if "file" not in fields or unknown:
            raise FormatError(f"manifest needs a 'file' column and only {list(COLUMNS)}; "
                              f"unknown: {unknown}", file=path)
        reader.fieldnames = fields
        for number, row in enumerate(reader, start=2):
            cell = (row.get("file") or "").strip()
            if not cell:
                continue
            target = Path(cell) if Path(cell).is_absolute() else path.parent / cell
            if not target.is_file():
                raise MissingFileError(f"row {number}: file {cell!r} not found", file=path)
            kind = (row.get("kind") or "xanes").strip().lower()
            if kind not in ("xanes", "xes"):
                raise FormatError(f"row {number}: kind {kind!r} must be xanes or xes", file=path)
            rec: dict[str, Any] = {"row": number, "path": target, "kind": kind}
            for col in ("pressure", "pressure_err", "ruby_wavelength", "ruby_wavelength_err", "temperature"):
                rec[col] = _number(row.get(col), col, number, path)
            for col in ("run", "sample", "path_label", "compound"):
                rec[col] = (row.get("path" if col == "path_label" else col) or "").strip()
            if kind == "xanes" and math.isnan(rec["pressure"]) and math.isnan(rec["ruby_wavelength"]):
                raise FormatError(f"row {number}: give pressure or ruby_wavelength", file=path)
            rows.append(rec)
    if not rows:
        raise FormatError("manifest lists no files", file=path)
    return rows


def _pressure(rec: dict[str, Any], args: argparse.Namespace) -> tuple[float, float]:
    from ..pressure import ruby_pressure

    if not math.isnan(rec["pressure"]):
        return rec["pressure"], rec["pressure_err"]
    t = rec["temperature"]
    reading = ruby_pressure(rec["ruby_wavelength"],
                            wavelength_err=np.nan_to_num(rec["ruby_wavelength_err"]),
                            scale=args.ruby_scale, lambda0=args.ruby_lambda0,
                            temperature=None if math.isnan(t) else t)
    err = rec["pressure_err"] if not math.isnan(rec["pressure_err"]) else float(reading.pressure_err)
    return float(reading.pressure), err


def _analyse(rows: list[dict[str, Any]], args: argparse.Namespace):
    import xarray as xr

    from .. import read
    from ..xanes import analyze

    parts = []
    for rec in rows:
        try:
            ds = read(rec["path"])
            p, p_err = _pressure(rec, args)
            n = ds.sizes["scan"]
            coords = {
                "scan": [f"{rec['path'].name}:{s}" for s in ds.scan.values.tolist()],
                "pressure": ("scan", np.full(n, p)),
                "pressure_err": ("scan", np.full(n, p_err)),
                "source": ("scan", np.full(n, str(rec["path"]))),
            }
            if not math.isnan(rec["temperature"]):
                coords["temperature"] = ("scan", np.full(n, rec["temperature"]))
            for col in ("run", "sample"):
                if rec[col]:
                    coords[col] = ("scan", np.full(n, rec[col]))
            ds = ds.assign_coords(coords)
            res = analyze(ds).drop_vars(["norm", "flat"], errors="ignore")
        except SpectroError as err:
            raise err.with_context(file=rec["path"]) from None
        compound = rec["compound"] or rec["sample"] or str(ds["sample"].values[0])
        res = res.assign_coords(compound=("scan", np.full(n, compound)),
                                path=("scan", np.full(n, rec["path_label"])))
        res = res.drop_vars([v for v in res.data_vars if "energy" in res[v].dims])
        res = res.drop_dims([d for d in res.dims if d != "scan"])
        parts.append(res)
    return xr.concat(parts, dim="scan", combine_attrs="drop_conflicts")


def _num(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


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
                rec[key] = _num(v.item() if hasattr(v, "item") else v)
            else:
                rec[key] = None
        out.append(rec)
    return out


def _fit_dict(fit) -> dict[str, Any]:
    return {"slope": _num(fit.slope), "slope_err": _num(fit.slope_err), "reduced_chi2": _num(fit.reduced_chi2),
            "n_points": fit.n_points, "paths": list(fit.groups)}


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
    rows = read_pressure_manifest(args.manifest)
    skipped = [{"file": str(r["path"]), "reason": "kind xes: not part of the XANES series"}
               for r in rows if r["kind"] != "xanes"]
    xanes_rows = [r for r in rows if r["kind"] == "xanes"]
    if not xanes_rows:
        raise ValidationError("the manifest lists no XANES files", file=args.manifest)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = _analyse(xanes_rows, args)
        series = relative_series(results)
    notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    doc: dict[str, Any] = {"manifest": str(args.manifest), "scans": _table(series), "skipped": skipped,
                           "warnings": notes}

    is_ref = _is_reference(series, args.reference)
    try:
        st = preedge_stability(series, tolerance=args.tolerance)
        doc["preedge_stability"] = {"max_abs_delta": _num(st.max_abs_delta), "scan": st.scan,
                                    "significance": _num(st.significance), "tolerance": st.tolerance,
                                    "within": st.within, "compatible": st.compatible}
    except SpectroError as err:
        doc["preedge_stability"] = {"error": err.problem}
    breakpoint = None
    try:
        breakpoint = find_anomaly(series, select=~is_ref, alpha=args.alpha)
        doc["anomaly"] = {k: _num(getattr(breakpoint, k)) for k in (
            "breakpoint", "breakpoint_err", "slope_below", "slope_below_err", "slope_above",
            "slope_above_err", "f_stat", "p_value", "aic_line", "aic_kink", "bic_line", "bic_kink", "real")}
        doc["anomaly"]["interval"] = [_num(v) for v in breakpoint.interval]
    except SpectroError as err:
        doc["anomaly"] = {"error": err.problem}
    contraction, sample_bond, ref_bond = None, None, NIO
    if args.nio_k0 is not None or args.nio_k0p is not None:
        eos = NIO.eos.with_params(**{k: v for k, v in (("k0", args.nio_k0), ("k0p", args.nio_k0p)) if v is not None})
        ref_bond = EOSBond(eos, NIO.factor, NIO.name)
    if args.sample_bonds is None:
        doc["contraction"] = {"error": "no --sample-bonds table: the sample's Ni-O distance is unknown"}
    else:
        sample_bond = read_bond_table(args.sample_bonds, distance=args.distance, extrapolate=args.extrapolate)
        try:
            contraction = edge_shift_vs_contraction(series, sample_bond=sample_bond, reference_bond=ref_bond,
                                                    reference=args.reference, alpha=args.alpha)
            c = contraction.comparison
            doc["contraction"] = {
                "sample": _fit_dict(contraction.sample), "reference": _fit_dict(contraction.reference),
                "units": "eV/Angstrom", "sample_distance": args.distance, "reference_distance": ref_bond.name,
                "difference": _num(c.difference), "difference_err": _num(c.difference_err),
                "z": _num(c.z), "p_value": _num(c.p_value), "consistent": c.consistent, "verdict": c.verdict,
            }
        except SpectroError as err:
            doc["contraction"] = {"error": err.problem}
    doc["figures"] = _write_outputs(args.out, series, breakpoint, contraction, sample_bond, ref_bond,
                                    args.reference, doc["scans"]) if args.out else []
    if args.json:
        print(json.dumps(doc, indent=1, allow_nan=False))
    else:
        _print_text(doc)
    return 0


def _write_outputs(out: Path, series, breakpoint, contraction, sample_bond, ref_bond, reference, table) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..pressure.figures import plot_shift_vs_contraction, plot_shift_vs_pressure

    out.mkdir(parents=True, exist_ok=True)
    with (out / "series.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=TABLE_KEYS)
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in rec.items()} for rec in table)
    written = [str(out / "series.csv")]
    fig, ax = plt.subplots(figsize=(5.5, 4.0), layout="constrained")
    plot_shift_vs_pressure(series, breakpoint, ax=ax)
    fig.savefig(out / "shift_vs_pressure.png", dpi=120)
    plt.close(fig)
    written.append(str(out / "shift_vs_pressure.png"))
    if contraction is not None:
        fig, ax = plt.subplots(figsize=(5.5, 4.0), layout="constrained")
        plot_shift_vs_contraction(series, contraction, sample_bond=sample_bond, reference_bond=ref_bond,
                                  reference=reference, ax=ax)
        fig.savefig(out / "shift_vs_contraction.png", dpi=120)
        plt.close(fig)
        written.append(str(out / "shift_vs_contraction.png"))
    return written


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _print_text(doc: dict[str, Any]) -> None:
    print("\t".join(TABLE_KEYS))
    for rec in doc["scans"]:
        print("\t".join(_fmt(rec[k]) for k in TABLE_KEYS))
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
        print(f"dE0/d(Ni-O): sample {c['sample']['slope']:.2f} ± {c['sample']['slope_err']:.2f} eV/A, "
              f"reference {c['reference']['slope']:.2f} ± {c['reference']['slope_err']:.2f} eV/A")
        print(f"verdict: {c['verdict']}")
    for f in doc["figures"]:
        print(f"wrote {f}")
    for r in doc["skipped"]:
        print(f"skipped {r['file']}: {r['reason']}", file=sys.stderr)
