"""The ``spectro xes`` command: Kbeta metrics of each scan.

Usage: ``spectro xes FILE [FILE ...] [--element Ni] [--reference FILE] [--json]``.

Each scan of each file is analysed with :func:`spectro.xes.analyze` and
reported as one record: ``file``, ``scan``, ``kb13_energy``, ``kb13_m1``,
``kb_prime``, ``kb_prime_ratio``, ``kb25_energy``, ``kb25_intensity`` and
``iad`` (null without ``--reference``), each number with its ``_err``;
energies in eV, intensities with the Kbeta1,3 maximum = 1. Regions a scan
does not cover give null and a ``warning: FILE: ...`` line on stderr. A file that cannot be read
gives one line ``error: ...`` on stderr; the other files are still reported
and the exit status is 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from ..errors import DataError, SpectroError
from ._output import finite, print_error

__all__ = ["KEYS", "records", "register", "run"]

#: Metrics reported per scan, in order.
KEYS = ("kb13_energy", "kb13_m1", "kb_prime", "kb_prime_ratio", "kb25_energy", "kb25_intensity", "iad")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``xes`` subcommand."""
    parser = subparsers.add_parser(
        "xes",
        help="Kbeta XES metrics (Kbeta1,3, Kbeta', Kbeta2,5, IAD) of every scan",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="XES file (I20, columns, ...)")
    parser.add_argument("--element", default="Ni", help="emitting element (default Ni)")
    parser.add_argument("--reference", metavar="FILE", help="one-scan reference spectrum for the IAD")
    parser.add_argument("--background", choices=("constant", "linear", "none"), default="constant")
    parser.add_argument("--signal", help="I20 signal column (default FF/I1)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    return parser


def records(result: Any, file: str) -> list[dict[str, Any]]:
    """One record per scan of a :func:`spectro.xes.analyze` result.

    Examples
    --------
    >>> import spectro
    >>> r = spectro.xes.analyze(spectro.simulate.xes(seed=0))
    >>> rec = records(r, "sim")[0]
    >>> rec["file"], rec["scan"], rec["iad"]
    ('sim', '0', None)
    """
    out = []
    for i, label in enumerate(result.scan.values.tolist()):
        rec: dict[str, Any] = {"file": file, "scan": str(label)}
        for key in KEYS:
            rec[key] = finite(result[key].values[i])
            rec[f"{key}_err"] = finite(result[f"{key}_err"].values[i])
        out.append(rec)
    return out


def _read(name: str, options: dict[str, Any]):
    from ..io import read

    return read(Path(name), **options)


def _text(recs: list[dict[str, Any]]) -> str:
    head = ["file", "scan", *KEYS]
    rows = [head]
    for r in recs:
        rows.append([r["file"], r["scan"], *("nan" if r[k] is None else f"{r[k]:.4f}" for k in KEYS)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows)


def run(args: argparse.Namespace) -> int:
    """Analyse every file; print the records; 2 if any file failed."""
    from ..xes import analyze

    options = {"signal": args.signal} if args.signal else {}
    reference = None
    if args.reference:
        reference = _read(args.reference, options)
        if reference.sizes["scan"] != 1:
            raise DataError(f"the reference has {reference.sizes['scan']} scans; give a file with one",
                            file=args.reference)
    recs: list[dict[str, Any]] = []
    failed = False
    for name in args.files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ds = _read(name, options)
                result = analyze(ds, element=args.element, reference=reference,
                                 background=args.background)
            except SpectroError as err:
                result = None
                failed = True
                print_error(err, name)
        for w in caught:
            print(f"warning: {name}: {w.category.__name__}: {w.message}", file=sys.stderr)
        if result is not None:
            recs.extend(records(result, name))
    if args.json:
        print(json.dumps({"element": args.element, "reference": args.reference, "scans": recs},
                         indent=1))
    elif recs:
        print(_text(recs))
    return 2 if failed else 0
