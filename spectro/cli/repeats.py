"""The ``spectro repeats`` command: do repeated scans scatter as their errors say?

Usage: ``spectro repeats RESULTS.nc [--name NAME ...] [--by COORD ...] [--json] [--out FILE.nc]``.

Reads the per-scan results of ``spectro batch`` (``results.nc``) or of an
analysis saved as NetCDF, groups the repeats (the same sample, pressure,
temperature and run by default; a scan without a sample name with the
other scans of its file; merges left out; a scan that is another's copy to
the bit counted once) and prints, per group and result, the number of
scans, their weighted mean with its error and chi2/dof
(:func:`spectro.repeats.repeat_table`). The errors are each scan's own
(``<name>_err_scan``, from ``--budget``; without it ``<name>_err``, the
statistical ones). A chi2/dof far above 1 says the scans scatter more than
their errors: ``--out`` writes the results with every scan's errors widened
by the scatter (:func:`spectro.repeats.repeat_scatter`), atomically.

A results file that cannot be read, or a result it does not hold, stops the
command (exit status 2).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from ._output import aligned, finite, regular_file

__all__ = ["register", "run"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``repeats`` subcommand."""
    parser = subparsers.add_parser(
        "repeats", help="chi2/dof of repeated scans against their own errors, per sample (from a results file)",
        description=__doc__.split("\n\n")[2],
    )
    parser.add_argument("results", type=Path, metavar="RESULTS.nc", help="per-scan results (spectro batch's)")
    parser.add_argument("--name", nargs="+", default=["valence", "e0"], metavar="NAME",
                        help="results to check (default: valence e0; those the file holds)")
    parser.add_argument("--by", nargs="+", metavar="COORD",
                        help="what repeats share (default: spectro.repeats.REPEAT_KEYS, the sample, pressure, "
                             "temperature and run)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--out", type=Path, metavar="FILE.nc",
                        help="write the results with the errors widened by the repeats' scatter")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the repeats' table of each result; write the widened results with ``--out``."""
    import xarray as xr

    from ..errors import DataError, FormatError
    from ..io.atomic import atomic_path
    from ..repeats import REPEAT_KEYS, repeat_groups, repeat_scatter, repeat_table

    path = regular_file(args.results)
    try:
        results = xr.load_dataset(path)
    except (OSError, ValueError) as err:
        raise FormatError(f"not a NetCDF results file: {err}", file=str(path)) from None
    names = [n for n in args.name if n in results]
    if not names:
        raise DataError(f"holds none of {', '.join(args.name)}", file=str(path))
    by = list(args.by or REPEAT_KEYS)
    groups = repeat_groups(results, by, name=names[0])
    doc: dict[str, Any] = {"file": str(path), "by": by, "results": {}}
    rows = [["result", "group", "n", "mean", "chi2/dof", "errors"]]
    widened = results
    for name in names:
        table = repeat_table(results, groups, name=name)
        units = results[name].attrs.get("units", "")
        doc["results"][name] = [
            {"group": str(g), "n": int(n), "copies": int(c), "mean": finite(m), "mean_err": finite(e),
             "chi2": finite(x), "units": units, "errors": table.attrs["error"]}
            for g, n, c, m, e, x in zip(table.group.values, table.n.values, table.copies.values,
                                        table[f"{name}_mean"].values, table[f"{name}_mean_err"].values,
                                        table[f"{name}_chi2"].values)]
        for r in doc["results"][name]:
            mean = "nan" if r["mean"] is None else f"{r['mean']:.4f} ± {r['mean_err']:.4f}"
            chi2 = "-" if r["chi2"] is None or not math.isfinite(r["chi2"]) else f"{r['chi2']:.3g}"
            rows.append([name, r["group"], str(r["n"]), mean, chi2, r["errors"]])
        widened = repeat_scatter(widened, groups, name=name)
    if args.json:
        print(json.dumps(doc, indent=1))
    else:
        print(aligned(rows))
    if args.out is not None:
        with atomic_path(args.out) as tmp:
            widened.to_netcdf(tmp, engine="h5netcdf")
    return 0
