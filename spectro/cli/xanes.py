"""The ``spectro xanes`` command: edge, pre-edge and calibration of each scan.

Usage: ``spectro xanes FILE [FILE ...] [--json]``.

One record per scan: file, scan, e0 (0.8 of the jump), e0_err,
e0_derivative, edge_step, preedge_centroid, preedge_centroid_err,
preedge_area and calibration_shift (null without a reference channel).
Energies are calibrated on the reference channel when it is present.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import SpectroError
from ._output import cell, finite, print_error

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
)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``xanes`` subcommand."""
    parser = subparsers.add_parser(
        "xanes",
        help="edge position, pre-edge and calibration of XANES scans",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="XANES file (XDI, Athena, SPEC, ...)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--e0",
        type=float,
        help="E0 anchoring the windows, eV (default: derivative maximum)",
    )
    for name, default in (
        ("pre1", -150.0),
        ("pre2", -30.0),
        ("norm1", 50.0),
        ("norm2", 400.0),
    ):
        parser.add_argument(
            f"--{name}",
            type=float,
            default=default,
            help=f"window limit in eV relative to E0 (larch meaning; default {default:g})",
        )
    parser.add_argument(
        "--nnorm", type=int, choices=(0, 1, 2, 3), help="post-edge polynomial order"
    )
    parser.add_argument(
        "--reference-channel",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="calibrate on the reference channel when present (default: yes)",
    )
    return parser


def records(path: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Analyze one file; return one record per scan."""
    from .. import read
    from ..xanes import analyze

    ds = read(path)
    res = analyze(
        ds,
        reference_channel=args.reference_channel,
        e0=args.e0,
        pre1=args.pre1,
        pre2=args.pre2,
        norm1=args.norm1,
        norm2=args.norm2,
        nnorm=args.nnorm,
    )
    out = []
    for i, scan in enumerate(res.scan.values):
        rec: dict[str, Any] = {"file": path, "scan": str(scan)}
        for key in KEYS[2:]:
            rec[key] = finite(res[key].values[i])
        out.append(rec)
    return out


def run(args: argparse.Namespace) -> int:
    """Run ``spectro xanes``; exit status 2 if any file failed."""
    results: list[dict[str, Any]] = []
    status = 0
    for path in args.files:
        try:
            results.extend(records(path, args))
        except SpectroError as err:
            print_error(err, path)
            status = 2
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        print("\t".join(KEYS))
        for rec in results:
            print("\t".join(cell(rec[k]) for k in KEYS))
    return status
