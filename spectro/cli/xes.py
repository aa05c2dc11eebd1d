"""The ``spectro xes`` command: Kbeta metrics of each scan.

Usage: ``spectro xes FILE|FOLDER [...] [--iad-reference FILE] [--json] [reading and XES flags]``.

Each scan of each file is analysed with :func:`spectro.xes.analyze` and
reported as one record: ``file``, ``scan``, ``element`` (given with
``--element``, else decided from the emission energies; a given element the
data contradict is an error for that file), ``kb13_energy``, ``kb13_m1``,
``kb_prime``, ``kb_prime_ratio``, ``kb25_energy``, ``kb25_intensity`` and
``iad`` (null without ``--iad-reference``), each number with its ``_err``
(with ``--fit`` also ``kb_prime_ratio_fit``, ``kb13_center_fit`` and
``kb_prime_center_fit``), and ``flags`` (the bits of
:class:`spectro.xes.XesFlag`); energies in eV, intensities with the
Kbeta1,3 maximum = 1. The errors are statistical (the text shows
``6490.1950 ± 0.0023``, and a note on stderr says so); with ``--budget`` each
number's ``_err`` is the total and its ``_stat``, ``_sys`` and
``_sys_<component>`` are given too (:func:`spectro.xes.budget`), the text
showing ``0.239 ± 0.001 (stat) ± 0.010 (sys)``. The reading flags apply to every file, the IAD
reference too. Regions a scan does not cover give null, a flag and a
``warning: ...`` line on stderr naming the file and the scans. A file that
cannot be read gives one line ``error: ...`` on stderr; the other files are
still reported and the exit status is 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..options import AnalysisOptions
from ._options import add_option_flags, options_from_flags
from ._output import XES_STATISTICAL_ONLY, aligned, analysed_files, finite, regular_file, with_budget_text

__all__ = ["FIT_KEYS", "KEYS", "read_reference", "records", "register", "run"]

#: Metrics reported per scan, in order.
KEYS = ("kb13_energy", "kb13_m1", "kb_prime", "kb_prime_ratio", "kb25_energy", "kb25_intensity", "iad")

#: Metrics of the Kbeta1,3 + Kbeta' fit, reported with ``--fit``.
FIT_KEYS = ("kb_prime_ratio_fit", "kb13_center_fit", "kb_prime_center_fit")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``xes`` subcommand."""
    parser = subparsers.add_parser(
        "xes",
        help="Kbeta XES metrics (Kbeta1,3, Kbeta', Kbeta2,5, IAD) of every scan",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="XES file (I20, columns, ...) or folder of them")
    parser.add_argument("--iad-reference", metavar="FILE", help="one-scan reference spectrum for the IAD")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_option_flags(parser, "read", "xes")
    return parser


def records(result: Any, file: str) -> list[dict[str, Any]]:
    """One record per scan of a :func:`spectro.xes.analyze` result.

    Examples
    --------
    >>> import spectro
    >>> r = spectro.xes.analyze(spectro.simulate.xes(seed=0))
    >>> rec = records(r, "sim")[0]
    >>> rec["file"], rec["scan"], rec["element"], rec["iad"], rec["flags"], "kb_prime_ratio_fit" in rec
    ('sim', '0', 'Ni', None, 0, False)
    """
    from ..xes._budget import COMPONENTS

    keys = KEYS + tuple(k for k in FIT_KEYS if k in result)
    parts = ("err", "stat", "sys", *(f"sys_{c}" for c in COMPONENTS)) if "variation" in result.coords else ("err",)
    out = []
    for i, label in enumerate(result.scan.values.tolist()):
        rec: dict[str, Any] = {"file": file, "scan": str(label), "element": result.attrs.get("xes_element")}
        for key in keys:
            rec[key] = finite(result[key].values[i])
            rec.update({f"{key}_{part}": finite(result[f"{key}_{part}"].values[i]) for part in parts})
        rec["flags"] = int(result["flags"].values[i])
        out.append(rec)
    return out


def _text(recs: list[dict[str, Any]]) -> str:
    keys = [k for k in KEYS + FIT_KEYS if k in recs[0]]
    head = ["file", "scan", *keys, "flags"]
    rows = [head]
    for r in recs:
        if "kb13_m1_sys" in r:  # with the budget
            cells = [with_budget_text(r[k], r[f"{k}_stat"], r[f"{k}_sys"]) for k in keys]
        else:
            cells = ["nan" if r[k] is None else f"{r[k]:.4f}" if r[f"{k}_err"] is None
                     else f"{r[k]:.4f} ± {r[f'{k}_err']:.4f}" for k in keys]
        rows.append([r["file"], r["scan"], *cells, str(r["flags"])])
    return aligned(rows)


def read_reference(name: str, options: AnalysisOptions, what: str = "the IAD reference"):
    """The one-scan XES reference spectrum in file ``name`` (``what`` names it in the error of a file with more)."""
    from ..io import read

    reference = read(Path(name), options.read)
    if reference.sizes["scan"] != 1:
        raise DataError(f"{what} has {reference.sizes['scan']} scans; give a file with one", file=name)
    return reference


def run(args: argparse.Namespace) -> int:
    """Analyse every file; print the records; 1 if any file failed."""
    from ..io import read
    from ..xes import analyze

    options = options_from_flags(args, valence=False)
    reference = read_reference(args.iad_reference, options) if args.iad_reference else None
    done, failed = analysed_files(
        args.files, lambda name: analyze(read(regular_file(name), options.read), options.xes, reference=reference))
    recs = [rec for name, result in done for rec in records(result, name)]
    if args.json:
        print(json.dumps({"element": options.xes.element, "iad_reference": args.iad_reference, "scans": recs},
                         indent=1))
    elif recs:
        print(_text(recs))
        if not options.xes.budget:
            print(XES_STATISTICAL_ONLY, file=sys.stderr)
    return 1 if failed else 0
