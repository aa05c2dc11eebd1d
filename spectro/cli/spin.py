"""The ``spectro spin`` command: the high-spin fraction of each scan between two reference spectra.

Usage: ``spectro spin FILE|FOLDER [...] --high FILE --low FILE [--metric iad|kb_prime_ratio|kb13_m1] [--json]
[reading and XES flags]``.

Each scan of each file gets its high-spin fraction from
:func:`spectro.xes.spin`: the metric (default the IAD against the low-spin
reference, read on the IAD of the two references' mixtures) placed between
the two one-scan references, each analysed with the same options. Each
fraction is printed as ``0.41 ± 0.03 (stat) ± 0.02 (sys)``: the statistical
part is the sample's own noise; the systematic part holds the references'
errors, the energy calibration and, for the IAD, the choice of window
(``docs/xes.md``). The JSON records add the metric with its error, the
terms and the flags (``extrapolated`` outside 0 to 1). A file that cannot be
read or analysed gives one line ``error: ...`` on stderr; the others are
still reported and the exit status is 1. A reference that cannot be read,
or holds more than one scan, stops the command (exit status 2).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ._options import add_option_flags, options_from_flags
from ._output import aligned, analysed_files, finite, regular_file, with_budget_text
from .xes import read_reference

__all__ = ["METRICS", "records", "register", "run"]

#: The metrics a fraction can be read on.
METRICS = ("iad", "kb_prime_ratio", "kb13_m1")

#: The per-scan fields of a record, after file and scan.
_FIELDS = ("high_spin_fraction", "high_spin_fraction_stat", "high_spin_fraction_sys", "high_spin_fraction_err",
           "high_spin_fraction_err_sample", "high_spin_fraction_err_references",
           "high_spin_fraction_err_calibration", "high_spin_fraction_sys_window")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``spin`` subcommand."""
    parser = subparsers.add_parser(
        "spin",
        help="high-spin fraction of every scan between a high-spin and a low-spin reference (XES)",
        description=__doc__.split("\n\n")[2],
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="XES file or folder of them (the samples)")
    parser.add_argument("--high", required=True, metavar="FILE", help="one-scan high-spin reference spectrum")
    parser.add_argument("--low", required=True, metavar="FILE", help="one-scan low-spin reference spectrum")
    parser.add_argument("--metric", choices=METRICS, default="iad",
                        help="metric the fraction is read on (default: iad)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_option_flags(parser, "read", "xes", skip=("budget",))
    return parser


def records(result: Any, file: str, metric: str) -> list[dict[str, Any]]:
    """One record per scan of a :func:`spectro.xes.spin` result.

    Examples
    --------
    >>> import spectro
    >>> ds = spectro.simulate.xes(high_spin_fraction=[0.3], noise=0.01, seed=1)
    >>> r = spectro.xes.spin(ds, high=spectro.simulate.xes(spin="high"), low=spectro.simulate.xes(spin="low"))
    >>> rec = records(r, "sim", "iad")[0]
    >>> rec["file"], round(rec["high_spin_fraction"], 1), rec["flags"]
    ('sim', 0.3, [])
    """
    out = []
    for i, label in enumerate(result.scan.values.tolist()):
        rec: dict[str, Any] = {"file": file, "scan": str(label), "metric": metric,
                               metric: finite(result[metric].values[i]),
                               f"{metric}_err": finite(result[f"{metric}_err"].values[i])}
        rec.update({name: finite(result[name].values[i]) if name in result else None for name in _FIELDS})
        rec["flags"] = [f for f in str(result["high_spin_fraction_flags"].values[i]).split(",") if f]
        out.append(rec)
    return out


def _text(recs: list[dict[str, Any]]) -> str:
    head = ["file", "scan", recs[0]["metric"], "high_spin_fraction", "flags"]
    rows = [head]
    for r in recs:
        m = r[r["metric"]]
        rows.append([r["file"], r["scan"], "nan" if m is None else f"{m:.4f}",
                     with_budget_text(r["high_spin_fraction"], r["high_spin_fraction_stat"],
                                      r["high_spin_fraction_sys"]), ",".join(r["flags"])])
    return aligned(rows)


def run(args: argparse.Namespace) -> int:
    """Place every scan between the references; print the records; 1 if any file failed."""
    from ..io import read
    from ..xes import spin

    options = options_from_flags(args, valence=False)
    high = read_reference(args.high, options, "the high-spin reference")
    low = read_reference(args.low, options, "the low-spin reference")
    done, failed = analysed_files(args.files, lambda name: spin(read(regular_file(name), options.read), options.xes,
                                                                high=high, low=low, metric=args.metric))
    recs = [rec for name, result in done for rec in records(result, name, args.metric)]
    if args.json:
        print(json.dumps({"metric": args.metric, "high": args.high, "low": args.low, "scans": recs}, indent=1))
    elif recs:
        print(_text(recs))
    return 1 if failed else 0
