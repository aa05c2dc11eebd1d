"""The ``spectro xanes`` command: edge, pre-edge and calibration of each scan.

Usage: ``spectro xanes FILE|FOLDER [...] [--json] [reading and analysis flags]``.

One record per scan: file, scan, e0 (0.8 of the jump), e0_err,
e0_derivative, edge_step, preedge_centroid, preedge_centroid_err,
preedge_area and calibration_shift (null without a reference channel).
Energies are calibrated on the reference channel when it is present.
Without ``--budget`` the errors are statistical (the noise), and the text
table is followed by a note saying so on stderr. With ``--budget`` each
number is followed by its statistical and systematic uncertainty
(``e0_stat``, ``e0_sys``, ...; the JSON also gives the systematic
components) and ``e0_err`` is the total; the text prints
``8344.986 ± 0.006 (stat) ± 0.358 (sys)`` (see ``docs/uncertainty.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..options import AnalysisOptions
from ._options import add_option_flags, options_from_flags
from ._output import STATISTICAL_ONLY, cell, finite, input_files, print_error, regular_file, with_budget_text

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

#: Numbers printed with their budget under ``--budget``.
BUDGET_KEYS = ("e0", "e0_derivative", "edge_step", "preedge_centroid", "preedge_area", "calibration_shift")


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
    """Analyze one file; return one record per scan (with the budget's keys when ``options.xanes.budget``)."""
    from .. import read
    from ..xanes import analyze
    from ..xanes._budget import COMPONENTS

    ds = read(regular_file(path), options.read)
    budget = options.xanes.budget
    res = analyze(ds, options.xanes, spectra=False)
    keys = list(KEYS[2:])
    if budget:
        keys += [f"{k}_{part}" for k in BUDGET_KEYS for part in ("stat", "sys", *(f"sys_{c}" for c in COMPONENTS))]
        keys += ["budget_flags"]
    out = []
    for i, scan in enumerate(res.scan.values):
        rec: dict[str, Any] = {"file": path, "scan": str(scan)}
        for key in keys:
            rec[key] = int(res[key].values[i]) if key == "budget_flags" else finite(res[key].values[i])
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
    elif options.xanes.budget:
        shown = ("file", "scan", *BUDGET_KEYS, "flags", "budget_flags")
        print("\t".join(shown))
        for rec in results:
            print("\t".join(with_budget_text(rec[k], rec[f"{k}_stat"], rec[f"{k}_sys"]) if k in BUDGET_KEYS
                            else cell(rec[k]) for k in shown))
    else:
        print("\t".join(KEYS))
        for rec in results:
            print("\t".join(cell(rec[k]) for k in KEYS))
        if results:
            print(STATISTICAL_ONLY, file=sys.stderr)
    return status
