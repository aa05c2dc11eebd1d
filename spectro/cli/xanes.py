"""The ``spectro xanes`` command: edge, pre-edge and calibration of each scan.

Usage: ``spectro xanes FILE|FOLDER [...] [--json] [reading and analysis flags]``.

One record per scan: file, scan, e0 (0.8 of the jump), e0_err,
e0_derivative, edge_step, preedge_centroid, preedge_centroid_err,
preedge_area and calibration_shift (null without a reference channel).
Energies are calibrated on the reference channel when it is present.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..options import AnalysisOptions
from ._options import add_option_flags, options_from_flags
from ._output import cell, finite, input_files, print_error, regular_file

__all__ = ["KEYS", "register", "run"]

#: Keys of each record, in order.
KEYS = (
    "file",
    "scan",
    "e0",
    "e0_err",
    "e0_derivative",
    "edge_step",
    "preedge_centroid",
    "preedge_centroid_err",
    "preedge_area",
    "calibration_shift",
    "flags",
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``xanes`` subcommand."""
    parser = subparsers.add_parser(
        "xanes",
        help="edge position, pre-edge and calibration of XANES scans",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="XANES file (XDI, Athena, SPEC, ...) or folder of them"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_option_flags(parser, "read", "xanes")
    return parser


def records(path: str, options: AnalysisOptions) -> list[dict[str, Any]]:
    """Analyze one file; return one record per scan."""
    from .. import read
    from ..xanes import analyze

    res = analyze(read(regular_file(path), options.read), options.xanes)
    out = []
    for i, scan in enumerate(res.scan.values):
        rec: dict[str, Any] = {"file": path, "scan": str(scan)}
        for key in KEYS[2:]:
            rec[key] = finite(res[key].values[i])
        out.append(rec)
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``spectro xanes``; exit status 1 if any file failed."""
    options = options_from_flags(args, valence=False)
    results: list[dict[str, Any]] = []
    status = 0
    for path in input_files(args.files):
        try:
            results.extend(records(path, options))
        except Exception as err:  # one line per file that fails; the others go on
            print_error(err, path)
            status = 1
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print("\t".join(KEYS))
        for rec in results:
            print("\t".join(cell(rec[k]) for k in KEYS))
    return status
