"""The ``spectro`` command line.

Each subcommand is a module of this package with two functions::

    register(subparsers) -> argparse.ArgumentParser
    run(args: argparse.Namespace) -> int

listed in :data:`COMMANDS`. The modules import only the standard library,
:mod:`spectro.errors` and :mod:`spectro.options` when loaded; what a
command runs is imported by its ``run``, so parsing the flags and
``--help`` stay fast.

Exit status (:data:`EXIT_OK` ...):

- 0: every input was processed;
- 1: some inputs failed (one line ``error: ...`` each on stderr; the
  others were processed);
- 2: a usage or input error stopped the command (bad flag, no input,
  bad manifest): one line ``error: ...``;
- 3: an output or internal failure (an output that cannot be written,
  a full disk, a bug): one line ``error: ...`` (a bug also prints its
  traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
import warnings
from collections.abc import Sequence

from ..errors import SpectroError

__all__ = ["main", "COMMANDS", "EXIT_OK", "EXIT_FAILED_INPUTS", "EXIT_USAGE", "EXIT_OUTPUT"]

#: Exit status: every input processed.
EXIT_OK = 0
#: Exit status: some inputs failed, the others were processed.
EXIT_FAILED_INPUTS = 1
#: Exit status: a usage or input error stopped the command (argparse uses 2 too).
EXIT_USAGE = 2
#: Exit status: an output could not be written, or an internal failure.
EXIT_OUTPUT = 3

#: Subcommand modules, in the order ``spectro --help`` lists them.
COMMANDS: tuple[str, ...] = ("read", "convert", "refs", "valence", "batch", "repeats", "xanes", "xes", "spin",
                             "demo", "pressure")


def _parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="spectro",
        description="Ni K-edge XANES and Kbeta XES of nickel compounds under pressure.",
    )
    parser.add_argument("--version", action="version", version=f"spectro {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(sub).set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``spectro`` command line; return the exit status.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    spectro 0.1.0
    """
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            return int(args._run(args) or 0)
    except SpectroError as err:
        from ._output import cli_spelling

        print(f"error: {cli_spelling(err)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except OSError as err:  # an output that cannot be written: read-only folder, full disk, ...
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_OUTPUT
    except Exception as err:  # a bug: its traceback, and a status of its own
        traceback.print_exc()
        print(f"error: internal error: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_OUTPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
