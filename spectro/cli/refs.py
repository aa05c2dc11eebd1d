"""The ``spectro refs`` command: list, show, locate and fetch catalogued reference spectra.

Examples
--------
::

    spectro refs list --element Ni --valence 2
    spectro refs show ceric_nio_300k
    spectro refs path ceric_nio_300k
    spectro refs fetch ceric_nio_300k ceric_lanio3_80k
"""

from __future__ import annotations

import argparse
import json
import math

from .. import references
from ._output import aligned

__all__ = ["register", "run"]

_LIST_COLUMNS = ("id", "kind", "element", "compound", "valence", "spin_state", "valence_anchor")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``refs`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "refs",
        help="catalogued reference spectra",
        description="List, show, locate and fetch catalogued reference spectra.",
    )
    sub = parser.add_subparsers(dest="refs_command", required=True, metavar="ACTION")
    p_list = sub.add_parser("list", help="list catalogue entries")
    p_list.add_argument("--element", help="element symbol, e.g. Ni")
    p_list.add_argument("--kind", choices=("xanes", "xes"))
    p_list.add_argument("--valence", type=float, help="formal valence")
    p_list.add_argument("--spin", choices=("high", "low"), help="spin state")
    p_list.add_argument("--anchors", action="store_true", help="only sound valence anchors")
    p_list.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p_show = sub.add_parser("show", help="every field of one entry")
    p_show.add_argument("id")
    p_show.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p_path = sub.add_parser("path", help="local path of a reference (no download)")
    p_path.add_argument("id")
    p_fetch = sub.add_parser("fetch", help="download references missing locally")
    p_fetch.add_argument("ids", nargs="*", metavar="ID", help="default: the whole catalogue")
    p_fetch.add_argument("--base-url", help="mirror replacing https://raw.githubusercontent.com")
    return parser


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:g}"
    return str(value) or "-"


def _list(args: argparse.Namespace) -> int:
    refs = references.find(
        element=args.element,
        kind=args.kind,
        valence=args.valence,
        spin_state=args.spin,
        anchor=True if args.anchors else None,
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in refs], indent=1))
        return 0
    rows = [[_cell(getattr(r, c)) for c in _LIST_COLUMNS] for r in refs]
    print(aligned([list(_LIST_COLUMNS), *rows]))
    return 0


def _show(args: argparse.Namespace) -> int:
    entry = references.get(args.id).to_dict()
    if args.json:
        print(json.dumps(entry, indent=1))
        return 0
    width = max(map(len, entry))
    for key, value in entry.items():
        print(f"{key.ljust(width)}  {_cell(math.nan if value is None else value)}")
    print(f"{'url'.ljust(width)}  {references.get(args.id).url()}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``spectro refs``; return the exit status."""
    if args.refs_command == "list":
        return _list(args)
    if args.refs_command == "show":
        return _show(args)
    if args.refs_command == "path":
        print(references.path(args.id, download=False))
        return 0
    for id, p in references.fetch(args.ids or None, base_url=args.base_url).items():
        print(f"{id}\t{p}")
    return 0
