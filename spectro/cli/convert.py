"""The ``spectro convert`` command: XANES files into XDI, Athena projects or NeXus NXxas.

Usage: ``spectro convert FILE|FOLDER [...] -o OUT --to xdi|athena|nxxas [reading flags]``.

Every input is read as ``spectro read`` reads it (the same reading flags)
and written by :mod:`spectro.io.writers` (Athena groups get the
normalization parameters of :func:`spectro.xanes.normalize` with the default
windows, or those of the project they were read from). When OUT names a file of the
format (``.xdi``, ``.prj``, ``.h5``/``.nxs``), every scan of every input
goes into it (an XDI file holds one scan: several go beside it as
``<stem>_<scan>.xdi``); otherwise OUT is a folder, made when missing, with
one file per input (``<input stem>.prj``, ``.h5``, or for XDI
``<input stem>.xdi``, ``<input stem>_<scan>.xdi`` when it has several
scans). Each file written is printed; an input that cannot be read gives
one line ``error: ...`` on stderr, the others are still converted and the
exit status is 1 (3 when an output cannot be written).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from ..errors import SpectroError
from ..options import ReadOptions
from ._options import add_option_flags
from ._output import input_files, print_error, regular_file

__all__ = ["register", "run"]

#: The formats of :data:`spectro.io.writers.FORMATS`, offered by ``--to`` without importing the
#: writers (``tests/test_cli_startup.py`` checks that the two agree).
TO_FORMATS = ("xdi", "athena", "nxxas")


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``convert`` subcommand."""
    parser = subparsers.add_parser(
        "convert",
        help="write XANES files as XDI, Athena projects or NeXus NXxas",
        description=__doc__.split("\n\n")[1] + "\n\n" + __doc__.split("\n\n")[2],
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to convert, or folders of them")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="a file of the output format, or a folder")
    parser.add_argument("--to", required=True, choices=TO_FORMATS, help="output format")
    add_option_flags(parser, "read")
    return parser


def _one_file(out: Path, to: str) -> bool:
    from ..io.writers import FORMATS

    return out.suffix.lower() in FORMATS[to]


def run(args: argparse.Namespace) -> int:
    """Read every input and write it; 1 if an input failed, 3 if an output could not be written."""
    from ..io import read
    from ..io.writers import FORMATS, write
    from ..xanes import normalize

    options = ReadOptions.from_args(args)
    out = Path(args.output)
    read_ok: list[tuple[str, Any]] = []
    failed = unwritten = False
    for name in input_files(args.files):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_ok.append((name, read(regular_file(name), options)))
        except Exception as err:  # one line per file that cannot be read; the others go on
            print_error(err, name)
            failed = True
    if not read_ok:
        return 1
    if _one_file(out, args.to):
        targets = [(out, [ds for _, ds in read_ok], [name for name, _ in read_ok])]
    else:
        suffix = FORMATS[args.to][0]
        stems = _unique_stems([Path(name).stem for name, _ in read_ok])
        targets = [(out / f"{stem}{suffix}", [ds], [name]) for (name, ds), stem in zip(read_ok, stems)]
    for target, datasets, names in targets:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                norms = [normalize(ds) if args.to == "athena" else None for ds in datasets]
                written = write(datasets, target, to=args.to, normalization=norms)
        except SpectroError as err:
            print_error(err, names[0])
            failed = True
            continue
        except OSError as err:  # the output cannot be written: the command's failure, not the input's
            print_error(err, err.filename or target)
            unwritten = True
            continue
        source = names[0] if len(names) == 1 else f"{len(names)} files"
        for path in written:
            print(f"{source} -> {path}")
    return 3 if unwritten else 1 if failed else 0


def _unique_stems(stems: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for stem in stems:
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}_{seen[stem]}")
    return out

