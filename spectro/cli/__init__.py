"""The ``spectro`` command line.

Each subcommand is a module of this package with two functions::

    register(subparsers) -> argparse.ArgumentParser
    run(args: argparse.Namespace) -> int

listed in :data:`COMMANDS`. Errors that spectro understands (``SpectroError``)
end the command with exit status 2 and one line ``error: ...`` on stderr,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from ..errors import SpectroError

__all__ = ["main", "COMMANDS"]

#: Subcommand modules, in the order ``spectro --help`` lists them.
COMMANDS: tuple[str, ...] = ("read", "convert", "refs", "valence", "batch", "xanes", "xes", "demo", "pressure")


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
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
