"""The ``spectro read`` command: what spectro makes of each file.

Usage: ``spectro read FILE|FOLDER [...] [--json] [reading flags]``.

For every scan of every file: the number of points, the energy range in eV,
the columns used, the mode and the warnings raised while reading. A file
that cannot be read gives one line ``error: ...`` on stderr; the other files
are still reported and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from functools import partial
from pathlib import Path
from typing import Any

from ..options import ReadOptions
from ._options import add_option_flags
from ._output import error_line, input_files, json_ready, regular_file

__all__ = ["register", "run", "summarize"]

def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``read`` subcommand."""
    parser = subparsers.add_parser(
        "read",
        help="read spectra files and summarise each scan",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="XDI, SPEC, column, Athena, NeXus or I20 file, or a folder of them",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_option_flags(parser, "read")
    return parser


def _scan_attr(ds: Any, i: int, key: str) -> Any:
    """A reader attr of scan ``i``: a ``scan_<key>`` coordinate when scans differ."""
    coord = f"scan_{key}"
    if coord in ds.coords:
        return json_ready(ds[coord].values[i])
    return json_ready(ds.attrs.get(key))


def summarize(ds: Any) -> list[dict[str, Any]]:
    """One summary dict per scan of a model Dataset.

    Examples
    --------
    >>> import spectro
    >>> from spectro.cli.read import summarize
    >>> s = summarize(spectro.simulate.xanes(seed=0))[0]
    >>> s["points"] > 100, s["energy_min"] < s["energy_max"]
    (True, True)
    """
    import numpy as np

    from ..model import energy_dim

    dim = energy_dim(ds)
    signal = "mu" if "mu" in ds else "intensity"
    energy = ds[dim].values
    out = []
    for i, label in enumerate(ds.scan.values.tolist()):
        row = ds[signal].isel(scan=i).values
        ok = np.isfinite(row)
        e = energy[ok]
        attr = partial(_scan_attr, ds, i)
        out.append(
            {
                "scan": str(label),
                "points": int(ok.sum()),
                "energy_min": json_ready(e.min()) if e.size else None,
                "energy_max": json_ready(e.max()) if e.size else None,
                "mode": attr("mode"),
                "energy_column": attr("energy_column"),
                "energy_units_in": attr("energy_units_in"),
                "mu": attr("mu_expression"),
                "mu_ref": attr("mu_ref_expression"),
                "pressure": json_ready(ds.pressure.values[i]),
                "temperature": json_ready(ds.temperature.values[i]),
            }
        )
    return out


def _ev(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f}"


def _text(report: dict[str, Any]) -> str:
    lines = [f"{report['file']} ({report['format']}, {report['kind']})"]
    for s in report["scans"]:
        parts = [
            f"{s['points']} points",
            f"{_ev(s['energy_min'])}-{_ev(s['energy_max'])} eV",
        ]
        if s["mode"]:
            parts.append(f"mode {s['mode']}")
        if s["energy_column"]:
            units = f" ({s['energy_units_in']})" if s["energy_units_in"] else ""
            parts.append(f"energy {s['energy_column']!r}{units}")
        if s["mu"]:
            parts.append(f"mu = {s['mu']}")
        if s["mu_ref"]:
            parts.append(f"mu_ref = {s['mu_ref']}")
        lines.append(f"  scan {s['scan']!r}: " + ", ".join(parts))
    lines += [f"  warning: {w}" for w in report["warnings"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Read every file, print the summaries; 1 if any file failed."""
    from ..io import read

    options = ReadOptions.from_args(args)
    reports = []
    failed = False
    for name in input_files(args.files):
        report: dict[str, Any] = {
            "file": name,
            "error": None,
            "warnings": [],
            "scans": [],
        }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds = read(regular_file(name), options)
            except Exception as err:  # one line per file that cannot be read; the others go on
                ds = None
                report["error"] = error_line(err, name).removeprefix("error: ")
        report["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
        if ds is None:
            failed = True
            print(f"error: {report['error']}", file=sys.stderr)
        else:
            report.update(
                format=ds.attrs.get("source_format"),
                kind=ds.attrs.get("kind"),
                scans=summarize(ds),
            )
            if not args.json:
                print(_text(report))
        reports.append(report)
    if args.json:
        print(json.dumps({"files": reports}, indent=1))
    return 1 if failed else 0
